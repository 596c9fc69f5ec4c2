/*
 * bench-pacing.c - frame pacing on simulated displays (pacing_sim.h): for
 * each refresh rate, the player's pacer against frames drawn for the time
 * drawing starts and against the 60 Hz timer the player had before. Prints
 * a Markdown table: per blank, the step deviation of a scrolling comment
 * from the ideal step (p50 / p99 / max, px), repeated blanks (the frame
 * before shown again: judder) and frames lost (never shown).
 *
 *     bench-pacing [FRAMES] [JITTER_MS]      (defaults 20000 and 1)
 */
#include <stdio.h>
#include <stdlib.h>

#include "pacing_sim.h"

int main(int argc, char **argv)
{
    static const struct { double hz, reported; } rates[] = {
        { 50, 50 }, { 59.94, 60 }, { 60, 60 }, { 75, 75 }, { 120, 120 }, { 144, 144 }, { 165, 165 },
    };
    static const struct { dm_pace_strategy s; const char *name; } ways[] = {
        { DM_PACE_PACER, "pacer (vsync, drawn for the predicted blank)" },
        { DM_PACE_VSYNC_NAIVE, "vsync, drawn for the start of drawing" },
        { DM_PACE_TIMER_60, "60 Hz timer, no vsync (before)" },
    };
    unsigned frames = argc > 1 ? (unsigned)atoi(argv[1]) : 20000;
    double jitter = (argc > 2 ? atof(argv[2]) : 1.0) / 1000.0;

    printf("%u frames per run, presents returning up to %.1f ms after the blank, drawing 10-45 %% of a refresh "
           "(75 %% every 97th frame); a comment moving 320 px/s.\n\n", frames, jitter * 1000);
    printf("| display | strategy | step deviation p50 / p99 / max | repeated blanks | frames lost |\n");
    printf("|---|---|---|---|---|\n");
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++)
        for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
            dm_pacing_figures f;
            if (dm_pacing_simulate(ways[w].s, rates[r].hz, rates[r].reported, jitter, frames, 1, &f)) {
                fprintf(stderr, "bench-pacing: out of memory\n");
                return 1;
            }
            printf("| %.2f Hz | %s | %.3f / %.3f / %.3f px | %u of %u | %u |\n", rates[r].hz, ways[w].name,
                   f.dev_p50, f.dev_p99, f.dev_max, f.repeats, f.blanks, f.dropped);
        }
    return 0;
}
