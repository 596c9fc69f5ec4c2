/*
 * pacing_sim.h - a simulated display to measure pacing against (the tests
 * and tools/bench-pacing).
 *
 * The display blanks every 1/hz seconds. A frame presented under vsync is
 * shown from the first blank after its drawing ends and the present returns
 * up to `jitter` seconds after that blank (a scheduler's lateness); without
 * vsync the present returns at once and each blank shows the latest frame
 * presented before it. Each frame draws a comment crossing a 1920 px stage
 * in 8 s (320 px/s for a 640 px comment) at the time the strategy chooses.
 * The figures are per blank: how far each step of the comment on screen is
 * from the ideal step (speed / hz), blanks that show the frame before again
 * (a repeat: judder), and frames never shown (drawn for a blank another frame
 * took).
 */
#ifndef DM_PACING_SIM_H
#define DM_PACING_SIM_H

#include <stdint.h>

typedef enum dm_pace_strategy {
    DM_PACE_PACER,       /* vsync, each frame drawn for the blank dm_pacer aims it at (the player) */
    DM_PACE_VSYNC_NAIVE, /* vsync, each frame drawn for the time its drawing starts */
    DM_PACE_TIMER_60,    /* no vsync, a 60 Hz timer, drawn for the time drawing starts (the player before) */
} dm_pace_strategy;

typedef struct dm_pacing_figures {
    unsigned blanks;         /* blanks measured (after a warm-up) */
    unsigned repeats;        /* blanks showing the same frame as the blank before */
    unsigned dropped;        /* frames presented that no blank showed */
    double dev_p50, dev_p99, dev_max;  /* |step - ideal step|, px */
} dm_pacing_figures;

/*
 * Run `frames` frames at a display of `hz` whose driver reports `reported_hz`
 * (SDL gives whole hertz: 59.94 is 60), present jitter up to `jitter` s,
 * drawing times 10-45 % of a refresh (75 % every 97th frame), seeded.
 * 0, or -1 when out of memory.
 */
int dm_pacing_simulate(dm_pace_strategy strategy, double hz, double reported_hz, double jitter, unsigned frames,
                       uint64_t seed, dm_pacing_figures *out);

#endif
