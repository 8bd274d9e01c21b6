/* Instance output: every line an instance writes to stdout or stderr is
 * kept in its ring (logstore.h) and re-emitted on drover's stdout as
 * "HH:MM:SS web.1 | line" ('!' instead of '|' for stderr), the name padded
 * to align with every other name, coloured per process type only when
 * stdout is a terminal; or as one JSON object a line (log_set_layout).
 *
 * A log pipe lives until its read end sees EOF (the instance and everything
 * it started have closed it), independently of the instance, so the last
 * lines of an instance that exited are never lost. Reads are bounded per
 * loop iteration, so a child that floods output cannot starve the router.
 * A line longer than LOG_LINE_MAX is split; a partial last line is flushed
 * at EOF. */
#ifndef DROVER_SUPERVISOR_LOGS_H
#define DROVER_SUPERVISOR_LOGS_H

#include <ev.h>
#include <stdbool.h>

#include "supervisor/logring.h"

#define LOG_LINE_MAX (16 * 1024)

struct logpipe;
struct logstore;
struct logsrc;

/* Decides once whether lines are coloured (stdout is a TTY, and NO_COLOR
 * is not set). */
void logs_init(void);

/* Starts reading fd (non-blocking, close-on-exec; taken over) on loop and
 * re-emitting its lines under name, as stream (stdout or stderr), keeping
 * them in store as src's (store NULL: not kept). type_index picks the
 * colour. */
struct logpipe *logpipe_new(struct ev_loop *loop, int fd, const char *name, int type_index,
                            enum log_stream stream, struct logstore *store, struct logsrc *src);

/* The owner no longer cares: the pipe frees itself at EOF. */
void logpipe_release(struct logpipe *lp);

/* Reads what is there now and flushes a partial line, then frees the pipe
 * (shutdown: nothing more will be read). */
void logpipe_close(struct logpipe *lp);

/* logpipe_close for every pipe still open (drover is exiting). */
void logs_close_all(void);

#endif
