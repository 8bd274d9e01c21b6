/* drover's own log lines: "HH:MM:SS drover | message" on stdout, in the same
 * stream and layout as the supervised instances' output (log.timestamps
 * drops the time, log.lines: json makes every line a JSON object). */
#ifndef DROVER_LOG_H
#define DROVER_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below this level are dropped (LOG_INFO unless DROVER_DEBUG is set). */
void log_set_level(enum log_level level);

/* Width the "drover" name is padded to, so it lines up with "web.10". */
void log_set_name_width(int width);
int log_name_width(void);

/* The layout of every line on stdout, drover's own and its instances':
 * with or without the "HH:MM:SS " time (log.timestamps), text or one JSON
 * object a line (log.lines: json): {"time":"2026-12-01T19:30:46.123Z",
 * "instance":"drover","stream":"stdout","level":"info","line":"..."}.
 * Text with timestamps until set. Any thread. */
void log_set_layout(bool timestamps, bool json);
bool log_timestamps(void);
bool log_json(void);

/* t (seconds since the epoch) as "2026-12-01T19:30:46.123Z" into buf (at
 * least LOG_ISO_TIME bytes); and as local "HH:MM:SS" (9 bytes). Both
 * remember the last second they formatted: cheap for many lines. Any
 * thread. */
#define LOG_ISO_TIME 32
void log_iso_time(double t, char *buf);
void log_clock_time(double t, char *buf);
/* The wall clock now, in seconds. */
double log_wall_now(void);

/* One line, written with a single write(2) so threads never interleave. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Writes buf (whole lines) to fd, or as much as fd takes: a full disk, a
 * reader that went away or one that does not keep up (stdout is made
 * non-blocking when it is a pipe) never blocks or stops drover. The lines
 * not written are dropped and counted (log_dropped). Returns 0, or -1 with
 * errno when some were dropped. Any thread. */
int log_write(int fd, const char *buf, size_t len);

/* Lines dropped so far, of every output: drover_log_dropped_total. */
unsigned long long log_dropped(void);

/* Makes stdout non-blocking when it is a pipe or a socket (a terminal or a
 * file is left as it is), so a stuck reader cannot stall the loop. */
void log_stdout_nonblocking(void);

/* A warning that can repeat many times a second (accept pauses, a full
 * disk, a refusing backend): the first is logged, the rest are counted,
 * and while they go on one line per interval says how many there were
 * ("accept paused: 146 more in the last 10s"). After a quiet interval the
 * next one is logged in full again. Any thread. */
struct log_limit {
    const char *what;               /* names the summary line */
    double interval;                /* seconds */
    pthread_mutex_t mu;
    double since;                   /* the current interval's start, 0: quiet */
    unsigned long count;            /* suppressed in it */
    struct log_limit *next;         /* every limit used so far (log_limit_tick) */
    int linked;
};

#define LOG_LIMIT(name, what, seconds) \
    static struct log_limit name = {what, seconds, PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL, 0}

void log_limited(struct log_limit *l, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the summaries of intervals that have ended; call it about once a
 * second (the router's main loop does). */
void log_limit_tick(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
