/* What the control commands print: the admin API's JSON answers as human
 * tables and lines. Pure functions from a parsed document to text.
 *
 * The /status document rendered (README "Admin API"); members the table
 * does not show are ignored, missing ones print "-":
 *
 *   {"drover":  {"pid":1, "uptime_s":12.5, "draining":false, ...},
 *    "router":  {"connections":3, ...},
 *    "processes": [{"type":"web", "stopped":false, "instances": [
 *        {"name":"web.1", "pid":2, "port":5000, "state":"ready", "restarts":0,
 *         "uptime_s":12.1, "rss_bytes":1234567, "inflight":0, "requests":42}]}],
 *    "backends": [{"address":"10.0.0.5:80", "route":"/api/", "state":"up",
 *        "inflight":0, "requests":10, "failures":0}]}
 *
 * A few spellings are accepted for the same thing ("uptime"/"uptime_s",
 * "rss"/"rss_bytes", "in_flight"/"inflight", "name"/"instance", ...); an
 * instance without its own counters takes them from the backends entry of
 * the same name; backends entries that belong to a process ("process" set)
 * are shown in the instance rows, not again as static backends. The
 * BACKEND column of a static backend is its "route" (or "routes", joined
 * with commas), else its "name". */
#ifndef DROVER_CONTROL_TABLE_H
#define DROVER_CONTROL_TABLE_H

#include <jansson.h>
#include <stddef.h>

#include "lib/sbuf.h"

/* `drover status`: the instance table (or "no processes"), the static
 * backends (if any), then the summary line "drover pid N, up 3m12s, 3
 * connections, serving". */
void table_status(const json_t *root, struct sbuf *out);

/* What scale ("web=4 worker=1"), reload (the changes, one a line, or "no
 * changes") and restart/stop/start ("restarting web (rolling, in the
 * background)") print on success; type is the command's TYPE. */
void table_answer(const char *cmd, const char *type, const json_t *root, struct sbuf *out);

/* "45s", "3m12s", "2h05m", "3d4h" (negative: "0s"). */
void table_duration(double seconds, char *buf, size_t len);

/* "512B", "980.5K", "12.3M", "1.5G" (1024-based). */
void table_bytes(double bytes, char *buf, size_t len);

#endif
