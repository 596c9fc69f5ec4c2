/*
 * test_media_sync.c - the pure timing pieces of dm_media: clocks, frame
 * durations, the target-delay correction and the show/wait/drop decision,
 * all driven with made-up times so no result depends on the machine.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "media.h"

#define EPS 1e-9

static void test_clock_runs_from_last_set(void **state)
{
    dm_clock c;
    (void)state;
    dm_clock_init(&c);
    assert_true(isnan(dm_clock_get(&c, c.serial, 10.0)));
    dm_clock_set(&c, 5.0, 3, 10.0);
    assert_float_equal(dm_clock_get(&c, 3, 10.0), 5.0, EPS);
    assert_float_equal(dm_clock_get(&c, 3, 11.5), 6.5, EPS);
    /* A clock read against another generation (after a seek) is unknown. */
    assert_true(isnan(dm_clock_get(&c, 4, 11.5)));
}

static void test_clock_speed_and_pause(void **state)
{
    dm_clock c;
    (void)state;
    dm_clock_init(&c);
    dm_clock_set(&c, 5.0, 1, 10.0);
    dm_clock_set_speed(&c, 2.0, 11.0);            /* 6.0 at t=11, then twice as fast */
    assert_float_equal(dm_clock_get(&c, 1, 11.0), 6.0, EPS);
    assert_float_equal(dm_clock_get(&c, 1, 12.0), 8.0, EPS);
    dm_clock_set_paused(&c, 1, 12.0);
    assert_float_equal(dm_clock_get(&c, 1, 20.0), 8.0, EPS);
    dm_clock_set_paused(&c, 0, 20.0);             /* resumes where it stopped */
    assert_float_equal(dm_clock_get(&c, 1, 20.5), 9.0, EPS);
}

static void test_clock_sync_to_slave(void **state)
{
    dm_clock ext, vid;
    (void)state;
    dm_clock_init(&ext);
    dm_clock_init(&vid);
    dm_clock_set(&vid, 3.0, 7, 100.0);
    /* Unset master: takes the slave's value and serial. */
    dm_clock_sync_to_slave(&ext, ext.serial, &vid, 7, 100.0);
    assert_float_equal(dm_clock_get(&ext, ext.serial, 100.0), 3.0, EPS);
    /* Within AV_NOSYNC_THRESHOLD: left alone. */
    dm_clock_set(&ext, 4.0, ext.serial, 100.0);
    dm_clock_sync_to_slave(&ext, ext.serial, &vid, 7, 100.0);
    assert_float_equal(dm_clock_get(&ext, ext.serial, 100.0), 4.0, EPS);
    /* Further apart than AV_NOSYNC_THRESHOLD: reset. */
    dm_clock_set(&ext, 3.0 + AV_NOSYNC_THRESHOLD + 1.0, ext.serial, 100.0);
    dm_clock_sync_to_slave(&ext, ext.serial, &vid, 7, 100.0);
    assert_float_equal(dm_clock_get(&ext, ext.serial, 100.0), 3.0, EPS);
}

static void test_frame_duration(void **state)
{
    (void)state;
    /* Same serial: the distance to the next frame. */
    assert_float_equal(dm_sync_frame_duration(1.0, 0.04, 1, 1.05, 1, 10.0), 0.05, EPS);
    /* Across a seek: nothing, the new frame is due at once. */
    assert_float_equal(dm_sync_frame_duration(1.0, 0.04, 1, 1.05, 2, 10.0), 0.0, EPS);
    /* Going backwards, or a jump: the nominal duration. */
    assert_float_equal(dm_sync_frame_duration(1.0, 0.04, 1, 0.90, 1, 10.0), 0.04, EPS);
    assert_float_equal(dm_sync_frame_duration(1.0, 0.04, 1, 30.0, 1, 10.0), 0.04, EPS);
    assert_float_equal(dm_sync_frame_duration(NAN, 0.04, 1, 1.0, 1, 10.0), 0.04, EPS);
}

static void test_target_delay(void **state)
{
    const double d = 1.0 / 24.0;
    (void)state;
    /* In sync (or unknown): the nominal delay. */
    assert_float_equal(dm_sync_target_delay(d, 0.0, 10.0), d, EPS);
    /* Within the threshold: a small share of the error is taken back. */
    assert_float_equal(dm_sync_target_delay(d, 0.03, 10.0), d + DM_SYNC_FINE_GAIN * 0.03, EPS);
    assert_float_equal(dm_sync_target_delay(d, -0.03, 10.0), d - DM_SYNC_FINE_GAIN * 0.03, EPS);
    assert_float_equal(dm_sync_target_delay(d, NAN, 10.0), d, EPS);
    /* Video late by 100 ms: show the next frame at once. */
    assert_float_equal(dm_sync_target_delay(d, -0.1, 10.0), 0.0, EPS);
    /* Late by 50 ms, beyond the 41.7 ms threshold: shorten the delay. */
    assert_float_equal(dm_sync_target_delay(d, -0.05, 10.0), 0.0, EPS);
    assert_float_equal(dm_sync_target_delay(0.2, -0.15, 10.0), 0.05, EPS);
    /* Video early: hold the frame twice as long. */
    assert_float_equal(dm_sync_target_delay(d, 0.1, 10.0), 2.0 * d, EPS);
    /* Long frames (slideshow) are stretched by the error instead. */
    assert_float_equal(dm_sync_target_delay(0.5, 0.2, 10.0), 0.7, EPS);
    /* Differences beyond the frame-duration limit are jumps, not drift. */
    assert_float_equal(dm_sync_target_delay(d, -20.0, 10.0), d, EPS);
}

static void test_decide_on_time_early_late(void **state)
{
    /* Binary-exact times, so "on time" is exactly equal, not 1 ulp off. */
    const double d = 0.0625;
    double timer, remaining = -1;
    (void)state;

    /* Early: wait, and say how long. */
    timer = 100.0;
    assert_int_equal(dm_sync_decide(&timer, 100.0125, d, d, 1, &remaining), DM_SYNC_WAIT);
    assert_float_equal(remaining, 0.05, 1e-6);
    assert_float_equal(timer, 100.0, EPS);

    /* On time: show, the timer advances by exactly one delay. */
    assert_int_equal(dm_sync_decide(&timer, 100.0625, d, d, 1, NULL), DM_SYNC_SHOW);
    assert_float_equal(timer, 100.0625, EPS);

    /* Late past the following frame's slot: drop. */
    timer = 100.0;
    assert_int_equal(dm_sync_decide(&timer, 100.15, d, d, 1, NULL), DM_SYNC_DROP);
    assert_float_equal(timer, 100.0625, EPS);

    /* Same lateness, but dropping is off or no next frame is known: show. */
    timer = 100.0;
    assert_int_equal(dm_sync_decide(&timer, 100.15, d, d, 0, NULL), DM_SYNC_SHOW);
    timer = 100.0;
    assert_int_equal(dm_sync_decide(&timer, 100.15, d, NAN, 1, NULL), DM_SYNC_SHOW);

    /* Very late (a stall): the timer snaps to now instead of dropping a burst. */
    timer = 100.0;
    assert_int_equal(dm_sync_decide(&timer, 101.0, d, d, 1, NULL), DM_SYNC_SHOW);
    assert_float_equal(timer, 101.0, EPS);
}

static void test_decide_with_clock_error(void **state)
{
    /* A 24 fps film 150 ms behind the audio: the target delay is 0, the
     * frame is shown immediately and the one after it is late enough to be
     * dropped once the timer moved on. */
    const double d = 1.0 / 24.0;
    double timer = 50.0;
    double delay = dm_sync_target_delay(d, -0.15, 10.0);
    (void)state;
    assert_float_equal(delay, 0.0, EPS);
    assert_int_equal(dm_sync_decide(&timer, 50.0, delay, d, 1, NULL), DM_SYNC_SHOW);
    assert_int_equal(dm_sync_decide(&timer, 50.05, delay, d, 1, NULL), DM_SYNC_DROP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_runs_from_last_set),
        cmocka_unit_test(test_clock_speed_and_pause),
        cmocka_unit_test(test_clock_sync_to_slave),
        cmocka_unit_test(test_frame_duration),
        cmocka_unit_test(test_target_delay),
        cmocka_unit_test(test_decide_on_time_early_late),
        cmocka_unit_test(test_decide_with_clock_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
