/* examples/: the Kubernetes manifests, the systemd units and the
 * Dockerfile cannot run here (no cluster, no docker engine, systemd is
 * not PID 1), so this checks what can be checked: every manifest is valid
 * YAML (libyaml, every document), has the fields the README promises, and
 * agrees with the drover.yaml it ships (loaded with drover's own loader):
 * probes on the admin port, grace periods above drain_delay + drain. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "conf/config.h"
#include "lib/readfile.h"

#define MAX_DOCS 16

static char root[PATH_MAX]; /* the repository, from this file's path */

static const char *path_of(const char *rel)
{
    static char buf[4][PATH_MAX + 64];
    static int next;
    const char *tests = strstr(__FILE__, "tests/unit/examples/");
    char *out = buf[next++ % 4];

    if (root[0] == '\0' && tests != NULL)
        snprintf(root, sizeof(root), "%.*s", (int)(tests - __FILE__), __FILE__);
    snprintf(out, PATH_MAX + 64, "%s%s", root, rel);
    return out;
}

static char *slurp(const char *rel)
{
    char why[256], *text = NULL;
    size_t len;

    cr_assert_eq(read_whole_file(path_of(rel), 1 << 20, &text, &len, why, sizeof(why)), 0, "%s: %s", rel, why);
    return text;
}

/* ---- YAML documents ---- */

struct docs {
    yaml_document_t doc[MAX_DOCS];
    int n;
};

/* Every document of examples/kubernetes/NAME, or the test fails at the
 * line and column libyaml names. */
static void load_docs(const char *name, struct docs *d)
{
    char rel[256], *text;
    yaml_parser_t p;

    snprintf(rel, sizeof(rel), "examples/kubernetes/%s", name);
    text = slurp(rel);
    memset(d, 0, sizeof(*d));
    cr_assert(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    for (;;) {
        cr_assert_lt(d->n, MAX_DOCS);
        if (!yaml_parser_load(&p, &d->doc[d->n]))
            cr_assert_fail("%s:%zu:%zu: %s", rel, p.problem_mark.line + 1, p.problem_mark.column + 1,
                     p.problem != NULL ? p.problem : "invalid YAML");
        if (yaml_document_get_root_node(&d->doc[d->n]) == NULL) {
            yaml_document_delete(&d->doc[d->n]);
            break;
        }
        d->n++;
    }
    yaml_parser_delete(&p);
    free(text);
    cr_assert_gt(d->n, 0, "%s has no document", rel);
}

static void free_docs(struct docs *d)
{
    for (int i = 0; i < d->n; i++)
        yaml_document_delete(&d->doc[i]);
}

/* The value of key in mapping n, or item key (a number) of list n; NULL
 * when there is none. */
static yaml_node_t *step(yaml_document_t *doc, yaml_node_t *n, const char *key)
{
    yaml_node_t *found = NULL;

    if (n != NULL && n->type == YAML_SEQUENCE_NODE) {
        long i = strtol(key, NULL, 10);

        if (i >= 0 && i < n->data.sequence.items.top - n->data.sequence.items.start)
            found = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
    } else if (n != NULL && n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);

            if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
                found = yaml_document_get_node(doc, p->value);
        }
    }
    return found;
}

/* The node at path ("spec.template.spec.containers.0.livenessProbe") from
 * n, one step per dot. NULL when it is not there. */
static yaml_node_t *at(yaml_document_t *doc, yaml_node_t *n, const char *path)
{
    char key[128];

    while (n != NULL && *path != '\0') {
        size_t len = strcspn(path, ".");

        snprintf(key, sizeof(key), "%.*s", (int)len, path);
        path += len + (path[len] == '.');
        n = step(doc, n, key);
    }
    return n;
}

static const char *scalar(const yaml_node_t *n)
{
    return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
}

/* The scalar at path, or "" when there is none. */
static const char *text_at(yaml_document_t *doc, const char *path)
{
    return scalar(at(doc, yaml_document_get_root_node(doc), path));
}

/* The document of kind in d (the test fails without one). */
static yaml_document_t *kind(struct docs *d, const char *want)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(text_at(&d->doc[i], "kind"), want) == 0)
            return &d->doc[i];
    cr_assert_fail("no %s", want);
    return NULL;
}

/* drover.yaml text, loaded by drover's loader (with the admin token the
 * Secret would give). */
static struct conf *load_config(const char *text)
{
    char dir[] = "/tmp/drover-manifests-XXXXXX", file[PATH_MAX], err[4096];
    struct conf *c;
    FILE *f;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/drover.yaml", dir);
    f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    setenv("DROVER_ADMIN_TOKEN", "from-the-secret", 1);
    c = conf_load(file, err, sizeof(err));
    unlink(file);
    rmdir(dir);
    cr_assert_not_null(c, "the shipped drover.yaml does not load: %s", err);
    return c;
}

Test(manifests, every_kubernetes_file_is_yaml_with_kind_and_name)
{
    DIR *dir = opendir(path_of("examples/kubernetes"));
    struct dirent *e;
    int files = 0;

    cr_assert_not_null(dir);
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        struct docs d;

        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        load_docs(e->d_name, &d);
        for (int i = 0; i < d.n; i++) {
            cr_assert_str_not_empty(text_at(&d.doc[i], "apiVersion"), "%s", e->d_name);
            cr_assert_str_not_empty(text_at(&d.doc[i], "kind"), "%s", e->d_name);
            cr_assert_str_not_empty(text_at(&d.doc[i], "metadata.name"), "%s", e->d_name);
        }
        free_docs(&d);
        files++;
    }
    closedir(dir);
    cr_assert_geq(files, 3, "configmap, deployment, service");
}

Test(manifests, the_deployment_probes_and_drains_as_the_config_says)
{
    struct docs dep, cm;
    yaml_document_t *d, *m;
    const char *c0 = "spec.template.spec.containers.0", *text;
    char path[256];
    struct conf *conf;
    long grace;

    load_docs("deployment.yaml", &dep);
    load_docs("configmap.yaml", &cm);
    d = kind(&dep, "Deployment");
    m = kind(&cm, "ConfigMap");
    text = scalar(step(m, at(m, yaml_document_get_root_node(m), "data"), "drover.yaml"));
    cr_assert(strstr(text, "drain_delay:") != NULL, "the ConfigMap's drover.yaml: %s", text);
    conf = load_config(text);

    snprintf(path, sizeof(path), "%s.livenessProbe.httpGet.path", c0);
    cr_assert_str_eq(text_at(d, path), "/live");
    snprintf(path, sizeof(path), "%s.readinessProbe.httpGet.path", c0);
    cr_assert_str_eq(text_at(d, path), "/ready");
    snprintf(path, sizeof(path), "%s.livenessProbe.httpGet.port", c0);
    cr_assert_str_eq(text_at(d, path), "admin");
    snprintf(path, sizeof(path), "%s.readinessProbe.httpGet.port", c0);
    cr_assert_str_eq(text_at(d, path), "admin");
    /* The named ports are the config's. */
    snprintf(path, sizeof(path), "%s.ports.1.name", c0);
    cr_assert_str_eq(text_at(d, path), "admin");
    snprintf(path, sizeof(path), "%s.ports.1.containerPort", c0);
    cr_assert_eq(atoi(text_at(d, path)), conf->admin.listen.port, "the probes must reach admin.listen");
    snprintf(path, sizeof(path), "%s.ports.0.containerPort", c0);
    cr_assert_eq(atoi(text_at(d, path)), conf->listen[0].port);

    snprintf(path, sizeof(path), "%s.lifecycle", c0);
    cr_assert_null(at(d, yaml_document_get_root_node(d), path), "no preStop: drain_delay does its work");
    cr_assert_gt(conf->timeouts.drain_delay_ms, 0);
    grace = strtol(text_at(d, "spec.template.spec.terminationGracePeriodSeconds"), NULL, 10);
    cr_assert_gt(grace * 1000, conf->timeouts.drain_delay_ms + conf->timeouts.drain_ms,
                 "terminationGracePeriodSeconds %lds is not above drain_delay + drain", grace);
    snprintf(path, sizeof(path), "%s.args.2", c0);
    cr_assert_str_eq(text_at(d, path), "/etc/drover/drover.yaml");
    snprintf(path, sizeof(path), "%s.volumeMounts.0.mountPath", c0);
    cr_assert_str_eq(text_at(d, path), "/etc/drover");
    conf_free(conf);
    free_docs(&dep);
    free_docs(&cm);
}

Test(manifests, a_headless_service_for_the_deployment_s_pods)
{
    const char *label = "app.kubernetes.io/name", *want;
    struct docs svc, dep;
    yaml_document_t *s, *d;

    load_docs("service.yaml", &svc);
    load_docs("deployment.yaml", &dep);
    s = kind(&svc, "Service");
    d = kind(&dep, "Deployment");
    cr_assert_str_eq(text_at(s, "spec.clusterIP"), "None", "headless");
    want = scalar(step(d, at(d, yaml_document_get_root_node(d), "spec.template.metadata.labels"), label));
    cr_assert_str_not_empty(want);
    cr_assert_str_eq(scalar(step(s, at(s, yaml_document_get_root_node(s), "spec.selector"), label)), want,
                     "the Service selects the Deployment's pods");
    cr_assert_str_eq(text_at(s, "spec.ports.0.targetPort"), "http");
    free_docs(&svc);
    free_docs(&dep);
}

/* ---- systemd and the Dockerfile: line-based files ---- */

/* The value of the first "key=value" line (no spaces around '='), or NULL. */
static const char *ini_value(const char *text, const char *key, char *buf, size_t len)
{
    size_t klen = strlen(key);

    for (const char *p = text; *p != '\0'; p += strcspn(p, "\n"), p += *p == '\n') {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            snprintf(buf, len, "%.*s", (int)strcspn(p + klen + 1, "\n"), p + klen + 1);
            return buf;
        }
    }
    return NULL;
}

Test(manifests, the_systemd_units_fit_their_config)
{
    char *service = slurp("examples/systemd/drover.service"), *socket = slurp("examples/systemd/drover.socket");
    char *yaml = slurp("examples/systemd/drover.yaml"), v[256];
    struct conf *conf = load_config(yaml);

    cr_assert_str_eq(ini_value(service, "Type", v, sizeof(v)), "notify");
    cr_assert_str_eq(ini_value(service, "ExecReload", v, sizeof(v)), "/bin/kill -HUP $MAINPID");
    cr_assert_str_eq(ini_value(service, "KillMode", v, sizeof(v)), "mixed");
    cr_assert_not_null(ini_value(service, "TimeoutStopSec", v, sizeof(v)));
    cr_assert_gt(strtol(v, NULL, 10) * 1000, conf->timeouts.drain_delay_ms + conf->timeouts.drain_ms,
                 "TimeoutStopSec=%s is not above drain_delay + drain", v);
    cr_assert(conf->listen[0].systemd);
    cr_assert_str_eq(ini_value(socket, "FileDescriptorName", v, sizeof(v)), conf_addr_fdname(&conf->listen[0]));
    cr_assert_not_null(ini_value(socket, "ListenStream", v, sizeof(v)));
    conf_free(conf);
    free(service);
    free(socket);
    free(yaml);
}

Test(manifests, the_dockerfile_is_multi_stage_debian_12_non_root_drover)
{
    char *text = slurp("Dockerfile"), *user = NULL, *entry = NULL;
    int from = 0;

    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strncmp(line, "FROM ", 5) == 0) {
            cr_assert(strncmp(line + 5, "debian:12", 9) == 0, "%s", line);
            from++;
            user = NULL; /* a new stage */
        } else if (strncmp(line, "USER ", 5) == 0) {
            user = line + 5;
        } else if (strncmp(line, "ENTRYPOINT ", 11) == 0) {
            entry = line + 11;
        }
    }
    cr_assert_geq(from, 2, "multi-stage");
    cr_assert_not_null(user, "the image runs as a user of its own");
    cr_assert(strncmp(user, "0", 1) != 0 && strncmp(user, "root", 4) != 0, "USER %s", user);
    cr_assert_not_null(entry);
    cr_assert_str_eq(entry, "[\"drover\"]");
    free(text);
}
