/* Reload (SIGHUP, POST /reload): load and validate again, say what
 * changed, and hand the new config to the router, the new plan to the
 * supervisor and a moved admin.listen to run.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "control/internal.h"
#include "lib/log.h"
#include "conf/formation.h"
#include "supervisor/supervisor.h"

struct plan_line {
    char key[400];              /* group (64), type (64) and first word (256), spaced */
    char value[512];
};

/* conf_print_plan as (key, value) lines: "timeouts connect" → "3s". A line
 * that starts blank belongs to the group named above it. */
static size_t plan_lines(const struct conf *conf, struct plan_line *lines, size_t max)
{
    char *text = NULL, *save = NULL, group[64] = "", sub[64] = "";
    size_t len = 0, n = 0;
    FILE *f = open_memstream(&text, &len);

    if (f == NULL)
        return 0;
    conf_print_plan(conf, f);
    fclose(f);
    for (char *line = strtok_r(text, "\n", &save); line != NULL && n < max;
         line = strtok_r(NULL, "\n", &save)) {
        char first[256] = "", rest[512] = "";
        const char *p = line;
        bool starts_group = line[0] != ' ';

        if (starts_group) {
            sscanf(line, "%63s", group);
            p = line + strlen(group);
            sub[0] = '\0';
        } else if (strcmp(group, "processes") == 0 && line[1] == ' ' && line[2] != ' ') {
            /* "  web   ready ...": the settings of one type, named in the key. */
            sscanf(line + 2, "%63s", sub);
            p = line + 2 + strlen(sub);
        }
        while (*p == ' ')
            p++;
        sscanf(p, "%255s", first);
        p += strlen(first);
        while (*p == ' ')
            p++;
        snprintf(rest, sizeof(rest), "%s", p);
        /* Collapse runs of blanks: the layout is not the value. */
        for (char *q = rest; *q; q++)
            while (q[0] == ' ' && q[1] == ' ')
                memmove(q, q + 1, strlen(q));
        if (starts_group && rest[0] == '\0') {
            /* "balance  round_robin": the group's one value. */
            snprintf(lines[n].key, sizeof(lines[n].key), "%s", group);
            snprintf(lines[n].value, sizeof(lines[n].value), "%s", first);
        } else {
            snprintf(lines[n].key, sizeof(lines[n].key), "%s%s%s%s%s", group, sub[0] ? " " : "", sub,
                     first[0] ? " " : "", first);
            snprintf(lines[n].value, sizeof(lines[n].value), "%s", rest);
        }
        n++;
    }
    free(text);
    return n;
}

static const struct plan_line *find_line(const struct plan_line *lines, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(lines[i].key, key) == 0)
            return &lines[i];
    return NULL;
}

/* What changed between two configs, one line each, into notes. */
static void diff_configs(const struct conf *old, const struct conf *new, struct sbuf *notes)
{
    enum { MAX_LINES = 512 };
    struct plan_line *a = calloc(MAX_LINES, sizeof(*a)), *b = calloc(MAX_LINES, sizeof(*b));
    size_t na, nb;

    if (a == NULL || b == NULL)
        goto out;
    na = plan_lines(old, a, MAX_LINES);
    nb = plan_lines(new, b, MAX_LINES);
    for (size_t i = 0; i < nb; i++) {
        const struct plan_line *o = find_line(a, na, b[i].key);

        if (strncmp(b[i].key, "config", 6) == 0)
            continue;
        if (o == NULL)
            sbuf_printf(notes, "+ %s %s\n", b[i].key, b[i].value);
        else if (strcmp(o->value, b[i].value) != 0)
            sbuf_printf(notes, "%s: %s → %s\n", b[i].key, o->value, b[i].value);
    }
    for (size_t i = 0; i < na; i++)
        if (find_line(b, nb, a[i].key) == NULL)
            sbuf_printf(notes, "- %s %s\n", a[i].key, a[i].value);
out:
    free(a);
    free(b);
}

static void free_plan(struct plan *plan)
{
    if (plan != NULL) {
        plan_free(plan);
        free(plan);
    }
}

/* A refused reload: counted and logged; the old configuration runs on. */
static int refused(struct control *ctl, const char *err)
{
    char status[200];

    ctl->reloads_failed++;
    log_error("reload failed, the running configuration is unchanged: %s", err);
    snprintf(status, sizeof(status), "reload failed, the old configuration runs on: %s", err);
    control_notify_reloaded(ctl, status);
    return -1;
}

/* The non-empty lines of notes into changes, each ending in '\n', and
 * into the log ("reload: ...", or that nothing changed). */
static void take_changes(const struct sbuf *notes, struct sbuf *changes)
{
    const char *s = notes->data != NULL ? notes->data : "";
    size_t n = 0;

    while (*s != '\0') {
        size_t len = strcspn(s, "\n");

        if (len > 0) {
            log_info("reload: %.*s", (int)len, s);
            sbuf_put(changes, s, len);
            sbuf_put(changes, "\n", 1);
            n++;
        }
        s += len + (s[len] == '\n');
    }
    if (n == 0)
        log_info("reload: no changes");
}

int control_reload(struct control *ctl, struct sbuf *changes, char *err, size_t errlen)
{
    const struct conf *old = ctl->router.cref->conf;
    struct conf *conf;
    struct plan *plan;
    struct sbuf notes;

    if (ctl->draining) {
        snprintf(err, errlen, "drover is draining: no reload");
        return -1;
    }
    control_notify_reloading(ctl);
    if (control_load(&ctl->opts, &conf, &plan, err, errlen) < 0)
        return refused(ctl, err);
    control_log_warnings(conf);
    if (plan != NULL && ctl->sv == NULL) {
        free_plan(plan);
        conf_free(conf);
        snprintf(err, errlen, "a formation appeared: supervising an app needs a restart");
        return refused(ctl, err);
    }
    if (plan != NULL && supervisor_prepare_limits(ctl->sv, plan, err, errlen) < 0) {
        free_plan(plan);
        conf_free(conf);
        return refused(ctl, err);
    }
    sbuf_init(&notes);
    diff_configs(old, conf, &notes);
    if (router_reload(&ctl->router, conf, &notes, err, errlen) < 0) {
        sbuf_free(&notes);
        free_plan(plan);
        conf_free(conf);
        return refused(ctl, err);
    }
    /* conf is the router's now (old may be gone: do not touch it). */
    if (ctl->sv != NULL) {
        if (plan == NULL)
            plan = calloc(1, sizeof(*plan)); /* no formation any more: every type goes */
        if (plan != NULL)
            supervisor_reload(ctl->sv, plan, &notes);
        supervisor_set_drain_limit(ctl->sv, (double)conf->timeouts.drain_ms / 1000.0);
    }
    operate_apply(ctl, conf, false);
    control_admin_follow(ctl, conf);
    ctl->reloads_ok++;
    take_changes(&notes, changes);
    sbuf_free(&notes);
    control_notify_reloaded(ctl, NULL);
    return 0;
}
