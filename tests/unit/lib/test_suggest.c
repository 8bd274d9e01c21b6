/* lib/suggest: the distance, the one "did you mean" rule, and the list. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "lib/suggest.h"

static const char *const keys[] = {"listen", "workers", "admin", "timeouts", "token", "dir"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

Test(suggest, distance_counts_each_kind_of_edit)
{
    cr_assert_eq(suggest_distance("listen", "listen"), 0);
    cr_assert_eq(suggest_distance("listn", "listen"), 1, "deletion");
    cr_assert_eq(suggest_distance("liisten", "listen"), 1, "insertion");
    cr_assert_eq(suggest_distance("lusten", "listen"), 1, "substitution");
    cr_assert_eq(suggest_distance("lsiten", "listen"), 1, "a swap of neighbours is one edit");
    cr_assert_eq(suggest_distance("", "abc"), 3);
    cr_assert_eq(suggest_distance("abc", ""), 3);
}

Test(suggest, distance_folds_case)
{
    cr_assert_eq(suggest_distance("Listen", "listen"), 0);
    cr_assert_eq(suggest_distance("WEB", "web"), 0);
    cr_assert_eq(suggest_distance("LSITEN", "listen"), 1);
}

Test(suggest, distance_gives_up_on_long_words)
{
    char longword[40];

    memset(longword, 'a', 32);
    longword[32] = '\0';
    cr_assert_eq(suggest_distance(longword, "a"), SIZE_MAX);
    cr_assert_eq(suggest_distance("a", longword), SIZE_MAX);
    longword[31] = '\0';
    cr_assert_eq(suggest_distance(longword, longword), 0, "31 bytes still count");
}

Test(suggest, closest_within_two_edits)
{
    cr_assert_str_eq(suggest_name("listn", keys, NKEYS), "listen");
    cr_assert_str_eq(suggest_name("wrokers", keys, NKEYS), "workers");
    cr_assert_str_eq(suggest_name("tokn", keys, NKEYS), "token");
    cr_assert_str_eq(suggest_name("Listen", keys, NKEYS), "listen", "case is folded");
    cr_assert_null(suggest_name("lstnx", keys, NKEYS), "three edits is too far");
}

Test(suggest, fewer_edits_than_letters)
{
    cr_assert_null(suggest_name("ip", keys, NKEYS), "\"ip\" is 2 edits from \"dir\" but has only 2 letters");
    cr_assert_str_eq(suggest_name("dr", keys, NKEYS), "dir");
}

Test(suggest, first_of_the_closest_wins)
{
    static const char *const names[] = {"ab1", "ab2", "abc"};

    cr_assert_str_eq(suggest_name("abx", names, 3), "ab1");
    cr_assert_str_eq(suggest_name("abc", names, 3), "abc", "an exact name is closest");
}

Test(suggest, prefixes)
{
    cr_assert_str_eq(suggest_name("time", keys, NKEYS), "timeouts", "typed begins the name");
    cr_assert_str_eq(suggest_name("TIME", keys, NKEYS), "timeouts");
    cr_assert_str_eq(suggest_name("adminstuff", keys, NKEYS), "admin", "the name begins what was typed");
    cr_assert_null(suggest_name("ti", keys, NKEYS), "a prefix needs 3 letters");
    cr_assert_str_eq(suggest_name("dirs_here", keys, NKEYS), "dir");
    {
        static const char *const short_names[] = {"ab"};

        cr_assert_null(suggest_name("abxxxx", short_names, 1), "so does a name used as one");
    }
}

Test(suggest, nothing_to_choose_from)
{
    cr_assert_null(suggest_name("web", NULL, 0));
}

Test(suggest, list)
{
    char buf[64];

    cr_assert_str_eq(suggest_list(keys, 3, " or ", buf, sizeof(buf)), "listen, workers or admin");
    cr_assert_str_eq(suggest_list(keys, 2, ", ", buf, sizeof(buf)), "listen, workers");
    cr_assert_str_eq(suggest_list(keys, 1, " or ", buf, sizeof(buf)), "listen");
    cr_assert_str_eq(suggest_list(keys, 0, " or ", buf, sizeof(buf)), "");
}

Test(suggest, list_is_cut_when_full)
{
    char buf[10];

    cr_assert_str_eq(suggest_list(keys, NKEYS, ", ", buf, sizeof(buf)), "listen, w");
}
