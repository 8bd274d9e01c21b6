/* conf/config.c: drover.yaml → struct conf, every mistake reported as
 * "file:line:col: message".
 *
 * The file is loaded whole with libyaml's document API, then walked section
 * by section. A section first collects its keys (reporting unknown and
 * duplicate ones), then reads each value; a bad value records an error and
 * the walk goes on, so one run reports every mistake. Errors are sorted by
 * position before they are printed. Everything the conf points to lives in
 * one arena, freed by conf_free(). */
#include "conf/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/arena.h"
#include "lib/path.h"
#include "lib/yamlnode.h"
#include "lib/readfile.h"
#include "lib/sbuf.h"
#include "lib/suggest.h"

#define MAX_ERRORS 20
#define MAX_FILE_BYTES (4u << 20)
#define ENV_MAX_DEPTH 8
#define REASON_MAX 256

/* ------------------------------------------------------------------ */
/* Small string helpers                                                */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!is_digit(*s))
            return false;
    return true;
}

/* Process type names, as in the Procfile: [A-Za-z0-9_-]+. */
static bool valid_type_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!is_alpha(*s) && !is_digit(*s) && *s != '_' && *s != '-')
            return false;
    return true;
}

/* ------------------------------------------------------------------ */
/* ${VAR} expansion                                                    */

static bool var_start(int c)
{
    return c == '_' || is_alpha(c);
}

static bool var_char(int c)
{
    return var_start(c) || is_digit(c);
}

/* expand() hit the end of the string inside "${NAME:-...": the caller, which
 * knows where that "${" started, writes the message. */
#define EXPAND_UNCLOSED (-2)

static int expand(const char **pp, int depth, struct sbuf *out, char *err, size_t errlen);

static int unclosed(const char *start, char *err, size_t errlen)
{
    snprintf(err, errlen, "unclosed \"${\" in \"%.40s\"; write ${NAME} or ${NAME:-default}", start);
    return -1;
}

/* One "${...}" at *PP; on success *PP is just past its '}'. */
static int expand_var(const char **pp, int depth, struct sbuf *out, char *err, size_t errlen)
{
    const char *start = *pp, *name = start + 2, *p = name, *val;
    char key[256];
    size_t n;

    while (var_char(*p))
        p++;
    n = (size_t)(p - name);
    if (*p == '\0')
        return unclosed(start, err, errlen);
    if (n == 0 || !var_start(*name) || n >= sizeof(key) ||
        (*p != '}' && *p != '-' && !(p[0] == ':' && p[1] == '-'))) {
        const char *close = strchr(p, '}');
        int shown = close != NULL ? (int)(close - start + 1) : 40;

        snprintf(err, errlen, "bad variable reference \"%.*s\"; write ${NAME} or ${NAME:-default}",
                 shown > 60 ? 60 : shown, start);
        return -1;
    }
    memcpy(key, name, n);
    key[n] = '\0';
    val = getenv(key);
    if (*p == '}') {
        if (val != NULL)
            sbuf_put(out, val, strlen(val));
        *pp = p + 1;
        return 0;
    }

    /* ${NAME:-default} (unset or empty) or ${NAME-default} (unset only), as
     * in the shell; the default may itself hold ${...}. */
    {
        bool colon = *p == ':';
        struct sbuf def = {0};
        int rc;

        if (depth >= ENV_MAX_DEPTH) {
            snprintf(err, errlen, "\"${\" nested more than %d deep", ENV_MAX_DEPTH);
            return -1;
        }
        p += colon ? 2 : 1;
        rc = expand(&p, depth + 1, &def, err, errlen);
        if (rc == EXPAND_UNCLOSED)
            rc = unclosed(start, err, errlen);
        if (rc == 0) {
            if (val == NULL || (colon && *val == '\0'))
                sbuf_put(out, def.data != NULL ? def.data : "", def.len);
            else
                sbuf_put(out, val, strlen(val));
            if (def.oom)
                out->oom = true;
            *pp = p + 1;
        }
        free(def.data);
        return rc;
    }
}

/* Expands *PP into OUT up to the end of the string or, when DEPTH > 0, up to
 * the '}' closing the enclosing default (left for the caller). A '$' not
 * followed by '$' or '{' stays as it is, so "$PORT" reaches the shell. */
static int expand(const char **pp, int depth, struct sbuf *out, char *err, size_t errlen)
{
    const char *p = *pp;

    for (;;) {
        size_t span = strcspn(p, depth > 0 ? "$}" : "$");

        sbuf_put(out, p, span);
        p += span;
        if (*p == '\0')
            return depth > 0 ? EXPAND_UNCLOSED : 0;
        if (*p == '}')
            break;
        if (p[1] == '$') {
            sbuf_put(out, "$", 1);
            p += 2;
        } else if (p[1] == '{') {
            int rc = expand_var(&p, depth, out, err, errlen);

            if (rc < 0)
                return rc;
        } else {
            sbuf_put(out, "$", 1);
            p++;
        }
    }
    *pp = p;
    return 0;
}

char *conf_expand_env(const char *s, char *err, size_t errlen)
{
    struct sbuf out = {0};
    const char *p = s;

    if (expand(&p, 0, &out, err, errlen) < 0) {
        free(out.data);
        return NULL;
    }
    sbuf_put(&out, "", 0); /* "" still needs its own allocation */
    if (out.oom) {
        free(out.data);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return out.data;
}

/* ------------------------------------------------------------------ */
/* Durations and sizes                                                 */

/* "12", "1.5" or ".5" at *PP: the integer part, then at most MAXFRAC
 * fraction digits (further digits are read and ignored). Returns 0, -1 when
 * there is no number, -2 when the integer part overflows. */
static int parse_decimal(const char **pp, int maxfrac, uint64_t *ip, uint64_t *frac, uint64_t *scale)
{
    const char *p = *pp;

    *ip = 0;
    *frac = 0;
    *scale = 1;
    if (!is_digit(*p) && !(*p == '.' && is_digit(p[1])))
        return -1;
    for (; is_digit(*p); p++) {
        uint64_t digit = (uint64_t)(*p - '0');

        if (*ip > (UINT64_MAX - digit) / 10)
            return -2;
        *ip = *ip * 10 + digit;
    }
    if (*p == '.' && is_digit(p[1])) {
        int nfrac = 0;

        for (p++; is_digit(*p); p++) {
            if (nfrac++ < maxfrac) {
                *frac = *frac * 10 + (uint64_t)(*p - '0');
                *scale *= 10;
            }
        }
    }
    *pp = p;
    return 0;
}

/* S without surrounding blanks, copied into BUF; false when it does not fit. */
static bool trimmed(const char *s, char *buf, size_t len)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= len)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

/* "250ms", "10s", "2m", "1h", decimals ("1.5s") and sums ("1m30s"), rounded
 * to the millisecond. */
int conf_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        uint64_t us;
    } units[] = {{"ms", 1000}, {"s", 1000000}, {"m", 60000000}, {"h", 3600000000u}};
    char t[96];
    const char *p = t;
    uint64_t total = 0;

    if (!trimmed(s, t, sizeof(t))) {
        snprintf(err, errlen, "\"%.40s...\" is not a duration; write e.g. 250ms, 10s, 2m or 1h", s);
        return -1;
    }
    if (t[0] == '\0') {
        snprintf(err, errlen, "empty duration; write e.g. 250ms, 10s, 2m or 1h");
        return -1;
    }
    if (t[0] == '-') {
        snprintf(err, errlen, "\"%s\" is negative; durations are 0 or more", t);
        return -1;
    }
    do {
        uint64_t ip, frac, scale, us = 0, v;
        const char *u;
        size_t ulen;
        int rc = parse_decimal(&p, 9, &ip, &frac, &scale);

        if (rc == -2)
            goto too_large;
        if (rc < 0)
            goto not_duration;
        while (*p == ' ')
            p++;
        for (u = p; is_alpha(*p); p++)
            ;
        ulen = (size_t)(p - u);
        if (ulen == 0) {
            if (*p != '\0')
                goto not_duration;
            if (total == 0 && ip == 0 && frac == 0)
                break; /* a bare 0 needs no unit */
            snprintf(err, errlen, "missing unit in \"%s\"; add a unit: %ss", t, t);
            return -1;
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strlen(units[i].name) == ulen && strncasecmp(u, units[i].name, ulen) == 0)
                us = units[i].us;
        if (us == 0) {
            snprintf(err, errlen, "unknown unit \"%.*s\" in \"%s\"; use ms, s, m or h", (int)ulen, u, t);
            return -1;
        }
        if (ip > (uint64_t)INT64_MAX / us)
            goto too_large;
        v = ip * us + frac * us / scale; /* frac < 1e9 and us < 4e9: no overflow */
        if (v > (uint64_t)INT64_MAX - total)
            goto too_large;
        total += v;
        while (*p == ' ')
            p++;
    } while (*p != '\0');
    if (total > 0 && total < 500) {
        snprintf(err, errlen, "\"%s\" is below the 1ms resolution", t);
        return -1;
    }
    *ms = (int64_t)((total + 500) / 1000);
    return 0;

not_duration:
    snprintf(err, errlen, "\"%s\" is not a duration; write e.g. 250ms, 10s, 2m or 1h", t);
    return -1;
too_large:
    snprintf(err, errlen, "duration \"%s\" is too large", t);
    return -1;
}

/* "16k", "10M", "1G", "512" (bytes); 1024-based; units are
 * case-insensitive and may end in "b" or "ib" ("16kb", "10MiB"). */
int conf_parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen)
{
    static const char letters[] = "kmgt";
    char t[96], unit[8];
    const char *p = t, *u;
    uint64_t ip, frac, scale, mult = 1;
    size_t ulen;
    int rc;

    if (!trimmed(s, t, sizeof(t))) {
        snprintf(err, errlen, "\"%.40s...\" is not a size; write e.g. 16k, 10M or 1G", s);
        return -1;
    }
    if (t[0] == '\0') {
        snprintf(err, errlen, "empty size; write e.g. 16k, 10M or 1G");
        return -1;
    }
    if (t[0] == '-') {
        snprintf(err, errlen, "\"%s\" is negative; sizes are 0 or more", t);
        return -1;
    }
    rc = parse_decimal(&p, 6, &ip, &frac, &scale);
    if (rc == -2)
        goto too_large;
    if (rc < 0)
        goto not_size;
    while (*p == ' ')
        p++;
    for (u = p; is_alpha(*p); p++)
        ;
    ulen = (size_t)(p - u);
    if (*p != '\0')
        goto not_size;
    if (ulen >= sizeof(unit))
        goto bad_unit;
    for (size_t i = 0; i < ulen; i++)
        unit[i] = (char)lower(u[i]);
    unit[ulen] = '\0';
    if (ulen > 0 && strcmp(unit, "b") != 0) {
        const char *l = strchr(letters, unit[0]);
        const char *rest = unit + 1;

        if (l == NULL ||
            (strcmp(rest, "") != 0 && strcmp(rest, "b") != 0 && strcmp(rest, "i") != 0 && strcmp(rest, "ib") != 0))
            goto bad_unit;
        mult = (uint64_t)1 << (10 * (l - letters + 1));
    }
    if (mult == 1 && frac != 0) {
        snprintf(err, errlen, "\"%s\" is not a whole number of bytes", t);
        return -1;
    }
    if (ip > UINT64_MAX / mult)
        goto too_large;
    /* frac < 1e6 and mult <= 2^40: the product fits. */
    if (ip * mult > UINT64_MAX - frac * mult / scale)
        goto too_large;
    *bytes = ip * mult + frac * mult / scale;
    return 0;

bad_unit:
    snprintf(err, errlen, "unknown unit \"%.*s\" in \"%s\"; use k, M or G (1024-based), or none for bytes",
             (int)ulen, u, t);
    return -1;
not_size:
    snprintf(err, errlen, "\"%s\" is not a size; write e.g. 16k, 10M or 1G", t);
    return -1;
too_large:
    snprintf(err, errlen, "size \"%s\" is too large", t);
    return -1;
}

const char *conf_format_duration(int64_t ms, char *buf, size_t len)
{
    const char *sign = ms < 0 ? "-" : "";
    uint64_t v = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;

    if (v == 0)
        snprintf(buf, len, "0s");
    else if (v % 3600000 == 0)
        snprintf(buf, len, "%s%lluh", sign, (unsigned long long)(v / 3600000));
    else if (v % 60000 == 0)
        snprintf(buf, len, "%s%llum", sign, (unsigned long long)(v / 60000));
    else if (v % 1000 == 0)
        snprintf(buf, len, "%s%llus", sign, (unsigned long long)(v / 1000));
    else if (v > 1000) {
        /* "1.5s" reads better than "1500ms" and parses back the same. */
        char frac[4];
        int n = 3;

        snprintf(frac, sizeof(frac), "%03llu", (unsigned long long)(v % 1000));
        while (frac[n - 1] == '0')
            n--;
        snprintf(buf, len, "%s%llu.%.*ss", sign, (unsigned long long)(v / 1000), n, frac);
    } else
        snprintf(buf, len, "%s%llums", sign, (unsigned long long)v);
    return buf;
}

/* The way a config writes a size: "16k", "10M", "1G", else bytes. */
static const char *format_size(uint64_t v, char *buf, size_t len)
{
    static const char units[] = "kMGT";
    int i = -1;

    while (v != 0 && i < 3 && v % 1024 == 0) {
        v /= 1024;
        i++;
    }
    if (i < 0)
        snprintf(buf, len, "%llu", (unsigned long long)v);
    else
        snprintf(buf, len, "%llu%c", (unsigned long long)v, units[i]);
    return buf;
}

const char *conf_balance_name(enum balance_kind kind)
{
    switch (kind) {
    case BALANCE_ROUND_ROBIN:
        return "round_robin";
    case BALANCE_LEAST_CONN:
        return "least_conn";
    case BALANCE_RANDOM2:
        return "random2";
    }
    return "?";
}

/* ------------------------------------------------------------------ */
/* Paths and addresses                                                 */

_Static_assert(sizeof(((struct conf_addr *)0)->text) >= 5 + sizeof(((struct sockaddr_un *)0)->sun_path),
               "conf_addr.text holds \"unix:\" and any sun_path");

static int parse_unix(const char *path, struct conf_addr *addr, char *err, size_t errlen)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&addr->ss;
    char abs[PATH_MAX];
    size_t n;

    if (*path == '\0') {
        snprintf(err, errlen, "empty unix socket path; write unix:/path/to.sock");
        return -1;
    }
    if (path_abs(NULL, path, abs, sizeof(abs)) < 0) {
        snprintf(err, errlen, "unix socket path too long");
        return -1;
    }
    n = strlen(abs);
    if (n >= sizeof(sun->sun_path)) {
        snprintf(err, errlen, "unix socket path too long: %zu bytes, at most %zu", n, sizeof(sun->sun_path) - 1);
        return -1;
    }
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, abs, n + 1);
    addr->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    addr->port = 0;
    memcpy(addr->text, "unix:", 5);
    memcpy(addr->text + 5, abs, n + 1); /* n < sizeof(sun_path): fits in text */
    return 0;
}

/* HOST (numeric, or a name looked up now: first IPv4 result, else first
 * IPv6) with PORT into ADDR. */
static int resolve(const char *host, bool v6, int port, struct conf_addr *addr, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL, *pick = NULL;
    char num[NI_MAXHOST];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = v6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_flags = v6 ? AI_NUMERICHOST : 0;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        if (v6)
            snprintf(err, errlen, "bad IPv6 address \"%s\"", host);
        else
            snprintf(err, errlen, "cannot resolve \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
        if (pick == NULL && ai->ai_family == AF_INET6)
            pick = ai;
    }
    if (pick == NULL || pick->ai_addrlen > sizeof(addr->ss)) {
        freeaddrinfo(res);
        snprintf(err, errlen, "no IPv4 or IPv6 address for \"%s\"", host);
        return -1;
    }
    memcpy(&addr->ss, pick->ai_addr, pick->ai_addrlen);
    addr->len = pick->ai_addrlen;
    freeaddrinfo(res);
    if (addr->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&addr->ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)&addr->ss)->sin6_port = htons((uint16_t)port);
    addr->port = port;
    if (getnameinfo((struct sockaddr *)&addr->ss, addr->len, num, sizeof(num), NULL, 0, NI_NUMERICHOST) != 0) {
        snprintf(err, errlen, "cannot format the address of \"%s\"", host);
        return -1;
    }
    if (addr->ss.ss_family == AF_INET6)
        snprintf(addr->text, sizeof(addr->text), "[%.64s]:%d", num, port);
    else
        snprintf(addr->text, sizeof(addr->text), "%.64s:%d", num, port);
    return 0;
}

/* Fills ADDR (fully zeroed first) from S; see conf_parse_addr(). */
static int parse_addr(const char *s, struct conf_addr *addr, char *err, size_t errlen)
{
    char host[256];
    const char *port, *hend;
    const char *hstart = s;
    bool v6 = false;
    long pnum;

    memset(addr, 0, sizeof(*addr));
    if (strncmp(s, "unix:", 5) == 0)
        return parse_unix(s + 5, addr, err, errlen);
    if (*s == '\0') {
        snprintf(err, errlen, "empty address; write host:port, [v6]:port or unix:/path");
        return -1;
    }
    if (s[0] == '[') {
        hend = strchr(s, ']');
        if (hend == NULL) {
            snprintf(err, errlen, "missing \"]\" in \"%s\"", s);
            return -1;
        }
        if (hend[1] != ':') {
            snprintf(err, errlen, "missing port in \"%s\"; write [v6]:port", s);
            return -1;
        }
        hstart = s + 1;
        port = hend + 2;
        v6 = true;
    } else {
        hend = strrchr(s, ':');
        if (hend == NULL) {
            snprintf(err, errlen, "missing port in \"%s\"; write host:port", s);
            return -1;
        }
        if (memchr(s, ':', (size_t)(hend - s)) != NULL) {
            snprintf(err, errlen, "IPv6 addresses need brackets: \"[%.*s]:%s\"", (int)(hend - s), s, hend + 1);
            return -1;
        }
        port = hend + 1;
    }
    if ((size_t)(hend - hstart) >= sizeof(host)) {
        snprintf(err, errlen, "host name too long in \"%.40s...\"", s);
        return -1;
    }
    memcpy(host, hstart, (size_t)(hend - hstart));
    host[hend - hstart] = '\0';
    if (!all_digits(port) || strlen(port) > 5 || (pnum = strtol(port, NULL, 10)) < 1 || pnum > 65535) {
        snprintf(err, errlen, "bad port \"%s\" in \"%s\"; ports are 1 to 65535", port, s);
        return -1;
    }
    if (!v6 && (host[0] == '\0' || strcmp(host, "*") == 0))
        strcpy(host, "0.0.0.0");
    if (v6 && host[0] == '\0') {
        snprintf(err, errlen, "empty IPv6 address in \"%s\"", s);
        return -1;
    }
    for (const char *h = host; !v6 && *h != '\0'; h++) {
        if (!is_alpha(*h) && !is_digit(*h) && *h != '.' && *h != '-' && *h != '_') {
            snprintf(err, errlen, "bad host name \"%s\" in \"%s\"", host, s);
            return -1;
        }
    }
    return resolve(host, v6, (int)pnum, addr, err, errlen);
}

/* ADDR is only written on success: a failed override (-p) keeps the old one. */
int conf_parse_addr(const char *s, struct conf_addr *addr, char *err, size_t errlen)
{
    struct conf_addr tmp;

    if (parse_addr(s, &tmp, err, errlen) < 0)
        return -1;
    *addr = tmp;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The loader: errors and YAML node helpers                            */

struct conf_error {
    int line, col; /* 1-based; 0 when the error has no position */
    int seq;
    char msg[480];
};

struct loader {
    const char *file;
    struct arena *arena;
    struct conf *conf;
    yaml_document_t *doc;
    struct conf_error errs[MAX_ERRORS];
    int nerr;
    int ndropped;
};

__attribute__((format(printf, 4, 5)))
static void fail_at(struct loader *ld, int line, int col, const char *fmt, ...)
{
    struct conf_error *e;
    va_list ap;

    if (ld->nerr == MAX_ERRORS) {
        ld->ndropped++;
        return;
    }
    e = &ld->errs[ld->nerr];
    e->line = line;
    e->col = col;
    e->seq = ld->nerr++;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

#define fail(ld, node, ...) \
    fail_at((ld), (int)(node)->start_mark.line + 1, (int)(node)->start_mark.column + 1, __VA_ARGS__)

static void oom(struct loader *ld)
{
    fail_at(ld, 0, 0, "out of memory");
}

static int error_cmp(const void *a, const void *b)
{
    const struct conf_error *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every error, in file order, one per line (no trailing newline). */
static void write_errors(struct loader *ld, char *err, size_t errlen)
{
    size_t used = 0;

    if (err == NULL || errlen == 0)
        return;
    err[0] = '\0';
    qsort(ld->errs, (size_t)ld->nerr, sizeof(ld->errs[0]), error_cmp);
    for (int i = 0; i <= ld->nerr && used < errlen; i++) {
        const char *sep = used > 0 ? "\n" : "";
        const struct conf_error *e = &ld->errs[i];
        int n;

        if (i == ld->nerr) {
            if (ld->ndropped == 0)
                break;
            n = snprintf(err + used, errlen - used, "%s%s: %d more error%s not shown", sep, ld->file,
                         ld->ndropped, ld->ndropped == 1 ? "" : "s");
        } else if (e->line > 0)
            n = snprintf(err + used, errlen - used, "%s%s:%d:%d: %s", sep, ld->file, e->line, e->col, e->msg);
        else
            n = snprintf(err + used, errlen - used, "%s%s: %s", sep, ld->file, e->msg);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static yaml_node_t *node_at(struct loader *ld, int index)
{
    return yaml_document_get_node(ld->doc, index);
}

/* PATH: where a value sits, for messages ("processes.web.ready"); NULL is
 * the top level. */
static bool expect_kind(struct loader *ld, const yaml_node_t *n, yaml_node_type_t kind, const char *path,
                        const char *what)
{
    char buf[80];

    if (n->type == kind)
        return true;
    if (path == NULL)
        fail(ld, n, "expected %s at the top level, got %s", what, yaml_describe(n, buf, sizeof(buf)));
    else
        fail(ld, n, "%s: expected %s, got %s", path, what, yaml_describe(n, buf, sizeof(buf)));
    return false;
}

/* The key of PAIR in mapping MAP, or NULL after reporting a key that is not
 * a plain string or that an earlier pair already used. */
static const char *pair_key(struct loader *ld, const yaml_node_t *map, const yaml_node_pair_t *pair,
                            const char *path)
{
    yaml_node_t *k = node_at(ld, pair->key);
    char buf[80];
    const char *in = path != NULL ? " in " : "";

    if (k->type != YAML_SCALAR_NODE) {
        fail(ld, k, "keys must be names, got %s%s%s", yaml_describe(k, buf, sizeof(buf)), in, path != NULL ? path : "");
        return NULL;
    }
    for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
        yaml_node_t *prev = node_at(ld, q->key);

        if (prev->type == YAML_SCALAR_NODE && strcmp(yaml_text(prev), yaml_text(k)) == 0) {
            fail(ld, k, "duplicate key \"%s\"%s%s; first set at %d:%d", yaml_text(k), in, path != NULL ? path : "",
                 (int)prev->start_mark.line + 1, (int)prev->start_mark.column + 1);
            return NULL;
        }
    }
    return yaml_text(k);
}

/* Checks that MAP is a mapping whose keys are all among NAMES, each at most
 * once, and sets vals[i] to the value of NAMES[i] (NULL when absent or
 * null). A null MAP ("admin:" alone) is an empty mapping. Returns false
 * when MAP is not a mapping at all. */
static bool get_keys(struct loader *ld, const yaml_node_t *map, const char *path, const char *const *names,
                     size_t n, yaml_node_t **vals)
{
    for (size_t i = 0; i < n; i++)
        vals[i] = NULL;
    if (yaml_is_null(map))
        return true;
    if (!expect_kind(ld, map, YAML_MAPPING_NODE, path, "a mapping"))
        return false;
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const char *key = pair_key(ld, map, pair, path);
        const char *hint;
        size_t i;

        if (key == NULL)
            continue;
        for (i = 0; i < n && strcmp(names[i], key) != 0; i++)
            ;
        if (i < n) {
            yaml_node_t *v = node_at(ld, pair->value);

            vals[i] = yaml_is_null(v) ? NULL : v;
            continue;
        }
        hint = suggest_name(key, names, n);
        if (hint != NULL) {
            fail(ld, node_at(ld, pair->key), "unknown key \"%s\"%s%s; did you mean \"%s\"?", key,
                 path != NULL ? " in " : "", path != NULL ? path : "", hint);
        } else {
            char list[400];

            fail(ld, node_at(ld, pair->key), "unknown key \"%s\"%s%s; valid keys: %s", key,
                 path != NULL ? " in " : "", path != NULL ? path : "", suggest_list(names, n, ", ", list, sizeof(list)));
        }
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Value readers. Each reports its own errors and returns false on one,  */
/* leaving *out as it was (the default).                               */

/* N's text after ${VAR} expansion, in the arena; NULL after an error.
 * WHAT names the expected value for a list or mapping in its place. */
static char *get_text(struct loader *ld, const yaml_node_t *n, const char *path, const char *what)
{
    char reason[REASON_MAX];
    char *s, *copy;

    if (!expect_kind(ld, n, YAML_SCALAR_NODE, path, what))
        return NULL;
    s = conf_expand_env(yaml_text(n), reason, sizeof(reason));
    if (s == NULL) {
        fail(ld, n, "%s: %s", path, reason);
        return NULL;
    }
    copy = arena_strdup(ld->arena, s);
    free(s);
    if (copy == NULL)
        oom(ld);
    return copy;
}

/* S (the expanded text of N) as an integer in MIN..MAX. */
static bool int_from_text(struct loader *ld, const yaml_node_t *n, const char *s, const char *path, long long min,
                          long long max, long long *out)
{
    const char *p = s;
    long long v = 0;
    bool neg;

    neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (!all_digits(p)) {
        fail(ld, n, "%s: expected an integer, got \"%.60s\"", path, s);
        return false;
    }
    for (; *p != '\0'; p++) {
        if (v > (LLONG_MAX - 9) / 10) {
            v = LLONG_MAX;
            break;
        }
        v = v * 10 + (*p - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max) {
        /* INT_MAX means "no real upper bound": say only what matters. */
        if (max == INT_MAX && v < min)
            fail(ld, n, "%s: must be %lld or more, got %.60s", path, min, s);
        else if (max == INT_MAX)
            fail(ld, n, "%s: must be at most %lld, got %.60s", path, max, s);
        else
            fail(ld, n, "%s: must be between %lld and %lld, got %.60s", path, min, max, s);
        return false;
    }
    *out = v;
    return true;
}

static bool get_int(struct loader *ld, const yaml_node_t *n, const char *path, long long min, long long max,
                    long long *out)
{
    const char *s = get_text(ld, n, path, "an integer");

    return s != NULL && int_from_text(ld, n, s, path, min, max, out);
}

static void set_int(struct loader *ld, const yaml_node_t *n, const char *path, long long min, long long max,
                    int *out)
{
    long long v;

    if (n != NULL && get_int(ld, n, path, min, max, &v))
        *out = (int)v;
}

static void set_uint(struct loader *ld, const yaml_node_t *n, const char *path, long long min, unsigned *out)
{
    long long v;

    if (n != NULL && get_int(ld, n, path, min, INT_MAX, &v))
        *out = (unsigned)v;
}

/* A duration; ZERO_OK where 0 means "at once" rather than nonsense. */
static bool set_duration(struct loader *ld, const yaml_node_t *n, const char *path, bool zero_ok, int64_t *out)
{
    char reason[REASON_MAX];
    const char *s;
    int64_t v;

    if (n == NULL)
        return true;
    s = get_text(ld, n, path, "a duration");
    if (s == NULL)
        return false;
    if (conf_parse_duration(s, &v, reason, sizeof(reason)) < 0) {
        fail(ld, n, "%s: %s", path, reason);
        return false;
    }
    if (v == 0 && !zero_ok) {
        fail(ld, n, "%s: must be more than 0", path);
        return false;
    }
    *out = v;
    return true;
}

static void set_size(struct loader *ld, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
                     uint64_t *out)
{
    char reason[REASON_MAX], a[32], b[32];
    const char *s;
    uint64_t v;

    if (n == NULL)
        return;
    s = get_text(ld, n, path, "a size");
    if (s == NULL)
        return;
    if (conf_parse_size(s, &v, reason, sizeof(reason)) < 0) {
        fail(ld, n, "%s: %s", path, reason);
        return;
    }
    if (v < min || v > max) {
        fail(ld, n, "%s: must be between %s and %s, got %.60s", path, format_size(min, a, sizeof(a)),
             format_size(max, b, sizeof(b)), s);
        return;
    }
    *out = v;
}

static void set_bool(struct loader *ld, const yaml_node_t *n, const char *path, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    const char *s;

    if (n == NULL || (s = get_text(ld, n, path, "true or false")) == NULL)
        return;
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return;
        }
    }
    fail(ld, n, "%s: expected true or false, got \"%.60s\"", path, s);
}

/* One of NAMES (exact), its index in *OUT. */
static bool get_enum(struct loader *ld, const yaml_node_t *n, const char *path, const char *const *names,
                     size_t count, int *out)
{
    const char *s = get_text(ld, n, path, "a name");
    const char *hint;
    char list[200];

    if (s == NULL)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return true;
        }
    }
    hint = suggest_name(s, names, count);
    if (hint != NULL)
        fail(ld, n, "%s: unknown value \"%.60s\"; did you mean \"%s\"?", path, s, hint);
    else
        fail(ld, n, "%s: unknown value \"%.60s\"; use %s", path, s, suggest_list(names, count, " or ", list, sizeof(list)));
    return false;
}

static void set_balance(struct loader *ld, const yaml_node_t *n, const char *path, enum balance_kind *out)
{
    /* In enum order. */
    static const char *const names[] = {"round_robin", "least_conn", "random2"};
    int v;

    if (n != NULL && get_enum(ld, n, path, names, 3, &v))
        *out = (enum balance_kind)v;
}

/* A path relative to the config dir, made absolute. EMPTY_OK: "" (e.g. an
 * unset ${VAR}) means unset and leaves *out alone. */
static void file_from_text(struct loader *ld, const yaml_node_t *n, const char *s, const char *path, bool empty_ok,
                           char **out)
{
    char abs[PATH_MAX];

    if (*s == '\0') {
        if (!empty_ok)
            fail(ld, n, "%s: empty path", path);
        return;
    }
    if (path_abs(ld->conf->dir, s, abs, sizeof(abs)) < 0) {
        fail(ld, n, "%s: path too long", path);
        return;
    }
    if ((*out = arena_strdup(ld->arena, abs)) == NULL)
        oom(ld);
}

static void set_file(struct loader *ld, const yaml_node_t *n, const char *path, bool empty_ok, char **out)
{
    const char *s;

    if (n != NULL && (s = get_text(ld, n, path, "a path")) != NULL)
        file_from_text(ld, n, s, path, empty_ok, out);
}

/* An HTTP path for probes: "" is unset (NULL), else it must start with '/'. */
static void set_http_path(struct loader *ld, const yaml_node_t *n, const char *path, char **out)
{
    char *s;

    if (n == NULL || (s = get_text(ld, n, path, "a path")) == NULL)
        return;
    if (*s == '\0')
        *out = NULL;
    else if (*s != '/')
        fail(ld, n, "%s: must start with \"/\", got \"%.60s\"", path, s);
    else
        *out = s;
}

/* An address. IN_LISTEN accepts a bare port ("8080" = 0.0.0.0:8080); a
 * relative unix: path starts at the config dir. */
static bool addr_from_text(struct loader *ld, const yaml_node_t *n, const char *s, const char *path,
                           bool in_listen, struct conf_addr *out)
{
    char buf[PATH_MAX + 16], reason[REASON_MAX];

    if (in_listen && all_digits(s)) {
        snprintf(buf, sizeof(buf), "0.0.0.0:%s", s);
        s = buf;
    } else if (strncmp(s, "unix:", 5) == 0 && s[5] != '/' && s[5] != '\0') {
        memcpy(buf, "unix:", 5);
        if (path_abs(ld->conf->dir, s + 5, buf + 5, sizeof(buf) - 5) < 0) {
            fail(ld, n, "%s: unix socket path too long", path);
            return false;
        }
        s = buf;
    }
    if (conf_parse_addr(s, out, reason, sizeof(reason)) < 0) {
        fail(ld, n, "%s: %s", path, reason);
        return false;
    }
    out->line = (int)n->start_mark.line + 1;
    out->col = (int)n->start_mark.column + 1;
    return true;
}

static bool get_addr(struct loader *ld, const yaml_node_t *n, const char *path, bool in_listen,
                     struct conf_addr *out)
{
    const char *s = get_text(ld, n, path, "an address");

    return s != NULL && addr_from_text(ld, n, s, path, in_listen, out);
}

/* A single address or a list of them (at least one) into a new array. */
static bool get_addr_list(struct loader *ld, const yaml_node_t *n, const char *path, bool in_listen,
                          struct conf_addr **out, size_t *count)
{
    const yaml_node_item_t *items, *end;
    yaml_node_item_t self = 0;
    struct conf_addr *arr;
    size_t k = 0, total;
    bool ok = true;
    char ipath[96];

    if (n->type == YAML_SEQUENCE_NODE) {
        items = n->data.sequence.items.start;
        end = n->data.sequence.items.top;
        if (items == end) {
            fail(ld, n, "%s: needs at least one address", path);
            return false;
        }
    } else if (n->type == YAML_SCALAR_NODE) {
        items = &self;
        end = items + 1;
    } else {
        return expect_kind(ld, n, YAML_SCALAR_NODE, path, "an address or a list of addresses");
    }
    total = (size_t)(end - items);
    arr = arena_alloc(ld->arena, total * sizeof(*arr));
    if (arr == NULL) {
        oom(ld);
        return false;
    }
    for (const yaml_node_item_t *it = items; it < end; it++) {
        const yaml_node_t *item = it == &self ? n : node_at(ld, *it);

        if (it == &self)
            snprintf(ipath, sizeof(ipath), "%s", path);
        else
            snprintf(ipath, sizeof(ipath), "%s[%zu]", path, (size_t)(it - items));
        if (!get_addr(ld, item, ipath, in_listen, &arr[k])) {
            ok = false;
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            if (strcmp(arr[j].text, arr[k].text) == 0) {
                fail(ld, item, "%s: %s is listed twice (first at %d:%d)", ipath, arr[k].text, arr[j].line,
                     arr[j].col);
                ok = false;
                k--;
                break;
            }
        }
        k++;
    }
    if (!ok)
        return false;
    *out = arr;
    *count = k;
    return true;
}

/* ------------------------------------------------------------------ */
/* Sections                                                            */

static void load_workers(struct loader *ld, const yaml_node_t *n)
{
    long long v;
    const char *s;

    if (n == NULL || (s = get_text(ld, n, "workers", "an integer or \"auto\"")) == NULL)
        return;
    if (strcmp(s, "auto") != 0 && !all_digits(s)) {
        fail(ld, n, "workers: expected an integer or \"auto\", got \"%.60s\"", s);
        return;
    }
    if (strcmp(s, "auto") == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        ld->conf->workers = cpus < 1 ? 1 : cpus > 256 ? 256 : (int)cpus;
        return;
    }
    if (int_from_text(ld, n, s, "workers", 1, 256, &v))
        ld->conf->workers = (int)v;
}

static bool is_loopback(const struct conf_addr *a)
{
    if (a->ss.ss_family == AF_UNIX)
        return true;
    if (a->ss.ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr) >> 24) == 127;
    if (a->ss.ss_family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(in6) || (IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127);
    }
    return false;
}

static void load_admin(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"listen", "token"};
    struct conf *c = ld->conf;
    yaml_node_t *v[2];
    char *s;

    if (!get_keys(ld, n, "admin", keys, 2, v))
        return;
    if (v[1] != NULL && (s = get_text(ld, v[1], "admin.token", "a string")) != NULL)
        c->admin.token = *s != '\0' ? s : NULL;
    if (v[0] == NULL || (s = get_text(ld, v[0], "admin.listen", "an address or off")) == NULL)
        return;
    if (strcmp(s, "off") == 0 || strcmp(s, "false") == 0 || strcmp(s, "no") == 0) {
        c->admin.enabled = false;
        return;
    }
    if (!addr_from_text(ld, v[0], s, "admin.listen", false, &c->admin.listen))
        return;
    /* The admin API can scale and stop processes: open to the network only
     * behind a token. */
    if (c->admin.token == NULL && !is_loopback(&c->admin.listen))
        fail(ld, v[0], "admin.listen: %s is not a loopback address; set admin.token to expose it",
             c->admin.listen.text);
}

static void load_app(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"dir", "procfile", "env_file", "base_port"};
    struct conf *c = ld->conf;
    yaml_node_t *v[4];

    if (!get_keys(ld, n, "app", keys, 4, v))
        return;
    set_file(ld, v[0], "app.dir", false, &c->app.dir);
    set_file(ld, v[1], "app.procfile", true, &c->app.procfile);
    set_file(ld, v[2], "app.env_file", true, &c->app.env_file);
    set_int(ld, v[3], "app.base_port", 1, 65535, &c->app.base_port);
}

static void load_env(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_process *p)
{
    size_t total;
    char kpath[160];

    if (n == NULL || !expect_kind(ld, n, YAML_MAPPING_NODE, path, "a mapping of NAME: value"))
        return;
    total = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (total == 0)
        return;
    p->env = arena_alloc(ld->arena, total * sizeof(*p->env));
    if (p->env == NULL) {
        oom(ld);
        return;
    }
    for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
        const char *key = pair_key(ld, n, pair, path);
        yaml_node_t *val = node_at(ld, pair->value);
        char *s;

        if (key == NULL)
            continue;
        if (*key == '\0' || strchr(key, '=') != NULL) {
            fail(ld, node_at(ld, pair->key), "%s: bad variable name \"%.60s\"", path, key);
            continue;
        }
        snprintf(kpath, sizeof(kpath), "%.80s.%.60s", path, key);
        if (yaml_is_null(val))
            s = arena_strdup(ld->arena, "");
        else if ((s = get_text(ld, val, kpath, "a string")) == NULL)
            continue;
        /* The key belongs to the YAML document, freed after loading. */
        p->env[p->nenv].key = arena_strdup(ld->arena, key);
        p->env[p->nenv].value = s;
        if (p->env[p->nenv].key == NULL || s == NULL) {
            oom(ld);
            return;
        }
        p->nenv++;
    }
}

static void load_process(struct loader *ld, const yaml_node_t *n, struct conf_process *p)
{
    static const char *const keys[] = {"instances",    "command",      "env",     "ready",
                                       "stop_timeout", "memory_limit", "restart", "max_inflight"};
    static const char *const ready_keys[] = {"path", "timeout"};
    static const char *const restart_keys[] = {"min", "max"};
    yaml_node_t *v[8], *r[2];
    char path[128], sub[160];
    const char *s;

    snprintf(path, sizeof(path), "processes.%s", p->name);
    if (!get_keys(ld, n, path, keys, 8, v))
        return;
    snprintf(sub, sizeof(sub), "%s.instances", path);
    set_int(ld, v[0], sub, 0, 1000, &p->instances);
    snprintf(sub, sizeof(sub), "%s.command", path);
    if (v[1] != NULL && (s = get_text(ld, v[1], sub, "a command")) != NULL)
        p->command = *s != '\0' ? (char *)s : NULL;
    snprintf(sub, sizeof(sub), "%s.env", path);
    load_env(ld, v[2], sub, p);

    snprintf(sub, sizeof(sub), "%s.ready", path);
    if (get_keys(ld, v[3], sub, ready_keys, 2, r)) {
        snprintf(sub, sizeof(sub), "%s.ready.path", path);
        set_http_path(ld, r[0], sub, &p->ready_path);
        snprintf(sub, sizeof(sub), "%s.ready.timeout", path);
        set_duration(ld, r[1], sub, false, &p->ready_timeout_ms);
    }
    snprintf(sub, sizeof(sub), "%s.stop_timeout", path);
    set_duration(ld, v[4], sub, true, &p->stop_timeout_ms);
    snprintf(sub, sizeof(sub), "%s.memory_limit", path);
    set_size(ld, v[5], sub, 0, UINT64_MAX, &p->memory_limit);

    snprintf(sub, sizeof(sub), "%s.restart", path);
    if (get_keys(ld, v[6], sub, restart_keys, 2, r)) {
        bool ok;

        snprintf(sub, sizeof(sub), "%s.restart.min", path);
        ok = set_duration(ld, r[0], sub, false, &p->restart_min_ms);
        snprintf(sub, sizeof(sub), "%s.restart.max", path);
        ok = set_duration(ld, r[1], sub, false, &p->restart_max_ms) && ok;
        if (ok && p->restart_min_ms > p->restart_max_ms) {
            char a[32], b[32];

            fail(ld, r[0] != NULL ? r[0] : v[6], "%s.restart: min (%s) is more than max (%s)", path,
                 conf_format_duration(p->restart_min_ms, a, sizeof(a)),
                 conf_format_duration(p->restart_max_ms, b, sizeof(b)));
        }
    }
    snprintf(sub, sizeof(sub), "%s.max_inflight", path);
    set_uint(ld, v[7], sub, 0, &p->max_inflight);
}

static void process_defaults(struct conf_process *p)
{
    p->instances = -1;
    p->ready_timeout_ms = 30000;
    p->stop_timeout_ms = 10000;
    p->restart_min_ms = 100;
    p->restart_max_ms = 30000;
}

static void load_processes(struct loader *ld, const yaml_node_t *n)
{
    struct conf *c = ld->conf;
    size_t total;

    if (n == NULL || !expect_kind(ld, n, YAML_MAPPING_NODE, "processes", "a mapping of process types"))
        return;
    total = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (total == 0)
        return;
    c->processes = arena_alloc(ld->arena, total * sizeof(*c->processes));
    if (c->processes == NULL) {
        oom(ld);
        return;
    }
    for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
        const char *name = pair_key(ld, n, pair, "processes");
        yaml_node_t *k = node_at(ld, pair->key);
        struct conf_process *p = &c->processes[c->nprocesses];

        if (name == NULL)
            continue;
        if (!valid_type_name(name)) {
            fail(ld, k, "processes: bad process type name \"%.60s\"; use letters, digits, \"_\" and \"-\"", name);
            continue;
        }
        process_defaults(p);
        p->line = (int)k->start_mark.line + 1;
        p->col = (int)k->start_mark.column + 1;
        if ((p->name = arena_strdup(ld->arena, name)) == NULL) {
            oom(ld);
            return;
        }
        load_process(ld, node_at(ld, pair->value), p);
        c->nprocesses++;
    }
}

/* host: "api.example" (exact), "*.example" (any subdomain), "*" or "" (any
 * host); lowercased, trailing dot dropped, no port. */
static void set_host(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_route *r)
{
    char *s = n != NULL ? get_text(ld, n, path, "a host name") : NULL;
    size_t len;

    if (s == NULL)
        return;
    for (char *q = s; *q != '\0'; q++)
        *q = (char)lower(*q);
    len = strlen(s);
    if (len > 1 && s[len - 1] == '.')
        s[--len] = '\0';
    if (len == 0 || strcmp(s, "*") == 0) {
        r->host_match = HOST_ANY;
        r->host = NULL;
        return;
    }
    if (s[0] == '*') {
        if (s[1] != '.' || s[2] == '\0' || strchr(s + 1, '*') != NULL)
            goto bad_wildcard;
        r->host_match = HOST_SUFFIX;
        r->host = s + 1;
    } else if (strchr(s, '*') != NULL) {
        goto bad_wildcard;
    } else {
        r->host_match = HOST_EXACT;
        r->host = s;
    }
    if (s[0] != '[' && strchr(s, ':') != NULL) {
        fail(ld, n, "%s: leave the port out of \"%.60s\"", path, s);
        return;
    }
    for (const char *q = r->host; *q != '\0'; q++) {
        if (!is_alpha(*q) && !is_digit(*q) && !strchr(".-_[]:", *q)) {
            fail(ld, n, "%s: \"%.60s\" is not a host name", path, s);
            return;
        }
    }
    return;

bad_wildcard:
    fail(ld, n, "%s: a wildcard is written \"*.example.com\", got \"%.60s\"", path, s);
}

/* One routes[] entry; *BALANCE_SET says whether it chose its own balance. */
static void load_route(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_route *r,
                       bool *balance_set)
{
    static const char *const keys[] = {"host",         "path",    "process",     "backends",
                                       "strip_prefix", "balance", "max_inflight"};
    enum { HOST, PATH, PROCESS, BACKENDS, STRIP, BALANCE, INFLIGHT };
    yaml_node_t *v[7];
    char sub[128];
    char *s;

    r->line = (int)n->start_mark.line + 1;
    r->col = (int)n->start_mark.column + 1;
    if ((r->path = arena_strdup(ld->arena, "/")) == NULL) {
        oom(ld);
        return;
    }
    if (!get_keys(ld, n, path, keys, 7, v))
        return;
    snprintf(sub, sizeof(sub), "%s.host", path);
    set_host(ld, v[HOST], sub, r);
    snprintf(sub, sizeof(sub), "%s.path", path);
    if (v[PATH] != NULL && (s = get_text(ld, v[PATH], sub, "a path")) != NULL) {
        if (*s != '/')
            fail(ld, v[PATH], "%s: must start with \"/\", got \"%.60s\"", sub, s);
        else
            r->path = s;
    }
    snprintf(sub, sizeof(sub), "%s.process", path);
    if (v[PROCESS] != NULL && (s = get_text(ld, v[PROCESS], sub, "a process type")) != NULL) {
        if (!valid_type_name(s))
            fail(ld, v[PROCESS], "%s: bad process type name \"%.60s\"; use letters, digits, \"_\" and \"-\"", sub, s);
        else
            r->process = s;
    }
    snprintf(sub, sizeof(sub), "%s.backends", path);
    if (v[BACKENDS] != NULL)
        get_addr_list(ld, v[BACKENDS], sub, false, &r->backends, &r->nbackends);
    snprintf(sub, sizeof(sub), "%s.strip_prefix", path);
    set_bool(ld, v[STRIP], sub, &r->strip_prefix);
    snprintf(sub, sizeof(sub), "%s.balance", path);
    set_balance(ld, v[BALANCE], sub, &r->balance);
    *balance_set = v[BALANCE] != NULL;
    snprintf(sub, sizeof(sub), "%s.max_inflight", path);
    set_uint(ld, v[INFLIGHT], sub, 0, &r->max_inflight);

    if (v[PROCESS] != NULL && v[BACKENDS] != NULL)
        fail(ld, n, "%s: set either \"process\" or \"backends\", not both", path);
    else if (v[PROCESS] == NULL && v[BACKENDS] == NULL)
        fail(ld, n, "%s: needs \"process\" (a process type) or \"backends\" (a list of addresses)", path);
    else if (v[PROCESS] != NULL && v[INFLIGHT] != NULL)
        /* Instances get their limit from processes.<type>.max_inflight;
         * ignoring this one silently would be worse than refusing it. */
        fail(ld, v[INFLIGHT], "%s.max_inflight: applies to static backends; for a process set "
             "processes.%s.max_inflight", path, r->process != NULL ? r->process : "<type>");
}

static bool same_host(const struct conf_route *a, const struct conf_route *b)
{
    return a->host_match == b->host_match && (a->host_match == HOST_ANY || strcmp(a->host, b->host) == 0);
}

static void load_routes(struct loader *ld, const yaml_node_t *n)
{
    struct conf *c = ld->conf;
    bool *balance_set;
    size_t total;
    char path[32];

    if (n == NULL || !expect_kind(ld, n, YAML_SEQUENCE_NODE, "routes", "a list of routes"))
        return;
    total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (total == 0)
        return;
    c->routes = arena_alloc(ld->arena, total * sizeof(*c->routes));
    balance_set = arena_alloc(ld->arena, total * sizeof(*balance_set));
    if (c->routes == NULL || balance_set == NULL) {
        oom(ld);
        return;
    }
    for (size_t i = 0; i < total; i++) {
        const yaml_node_t *item = node_at(ld, n->data.sequence.items.start[i]);
        struct conf_route *r = &c->routes[c->nroutes];

        snprintf(path, sizeof(path), "routes[%zu]", i);
        load_route(ld, item, path, r, &balance_set[c->nroutes]);
        for (size_t j = 0; j < c->nroutes; j++) {
            /* First match wins: a second route for the same host and path
             * could never be used. */
            if (r->path != NULL && same_host(r, &c->routes[j]) && strcmp(r->path, c->routes[j].path) == 0) {
                fail(ld, item, "%s: same host and path as routes[%zu] (line %d); it would never match", path, j,
                     c->routes[j].line);
                break;
            }
        }
        c->nroutes++;
    }
    /* The top-level balance is read first, wherever it sits in the file. */
    for (size_t i = 0; i < c->nroutes; i++)
        if (!balance_set[i])
            c->routes[i].balance = c->balance;
}

static void load_health(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"path", "interval", "timeout", "rise", "fall"};
    struct conf *c = ld->conf;
    yaml_node_t *v[5];

    if (!get_keys(ld, n, "health", keys, 5, v))
        return;
    set_http_path(ld, v[0], "health.path", &c->health.path);
    set_duration(ld, v[1], "health.interval", false, &c->health.interval_ms);
    set_duration(ld, v[2], "health.timeout", false, &c->health.timeout_ms);
    set_int(ld, v[3], "health.rise", 1, 100, &c->health.rise);
    set_int(ld, v[4], "health.fall", 1, 100, &c->health.fall);
}

static void load_timeouts(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"connect", "client_header", "client_body", "upstream",
                                       "idle",    "queue",         "drain",       "tunnel"};
    struct conf_timeouts *t = &ld->conf->timeouts;
    int64_t *fields[] = {&t->connect_ms, &t->client_header_ms, &t->client_body_ms, &t->upstream_ms,
                         &t->idle_ms,    &t->queue_ms,         &t->drain_ms,       &t->tunnel_ms};
    yaml_node_t *v[8];
    char path[32];

    if (!get_keys(ld, n, "timeouts", keys, 8, v))
        return;
    for (size_t i = 0; i < 8; i++) {
        snprintf(path, sizeof(path), "timeouts.%s", keys[i]);
        /* drain: 0 stops at once; every other timeout needs time to pass. */
        set_duration(ld, v[i], path, fields[i] == &t->drain_ms, fields[i]);
    }
}

static void load_limits(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"max_connections", "max_header_bytes", "max_body_bytes", "max_queue"};
    struct conf *c = ld->conf;
    yaml_node_t *v[4];

    if (!get_keys(ld, n, "limits", keys, 4, v))
        return;
    set_uint(ld, v[0], "limits.max_connections", 1, &c->limits.max_connections);
    set_size(ld, v[1], "limits.max_header_bytes", 1024, 1024 * 1024, &c->limits.max_header_bytes);
    set_size(ld, v[2], "limits.max_body_bytes", 0, UINT64_MAX, &c->limits.max_body_bytes);
    set_uint(ld, v[3], "limits.max_queue", 0, &c->limits.max_queue);
}

static void load_log(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"access", "format"};
    static const char *const formats[] = {"text", "json"}; /* enum log_format order */
    struct conf *c = ld->conf;
    yaml_node_t *v[2];
    char *s;
    int f;

    if (!get_keys(ld, n, "log", keys, 2, v))
        return;
    if (v[0] != NULL && (s = get_text(ld, v[0], "log.access", "stdout, stderr, off or a path")) != NULL) {
        if (strcmp(s, "stdout") == 0 || strcmp(s, "stderr") == 0 || strcmp(s, "off") == 0)
            c->log.access = s;
        else
            file_from_text(ld, v[0], s, "log.access", false, &c->log.access);
    }
    if (v[1] != NULL && get_enum(ld, v[1], "log.format", formats, 2, &f))
        c->log.format = (enum log_format)f;
}

static void load_root(struct loader *ld, const yaml_node_t *root)
{
    static const char *const keys[] = {"listen",  "workers", "admin",  "app",     "processes", "routes",
                                       "balance", "health",  "retries", "timeouts", "limits",   "log"};
    enum { LISTEN, WORKERS, ADMIN, APP, PROCESSES, ROUTES, BALANCE, HEALTH, RETRIES, TIMEOUTS, LIMITS, LOG, NKEYS };
    struct conf *c = ld->conf;
    yaml_node_t *v[NKEYS];

    if (!get_keys(ld, root, NULL, keys, NKEYS, v))
        return;
    set_balance(ld, v[BALANCE], "balance", &c->balance); /* before routes inherit it */
    if (v[LISTEN] != NULL)
        get_addr_list(ld, v[LISTEN], "listen", true, &c->listen, &c->nlisten);
    load_workers(ld, v[WORKERS]);
    load_admin(ld, v[ADMIN]);
    load_app(ld, v[APP]);
    load_processes(ld, v[PROCESSES]);
    load_health(ld, v[HEALTH]);
    set_int(ld, v[RETRIES], "retries", 0, 16, &c->retries);
    load_timeouts(ld, v[TIMEOUTS]);
    load_limits(ld, v[LIMITS]);
    load_log(ld, v[LOG]);
    load_routes(ld, v[ROUTES]);
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */

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
    c->limits.max_connections = 10000;
    c->limits.max_header_bytes = 16 * 1024;
    c->limits.max_body_bytes = 0;
    c->limits.max_queue = 1000;
    c->log.format = LOG_FORMAT_TEXT;
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
    char *text = NULL, dir[PATH_MAX], reason[REASON_MAX];
    size_t len = 0;
    yaml_node_t *root;

    memset(&ld, 0, sizeof(ld));
    memset(&yr, 0, sizeof(yr));
    ld.file = file;
    if (read_whole_file(file, MAX_FILE_BYTES, &text, &len, reason, sizeof(reason)) < 0) {
        fail_at(&ld, 0, 0, "%s", reason);
        goto done;
    }
    if (config_dir(file, dir) < 0) {
        fail_at(&ld, 0, 0, "cannot resolve the config directory: %s", strerror(errno));
        goto done;
    }
    ld.conf = conf_new(dir, reason, sizeof(reason));
    if (ld.conf == NULL) {
        fail_at(&ld, 0, 0, "%s", reason);
        goto done;
    }
    ld.arena = ld.conf->arena;
    if ((ld.conf->file = arena_strdup(ld.arena, file)) == NULL) {
        oom(&ld);
        goto done;
    }
    if (yaml_reader_open(&yr, text, len, &pb) < 0) {
        fail_at(&ld, pb.line, pb.col, "%s", pb.msg);
        goto done;
    }
    ld.doc = &yr.doc;
    root = yaml_document_get_root_node(ld.doc);
    if (root != NULL && !yaml_is_null(root))
        load_root(&ld, root);
    if (yaml_reader_end(&yr, &pb) < 0)
        fail_at(&ld, pb.line, pb.col, "%s", pb.msg);
    if (ld.nerr == 0 && add_default_route(ld.conf) < 0)
        oom(&ld);

done:
    yaml_reader_close(&yr);
    free(text);
    if (ld.nerr > 0 || ld.ndropped > 0) {
        write_errors(&ld, err, errlen);
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
        char reason[REASON_MAX];

        snprintf(text, sizeof(text), "0.0.0.0:%.8s", port);
        if (!all_digits(port) || conf_parse_addr(text, c->listen, reason, sizeof(reason)) < 0) {
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
    if (conf != NULL)
        arena_free(conf->arena);
}

/* ------------------------------------------------------------------ */
/* `drover check`                                                      */

#define PLAN_COL 16 /* where values start */
#define PLAN_KEY 18 /* width of the keys inside a section */

static void plan_line(FILE *out, const char *label, const char *key, const char *fmt, va_list ap)
{
    if (key != NULL)
        fprintf(out, "%-*s%-*s", PLAN_COL, label, PLAN_KEY, key);
    else
        fprintf(out, "%-*s", PLAN_COL, label);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
}

/* "label           value": values line up across sections. */
__attribute__((format(printf, 3, 4)))
static void plan_row(FILE *out, const char *label, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    plan_line(out, label, NULL, fmt, ap);
    va_end(ap);
}

/* "label           key               value", inside a section. */
__attribute__((format(printf, 4, 5)))
static void plan_sub(FILE *out, const char *label, const char *key, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    plan_line(out, label, key, fmt, ap);
    va_end(ap);
}

static void route_label(const struct conf_route *r, char *buf, size_t len)
{
    if (r->host_match == HOST_EXACT)
        snprintf(buf, len, "%s%s", r->host, r->path);
    else if (r->host_match == HOST_SUFFIX)
        snprintf(buf, len, "*%s%s", r->host, r->path);
    else
        snprintf(buf, len, "%s", r->path);
}

static void print_process(const struct conf_process *p, FILE *out)
{
    char a[32], b[32];
    char label[PLAN_COL + 64];

    snprintf(label, sizeof(label), "  %s", p->name);
    if (p->instances < 0)
        plan_sub(out, label, "instances", "default (1, or -m)");
    else
        plan_sub(out, label, "instances", "%d", p->instances);
    plan_sub(out, "", "command", "%s", p->command != NULL ? p->command : "from the Procfile");
    if (p->ready_path != NULL)
        plan_sub(out, "", "ready", "GET %s within %s", p->ready_path,
                 conf_format_duration(p->ready_timeout_ms, a, sizeof(a)));
    else
        plan_sub(out, "", "ready", "TCP connect within %s", conf_format_duration(p->ready_timeout_ms, a, sizeof(a)));
    plan_sub(out, "", "stop_timeout", "%s", conf_format_duration(p->stop_timeout_ms, a, sizeof(a)));
    plan_sub(out, "", "memory_limit", "%s", p->memory_limit > 0 ? format_size(p->memory_limit, a, sizeof(a)) : "none");
    plan_sub(out, "", "restart", "back-off %s .. %s", conf_format_duration(p->restart_min_ms, a, sizeof(a)),
             conf_format_duration(p->restart_max_ms, b, sizeof(b)));
    if (p->max_inflight > 0)
        plan_sub(out, "", "max_inflight", "%u per instance", p->max_inflight);
    else
        plan_sub(out, "", "max_inflight", "unlimited");
    if (p->nenv > 0) {
        /* Names only: values are often secrets. */
        fprintf(out, "%-*s%-*s", PLAN_COL, "", PLAN_KEY, "env");
        for (size_t i = 0; i < p->nenv; i++)
            fprintf(out, "%s%s", i > 0 ? ", " : "", p->env[i].key);
        fputc('\n', out);
    }
}

static void print_routes(const struct conf *c, FILE *out)
{
    char label[320];
    int width = 0;

    for (size_t i = 0; i < c->nroutes; i++) {
        route_label(&c->routes[i], label, sizeof(label));
        if ((int)strlen(label) > width)
            width = (int)strlen(label);
    }
    fprintf(out, "routes\n");
    for (size_t i = 0; i < c->nroutes; i++) {
        const struct conf_route *r = &c->routes[i];

        route_label(r, label, sizeof(label));
        fprintf(out, "  %-*s  -> ", width, label);
        if (r->process != NULL) {
            fprintf(out, "process %s", r->process);
        } else {
            for (size_t k = 0; k < r->nbackends; k++)
                fprintf(out, "%s%s", k > 0 ? ", " : "", r->backends[k].text);
        }
        fprintf(out, "  (%s", conf_balance_name(r->balance));
        if (r->strip_prefix)
            fprintf(out, ", strip_prefix");
        if (r->process == NULL && r->max_inflight > 0)
            fprintf(out, ", max_inflight %u per backend", r->max_inflight);
        fprintf(out, ")\n");
    }
}

void conf_print_plan(const struct conf *c, FILE *out)
{
    static const char *const tnames[] = {"connect", "client_header", "client_body", "upstream",
                                         "idle",    "queue",         "drain",       "tunnel"};
    const struct conf_timeouts *t = &c->timeouts;
    const int64_t tvals[] = {t->connect_ms, t->client_header_ms, t->client_body_ms, t->upstream_ms,
                             t->idle_ms,    t->queue_ms,         t->drain_ms,       t->tunnel_ms};
    char a[32], b[32];

    if (c->file != NULL)
        plan_row(out, "config", "%s (dir %s)", c->file, c->dir);
    else
        plan_row(out, "config", "none: defaults");
    for (size_t i = 0; i < c->nlisten; i++)
        plan_row(out, i == 0 ? "listen" : "", "%s", c->listen[i].text);
    plan_row(out, "workers", "%d", c->workers);
    if (!c->admin.enabled)
        plan_row(out, "admin", "off");
    else
        plan_row(out, "admin", "%s (%s)", c->admin.listen.text,
                 c->admin.token != NULL && *c->admin.token != '\0' ? "bearer token required" : "no token");
    plan_sub(out, "app", "dir", "%s", c->app.dir);
    plan_sub(out, "", "procfile", "%s", c->app.procfile != NULL ? c->app.procfile : "auto: Procfile, else app_desc.yaml");
    plan_sub(out, "", "env_file", "%s", c->app.env_file != NULL ? c->app.env_file : "none");
    plan_sub(out, "", "base_port", "%d", c->app.base_port);
    if (c->nprocesses == 0)
        plan_row(out, "processes", "defaults for every type");
    else
        fprintf(out, "processes\n");
    for (size_t i = 0; i < c->nprocesses; i++)
        print_process(&c->processes[i], out);
    print_routes(c, out);
    plan_row(out, "balance", "%s", conf_balance_name(c->balance));
    if (c->health.path != NULL)
        plan_sub(out, "health", "check", "GET %s", c->health.path);
    else
        plan_sub(out, "health", "check", "TCP connect");
    plan_sub(out, "", "interval", "%s", conf_format_duration(c->health.interval_ms, a, sizeof(a)));
    plan_sub(out, "", "timeout", "%s", conf_format_duration(c->health.timeout_ms, a, sizeof(a)));
    plan_sub(out, "", "rise, fall", "%d, %d", c->health.rise, c->health.fall);
    plan_row(out, "retries", "%d", c->retries);
    for (size_t i = 0; i < 8; i++)
        plan_sub(out, i == 0 ? "timeouts" : "", tnames[i], "%s", conf_format_duration(tvals[i], a, sizeof(a)));
    plan_sub(out, "limits", "max_connections", "%u", c->limits.max_connections);
    plan_sub(out, "", "max_header_bytes", "%s", format_size(c->limits.max_header_bytes, a, sizeof(a)));
    plan_sub(out, "", "max_body_bytes", "%s",
             c->limits.max_body_bytes > 0 ? format_size(c->limits.max_body_bytes, b, sizeof(b)) : "unlimited");
    plan_sub(out, "", "max_queue", "%u", c->limits.max_queue);
    plan_sub(out, "log", "access", "%s", c->log.access);
    plan_sub(out, "", "format", "%s", c->log.format == LOG_FORMAT_JSON ? "json" : "text");
}
