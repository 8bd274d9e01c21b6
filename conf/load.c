/* conf/load.c: drover.yaml -> struct conf, every mistake reported as
 * "file:line:col: message" (see internal.h for the walk), the defaults
 * used without a file, and conf_free().
 *
 * Everything the conf points to lives in one arena, freed in one call. */
#include "conf/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/internal.h"
#include "lib/arena.h"
#include "lib/path.h"
#include "lib/readfile.h"
#include "lib/yamlnode.h"

/* A conf with every default, its dir DIR (absolute), in a new arena. */
static struct conf *conf_new(const char *dir, char *err, size_t errlen)
{
    struct arena *a = arena_new();
    struct conf *c = a != NULL ? arena_alloc(a, sizeof(*c)) : NULL;

    if (c == NULL)
        goto nomem;
    c->arena = a;
    c->dir = arena_strdup(a, dir);
    c->app.dir = c->dir;
    c->listen = arena_alloc(a, sizeof(*c->listen));
    c->log.access = arena_strdup(a, "stdout");
    if (c->dir == NULL || c->listen == NULL || c->log.access == NULL)
        goto nomem;
    if (conf_parse_addr("0.0.0.0:8080", c->listen, err, errlen) < 0 ||
        conf_parse_addr("127.0.0.1:8081", &c->admin.listen, err, errlen) < 0)
        goto fail;
    c->nlisten = 1;
    c->workers = 1;
    c->admin.enabled = true;
    c->admin.dashboard = true;
    c->app.base_port = 5000;
    c->balance = BALANCE_ROUND_ROBIN;
    c->health.interval_ms = 2000;
    c->health.timeout_ms = 1000;
    c->health.rise = 2;
    c->health.fall = 3;
    c->retries = 2;
    c->timeouts = (struct conf_timeouts){
        .connect_ms = 3000,
        .client_header_ms = 10000,
        .client_body_ms = 60000,
        .upstream_ms = 30000,
        .idle_ms = 60000,
        .queue_ms = 5000,
        .drain_ms = 30000,
        .tunnel_ms = 3600000,
    };
    c->resolver.refresh_min_ms = 1000;
    c->resolver.refresh_max_ms = 60000;
    c->resolver.hold_ms = 300000;
    c->limits.max_connections = 10000;
    c->limits.max_header_bytes = 16 * 1024;
    c->limits.max_body_bytes = 0;
    c->limits.max_queue = 1000;
    c->log.format = LOG_FORMAT_TEXT;
    c->log.keep = 1000;
    c->log.keep_bytes = 1024 * 1024;
    c->log.timestamps = true;
    return c;

nomem:
    snprintf(err, errlen, "out of memory");
fail:
    arena_free(a);
    return NULL;
}

/* No routes written: everything goes to the "web" process type. */
static int add_default_route(struct conf *c)
{
    struct conf_route *r;

    if (c->nroutes > 0)
        return 0;
    r = arena_alloc(c->arena, sizeof(*r));
    if (r == NULL || (r->path = arena_strdup(c->arena, "/")) == NULL ||
        (r->process = arena_strdup(c->arena, "web")) == NULL)
        return -1;
    r->host_match = HOST_ANY;
    r->balance = c->balance;
    c->routes = r;
    c->nroutes = 1;
    return 0;
}

/* The absolute directory FILE is in. */
static int config_dir(const char *file, char *out)
{
    char dir[PATH_MAX];

    if (path_dir(file, dir, sizeof(dir)) < 0)
        return -1;
    return realpath(dir, out) != NULL ? 0 : -1;
}

struct conf *conf_load(const char *file, char *err, size_t errlen)
{
    struct loader ld;
    struct yaml_reader yr;
    struct yaml_problem pb;
    char *text = NULL, dir[PATH_MAX], reason[CONF_REASON_MAX];
    size_t len = 0;
    yaml_node_t *root;

    memset(&ld, 0, sizeof(ld));
    memset(&yr, 0, sizeof(yr));
    ld.file = file;
    if (read_whole_file(file, CONF_MAX_FILE_BYTES, &text, &len, reason, sizeof(reason)) < 0) {
        schema_fail_at(&ld, 0, 0, "%s", reason);
        goto done;
    }
    if (config_dir(file, dir) < 0) {
        schema_fail_at(&ld, 0, 0, "cannot resolve the config directory: %s", strerror(errno));
        goto done;
    }
    ld.conf = conf_new(dir, reason, sizeof(reason));
    if (ld.conf == NULL) {
        schema_fail_at(&ld, 0, 0, "%s", reason);
        goto done;
    }
    ld.arena = ld.conf->arena;
    if ((ld.conf->file = arena_strdup(ld.arena, file)) == NULL) {
        schema_oom(&ld);
        goto done;
    }
    if (yaml_reader_open(&yr, text, len, &pb) < 0) {
        schema_fail_at(&ld, pb.line, pb.col, "%s", pb.msg);
        goto done;
    }
    ld.doc = &yr.doc;
    root = yaml_document_get_root_node(ld.doc);
    if (root != NULL && !yaml_is_null(root))
        sections_load(&ld, root);
    if (yaml_reader_end(&yr, &pb) < 0)
        schema_fail_at(&ld, pb.line, pb.col, "%s", pb.msg);
    if (ld.nerr == 0 && add_default_route(ld.conf) < 0)
        schema_oom(&ld);

done:
    yaml_reader_close(&yr);
    free(text);
    if (ld.nerr > 0 || ld.ndropped > 0) {
        schema_write_errors(&ld, err, errlen);
        conf_free(ld.conf);
        return NULL;
    }
    return ld.conf;
}

/* No file: the defaults, app.dir = DIR, and (like `foreman start`) the
 * router on $PORT when it is set. */
struct conf *conf_default(const char *dir, char *err, size_t errlen)
{
    char abs[PATH_MAX], text[32];
    const char *port = getenv("PORT");
    struct conf *c;
    struct stat st;

    if (realpath(dir, abs) == NULL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    if (stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", dir);
        return NULL;
    }
    c = conf_new(abs, err, errlen);
    if (c == NULL)
        return NULL;
    if (port != NULL && *port != '\0') {
        char reason[CONF_REASON_MAX];

        snprintf(text, sizeof(text), "0.0.0.0:%.8s", port);
        if (!conf_all_digits(port) || conf_parse_addr(text, c->listen, reason, sizeof(reason)) < 0) {
            snprintf(err, errlen, "PORT=\"%.20s\" is not a port (1 to 65535)", port);
            conf_free(c);
            return NULL;
        }
    }
    if (add_default_route(c) < 0) {
        snprintf(err, errlen, "out of memory");
        conf_free(c);
        return NULL;
    }
    return c;
}

void conf_free(struct conf *conf)
{
    if (conf != NULL) {
        tls_conf_free(conf);
        arena_free(conf->arena);
    }
}
