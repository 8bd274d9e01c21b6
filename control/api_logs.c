/* GET /logs: see api_logs.h. A streaming answer is a struct stream: a
 * cursor into the log rings (its logwatch), and one output buffer that is
 * refilled from the rings only when the socket has taken what it held. */
#include "control/api_logs.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "control/internal.h"
#include "lib/log.h"
#include "lib/suggest.h"
#include "lib/utf8.h"
#include "router/http.h"
#include "supervisor/supervisor.h"

#define CHUNK_MAX (16 * 1024)   /* lines gathered into one chunk */
#define OUT_MAX (64 * 1024)     /* output waiting for the socket before refilling stops */
#define STALL_S 10.0            /* no byte taken for this long: closed */
#define MAX_N 10000000

/* ---- the query ------------------------------------------------------------ */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* s[0..n) percent-decoded ('+' is a space) into out (cap bytes, NUL
 * added); -1 when it does not fit or an escape is broken. */
static int decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%') {
            if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                return -1;
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (w + 1 >= cap)
            return -1;
        out[w++] = c;
    }
    out[w] = '\0';
    return 0;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= LOGSTORE_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

/* The comma list value into list (names copied into the query's buffer). */
static int add_names(struct api_logs_query *q, size_t *used, const char *key, const char *value,
                     const char **list, size_t *n, char *err, size_t errlen)
{
    for (const char *s = value;;) {
        size_t len = strcspn(s, ",");
        char *name = q->names_buf + *used;

        if (*used + len + 1 > sizeof(q->names_buf) || *n == API_LOGS_NAMES) {
            snprintf(err, errlen, "%s: too many names", key);
            return -1;
        }
        memcpy(name, s, len);
        name[len] = '\0';
        if (!name_ok(name)) {
            snprintf(err, errlen, "%s: \"%.60s\" is not a process type or instance name", key, name);
            return -1;
        }
        *used += len + 1;
        list[(*n)++] = name;
        if (s[len] == '\0')
            return 0;
        s += len + 1;
    }
}

int api_logs_query(const char *qs, size_t len, struct api_logs_query *q, char *err, size_t errlen)
{
    static const char *const keys[] = {"process", "instance", "n", "follow"};
    size_t used = 0;

    memset(q, 0, sizeof(*q));
    q->n = SIZE_MAX;
    while (len > 0) {
        size_t plen = strcspn(qs, "&"), klen;
        const char *eq;
        char key[32], value[1024];

        if (plen > len)
            plen = len;
        eq = memchr(qs, '=', plen);
        klen = eq != NULL ? (size_t)(eq - qs) : plen;
        if (plen == 0)
            goto next;
        if (decode(qs, klen, key, sizeof(key)) < 0 ||
            decode(eq != NULL ? eq + 1 : "", eq != NULL ? plen - klen - 1 : 0, value,
                   sizeof(value)) < 0) {
            snprintf(err, errlen, "the query is malformed near \"%.*s\"", (int)(plen < 40 ? plen : 40),
                     qs);
            return -1;
        }
        if (strcmp(key, "process") == 0) {
            if (add_names(q, &used, key, value, q->types, &q->ntypes, err, errlen) < 0)
                return -1;
        } else if (strcmp(key, "instance") == 0) {
            if (add_names(q, &used, key, value, q->instances, &q->ninstances, err, errlen) < 0)
                return -1;
        } else if (strcmp(key, "n") == 0) {
            char *end;
            long long v = strtoll(value, &end, 10);

            if (value[0] < '0' || value[0] > '9' || *end != '\0' || v > MAX_N) {
                snprintf(err, errlen, "n: expected a count of lines from 0 to %d, got \"%.60s\"",
                         MAX_N, value);
                return -1;
            }
            q->n = (size_t)v;
        } else if (strcmp(key, "follow") == 0) {
            if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
                value[0] == '\0')
                q->follow = true;
            else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 ||
                     strcmp(value, "no") == 0)
                q->follow = false;
            else {
                snprintf(err, errlen, "follow: expected 1 or 0, got \"%.60s\"", value);
                return -1;
            }
        } else {
            const char *hint = suggest_name(key, keys, 4);

            snprintf(err, errlen, "unknown parameter \"%.60s\"%s%s%s; use process, instance, n or follow",
                     key, hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
            return -1;
        }
    next:
        qs += plen;
        len -= plen;
        if (len > 0) {
            qs++;
            len--;
        }
    }
    return 0;
}

void api_logs_line(struct sbuf *out, const struct logview *l)
{
    char when[LOG_ISO_TIME];

    log_iso_time(l->time, when);
    sbuf_printf(out, "{\"time\":\"%s\",\"instance\":", when);
    utf8_json_string(out, l->instance, strlen(l->instance));
    sbuf_printf(out, ",\"stream\":\"%s\",\"line\":", l->stream == LOG_STDERR ? "stderr" : "stdout");
    utf8_json_string(out, l->text, l->len);
    sbuf_puts(out, "}\n");
}

/* ---- one streaming answer -------------------------------------------------- */

enum stream_state { ST_STREAMING, ST_ENDING, ST_CLOSED };

struct stream {
    struct ev_loop *loop;
    struct logstore *store;
    struct logwatch watch;
    struct logfilter filter;
    struct api_logs_query q;
    uint64_t end;               /* without follow: the last line to send */
    bool chunked;               /* HTTP/1.1: chunks; HTTP/1.0: until the close */
    enum stream_state state;
    int fd;
    ev_io io;
    ev_timer stall;             /* output waiting: no progress for STALL_S closes */
    ev_timer reap;              /* frees a closed stream outside the store's callbacks */
    struct sbuf out;            /* answer bytes not yet sent, from out_off */
    size_t out_off;
    struct sbuf chunk;          /* lines being gathered into one chunk */
    bool full, produced;
};

static unsigned nstreams;

static size_t pending(const struct stream *s)
{
    return s->out.len - s->out_off;
}

/* Takes one line into the chunk being gathered, unless it is full or the
 * line comes after the end of an answer without follow. */
static bool take(void *ctx, const struct logview *l)
{
    struct stream *s = ctx;

    if (l->seq > s->end)
        return false;
    if (s->chunk.len >= CHUNK_MAX) {
        s->full = true;
        return false;
    }
    api_logs_line(&s->chunk, l);
    return true;
}

/* The gathered lines into the output, as one chunk. */
static void put_chunk(struct stream *s, const char *data, size_t len)
{
    if (len == 0)
        return;
    if (s->out_off > 0 && s->out_off == s->out.len)
        s->out.len = s->out_off = 0;
    if (s->chunked)
        sbuf_printf(&s->out, "%zx\r\n", len);
    sbuf_put(&s->out, data, len);
    if (s->chunked)
        sbuf_puts(&s->out, "\r\n");
    s->produced = true;
}

/* The answer's last line and end: nothing more will be added. */
static void finish(struct stream *s, const char *error)
{
    if (error != NULL) {
        struct sbuf line;
        char when[LOG_ISO_TIME];

        sbuf_init(&line);
        log_iso_time(log_wall_now(), when);
        sbuf_printf(&line, "{\"time\":\"%s\",\"error\":", when);
        utf8_json_string(&line, error, strlen(error));
        sbuf_puts(&line, "}\n");
        put_chunk(s, line.data, line.len);
        sbuf_free(&line);
    }
    if (s->chunked)
        sbuf_puts(&s->out, "0\r\n\r\n");
    s->state = ST_ENDING;
}

/* Refills the output from the rings while it holds less than OUT_MAX. */
static void fill(struct stream *s)
{
    s->produced = false;
    while (s->state == ST_STREAMING && pending(s) < OUT_MAX) {
        s->full = false;
        s->chunk.len = 0;
        logstore_read(s->store, &s->filter, &s->watch.cursor, take, s);
        put_chunk(s, s->chunk.data, s->chunk.len);
        if (!s->full)
            break;
    }
    if (s->state != ST_STREAMING)
        return;
    if (s->watch.lost)
        finish(s, "dropped: this client read too slowly, and lines it had not read yet have "
                  "left drover's log rings");
    else if (s->q.follow == false && !s->full)
        finish(s, NULL);
    if (s->out.oom || s->chunk.oom)
        s->state = ST_ENDING; /* out of memory: end with what there is */
}

static void reap_cb(struct ev_loop *loop, ev_timer *t, int revents);

static void stream_close(struct stream *s)
{
    if (s->state == ST_CLOSED)
        return;
    ev_io_stop(s->loop, &s->io);
    ev_timer_stop(s->loop, &s->stall);
    close(s->fd);
    s->fd = -1;
    s->state = ST_CLOSED;
    ev_timer_set(&s->reap, 0., 0.);
    ev_timer_start(s->loop, &s->reap);
}

static void stream_free(struct stream *s)
{
    ev_timer_stop(s->loop, &s->reap);
    sbuf_free(&s->out);
    sbuf_free(&s->chunk);
    nstreams--;
    free(s);
}

static void reap_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct stream *s = t->data;

    (void)loop;
    (void)revents;
    logstore_unwatch(s->store, &s->watch);
    stream_free(s);
}

static void watch_io(struct stream *s, int events)
{
    if (ev_is_active(&s->io) && (s->io.events & (EV_READ | EV_WRITE)) == events)
        return;
    ev_io_stop(s->loop, &s->io);
    ev_io_set(&s->io, s->fd, events);
    ev_io_start(s->loop, &s->io);
}

/* Sends what the output holds. false when the socket is full (writing
 * resumes when it drains) or the stream closed. */
static bool flush(struct stream *s)
{
    while (pending(s) > 0) {
        ssize_t n = send(s->fd, s->out.data + s->out_off, pending(s), MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch_io(s, EV_READ | EV_WRITE);
            if (!ev_is_active(&s->stall)) {
                s->stall.repeat = STALL_S;
                ev_timer_again(s->loop, &s->stall);
            }
            return false;
        }
        if (n <= 0) {
            stream_close(s);
            return false;
        }
        s->out_off += (size_t)n;
        if (ev_is_active(&s->stall))
            ev_timer_again(s->loop, &s->stall); /* progress */
    }
    ev_timer_stop(s->loop, &s->stall);
    s->out.len = s->out_off = 0;
    if (s->out.cap > 4 * OUT_MAX)
        sbuf_free(&s->out);
    if (s->state == ST_ENDING) {
        shutdown(s->fd, SHUT_WR);
        stream_close(s);
        return false;
    }
    return true;
}

/* Refills and sends until the socket is full or there is nothing more. */
static void pump(struct stream *s)
{
    do {
        fill(s);
        if (!flush(s))
            return;
    } while (s->produced);
    watch_io(s, EV_READ); /* until new lines come */
}

static void io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct stream *s = io->data;

    (void)loop;
    if (revents & EV_READ) {
        char drop[4096];
        ssize_t n = read(s->fd, drop, sizeof(drop));

        /* Nothing more is expected from the client: its end is its going. */
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            stream_close(s);
            return;
        }
    }
    if ((revents & EV_WRITE) && s->state != ST_CLOSED)
        pump(s);
}

static void stall_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct stream *s = t->data;

    (void)loop;
    (void)revents;
    stream_close(s);
}

static void watch_event(struct logwatch *w, enum logwatch_event ev)
{
    struct stream *s = (struct stream *)((char *)w - offsetof(struct stream, watch));

    if (ev == LOGWATCH_END) {
        /* drover is stopping: the end of the answer, as far as it goes. */
        if (s->state == ST_STREAMING) {
            finish(s, NULL);
            flush(s);
        }
        if (s->state != ST_CLOSED)
            stream_close(s);
        stream_free(s);
        return;
    }
    if (s->state != ST_STREAMING)
        return;
    if (ev == LOGWATCH_URGENT) {
        /* Lines it has not sent are about to go: into the output now. */
        fill(s);
        flush(s);
    } else if (!(ev_is_active(&s->io) && (s->io.events & EV_WRITE))) {
        watch_io(s, EV_READ | EV_WRITE); /* sent next loop iteration, batched */
    }
}

/* The connection is ours: the head, then the lines. */
static void stream_takeover(void *arg, int fd)
{
    struct stream *s = arg;

    s->fd = fd;
    sbuf_printf(&s->out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nCache-Control: no-store\r\n"
                "X-Content-Type-Options: nosniff\r\nDate: %s\r\n%sConnection: close\r\n\r\n",
                http_date_now(), s->chunked ? "Transfer-Encoding: chunked\r\n" : "");
    s->watch.cursor = logstore_tail_start(s->store, &s->filter, s->q.n);
    s->end = s->q.follow ? UINT64_MAX : logstore_last_seq(s->store);
    logstore_watch(s->store, &s->watch);
    ev_io_init(&s->io, io_cb, fd, EV_READ);
    s->io.data = s;
    ev_io_start(s->loop, &s->io);
    pump(s);
}

/* ---- the handler ------------------------------------------------------------ */

void api_get_logs(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    struct control *ctl = ctx;
    struct logstore *store = ctl->sv != NULL ? supervisor_logs(ctl->sv) : NULL;
    struct stream *s;
    char err[512];

    if (store == NULL) {
        admin_error(ans, 404, "drover runs no process formation here");
        return;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        admin_error(ans, 500, "out of memory");
        return;
    }
    if (api_logs_query(req->query, req->query_len, &s->q, err, sizeof(err)) < 0) {
        admin_error(ans, 400, "%s", err);
        free(s);
        return;
    }
    for (size_t i = 0; i < s->q.ntypes + s->q.ninstances; i++) {
        const char *name = i < s->q.ntypes ? s->q.types[i] : s->q.instances[i - s->q.ntypes];

        if (!logstore_knows(store, name) && !supervisor_has_type(ctl->sv, name)) {
            admin_error(ans, 404, "no process type or instance \"%s\"", name);
            free(s);
            return;
        }
    }
    if (req->head) {
        /* The same head, without the stream. */
        ans->content_type = "application/x-ndjson";
        free(s);
        return;
    }
    if (nstreams >= API_LOGS_MAX_STREAMS) {
        admin_error(ans, 503, "%d log answers are streaming already", API_LOGS_MAX_STREAMS);
        free(s);
        return;
    }
    nstreams++;
    s->loop = ctl->loop;
    s->store = store;
    s->filter = (struct logfilter){s->q.types, s->q.ntypes, s->q.instances, s->q.ninstances};
    s->watch.filter = &s->filter;
    s->watch.event = watch_event;
    s->chunked = req->minor >= 1;
    s->fd = -1;
    sbuf_init(&s->out);
    sbuf_init(&s->chunk);
    ev_init(&s->stall, stall_cb);
    s->stall.data = s;
    ev_init(&s->reap, reap_cb);
    s->reap.data = s;
    ans->takeover = stream_takeover;
    ans->takeover_arg = s;
}
