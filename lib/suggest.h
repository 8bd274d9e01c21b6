/* "Did you mean ...?": the name a typo most likely meant, with one rule for
 * every message that offers one (drover.yaml keys and values, -m process
 * types). */
#ifndef DROVER_LIB_SUGGEST_H
#define DROVER_LIB_SUGGEST_H

#include <stddef.h>

/* Optimal string alignment distance between A and B: insertions,
 * deletions, substitutions and swaps of two neighbours, ASCII case folded.
 * SIZE_MAX when either word is 32 bytes or longer (too long to bother). */
size_t suggest_distance(const char *a, const char *b);

/* What TYPED most likely meant among NAMES: the closest name within 2
 * edits and fewer edits than TYPED has letters (so "ip" does not suggest
 * "dir"), the first one on a tie; else the first name that TYPED (3 or
 * more letters) begins, or that (3 or more letters) begins TYPED. Case is
 * folded throughout. NULL when nothing is close. The callers look for an
 * exact, case-sensitive match first, so a name that differs from TYPED
 * only by case is never valid as typed and is always worth suggesting. */
const char *suggest_name(const char *typed, const char *const *names, size_t n);

/* NAMES as "a, b or c" into BUF, LAST_SEP between the last two (", " for a
 * plain list); cut short when BUF is full. Returns BUF. */
const char *suggest_list(const char *const *names, size_t n, const char *last_sep, char *buf, size_t len);

#endif
