/* conf/internal.h: what the files of conf/ share with each other and with
 * nothing else. The rest of drover sees config.h and formation.h only.
 *
 * How drover.yaml is read: load.c reads the file and hands its one YAML
 * document to sections.c, which walks the top level and gives each section
 * to its reader (sections.c, processes.c, routes.c). A section checks its
 * keys with schema.c, then reads each value with values.c, which turns
 * text into numbers, durations, sizes (units.c), addresses (addr.c) and
 * paths, after ${VAR} expansion (expand.c). A bad value is recorded
 * (schema_fail) and the walk goes on, so one run reports every mistake.
 *
 * How a formation is read: formation.c picks the file, procfile.c or
 * app_desc.c (with app_desc_procs.c for a module's processes) parses it,
 * stopping at the first mistake: a formation is a handful of lines.
 * dotenv.c reads .env files, and plan.c combines all of it with
 * drover.yaml and -m; print.c prints both for `drover check`. */
#ifndef DROVER_CONF_INTERNAL_H
#define DROVER_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "conf/config.h"
#include "conf/formation.h"

struct arena;

#define CONF_MAX_FILE_BYTES (4u << 20) /* drover.yaml, a Procfile, app_desc.yaml, .env */
#define CONF_REASON_MAX 256            /* a value parser's one-phrase reason */

/* ---- Character classes: ASCII only, whatever the locale --------------- */

static inline bool conf_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline bool conf_is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool conf_is_alnum(int c)
{
    return conf_is_alpha(c) || conf_is_digit(c);
}

static inline bool conf_is_blank(int c)
{
    return c == ' ' || c == '\t';
}

static inline int conf_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* S is one or more characters, each of them IS. */
static inline bool conf_all_of(const char *s, bool (*is)(int))
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!is(*s))
            return false;
    return true;
}

static inline bool conf_all_digits(const char *s)
{
    return conf_all_of(s, conf_is_digit);
}

/* Process type names, alike in drover.yaml, a Procfile and -m:
 * [A-Za-z0-9_-]+. */
static inline bool conf_type_char(int c)
{
    return conf_is_alnum(c) || c == '_' || c == '-';
}

static inline bool conf_type_name_ok(const char *s)
{
    return conf_all_of(s, conf_type_char);
}

/* Variable names in a .env file and in app_desc.yaml, S[0..N):
 * [A-Za-z_][A-Za-z0-9_]*. */
static inline bool conf_env_name_ok(const char *s, size_t n)
{
    if (n == 0 || conf_is_digit(s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!conf_is_alnum(s[i]) && s[i] != '_')
            return false;
    return true;
}

/* ---- units.c ---------------------------------------------------------- */

/* Thousandths of a CPU as conf_parse_cpus() reads them: "0.5", "2". */
const char *conf_format_cpus(unsigned milli, char *buf, size_t len);

/* ---- addr.c ----------------------------------------------------------- */

/* A unix socket, or an IPv4 or IPv6 loopback address. */
bool conf_addr_is_loopback(const struct conf_addr *a);

/* ---- schema.c: the loader, its errors and the keys of a mapping -------- */

#define CONF_MAX_ERRORS 20

struct conf_error {
    int line, col;              /* 1-based; 0 when the error has no position */
    int seq;                    /* the order it was found in, for ties */
    char msg[480];
};

/* One drover.yaml being loaded. */
struct loader {
    const char *file;           /* as given, the prefix of every message */
    struct arena *arena;        /* the conf's */
    struct conf *conf;
    yaml_document_t *doc;
    struct conf_error errs[CONF_MAX_ERRORS];
    int nerr;
    int ndropped;               /* errors past CONF_MAX_ERRORS, counted only */
};

/* Records an error at LINE:COL (0:0 for none); past CONF_MAX_ERRORS it is
 * only counted. */
__attribute__((format(printf, 4, 5)))
void schema_fail_at(struct loader *ld, int line, int col, const char *fmt, ...);

/* An error at where NODE starts. */
#define schema_fail(ld, node, ...) \
    schema_fail_at((ld), (int)(node)->start_mark.line + 1, (int)(node)->start_mark.column + 1, __VA_ARGS__)

void schema_oom(struct loader *ld);

/* Every error, in file order, one "file:line:col: message" per line (no
 * trailing newline), into ERR. */
void schema_write_errors(struct loader *ld, char *err, size_t errlen);

yaml_node_t *schema_node(struct loader *ld, int index);

/* Whether N is of KIND; if not, reports "PATH: expected WHAT, got ...".
 * PATH says where a value sits, for messages ("processes.web.ready");
 * NULL is the top level. */
bool schema_expect(struct loader *ld, const yaml_node_t *n, yaml_node_type_t kind, const char *path,
                   const char *what);

/* The key of PAIR in mapping MAP, or NULL after reporting a key that is not
 * a plain string or that an earlier pair already used. */
const char *schema_pair_key(struct loader *ld, const yaml_node_t *map, const yaml_node_pair_t *pair,
                            const char *path);

/* Checks that MAP is a mapping whose keys are all among NAMES, each at most
 * once (an unknown one is reported with "did you mean"), and sets vals[i]
 * to the value of NAMES[i] (NULL when absent or null). A null MAP ("admin:"
 * alone) is an empty mapping. Returns false when MAP is not a mapping. */
bool schema_keys(struct loader *ld, const yaml_node_t *map, const char *path, const char *const *names, size_t n,
                 yaml_node_t **vals);

/* N, a mapping (KIND YAML_MAPPING_NODE) or a list (YAML_SEQUENCE_NODE),
 * as a zeroed array in the arena with room for one SIZE-byte item per
 * entry, their number in *COUNT. NULL when N is NULL or has no entries,
 * and when it is not of KIND ("PATH: expected WHAT, got ...") or memory
 * runs out, both reported. */
void *schema_array(struct loader *ld, const yaml_node_t *n, yaml_node_type_t kind, const char *path,
                   const char *what, size_t size, size_t *count);

/* ---- values.c: value readers ------------------------------------------ */
/* Each reports its own errors and returns false (or NULL) on one, leaving
 * *out as it was: the default. The value_set_* ones do nothing for a NULL
 * node (a key not written). */

/* N's text after ${VAR} expansion, in the arena; NULL after an error.
 * WHAT names the expected value for a list or mapping in its place. */
char *value_text(struct loader *ld, const yaml_node_t *n, const char *path, const char *what);

/* S (the expanded text of N) as an integer in MIN..MAX. */
bool value_int_from_text(struct loader *ld, const yaml_node_t *n, const char *s, const char *path, long long min,
                         long long max, long long *out);

void value_set_int(struct loader *ld, const yaml_node_t *n, const char *path, long long min, long long max,
                   int *out);
void value_set_uint(struct loader *ld, const yaml_node_t *n, const char *path, long long min, unsigned *out);

/* A duration; ZERO_OK where 0 means "at once" rather than nonsense. True
 * when N is NULL or was read. */
bool value_set_duration(struct loader *ld, const yaml_node_t *n, const char *path, bool zero_ok, int64_t *out);

void value_set_size(struct loader *ld, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
                    uint64_t *out);

/* true/yes/on or false/no/off, any case: 0, or -1 for another word. The
 * one rule for booleans in drover.yaml and app_desc.yaml. */
int value_bool_word(const char *s, bool *out);

void value_set_bool(struct loader *ld, const yaml_node_t *n, const char *path, bool *out);

/* One of NAMES (exact), its index in *OUT. */
bool value_enum(struct loader *ld, const yaml_node_t *n, const char *path, const char *const *names, size_t count,
                int *out);

void value_set_balance(struct loader *ld, const yaml_node_t *n, const char *path, enum balance_kind *out);

/* S, a path relative to the config dir, made absolute into *OUT. EMPTY_OK:
 * "" (e.g. an unset ${VAR}) means unset and leaves *OUT alone. */
void value_file_from_text(struct loader *ld, const yaml_node_t *n, const char *s, const char *path, bool empty_ok,
                          char **out);
void value_set_file(struct loader *ld, const yaml_node_t *n, const char *path, bool empty_ok, char **out);

/* An HTTP path for probes: "" is unset (NULL), else it must start with '/'. */
void value_set_http_path(struct loader *ld, const yaml_node_t *n, const char *path, char **out);

/* S as an address. IN_LISTEN accepts a bare port ("8080" = 0.0.0.0:8080);
 * a relative unix: path starts at the config dir. */
bool value_addr_from_text(struct loader *ld, const yaml_node_t *n, const char *s, const char *path,
                          bool in_listen, struct conf_addr *out);

/* A single address or a list of them (at least one, none twice) into a new
 * array. */
/* ---- dns.c ------------------------------------------------------------- */

/* "dns:NAME:PORT" or "srv:NAME" (text s, at node n) appended to r->dns. */
bool dns_entry_load(struct loader *ld, const yaml_node_t *n, const char *s, const char *path,
                    struct conf_route *r);
void resolver_load(struct loader *ld, const yaml_node_t *n);

/* dns_into: where "dns:"/"srv:" entries go (a route's backends); NULL where
 * they are not allowed. */
bool value_addr_list(struct loader *ld, const yaml_node_t *n, const char *path, bool in_listen,
                     struct conf_addr **out, size_t *count, struct conf_route *dns_into);

/* ---- listen.c ---------------------------------------------------------- */

/* A listen entry written as a map ({address, proxy_protocol,
 * proxy_trusted}) into out, errors reported. */
bool listen_entry_load(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_addr *out);

/* ---- tls.c ------------------------------------------------------------- */

/* A listen entry's tls: map ({certificates, protocols}) into o->tls, every
 * certificate loaded and checked (errors name the file; an expired one is
 * a warning in conf->warnings). */
bool tls_entry_load(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_listen_opts *o);
/* Frees the contexts of every certificate the conf loaded. */
void tls_conf_free(struct conf *conf);

/* ---- The sections ----------------------------------------------------- */

/* sections.c: the top-level mapping ROOT, every section in turn. */
void sections_load(struct loader *ld, const yaml_node_t *root);

/* processes.c: processes.<type>, and the settings of a type not written. */
void processes_load(struct loader *ld, const yaml_node_t *n);
void processes_defaults(struct conf_process *p);

/* routes.c: routes[], after the top-level balance (routes inherit it). */
void routes_load(struct loader *ld, const yaml_node_t *n);

/* ---- formation.c: what the formation parsers share -------------------- */

#define FORMATION_MAX_TYPE_NAME 63  /* what fits in struct scale_entry.name */
#define FORMATION_MAX_COUNT 1000    /* instances of one type, from replicas or -m */

/* Formats the message into ERR (when there is one). Always returns -1. */
__attribute__((format(printf, 3, 4)))
int formation_error(char *err, size_t errlen, const char *fmt, ...);

/* The whole of PATH in *TEXT (malloc'd, NUL-terminated, *LEN bytes), or -1
 * with "PATH: reason" in ERR. */
int formation_read(const char *path, char **text, size_t *len, char *err, size_t errlen);

/* At most 60 bytes of S[0..N) for a message, cut on a UTF-8 boundary, with
 * "..." when cut. Returns BUF. */
const char *formation_shorten(const char *s, size_t n, char *buf, size_t len);

/* PATH made absolute (from the current directory) in A, or as given when
 * that cannot be done. NULL when out of memory. */
char *formation_absolute(struct arena *a, const char *path);

/* The directory a formation file's types run in, in A: DIR when given,
 * else the directory of ABS_FILE. NULL when out of memory. */
char *formation_types_dir(struct arena *a, const char *dir, const char *abs_file);

/* Sets KEY to VALUE in ENV, which has room for one more: replaced where it
 * first stood, else appended. The one rule for a later duplicate, in
 * app_desc.yaml env lists, .env files and the plan's merge. */
void formation_env_set(struct conf_kv *env, size_t *n, char *key, char *value);

/* A line-based file (a Procfile, a .env) walked a meaningful line at a
 * time. */
struct formation_lines {
    const char *p, *end;
    int lineno;                 /* of the line last returned, 1-based */
};

/* Starts at TEXT (LEN bytes), past a UTF-8 byte order mark (from a Windows
 * editor). Returns how many lines TEXT has, a bound for what they hold. */
size_t formation_lines_start(struct formation_lines *it, const char *text, size_t len);

/* The next line that is neither blank nor a comment ('#' first), without
 * its line end (LF or CRLF) and surrounding blanks, in [*S, *E). 1, 0 at
 * the end, or -1 with a reason in REASON for a line over 64 KiB or one
 * holding a NUL byte. */
int formation_lines_next(struct formation_lines *it, const char **s, const char **e, char *reason, size_t rlen);

/* ---- app_desc.c and app_desc_procs.c: one app_desc.yaml being read ---- */

/* A type found while parsing, before the list moves into the arena. */
struct desc_type {
    struct formation_type t;
    int col;
};

struct desc_module {
    const char *name;           /* NULL for the single "module" */
    char path[96];              /* for messages: "module", "modules.api", "modules[1]" */
    yaml_node_t *node;          /* its mapping */
    yaml_node_t *at;            /* where to point at it */
    bool is_default;
};

struct desc {
    const char *path;           /* the file, as given */
    const char *dir;            /* absolute app dir */
    int version;                /* 2 or 3 */
    struct arena *a;            /* the formation's */
    yaml_document_t *doc;
    char *err;
    size_t errlen;
    bool failed;
    struct desc_type *types;    /* malloc'd while parsing */
    size_t ntypes, cap;
};

/* Records the error at LINE:COL (0: no position) unless one was recorded
 * already: the first error wins. Always returns false. */
__attribute__((format(printf, 4, 5)))
bool desc_fail_at(struct desc *d, int line, int col, const char *fmt, ...);

/* Where node N starts (1-based); 0 for no node. */
static inline int desc_line(const yaml_node_t *n)
{
    return n != NULL ? (int)n->start_mark.line + 1 : 0;
}

static inline int desc_col(const yaml_node_t *n)
{
    return n != NULL ? (int)n->start_mark.column + 1 : 0;
}

/* An error at node N (NULL: no position). */
#define desc_fail(d, n, ...) desc_fail_at((d), desc_line(n), desc_col(n), __VA_ARGS__)

bool desc_oom(struct desc *d);
yaml_node_t *desc_node(struct desc *d, int index);

/* Whether N is of KIND; if not, the error "PATH: expected WHAT, got ...". */
bool desc_expect(struct desc *d, const yaml_node_t *n, yaml_node_type_t kind, const char *path, const char *what);

/* The value of KEY in mapping MAP into *OUT (NULL when absent or null);
 * *KEYNODE (when not NULL) gets the key's node. Only the keys drover reads
 * are looked up, so only they are checked for duplicates. */
bool desc_map_get(struct desc *d, const yaml_node_t *map, const char *key, yaml_node_t **out,
                  yaml_node_t **keynode);

/* A scalar as text in the arena (numbers and booleans as written). */
bool desc_str(struct desc *d, const yaml_node_t *n, const char *path, char **out);

/* The platform's rule for module and process type names:
 * ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ */
bool desc_platform_name(const char *s);

/* app_desc_procs.c: module M's processes PROCS as types that run in DIR
 * with the module's ENV. */
bool desc_processes(struct desc *d, const struct desc_module *m, const yaml_node_t *procs, char *dir,
                    struct conf_kv *env, size_t nenv);

#endif
