/* supervisor/logring: one instance's recent lines, bounded in lines and in
 * bytes, wrapping around both of its buffers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/logring.h"

static char text[65536];

/* Line i's text, NUL-terminated. */
static const char *line(const struct logring *r, size_t i)
{
    size_t n = logring_text(r, i, text, sizeof(text) - 1);

    text[n] = '\0';
    return text;
}

static void push(struct logring *r, uint64_t seq, const char *s)
{
    cr_assert_eq(logring_push(r, seq, (double)seq, LOG_STDOUT, s, strlen(s)), 0);
}

Test(logring, keeps_the_last_keep_lines_in_order)
{
    struct logring *r = logring_new(3, 1 << 20);
    char s[32];

    for (int i = 1; i <= 10; i++) {
        snprintf(s, sizeof(s), "line %d", i);
        push(r, (uint64_t)i, s);
    }
    cr_assert_eq(logring_count(r), 3);
    cr_assert_str_eq(line(r, 0), "line 8");
    cr_assert_str_eq(line(r, 1), "line 9");
    cr_assert_str_eq(line(r, 2), "line 10");
    cr_assert_eq(logring_line(r, 0)->seq, 8);
    cr_assert_eq(logring_last_seq(r), 10);
    logring_free(r);
}

/* Lines of changing lengths go round the text buffer many times: every
 * kept line reads back whole, also one that wraps over the buffer's end. */
Test(logring, text_wraps_around_the_buffer_end)
{
    struct logring *r = logring_new(1000, 5000);
    char s[600];
    uint64_t seq = 0;

    for (int round = 0; round < 200; round++) {
        int len = 1 + (round * 37) % 590;

        memset(s, 'a' + round % 26, (size_t)len);
        s[len] = '\0';
        push(r, ++seq, s);
        cr_assert_leq(logring_bytes(r), 5000);
        for (size_t i = 0; i < logring_count(r); i++) {
            const struct logline *l = logring_line(r, i);
            const char *got = line(r, i);
            int k = (int)(l->seq - 1);

            cr_assert_eq(strlen(got), (size_t)(1 + (k * 37) % 590), "line %zu of round %d", i, round);
            cr_assert_eq(got[0], 'a' + k % 26);
            cr_assert_eq(got[strlen(got) - 1], 'a' + k % 26);
        }
    }
    logring_free(r);
}

/* The byte bound: old lines go to make room, memory never grows past it,
 * and a line longer than the bound is cut to it. */
Test(logring, byte_bound)
{
    struct logring *r = logring_new(1000000, 10000);
    char big[20000];

    memset(big, 'x', sizeof(big));
    for (uint64_t seq = 1; seq <= 5000; seq++)
        cr_assert_eq(logring_push(r, seq, 0, LOG_STDOUT, big, 100), 0);
    cr_assert_eq(logring_count(r), 100, "10000 bytes of 100-byte lines");
    cr_assert_eq(logring_bytes(r), 10000);
    cr_assert_lt(logring_footprint(r), 10000 + 256 * sizeof(struct logline) + 1024,
                 "footprint %zu", logring_footprint(r));
    cr_assert_eq(logring_push(r, 5001, 0, LOG_STDERR, big, sizeof(big)), 0);
    cr_assert_eq(logring_count(r), 1);
    cr_assert_eq(logring_line(r, 0)->len, 10000, "cut to keep_bytes");
    cr_assert_eq(logring_line(r, 0)->stream, LOG_STDERR);
    logring_free(r);
}

Test(logring, would_drop_names_the_newest_line_a_push_drops)
{
    struct logring *r = logring_new(3, 20);

    push(r, 1, "aaaaa");
    push(r, 2, "bbbbb");
    cr_assert_eq(logring_would_drop(r, 5), 0, "room for a third");
    push(r, 3, "ccccc");
    cr_assert_eq(logring_would_drop(r, 1), 1, "the line bound");
    cr_assert_eq(logring_would_drop(r, 12), 2, "12 bytes need two lines to go");
    push(r, 4, "dddddddddddd");
    cr_assert_eq(logring_count(r), 2);
    cr_assert_str_eq(line(r, 0), "ccccc");
    logring_free(r);
}

Test(logring, after_finds_the_first_newer_line)
{
    struct logring *r = logring_new(4, 1000);

    for (uint64_t seq = 10; seq <= 60; seq += 10)
        push(r, seq, "x");
    /* 30, 40, 50, 60 are kept. */
    cr_assert_eq(logring_after(r, 0), 0);
    cr_assert_eq(logring_after(r, 30), 1);
    cr_assert_eq(logring_after(r, 35), 1);
    cr_assert_eq(logring_after(r, 59), 3);
    cr_assert_eq(logring_after(r, 60), 4);
    logring_free(r);
}

Test(logring, smaller_limits_drop_lines_and_memory_clear_empties)
{
    struct logring *r = logring_new(100, 100000);
    char s[100];

    memset(s, 'y', sizeof(s));
    for (uint64_t seq = 1; seq <= 100; seq++)
        cr_assert_eq(logring_push(r, seq, 0, LOG_STDOUT, s, sizeof(s)), 0);
    logring_set_limits(r, 10, 550);
    cr_assert_eq(logring_count(r), 5, "550 bytes hold five lines of 100");
    cr_assert_eq(logring_line(r, 0)->seq, 96);
    cr_assert_lt(logring_footprint(r), 550 + 100 * sizeof(struct logline));
    logring_clear(r);
    cr_assert_eq(logring_count(r), 0);
    cr_assert_eq(logring_bytes(r), 0);
    cr_assert_eq(logring_last_seq(r), 0);
    push(r, 101, "after");
    cr_assert_str_eq(line(r, 0), "after");
    logring_free(r);
}

Test(logring, empty_lines_and_keep_zero)
{
    struct logring *r = logring_new(2, 100), *none = logring_new(0, 100);

    for (uint64_t seq = 1; seq <= 5; seq++)
        push(r, seq, "");
    cr_assert_eq(logring_count(r), 2);
    cr_assert_eq(logring_line(r, 1)->len, 0);
    push(none, 1, "dropped");
    cr_assert_eq(logring_count(none), 0, "keep 0 keeps nothing");
    cr_assert_eq(logring_would_drop(none, 7), 0);
    logring_free(r);
    logring_free(none);
}
