/* Access log: one line per request, text (combined log format plus drover's
 * fields) or JSON, buffered per worker and written once per loop iteration
 * (or when the buffer fills), so logging costs no syscall per request. */
#ifndef DROVER_ROUTER_ACCESSLOG_H
#define DROVER_ROUTER_ACCESSLOG_H

#include <stddef.h>
#include <time.h>

#include "conf/config.h"

struct conn;
struct request;

#define ACCESSLOG_BUF (64 * 1024)

struct accesslog {
    int fd;                         /* shared by the workers, not owned */
    enum log_format format;
    size_t len;
    time_t clf_sec;                 /* second the cached timestamps are for */
    char clf_time[64];              /* "24/Nov/2026:10:11:12 +0000" */
    char iso_time[80];              /* "2026-11-24T10:11:12" */
    char buf[ACCESSLOG_BUF];
};

struct accesslog *accesslog_new(int fd, enum log_format format);
void accesslog_free(struct accesslog *al);

/* Appends the line for c's current request, finished at now (seconds). */
void accesslog_request(struct accesslog *al, const struct conn *c, const struct request *req,
                       double now);
void accesslog_flush(struct accesslog *al);

/* Keeps the fields the log line needs: the head's buffer is reused before
 * the request ends. */
struct http_head;
void accesslog_capture(struct request *req, const struct http_head *h);

#endif
