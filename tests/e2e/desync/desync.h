/* The desync runner (`make desync`): each case's request, then a marker
 * request, in one write to a real build/drover in front of a backend that
 * logs every byte it reads and answers each request it parses; then a
 * verdict per case: rejected, forwarded, desync or other.
 *
 * Cases come from http-desync-guardian's tests/ YAML files (corpus.c, given
 * with --corpus) or from our own regression set (cases.c). */
#ifndef DROVER_TESTS_E2E_DESYNC_H
#define DROVER_TESTS_E2E_DESYNC_H

#include <stdbool.h>
#include <stddef.h>

enum tier { TIER_COMPLIANT, TIER_ACCEPTABLE, TIER_AMBIGUOUS, TIER_SEVERE, NTIERS };
enum outcome { OUT_REJECTED, OUT_FORWARDED, OUT_DESYNC, OUT_OTHER, NOUTCOMES };

/* A case with this expect is judged by its tier alone. */
#define OUT_BY_TIER (-1)

struct dbuf {
    char *p;
    size_t len, cap;
};

void dbuf_put(struct dbuf *b, const void *data, size_t len);
void dbuf_puts(struct dbuf *b, const char *s);
void dbuf_free(struct dbuf *b);

/* How the client frames the body it sends after the head. */
enum body_kind {
    BODY_NONE,
    BODY_LENGTH,   /* n bytes: the smuggled request below, then padding */
    BODY_CHUNKED,  /* one chunk holding the smuggled request, then the last chunk */
};

/* Bodies carry a whole request, so a reader that frames them differently
 * from the client sends the backend a request nobody sent. */
extern const char DESYNC_SMUGGLED[];

struct dcase {
    const char *name;
    const char *source;     /* the corpus file, or "regress" */
    enum tier tier;
    struct dbuf head;       /* the request head as sent */
    struct dbuf body;       /* the body as sent, framed as the client means it */
    struct dbuf payload;    /* that body decoded: what a backend should read */
    struct dbuf method;     /* the request line's method and target, as meant */
    struct dbuf target;
    bool keep_alive;        /* the client expects its marker to be answered */
    int expect;             /* OUT_BY_TIER, or the outcome a case must have */
    int expect_status;      /* the status of that rejection (0: any) */
    const char *why;        /* why drover refuses a Compliant case, or NULL */
};

struct case_list {
    struct dcase *v;
    size_t n, cap;
};

/* A new zeroed case at the end of l (expect OUT_BY_TIER). */
struct dcase *case_add(struct case_list *l);
/* Sets c->body and c->payload; n is the length for BODY_LENGTH. */
void case_set_body(struct dcase *c, enum body_kind kind, size_t n);
/* Sets the body as raw bytes (a regression case's broken framing); the
 * payload is what a reader of the client's framing would decode. */
void case_set_raw_body(struct dcase *c, const char *body, size_t len, const char *payload);

/* corpus.c: every *.yaml of dir, in name order. 0, or -1 with err set. */
int corpus_load_dir(const char *dir, struct case_list *out, char *err, size_t errlen);

/* cases.c: our own regression set. */
void regress_cases(struct case_list *out);

const char *tier_name(enum tier t);
const char *outcome_name(enum outcome o);

#endif
