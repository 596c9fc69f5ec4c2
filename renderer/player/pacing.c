/*
 * pacing.c - presenting in step with the display (see pacing.h).
 */
#include "pacing.h"

#include <math.h>

#define DEFAULT_HZ 60.0
#define PHASE_GAIN 0.1     /* share of a measured phase error corrected per present */
#define PERIOD_GAIN 0.005  /* and of the period (a 59.94 Hz display reported as 60) */
#define DRAW_MARGIN 0.001  /* seconds added to the drawing time estimate */

void dm_pacer_init(dm_pacer *p, double hz, int vsync, double now)
{
    *p = (dm_pacer){ 0 };
    p->vsync = vsync;
    dm_pacer_set_rate(p, hz, now);
}

void dm_pacer_set_rate(dm_pacer *p, double hz, double now)
{
    p->period = 1.0 / (hz > 0 && hz < 1000 ? hz : DEFAULT_HZ);
    p->phase = now;
    p->locked = !p->vsync;   /* without vsync the blanks are the pacer's own ticks */
    p->draw = p->period * 0.25;
    p->last_target = -INFINITY;
    p->last_shown = -INFINITY;
}

double dm_pacer_hz(const dm_pacer *p)
{
    return 1.0 / p->period;
}

/* The first blank at or after t. */
static double blank_after(const dm_pacer *p, double t)
{
    return p->phase + ceil((t - p->phase) / p->period - 1e-9) * p->period;
}

double dm_pacer_target(dm_pacer *p, double now)
{
    double t = blank_after(p, now + p->draw + DRAW_MARGIN);

    if (!p->vsync) {
        /* the frame shows when it is presented: one drawing time from now;
         * the tick it belongs to sets when the next one starts */
        t = now + p->draw + DRAW_MARGIN;
        p->last_target = blank_after(p, t - p->period * 0.5);
        return t;
    }
    if (t < p->last_target + p->period * 0.5)
        t = blank_after(p, p->last_target + p->period * 0.5);
    p->last_target = t;
    return t;
}

double dm_pacer_wait(const dm_pacer *p, double now)
{
    double start;

    if (!isfinite(p->last_target))
        return 0;
    /* under vsync the present has already waited for the blank: draw the next
     * frame at once, unless the present returned early (a driver that queues);
     * without vsync start one drawing time before the next tick */
    start = p->vsync ? p->last_target - p->period * 0.25
                     : p->last_target + p->period - p->draw - DRAW_MARGIN;
    return start > now ? start - now : 0;
}

void dm_pacer_presented(dm_pacer *p, double target, double began, double drawn, double now)
{
    double sample = drawn - began;

    p->presents++;
    /* drawing time: follow a rise quickly, a fall slowly (a lone spike does not
     * make the next frames aim a refresh later) */
    if (sample > 0)
        p->draw += (sample - p->draw) * (sample > p->draw ? 0.3 : 0.02);
    if (p->draw > p->period * 0.9)
        p->draw = p->period * 0.9;
    if (!p->vsync) {
        if (now > p->last_target + p->period * 0.5)
            p->missed++;   /* presented after the middle of the next tick */
        return;
    }
    if (!p->locked) {
        p->phase = now;
        p->locked = 1;
    } else {
        double k = nearbyint((now - p->phase) / p->period);
        double err = now - (p->phase + k * p->period);
        if (fabs(err) > p->period * 0.25) {
            p->phase = now;   /* a stall or a new display: measure again */
        } else {
            p->phase += k * p->period + err * PHASE_GAIN;
            p->period += err * PERIOD_GAIN;
        }
    }
    if (now > target + p->period * 0.5)
        p->missed++;
    if (now < p->last_shown + p->period * 0.5)
        p->doubled++;
    p->last_shown = now;
    /* the next frame is for a blank after the one this frame was shown at
     * (not after the one it was aimed at, which may have been a guess) */
    p->last_target = p->phase;
}
