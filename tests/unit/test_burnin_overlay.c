/*
 * test_burnin_overlay.c - the burn-in's YUV blender (renderer/burnin/overlay.c):
 * results against the blend done by hand in RGB, chroma at both parities,
 * clipping at every edge without writing outside the picture, faded alpha.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "overlay.h"

#define PW 64          /* picture size */
#define PH 32
#define PAD 16         /* canary bytes around every plane */
#define CANARY 0xA5

typedef struct picture {
    uint8_t *mem[3];   /* planes with PAD bytes of canary around them */
    dm_overlay_target t;
} picture;

static void picture_init(picture *p, uint8_t y, uint8_t u, uint8_t v)
{
    const uint8_t fill[3] = { y, u, v };

    for (int i = 0; i < 3; i++) {
        int w = i ? PW / 2 : PW, h = i ? PH / 2 : PH;
        size_t n = (size_t)w * h;
        p->mem[i] = malloc(n + 2 * PAD);
        assert_non_null(p->mem[i]);
        memset(p->mem[i], CANARY, n + 2 * PAD);
        memset(p->mem[i] + PAD, fill[i], n);
        p->t.plane[i] = p->mem[i] + PAD;
        p->t.pitch[i] = w;
    }
    p->t.width = PW;
    p->t.height = PH;
}

static void picture_free(picture *p)
{
    for (int i = 0; i < 3; i++) {
        int w = i ? PW / 2 : PW, h = i ? PH / 2 : PH;
        size_t n = (size_t)w * h;
        for (int k = 0; k < PAD; k++) {
            assert_int_equal(p->mem[i][k], CANARY);
            assert_int_equal(p->mem[i][PAD + n + k], CANARY);
        }
        free(p->mem[i]);
    }
}

/* BT.601 limited range, as the blender computes it. */
static void rgb_to_yuv(double r, double g, double b, double *y, double *u, double *v)
{
    double yl = 0.299 * r / 255 + 0.587 * g / 255 + 0.114 * b / 255;
    *y = 16 + 219 * yl;
    *u = 128 + 224 * (b / 255 - yl) / 1.772;
    *v = 128 + 224 * (r / 255 - yl) / 1.402;
}

static uint32_t *solid_sprite(int w, int h, uint32_t argb)
{
    uint32_t *px = malloc((size_t)w * h * 4);

    assert_non_null(px);
    for (int i = 0; i < w * h; i++)
        px[i] = argb;
    return px;
}

static const dm_yuv_space BT601 = { DM_YUV_BT601, 0 };

/* Half-transparent red over mid grey: every covered sample is the RGB blend. */
static void test_blend_matches_rgb(void **state)
{
    uint32_t *px = solid_sprite(10, 6, 0x80FF0000u);
    dm_overlay_sprite s;
    picture p;
    double a = 128 / 255.0, y, u, v, gy, gu, gv, ey, eu, ev;

    (void)state;
    rgb_to_yuv(255, 0, 0, &y, &u, &v);
    rgb_to_yuv(128, 128, 128, &gy, &gu, &gv);
    ey = y * a + gy * (1 - a);
    eu = u * a + gu * (1 - a);
    ev = v * a + gv * (1 - a);
    picture_init(&p, (uint8_t)(gy + 0.5), (uint8_t)(gu + 0.5), (uint8_t)(gv + 0.5));
    assert_int_equal(dm_overlay_sprite_init(&s, px, 10, 6, 40, BT601), 0);
    assert_int_equal(dm_overlay_blend(&s, &p.t, 4, 2, 255), 0);
    for (int r = 2; r < 8; r++)
        for (int c = 4; c < 14; c++)
            assert_true(abs(p.t.plane[0][r * PW + c] - (int)(ey + 0.5)) <= 1);
    /* untouched around it */
    assert_int_equal(p.t.plane[0][1 * PW + 4], (int)(gy + 0.5));
    assert_int_equal(p.t.plane[0][2 * PW + 3], (int)(gy + 0.5));
    assert_int_equal(p.t.plane[0][2 * PW + 14], (int)(gy + 0.5));
    /* chroma blocks wholly inside the sprite: rows 1..3, columns 2..6 */
    for (int r = 1; r < 4; r++)
        for (int c = 2; c < 7; c++) {
            assert_true(abs(p.t.plane[1][r * (PW / 2) + c] - (int)(eu + 0.5)) <= 1);
            assert_true(abs(p.t.plane[2][r * (PW / 2) + c] - (int)(ev + 0.5)) <= 1);
        }
    dm_overlay_sprite_release(&s);
    picture_free(&p);
    free(px);
}

/* At an odd position a chroma block is half covered: half the effect. */
static void test_odd_position_chroma(void **state)
{
    uint32_t *px = solid_sprite(4, 4, 0xFF0000FFu);   /* opaque blue */
    dm_overlay_sprite s;
    picture p;
    double y, u, v;
    int half;

    (void)state;
    rgb_to_yuv(0, 0, 255, &y, &u, &v);
    picture_init(&p, 16, 128, 128);
    assert_int_equal(dm_overlay_sprite_init(&s, px, 4, 4, 16, BT601), 0);
    assert_int_equal(dm_overlay_blend(&s, &p.t, 5, 4, 255), 0);   /* luma columns 5..8 */
    assert_true(abs(p.t.plane[0][4 * PW + 5] - (int)(y + 0.5)) <= 1);
    assert_int_equal(p.t.plane[0][4 * PW + 4], 16);
    /* chroma column 2 covers luma 4,5 (half), 3 covers 6,7 (all), 4 covers 8,9 (half) */
    half = (int)((u + 128) / 2 + 0.5);
    assert_true(abs(p.t.plane[1][2 * (PW / 2) + 2] - half) <= 1);
    assert_true(abs(p.t.plane[1][2 * (PW / 2) + 3] - (int)(u + 0.5)) <= 1);
    assert_true(abs(p.t.plane[1][2 * (PW / 2) + 4] - half) <= 1);
    assert_int_equal(p.t.plane[1][2 * (PW / 2) + 1], 128);
    assert_int_equal(p.t.plane[1][2 * (PW / 2) + 5], 128);
    dm_overlay_sprite_release(&s);
    picture_free(&p);
    free(px);
}

/* Sprites hanging over every edge, or wholly outside, write nothing outside
 * the planes (the canaries) and draw the part inside. */
static void test_clipping(void **state)
{
    uint32_t *px = solid_sprite(40, 20, 0xFFFFFFFFu);
    static const int pos[][2] = { { -30, -10 }, { 50, 25 }, { -39, 5 }, { 63, -19 }, { -1, -1 },
                                  { 100, 0 }, { 0, 100 }, { -40, 0 }, { 0, -20 }, { -7, 13 } };
    dm_overlay_sprite s;
    picture p;

    (void)state;
    assert_int_equal(dm_overlay_sprite_init(&s, px, 40, 20, 160, BT601), 0);
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        int x = pos[i][0], y = pos[i][1], inside;
        picture_init(&p, 16, 128, 128);
        assert_int_equal(dm_overlay_blend(&s, &p.t, x, y, 255), 0);
        inside = x < PW && y < PH && x + 40 > 0 && y + 20 > 0;
        if (inside) {
            int cx = x < 0 ? 0 : x, cy = y < 0 ? 0 : y;
            assert_int_equal(p.t.plane[0][cy * PW + cx], 235);
        }
        for (int k = 0; k < PW * PH; k++)
            if (!inside)
                assert_int_equal(p.t.plane[0][k], 16);
        picture_free(&p);
    }
    dm_overlay_sprite_release(&s);
    free(px);
}

/* Fading: alpha 0 draws nothing, alpha 128 about half. */
static void test_faded(void **state)
{
    uint32_t *px = solid_sprite(8, 8, 0xFFFFFFFFu);
    dm_overlay_sprite s;
    picture p;

    (void)state;
    assert_int_equal(dm_overlay_sprite_init(&s, px, 8, 8, 32, BT601), 0);
    picture_init(&p, 16, 128, 128);
    assert_int_equal(dm_overlay_blend(&s, &p.t, 8, 8, 0), 0);
    assert_int_equal(p.t.plane[0][8 * PW + 8], 16);
    assert_int_equal(dm_overlay_blend(&s, &p.t, 8, 8, 128), 0);
    assert_true(abs(p.t.plane[0][8 * PW + 8] - (16 + (235 - 16) * 128 / 255)) <= 1);
    picture_free(&p);
    dm_overlay_sprite_release(&s);
    free(px);
}

/* A wide sprite takes the SIMD path; it must agree with the scalar tail. */
static void test_wide_rows_agree(void **state)
{
    int w = 48;
    uint32_t *px = malloc((size_t)w * 4 * 4);
    dm_overlay_sprite s;
    picture p;

    (void)state;
    assert_non_null(px);
    for (int i = 0; i < w * 4; i++)
        px[i] = (uint32_t)((i * 37) % 256) << 24 | 0x00FFFFFFu;   /* alpha varies, white */
    assert_int_equal(dm_overlay_sprite_init(&s, px, w, 4, w * 4, BT601), 0);
    picture_init(&p, 100, 128, 128);
    assert_int_equal(dm_overlay_blend(&s, &p.t, 0, 0, 255), 0);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < w; c++) {
            int a = (int)(((r * w + c) * 37) % 256);
            double want = 100 + (235 - 100) * a / 255.0;
            assert_true(abs(p.t.plane[0][r * PW + c] - (int)(want + 0.5)) <= 1);
        }
    picture_free(&p);
    dm_overlay_sprite_release(&s);
    free(px);
}

static void test_bad_sizes(void **state)
{
    uint32_t px[4] = { 0 };
    dm_overlay_sprite s;

    (void)state;
    assert_int_not_equal(dm_overlay_sprite_init(&s, px, 0, 1, 4, BT601), 0);
    assert_int_not_equal(dm_overlay_sprite_init(&s, px, 2, 2, 4, BT601), 0);   /* pitch too small */
    assert_int_not_equal(dm_overlay_sprite_init(&s, NULL, 2, 2, 8, BT601), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blend_matches_rgb),
        cmocka_unit_test(test_odd_position_chroma),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_faded),
        cmocka_unit_test(test_wide_rows_agree),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
