/*
 * bench-text.c - measuring real text with the real fonts, as the layout
 * does for every comment: comments/s and glyphs/s on one core, for a
 * generated track of short and long comments in several scripts (Chinese,
 * Japanese, Korean, Latin, Cyrillic, Arabic, Thai, emoji), then the same
 * track laid out whole (text measured and lanes allocated) and laid out
 * again at another stage size, as a window resize does; then a
 * 10,000-comment scene resized, to the same font size and to a new one,
 * measured on one thread and with helper threads (wall time); then the
 * player's resize, laid out near the film's time (near_playhead).
 *
 *     bench-text [COMMENTS] [--font NAME] [--track FILE]... [--check]
 *
 * With --track, the tracks given (a real audience's text) instead of the
 * generated one. With --check, no timing: every run of every comment is
 * measured both ways, as the layout does and with SDL_ttf's TTF_SizeUTF8,
 * and the runs that differ are counted (exit 1 if any).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "danmaku.h"
#include "text.h"

/* Pieces comments are made of; most are one glyph. */
static const char *const pieces[] = {
    "前", "方", "高", "能", "哈", "草", "好", "看", "弹", "幕", "来", "了", "神", "回", "泪", "目", "爷", "青",
    "あ", "り", "が", "と", "う", "カ", "ワ", "イ", "イ", "草", "w", "w",
    "대", "박", "ㅋ", "ㅋ", "좋", "아",
    "n", "i", "c", "e", " ", "l", "o", "l", "6", "6", "6", "!", "?", "A", "W",
    "П", "р", "и", "в", "е", "т",
    "مرحبا", "สวัสดี", "😂", "🎉", "👍",
};

static int random_comment(char *buf, size_t cap, unsigned *seed, int *glyphs)
{
    int long_one = rand_r(seed) % 20 == 0;
    int n = long_one ? 40 + (int)(rand_r(seed) % 60) : 2 + (int)(rand_r(seed) % 12);
    size_t o = 0;

    *glyphs = 0;
    for (int i = 0; i < n; i++) {
        const char *p = pieces[rand_r(seed) % (sizeof pieces / sizeof pieces[0])];
        size_t l = strlen(p);
        if (o + l + 1 >= cap)
            break;
        memcpy(buf + o, p, l);
        o += l;
        (*glyphs)++;
    }
    buf[o] = 0;
    return (int)o;
}

int main(int argc, char **argv)
{
    long n = 1000000;
    const char *font = NULL, *tracks[16];
    int ntracks = 0, check = 0;
    char err[256], text[1024];
    unsigned seed = 2026;
    dm_text *t;
    dm_track track;
    long glyphs = 0, failed = 0;
    double t0, dt;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--font") && i + 1 < argc)
            font = argv[++i];
        else if (!strcmp(argv[i], "--track") && i + 1 < argc && ntracks < 16)
            tracks[ntracks++] = argv[++i];
        else if (!strcmp(argv[i], "--check"))
            check = 1;
        else if (atol(argv[i]) > 0)
            n = atol(argv[i]);
        else {
            fprintf(stderr, "usage: bench-text [COMMENTS] [--font NAME] [--track FILE]... [--check]\n");
            return 2;
        }
    }
    t = dm_text_new(font, DM_TEXT_OUTLINE_DEFAULT, err, sizeof err);
    if (!t) {
        fprintf(stderr, "bench-text: %s\n", err);
        return 1;
    }
    dm_track_init(&track);
    for (int i = 0; i < ntracks; i++) {
        dm_diag diag = { 0 };
        if (dm_read_file(&track, tracks[i], DM_FORMAT_UNKNOWN, &diag)) {
            fprintf(stderr, "bench-text: %s\n", diag.error);
            return 1;
        }
    }
    if (ntracks) {
        n = (long)track.count;
        for (size_t i = 0; i < track.count; i++) {
            const unsigned char *p = (const unsigned char *)track.items[i].text;
            for (; p && *p; p++)
                glyphs += (*p & 0xC0) != 0x80;
        }
    }
    for (long i = 0; !ntracks && i < n; i++) {
        dm_comment c = { .t_ms = i * 25, .mode = DM_MODE_SCROLL, .size = DM_SIZE_NORMAL, .color = 0xFFFFFF,
                         .weight = -1, .count = 1 };
        int g;
        random_comment(text, sizeof text, &seed, &g);
        glyphs += g;
        c.text = text;
        c.size = rand_r(&seed) % 10 == 0 ? DM_SIZE_LARGE : rand_r(&seed) % 10 == 0 ? DM_SIZE_SMALL : DM_SIZE_NORMAL;
        if (dm_track_push(&track, &c))
            return 1;
    }
    printf("%s: %ld comments, %ld code points (%.1f a comment), font %s\n",
           ntracks ? "tracks" : "generated track, 8 scripts and emoji", n, glyphs, (double)glyphs / n,
           dm_text_family(t));

    if (check) {
        dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
        uint64_t checks = 0, mismatches = 0;
        dm_text_check_widths(t, 1);
        for (long i = 0; i < n; i++) {
            int w, h;
            failed += dm_text_measure(t, track.items[i].text, dm_layout_height_px(&lo, track.items[i].size), &w, &h) < 0;
        }
        dm_text_width_checks(t, &checks, &mismatches);
        printf("check: %llu runs measured both ways, %llu differ (%ld comments could not be measured)\n",
               (unsigned long long)checks, (unsigned long long)mismatches, failed);
        dm_track_clear(&track);
        dm_text_free(&t);
        return mismatches ? 1 : 0;
    }
    /* 1. measuring every comment once, as the layout does */
    {
        dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
        t0 = dm_thread_cpu_now();
        for (long i = 0; i < n; i++) {
            int w, h;
            failed += dm_text_measure(t, track.items[i].text, dm_layout_height_px(&lo, track.items[i].size), &w, &h) < 0;
        }
        dt = dm_thread_cpu_now() - t0;
        printf("measure             %9.0f comments/s  %10.0f glyphs/s  (%.3f s thread CPU, %ld could not be measured)\n",
               n / dt, glyphs / dt, dt, failed);
    }
    /* 2. the whole track laid out, text measured by the scene at 1080p, then a resize to 720p */
    {
        dm_scene_opts so = { .layout = DM_LAYOUT_OPTS_DEFAULT, .measure = dm_text_measure, .measure_ud = t };
        dm_layout_opts small = dm_layout_opts_for_stage(&so.layout, 1280, 720, 0);
        dm_scene *sc = dm_scene_new(&so, NULL);
        size_t shown = 0;
        if (!sc || dm_scene_add_track(sc, &track))
            return 1;
        t0 = dm_thread_cpu_now();
        if (dm_scene_layout(sc, NULL))
            return 1;
        dt = dm_thread_cpu_now() - t0;
        for (size_t i = 0; i < dm_scene_count(sc); i++)
            shown += dm_scene_placed(sc)[i].shown;
        printf("layout, 1920x1080   %9.0f comments/s  (%.3f s thread CPU, %.1f %% shown)\n", n / dt, dt, 100.0 * shown / n);
        t0 = dm_thread_cpu_now();
        if (dm_scene_set_layout(sc, &small, NULL))
            return 1;
        dt = dm_thread_cpu_now() - t0;
        printf("resize to 1280x720  %9.0f comments/s  (%.3f s thread CPU: %.2f ms for 10,000 comments)\n", n / dt, dt,
               dt * 1000 * 10000 / n);
        dm_scene_free(&sc);
    }
    /* 3. a window resize of a 10,000-comment scene (the first 10,000 comments, text measured afresh):
     * to a stage of the same font size (the player with --font-px), then to a new font size, as the
     * player lays its scene out again on a resize; wall time, measured on this thread alone and then
     * with helper threads measuring ahead (as the programs do), side by side */
    {
        static const struct { int w, h, font_px; const char *what; } stages[] = {
            { 1600, 900, 48, "resize to 1600x900, same font size (48 px)" },
            { 1280, 720, 0, "resize to 1280x720, new font size (32 px)" },
            { 1920, 1080, 48, "resize back to 1920x1080 (48 px)" },
        };
        enum { STAGES = sizeof stages / sizeof stages[0] };
        size_t m = track.count < 10000 ? track.count : 10000;
        double ms[2][STAGES + 1];
        uint64_t ahead = 0, here = 0;
        dm_track first = track;

        first.count = m;
        for (int mode = 0; mode < 2; mode++) {
            dm_text *t2 = dm_text_new(font, DM_TEXT_OUTLINE_DEFAULT, err, sizeof err);
            dm_scene_opts so = { .layout = DM_LAYOUT_OPTS_DEFAULT, .measure = dm_text_measure, .measure_ud = t2,
                                 .measure_clone = dm_text_measure_clone,
                                 .measure_clone_free = dm_text_measure_clone_free, .measure_threads = mode ? 0 : -1 };
            dm_scene *sc = t2 ? dm_scene_new(&so, NULL) : NULL;
            if (!sc || dm_scene_add_track(sc, &first))
                return 1;
            t0 = dm_now();
            if (dm_scene_layout(sc, NULL))
                return 1;
            ms[mode][0] = (dm_now() - t0) * 1000;
            for (size_t k = 0; k < STAGES; k++) {
                dm_layout_opts lo = dm_layout_opts_for_stage(&so.layout, stages[k].w, stages[k].h, stages[k].font_px);
                t0 = dm_now();
                if (dm_scene_set_layout(sc, &lo, NULL))
                    return 1;
                ms[mode][k + 1] = (dm_now() - t0) * 1000;
            }
            if (mode)
                dm_scene_measure_counts(sc, &ahead, &here);
            dm_scene_free(&sc);
            dm_text_free(&t2);
        }
        printf("%zu comments, wall ms:                            one thread   with helpers\n", m);
        printf("  %-44s %9.2f   %9.2f\n", "first layout at 1920x1080", ms[0][0], ms[1][0]);
        for (size_t k = 0; k < STAGES; k++)
            printf("  %-44s %9.2f   %9.2f\n", stages[k].what, ms[0][k + 1], ms[1][k + 1]);
        printf("  (with helpers: %llu comments measured ahead, %llu on the scene's thread)\n",
               (unsigned long long)ahead, (unsigned long long)here);

        /* 4. the player's resize (near_playhead): the film at the middle of the track, the new
         * font size laid out near its time, then the film playing on at 60 frames a second for
         * 10 s (each frame's query lays out the comments it reaches), then a seek back to the start
         * (the whole track at the new size) */
        {
            dm_text *t2 = dm_text_new(font, DM_TEXT_OUTLINE_DEFAULT, err, sizeof err);
            dm_scene_opts so = { .layout = DM_LAYOUT_OPTS_DEFAULT, .measure = dm_text_measure, .measure_ud = t2,
                                 .near_playhead = 1 };
            dm_layout_opts lo = dm_layout_opts_for_stage(&so.layout, 1280, 720, 0);
            dm_scene *sc = t2 ? dm_scene_new(&so, NULL) : NULL;
            const dm_visible *v;
            size_t nv;
            double at = (double)first.items[m / 2].t_ms, resize, worst = 0, back;
            if (!sc || dm_scene_add_track(sc, &first) || dm_scene_layout(sc, NULL) ||
                dm_scene_query_exact(sc, at, &v, &nv, NULL))
                return 1;
            t0 = dm_now();
            if (dm_scene_set_layout(sc, &lo, NULL))
                return 1;
            resize = (dm_now() - t0) * 1000;
            for (int f = 0; f < 600; f++) {
                t0 = dm_now();
                if (dm_scene_query_exact(sc, at + f * 1000.0 / 60, &v, &nv, NULL))
                    return 1;
                dt = (dm_now() - t0) * 1000;
                worst = dt > worst ? dt : worst;
            }
            t0 = dm_now();
            if (dm_scene_query_exact(sc, 0, &v, &nv, NULL))
                return 1;
            back = (dm_now() - t0) * 1000;
            printf("the player's resize, the film at %.0f s (one thread, wall ms):\n", at / 1000);
            printf("  %-44s %9.2f\n", "resize to 1280x720, new font size (32 px)", resize);
            printf("  %-44s %9.2f\n", "then 10 s of frames at 60 Hz, worst frame", worst);
            printf("  %-44s %9.2f\n", "then a seek back to the start (all of it)", back);
            dm_scene_free(&sc);
            dm_text_free(&t2);
        }
    }
    dm_track_clear(&track);
    dm_text_free(&t);
    return 0;
}
