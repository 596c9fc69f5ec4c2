/*
 * test_player.c - the `danmaku` player seen from outside: golden frames
 * (comment pixels where the engine placed comments, film pixels between
 * them), a CJK + emoji comment with every glyph drawn, seeking, a real window
 * under Xvfb and one resized while a dense track plays, and audio/video sync measured on a film with a flash and a beep
 * every second.
 *
 * Films are made at test time with the ffmpeg program; the player runs as a
 * separate process, exactly as a user would start it. Environment:
 * DM_PLAYER (the player binary), DM_WORK_DIR (scratch folder).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "danmaku.h"
#include "media.h"
#include "testutil.h"
#include "text.h"

#define W 640
#define H 360
#define FONT_PX 32

static char work[1024];
static const char *player;

__attribute__((format(printf, 1, 2))) static int run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    rc = system(cmd);
    if (rc != 0)
        print_message("command failed (%d): %s\n", rc, cmd);
    return rc;
}

static const char *path(const char *name)
{
    static char buf[8][1200];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", work, name);
    return buf[i];
}

typedef struct image {
    uint8_t *px;   /* RGBA */
    int w, h;
} image;

static image load_png(const char *file)
{
    image im = { 0 };
    char err[256];

    assert_int_equal(dm_png_read(file, &im.px, &im.w, &im.h, err, sizeof err), 0);
    return im;
}

static const uint8_t *px_at(const image *im, int x, int y)
{
    return im->px + ((size_t)y * im->w + x) * 4;
}

static int differs(const uint8_t *a, const uint8_t *b, int tol)
{
    for (int c = 0; c < 3; c++)
        if (abs(a[c] - b[c]) > tol)
            return 1;
    return 0;
}

/* The track every test uses: each mode, a burst, and a CJK + emoji comment. */
static const char *const MIXED = "前方高能🎉 test 한국어 カタカナ 😀";

static void write_track(const char *file)
{
    FILE *f = fopen(file, "w");

    assert_non_null(f);
    fprintf(f, "{\"type\":\"track\",\"format\":\"danmaku\",\"version\":1}\n");
    fprintf(f, "{\"t_ms\":500,\"mode\":\"top\",\"text\":\"%s\"}\n", MIXED);
    for (int i = 0; i < 6; i++)
        fprintf(f, "{\"t_ms\":%d,\"mode\":\"scroll\",\"text\":\"scroll comment %d 弹幕\"}\n", 1000 + 150 * i, i);
    fprintf(f, "{\"t_ms\":1500,\"mode\":\"bottom\",\"color\":\"#00CD00\",\"text\":\"bottom 底部\"}\n");
    fprintf(f, "{\"t_ms\":1200,\"mode\":\"reverse\",\"size\":\"large\",\"text\":\"reverse 逆向\"}\n");
    fprintf(f, "{\"t_ms\":6000,\"mode\":\"scroll\",\"text\":\"later one 后来的\"}\n");
    fprintf(f, "{\"t_ms\":7000,\"mode\":\"top\",\"text\":\"seek target トップ\"}\n");
    fclose(f);
}

static int setup(void **state)
{
    const char *base = getenv("DM_WORK_DIR");

    (void)state;
    player = getenv("DM_PLAYER");
    if (!player || !base)
        return -1;
    snprintf(work, sizeof work, "%s/player-XXXXXX", base);
    if (!mkdtemp(work))
        return -1;
    /* a film of one flat colour with sound, 12 s at 24 fps */
    if (run("ffmpeg -loglevel error -y -f lavfi -i color=c=0x336699:s=%dx%d:r=24:d=12 "
            "-f lavfi -i sine=f=440:d=12 -c:v libx264 -preset ultrafast -pix_fmt yuv420p "
            "-c:a aac -shortest %s", W, H, path("flat.mp4")))
        return -1;
    write_track(path("track.jsonl"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    run("rm -rf '%s'", work);
    return 0;
}

/* The engine's own view of the track at t (its scene): what the player must show. */
typedef struct expected {
    dm_scene *scene;
    const dm_placed *placed;
    const dm_comment *items;
    dm_visible vis[64];
    size_t n;
    dm_text *text;
} expected;

static void expect_at(expected *e, int64_t t_ms)
{
    dm_diag diag = { 0 };
    dm_scene_opts so = { .layout = DM_LAYOUT_OPTS_DEFAULT, .measure = dm_text_measure };
    const dm_visible *v;
    char err[256];

    memset(e, 0, sizeof *e);
    so.layout.stage_w = W;
    so.layout.stage_h = H;
    so.layout.font_px = FONT_PX;
    e->text = dm_text_new(NULL, DM_TEXT_OUTLINE_DEFAULT, err, sizeof err);
    assert_non_null(e->text);
    so.measure_ud = e->text;
    e->scene = dm_scene_new(&so, &diag);
    assert_non_null(e->scene);
    assert_int_equal(dm_scene_read_file(e->scene, path("track.jsonl"), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(dm_scene_query(e->scene, t_ms, &v, &e->n, NULL), 0);
    assert_true(e->n <= 64);
    memcpy(e->vis, v, e->n * sizeof *v);
    e->placed = dm_scene_placed(e->scene);
    e->items = dm_scene_comments(e->scene);
}

static void expected_free(expected *e)
{
    dm_scene_free(&e->scene);
    dm_text_free(&e->text);
}

/* Is (x, y) inside the box of a visible comment (grown by `margin`)? */
static int in_boxes(const expected *e, int x, int y, int margin)
{
    for (size_t i = 0; i < e->n; i++) {
        const dm_placed *p = &e->placed[e->vis[i].index];
        double bx = e->vis[i].x, by = e->vis[i].y;
        if (x >= bx - margin && x < bx + p->w + margin && y >= by - margin && y < by + p->h + margin)
            return 1;
    }
    return 0;
}

/*
 * Golden frame: every comment on screen has comment pixels inside its box,
 * and every pixel outside the boxes is the film's own pixel (compared with
 * the same frame drawn without comments).
 */
static void test_golden_frame(void **state)
{
    expected e;
    image with, without;
    long outside = 0, outside_bad = 0;

    (void)state;
    assert_int_equal(run("'%s' %s --track %s --headless --fast --size %dx%d --font-px %d --until 2.6 "
                         "--screenshot 2.5:%s", player, path("flat.mp4"), path("track.jsonl"), W, H, FONT_PX,
                         path("with.png")), 0);
    assert_int_equal(run("'%s' %s --track %s --headless --fast --size %dx%d --font-px %d --until 2.6 "
                         "--no-comments --screenshot 2.5:%s", player, path("flat.mp4"), path("track.jsonl"), W,
                         H, FONT_PX, path("without.png")), 0);
    with = load_png(path("with.png"));
    without = load_png(path("without.png"));
    assert_int_equal(with.w, W);
    assert_int_equal(with.h, H);
    expect_at(&e, 2500);
    assert_true(e.n >= 8);   /* top, 6 scrolling, bottom, reverse */
    for (size_t i = 0; i < e.n; i++) {
        const dm_placed *p = &e.placed[e.vis[i].index];
        long inside = 0, changed = 0;
        for (int y = (int)e.vis[i].y; y < (int)e.vis[i].y + p->h; y++)
            for (int x = (int)e.vis[i].x; x < (int)e.vis[i].x + p->w; x++) {
                if (x < 0 || y < 0 || x >= W || y >= H)
                    continue;
                inside++;
                changed += differs(px_at(&with, x, y), px_at(&without, x, y), 8);
            }
        if (inside > 0 && changed * 20 < inside)
            fail_msg("comment %u (%s) has too few pixels in its box: %ld of %ld", e.vis[i].index,
                     e.items[e.vis[i].index].text, changed, inside);
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            if (in_boxes(&e, x, y, 2))
                continue;
            outside++;
            outside_bad += differs(px_at(&with, x, y), px_at(&without, x, y), 2);
        }
    print_message("golden: %zu comments on screen, %ld film pixels checked, %ld differ\n", e.n, outside,
                  outside_bad);
    assert_true(outside > W * H / 3);
    assert_int_equal(outside_bad, 0);
    /* and the film is really there between the comments: its own colour */
    assert_false(differs(px_at(&with, W / 2, H / 2 + 20), (const uint8_t *)"\x33\x66\x99", 12));
    free(with.px);
    free(without.px);
    expected_free(&e);
}

/* A comment mixing CJK and emoji: every code point covered, every run drawn. */
static void test_cjk_emoji_comment(void **state)
{
    expected e;
    image with, without;
    dm_text_run_info runs[16];
    size_t missing = 99;
    int nruns, colour_runs = 0;
    const dm_placed *p;
    int bx, by;

    (void)state;
    expect_at(&e, 2500);
    assert_int_equal(dm_text_coverage(e.text, MIXED, &missing), 0);
    assert_int_equal(missing, 0);
    nruns = dm_text_runs(e.text, MIXED, FONT_PX, 0, runs, 16);
    assert_true(nruns >= 3);
    with = load_png(path("with.png"));
    without = load_png(path("without.png"));
    p = &e.placed[0];   /* the top comment is the first of the track */
    assert_true(p->shown);
    bx = p->x_start;
    by = p->y;
    for (int r = 0; r < nruns && r < 16; r++) {
        long changed = 0, colourful = 0;
        for (int y = by; y < by + p->h; y++)
            for (int x = bx + runs[r].x; x < bx + runs[r].x + runs[r].w; x++) {
                const uint8_t *a = px_at(&with, x, y);
                changed += differs(a, px_at(&without, x, y), 8);
                /* not grey (white fill, dark outline) and not the film's blue */
                colourful += (abs(a[0] - a[1]) > 40 || abs(a[1] - a[2]) > 40 || abs(a[0] - a[2]) > 40) &&
                             differs(a, (const uint8_t *)"\x33\x66\x99", 60);
            }
        if (changed < runs[r].w)
            fail_msg("run %d (%s) at x=%d w=%d drew only %ld pixels", r, runs[r].family, runs[r].x, runs[r].w,
                     changed);
        if (runs[r].colour) {
            colour_runs++;
            if (colourful < 20)
                fail_msg("emoji run %d has only %ld colour pixels", r, colourful);
        }
    }
    assert_int_equal(colour_runs, 2);
    free(with.px);
    free(without.px);
    expected_free(&e);
}

static int same_image(const char *a, const char *b)
{
    image x = load_png(a), y = load_png(b);
    int same = x.w == y.w && x.h == y.h && !memcmp(x.px, y.px, (size_t)x.w * x.h * 4);
    free(x.px);
    free(y.px);
    return same;
}

/* After seeking back and forth, the screen equals a fresh start at that time. */
static void test_seek_matches_fresh_start(void **state)
{
    FILE *f;
    image a, none;
    long changed = 0;

    (void)state;
    /* forward to 6.0, back to 1.5, forward to 6.5 and 11.5? no: 2.0 -> 7.0, 2.5 is never
     * reached again, so the screenshot comes at 7.6 after playing on from 7.0 */
    f = fopen(path("seek.script"), "w");
    assert_non_null(f);
    fprintf(f, "1.0 key Right\n6.5 key Left\n2.0 key Right\n7.6 screenshot %s\n",
            path("after.png"));
    fclose(f);
    assert_int_equal(run("'%s' %s --track %s --headless --fast --size %dx%d --font-px %d --script %s --until 8",
                         player, path("flat.mp4"), path("track.jsonl"), W, H, FONT_PX, path("seek.script")),
                     0);
    assert_int_equal(run("'%s' %s --track %s --headless --fast --size %dx%d --font-px %d --start 7.5 --until 8 "
                         "--screenshot 7.6:%s", player, path("flat.mp4"), path("track.jsonl"), W, H, FONT_PX,
                         path("fresh.png")), 0);
    assert_int_equal(run("'%s' %s --track %s --headless --fast --size %dx%d --font-px %d --until 8 "
                         "--screenshot 7.6:%s", player, path("flat.mp4"), path("track.jsonl"), W, H, FONT_PX,
                         path("continuous.png")), 0);
    assert_int_equal(run("'%s' %s --headless --fast --size %dx%d --start 7.5 --until 8 --screenshot 7.6:%s",
                         player, path("flat.mp4"), W, H, path("none.png")), 0);
    assert_true(same_image(path("after.png"), path("fresh.png")));
    assert_true(same_image(path("after.png"), path("continuous.png")));
    /* and there are comments in it at all */
    a = load_png(path("after.png"));
    none = load_png(path("none.png"));
    for (int i = 0; i < W * H; i++)
        changed += differs(a.px + 4 * i, none.px + 4 * i, 8);
    assert_true(changed > 500);
    free(a.px);
    free(none.px);
}

/* A real window under Xvfb: its screenshot shows the film and the comments. */
static void test_window_under_xvfb(void **state)
{
    image im;
    long film = 0, other = 0;
    expected e;
    const dm_placed *top;
    long top_changed = 0;

    (void)state;
    /* Leaks are not checked in this one run: Mesa's driver, loaded for the window's OpenGL renderer,
     * keeps allocations and is unloaded at exit, so LeakSanitizer reports them from an unknown
     * module that no suppression can name. Every headless run of the suite checks our own. */
    assert_int_equal(run("ASAN_OPTIONS=detect_leaks=0 SDL_AUDIODRIVER=dummy xvfb-run -a -s '-screen 0 1024x768x24' '%s' %s --track %s "
                         "--size %dx%d --font-px %d --until 3 --screenshot 2.5:%s",
                         player, path("flat.mp4"), path("track.jsonl"), W, H, FONT_PX, path("window.png")), 0);
    im = load_png(path("window.png"));
    assert_int_equal(im.w, W);
    assert_int_equal(im.h, H);
    for (int i = 0; i < W * H; i++) {
        if (!differs(im.px + 4 * i, (const uint8_t *)"\x33\x66\x99", 12))
            film++;
        else
            other++;
    }
    print_message("window: %ld film pixels, %ld other\n", film, other);
    assert_true(film > W * H / 3);
    assert_true(other > 2000);
    /* the top comment does not move: its box must hold comment pixels */
    expect_at(&e, 2500);
    top = &e.placed[0];
    for (int y = top->y; y < top->y + top->h; y++)
        for (int x = top->x_start; x < top->x_start + top->w; x++)
            top_changed += differs(px_at(&im, x, y), (const uint8_t *)"\x33\x66\x99", 12);
    assert_true(top_changed * 10 > (long)top->w * top->h);
    free(im.px);
    expected_free(&e);
}

/*
 * A/V sync: a film with a white flash and a 1 kHz beep at every whole second.
 * The player runs headless in real time (dummy sound device, audio master
 * clock) and logs when each frame is presented and when each audio chunk will
 * be heard; each flash must come within 40 ms of its beep.
 */
/*
 * A window resized by its user while a dense track plays: the comments are
 * laid out for the new stage near the film's time (the log says so, without
 * a figure the test depends on), drawn at the new size, and the dump at the
 * end is exactly the layout of a player started at that size.
 */
static void test_window_resize(void **state)
{
    image im;
    long text = 0;
    char *log, *a, *b;
    FILE *f;

    (void)state;
    assert_int_equal(run("ffmpeg -loglevel error -y -f lavfi -i color=c=0x336699:s=%dx%d:r=24:d=20 -c:v libx264 "
                         "-preset ultrafast -pix_fmt yuv420p %s", W, H, path("long.mp4")), 0);
    f = fopen(path("dense.xml"), "w");
    assert_non_null(f);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<i>\n");
    for (int i = 0; i < 3000; i++)   /* 20 a second for 150 s */
        fprintf(f, "<d p=\"%.3f,1,25,16777215,0,0,u%d,%d\">comment %d 弹幕</d>\n", i * 0.05, i, i + 1, i);
    fprintf(f, "</i>\n");
    fclose(f);
    f = fopen(path("resize.script"), "w");
    assert_non_null(f);
    fprintf(f, "15.0 window-size 960 540\n16.0 screenshot %s\n", path("resized.png"));
    fclose(f);
    assert_int_equal(run("ASAN_OPTIONS=detect_leaks=0 SDL_AUDIODRIVER=dummy xvfb-run -a -s '-screen 0 1280x800x24' "
                         "'%s' %s --track %s --size %dx%d --start 14 --until 17 --script %s --verbose --dump %s 2>%s",
                         player, path("long.mp4"), path("dense.xml"), W, H, path("resize.script"),
                         path("resized.json"), path("resize.log")), 0);
    log = dm_test_slurp(path("resize.log"), NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "comments laid out again for a 960x540 stage"));
    free(log);
    im = load_png(path("resized.png"));
    assert_int_equal(im.w, 960);
    assert_int_equal(im.h, 540);
    for (int i = 0; i < im.w * im.h; i++)
        text += im.px[4 * i] > 200 && im.px[4 * i + 1] > 200 && im.px[4 * i + 2] > 200;
    print_message("after the resize: %ld white text pixels\n", text);
    assert_true(text > 20000);   /* rows of comments across the new stage, not a few */
    free(im.px);
    assert_int_equal(run("SDL_AUDIODRIVER=dummy '%s' %s --track %s --size 960x540 --headless --fast --until 1 "
                         "--dump %s 2>/dev/null", player, path("long.mp4"), path("dense.xml"), path("direct.json")), 0);
    a = dm_test_slurp(path("resized.json"), NULL);
    b = dm_test_slurp(path("direct.json"), NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_av_sync(void **state)
{
    FILE *f;
    char line[256];
    double flash[32], beep[32];
    int nflash = 0, nbeep = 0, prev_bright = 0, prev_loud = 0, pairs = 0;
    double worst = 0;

    (void)state;
    assert_int_equal(run("ffmpeg -loglevel error -y -f lavfi "
                         "-i \"color=c=black:s=320x240:r=30:d=8,drawbox=c=white:t=fill:enable='lt(mod(t,1),0.03)'\" "
                         "-f lavfi -i \"aevalsrc='if(lt(mod(t,1),0.06),0.8*sin(2*PI*1000*t),0)':s=48000:d=8\" "
                         "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 128k %s", path("sync.mp4")), 0);
    assert_int_equal(run("'%s' %s --headless --size 320x240 --until 7.5 --log-frames %s", player,
                         path("sync.mp4"), path("sync.log")), 0);
    f = fopen(path("sync.log"), "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        double pts, clk, wall, luma, rms, onset;
        if (sscanf(line, "video %lf %lf %lf %lf", &pts, &clk, &wall, &luma) == 4) {
            int bright = luma > 128;
            if (bright && !prev_bright && nflash < 32 && pts > 0.5)
                flash[nflash++] = wall;
            prev_bright = bright;
        } else if (sscanf(line, "audio %lf %lf %lf", &wall, &rms, &onset) == 3) {
            int loud = rms > 0.1;
            if (loud && !prev_loud && nbeep < 32 && onset >= 0)
                beep[nbeep++] = wall + onset;
            prev_loud = loud;
        }
    }
    fclose(f);
    print_message("av sync: %d flashes, %d beeps\n", nflash, nbeep);
    assert_true(nflash >= 5);
    assert_true(nbeep >= 5);
    /* pair each flash with the nearest beep */
    for (int i = 0; i < nflash; i++) {
        double best = 1e9;
        for (int j = 0; j < nbeep; j++)
            if (fabs(flash[i] - beep[j]) < fabs(best))
                best = flash[i] - beep[j];
        if (fabs(best) < 0.5) {
            pairs++;
            worst = fabs(best) > worst ? fabs(best) : worst;
            print_message("  flash %d: skew %+.1f ms\n", i, best * 1000);
            assert_true(fabs(best) <= 0.040);
        }
    }
    assert_true(pairs >= 5);
    print_message("av sync: %d pairs, worst skew %.1f ms\n", pairs, worst * 1000);
}

/* Errors: a missing film or track is one clear line and exit status 1. */
static void test_bad_input(void **state)
{
    (void)state;
    assert_int_equal(run("'%s' /nonexistent/film.mp4 --headless --fast 2>%s", player, path("err1.txt")) >> 8, 1);
    assert_int_equal(run("'%s' %s --track /nonexistent.xml --headless --fast 2>%s", player, path("flat.mp4"),
                         path("err2.txt")) >> 8, 1);
    assert_int_equal(run("head -c 3000 /dev/urandom > %s; '%s' %s --headless --fast 2>%s", path("junk.mp4"),
                         player, path("junk.mp4"), path("err3.txt")) >> 8, 1);
    assert_int_equal(run("test $(wc -l < %s) -eq 1 && grep -q 'film.mp4' %s", path("err1.txt"), path("err1.txt")), 0);
    assert_int_equal(run("test $(wc -l < %s) -eq 1 && grep -q 'nonexistent.xml' %s", path("err2.txt"),
                         path("err2.txt")), 0);
    assert_int_equal(run("test $(wc -l < %s) -eq 1 && grep -q 'junk.mp4' %s", path("err3.txt"), path("err3.txt")), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_frame),
        cmocka_unit_test(test_cjk_emoji_comment),
        cmocka_unit_test(test_seek_matches_fresh_start),
        cmocka_unit_test(test_window_under_xvfb),
        cmocka_unit_test(test_window_resize),
        cmocka_unit_test(test_av_sync),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
