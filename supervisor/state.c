/* app.state_file: see state.h. jansson reads and writes the file (exact
 * integers, duplicate keys refused). */
#include "supervisor/state.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/formation.h"
#include "lib/path.h"
#include "lib/readfile.h"

#define STATE_MAX_BYTES (1u << 20)
#define STATE_MAX_COUNT 1000

void state_free(struct state *st)
{
    free(st->types);
    st->types = NULL;
    st->ntypes = 0;
}

static struct state_type *find(const struct state *st, const char *type)
{
    for (size_t i = 0; i < st->ntypes; i++)
        if (strcmp(st->types[i].name, type) == 0)
            return &st->types[i];
    return NULL;
}

int state_set(struct state *st, const char *type, int instances, int config, bool stopped)
{
    struct state_type *t = find(st, type);

    if (instances < 0 && !stopped) {
        if (t != NULL)
            *t = st->types[--st->ntypes];
        return 0;
    }
    if (t == NULL) {
        struct state_type *types = realloc(st->types, (st->ntypes + 1) * sizeof(*types));

        if (types == NULL)
            return -1;
        st->types = types;
        t = &types[st->ntypes++];
    }
    snprintf(t->name, sizeof(t->name), "%s", type);
    t->instances = instances;
    t->config = instances >= 0 ? config : -1;
    t->stopped = stopped;
    return 0;
}

static bool count_ok(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0 &&
           json_integer_value(v) <= STATE_MAX_COUNT;
}

/* One "types" member into st; -1 with the reason in err. */
static int load_type(struct state *st, const char *name, const json_t *v, char *err, size_t errlen)
{
    const json_t *inst = json_object_get(v, "instances"), *conf = json_object_get(v, "config");
    const json_t *stopped = json_object_get(v, "stopped");

    if (!json_is_object(v)) {
        snprintf(err, errlen, "types.%s: not an object", name);
        return -1;
    }
    if (strlen(name) >= STATE_TYPE_MAX) {
        snprintf(err, errlen, "types: a type name longer than %d bytes", STATE_TYPE_MAX - 1);
        return -1;
    }
    if ((inst != NULL) != (conf != NULL) || (inst != NULL && (!count_ok(inst) || !count_ok(conf)))) {
        snprintf(err, errlen, "types.%s: instances and config must both be counts from 0 to %d",
                 name, STATE_MAX_COUNT);
        return -1;
    }
    if (stopped != NULL && !json_is_boolean(stopped)) {
        snprintf(err, errlen, "types.%s.stopped: not true or false", name);
        return -1;
    }
    if (state_set(st, name, inst != NULL ? (int)json_integer_value(inst) : -1,
                  conf != NULL ? (int)json_integer_value(conf) : -1, json_is_true(stopped)) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int state_load(const char *path, struct state *st, char *err, size_t errlen)
{
    char reason[512], *text = NULL;
    const json_t *version, *types, *v;
    const char *name;
    json_error_t je;
    json_t *doc = NULL;
    size_t len;

    state_free(st);
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return 0;
    if (read_whole_file(path, STATE_MAX_BYTES, &text, &len, reason, sizeof(reason)) < 0)
        goto fail;
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL) {
        snprintf(reason, sizeof(reason), "not JSON: line %d column %d: %s", je.line, je.column,
                 je.text);
        goto fail;
    }
    version = json_object_get(doc, "drover_state");
    types = json_object_get(doc, "types");
    if (!json_is_object(doc) || !json_is_integer(version)) {
        snprintf(reason, sizeof(reason), "not a drover state file (no \"drover_state\" version)");
        goto fail;
    }
    if (json_integer_value(version) != STATE_VERSION) {
        snprintf(reason, sizeof(reason), "state file version %lld, this drover reads %d",
                 (long long)json_integer_value(version), STATE_VERSION);
        goto fail;
    }
    if (types != NULL && !json_is_object(types)) {
        snprintf(reason, sizeof(reason), "types: not an object");
        goto fail;
    }
    json_object_foreach((json_t *)types, name, v)
        if (load_type(st, name, v, reason, sizeof(reason)) < 0)
            goto fail;
    json_decref(doc);
    free(text);
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", path, reason);
    state_free(st);
    json_decref(doc);
    free(text);
    return -1;
}

/* The document for st (NULL when out of memory). */
static json_t *state_doc(const struct state *st)
{
    json_t *types = json_object(), *doc;

    for (size_t i = 0; types != NULL && i < st->ntypes; i++) {
        const struct state_type *t = &st->types[i];
        json_t *e = json_object();

        if (e == NULL || json_object_set_new(types, t->name, e) < 0) {
            json_decref(types);
            return NULL;
        }
        if (t->instances >= 0) {
            json_object_set_new(e, "instances", json_integer(t->instances));
            json_object_set_new(e, "config", json_integer(t->config));
        }
        if (t->stopped)
            json_object_set_new(e, "stopped", json_true());
    }
    doc = json_pack("{s:i, s:o}", "drover_state", STATE_VERSION, "types", types);
    return doc;
}

/* All of buf to fd. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int state_save(const char *path, const struct state *st, char *err, size_t errlen)
{
    json_t *doc = state_doc(st);
    char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    char tmp[PATH_MAX], dir[PATH_MAX];
    const char *what = "out of memory";
    int fd = -1, dfd, e = 0;
    bool tmp_made = false;

    json_decref(doc);
    if (text == NULL)
        goto fail;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp) ||
        path_dir(path, dir, sizeof(dir)) < 0) {
        what = "path too long";
        goto fail;
    }
    /* The new content goes to a file of its own, on disk before it takes
     * the old one's name: a crash leaves one or the other whole. */
    what = "cannot create a temporary file";
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail_errno;
    tmp_made = true;
    what = "cannot write";
    if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0)
        goto fail_errno;
    what = "cannot sync";
    if (fsync(fd) < 0)
        goto fail_errno;
    close(fd);
    fd = -1;
    what = "cannot rename the temporary file";
    if (rename(tmp, path) < 0)
        goto fail_errno;
    tmp_made = false;
    /* The rename itself on disk too. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(text);
    return 0;
fail_errno:
    e = errno;
fail:
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        unlink(tmp);
    if (e != 0)
        snprintf(err, errlen, "%s: %s: %s", path, what, strerror(e));
    else
        snprintf(err, errlen, "%s: %s", path, what);
    free(text);
    return -1;
}

void state_lookup(const struct state *st, const char *type, int count, struct state_verdict *v)
{
    const struct state_type *t = find(st, type);

    v->stopped = t != NULL && t->stopped;
    v->instances = v->stale = v->stale_config = -1;
    if (t == NULL || t->instances < 0)
        return;
    if (t->config == count) {
        v->instances = t->instances;
    } else {
        v->stale = t->instances;
        v->stale_config = t->config;
    }
}

void state_print(const char *path, const struct plan *plan, FILE *out)
{
    struct state st = {NULL, 0};
    char err[1024];

    if (state_load(path, &st, err, sizeof(err)) < 0) {
        fprintf(out, "%-16s%s; ignored\n", "state file", err);
        return;
    }
    for (size_t i = 0; plan != NULL && i < plan->ntypes; i++) {
        const struct plan_type *pt = &plan->types[i];
        struct state_verdict v;

        state_lookup(&st, pt->name, pt->count, &v);
        if (v.instances >= 0 && v.instances != pt->count)
            fprintf(out, "%-16s%s: %s runs %d instance%s, not %d (drover scale)\n", "state file",
                    path, pt->name, v.instances, v.instances == 1 ? "" : "s", pt->count);
        if (v.stale >= 0)
            fprintf(out, "%-16s%s: %s's scale to %d no longer holds: the config's count changed "
                         "from %d to %d\n",
                    "state file", path, pt->name, v.stale, v.stale_config, pt->count);
        if (v.stopped)
            fprintf(out, "%-16s%s: %s stays stopped (drover stop; drover start %s starts it)\n",
                    "state file", path, pt->name, pt->name);
    }
    state_free(&st);
}
