/* conf/units.c: durations and sizes, read and formatted back. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "conf/internal.h"
#include "conf_test.h"

static int64_t dur(const char *s)
{
    int64_t ms = -42;

    cr_assert_eq(conf_parse_duration(s, &ms, err, sizeof(err)), 0, "\"%s\": %s", s, err);
    return ms;
}

static void dur_err(const char *s, const char *msg)
{
    int64_t ms = -42;

    cr_assert_eq(conf_parse_duration(s, &ms, err, sizeof(err)), -1, "\"%s\" parsed", s);
    cr_assert_str_eq(err, msg);
    cr_assert_eq(ms, -42, "output written on error");
}

static uint64_t size(const char *s)
{
    uint64_t v = 0;

    cr_assert_eq(conf_parse_size(s, &v, err, sizeof(err)), 0, "\"%s\": %s", s, err);
    return v;
}

static void size_err(const char *s, const char *msg)
{
    uint64_t v = 42;

    cr_assert_eq(conf_parse_size(s, &v, err, sizeof(err)), -1, "\"%s\" parsed", s);
    cr_assert_str_eq(err, msg);
    cr_assert_eq(v, 42);
}

Test(duration, units)
{
    cr_assert_eq(dur("250ms"), 250);
    cr_assert_eq(dur("10s"), 10000);
    cr_assert_eq(dur("2m"), 120000);
    cr_assert_eq(dur("1h"), 3600000);
    cr_assert_eq(dur("10S"), 10000, "units ignore case");
    cr_assert_eq(dur(" 3s "), 3000, "surrounding blanks are fine");
}

Test(duration, decimals_and_sums)
{
    cr_assert_eq(dur("1.5s"), 1500);
    cr_assert_eq(dur(".5s"), 500);
    cr_assert_eq(dur("0.25m"), 15000);
    cr_assert_eq(dur("1.0005s"), 1001, "rounded to the millisecond");
    cr_assert_eq(dur("1m30s"), 90000);
    cr_assert_eq(dur("1h 30m"), 5400000);
}

Test(duration, zero)
{
    cr_assert_eq(dur("0"), 0, "a bare 0 needs no unit");
    cr_assert_eq(dur("0s"), 0);
    cr_assert_eq(dur("0ms"), 0);
}

Test(duration, bare_number_needs_unit)
{
    dur_err("10", "missing unit in \"10\"; add a unit: 10s");
    dur_err("1.5", "missing unit in \"1.5\"; add a unit: 1.5s");
}

Test(duration, unknown_unit)
{
    dur_err("10x", "unknown unit \"x\" in \"10x\"; use ms, s, m or h");
    dur_err("5d", "unknown unit \"d\" in \"5d\"; use ms, s, m or h");
    dur_err("10sec", "unknown unit \"sec\" in \"10sec\"; use ms, s, m or h");
}

Test(duration, not_a_duration)
{
    dur_err("", "empty duration; write e.g. 250ms, 10s, 2m or 1h");
    dur_err("abc", "\"abc\" is not a duration; write e.g. 250ms, 10s, 2m or 1h");
    dur_err("1.2.3s", "\"1.2.3s\" is not a duration; write e.g. 250ms, 10s, 2m or 1h");
    dur_err("s", "\"s\" is not a duration; write e.g. 250ms, 10s, 2m or 1h");
    dur_err("-1s", "\"-1s\" is negative; durations are 0 or more");
    dur_err("0.1ms", "\"0.1ms\" is below the 1ms resolution");
}

Test(duration, overflow)
{
    dur_err("99999999999999999999999s", "duration \"99999999999999999999999s\" is too large");
    dur_err("9999999999999h", "duration \"9999999999999h\" is too large");
    dur_err("2562047788h 2562047788h", "duration \"2562047788h 2562047788h\" is too large");
}

Test(duration, format)
{
    char b[32];

    cr_assert_str_eq(conf_format_duration(250, b, sizeof(b)), "250ms");
    cr_assert_str_eq(conf_format_duration(10000, b, sizeof(b)), "10s");
    cr_assert_str_eq(conf_format_duration(120000, b, sizeof(b)), "2m");
    cr_assert_str_eq(conf_format_duration(3600000, b, sizeof(b)), "1h");
    cr_assert_str_eq(conf_format_duration(90000, b, sizeof(b)), "90s");
    cr_assert_str_eq(conf_format_duration(1500, b, sizeof(b)), "1.5s");
    cr_assert_str_eq(conf_format_duration(1001, b, sizeof(b)), "1.001s");
    cr_assert_str_eq(conf_format_duration(0, b, sizeof(b)), "0s");
    cr_assert_str_eq(conf_format_duration(-250, b, sizeof(b)), "-250ms");
}

Test(duration, format_parses_back)
{
    static const int64_t values[] = {1, 999, 1000, 1001, 1500, 59999, 60000, 61000, 3599999, 7200000};
    char b[32];

    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        cr_assert_eq(dur(conf_format_duration(values[i], b, sizeof(b))), values[i], "%s", b);
}

Test(size, units)
{
    cr_assert_eq(size("512"), 512);
    cr_assert_eq(size("0"), 0);
    cr_assert_eq(size("16k"), 16384);
    cr_assert_eq(size("16K"), 16384);
    cr_assert_eq(size("16kb"), 16384);
    cr_assert_eq(size("10M"), 10485760);
    cr_assert_eq(size("10MiB"), 10485760);
    cr_assert_eq(size("1G"), 1073741824);
    cr_assert_eq(size("1gB"), 1073741824);
    cr_assert_eq(size("2T"), 2ULL << 40);
    cr_assert_eq(size("1.5k"), 1536);
    cr_assert_eq(size("100b"), 100);
}

Test(size, errors)
{
    size_err("10Q", "unknown unit \"Q\" in \"10Q\"; use k, M or G (1024-based), or none for bytes");
    size_err("10kk", "unknown unit \"kk\" in \"10kk\"; use k, M or G (1024-based), or none for bytes");
    size_err("", "empty size; write e.g. 16k, 10M or 1G");
    size_err("k", "\"k\" is not a size; write e.g. 16k, 10M or 1G");
    size_err("-1k", "\"-1k\" is negative; sizes are 0 or more");
    size_err("1.5", "\"1.5\" is not a whole number of bytes");
}

Test(size, overflow)
{
    cr_assert_eq(size("18446744073709551615"), UINT64_MAX);
    size_err("18446744073709551616", "size \"18446744073709551616\" is too large");
    size_err("16777216T", "size \"16777216T\" is too large");
    size_err("16777216.5T", "size \"16777216.5T\" is too large");
    cr_assert_eq(size("16777215.5T"), (16777215ULL << 40) + (1ULL << 39));
}


Test(size, format)
{
    char b[32];

    cr_assert_str_eq(conf_format_size(0, b, sizeof(b)), "0");
    cr_assert_str_eq(conf_format_size(1023, b, sizeof(b)), "1023");
    cr_assert_str_eq(conf_format_size(1024, b, sizeof(b)), "1k");
    cr_assert_str_eq(conf_format_size(1536, b, sizeof(b)), "1536", "only whole units");
    cr_assert_str_eq(conf_format_size(16384, b, sizeof(b)), "16k");
    cr_assert_str_eq(conf_format_size(10485760, b, sizeof(b)), "10M");
    cr_assert_str_eq(conf_format_size(1073741824, b, sizeof(b)), "1G");
    cr_assert_str_eq(conf_format_size(2ULL << 40, b, sizeof(b)), "2T");
    cr_assert_str_eq(conf_format_size(1ULL << 50, b, sizeof(b)), "1024T", "T is the largest unit");
    cr_assert_str_eq(conf_format_size(UINT64_MAX, b, sizeof(b)), "18446744073709551615");
}

Test(size, format_parses_back)
{
    static const uint64_t values[] = {0, 1, 1023, 1024, 1536, 16384, 1048576, 3ULL << 30, 5ULL << 40};
    char b[32];

    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        cr_assert_eq(size(conf_format_size(values[i], b, sizeof(b))), values[i], "%s", b);
}

static unsigned cpus(const char *s)
{
    char why[256];
    unsigned v = 0;

    cr_assert_eq(conf_parse_cpus(s, &v, why, sizeof(why)), 0, "%s: %s", s, why);
    return v;
}

static void cpus_err(const char *s, const char *want)
{
    char why[256];
    unsigned v = 7;

    cr_assert_eq(conf_parse_cpus(s, &v, why, sizeof(why)), -1, "%s parsed", s);
    cr_assert_str_eq(why, want);
    cr_assert_eq(v, 7, "untouched on error");
}

Test(cpus, decimals_to_the_thousandth)
{
    char b[32];

    cr_assert_eq(cpus("0.5"), 500);
    cr_assert_eq(cpus(".25"), 250);
    cr_assert_eq(cpus("2"), 2000);
    cr_assert_eq(cpus(" 1.125 "), 1125);
    cr_assert_eq(cpus("0.01"), 10);
    cr_assert_eq(cpus("0.0159"), 15, "further digits are dropped");
    cr_assert_str_eq(conf_format_cpus(500, b, sizeof(b)), "0.5");
    cr_assert_str_eq(conf_format_cpus(2000, b, sizeof(b)), "2");
    cr_assert_str_eq(conf_format_cpus(1125, b, sizeof(b)), "1.125");
}

Test(cpus, errors)
{
    cpus_err("0", "0 CPUs is out of range; write between 0.01 and 4096");
    cpus_err("0.001", "0.001 CPUs is out of range; write between 0.01 and 4096");
    cpus_err("5000", "5000 CPUs is out of range; write between 0.01 and 4096");
    cpus_err("99999999999999999999999", "99999999999999999999999 CPUs is out of range; write between 0.01 and 4096");
    cpus_err("-1", "\"-1\" is not a number of CPUs; write e.g. 0.5, 1 or 2");
    cpus_err("half", "\"half\" is not a number of CPUs; write e.g. 0.5, 1 or 2");
    cpus_err("50%", "\"50%\" is not a number of CPUs; write e.g. 0.5, 1 or 2");
    cpus_err("", "\"\" is not a number of CPUs; write e.g. 0.5, 1 or 2");
}
