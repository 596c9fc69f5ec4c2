/*
 * bench-subs.c - what subtitles cost per frame at 1920x1080 (or --size).
 *
 * For each track (two synthetic ones made in memory, or the selected track
 * of each FILM_OR_SUBFILE given) it plays the first --seconds of film at
 * 60 frames a second through dm_subs_render and prints the time per frame:
 * all frames, frames where nothing changed (libass's change report lets the
 * caller skip them) and frames with new pixels; then what blending a frame
 * onto an opaque 1920x1080 ARGB picture costs (a software path's work), and
 * the time of the obstacle walk over the whole track.
 *
 *   bench-subs [--size WxH] [--seconds S] [FILM_OR_SUBFILE...]
 *
 * Synthetic tracks: "dialogue" (SubRip: two-line lines of 40 characters,
 * one every 2.5 s) and "typeset" (ASS: a dialogue line, a \pos sign at the
 * top, a \move sign and a karaoke line every 2.5 s, each 2 s long).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "danmaku.h"
#include "subs.h"

#define FPS 60

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

static void quiet(void *ud, int level, const char *msg)
{
    (void)ud;
    if (level <= DM_SUBS_LOG_ERROR)
        fprintf(stderr, "bench-subs: %s\n", msg);
}

/* A growable string for the synthetic tracks. */
typedef struct text {
    char *s;
    size_t n, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    int k;
    for (;;) {
        va_start(ap, fmt);
        k = vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < t->cap - t->n)
            break;
        t->cap = t->cap * 2 + 4096;
        t->s = realloc(t->s, t->cap);
        if (!t->s) {
            fprintf(stderr, "bench-subs: out of memory\n");
            exit(1);
        }
    }
    t->n += (size_t)k;
}

static void ts_srt(text *t, long ms)
{
    put(t, "%02ld:%02ld:%02ld,%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

static void ts_ass(text *t, long ms)
{
    put(t, "%ld:%02ld:%02ld.%02ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms / 10 % 100);
}

static char *make_dialogue(int seconds, size_t *len)
{
    text t = {NULL, 0, 0};
    int n = 0;
    for (long ms = 500; ms + 2000 <= seconds * 1000L; ms += 2500) {
        put(&t, "%d\n", ++n);
        ts_srt(&t, ms);
        put(&t, " --> ");
        ts_srt(&t, ms + 2000);
        put(&t, "\nLine %d: the quick brown fox jumps over\nthe lazy dog, %d times in a row.\n\n", n, n);
    }
    *len = t.n;
    return t.s;
}

static char *make_typeset(int seconds, size_t *len)
{
    text t = {NULL, 0, 0};
    put(&t, "[Script Info]\nScriptType: v4.00+\nPlayResX: 1920\nPlayResY: 1080\nScaledBorderAndShadow: yes\n\n"
            "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
            "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, "
            "Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
            "Style: Default,DejaVu Sans,64,&H00FFFFFF,&H000000FF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,"
            "3,2,2,40,40,50,1\n"
            "Style: Sign,DejaVu Serif,56,&H0000FFFF,&H000000FF,&H00202020,&H00000000,1,0,0,0,100,100,0,0,1,"
            "3,0,8,40,40,40,1\n\n"
            "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n");
    for (long ms = 500; ms + 2000 <= seconds * 1000L; ms += 2500) {
        static const char *const lines[] = {
            "Default,,0,0,0,,We have to leave before the sun goes down.",
            "Sign,,0,0,0,,{\\an8\\pos(960,40)}Station Square",
            "Sign,,0,0,0,,{\\an5\\move(300,400,1620,400)\\blur2}Passing sign",
            "Default,,0,0,0,,{\\an8\\pos(960,160)\\k30}Ka{\\k30}ra{\\k30}o{\\k30}ke {\\k40}line",
        };
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            put(&t, "Dialogue: 0,");
            ts_ass(&t, ms);
            put(&t, ",");
            ts_ass(&t, ms + 2000);
            put(&t, ",%s\n", lines[i]);
        }
    }
    *len = t.n;
    return t.s;
}

static int bench(const char *name, dm_subs *s, int w, int h, int seconds)
{
    size_t frames = (size_t)seconds * FPS, n_same = 0, n_new = 0;
    double *all = malloc(frames * sizeof *all), *same = malloc(frames * sizeof *same);
    double *fresh = malloc(frames * sizeof *fresh), blend_total = 0;
    uint32_t *canvas = malloc((size_t)w * (size_t)h * 4);
    size_t blends = 0, n_obs = 0;
    dm_obstacle *ob = NULL;
    double t0, walk;
    char err[256];
    dm_subs_track tr;

    if (!all || !same || !fresh || !canvas) {
        fprintf(stderr, "bench-subs: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
        canvas[i] = 0xFF000000;
    for (size_t f = 0; f < frames; f++) {
        dm_subs_frame fr;
        int ch;
        double a = dm_now(), d;
        if (dm_subs_render(s, (int64_t)(f * 1000 / FPS), w, h, &fr, &ch) != 0) {
            fprintf(stderr, "bench-subs: %s: render failed\n", name);
            return 1;
        }
        d = (dm_now() - a) * 1e6;
        all[f] = d;
        if (ch == DM_SUBS_SAME) {
            same[n_same++] = d;
        } else {
            fresh[n_new++] = d;
            a = dm_now();
            dm_subs_frame_blend(&fr, canvas, w, h, w * 4, 0, 0);
            blend_total += (dm_now() - a) * 1e6;
            blends++;
        }
    }
    t0 = dm_now();
    if (dm_subs_obstacles(s, w, h, &ob, &n_obs, err, sizeof err) != 0) {
        fprintf(stderr, "bench-subs: %s: %s\n", name, err);
        return 1;
    }
    walk = dm_now() - t0;
    qsort(all, frames, sizeof *all, cmp_double);
    qsort(same, n_same, sizeof *same, cmp_double);
    qsort(fresh, n_new, sizeof *fresh, cmp_double);
    dm_subs_track_get(s, dm_subs_sid(s), &tr);
    printf("%s (%s, %zu events) at %dx%d, %d s at %d fps:\n", name, tr.codec, tr.events, w, h, seconds, FPS);
    {
        double sum = 0;
        for (size_t i = 0; i < frames; i++)
            sum += all[i];
        printf("  render, every frame:     mean %7.1f us  p50 %7.1f  p99 %7.1f  max %7.1f\n",
               sum / (double)frames, pct(all, frames, 0.5), pct(all, frames, 0.99), pct(all, frames, 1.0));
    }
    printf("  render, unchanged  (%4zu): p50 %7.1f us  p99 %7.1f\n", n_same, pct(same, n_same, 0.5),
           pct(same, n_same, 0.99));
    printf("  render, new pixels (%4zu): p50 %7.1f us  p99 %7.1f\n", n_new, pct(fresh, n_new, 0.5),
           pct(fresh, n_new, 0.99));
    printf("  blend onto %dx%d ARGB: %7.1f us a changed frame\n", w, h,
           blends ? blend_total / (double)blends : 0.0);
    printf("  obstacle walk: %.1f ms for %zu boxes (%.0f events/s)\n", walk * 1e3, n_obs,
           walk > 0 ? (double)tr.events / walk : 0.0);
    free(ob);
    free(all);
    free(same);
    free(fresh);
    free(canvas);
    return 0;
}

int main(int argc, char **argv)
{
    int w = 1920, h = 1080, seconds = 60, ret = 0, given = 0;
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    char err[512];

    o.log = quiet;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%dx%d", &w, &h) != 2 || w < 1 || h < 1) {
                fprintf(stderr, "bench-subs: --size WxH\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atoi(argv[++i]);
            if (seconds < 1) {
                fprintf(stderr, "bench-subs: --seconds must be positive\n");
                return 2;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench-subs [--size WxH] [--seconds S] [FILM_OR_SUBFILE...]\n");
            return 2;
        }
    }
    for (int i = 1; i < argc; i++) {
        dm_subs *s;
        const char *dot;
        if (strcmp(argv[i], "--size") == 0 || strcmp(argv[i], "--seconds") == 0) {
            i++;
            continue;
        }
        given = 1;
        dot = strrchr(argv[i], '.');
        if (dot && (strcmp(dot, ".srt") == 0 || strcmp(dot, ".ass") == 0 || strcmp(dot, ".ssa") == 0 ||
                    strcmp(dot, ".vtt") == 0)) {
            const char *files[1] = {argv[i]};
            o.files = files;
            o.n_files = 1;
            ret = dm_subs_open(&s, NULL, &o, err, sizeof err);
            o.files = NULL;
            o.n_files = 0;
        } else {
            o.sid = DM_SUBS_SID_AUTO;
            ret = dm_subs_open(&s, argv[i], &o, err, sizeof err);
            if (ret == 0 && dm_subs_sid(s) == DM_SUBS_SID_NO && dm_subs_track_count(s) > 0)
                dm_subs_select(s, 1, err, sizeof err);
        }
        if (ret != 0) {
            fprintf(stderr, "bench-subs: %s\n", err);
            return 1;
        }
        if (dm_subs_sid(s) == DM_SUBS_SID_NO) {
            fprintf(stderr, "bench-subs: %s has no subtitle track\n", argv[i]);
            dm_subs_destroy(&s);
            return 1;
        }
        ret |= bench(argv[i], s, w, h, seconds);
        dm_subs_destroy(&s);
    }
    if (!given) {
        const char *names[2] = {"dialogue", "typeset"};
        for (int k = 0; k < 2; k++) {
            size_t len;
            char *data = k == 0 ? make_dialogue(seconds, &len) : make_typeset(seconds, &len);
            dm_subs *s;
            if (dm_subs_open_memory(&s, data, len, k == 0 ? "srt" : "ass", names[k], &o, err, sizeof err) != 0) {
                fprintf(stderr, "bench-subs: %s\n", err);
                return 1;
            }
            free(data);
            ret |= bench(names[k], s, w, h, seconds);
            dm_subs_destroy(&s);
        }
    }
    return ret;
}
