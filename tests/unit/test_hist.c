/*
 * test_hist.c - the histogram of durations (frame times, live latencies): a percentile
 * lies within the values seen. The player's own histogram reported a
 * bucket's upper bound, so `--stats` printed p99 above max (10 values of
 * 0.01 ms gave p99 0.05 ms, max 0.01 ms).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>

#include "danmaku.h"

static void test_within_seen(void **state)
{
    dm_hist *l = dm_hist_new();

    (void)state;
    assert_non_null(l);
    assert_true(dm_hist_percentile(l, 0.99) == 0);
    for (int i = 0; i < 10; i++)
        dm_hist_add(l, 0.01);
    assert_true(dm_hist_max(l) == 0.01);
    assert_true(dm_hist_percentile(l, 0.99) <= dm_hist_max(l));
    assert_true(dm_hist_percentile(l, 0.50) == 0.01);
    /* a spread: percentiles grow with q, never past max, never below the smallest */
    for (int i = 0; i < 1000; i++)
        dm_hist_add(l, 0.5 + i * 0.013);
    dm_hist_add(l, 3.21);
    {
        double p50 = dm_hist_percentile(l, 0.50), p99 = dm_hist_percentile(l, 0.99);
        double p100 = dm_hist_percentile(l, 1.0), max = dm_hist_max(l);
        assert_true(p50 <= p99 && p99 <= p100 && p100 <= max);
        assert_true(max == 13.487 || (max > 13.486 && max < 13.488));   /* 0.5 + 999 * 0.013 */
        assert_true(p100 == max);
        assert_true(p50 >= 0.01);
        /* the 1,001st of 1,011 values is 0.5 + 989 * 0.013 = 13.357: within one bucket (0.01 ms) of it */
        assert_true(p99 >= 13.357 - 0.001 && p99 <= 13.357 + 0.01);
    }
    /* beyond 1 s: the last bucket reports the true maximum */
    dm_hist_add(l, 2500.0);
    assert_true(dm_hist_percentile(l, 1.0) == 2500.0);
    assert_int_equal(dm_hist_count(l), 1012);
    assert_true(fabs(dm_hist_mean(l) - (10 * 0.01 + 1000 * 0.5 + 0.013 * 999 * 1000 / 2 + 3.21 + 2500.0) / 1012) < 1e-9);
    dm_hist_free(&l);
    assert_null(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_within_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
