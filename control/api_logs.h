/* GET /logs: the instances' recent output (supervisor/logstore.h) as
 * newline-delimited JSON, one object a line, oldest first:
 *
 *   {"time":"2026-12-01T19:30:46.123Z","instance":"web.1","stream":"stdout","line":"..."}
 *
 * Query: process=TYPE and instance=NAME (each repeatable, or a comma
 * list; a line of any of them is shown; none: every line), n=N (the last
 * N lines of those; default: all kept), follow=1 (then every new line, as
 * it comes, until the client goes). The answer streams (chunked) from the
 * rings as the client reads it: a client that reads slowly costs no more
 * memory than one chunk, and when lines it had not read yet leave the
 * rings it is dropped, its last line {"time":...,"error":"..."} saying so.
 * One that does not read at all for 10 s is closed. Main loop only. */
#ifndef DROVER_CONTROL_API_LOGS_H
#define DROVER_CONTROL_API_LOGS_H

#include <stdbool.h>
#include <stddef.h>

#include "control/admin.h"
#include "supervisor/logstore.h"

#define API_LOGS_NAMES 32       /* process= and instance= names, each */
#define API_LOGS_MAX_STREAMS 64 /* answers streaming at once */

/* What the query asks for; names point into names_buf. */
struct api_logs_query {
    const char *types[API_LOGS_NAMES];
    size_t ntypes;
    const char *instances[API_LOGS_NAMES];
    size_t ninstances;
    size_t n;                   /* SIZE_MAX: all */
    bool follow;
    char names_buf[2048];
};

/* Parses q[0..len) (percent-decoded). 0, or -1 with the reason in err (an
 * unknown parameter, a bad name, count or flag). */
int api_logs_query(const char *q, size_t len, struct api_logs_query *out, char *err,
                   size_t errlen);

/* One line as its JSON object and a newline, appended to out. */
void api_logs_line(struct sbuf *out, const struct logview *l);

/* The handler (ctx: struct control). */
void api_get_logs(void *ctx, const struct admin_request *req, struct admin_answer *ans);

#endif
