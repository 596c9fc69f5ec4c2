/*
 * test_subs.c - dm_subs against the films tests/subs/make-films.sh makes at
 * test time (mov_text in MP4, two SubRip tracks in MKV, ASS signs with an
 * attached font in MKV, WebVTT in WebM, a GBK .srt beside an MP4, DVD
 * pictures), and the helpers on their own: encodings, the auto-load rule,
 * track choice, delay and scale, the exactness of the obstacle boxes against
 * the drawn pixels, determinism and seek consistency, malformed files.
 * A film that could not be made is reported skipped (exit 77), never passed.
 * No test depends on how fast anything runs.
 */
#include <iconv.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dvdsub_layout.h"
#include "subs.h"

static int g_skipped;

/* Path of a test film, or NULL (and the test is skipped) when it is missing. */
static const char *film(const char *name)
{
    static char path[8][1024];
    static int next;
    const char *dir = getenv("DM_SUBS_FILMS");
    char *p = path[next++ % 8];
    struct stat st;

    snprintf(p, sizeof path[0], "%s/%s", dir ? dir : "subs-films", name);
    if (stat(p, &st) != 0) {
        print_message("film %s missing (was it made? see tests/subs/make-films.sh)\n", p);
        return NULL;
    }
    return p;
}

#define NEED(var, name)              \
    const char *var = film(name);    \
    if (!var) {                      \
        g_skipped++;                 \
        skip();                      \
    }

/* ------------------------------------------------------------ helpers */

typedef struct logbuf {
    char text[65536];
    size_t len;
    int warnings;
} logbuf;

static void log_capture(void *ud, int level, const char *msg)
{
    logbuf *l = ud;
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%d %s\n", level, msg);
    if (n > 0 && l->len + (size_t)n < sizeof l->text)
        l->len += (size_t)n;
    if (level <= DM_SUBS_LOG_WARN)
        l->warnings++;
}

static void log_quiet(void *ud, int level, const char *msg)
{
    (void)ud;
    (void)level;
    (void)msg;
}

static dm_subs *open_film(const char *path, int sid, const char *slang)
{
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    dm_subs *s = NULL;
    char err[512];
    int r;

    o.sid = sid;
    o.slang = slang;
    o.log = log_quiet;
    r = dm_subs_open(&s, path, &o, err, sizeof err);
    if (r != 0)
        fail_msg("dm_subs_open(%s): %d %s", path, r, err);
    return s;
}

typedef struct pbox {
    int x0, y0, x1, y1;  /* half-open; x1 <= x0 when empty */
} pbox;

/* Draw the frame at t onto a transparent w x h picture (caller frees). */
static uint32_t *draw(dm_subs *s, int64_t t, int w, int h, int *changed)
{
    dm_subs_frame f;
    uint32_t *px = calloc((size_t)w * (size_t)h, 4);
    int ch;
    assert_non_null(px);
    assert_int_equal(dm_subs_render(s, t, w, h, &f, &ch), 0);
    assert_int_equal(f.stage_w, w);
    assert_int_equal(f.stage_h, h);
    for (size_t i = 0; i < f.count; i++) {
        assert_true(f.rects[i].x >= 0 && f.rects[i].y >= 0);
        assert_true(f.rects[i].x + f.rects[i].w <= w && f.rects[i].y + f.rects[i].h <= h);
        for (size_t j = 0; j < i; j++) {  /* rectangles never overlap */
            const dm_subs_rect *a = &f.rects[i], *b = &f.rects[j];
            assert_false(a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h &&
                         b->y < a->y + a->h);
        }
    }
    dm_subs_frame_blend(&f, px, w, h, w * 4, 0, 0);
    if (changed)
        *changed = ch;
    return px;
}

/* Box of the pixels with any alpha inside `within` (NULL: everywhere). */
static pbox ink(const uint32_t *px, int w, int h, const pbox *within)
{
    pbox r = {w, h, 0, 0};
    pbox a = within ? *within : (pbox){0, 0, w, h};
    for (int y = a.y0 < 0 ? 0 : a.y0; y < a.y1 && y < h; y++)
        for (int x = a.x0 < 0 ? 0 : a.x0; x < a.x1 && x < w; x++)
            if (px[(size_t)y * (size_t)w + (size_t)x] >> 24) {
                if (x < r.x0)
                    r.x0 = x;
                if (y < r.y0)
                    r.y0 = y;
                if (x + 1 > r.x1)
                    r.x1 = x + 1;
                if (y + 1 > r.y1)
                    r.y1 = y + 1;
            }
    return r;
}

static size_t count_ink(const uint32_t *px, int w, int h)
{
    size_t n = 0;
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
        n += (px[i] >> 24) != 0;
    return n;
}

static pbox obox(const dm_obstacle *o)
{
    return (pbox){o->x, o->y, o->x + o->w, o->y + o->h};
}

static dm_obstacle *obstacles(dm_subs *s, int w, int h, size_t *n)
{
    dm_obstacle *ob = NULL;
    char err[256];
    int r = dm_subs_obstacles(s, w, h, &ob, n, err, sizeof err);
    if (r != 0)
        fail_msg("dm_subs_obstacles: %d %s", r, err);
    return ob;
}

/* The obstacle of event `id` ("sub-2") active at t, or NULL. */
static const dm_obstacle *find_ob(const dm_obstacle *ob, size_t n, const char *id, int64_t t)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ob[i].id, id) == 0 && ob[i].start_ms <= t && t < ob[i].end_ms)
            return &ob[i];
    return NULL;
}

/*
 * The exactness check: at times inside every box's span (its start, middle
 * and last millisecond), every drawn pixel lies in a box active then, and a
 * box of an event that does not move (listed in `still`, e.g. "sub-1,sub-2")
 * is exactly the box of the drawn pixels inside it.
 */
static void check_exact(dm_subs *s, int w, int h, const char *still)
{
    size_t n;
    dm_obstacle *ob = obstacles(s, w, h, &n);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        int64_t ts[3] = {ob[i].start_ms, (ob[i].start_ms + ob[i].end_ms) / 2, ob[i].end_ms - 1};
        for (int k = 0; k < 3; k++) {
            uint32_t *px = draw(s, ts[k], w, h, NULL);
            size_t outside = 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int in = 0;
                    if (!(px[(size_t)y * (size_t)w + (size_t)x] >> 24))
                        continue;
                    for (size_t j = 0; j < n && !in; j++)
                        in = ob[j].start_ms <= ts[k] && ts[k] < ob[j].end_ms && x >= ob[j].x &&
                             x < ob[j].x + ob[j].w && y >= ob[j].y && y < ob[j].y + ob[j].h;
                    outside += !in;
                }
            if (outside)
                fail_msg("t=%lld: %zu drawn pixels outside every box", (long long)ts[k], outside);
            {
                char id[40];
                snprintf(id, sizeof id, "%s,", ob[i].id);
                if (still && strstr(still, id)) {
                    pbox b = obox(&ob[i]);
                    pbox in = ink(px, w, h, &b);
                    if (in.x0 != b.x0 || in.y0 != b.y0 || in.x1 != b.x1 || in.y1 != b.y1)
                        fail_msg("%s at t=%lld: box %d,%d %dx%d, drawn %d,%d %dx%d", ob[i].id,
                                 (long long)ts[k], ob[i].x, ob[i].y, ob[i].w, ob[i].h, in.x0, in.y0,
                                 in.x1 - in.x0, in.y1 - in.y0);
                }
            }
            free(px);
        }
    }
    free(ob);
}

/* ------------------------------------------------------------ films */

static void test_mov_text(void **state)
{
    (void)state;
    NEED(path, "mov_text.mp4");
    dm_subs *s = open_film(path, DM_SUBS_SID_AUTO, NULL);
    dm_subs_track t;
    size_t n;
    dm_obstacle *ob;
    uint32_t *px;

    assert_int_equal(dm_subs_track_count(s), 1);
    assert_int_equal(dm_subs_track_get(s, 1, &t), 0);
    assert_string_equal(t.codec, "mov_text");
    assert_int_equal(t.kind, DM_SUBS_TEXT);
    assert_string_equal(t.lang, "eng");
    assert_int_equal(t.events, 2);
    assert_false(t.external);
    assert_int_equal(dm_subs_sid(s), 1);  /* MP4 marks it enabled: the default */

    ob = obstacles(s, 640, 360, &n);
    assert_int_equal(n, 2);
    assert_string_equal(ob[0].id, "sub-1");
    assert_string_equal(ob[0].kind, "subtitle");
    assert_int_equal(ob[0].start_ms, 1000);
    assert_int_equal(ob[0].end_ms, 2500);
    assert_int_equal(ob[1].start_ms, 3000);
    assert_true(ob[0].y > 360 / 2);           /* a bottom line */
    assert_true(ob[1].h > ob[0].h * 3 / 2);   /* two rows */

    px = draw(s, 1500, 640, 360, NULL);       /* text where the box is, nothing else */
    {
        pbox all = ink(px, 640, 360, NULL), b = obox(&ob[0]);
        assert_int_equal(all.x0, b.x0);
        assert_int_equal(all.y0, b.y0);
        assert_int_equal(all.x1, b.x1);
        assert_int_equal(all.y1, b.y1);
    }
    free(px);
    px = draw(s, 500, 640, 360, NULL);
    assert_int_equal(count_ink(px, 640, 360), 0);
    free(px);
    px = draw(s, 2600, 640, 360, NULL);
    assert_int_equal(count_ink(px, 640, 360), 0);
    free(px);
    free(ob);
    check_exact(s, 640, 360, "sub-1,sub-2,");
    dm_subs_destroy(&s);
    assert_null(s);
}

static void test_srt_mkv(void **state)
{
    (void)state;
    NEED(path, "srt.mkv");
    dm_subs *s = open_film(path, DM_SUBS_SID_AUTO, NULL);
    dm_subs_track t1, t2;
    uint32_t *en, *zh;

    assert_int_equal(dm_subs_track_count(s), 2);
    dm_subs_track_get(s, 1, &t1);
    dm_subs_track_get(s, 2, &t2);
    assert_string_equal(t1.codec, "subrip");
    assert_string_equal(t1.lang, "eng");
    assert_string_equal(t1.title, "English");
    assert_true(t1.is_default);
    assert_string_equal(t2.lang, "chi");
    assert_false(t2.is_default);
    assert_int_equal(t2.stream_index, 2);
    assert_int_equal(dm_subs_sid(s), 1);

    en = draw(s, 1500, 640, 360, NULL);
    assert_true(count_ink(en, 640, 360) > 200);
    assert_int_equal(dm_subs_select(s, 2, NULL, 0), 0);
    zh = draw(s, 1500, 640, 360, NULL);       /* CJK through libass's font fallback */
    assert_true(count_ink(zh, 640, 360) > 200);
    assert_memory_not_equal(en, zh, 640 * 360 * 4);
    free(en);
    free(zh);
    check_exact(s, 640, 360, "sub-1,sub-2,");
    dm_subs_destroy(&s);
}

static void test_signs_mkv(void **state)
{
    (void)state;
    NEED(path, "signs.mkv");
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    dm_subs *s;
    logbuf *log = calloc(1, sizeof *log);
    char err[256];
    size_t n;
    dm_obstacle *ob;
    const dm_obstacle *sign, *line;
    uint32_t *px;

    o.sid = 1;
    o.log = log_capture;
    o.log_ud = log;
    assert_int_equal(dm_subs_open(&s, path, &o, err, sizeof err), 0);
    ob = obstacles(s, 640, 360, &n);
    sign = find_ob(ob, n, "sub-1", 1000);
    line = find_ob(ob, n, "sub-2", 1000);
    assert_non_null(sign);
    assert_non_null(line);
    assert_true(sign->y < 40);                /* \an8\pos(320,12): at the top */
    assert_true(line->y > 300);               /* dialogue at the bottom */
    assert_int_equal(sign->start_ms, 500);
    assert_int_equal(sign->end_ms, 3000);
    /* \pos(320, ...) centres it: the box straddles x = 320 */
    assert_true(sign->x < 320 && sign->x + sign->w > 320);

    /* the regular face of the style's font came from the attachment: libass
     * names a font it read from memory without a path */
    px = draw(s, 1000, 640, 360, NULL);
    free(px);
    if (!strstr(log->text, "fontselect: (DejaVu Serif, 400, 0) -> DejaVuSerif,"))
        fail_msg("libass did not use the attached DejaVu Serif; its messages:\n%s", log->text);
    assert_null(strstr(log->text, "(DejaVu Serif, 400, 0) -> /"));
    /* no frame had to fall back to one box for all events */
    assert_null(strstr(log->text, "could not be told apart"));

    /* \move: a run of boxes sliding right, covering the motion */
    {
        const dm_obstacle *a = find_ob(ob, n, "sub-3", 3600), *b = find_ob(ob, n, "sub-3", 5400);
        assert_non_null(a);
        assert_non_null(b);
        assert_true(b->x > a->x + 200);
        assert_int_equal(a->y, b->y);
    }
    /* colliding lines: the second is stacked above the first and stays there
     * after the first ends; the third takes the free bottom place */
    {
        const dm_obstacle *first = find_ob(ob, n, "sub-4", 7500), *second = find_ob(ob, n, "sub-5", 7500);
        const dm_obstacle *second_late = find_ob(ob, n, "sub-5", 9700), *third = find_ob(ob, n, "sub-6", 9700);
        assert_non_null(first);
        assert_non_null(second);
        assert_non_null(second_late);
        assert_non_null(third);
        assert_true(second->y + second->h <= first->y);
        assert_int_equal(second_late->y, second->y);
        assert_true(third->y > second->y);
    }
    /* karaoke changes colours, not what is covered: one box */
    {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            k += strcmp(ob[i].id, "sub-7") == 0;
        assert_int_equal(k, 1);
    }
    free(ob);
    check_exact(s, 640, 360, "sub-1,sub-2,sub-4,sub-5,sub-6,sub-7,");
    check_exact(s, 1280, 720, "sub-1,sub-2,sub-4,sub-5,sub-6,sub-7,");
    dm_subs_destroy(&s);
    free(log);
}

static void test_webvtt_webm(void **state)
{
    (void)state;
    NEED(path, "webvtt.webm");
    dm_subs *s = open_film(path, 1, NULL);
    dm_subs_track t;
    uint32_t *px;

    assert_int_equal(dm_subs_track_count(s), 1);
    dm_subs_track_get(s, 1, &t);
    assert_string_equal(t.codec, "webvtt");
    assert_int_equal(t.events, 2);
    px = draw(s, 3500, 640, 360, NULL);
    assert_true(count_ink(px, 640, 360) > 200);
    free(px);
    check_exact(s, 640, 360, "sub-1,sub-2,");
    dm_subs_destroy(&s);
}

static void test_gbk_beside_mp4(void **state)
{
    (void)state;
    NEED(path, "gbk.mp4");
    NEED(srt, "gbk.srt");
    dm_subs *s = open_film(path, DM_SUBS_SID_AUTO, NULL);
    dm_subs_track t;
    size_t len;
    char *bytes, *utf8 = NULL, used[32];
    FILE *f;
    uint32_t *px;

    assert_int_equal(dm_subs_track_count(s), 1);
    dm_subs_track_get(s, 1, &t);
    assert_true(t.external);
    assert_true(t.auto_loaded);
    assert_string_equal(t.codec, "subrip");
    assert_string_equal(t.codepage, "GB18030");  /* uchardet's name for GBK text */
    assert_int_equal(dm_subs_sid(s), 1);        /* a file beside the film is picked */
    px = draw(s, 1500, 640, 360, NULL);
    assert_true(count_ink(px, 640, 360) > 500);
    free(px);
    dm_subs_destroy(&s);

    /* the text converts to what was written */
    f = fopen(srt, "rb");
    assert_non_null(f);
    bytes = malloc(4096);
    len = fread(bytes, 1, 4096, f);
    fclose(f);
    assert_int_equal(dm_subs_to_utf8(bytes, len, NULL, &utf8, NULL, used, sizeof used, NULL, 0), 0);
    assert_non_null(strstr(utf8, "你好，世界。这是一个中文字幕测试。"));
    free(utf8);
    free(bytes);

    /* without auto-load, nothing */
    {
        dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
        char err[256];
        o.auto_load = 0;
        assert_int_equal(dm_subs_open(&s, path, &o, err, sizeof err), 0);
        assert_int_equal(dm_subs_track_count(s), 0);
        assert_int_equal(dm_subs_sid(s), DM_SUBS_SID_NO);
        dm_subs_destroy(&s);
    }
}

static void check_dvd_boxes(dm_subs *s, int w, int h)
{
    size_t n;
    dm_obstacle *ob = obstacles(s, w, h, &n);
    assert_int_equal(n, DVDSUB_EVENTS);
    for (size_t i = 0; i < DVDSUB_EVENTS; i++) {
        const dvdsub_event *e = &dvdsub_events[i];
        int pw = DVDSUB_TEXT_W((int)strlen(e->text)), ph = DVDSUB_TEXT_H;
        int x0 = e->x * w / DVDSUB_CANVAS_W, y0 = e->y * h / DVDSUB_CANVAS_H;
        int x1 = ((e->x + pw) * w + DVDSUB_CANVAS_W - 1) / DVDSUB_CANVAS_W;
        int y1 = ((e->y + ph) * h + DVDSUB_CANVAS_H - 1) / DVDSUB_CANVAS_H;
        uint32_t *px;
        pbox in;
        assert_int_equal(ob[i].x, x0);
        assert_int_equal(ob[i].y, y0);
        assert_int_equal(ob[i].w, x1 - x0);
        assert_int_equal(ob[i].h, y1 - y0);
        assert_int_equal(ob[i].start_ms, e->start_ms);
        /* DVD stop times are counted in 1/90000 s * 1024 steps */
        assert_true(ob[i].end_ms > e->end_ms - 20 && ob[i].end_ms <= e->end_ms);
        px = draw(s, (e->start_ms + e->end_ms) / 2, w, h, NULL);
        in = ink(px, w, h, NULL);
        assert_int_equal(in.x0, x0);
        assert_int_equal(in.y0, y0);
        assert_int_equal(in.x1, x1);
        assert_int_equal(in.y1, y1);
        {   /* white text on the dark plate */
            size_t white = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                    white += (px[(size_t)y * (size_t)w + (size_t)x] & 0xFFFFFF) > 0xE0E0E0;
            assert_true(white > 20);
        }
        free(px);
    }
    free(ob);
}

static void test_dvdsub(void **state)
{
    (void)state;
    NEED(path, "dvdsub.mkv");
    dm_subs *s = open_film(path, 1, NULL);
    dm_subs_track t;
    uint32_t *px;

    dm_subs_track_get(s, 1, &t);
    assert_int_equal(t.kind, DM_SUBS_BITMAP);
    assert_string_equal(t.codec, "dvd_subtitle");
    assert_int_equal(t.events, DVDSUB_EVENTS);
    check_dvd_boxes(s, 1440, 960);   /* twice the canvas */
    check_dvd_boxes(s, 640, 360);    /* not a whole multiple */
    px = draw(s, 500, 640, 360, NULL);
    assert_int_equal(count_ink(px, 640, 360), 0);
    free(px);
    check_exact(s, 640, 360, "sub-1,sub-2,");

    /* scale 2 and a delay: pictures twice the size, about their centre
     * across, held by the edge of the stage they are nearer to */
    {
        size_t n0, n1;
        dm_obstacle *a = obstacles(s, 1440, 960, &n0), *b;
        assert_int_equal(dm_subs_set_scale(s, 2.0), 0);
        dm_subs_set_delay(s, -400);
        b = obstacles(s, 1440, 960, &n1);
        assert_int_equal(n0, n1);
        for (size_t i = 0; i < n0; i++) {
            assert_int_equal(b[i].w, a[i].w * 2);
            assert_int_equal(b[i].h, a[i].h * 2);
            assert_true(abs((2 * b[i].x + b[i].w) - (2 * a[i].x + a[i].w)) <= 1);
            assert_int_equal(b[i].start_ms, a[i].start_ms - 400);
        }
        assert_int_equal(b[0].y + b[0].h, a[0].y + a[0].h);  /* the bottom one grows up */
        assert_int_equal(b[1].y, a[1].y);                    /* the top one grows down */
        free(a);
        free(b);
        check_exact(s, 1440, 960, "sub-1,sub-2,");
    }
    dm_subs_destroy(&s);
}

/* ------------------------------------------------------------ choice */

static void test_choice(void **state)
{
    (void)state;
    NEED(path, "srt.mkv");
    NEED(ext, "src-en.srt");
    dm_subs *s = open_film(path, DM_SUBS_SID_AUTO, NULL);
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    const char *files[1];
    char err[256], osd[256];

    assert_int_equal(dm_subs_default_sid(s, NULL), 1);     /* the default flag */
    assert_int_equal(dm_subs_default_sid(s, "zh"), 2);     /* "zh" matches "chi" */
    assert_int_equal(dm_subs_default_sid(s, "fr,chi,en"), 2);
    assert_int_equal(dm_subs_default_sid(s, "en"), 1);
    assert_int_equal(dm_subs_default_sid(s, "fr"), 1);
    /* j: 1 -> 2 -> none -> 1; J: 1 -> none */
    assert_int_equal(dm_subs_cycle(s, 1, NULL, 0), 2);
    assert_int_equal(dm_subs_cycle(s, 1, NULL, 0), DM_SUBS_SID_NO);
    dm_subs_osd(s, osd, sizeof osd);
    assert_string_equal(osd, "Subtitles: none (2 tracks)");
    assert_int_equal(dm_subs_cycle(s, 1, NULL, 0), 1);
    assert_int_equal(dm_subs_cycle(s, -1, NULL, 0), DM_SUBS_SID_NO);
    assert_int_equal(dm_subs_cycle(s, -1, NULL, 0), 2);
    dm_subs_set_delay(s, 100);
    dm_subs_osd(s, osd, sizeof osd);
    assert_string_equal(osd, "Subtitles 2/2: [chi] Chinese (subrip) delay +0.1 s");
    assert_int_equal(dm_subs_select(s, 3, err, sizeof err), DM_EINVAL);
    assert_non_null(strstr(err, "does not exist"));
    dm_subs_destroy(&s);

    s = open_film(path, DM_SUBS_SID_AUTO, "chi");
    assert_int_equal(dm_subs_sid(s), 2);
    dm_subs_destroy(&s);
    s = open_film(path, DM_SUBS_SID_NO, NULL);
    assert_int_equal(dm_subs_sid(s), DM_SUBS_SID_NO);
    dm_subs_destroy(&s);

    o.sid = 3;
    o.log = log_quiet;
    assert_int_equal(dm_subs_open(&s, path, &o, err, sizeof err), DM_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, "has 2 subtitle tracks"));

    /* a --sub file comes after the film's tracks and is picked first */
    files[0] = ext;
    o = (dm_subs_opts)DM_SUBS_OPTS_DEFAULT;
    o.files = files;
    o.n_files = 1;
    o.slang = "chi";
    o.log = log_quiet;
    assert_int_equal(dm_subs_open(&s, path, &o, err, sizeof err), 0);
    assert_int_equal(dm_subs_track_count(s), 3);
    assert_int_equal(dm_subs_sid(s), 3);
    {
        dm_subs_track t;
        dm_subs_track_get(s, 3, &t);
        assert_true(t.external);
        assert_false(t.auto_loaded);
        assert_string_equal(t.codepage, "UTF-8");
        assert_int_equal(t.stream_index, -1);
        assert_string_equal(t.path, ext);
    }
    dm_subs_destroy(&s);
}

static void test_delay_scale(void **state)
{
    (void)state;
    NEED(path, "srt.mkv");
    dm_subs *s = open_film(path, 1, NULL);
    size_t n0, n1, n2;
    dm_obstacle *base = obstacles(s, 1280, 720, &n0), *late, *big;

    dm_subs_set_delay(s, 500);
    assert_int_equal(dm_subs_delay(s), 500);
    late = obstacles(s, 1280, 720, &n1);
    assert_int_equal(n0, n1);
    for (size_t i = 0; i < n0; i++) {
        assert_int_equal(late[i].start_ms, base[i].start_ms + 500);
        assert_int_equal(late[i].end_ms, base[i].end_ms + 500);
        assert_int_equal(late[i].x, base[i].x);
        assert_int_equal(late[i].y, base[i].y);
        assert_int_equal(late[i].w, base[i].w);
        assert_int_equal(late[i].h, base[i].h);
    }
    {   /* the drawing moves the same way */
        uint32_t *px = draw(s, 1200, 1280, 720, NULL);
        assert_int_equal(count_ink(px, 1280, 720), 0);
        free(px);
        px = draw(s, 2800, 1280, 720, NULL);
        assert_true(count_ink(px, 1280, 720) > 0);
        free(px);
    }
    dm_subs_set_delay(s, 0);
    assert_int_equal(dm_subs_set_scale(s, 1.5), 0);
    assert_int_equal(dm_subs_set_scale(s, 20), DM_EINVAL);
    big = obstacles(s, 1280, 720, &n2);
    assert_int_equal(n0, n2);
    for (size_t i = 0; i < n0; i++) {
        assert_int_equal(big[i].start_ms, base[i].start_ms);
        /* glyphs 1.5x: the box grows by about that much, still at the bottom */
        assert_true(big[i].w * 10 > base[i].w * 14 && big[i].w * 10 < base[i].w * 16);
        assert_true(big[i].h * 10 > base[i].h * 13 && big[i].h * 10 < base[i].h * 17);
        assert_true(big[i].y < base[i].y);
        assert_true(abs((big[i].y + big[i].h) - (base[i].y + base[i].h)) <= 4);
    }
    check_exact(s, 1280, 720, "sub-1,sub-2,");
    free(base);
    free(late);
    free(big);
    dm_subs_destroy(&s);
}

/* ------------------------------------------------------------ determinism */

static void test_deterministic(void **state)
{
    (void)state;
    NEED(path, "signs.mkv");
    dm_subs *a = open_film(path, 1, NULL), *b = open_film(path, 1, NULL), *c;
    size_t na, nb, nc;
    dm_obstacle *oa, *ob, *oc;
    char err[256];

    oa = obstacles(a, 1920, 1080, &na);
    /* however much was drawn before, and in whatever order */
    for (int64_t t = 12000; t > 0; t -= 1700) {
        uint32_t *px = draw(b, t, 1920, 1080, NULL);
        free(px);
    }
    ob = obstacles(b, 1920, 1080, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(oa, ob, na * sizeof *oa);
    /* a clone computes the same */
    assert_int_equal(dm_subs_clone(a, &c, err, sizeof err), 0);
    oc = obstacles(c, 1920, 1080, &nc);
    assert_int_equal(na, nc);
    assert_memory_equal(oa, oc, na * sizeof *oa);
    free(oa);
    free(ob);
    free(oc);
    dm_subs_destroy(&a);
    dm_subs_destroy(&b);
    dm_subs_destroy(&c);
}

/* What is drawn at t does not depend on where playing started: play from
 * the start, seek back and forth, open fresh at t: the same pixels. */
static void test_seek_consistent(void **state)
{
    (void)state;
    NEED(path, "signs.mkv");
    dm_subs *played = open_film(path, 1, NULL), *seeker = open_film(path, 1, NULL);
    /* frame times (multiples of 40), around the colliding lines and others */
    const int64_t checks[] = {9720, 7520, 1000, 4000, 9600, 12000, 10520};
    uint32_t *ref[sizeof checks / sizeof checks[0]] = {NULL};

    /* continuous play at 25 frames a second */
    for (int64_t t = 0; t <= 12000; t += 40) {
        uint32_t *px = draw(played, t, 640, 360, NULL);
        for (size_t k = 0; k < sizeof checks / sizeof checks[0]; k++)
            if (t == checks[k])
                ref[k] = px, px = NULL;
        free(px);
    }
    for (size_t k = 0; k < sizeof checks / sizeof checks[0]; k++) {
        dm_subs *fresh = open_film(path, 1, NULL);
        uint32_t *a = draw(seeker, checks[k], 640, 360, NULL);
        uint32_t *b = draw(fresh, checks[k], 640, 360, NULL);
        assert_non_null(ref[k]);
        assert_true(count_ink(ref[k], 640, 360) > 0);
        if (memcmp(ref[k], a, 640 * 360 * 4) != 0)
            fail_msg("t=%lld after seeking differs from playing through", (long long)checks[k]);
        if (memcmp(ref[k], b, 640 * 360 * 4) != 0)
            fail_msg("t=%lld on a fresh open differs from playing through", (long long)checks[k]);
        free(a);
        free(b);
        free(ref[k]);
        dm_subs_destroy(&fresh);
    }
    dm_subs_destroy(&played);
    dm_subs_destroy(&seeker);
}

static void test_changed_flags(void **state)
{
    (void)state;
    NEED(path, "mov_text.mp4");
    dm_subs *s = open_film(path, 1, NULL);
    dm_subs_frame f;
    int ch;
    uint64_t serial;

    assert_int_equal(dm_subs_render(s, 1200, 640, 360, &f, &ch), 0);
    assert_int_equal(ch, DM_SUBS_NEW);
    serial = f.serial;
    assert_int_equal(f.count, 1);
    assert_int_equal(dm_subs_render(s, 1200, 640, 360, &f, &ch), 0);
    assert_int_equal(ch, DM_SUBS_SAME);
    assert_int_equal(dm_subs_render(s, 2000, 640, 360, &f, &ch), 0);
    assert_int_equal(ch, DM_SUBS_SAME);                 /* the same line */
    assert_true(f.serial == serial);
    assert_int_equal(dm_subs_render(s, 2600, 640, 360, &f, &ch), 0);
    assert_int_equal(ch, DM_SUBS_NEW);                  /* gone */
    assert_int_equal(f.count, 0);
    assert_true(f.serial != serial);
    assert_int_equal(dm_subs_render(s, 2700, 640, 360, &f, &ch), 0);
    assert_int_equal(ch, DM_SUBS_SAME);
    assert_int_equal(dm_subs_render(s, 3500, 640, 360, &f, &ch), 0);
    assert_int_equal(ch, DM_SUBS_NEW);
    assert_int_equal(dm_subs_render(s, 3500, 1280, 720, &f, &ch), 0);
    assert_int_equal(ch, DM_SUBS_NEW);                  /* another stage */
    assert_int_equal(dm_subs_select(s, DM_SUBS_SID_NO, NULL, 0), 0);
    assert_int_equal(dm_subs_render(s, 3500, 1280, 720, &f, &ch), 0);
    assert_int_equal(ch, DM_SUBS_NEW);
    assert_int_equal(f.count, 0);
    assert_int_equal(dm_subs_render(s, 3600, 1280, 720, &f, &ch), 0);
    assert_int_equal(ch, DM_SUBS_SAME);
    /* blending over an opaque picture keeps it opaque */
    {
        uint32_t *px = malloc(1280 * 720 * 4);
        dm_subs_select(s, 1, NULL, 0);
        dm_subs_render(s, 3500, 1280, 720, &f, &ch);
        for (size_t i = 0; i < 1280 * 720; i++)
            px[i] = 0xFF102030;
        dm_subs_frame_blend(&f, px, 1280, 720, 1280 * 4, 0, 0);
        for (size_t i = 0; i < 1280 * 720; i++)
            assert_int_equal(px[i] >> 24, 0xFF);
        free(px);
    }
    dm_subs_destroy(&s);
}

/* A clone on another thread computes boxes while this one draws. */
typedef struct job {
    dm_subs *s;
    dm_obstacle *ob;
    size_t n;
    int ret;
} job;

static void *obstacles_job(void *arg)
{
    job *j = arg;
    j->ret = dm_subs_obstacles(j->s, 1920, 1080, &j->ob, &j->n, NULL, 0);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    NEED(path, "signs.mkv");
    dm_subs *s = open_film(path, 1, NULL);
    job j = {0};
    pthread_t th;
    size_t n;
    dm_obstacle *ob;

    assert_int_equal(dm_subs_clone(s, &j.s, NULL, 0), 0);
    assert_int_equal(pthread_create(&th, NULL, obstacles_job, &j), 0);
    for (int64_t t = 0; t < 13000; t += 100) {
        uint32_t *px = draw(s, t, 1280, 720, NULL);
        free(px);
    }
    pthread_join(th, NULL);
    assert_int_equal(j.ret, 0);
    ob = obstacles(s, 1920, 1080, &n);
    assert_int_equal(n, j.n);
    assert_memory_equal(ob, j.ob, n * sizeof *ob);
    free(ob);
    free(j.ob);
    dm_subs_destroy(&j.s);
    dm_subs_destroy(&s);
}

/* ------------------------------------------------------------ encodings */

/* Convert UTF-8 test text into `cp` with iconv (the bytes a legacy file holds). */
static char *encode(const char *utf8, const char *cp, size_t *len)
{
    iconv_t cd = iconv_open(cp, "UTF-8");
    size_t inl = strlen(utf8), outl = inl * 4 + 16;
    char *out = malloc(outl), *in = (char *)utf8, *o = out;
    assert_true(cd != (iconv_t)-1);
    assert_true(iconv(cd, &in, &inl, &o, &outl) != (size_t)-1);
    iconv_close(cd);
    *len = (size_t)(o - out);
    return out;
}

static const char zh_hans[] =
    "1\n00:00:01,000 --> 00:00:03,000\n今天晚上我们一起去看电影吧，听说这部电影非常好看。\n\n"
    "2\n00:00:04,000 --> 00:00:06,000\n我已经买好了票，七点钟在电影院门口见面。\n\n"
    "3\n00:00:07,000 --> 00:00:09,000\n别忘了带上你的眼镜，我们坐在后面几排。\n";
static const char zh_hant[] =
    "1\n00:00:01,000 --> 00:00:03,000\n今天晚上我們一起去看電影吧，聽說這部電影非常好看。\n\n"
    "2\n00:00:04,000 --> 00:00:06,000\n我已經買好了票，七點鐘在電影院門口見面。\n\n"
    "3\n00:00:07,000 --> 00:00:09,000\n別忘了帶上你的眼鏡，我們坐在後面幾排。\n";
static const char ja[] =
    "1\n00:00:01,000 --> 00:00:03,000\n今夜は一緒に映画を見に行きましょう。とても面白いそうです。\n\n"
    "2\n00:00:04,000 --> 00:00:06,000\nもうチケットは買ってあります。七時に映画館の前で会いましょう。\n\n"
    "3\n00:00:07,000 --> 00:00:09,000\n眼鏡を忘れないでください。後ろの方の席に座ります。\n";

static void check_legacy(const char *text, const char *cp, const char *detected)
{
    size_t len, ulen;
    char *bytes = encode(text, cp, &len), *utf8 = NULL, name[32], used[32];
    dm_subs *s;
    dm_subs_track t;
    char err[256];

    assert_int_equal(dm_subs_detect_codepage(bytes, len, name, sizeof name), 0);
    assert_string_equal(name, detected);
    assert_int_equal(dm_subs_to_utf8(bytes, len, NULL, &utf8, &ulen, used, sizeof used, NULL, 0), 0);
    assert_string_equal(utf8, text);
    assert_int_equal(ulen, strlen(text));
    free(utf8);
    /* the same through the reader */
    {
        dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
        o.log = log_quiet;
        assert_int_equal(dm_subs_open_memory(&s, bytes, len, "srt", "legacy.srt", &o, err, sizeof err), 0);
        dm_subs_track_get(s, 1, &t);
        assert_string_equal(t.codepage, detected);
        assert_int_equal(t.events, 3);
        dm_subs_destroy(&s);
    }
    free(bytes);
}

static void test_encodings(void **state)
{
    (void)state;
    char name[32], *out = NULL, err[256];
    size_t len;
    static const char bom8[] = "\xEF\xBB\xBF" "1\n00:00:01,000 --> 00:00:02,000\nA\n";
    static const char u16[] = "\xFF\xFE" "1\0\n\0";

    check_legacy(zh_hans, "GBK", "GB18030");
    check_legacy(zh_hant, "BIG5", "BIG5");
    check_legacy(ja, "SHIFT_JIS", "SHIFT_JIS");

    assert_int_equal(dm_subs_detect_codepage(zh_hans, strlen(zh_hans), name, sizeof name), 0);
    assert_string_equal(name, "UTF-8");
    assert_int_equal(dm_subs_detect_codepage(bom8, sizeof bom8 - 1, name, sizeof name), 0);
    assert_string_equal(name, "UTF-8");
    assert_int_equal(dm_subs_to_utf8(bom8, sizeof bom8 - 1, NULL, &out, &len, NULL, 0, NULL, 0), 0);
    assert_int_equal((unsigned char)out[0], '1');       /* the mark is gone */
    free(out);
    assert_int_equal(dm_subs_detect_codepage(u16, sizeof u16 - 1, name, sizeof name), 0);
    assert_string_equal(name, "UTF-16LE");
    assert_int_equal(dm_subs_to_utf8(u16, sizeof u16 - 1, NULL, &out, &len, NULL, 0, NULL, 0), 0);
    assert_string_equal(out, "1\n");
    free(out);

    /* the codepage override wins over detection */
    {
        char *gbk = encode(zh_hans, "GBK", &len), used[32];
        assert_int_equal(dm_subs_to_utf8(gbk, len, "GBK", &out, NULL, used, sizeof used, NULL, 0), 0);
        assert_string_equal(used, "GBK");
        assert_string_equal(out, zh_hans);
        free(out);
        /* read as Shift_JIS it is not valid text: the byte is named */
        assert_int_equal(dm_subs_to_utf8(gbk, len, "UTF-8", &out, NULL, NULL, 0, err, sizeof err), DM_EPARSE);
        assert_null(out);
        assert_non_null(strstr(err, "byte 32 is not valid UTF-8"));
        assert_int_equal(dm_subs_to_utf8(gbk, len, "NO-SUCH-CODEPAGE", &out, NULL, NULL, 0, err, sizeof err),
                         DM_EFORMAT);
        assert_non_null(strstr(err, "NO-SUCH-CODEPAGE"));
        free(gbk);
    }
}

/* ------------------------------------------------------------ auto-load */

static void touch(const char *dir, const char *name)
{
    char p[1024];
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("1\n00:00:01,000 --> 00:00:02,000\nx\n", f);
    fclose(f);
}

static void test_find_auto(void **state)
{
    (void)state;
    char dir[] = "/tmp/dm-subs-auto-XXXXXX", film_path[512], lang[16];
    char **paths;
    size_t n;
    const char *names[] = {"Film.mkv", "Film.srt", "Film.en.ass", "Film.zh-Hans.vtt", "Film.SSA",
                           "Film 2.srt", "Film.mkv.srt", "Film.txt", "Film.forced.en.srt", "Other.srt",
                           "Film.e.srt"};

    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        touch(dir, names[i]);
    snprintf(film_path, sizeof film_path, "%s/Film.mkv", dir);
    assert_int_equal(dm_subs_find_auto(film_path, &paths, &n), 0);
    assert_int_equal(n, 4);
    {
        char want[4][600];
        snprintf(want[0], sizeof want[0], "%s/Film.SSA", dir);
        snprintf(want[1], sizeof want[1], "%s/Film.srt", dir);
        snprintf(want[2], sizeof want[2], "%s/Film.en.ass", dir);
        snprintf(want[3], sizeof want[3], "%s/Film.zh-Hans.vtt", dir);
        for (int i = 0; i < 4; i++)
            assert_string_equal(paths[i], want[i]);
    }
    assert_null(paths[4]);
    dm_subs_paths_free(&paths);
    assert_null(paths);

    dm_subs_lang_from_name(film_path, "Film.zh-Hans.vtt", lang, sizeof lang);
    assert_string_equal(lang, "zh-Hans");
    dm_subs_lang_from_name(NULL, "/x/Some.Film.eng.srt", lang, sizeof lang);
    assert_string_equal(lang, "eng");
    dm_subs_lang_from_name(NULL, "/x/Film.srt", lang, sizeof lang);
    assert_string_equal(lang, "");

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    /* a folder that does not exist: nothing */
    assert_int_equal(dm_subs_find_auto("/nonexistent-dm/Film.mkv", &paths, &n), 0);
    assert_int_equal(n, 0);
    dm_subs_paths_free(&paths);
}

static void test_auto_load_lang(void **state)
{
    (void)state;
    NEED(mp4, "gbk.mp4");
    char dir[] = "/tmp/dm-subs-lang-XXXXXX", film_path[600], cmd[1400], p[600];
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    dm_subs *s;
    logbuf *log = calloc(1, sizeof *log);
    char err[256];
    dm_subs_track t;
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(film_path, sizeof film_path, "%s/Film.mp4", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", mp4, film_path);
    assert_int_equal(system(cmd), 0);
    touch(dir, "Film.en.srt");
    touch(dir, "Film.zh.srt");
    snprintf(p, sizeof p, "%s/Film.ja.srt", dir);
    f = fopen(p, "w");
    fputs("this is not\na subtitle file\n", f);
    fclose(f);
    o.log = log_capture;
    o.log_ud = log;
    o.slang = "zh";
    assert_int_equal(dm_subs_open(&s, film_path, &o, err, sizeof err), 0);
    assert_int_equal(dm_subs_track_count(s), 2);               /* en, zh; ja refused */
    assert_non_null(strstr(log->text, "Film.ja.srt: no subtitle could be read"));
    /* files beside the film come first; among them, the --slang language */
    assert_int_equal(dm_subs_sid(s), 2);
    dm_subs_track_get(s, 2, &t);
    assert_string_equal(t.lang, "zh");
    assert_true(t.auto_loaded);
    dm_subs_destroy(&s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(log);
}

/* ------------------------------------------------------------ bad input */

static void expect_bad(const char *text, const char *fmt, int code, const char *words)
{
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    dm_subs *s = (dm_subs *)1;
    char err[512] = "";
    o.log = log_quiet;
    assert_int_equal(dm_subs_open_memory(&s, text, strlen(text), fmt, "bad.file", &o, err, sizeof err), code);
    assert_null(s);
    if (!strstr(err, words))
        fail_msg("error \"%s\" does not say \"%s\"", err, words);
    assert_non_null(strstr(err, "bad.file"));
}

static void test_malformed(void **state)
{
    (void)state;
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    dm_subs *s;
    char err[512];
    logbuf *log = calloc(1, sizeof *log);

    expect_bad("hello\nworld\n", "srt", DM_EPARSE, "no cue");
    expect_bad("1\n00:00:01 --> 00:00:02\nText\n", "srt", DM_EPARSE,
               "line 2: \"00:00:01 --> 00:00:02\" is not a cue timing line");
    expect_bad("1\n00:00:01.000 --> 00:00:02.000\nText\n", "vtt", DM_EPARSE, "does not start with \"WEBVTT\"");
    expect_bad("[V4+ Styles]\nDialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,x\n", "ass", DM_EPARSE,
               "[Script Info]");
    expect_bad("[Script Info]\nTitle: x\n", "ass", DM_EPARSE, "no [Events] section");
    expect_bad("", "srt", DM_EPARSE, "no cue");
    expect_bad("x", "txt", DM_EFORMAT, "unknown subtitle format");
    expect_bad("\xFF\xFE\x41", "srt", DM_EPARSE, "ends inside a UTF-16LE character");

    /* files */
    o.log = log_quiet;
    {
        const char *files[] = {"/nonexistent-dm/x.srt"};
        o.files = files;
        o.n_files = 1;
        assert_int_equal(dm_subs_open(&s, NULL, &o, err, sizeof err), DM_EIO);
        assert_non_null(strstr(err, "/nonexistent-dm/x.srt: No such file"));
        files[0] = "/etc/hostname.sub";
        assert_int_equal(dm_subs_open(&s, NULL, &o, err, sizeof err), DM_EFORMAT);
        assert_non_null(strstr(err, "unknown subtitle extension \".sub\""));
    }
    o = (dm_subs_opts)DM_SUBS_OPTS_DEFAULT;
    o.log = log_quiet;
    assert_int_equal(dm_subs_open(&s, "/nonexistent-dm/film.mkv", &o, err, sizeof err), DM_EIO);
    assert_non_null(strstr(err, "no such file"));
    o.scale = 0;
    assert_int_equal(dm_subs_open(&s, NULL, &o, err, sizeof err), DM_EINVAL);

    /* one bad cue among good ones: read, with a warning naming it */
    o = (dm_subs_opts)DM_SUBS_OPTS_DEFAULT;
    o.log = log_capture;
    o.log_ud = log;
    {
        const char *t = "1\n00:00:01,000 --> 00:00:02,000\nGood\n\n2\n00:00:03,000 -> 00:00:04,000\nBad\n\n"
                        "3\n00:00:05,000 --> 00:00:06,000\nGood again\n";
        dm_subs_track tr;
        assert_int_equal(dm_subs_open_memory(&s, t, strlen(t), "srt", "mixed.srt", &o, err, sizeof err), 0);
        dm_subs_track_get(s, 1, &tr);
        assert_int_equal(tr.events, 2);
        dm_subs_destroy(&s);
        (void)tr;
    }
    {
        const char *t = "1\n00:00:01,000 --> 00:00:02,000\nGood\n\n2\n00:00:03,000 --> 00:0x:04,000\nBad\n";
        assert_int_equal(dm_subs_open_memory(&s, t, strlen(t), "srt", "warn.srt", &o, err, sizeof err), 0);
        assert_non_null(strstr(log->text, "warn.srt: 1 cue(s) skipped; the first, line 6"));
        dm_subs_destroy(&s);
    }
    /* a render or box request on no track is empty, not an error */
    assert_int_equal(dm_subs_open(&s, NULL, NULL, err, sizeof err), 0);
    {
        dm_subs_frame f;
        int ch;
        size_t n;
        dm_obstacle *ob;
        assert_int_equal(dm_subs_render(s, 0, 640, 360, &f, &ch), 0);
        assert_int_equal(f.count, 0);
        assert_int_equal(dm_subs_render(s, 0, 0, 360, &f, &ch), DM_EINVAL);
        assert_int_equal(dm_subs_obstacles(s, 640, 360, &ob, &n, NULL, 0), 0);
        assert_int_equal(n, 0);
        assert_null(ob);
    }
    dm_subs_destroy(&s);
    dm_subs_destroy(&s);  /* NULL-safe */
    free(log);
}

/* External ASS from memory: styles, \pos, no PlayRes (the video size is used). */
static void test_external_ass(void **state)
{
    (void)state;
    static const char ass[] =
        "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
        "Alignment, MarginL, MarginR, MarginV, Encoding\n"
        "Style: Default,DejaVu Sans,40,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,0,"
        "7,0,0,0,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\pos(100,50)}Corner\n";
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    dm_subs *s;
    char err[256];
    size_t n;
    dm_obstacle *ob;

    o.video_w = 640;
    o.video_h = 360;
    o.log = log_quiet;
    assert_int_equal(dm_subs_open_memory(&s, ass, sizeof ass - 1, "ass", "corner.ass", &o, err, sizeof err), 0);
    assert_int_equal(dm_subs_sid(s), 1);
    /* PlayRes is the 640x360 film: at a 1280x720 stage \pos(100,50) with
     * \an7 puts the top-left corner of the text near (200, 100) */
    ob = obstacles(s, 1280, 720, &n);
    assert_int_equal(n, 1);
    assert_true(abs(ob[0].x - 200) <= 6);
    assert_true(abs(ob[0].y - 100) <= 24);
    free(ob);
    check_exact(s, 1280, 720, "sub-1,");
    dm_subs_destroy(&s);
}

/* A move with times: still before and after, sampled only while it moves. */
static void test_timed_move(void **state)
{
    (void)state;
    static const char ass[] =
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 640\nPlayResY: 360\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
        "Alignment, MarginL, MarginR, MarginV, Encoding\n"
        "Style: Default,DejaVu Sans,30,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,0,"
        "5,0,0,0,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Dialogue: 0,0:00:00.00,0:00:03.00,Default,,0,0,0,,{\\move(100,200,400,200,1000,2000)}Timed\n"
        "Dialogue: 0,0:00:00.00,0:00:03.00,Default,,0,0,0,,{\\pos(320,60)\\t(1500,1500,\\fscx200)}Grows\n";
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    dm_subs *s;
    char err[256];
    size_t n, moving = 0, grows = 0;
    dm_obstacle *ob;
    const dm_obstacle *before, *after, *small, *big;

    o.video_w = 640;
    o.video_h = 360;
    o.log = log_quiet;
    assert_int_equal(dm_subs_open_memory(&s, ass, sizeof ass - 1, "ass", "timed.ass", &o, err, sizeof err), 0);
    ob = obstacles(s, 640, 360, &n);
    before = find_ob(ob, n, "sub-1", 500);
    after = find_ob(ob, n, "sub-1", 2500);
    assert_non_null(before);
    assert_non_null(after);
    assert_int_equal(before->start_ms, 0);
    assert_int_equal(before->end_ms, 1000);     /* one still box until the move starts */
    assert_int_equal(after->end_ms, 3000);
    assert_true(after->start_ms >= 2000 && after->start_ms <= 2001);
    assert_true(after->x > before->x + 250);
    for (size_t i = 0; i < n; i++) {
        moving += strcmp(ob[i].id, "sub-1") == 0;
        grows += strcmp(ob[i].id, "sub-2") == 0;
    }
    assert_true(moving > 10 && moving < 40);     /* about one box per 40 ms of motion */
    /* an instant \t: the small box, then the wide one */
    small = find_ob(ob, n, "sub-2", 1000);
    big = find_ob(ob, n, "sub-2", 2000);
    assert_non_null(small);
    assert_non_null(big);
    assert_true(grows <= 3);
    assert_true(big->w > small->w * 3 / 2);
    assert_true(small->start_ms == 0 && big->end_ms == 3000);
    free(ob);
    check_exact(s, 640, 360, NULL);
    dm_subs_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mov_text),
        cmocka_unit_test(test_srt_mkv),
        cmocka_unit_test(test_signs_mkv),
        cmocka_unit_test(test_webvtt_webm),
        cmocka_unit_test(test_gbk_beside_mp4),
        cmocka_unit_test(test_dvdsub),
        cmocka_unit_test(test_choice),
        cmocka_unit_test(test_delay_scale),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_seek_consistent),
        cmocka_unit_test(test_changed_flags),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_find_auto),
        cmocka_unit_test(test_auto_load_lang),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_external_ass),
        cmocka_unit_test(test_timed_move),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (failed)
        return failed;
    if (g_skipped) {
        fprintf(stderr, "test_subs: %d test(s) skipped for want of their films\n", g_skipped);
        return 77;
    }
    return 0;
}
