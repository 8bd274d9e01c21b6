/* struct conf: drover.yaml as loaded and validated (see SPEC.md "Config
 * file"). A conf is immutable once loaded; a reload builds a new one and the
 * router swaps it in, so everything here is owned by the conf's arena and
 * freed by conf_free() in one call. */
#ifndef DROVER_CONF_CONFIG_H
#define DROVER_CONF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

struct arena;

enum balance_kind { BALANCE_ROUND_ROBIN, BALANCE_LEAST_CONN, BALANCE_RANDOM2 };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
enum host_match { HOST_ANY, HOST_EXACT, HOST_SUFFIX };

/* A listen or backend address: "host:port", "[v6]:port" or "unix:/path". */
/* An address range: 10.0.0.0/8, ::1/128; a bare address is one host. */
struct conf_cidr {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned bits;
    unsigned char addr[16];     /* network order, host bits zero */
};

#define CONF_MAX_TRUSTED 16

/* One certificate of a TLS listener, loaded and checked at config load
 * (conf/tls.c): the context that serves it is part of the config, so the
 * reload that validated a certificate is the one that uses it. */
struct conf_tls_cert {
    char *cert, *key;           /* absolute paths; the cert file holds the chain */
    char **names;               /* SAN DNS names, else the CN: lowercased, no trailing dot */
    size_t nnames;
    void *ctx;                  /* SSL_CTX, freed by conf_free */
    unsigned char *ocsp;        /* a DER OCSP response to staple (CERT.ocsp), or NULL */
    size_t ocsp_len;
    struct conf_tls_cert *loaded; /* every cert the conf loaded, for conf_free */
    int line, col;
};

/* Protocol versions as on the wire (and in OpenSSL's TLS1_x_VERSION). */
#define CONF_TLS_V12 0x0303
#define CONF_TLS_V13 0x0304

/* tls: of a listen entry. */
struct conf_tls {
    struct conf_tls_cert *certs; /* the first is the default (no SNI, no match) */
    size_t ncerts;
    int min_version, max_version; /* CONF_TLS_V12..CONF_TLS_V13 */
};

/* What a listen entry written as a map adds to its address. */
struct conf_listen_opts {
    bool proxy_protocol;        /* a PROXY v1/v2 header comes first */
    unsigned ntrusted;          /* proxy_trusted: who may send it */
    struct conf_cidr trusted[CONF_MAX_TRUSTED];
    struct conf_tls *tls;       /* NULL: plain HTTP */
};

struct conf_addr {
    char text[128]; /* normalised: "127.0.0.1:8080", "[::1]:8080", "unix:/run/a.sock" */
    struct sockaddr_storage ss;
    socklen_t len;
    int port; /* 0 for unix: */
    int line, col; /* where it was written (1-based; 0 when defaulted) */
    struct conf_listen_opts opts; /* listen entries only */
    /* listen only: "systemd" (every socket passed by socket activation) or
     * "systemd:NAME" (those named NAME); text says which, ss is unset. */
    bool systemd;
};

struct conf_kv {
    char *key;
    char *value;
};

struct conf_process {
    char *name;                 /* process type, [A-Za-z0-9_-]+ */
    int instances;              /* -1 when not set */
    char *command;              /* NULL: take it from the Procfile */
    struct conf_kv *env;
    size_t nenv;
    char *ready_path;           /* NULL: TCP connect probe */
    int64_t ready_timeout_ms;   /* default 30s */
    int64_t stop_timeout_ms;    /* default 10s */
    uint64_t memory_limit;      /* bytes, 0 = no limit */
    unsigned cpu_milli;         /* cpu: thousandths of a CPU per instance (its cgroup), 0 = no limit */
    uint64_t memory_max;        /* bytes the kernel lets an instance use (its cgroup), 0 = no limit */
    int64_t restart_min_ms;     /* default 100ms */
    int64_t restart_max_ms;     /* default 30s */
    unsigned max_inflight;      /* 0 = unlimited */
    int64_t restart_unhealthy_ms; /* failing its health checks this long: replaced; 0 = never */
    char **watch;               /* absolute paths (from app.dir) whose changes roll the type */
    size_t nwatch;
    int line, col;
};

/* A backend found by DNS: "dns:NAME:PORT" (A and AAAA) or "srv:NAME". */
struct conf_dns {
    char *key;                  /* as written: "dns:app.internal:8080", the members' group */
    char *name;                 /* what is looked up */
    int port;                   /* dns: only; 0 for srv: (the records give it) */
    bool srv;
    int line, col;
};

struct conf_route {
    enum host_match host_match;
    char *host;                 /* lowercased; HOST_SUFFIX keeps the dot: ".static.example" */
    char *path;                 /* prefix, starts with '/'; default "/" */
    bool strip_prefix;
    char *process;              /* exactly one of process / backends */
    struct conf_addr *backends;
    size_t nbackends;
    struct conf_dns *dns;       /* backends found by DNS, beside the static ones */
    size_t ndns;
    enum balance_kind balance;  /* the top-level balance unless set here */
    unsigned max_inflight;      /* for static backends; 0 = unlimited */
    int line, col;              /* 0 for the implicit "/ → web" route */
};

struct conf_timeouts {
    int64_t connect_ms;         /* 3s */
    int64_t client_header_ms;   /* 10s */
    int64_t client_body_ms;     /* 60s */
    int64_t upstream_ms;        /* 30s */
    int64_t idle_ms;            /* 60s */
    int64_t queue_ms;           /* 5s */
    int64_t drain_ms;           /* 30s */
    int64_t drain_delay_ms;     /* 0: serving on after SIGTERM (with /ready 503) before the drain */
    int64_t tunnel_ms;          /* 1h: idle timeout of an Upgrade tunnel (drover's key) */
};

struct conf {
    struct arena *arena;
    char *file;                 /* path as given, NULL when running without a file */
    char *dir;                  /* absolute directory that relative paths start from */

    struct conf_addr *listen;   /* default 0.0.0.0:8080 */
    size_t nlisten;
    struct conf_tls_cert *tls_loaded; /* every certificate loaded (conf_free frees their contexts) */
    char *warnings;             /* NULL, or lines worth a warning that do not stop the load */
    int workers;                /* resolved: "auto" becomes the CPUs allowed (lib/cpus.h) */

    struct {
        bool enabled;           /* default true, 127.0.0.1:8081 */
        struct conf_addr listen;
        char *token;            /* NULL or "" when unset */
        bool dashboard;         /* GET / serves the dashboard (default true) */
    } admin;

    struct {
        char *dir;              /* absolute */
        char *procfile;         /* NULL = auto (Procfile, else app_desc.yaml); else absolute */
        char *env_file;         /* absolute; NULL = none */
        int base_port;          /* 5000 */
        char *state_file;       /* absolute; NULL = none: runtime scale/stop/start not kept */
    } app;

    struct conf_process *processes;
    size_t nprocesses;

    struct conf_route *routes;  /* never empty: "/ → web" when none given */
    size_t nroutes;

    enum balance_kind balance;

    struct {
        char *path;             /* NULL: TCP connect check */
        int64_t interval_ms;    /* 2s */
        int64_t timeout_ms;     /* 1s */
        int rise;               /* 2 */
        int fall;               /* 3 */
    } health;

    int retries;                /* 2 */
    struct conf_timeouts timeouts;

    struct {
        char *servers;          /* "ip[:port],..." for c-ares; NULL: /etc/resolv.conf */
        int64_t refresh_min_ms; /* 1s: re-resolved no sooner than this, */
        int64_t refresh_max_ms; /* 60s: and no later, whatever the TTL */
        int64_t hold_ms;        /* 5m: the last good answer kept while a name fails */
    } resolver;

    struct {
        unsigned max_connections;   /* 10000 */
        uint64_t max_header_bytes;  /* 16k */
        uint64_t max_body_bytes;    /* 0 = unlimited */
        unsigned max_queue;         /* 1000: requests waiting for max_inflight, per route (drover's key) */
    } limits;

    struct {
        char *access;           /* "stdout", "off", or an absolute path */
        enum log_format format; /* text */
        unsigned keep;          /* 1000: lines kept per instance for `drover logs` */
        uint64_t keep_bytes;    /* 1M: their bytes per instance (drover's key) */
        bool timestamps;        /* true: "HH:MM:SS " before each line of the output */
        bool json_lines;        /* log.lines: json (false: text) */
    } log;
};

/* Load and validate FILE. Returns a new conf, or NULL with every error found
 * written to err, one "file:line:col: message" per line. */
struct conf *conf_load(const char *file, char *err, size_t errlen);

/* The configuration used when there is no file: all defaults, app.dir = DIR. */
struct conf *conf_default(const char *dir, char *err, size_t errlen);

void conf_free(struct conf *conf);

/* The resolved plan as `drover check` prints it: listeners, routes with their
 * backends, balancing, health, timeouts, limits, logging. */
void conf_print_plan(const struct conf *conf, FILE *out);

/* Value parsers, also used by the supervisor and tests. Each returns 0, or -1
 * with a one-phrase reason in err ("unknown unit \"x\"; use ms, s, m or h"). */
int conf_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen);
int conf_parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen);
/* processes.TYPE.cpu: "0.5", "2", "1.25" CPUs, into thousandths, between
 * CONF_CPU_MIN and CONF_CPU_MAX. 0, or -1 with the reason in err. */
int conf_parse_cpus(const char *s, unsigned *milli, char *err, size_t errlen);
/* 0.01 CPU: the kernel's smallest quota (1ms) in a 100ms period. */
#define CONF_CPU_MIN 10
#define CONF_CPU_MAX (4096 * 1000)

int conf_parse_addr(const char *s, struct conf_addr *addr, char *err, size_t errlen);

/* The NAME of a "systemd:NAME" listen entry, NULL for "systemd" (every
 * passed socket). */
const char *conf_addr_fdname(const struct conf_addr *addr);

/* "10.0.0.0/8", "fd00::/8", or one address (all its bits). 0, or -1 with
 * err filled. */
int conf_parse_cidr(const char *s, struct conf_cidr *out, char *err, size_t errlen);

/* ${VAR} and ${VAR:-default} from the environment; "$$" is a literal "$".
 * Returns a malloc'd string, or NULL with a reason in err (unclosed "${"). */
char *conf_expand_env(const char *s, char *err, size_t errlen);

const char *conf_balance_name(enum balance_kind kind);
/* The way a config writes a size: "16k", "10M", "1G", else bytes. Returns
 * BUF. */
const char *conf_format_size(uint64_t v, char *buf, size_t len);
/* Formats a duration the way the config writes it: "250ms", "10s", "2m". */
const char *conf_format_duration(int64_t ms, char *buf, size_t len);

#endif
