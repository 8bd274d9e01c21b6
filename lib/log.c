#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/utf8.h"

static enum log_level min_level = LOG_INFO;
static atomic_ullong dropped;
static atomic_bool no_timestamps, json_lines;

void log_set_layout(bool timestamps, bool json)
{
    atomic_store(&no_timestamps, !timestamps);
    atomic_store(&json_lines, json);
}

bool log_timestamps(void)
{
    return !atomic_load_explicit(&no_timestamps, memory_order_relaxed);
}

bool log_json(void)
{
    return atomic_load_explicit(&json_lines, memory_order_relaxed);
}

double log_wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The formatted second last asked for, per thread (no lock needed). */
static _Thread_local time_t iso_sec = -1, clock_sec = -1;
static _Thread_local char iso_buf[20], clock_buf[16];

void log_iso_time(double t, char *buf)
{
    time_t sec = (time_t)t;
    int ms = (int)((t - (double)sec) * 1000.0);
    struct tm tm;

    if (sec != iso_sec) {
        gmtime_r(&sec, &tm);
        strftime(iso_buf, sizeof(iso_buf), "%Y-%m-%dT%H:%M:%S", &tm);
        iso_sec = sec;
    }
    ms = ms < 0 ? 0 : ms > 999 ? 999 : ms;
    memcpy(buf, iso_buf, 19);
    buf[19] = '.';
    buf[20] = (char)('0' + ms / 100);
    buf[21] = (char)('0' + ms / 10 % 10);
    buf[22] = (char)('0' + ms % 10);
    buf[23] = 'Z';
    buf[24] = '\0';
}

void log_clock_time(double t, char *buf)
{
    time_t sec = (time_t)t;
    struct tm tm;

    if (sec != clock_sec) {
        localtime_r(&sec, &tm);
        snprintf(clock_buf, sizeof(clock_buf), "%02d:%02d:%02d", tm.tm_hour % 100, tm.tm_min % 100,
                 tm.tm_sec % 100);
        clock_sec = sec;
    }
    memcpy(buf, clock_buf, 9);
}

int log_write(int fd, const char *buf, size_t len)
{
    size_t off = 0;
    unsigned long long lines = 0;

    while (off < len) {
        ssize_t n = write(fd, buf + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (off == len)
        return 0;
    for (size_t i = off; i < len; i++)
        lines += buf[i] == '\n';
    atomic_fetch_add_explicit(&dropped, lines > 0 ? lines : 1, memory_order_relaxed);
    return -1;
}

unsigned long long log_dropped(void)
{
    return atomic_load_explicit(&dropped, memory_order_relaxed);
}

void log_stdout_nonblocking(void)
{
    struct stat st;
    int flags;

    if (fstat(STDOUT_FILENO, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return;
    flags = fcntl(STDOUT_FILENO, F_GETFL);
    if (flags >= 0)
        fcntl(STDOUT_FILENO, F_SETFL, flags | O_NONBLOCK);
}
static int name_width = 6;

void log_set_level(enum log_level level)
{
    min_level = level;
}

void log_set_name_width(int width)
{
    if (width > 6 && width < 64)
        name_width = width;
}

int log_name_width(void)
{
    return name_width;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

/* msg as one JSON line into out (cap bytes); its length. */
static size_t json_line(enum log_level level, double now, const char *msg, size_t len, char *out,
                        size_t cap)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    char when[LOG_ISO_TIME];
    size_t n, used;

    log_iso_time(now, when);
    n = (size_t)snprintf(out, cap,
                         "{\"time\":\"%s\",\"instance\":\"drover\",\"stream\":\"stdout\","
                         "\"level\":\"%s\",\"line\":\"",
                         when, names[level]);
    n += utf8_json_escape(msg, len, out + n, cap - n - 3, &used);
    memcpy(out + n, "\"}\n", 3);
    return n + 3;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    static const char *const prefix[] = {"debug: ", "", "warning: ", "error: "};
    char line[4096], msg[3072];
    double now;
    int n = 0, m;
    int saved = errno;

    if (level < min_level)
        return;
    now = log_wall_now();
    m = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (m < 0)
        m = 0;
    if ((size_t)m >= sizeof(msg))
        m = sizeof(msg) - 1;
    if (log_json()) {
        log_write(STDOUT_FILENO, line, json_line(level, now, msg, (size_t)m, line, sizeof(line)));
        errno = saved;
        return;
    }
    if (log_timestamps()) {
        log_clock_time(now, line);
        line[8] = ' ';
        n = 9;
    }
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%-*s | %s%s", name_width, "drover",
                  prefix[level], msg);
    if ((size_t)n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    log_write(STDOUT_FILENO, line, (size_t)n);
    errno = saved;
}

static pthread_mutex_t limits_mu = PTHREAD_MUTEX_INITIALIZER;
static struct log_limit *limits;

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ends l's interval when it is over (l->mu held): a summary when some were
 * suppressed (and the next interval starts), else quiet again. */
static void limit_roll(struct log_limit *l, double now)
{
    if (l->since == 0 || now < l->since + l->interval)
        return;
    if (l->count > 0) {
        log_msg(LOG_WARN, "%s: %lu more in the last %.0fs", l->what, l->count, now - l->since);
        l->count = 0;
        l->since = now;
    } else {
        l->since = 0;
    }
}

void log_limited(struct log_limit *l, enum log_level level, const char *fmt, ...)
{
    double now = mono_now();
    va_list ap;

    pthread_mutex_lock(&l->mu);
    if (!l->linked) {
        pthread_mutex_lock(&limits_mu);
        l->next = limits;
        limits = l;
        l->linked = 1;
        pthread_mutex_unlock(&limits_mu);
    }
    limit_roll(l, now);
    if (l->since == 0) {
        l->since = now;
        va_start(ap, fmt);
        log_vmsg(level, fmt, ap);
        va_end(ap);
    } else {
        l->count++;
    }
    pthread_mutex_unlock(&l->mu);
}

void log_limit_tick(void)
{
    double now = mono_now();

    pthread_mutex_lock(&limits_mu);
    for (struct log_limit *l = limits; l != NULL; l = l->next) {
        pthread_mutex_lock(&l->mu);
        limit_roll(l, now);
        pthread_mutex_unlock(&l->mu);
    }
    pthread_mutex_unlock(&limits_mu);
}
