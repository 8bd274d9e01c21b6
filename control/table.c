/* The control commands' output: see table.h. Every cell is at most
 * TABLE_CELL - 1 bytes (longer values are cut). */
#include "control/table.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_CELL 64
#define TABLE_MAX_COLS 20

/* The first of names that obj has (and is not null), or NULL. */
static const json_t *table_field(const json_t *obj, const char *const *names)
{
    for (; *names != NULL; names++) {
        const json_t *v = json_object_get(obj, *names);

        if (v != NULL && !json_is_null(v))
            return v;
    }
    return NULL;
}

#define FIELD(obj, ...) table_field((obj), (const char *const[]){__VA_ARGS__, NULL})

void table_duration(double seconds, char *buf, size_t len)
{
    long long s = seconds > 0 ? (long long)seconds : 0;

    if (s < 60)
        snprintf(buf, len, "%llds", s);
    else if (s < 3600)
        snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
}

void table_bytes(double b, char *buf, size_t len)
{
    if (b < 1024)
        snprintf(buf, len, "%.0fB", b < 0 ? 0 : b);
    else if (b < 1024.0 * 1024)
        snprintf(buf, len, "%.1fK", b / 1024);
    else if (b < 1024.0 * 1024 * 1024)
        snprintf(buf, len, "%.1fM", b / (1024.0 * 1024));
    else
        snprintf(buf, len, "%.1fG", b / (1024.0 * 1024 * 1024));
}

static void cell_str(char *cell, const json_t *v)
{
    if (json_is_string(v))
        snprintf(cell, TABLE_CELL, "%s", *json_string_value(v) ? json_string_value(v) : "-");
    else if (json_is_integer(v))
        snprintf(cell, TABLE_CELL, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(cell, TABLE_CELL, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(cell, TABLE_CELL, "%s", json_is_true(v) ? "yes" : "no");
    else
        snprintf(cell, TABLE_CELL, "-");
}

/* A count; zero_is_none: 0 means "not there" (a pid, a port). */
static void cell_count(char *cell, const json_t *v, bool zero_is_none)
{
    if (!json_is_number(v) || (zero_is_none && json_number_value(v) == 0))
        snprintf(cell, TABLE_CELL, "-");
    else
        snprintf(cell, TABLE_CELL, "%.0f", json_number_value(v));
}

static void cell_duration(char *cell, const json_t *v)
{
    if (!json_is_number(v))
        snprintf(cell, TABLE_CELL, "-");
    else
        table_duration(json_number_value(v), cell, TABLE_CELL);
}

static void cell_bytes(char *cell, const json_t *v)
{
    if (!json_is_number(v) || json_number_value(v) <= 0)
        snprintf(cell, TABLE_CELL, "-");
    else
        table_bytes(json_number_value(v), cell, TABLE_CELL);
}

/* A rate: "12.5", "1520". */
static void cell_rate(char *cell, const json_t *v)
{
    if (!json_is_number(v))
        snprintf(cell, TABLE_CELL, "-");
    else if (json_number_value(v) < 100)
        snprintf(cell, TABLE_CELL, "%.1f", json_number_value(v));
    else
        snprintf(cell, TABLE_CELL, "%.0f", json_number_value(v));
}

/* A latency in milliseconds: "0.35ms", "12ms", "1.2s". */
static void cell_ms(char *cell, const json_t *v)
{
    double ms = json_is_number(v) ? json_number_value(v) : -1;

    if (ms < 0)
        snprintf(cell, TABLE_CELL, "-");
    else if (ms < 10)
        snprintf(cell, TABLE_CELL, "%.2fms", ms);
    else if (ms < 1000)
        snprintf(cell, TABLE_CELL, "%.0fms", ms);
    else
        snprintf(cell, TABLE_CELL, "%.1fs", ms / 1000);
}

/* An instance's last exit: "1, 3m12s ago", "SIGKILL, 5s ago", "-". */
static void cell_exit(char *cell, const json_t *e)
{
    const json_t *code = FIELD(e, "code"), *sig = FIELD(e, "signal"), *ago = FIELD(e, "ago_s");
    char how[24], when[24];

    if (!json_is_object(e)) {
        snprintf(cell, TABLE_CELL, "-");
        return;
    }
    if (json_is_string(sig))
        snprintf(how, sizeof(how), "%.20s", json_string_value(sig));
    else if (json_is_integer(code))
        snprintf(how, sizeof(how), "%" JSON_INTEGER_FORMAT, json_integer_value(code));
    else
        snprintf(how, sizeof(how), "?");
    if (json_is_number(ago)) {
        table_duration(json_number_value(ago), when, sizeof(when));
        snprintf(cell, TABLE_CELL, "%s, %s ago", how, when);
    } else {
        snprintf(cell, TABLE_CELL, "%s", how);
    }
}

/* Rows of cells printed in columns two spaces apart, left-aligned. A row
 * that cannot be stored (out of memory) is left out. */
struct table {
    int ncols;
    size_t nrows, cap;
    char (*cells)[TABLE_CELL];
};

static void table_init(struct table *t, int ncols)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
}

static void table_add(struct table *t, char (*row)[TABLE_CELL])
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char (*cells)[TABLE_CELL] = realloc(t->cells, cap * (size_t)t->ncols * TABLE_CELL);

        if (cells == NULL)
            return;
        t->cells = cells;
        t->cap = cap;
    }
    memcpy(t->cells[t->nrows * (size_t)t->ncols], row, (size_t)t->ncols * TABLE_CELL);
    t->nrows++;
}

/* A table whose first row is the column names in head. */
static void table_start(struct table *t, const char *const *head, int ncols)
{
    char row[TABLE_MAX_COLS][TABLE_CELL];

    table_init(t, ncols);
    for (int c = 0; c < ncols; c++)
        snprintf(row[c], TABLE_CELL, "%s", head[c]);
    table_add(t, row);
}

static void table_print(const struct table *t, struct sbuf *out)
{
    size_t width[TABLE_MAX_COLS] = {0};

    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols && c < TABLE_MAX_COLS; c++) {
            size_t n = strlen(t->cells[r * (size_t)t->ncols + (size_t)c]);

            if (n > width[c])
                width[c] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols && c < TABLE_MAX_COLS; c++) {
            const char *cell = t->cells[r * (size_t)t->ncols + (size_t)c];

            if (c == t->ncols - 1)
                sbuf_printf(out, "%s\n", cell);
            else
                sbuf_printf(out, "%-*s  ", (int)width[c], cell);
        }
    }
}

static void table_free(struct table *t)
{
    free(t->cells);
    t->cells = NULL;
}

static bool is_instance_backend(const json_t *b)
{
    const json_t *p = FIELD(b, "process");

    return json_is_string(p) && *json_string_value(p) != '\0';
}

/* The backends entry named name, for an instance without counters. */
static const json_t *backend_named(const json_t *backends, const char *name)
{
    size_t i;
    const json_t *b;

    json_array_foreach(backends, i, b) {
        const json_t *n = FIELD(b, "name", "instance");

        if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
            return b;
    }
    return NULL;
}

enum { COL_TYPE, COL_INSTANCE, COL_PID, COL_PGID, COL_PORT, COL_STATE, COL_RESTARTS, COL_UPTIME, COL_RSS,
       COL_INFLIGHT, COL_REQUESTS, COL_RPS, COL_P50, COL_P99, COL_5XX, COL_GEN, COL_EXIT,
       NCOLS_INSTANCE };

/* The last minute's columns from a "live" object (api_live.h). */
static void live_cells(char (*row)[TABLE_CELL], int rps, const json_t *live)
{
    cell_rate(row[rps], FIELD(live, "rps"));
    cell_ms(row[rps + 1], FIELD(live, "p50_ms"));
    cell_ms(row[rps + 2], FIELD(live, "p99_ms"));
    cell_count(row[rps + 3], FIELD(live, "5xx"), false);
}

static void instance_row(struct table *t, const json_t *type, const json_t *inst,
                         const json_t *backends)
{
    char row[NCOLS_INSTANCE][TABLE_CELL];
    const json_t *name = FIELD(inst, "name", "instance");
    const json_t *inflight = FIELD(inst, "inflight", "in_flight", "active");
    const json_t *requests = FIELD(inst, "requests");

    if (type == NULL)
        type = FIELD(inst, "type", "process");
    if ((inflight == NULL || requests == NULL) && json_is_string(name)) {
        const json_t *be = backend_named(backends, json_string_value(name));

        if (inflight == NULL)
            inflight = FIELD(be, "inflight", "in_flight", "active");
        if (requests == NULL)
            requests = FIELD(be, "requests");
    }
    cell_str(row[COL_TYPE], type);
    cell_str(row[COL_INSTANCE], name);
    cell_count(row[COL_PID], FIELD(inst, "pid"), true);
    cell_count(row[COL_PGID], FIELD(inst, "pgid"), true);
    cell_count(row[COL_PORT], FIELD(inst, "port"), true);
    cell_str(row[COL_STATE], FIELD(inst, "state", "status"));
    cell_count(row[COL_RESTARTS], FIELD(inst, "restarts"), false);
    cell_duration(row[COL_UPTIME], FIELD(inst, "uptime_s", "uptime"));
    cell_bytes(row[COL_RSS], FIELD(inst, "rss_bytes", "rss"));
    cell_count(row[COL_INFLIGHT], inflight, false);
    cell_count(row[COL_REQUESTS], requests, false);
    live_cells(row, COL_RPS, FIELD(inst, "live"));
    cell_count(row[COL_GEN], FIELD(inst, "generation"), true);
    cell_exit(row[COL_EXIT], FIELD(inst, "last_exit"));
    table_add(t, row);
}

/* A type with no instance (stopped, or scaled to 0) still gets a row. */
static void empty_type_row(struct table *t, const json_t *p)
{
    char row[NCOLS_INSTANCE][TABLE_CELL];

    for (int c = 0; c < NCOLS_INSTANCE; c++)
        snprintf(row[c], TABLE_CELL, "-");
    cell_str(row[COL_TYPE], FIELD(p, "type", "name"));
    snprintf(row[COL_STATE], TABLE_CELL, "%s", json_is_true(FIELD(p, "stopped")) ? "stopped" : "none");
    table_add(t, row);
}

enum { BCOL_BACKEND, BCOL_ADDRESS, BCOL_STATE, BCOL_INFLIGHT, BCOL_REQUESTS, BCOL_FAILURES,
       NCOLS_BACKEND };

static void backend_row(struct table *t, const json_t *b)
{
    char row[NCOLS_BACKEND][TABLE_CELL];
    const json_t *route = FIELD(b, "route", "routes");
    const json_t *state = FIELD(b, "state", "health");
    const json_t *up = FIELD(b, "up", "healthy");

    if (json_is_array(route)) {
        size_t n = 0, i;
        const json_t *r;

        row[BCOL_BACKEND][0] = '\0';
        json_array_foreach(route, i, r) {
            if (json_is_string(r) && n < TABLE_CELL)
                n += (size_t)snprintf(row[BCOL_BACKEND] + n, TABLE_CELL - n, "%s%s", n ? "," : "",
                                      json_string_value(r));
        }
        if (n == 0)
            snprintf(row[BCOL_BACKEND], TABLE_CELL, "-");
    } else {
        cell_str(row[BCOL_BACKEND], route != NULL ? route : FIELD(b, "name"));
    }
    cell_str(row[BCOL_ADDRESS], FIELD(b, "address", "addr", "name"));
    if (json_is_string(state))
        cell_str(row[BCOL_STATE], state);
    else if (json_is_boolean(up))
        snprintf(row[BCOL_STATE], TABLE_CELL, "%s", json_is_true(up) ? "up" : "down");
    else
        snprintf(row[BCOL_STATE], TABLE_CELL, "-");
    cell_count(row[BCOL_INFLIGHT], FIELD(b, "inflight", "in_flight", "active"), false);
    cell_count(row[BCOL_REQUESTS], FIELD(b, "requests"), false);
    cell_count(row[BCOL_FAILURES], FIELD(b, "failures", "errors"), false);
    table_add(t, row);
}

static bool draining(const json_t *d, const json_t *r)
{
    const json_t *v = FIELD(d, "draining");
    const json_t *state = FIELD(d, "state");

    if (v == NULL)
        v = FIELD(r, "draining");
    if (json_is_boolean(v))
        return json_is_true(v);
    return json_is_string(state) && strcmp(json_string_value(state), "draining") == 0;
}

/* Some instance of procs has live stats. */
static bool has_live(const json_t *procs)
{
    const json_t *p, *inst;
    size_t i, k;

    json_array_foreach(procs, i, p) {
        if (FIELD(p, "live") != NULL)
            return true;
        json_array_foreach(FIELD(p, "instances"), k, inst)
            if (FIELD(inst, "live") != NULL)
                return true;
    }
    return false;
}

enum { RCOL_ROUTE, RCOL_TO, RCOL_RPS, RCOL_P50, RCOL_P99, RCOL_5XX, RCOL_QUEUED, NCOLS_ROUTE };

/* The routes' last minute, when the document has them. */
static void routes_table(const json_t *routes, struct sbuf *out)
{
    static const char *const rhead[NCOLS_ROUTE] = {"ROUTE", "TO", "REQ/S", "P50", "P99", "5XX",
                                                   "QUEUED"};
    struct table t;
    const json_t *r;
    size_t i;

    if (!json_is_array(routes) || json_array_size(routes) == 0)
        return;
    table_start(&t, rhead, NCOLS_ROUTE);
    json_array_foreach(routes, i, r) {
        char row[NCOLS_ROUTE][TABLE_CELL];

        cell_str(row[RCOL_ROUTE], FIELD(r, "route", "name"));
        cell_str(row[RCOL_TO], FIELD(r, "process"));
        live_cells(row, RCOL_RPS, FIELD(r, "live"));
        cell_count(row[RCOL_QUEUED], FIELD(r, "queued"), false);
        table_add(&t, row);
    }
    sbuf_puts(out, "\n");
    table_print(&t, out);
    table_free(&t);
}

/* What runs otherwise than the config says (drover scale, stop), and
 * where that is kept: one line per type. */
static void override_lines(const json_t *procs, const json_t *d, struct sbuf *out)
{
    const json_t *sf = FIELD(d, "state_file"), *p;
    char kept[512];
    bool first = true;
    size_t i;

    if (json_is_string(sf))
        snprintf(kept, sizeof(kept), "kept in the state file %s", json_string_value(sf));
    else
        snprintf(kept, sizeof(kept), "until drover stops: no app.state_file");
    json_array_foreach(procs, i, p) {
        const json_t *type = FIELD(p, "type", "name"), *want = FIELD(p, "want");
        const json_t *conf = FIELD(p, "configured");
        bool stopped = json_is_true(FIELD(p, "stopped")), removed = json_is_true(FIELD(p, "removed"));
        bool scaled = json_is_integer(want) && json_is_integer(conf) &&
                      json_integer_value(want) != json_integer_value(conf);

        if (!json_is_string(type) || removed || (!stopped && !scaled))
            continue;
        sbuf_puts(out, first ? "\n" : "");
        first = false;
        if (stopped)
            sbuf_printf(out, "%s is stopped (drover start %s starts it; %s)\n",
                        json_string_value(type), json_string_value(type), kept);
        else
            sbuf_printf(out, "%s runs %" JSON_INTEGER_FORMAT " instance%s, the config says %"
                             JSON_INTEGER_FORMAT " (drover scale; %s)\n",
                        json_string_value(type), json_integer_value(want),
                        json_integer_value(want) == 1 ? "" : "s", json_integer_value(conf), kept);
    }
}

/* The summary line under the tables. */
static void summary_line(const json_t *d, const json_t *r, struct sbuf *out)
{
    const json_t *v;
    char cell[TABLE_CELL];

    sbuf_puts(out, "\ndrover");
    if (json_is_number(v = FIELD(d, "pid")))
        sbuf_printf(out, " pid %.0f", json_number_value(v));
    if (json_is_number(v = FIELD(d, "uptime_s", "uptime"))) {
        table_duration(json_number_value(v), cell, sizeof(cell));
        sbuf_printf(out, ", up %s", cell);
    }
    v = FIELD(r, "connections", "active_connections");
    if (v == NULL)
        v = FIELD(d, "connections");
    if (json_is_number(v))
        sbuf_printf(out, ", %.0f connection%s", json_number_value(v),
                    json_number_value(v) == 1 ? "" : "s");
    sbuf_printf(out, ", %s\n", draining(d, r) ? "draining" : "serving");
}

void table_status(const json_t *root, struct sbuf *out)
{
    static const char *const ihead[NCOLS_INSTANCE] = {"TYPE", "INSTANCE", "PID", "PGID", "PORT", "STATE",
                                                      "RESTARTS", "UPTIME", "RSS", "IN-FLIGHT",
                                                      "REQUESTS", "REQ/S", "P50", "P99", "5XX",
                                                      "GEN", "LAST EXIT"};
    static const char *const bhead[NCOLS_BACKEND] = {"BACKEND", "ADDRESS", "STATE",
                                                     "IN-FLIGHT", "REQUESTS", "FAILURES"};
    const json_t *procs = FIELD(root, "processes"), *backends = FIELD(root, "backends");
    const json_t *p, *b;
    struct table t;
    size_t nstatic = 0, i;

    /* The last minute's columns only from a drover that has them. */
    table_start(&t, ihead, has_live(procs) ? NCOLS_INSTANCE : COL_RPS);
    json_array_foreach(procs, i, p) {
        const json_t *insts = FIELD(p, "instances"), *inst;
        size_t k;

        if (!json_is_array(insts)) {
            instance_row(&t, NULL, p, backends); /* a flat list of instances */
        } else if (json_array_size(insts) == 0) {
            empty_type_row(&t, p);
        } else {
            json_array_foreach(insts, k, inst)
                instance_row(&t, FIELD(p, "type", "name"), inst, backends);
        }
    }
    if (t.nrows > 1)
        table_print(&t, out);
    else
        sbuf_puts(out, "no processes\n");
    table_free(&t);

    json_array_foreach(backends, i, b)
        nstatic += !is_instance_backend(b);
    if (nstatic > 0) {
        table_start(&t, bhead, NCOLS_BACKEND);
        json_array_foreach(backends, i, b) {
            if (!is_instance_backend(b))
                backend_row(&t, b);
        }
        sbuf_puts(out, "\n");
        table_print(&t, out);
        table_free(&t);
    }
    routes_table(FIELD(root, "routes"), out);
    override_lines(procs, FIELD(root, "drover"), out);
    summary_line(FIELD(root, "drover"), FIELD(root, "router"), out);
}

void table_answer(const char *cmd, const char *type, const json_t *root, struct sbuf *out)
{
    if (strcmp(cmd, "scale") == 0) {
        const json_t *f = FIELD(root, "formation"), *v;
        const char *key;
        bool first = true;

        if (!json_is_object(f)) {
            sbuf_puts(out, "scaled\n");
            return;
        }
        json_object_foreach((json_t *)f, key, v) {
            char cell[TABLE_CELL];

            cell_str(cell, v);
            sbuf_printf(out, "%s%s=%s", first ? "" : " ", key, cell);
            first = false;
        }
        sbuf_puts(out, "\n");
    } else if (strcmp(cmd, "reload") == 0) {
        const json_t *ch = FIELD(root, "changes"), *line;
        size_t n = 0, i;

        json_array_foreach(ch, i, line) {
            if (json_is_string(line)) {
                sbuf_printf(out, "%s\n", json_string_value(line));
                n++;
            }
        }
        if (n == 0)
            sbuf_puts(out, "no changes\n");
    } else if (strcmp(cmd, "restart") == 0) {
        sbuf_printf(out, "restarting %s (rolling, in the background)\n", type);
    } else if (strcmp(cmd, "stop") == 0) {
        sbuf_printf(out, "stopping %s (in the background)\n", type);
    } else if (strcmp(cmd, "start") == 0) {
        sbuf_printf(out, "starting %s (in the background)\n", type);
    }
}
