/*
 * test_pacing.c - the player's pacing against a simulated display
 * (pacing_sim.h): at 50, 59.94 (reported as 60), 60 and 144 Hz, after a few
 * frames of lock-in, every blank shows a new frame (no repeat, no frame
 * lost) and each step of a scrolling comment is within 0.1 px of the ideal,
 * with presents returning up to 1 ms late. The same display with frames
 * drawn for the time drawing starts, and with the 60 Hz timer the player
 * used before, is shown to do worse, so the check means something.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pacing.h"
#include "pacing_sim.h"

#define FRAMES 2000

static void check_rate(double hz, double reported)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        dm_pacing_figures f, naive, timer;
        assert_int_equal(dm_pacing_simulate(DM_PACE_PACER, hz, reported, 0.001, FRAMES, seed, &f), 0);
        assert_int_equal(dm_pacing_simulate(DM_PACE_VSYNC_NAIVE, hz, reported, 0.001, FRAMES, seed, &naive), 0);
        assert_int_equal(dm_pacing_simulate(DM_PACE_TIMER_60, hz, reported, 0.001, FRAMES, seed, &timer), 0);
        print_message("%.2f Hz (reported %.0f): %u blanks, step deviation max %.4f px, %u repeats, %u lost; "
                      "drawn for the start of drawing: max %.4f px; 60 Hz timer: max %.2f px, %u repeats, %u lost\n",
                      hz, reported, f.blanks, f.dev_max, f.repeats, f.dropped, naive.dev_max, timer.dev_max,
                      timer.repeats, timer.dropped);
        assert_true(f.blanks > FRAMES - 20);
        assert_true(f.dev_max < 0.1);
        assert_int_equal(f.repeats, 0);
        assert_int_equal(f.dropped, 0);
        assert_true(naive.dev_max > f.dev_max);
        if (fabs(hz - 60) > 1)
            assert_true(timer.dev_max > 1.0 && (timer.repeats > 0 || timer.dropped > 0));
    }
}

static void test_50hz(void **state)
{
    (void)state;
    check_rate(50, 50);
}

static void test_60hz(void **state)
{
    (void)state;
    check_rate(60, 60);
    check_rate(59.94, 60);   /* SDL reports whole hertz */
}

static void test_144hz(void **state)
{
    (void)state;
    check_rate(144, 144);
}

/* The window moves to a display of another rate: the pacer follows it (its own loop: the rate changes mid-run). */
static void test_rate_change(void **state)
{
    double hz = 60, phase = 0.005, clock = 1.0, prev_blank = NAN;
    dm_pacer p;
    unsigned missed = 0, doubled = 0;

    (void)state;
    dm_pacer_init(&p, 60, 1, clock);
    for (int i = 0; i < 600; i++) {
        double began, target, drawn, blank;
        if (i == 300) {
            hz = 144;
            phase = clock + 0.002;
            dm_pacer_set_rate(&p, 144, clock);
        }
        clock += dm_pacer_wait(&p, clock);
        began = clock;
        target = dm_pacer_target(&p, began);
        drawn = began + 0.002;
        blank = phase + (floor((drawn - phase) * hz) + 1) / hz;
        clock = blank + 0.0001;
        dm_pacer_presented(&p, target, began, drawn, clock);
        if ((i > 10 && i < 300) || i > 310) {
            long r = lround((blank - prev_blank) * hz);
            missed += r > 1;
            doubled += r == 0;
            if (fabs(target - blank) >= 0.25 / hz)
                fail_msg("frame %d aimed at %.6f, shown at %.6f (%.0f Hz)", i, target, blank, hz);
        }
        prev_blank = blank;
    }
    assert_int_equal(missed, 0);
    assert_int_equal(doubled, 0);
    assert_true(fabs(dm_pacer_hz(&p) - 144) < 0.5);
}

/* Without vsync the pacer keeps its own ticks: one frame each, presented when aimed. */
static void test_timer(void **state)
{
    dm_pacer p;
    double clock = 2.0, period = 1.0 / 60, prev_tick = NAN;

    (void)state;
    dm_pacer_init(&p, 60, 0, clock);
    for (int i = 0; i < 300; i++) {
        double began, target, tick;
        clock += dm_pacer_wait(&p, clock);
        began = clock;
        target = dm_pacer_target(&p, began);
        clock = began + 0.003;
        assert_true(clock <= target + 1e-9);   /* presented by the time it was drawn for */
        dm_pacer_presented(&p, target, began, clock, clock);
        tick = p.last_target;
        if (i > 0)
            assert_true(fabs(tick - prev_tick - period) < 1e-9);   /* one frame a tick */
        if (i > 2)
            assert_true(clock <= tick + 0.0015);   /* and on its tick, once the drawing time is known */
        prev_tick = tick;
    }
    assert_int_equal(p.missed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_50hz), cmocka_unit_test(test_60hz), cmocka_unit_test(test_144hz),
        cmocka_unit_test(test_rate_change), cmocka_unit_test(test_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
