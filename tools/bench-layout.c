/*
 * bench-layout.c - lane allocation throughput of the layout engine.
 *
 * Builds a synthetic 1,000,000-comment track (bursts and quiet spells, every
 * mode and size, texts from a pool whose widths are measured once up front)
 * and prints comments laid out per second under each overflow policy, then
 * the same around obstacles: a subtitle-like box at the bottom for 3 s of
 * every 4 s of the film (what film subtitles give the layout).
 *
 *     bench-layout [COMMENTS] [RATE_PER_SECOND] [plain|subtitles]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "danmaku.h"

#define POOL 256
#define TEXT_CAP 96

typedef struct pool {
    char text[POOL][TEXT_CAP];  /* the texts comments point into */
    int w[POOL][DM_SIZE_COUNT]; /* precomputed widths per size class */
} pool;

/* Widths are precomputed: the callback only looks them up. */
static int measure_lookup(void *ud, const char *text, int height_px, int *w, int *h)
{
    const pool *p = ud;
    size_t i = (size_t)(text - p->text[0]) / TEXT_CAP;
    int s = height_px < 40 ? DM_SIZE_SMALL : height_px > 60 ? DM_SIZE_LARGE : DM_SIZE_NORMAL;

    *w = p->w[i][s];
    *h = height_px;
    return 0;
}

/* One subtitle-like box for 3 s of every 4 s over `seconds`; malloc'd, *n of them. */
static dm_obstacle *subtitle_boxes(double seconds, size_t *n)
{
    size_t count = (size_t)(seconds / 4) + 1;
    dm_obstacle *o = calloc(count, sizeof *o);

    for (size_t i = 0; o && i < count; i++) {
        o[i].start_ms = (int64_t)i * 4000;
        o[i].end_ms = o[i].start_ms + 3000;
        o[i].w = 700 + (int)(i % 5) * 100;   /* lines of different lengths */
        o[i].x = (1920 - o[i].w) / 2;
        o[i].y = 960;
        o[i].h = 90;
        snprintf(o[i].kind, sizeof o[i].kind, "subtitle");
    }
    *n = o ? count : 0;
    return o;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    double rate = argc > 2 ? atof(argv[2]) : 40.0;
    pool *p = calloc(1, sizeof *p);
    dm_comment *c = calloc((size_t)(n > 0 ? n : 1), sizeof *c);
    unsigned seed = 42;
    double t = 0;
    const char *only = argc > 3 ? argv[3] : "";

    if (!p || !c || n <= 0 || rate <= 0) {
        fprintf(stderr, "bench-layout: usage: bench-layout [COMMENTS] [RATE_PER_SECOND]\n");
        return 1;
    }
    for (int i = 0; i < POOL; i++) {
        int len = 2 + (int)(rand_r(&seed) % 15);   /* most comments are short */
        snprintf(p->text[i], TEXT_CAP, "comment %d", i);
        for (int s = 0; s < DM_SIZE_COUNT; s++)
            p->w[i][s] = (int)(len * 0.8 * 48 * dm_size_scale((dm_size)s)) + 4;
    }
    for (long i = 0; i < n; i++) {
        unsigned r = rand_r(&seed) % 100;
        /* exponential-ish gaps with bursts: mean 1/rate seconds */
        double gap = (rand_r(&seed) % 10 == 0) ? 0.001 : (rand_r(&seed) % 2000) / 1000.0 / rate * 1.1;
        t += gap;
        c[i].t_ms = (int64_t)(t * 1000);
        c[i].mode = r < 80 ? DM_MODE_SCROLL : r < 88 ? DM_MODE_TOP : r < 96 ? DM_MODE_BOTTOM : DM_MODE_REVERSE;
        r = rand_r(&seed) % 10;
        c[i].size = r == 0 ? DM_SIZE_SMALL : r == 9 ? DM_SIZE_LARGE : DM_SIZE_NORMAL;
        c[i].text = p->text[rand_r(&seed) % POOL];
        c[i].count = 1;
        c[i].weight = -1;
    }
    printf("synthetic track: %ld comments over %.0f s (%.1f per second), stage 1920x1080, 48 px\n", n, t,
           n / t);
    size_t nobs;
    dm_obstacle *subs = subtitle_boxes(t, &nobs);
    for (int run = 0; run < 6; run++) {
        dm_layout_opts o = DM_LAYOUT_OPTS_DEFAULT;
        dm_layout *L;
        dm_placed out;
        long shown = 0;
        double t0, dt;
        int with_subs = run >= 3;

        if ((with_subs && !strcmp(only, "plain")) || (!with_subs && !strcmp(only, "subtitles")))
            continue;
        o.overflow = (dm_overflow)(run % 3);
        L = dm_layout_new(&o, measure_lookup, p, NULL, NULL);
        if (!L || (with_subs && dm_layout_add_obstacles(L, subs, nobs)))
            return 1;
        if (run == 3)
            printf("around %zu subtitle boxes (3 s of every 4 s, bottom of the stage):\n", nobs);
        t0 = dm_thread_cpu_now();
        for (long i = 0; i < n; i++) {
            if (dm_layout_add(L, &c[i], NULL, &out))
                return 1;
            shown += out.shown;
        }
        dt = dm_thread_cpu_now() - t0;
        printf("policy %-7s  %9.0f comments/s  (%.3f s thread CPU, %.1f %% shown)\n", dm_overflow_name(o.overflow),
               n / dt, dt, 100.0 * shown / n);
        dm_layout_free(&L);
    }
    free(subs);
    free(c);
    free(p);
    return 0;
}
