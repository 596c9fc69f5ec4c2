/* test_atlas.c - sprite pages of the GPU path: slots that do not overlap and
 * hold their pixels, pages added while all are in use and emptied least
 * recently used first (the hook told, old slots stale), sprites larger than
 * a page refused; and the stage's GPU path drawing the same picture as the
 * software canvas with one draw call for a screen of comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "atlas.h"
#include "danmaku.h"
#include "stage.h"
#include "text.h"

static SDL_Surface *solid(int w, int h, uint32_t argb)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);

    assert_non_null(s);
    SDL_FillRect(s, NULL, argb);
    return s;
}

static uint32_t pixel(SDL_Surface *s, int x, int y)
{
    return ((const uint32_t *)s->pixels)[(size_t)y * (s->pitch / 4) + x];
}

static int reused[8], nreused;

static void on_reuse(void *ud, int page)
{
    (void)ud;
    if (nreused < 8)
        reused[nreused++] = page;
}

static void test_slots_hold_their_pixels(void **state)
{
    SDL_Surface *target = solid(400, 200, 0xFF000000);
    SDL_Renderer *r = SDL_CreateSoftwareRenderer(target);
    dm_atlas *a = dm_atlas_new(r, 128, 4, on_reuse, NULL);
    dm_atlas_slot slot[12];

    (void)state;
    assert_non_null(a);
    assert_int_equal(dm_atlas_page_px(a), 128);
    for (int i = 0; i < 12; i++) {
        SDL_Surface *sp = solid(30, i % 3 ? 10 : 14, 0xFF000000u | (uint32_t)(i + 1) * 0x101010u);
        assert_int_equal(dm_atlas_put(a, sp, &slot[i]), 0);
        SDL_FreeSurface(sp);
        assert_true(dm_atlas_use(a, &slot[i]));
    }
    assert_int_equal(dm_atlas_pages(a), 1);
    /* no two slots (with their borders) overlap */
    for (int i = 0; i < 12; i++)
        for (int j = i + 1; j < 12; j++) {
            SDL_Rect x = { slot[i].rect.x - 1, slot[i].rect.y - 1, slot[i].rect.w + 2, slot[i].rect.h + 2 }, y = slot[j].rect;
            assert_false(SDL_HasIntersection(&x, &y));
        }
    /* each slot drawn out of its page shows its own colour, edge to edge */
    for (int i = 0; i < 12; i++) {
        SDL_Rect dst = { (i % 6) * 60, (i / 6) * 60, slot[i].rect.w, slot[i].rect.h };
        SDL_RenderCopy(r, dm_atlas_texture(a, slot[i].page), &slot[i].rect, &dst);
    }
    SDL_RenderFlush(r);
    for (int i = 0; i < 12; i++) {
        int x = (i % 6) * 60, y = (i / 6) * 60;
        uint32_t want = 0xFF000000u | (uint32_t)(i + 1) * 0x101010u;
        assert_int_equal(pixel(target, x, y), want);
        assert_int_equal(pixel(target, x + 29, y + slot[i].rect.h - 1), want);
        assert_int_equal(pixel(target, x + 30, y), 0xFF000000u);   /* nothing beyond the slot */
    }
    dm_atlas_free(&a);
    assert_null(a);
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(target);
}

static void test_pages_grow_then_recycle(void **state)
{
    SDL_Surface *target = solid(64, 64, 0);
    SDL_Renderer *r = SDL_CreateSoftwareRenderer(target);
    dm_atlas *a = dm_atlas_new(r, 64, 2, on_reuse, NULL);
    SDL_Surface *big = solid(62, 62, 0xFFFFFFFF), *huge = solid(63, 10, 0xFFFFFFFF);
    dm_atlas_slot s0, s1, s2;

    (void)state;
    nreused = 0;
    /* a sprite a page holds exactly (with its border), one per page */
    assert_int_equal(dm_atlas_put(a, big, &s0), 0);
    assert_int_equal(dm_atlas_put(a, big, &s1), 0);   /* page 0 is in this frame: a new page */
    assert_int_equal(dm_atlas_pages(a), 2);
    assert_int_not_equal(s0.page, s1.page);
    assert_int_equal(nreused, 0);
    /* next frame only s1 is drawn: the page of s0 is emptied for the next sprite */
    dm_atlas_frame(a);
    assert_true(dm_atlas_use(a, &s1));
    assert_int_equal(dm_atlas_put(a, big, &s2), 0);
    assert_int_equal(nreused, 1);
    assert_int_equal(reused[0], s0.page);
    assert_int_equal(s2.page, s0.page);
    assert_false(dm_atlas_use(a, &s0));              /* stale */
    assert_true(dm_atlas_use(a, &s2));
    assert_true(dm_atlas_use(a, &s1));
    /* larger than a page: refused, for its own texture */
    assert_int_equal(dm_atlas_put(a, huge, &s0), DM_EINVAL);
    dm_atlas_clear(a);
    assert_false(dm_atlas_use(a, &s1));
    dm_atlas_free(&a);
    SDL_FreeSurface(big);
    SDL_FreeSurface(huge);
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(target);
}

/* The same comments drawn by the GPU path (software renderer, atlas +
 * SDL_RenderGeometry) and by the canvas blender: the same picture. */
static void test_stage_gpu_path_matches_canvas(void **state)
{
    enum { W = 640, H = 360, N = 40 };
    SDL_Surface *gpu = solid(W, H, 0xFF000000), *cpu = solid(W, H, 0xFF000000);
    SDL_Renderer *rg = SDL_CreateSoftwareRenderer(gpu), *rc = SDL_CreateSoftwareRenderer(cpu);
    char err[256];
    dm_text *text = dm_text_new(NULL, DM_TEXT_OUTLINE_DEFAULT, err, sizeof err);
    dm_stage *sg, *sc;
    dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
    dm_comment items[N];
    dm_visible vis[N];
    char texts[N][32];
    long differ = 0, lit = 0;
    int worst = 0;

    (void)state;
    if (!text)
        skip();
    lo.stage_w = W;
    lo.stage_h = H;
    lo.font_px = 24;
    memset(items, 0, sizeof items);
    memset(vis, 0, sizeof vis);
    for (int i = 0; i < N; i++) {
        snprintf(texts[i], sizeof texts[i], "弹幕 %d wow", i);
        items[i].text = texts[i];
        items[i].color = i % 3 ? 0xFFFFFF : 0xFF4040;
        vis[i].index = (uint32_t)i;
        vis[i].x = (float)((i * 97) % (W - 100));   /* whole pixels: the canvas rounds, the GPU path does not */
        vis[i].y = (float)((i % 14) * 25);
        vis[i].alpha = i % 4 ? 1.0f : 0.5f;
    }
    sg = dm_stage_new(rg, text, 0, err, sizeof err);
    sc = dm_stage_new(rc, text, 0, err, sizeof err);
    assert_non_null(sg);
    assert_non_null(sc);
    dm_stage_set_canvas(sc, cpu);
    {
        dm_stage_comments c = { items, NULL, &lo, vis, N, 1.0 };
        SDL_Rect display = { 0, 0, W, H };
        assert_int_equal(dm_stage_draw(sg, &display, &c), 0);
        assert_int_equal(dm_stage_draw(sc, &display, &c), 0);
    }
    SDL_RenderFlush(rg);
    SDL_RenderFlush(rc);
    assert_int_equal(dm_stage_draw_calls(sg), 1);     /* forty comments, one page, one call */
    assert_int_equal(dm_stage_atlas_pages(sg), 1);
    assert_int_equal(dm_stage_draw_calls(sc), 0);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint32_t p = pixel(gpu, x, y), q = pixel(cpu, x, y);
            int d = 0;
            for (int sh = 0; sh < 24; sh += 8) {
                int e = abs((int)((p >> sh) & 0xFF) - (int)((q >> sh) & 0xFF));
                d = e > d ? e : d;
            }
            lit += (q & 0xFFFFFF) != 0;
            differ += d > 3;
            worst = d > worst ? d : worst;
        }
    print_message("stage: %ld lit pixels, %ld differ by more than 3 (worst %d)\n", lit, differ, worst);
    assert_true(lit > 2000);
    assert_true(differ * 1000 < lit);   /* rounding of straight vs premultiplied blending only */
    dm_stage_free(&sg);
    dm_stage_free(&sc);
    dm_text_free(&text);
    SDL_DestroyRenderer(rg);
    SDL_DestroyRenderer(rc);
    SDL_FreeSurface(gpu);
    SDL_FreeSurface(cpu);
}

/* The canvas blender with 1, 2, 3 and 5 threads (slices of rows that cut
 * through comments at other places each time): the same pixels, byte for byte. */
static void test_stage_threads_same_pixels(void **state)
{
    enum { W = 640, H = 371, N = 60 };
    static const int counts[] = { 1, 2, 3, 5 };
    SDL_Surface *first = NULL;
    char err[256];
    dm_text *text = dm_text_new(NULL, DM_TEXT_OUTLINE_DEFAULT, err, sizeof err);
    dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
    dm_comment items[N];
    dm_visible vis[N];
    char texts[N][32];

    (void)state;
    if (!text)
        skip();
    lo.stage_w = W;
    lo.stage_h = H;
    lo.font_px = 28;
    memset(items, 0, sizeof items);
    memset(vis, 0, sizeof vis);
    for (int i = 0; i < N; i++) {
        snprintf(texts[i], sizeof texts[i], "弹幕 %d 线程", i);
        items[i].text = texts[i];
        items[i].color = i % 3 ? 0xFFFFFF : 0x40C0FF;
        vis[i].index = (uint32_t)i;
        vis[i].x = (float)((i * 131) % (W - 60)) - 20;   /* some off the left edge */
        vis[i].y = (float)((i * 23) % (H - 10));         /* overlapping, across every slice boundary */
        vis[i].alpha = i % 5 ? 1.0f : 0.6f;
    }
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        SDL_Surface *cv = solid(W, H, 0xFF102030);
        SDL_Renderer *r = SDL_CreateSoftwareRenderer(cv);
        dm_stage *st = dm_stage_new(r, text, 0, err, sizeof err);
        dm_stage_comments c = { items, NULL, &lo, vis, N, 1.0 };
        SDL_Rect display = { 0, 0, W, H };
        assert_non_null(st);
        dm_stage_set_canvas(st, cv);
        dm_stage_set_threads(st, counts[k]);
        assert_int_equal(dm_stage_draw(st, &display, &c), 0);
        assert_int_equal(dm_stage_draw(st, &display, &c), 0);  /* the workers started: drawn again */
        SDL_RenderFlush(r);
        if (!first) {
            long lit = 0;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    lit += pixel(cv, x, y) != 0xFF102030;
            assert_true(lit > 5000);
            first = cv;
        } else {
            for (int y = 0; y < H; y++)
                assert_memory_equal((uint8_t *)first->pixels + (size_t)y * first->pitch,
                                    (uint8_t *)cv->pixels + (size_t)y * cv->pitch, (size_t)W * 4);
        }
        dm_stage_free(&st);
        SDL_DestroyRenderer(r);
        if (cv != first)
            SDL_FreeSurface(cv);
    }
    SDL_FreeSurface(first);
    dm_text_free(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots_hold_their_pixels),
        cmocka_unit_test(test_pages_grow_then_recycle),
        cmocka_unit_test(test_stage_gpu_path_matches_canvas),
        cmocka_unit_test(test_stage_threads_same_pixels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
