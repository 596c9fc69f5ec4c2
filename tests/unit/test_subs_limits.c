/*
 * test_subs_limits.c - the bounds on what a subtitle script may ask libass to
 * draw (renderer/subs/subs_limits.c): each kind of value beyond its bound is
 * written as the bound, real scripts' values are left alone, relative font
 * sizes are followed as libass applies them, and a hostile script drawn at
 * 1280x720 stays within a few megabytes where unbounded it takes hundreds
 * (libass issue #928).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "subs_internal.h"

#define HEADER                                                                                           \
    "[Script Info]\nScriptType: v4.00+\nPlayResX: 1280\nPlayResY: 720\n\n[V4+ Styles]\n"                 \
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, " \
    "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "       \
    "Alignment, MarginL, MarginR, MarginV, Encoding\n"                                                   \
    "Style: Default,DejaVu Sans,36,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2," \
    "2,10,10,10,1\n"                                                                                     \
    "Style: Huge,DejaVu Sans,99999,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,9000,100,0,0,1,"  \
    "500,2,2,10,10,10,1\n\n[Events]\n"                                                                   \
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"

/* Each case: an event's text, what it must become, and how many values it limits. */
static const struct {
    const char *in, *out;
    size_t limited;
} cases[] = {
    /* real scripts' values: left as they are */
    {"{\\fs60\\fscx120\\bord3\\t(0,500,\\fscx150)}Sign", "{\\fs60\\fscx120\\bord3\\t(0,500,\\fscx150)}Sign", 0},
    {"{\\p1}m 0 0 l 100 0 100 100{\\p0}", "{\\p1}m 0 0 l 100 0 100 100{\\p0}", 0},
    {"{\\clip(0,0,99999,99999)\\pos(99999,99999)}far", "{\\clip(0,0,99999,99999)\\pos(99999,99999)}far", 0},
    {"{\\fs+5}a{\\fs-5}b", "{\\fs+5}a{\\fs-5}b", 0},
    /* libass #928's script: scales */
    {"{\\fscx200\\fscy200\\t(\\fscx9000\\fscy9000)}OOM", "{\\fscx200\\fscy200\\t(\\fscx400\\fscy400)}OOM", 2},
    /* font sizes, absolute and relative (36 * 11 = 396, then 4356 > 720) */
    {"{\\fs1e9}a", "{\\fs720}a", 1},
    {"{\\fs+100\\fs+100}x", "{\\fs+100\\fs720}x", 1},
    {"{\\fs--100\\fs--100}x", "{\\fs--100\\fs720}x", 1},
    {"{\\fs+100}a{\\r\\fs+100}b", "{\\fs+100}a{\\r\\fs+100}b", 0},
    /* borders, shadows, spacing */
    {"{\\bord500\\shad-500\\xbord91\\ybord90}a", "{\\bord90\\shad-90\\xbord90\\ybord90}a", 3},
    {"{\\fsp100000}a", "{\\fsp360}a", 1},
    /* drawings: within twice PlayRes at \p1, more at a coarser \p */
    {"{\\p1}m 0 0 l 100000 0 100000 -99999{\\p0}", "{\\p1}m 0 0 l 2560 0 2560 -1440{\\p0}", 3},
    {"{\\p3}m 0 0 l 10000 0{\\p0}", "{\\p3}m 0 0 l 10000 0{\\p0}", 0},
    /* vector clips are drawings */
    {"{\\clip(m 0 0 l 99999 0 0 99999)}a", "{\\clip(m 0 0 l 2560 0 0 1440)}a", 2},
    {"{\\iclip(2,m 0 0 l 99999 0)}a", "{\\iclip(2,m 0 0 l 5120 0)}a", 1},
    /* odd numbers */
    {"{\\fscx1e400\\fscy-5}a", "{\\fscx400\\fscy-5}a", 1},
};

static void test_rewrites(void **state)
{
    (void)state;
    ASS_Library *lib = ass_library_init();
    ASS_Track *t;
    char script[8192];
    size_t o = 0, want = 2;  /* the Huge style's size and scale */

    assert_non_null(lib);
    o += (size_t)snprintf(script + o, sizeof script - o, "%s", HEADER);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o += (size_t)snprintf(script + o, sizeof script - o, "Dialogue: 0,0:00:00.00,0:00:05.00,Default,,0,0,0,,%s\n",
                              cases[i].in);
        want += cases[i].limited;
    }
    assert_true(o < sizeof script - 1);
    want += 1;  /* the Huge style's outline */
    t = ass_read_memory(lib, script, o, NULL);
    assert_non_null(t);
    assert_int_equal(t->n_events, (int)(sizeof cases / sizeof cases[0]));
    assert_int_equal(subs_limit_track(t), want);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(t->events[i].Text, cases[i].out);
    assert_int_equal(t->styles[t->n_styles - 1].FontSize, 720);
    assert_true(t->styles[t->n_styles - 1].ScaleX == 4.0);
    assert_true(t->styles[t->n_styles - 1].Outline == 90);
    assert_true(t->styles[t->n_styles - 2].FontSize == 36);
    /* a second pass finds nothing left to limit */
    assert_int_equal(subs_limit_track(t), 0);
    ass_free_track(t);
    ass_library_done(lib);
}

typedef struct logged {
    int limited_warnings;
} logged;

static void log_count(void *ud, int level, const char *message)
{
    logged *l = ud;
    if (level <= DM_SUBS_LOG_WARN && strstr(message, "beyond what can be drawn"))
        l->limited_warnings++;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Drawn through dm_subs at 1280x720: a glyph stretched 90 times at 200 px
 * would be a 18000-pixel square bitmap (over 300 MB each); bounded, it is
 * 800 pixels. */
static void test_hostile_memory(void **state)
{
    (void)state;
    static const char ass[] = HEADER
        "Dialogue: 0,0:00:00.00,0:00:05.00,Default,,0,0,0,,plain\n"
        "Dialogue: 0,0:00:01.00,0:00:05.00,Default,,0,0,0,,{\\fs200\\fscx9000\\fscy9000\\t(\\fscx9100)}OOM\n";
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    dm_subs *s;
    dm_subs_frame f;
    logged l = {0};
    char err[256];
    long before, grew;
    int changed;

    o.video_w = 1280;
    o.video_h = 720;
    o.log = log_count;
    o.log_ud = &l;
    assert_int_equal(dm_subs_open_memory(&s, ass, sizeof ass - 1, "ass", "hostile.ass", &o, err, sizeof err), 0);
    assert_int_equal(dm_subs_render(s, 500, 1280, 720, &f, &changed), 0);  /* fonts loaded, caches warm */
    before = maxrss_kb();
    for (int64_t t = 1000; t <= 4000; t += 500)
        assert_int_equal(dm_subs_render(s, t, 1280, 720, &f, &changed), 0);
    grew = maxrss_kb() - before;
    print_message("peak memory grew by %ld KB drawing the hostile line\n", grew);
    assert_true(grew < 64 * 1024);
    assert_int_equal(l.limited_warnings, 1);  /* said once per track, however often it is built */
    dm_subs_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrites),
        cmocka_unit_test(test_hostile_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
