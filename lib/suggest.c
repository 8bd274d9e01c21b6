/* lib/suggest.c: "did you mean" for config keys, config values and -m
 * process types (see suggest.h for the rule). */
#include "lib/suggest.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WORD_MAX 32

static int fold(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

size_t suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[WORD_MAX][WORD_MAX];

    if (la >= WORD_MAX || lb >= WORD_MAX)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = fold(a[i - 1]) != fold(b[j - 1]);
            size_t best = d[i - 1][j] + 1;

            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1]) &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *suggest_name(const char *typed, const char *const *names, size_t n)
{
    size_t tl = strlen(typed), best_d = SIZE_MAX;
    const char *best = NULL;

    for (size_t i = 0; i < n; i++) {
        size_t d = suggest_distance(typed, names[i]);

        if (d <= 2 && d < tl && d < best_d) {
            best = names[i];
            best_d = d;
        }
    }
    if (best != NULL)
        return best;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(names[i]);

        if ((tl >= 3 && tl < nl && strncasecmp(names[i], typed, tl) == 0) ||
            (nl >= 3 && nl < tl && strncasecmp(typed, names[i], nl) == 0))
            return names[i];
    }
    return NULL;
}

const char *suggest_list(const char *const *names, size_t n, const char *last_sep, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? last_sep : ", ";
        int w = snprintf(buf + used, len - used, "%s%s", sep, names[i]);

        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}
