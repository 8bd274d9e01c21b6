/* lib/sbuf: growth, NUL termination, printf beyond the first guess, and
 * appends dropped after running out of memory. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/sbuf.h"

Test(sbuf, grows_and_stays_nul_terminated)
{
    struct sbuf b;

    sbuf_init(&b);
    for (int i = 0; i < 1000; i++)
        sbuf_puts(&b, "0123456789");
    cr_assert_eq(b.len, 10000);
    cr_assert_eq(b.data[b.len], '\0');
    sbuf_printf(&b, "%s-%d", "x", 42);
    cr_assert_eq(b.len, 10004);
    cr_assert_str_eq(b.data + 10000, "x-42");
    cr_assert(!b.oom);
    sbuf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
}

Test(sbuf, printf_longer_than_the_first_guess)
{
    struct sbuf b;
    char big[3000];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sbuf_init(&b);
    sbuf_puts(&b, "<");
    sbuf_printf(&b, "%s>", big);
    cr_assert_eq(b.len, 3001);
    cr_assert_eq(b.data[0], '<');
    cr_assert_eq(b.data[2999], 'a');
    cr_assert_eq(b.data[3000], '>');
    sbuf_free(&b);
}

Test(sbuf, oom_drops_later_appends)
{
    struct sbuf b;

    sbuf_init(&b);
    sbuf_puts(&b, "ok");
    b.oom = true;
    sbuf_puts(&b, "dropped");
    sbuf_printf(&b, "%d", 5);
    cr_assert_eq(b.len, 2);
    sbuf_free(&b);
    cr_assert(!b.oom);
}
