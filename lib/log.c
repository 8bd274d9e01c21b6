#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
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
    static const char *const prefix[] = {"debug: ", "", "warning: ", "error: "};
    char line[4096];
    struct tm tm;
    time_t now;
    va_list ap;
    int n, m;
    int saved = errno;

    if (level < min_level)
        return;
    now = time(NULL);
    localtime_r(&now, &tm);
    n = snprintf(line, sizeof(line), "%02d:%02d:%02d %-*s | %s", tm.tm_hour, tm.tm_min,
                 tm.tm_sec, name_width, "drover", prefix[level]);
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* A short or failed write of a log line has nowhere better to go. */
    if (write(STDOUT_FILENO, line, (size_t)n) < 0) {
    }
    errno = saved;
}
