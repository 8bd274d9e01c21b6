#include "supervisor/logs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/utf8.h"
#include "supervisor/logstore.h"

/* Reads per callback: the rest waits for the next loop iteration. */
#define READS_PER_CALLBACK 4
#define PREFIX_MAX 160
/* The longest line as JSON: every byte escaped (\u00XX), and the fields. */
#define JSON_LINE_MAX (6 * LOG_LINE_MAX + 256)

struct logpipe {
    struct ev_loop *loop;
    ev_io io;
    struct logpipe *next, *prev;    /* every open pipe, for logs_close_all */
    bool owned;                     /* the instance still holds it */
    int type_index;
    enum log_stream stream;
    struct logstore *store;         /* where its lines are kept (NULL: nowhere) */
    struct logsrc *src;
    char name[64];
    size_t len;                     /* bytes of the current partial line */
    char line[LOG_LINE_MAX];
};

static bool colour;
static struct logpipe *pipes;

/* One colour per process type, in the order types are defined. */
static const char *const colours[] = {"36", "33", "32", "35", "34", "31", "96", "93", "92", "95"};

void logs_init(void)
{
    colour = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
}

/* "HH:MM:SS web.1   | " (coloured on a terminal; '!' instead of '|' for
 * stderr, no time without log.timestamps) into buf; its length. */
static size_t prefix(const struct logpipe *lp, double now, char *buf)
{
    char clock[16] = "";
    char mark = lp->stream == LOG_STDERR ? '!' : '|';
    int n;

    if (log_timestamps()) {
        log_clock_time(now, clock);
        clock[8] = ' ';
        clock[9] = '\0';
    }
    if (colour)
        n = snprintf(buf, PREFIX_MAX, "\033[%sm%s%-*s %c\033[0m ",
                     colours[lp->type_index % (int)(sizeof(colours) / sizeof(colours[0]))], clock,
                     log_name_width(), lp->name, mark);
    else
        n = snprintf(buf, PREFIX_MAX, "%s%-*s %c ", clock, log_name_width(), lp->name, mark);
    return n > 0 && n < PREFIX_MAX ? (size_t)n : 0;
}

/* {"time":...,"instance":...,"stream":...,"line":...} and a newline into
 * buf (JSON_LINE_MAX bytes); its length. */
static size_t json_line(const struct logpipe *lp, double now, const char *s, size_t n, char *buf)
{
    char when[LOG_ISO_TIME];
    size_t len, used;

    log_iso_time(now, when);
    len = (size_t)snprintf(buf, JSON_LINE_MAX,
                           "{\"time\":\"%s\",\"instance\":\"%s\",\"stream\":\"%s\",\"line\":\"", when,
                           lp->name, lp->stream == LOG_STDERR ? "stderr" : "stdout");
    len += utf8_json_escape(s, n, buf + len, JSON_LINE_MAX - len - 3, &used);
    memcpy(buf + len, "\"}\n", 3);
    return len + 3;
}

/* Collects whole lines for one write(2), so lines from different sources
 * never mix inside a line. */
struct out {
    char buf[READS_PER_CALLBACK * (LOG_LINE_MAX + PREFIX_MAX + 1)];
    size_t len;
};

/* Everything runs on the main loop: one buffer serves every pipe, and one
 * more holds a line being written as JSON. */
static struct out out;
static char json_buf[JSON_LINE_MAX];

static void out_flush(struct out *o)
{
    /* A stdout that is gone or stuck: the lines are dropped and counted. */
    log_write(STDOUT_FILENO, o->buf, o->len);
    o->len = 0;
}

/* One line of lp: kept in its ring, and written in the live layout. */
static void out_line(struct out *o, const struct logpipe *lp, const char *s, size_t n)
{
    double now = log_wall_now();
    char pre[PREFIX_MAX];
    size_t plen;

    if (n > 0 && s[n - 1] == '\r')
        n--; /* CRLF output reads as one line too */
    if (lp->store != NULL && lp->src != NULL)
        logstore_push(lp->store, lp->src, lp->stream, now, s, n);
    if (log_json()) {
        size_t len = json_line(lp, now, s, n, json_buf);

        if (o->len + len > sizeof(o->buf))
            out_flush(o);
        if (len > sizeof(o->buf)) {
            log_write(STDOUT_FILENO, json_buf, len);
            return;
        }
        memcpy(o->buf + o->len, json_buf, len);
        o->len += len;
        return;
    }
    plen = prefix(lp, now, pre);
    if (o->len + plen + n + 1 > sizeof(o->buf))
        out_flush(o);
    memcpy(o->buf + o->len, pre, plen);
    memcpy(o->buf + o->len + plen, s, n);
    o->buf[o->len + plen + n] = '\n';
    o->len += plen + n + 1;
}

/* Emits every complete line of lp->line and keeps the partial rest; a full
 * buffer without a newline is emitted as it is (a line over LOG_LINE_MAX
 * is split). */
static void emit_lines(struct logpipe *lp, struct out *o)
{
    size_t start = 0;

    for (;;) {
        char *nl = memchr(lp->line + start, '\n', lp->len - start);

        if (nl == NULL)
            break;
        out_line(o, lp, lp->line + start, (size_t)(nl - (lp->line + start)));
        start = (size_t)(nl - lp->line) + 1;
    }
    if (start == 0 && lp->len == sizeof(lp->line)) {
        out_line(o, lp, lp->line, lp->len);
        start = lp->len;
    }
    if (start > 0) {
        memmove(lp->line, lp->line + start, lp->len - start);
        lp->len -= start;
    }
}

static void unlink_pipe(struct logpipe *lp)
{
    if (lp->prev != NULL)
        lp->prev->next = lp->next;
    else
        pipes = lp->next;
    if (lp->next != NULL)
        lp->next->prev = lp->prev;
}

/* Flushes the partial line, closes and frees. */
static void finish(struct logpipe *lp, struct out *o)
{
    if (lp->len > 0)
        out_line(o, lp, lp->line, lp->len);
    lp->len = 0;
    out_flush(o);
    ev_io_stop(lp->loop, &lp->io);
    close(lp->io.fd);
    unlink_pipe(lp);
    free(lp);
}

/* Reads up to READS_PER_CALLBACK times; true when the pipe hit EOF. */
static bool drain(struct logpipe *lp, struct out *o)
{
    for (int i = 0; i < READS_PER_CALLBACK; i++) {
        ssize_t n = read(lp->io.fd, lp->line + lp->len, sizeof(lp->line) - lp->len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno != EAGAIN;
        }
        if (n == 0)
            return true;
        lp->len += (size_t)n;
        emit_lines(lp, o);
    }
    return false;
}

static void read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct logpipe *lp = io->data;

    (void)loop;
    (void)revents;
    if (drain(lp, &out)) {
        if (lp->owned) {
            /* The instance still holds it: keep the struct, stop reading. */
            if (lp->len > 0)
                out_line(&out, lp, lp->line, lp->len);
            lp->len = 0;
            ev_io_stop(lp->loop, &lp->io);
        } else {
            finish(lp, &out);
            return;
        }
    }
    out_flush(&out);
}

struct logpipe *logpipe_new(struct ev_loop *loop, int fd, const char *name, int type_index,
                            enum log_stream stream, struct logstore *store, struct logsrc *src)
{
    struct logpipe *lp = malloc(sizeof(*lp));

    if (lp == NULL) {
        close(fd);
        return NULL;
    }
    lp->loop = loop;
    lp->owned = true;
    lp->type_index = type_index;
    lp->stream = stream;
    lp->store = store;
    lp->src = src;
    snprintf(lp->name, sizeof(lp->name), "%s", name);
    lp->len = 0;
    ev_io_init(&lp->io, read_cb, fd, EV_READ);
    lp->io.data = lp;
    ev_io_start(loop, &lp->io);
    lp->prev = NULL;
    lp->next = pipes;
    if (pipes != NULL)
        pipes->prev = lp;
    pipes = lp;
    return lp;
}

void logpipe_release(struct logpipe *lp)
{
    if (lp == NULL)
        return;
    lp->owned = false;
    if (!ev_is_active(&lp->io))
        finish(lp, &out); /* it already saw EOF */
}

void logpipe_close(struct logpipe *lp)
{
    if (lp == NULL)
        return;
    if (ev_is_active(&lp->io))
        drain(lp, &out);
    finish(lp, &out);
}

void logs_close_all(void)
{
    while (pipes != NULL)
        logpipe_close(pipes);
}
