/* conf/units.c: durations ("250ms", "1m30s"), sizes ("16k", "10M") and
 * CPUs ("0.5") as drover.yaml writes them, and formatting them back the same way. */
#include "conf/config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/internal.h"

#define DURATION_EXAMPLES "250ms, 10s, 2m or 1h"
#define SIZE_EXAMPLES "16k, 10M or 1G"

/* "12", "1.5" or ".5" at *PP: the integer part, then at most MAXFRAC
 * fraction digits (further digits are read and ignored). Returns 0, -1 when
 * there is no number, -2 when the integer part overflows. */
static int parse_decimal(const char **pp, int maxfrac, uint64_t *ip, uint64_t *frac, uint64_t *scale)
{
    const char *p = *pp;

    *ip = 0;
    *frac = 0;
    *scale = 1;
    if (!conf_is_digit(*p) && !(*p == '.' && conf_is_digit(p[1])))
        return -1;
    for (; conf_is_digit(*p); p++) {
        uint64_t digit = (uint64_t)(*p - '0');

        if (*ip > (UINT64_MAX - digit) / 10)
            return -2;
        *ip = *ip * 10 + digit;
    }
    if (*p == '.' && conf_is_digit(p[1])) {
        int nfrac = 0;

        for (p++; conf_is_digit(*p); p++) {
            if (nfrac++ < maxfrac) {
                *frac = *frac * 10 + (uint64_t)(*p - '0');
                *scale *= 10;
            }
        }
    }
    *pp = p;
    return 0;
}

/* A decimal (see parse_decimal()), spaces, then a unit's letters at *PP,
 * the unit in [*U, *U + *ULEN) (empty when none is written). Returns what
 * parse_decimal() returns. */
static int number_and_unit(const char **pp, int maxfrac, uint64_t *ip, uint64_t *frac, uint64_t *scale,
                           const char **u, size_t *ulen)
{
    int rc = parse_decimal(pp, maxfrac, ip, frac, scale);
    const char *p = *pp;

    if (rc < 0)
        return rc;
    while (*p == ' ')
        p++;
    for (*u = p; conf_is_alpha(*p); p++)
        ;
    *ulen = (size_t)(p - *u);
    *pp = p;
    return 0;
}

/* S without surrounding blanks, copied into BUF; false when it does not fit. */
static bool trimmed(const char *s, char *buf, size_t len)
{
    size_t n;

    while (conf_is_blank(*s))
        s++;
    n = strlen(s);
    while (n > 0 && conf_is_blank(s[n - 1]))
        n--;
    if (n >= len)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

/* What a duration and a size read first: S without surrounding blanks in
 * T, not empty and not negative. WHAT is "duration" or "size", EXAMPLES
 * how one is written. 0, or -1 with the reason in err. */
static int number_text(const char *s, const char *what, const char *examples, char *t, size_t tlen, char *err,
                       size_t errlen)
{
    if (!trimmed(s, t, tlen)) {
        snprintf(err, errlen, "\"%.40s...\" is not a %s; write e.g. %s", s, what, examples);
        return -1;
    }
    if (t[0] == '\0') {
        snprintf(err, errlen, "empty %s; write e.g. %s", what, examples);
        return -1;
    }
    if (t[0] == '-') {
        snprintf(err, errlen, "\"%s\" is negative; %ss are 0 or more", t, what);
        return -1;
    }
    return 0;
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

    if (number_text(s, "duration", DURATION_EXAMPLES, t, sizeof(t), err, errlen) < 0)
        return -1;
    do {
        uint64_t ip, frac, scale, us = 0, v;
        const char *u;
        size_t ulen;
        int rc = number_and_unit(&p, 9, &ip, &frac, &scale, &u, &ulen);

        if (rc == -2)
            goto too_large;
        if (rc < 0)
            goto not_duration;
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
    snprintf(err, errlen, "\"%s\" is not a duration; write e.g. " DURATION_EXAMPLES, t);
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

    if (number_text(s, "size", SIZE_EXAMPLES, t, sizeof(t), err, errlen) < 0)
        return -1;
    rc = number_and_unit(&p, 6, &ip, &frac, &scale, &u, &ulen);
    if (rc == -2)
        goto too_large;
    if (rc < 0)
        goto not_size;
    if (*p != '\0')
        goto not_size;
    if (ulen >= sizeof(unit))
        goto bad_unit;
    for (size_t i = 0; i < ulen; i++)
        unit[i] = (char)conf_lower(u[i]);
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
    snprintf(err, errlen, "\"%s\" is not a size; write e.g. " SIZE_EXAMPLES, t);
    return -1;
too_large:
    snprintf(err, errlen, "size \"%s\" is too large", t);
    return -1;
}

/* "0.5", "2", "1.25": CPUs, to the thousandth. */
int conf_parse_cpus(const char *s, unsigned *milli, char *err, size_t errlen)
{
    char t[96];
    const char *p = t;
    uint64_t ip, frac, scale, v;
    int rc;

    rc = trimmed(s, t, sizeof(t)) ? parse_decimal(&p, 3, &ip, &frac, &scale) : -1;
    if (rc == -1 || (rc == 0 && *p != '\0')) {
        snprintf(err, errlen, "\"%.40s\" is not a number of CPUs; write e.g. 0.5, 1 or 2", s);
        return -1;
    }
    v = rc == -2 || ip > CONF_CPU_MAX / 1000 ? UINT64_MAX : ip * 1000 + frac * 1000 / scale;
    if (v < CONF_CPU_MIN || v > CONF_CPU_MAX) {
        snprintf(err, errlen, "%s CPUs is out of range; write between 0.01 and %d", t, CONF_CPU_MAX / 1000);
        return -1;
    }
    *milli = (unsigned)v;
    return 0;
}

const char *conf_format_cpus(unsigned milli, char *buf, size_t len)
{
    char frac[4];
    int n = 3;

    if (milli % 1000 == 0) {
        snprintf(buf, len, "%u", milli / 1000);
        return buf;
    }
    snprintf(frac, sizeof(frac), "%03u", milli % 1000);
    while (frac[n - 1] == '0')
        n--;
    snprintf(buf, len, "%u.%.*s", milli / 1000, n, frac);
    return buf;
}

/* The largest unit that divides MS, else seconds with a fraction above 1s,
 * else milliseconds: what conf_parse_duration() reads back as MS. */
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

/* The largest 1024-based unit that divides V exactly. */
const char *conf_format_size(uint64_t v, char *buf, size_t len)
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
