/*
 * pacing_sim.c - the simulated display (pacing_sim.h).
 */
#include "pacing_sim.h"

#include <math.h>
#include <stdlib.h>

#include "pacing.h"

#define SPEED ((1920.0 + 640.0) / 8.0)   /* px/s: a 640 px comment crossing a 1920 px stage in 8 s */
#define WARMUP 10

static double rnd(uint64_t *s)   /* 0..1 */
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

typedef struct shown { double from; double x; int seen; } shown;   /* a frame: the blank it shows from, its x, shown */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int dm_pacing_simulate(dm_pace_strategy strategy, double hz, double reported_hz, double jitter, unsigned frames,
                       uint64_t seed, dm_pacing_figures *out)
{
    const double period = 1.0 / hz, phase = 0.0123;
    shown *f = malloc((frames ? frames : 1) * sizeof *f);
    double *dev = NULL, clock = 1.0, next_tick = 1.0;
    unsigned nf = 0, nd = 0;
    dm_pacer pc;

    *out = (dm_pacing_figures){ 0 };
    if (!f)
        return -1;
    dm_pacer_init(&pc, reported_hz, strategy != DM_PACE_TIMER_60, clock);
    for (unsigned i = 0; i < frames; i++) {
        double began, drawn, target, blank, draw = (0.1 + 0.35 * rnd(&seed) + (i % 97 == 0 ? 0.3 : 0)) * period;
        if (strategy == DM_PACE_TIMER_60) {
            clock = next_tick > clock ? next_tick : clock;
            next_tick = clock + 1.0 / 60.0;
            began = clock;
            drawn = clock = began + draw;
            /* shown from the first blank after the present */
            blank = phase + (floor((drawn - phase) * hz) + 1) * period;
            f[nf++] = (shown){ blank, 1920.0 - SPEED * began, 0 };
            continue;
        }
        clock += dm_pacer_wait(&pc, clock);
        began = clock;
        target = dm_pacer_target(&pc, began);
        drawn = began + draw;
        blank = phase + (floor((drawn - phase) * hz) + 1) * period;
        clock = blank + jitter * rnd(&seed);
        dm_pacer_presented(&pc, target, began, drawn, clock);
        f[nf++] = (shown){ blank, 1920.0 - SPEED * (strategy == DM_PACE_PACER ? target : began), 0 };
    }
    /* walk the blanks: each shows the latest frame that had reached it */
    if (nf > WARMUP + 2) {
        double first = f[WARMUP].from, last = f[nf - 1].from;
        unsigned blanks = (unsigned)lround((last - first) * hz), k = WARMUP;
        double prev_x = NAN;
        dev = malloc((blanks + 1) * sizeof *dev);
        if (!dev) {
            free(f);
            return -1;
        }
        for (unsigned b = 0; b <= blanks; b++) {
            double at = first + b * period;
            unsigned newest = k;
            while (newest + 1 < nf && f[newest + 1].from <= at + period * 0.25)
                newest++;
            if (newest == k && b > 0)
                out->repeats++;
            f[newest].seen = 1;
            if (!isnan(prev_x))
                dev[nd++] = fabs((prev_x - f[newest].x) - SPEED * period);
            prev_x = f[newest].x;
            k = newest;
        }
        for (unsigned j = WARMUP; j < nf && f[j].from <= last; j++)
            out->dropped += !f[j].seen;   /* drawn for a blank another frame took */
        out->blanks = blanks;
    }
    if (nd) {
        qsort(dev, nd, sizeof *dev, cmp_double);
        out->dev_p50 = dev[nd / 2];
        out->dev_p99 = dev[(size_t)(0.99 * (nd - 1))];
        out->dev_max = dev[nd - 1];
    }
    free(dev);
    free(f);
    return 0;
}
