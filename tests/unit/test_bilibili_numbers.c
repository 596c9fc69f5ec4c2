/*
 * test_bilibili_numbers.c - the numbers of a Bilibili <d p="..."> are
 * decimal, as Bilibili writes them: strtod's other forms (hexadecimal
 * "0x10", "inf", "nan", hexadecimal floats) are not times, so such a
 * comment is skipped with a warning instead of landing at 16 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "danmaku.h"

/* The comments read from one <d> with time field `t` (a skipped one is kept with its reason, for the
 * accounting, and not counted here); *warnings gets the reader's warnings. */
static size_t read_one(const char *t, int64_t *t_ms, unsigned *warnings)
{
    char xml[512];
    dm_track track;
    dm_diag diag = { 0 };
    size_t n;

    snprintf(xml, sizeof xml,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?><i>"
             "<d p=\"%s,1,25,16777215,1600000000,0,abcd,1\">hello</d></i>", t);
    dm_track_init(&track);
    assert_int_equal(dm_read_bilibili_xml(&track, xml, strlen(xml), &diag), 0);
    n = track.count;
    if (n == 1 && track.items[0].rejected) {
        assert_int_equal(track.items[0].rejected, DM_REASON_MALFORMED);
        n = 0;
    }
    if (n)
        *t_ms = track.items[0].t_ms;
    *warnings = diag.warnings;
    dm_track_clear(&track);
    return n;
}

static void test_decimal_times(void **state)
{
    int64_t t = -1;
    unsigned w = 0;

    (void)state;
    assert_int_equal(read_one("16", &t, &w), 1);
    assert_int_equal(t, 16000);
    assert_int_equal(read_one("12.345", &t, &w), 1);
    assert_int_equal(t, 12345);
    assert_int_equal(read_one(" 7.5 ", &t, &w), 1);
    assert_int_equal(t, 7500);
    assert_int_equal(read_one(".5", &t, &w), 1);
    assert_int_equal(t, 500);
    assert_int_equal(read_one("1e1", &t, &w), 1);   /* an exponent is still decimal */
    assert_int_equal(t, 10000);
}

static void test_other_forms_refused(void **state)
{
    static const char *const bad[] = { "0x10", "0X10", "0x1p4", "inf", "nan", "infinity", "1e", "--1", "" };
    int64_t t = -1;
    unsigned w = 0;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(read_one(bad[i], &t, &w), 0);
        assert_int_equal(w, 1);   /* skipped with a warning, never silently */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_times),
        cmocka_unit_test(test_other_forms_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
