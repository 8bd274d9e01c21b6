/* drover's own log lines: "HH:MM:SS drover | message" on stdout, in the same
 * stream and layout as the supervised instances' output. */
#ifndef DROVER_LOG_H
#define DROVER_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below this level are dropped (LOG_INFO unless DROVER_DEBUG is set). */
void log_set_level(enum log_level level);

/* Width the "drover" name is padded to, so it lines up with "web.10". */
void log_set_name_width(int width);
int log_name_width(void);

/* One line, written with a single write(2) so threads never interleave. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
