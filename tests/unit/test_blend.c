/* test_blend.c - the software blender: a packed sprite blends to exactly the
 * pixels of the unpacked one, AVX2 and AVX-512 to exactly the pixels of SSE2, at every
 * clipping against the canvas' edges and bands and at partial opacity; the
 * packing keeps only the blocks that hold a pixel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blend.h"

enum { CW = 97, CH = 61 };

/* A text-like premultiplied sprite: transparent margins and gaps, opaque
 * cores, soft edges. */
static uint32_t *sprite(int w, int h, unsigned seed)
{
    uint32_t *px = calloc((size_t)w * h, sizeof *px);

    assert_non_null(px);
    for (int y = 2; y < h - 2; y++)
        for (int x = 0; x < w; x++) {
            unsigned r = (unsigned)rand_r(&seed);
            if ((x / 7) % 3 == 2 || r % 5 == 0)
                continue;                                  /* gaps between "glyphs" */
            uint32_t a = r % 3 == 0 ? 255 : r % 256;
            uint32_t c = (r >> 8) % (a + 1);                /* premultiplied: channels <= alpha */
            px[(size_t)y * w + x] = a << 24 | c << 16 | (c / 2) << 8 | (a - c);
        }
    return px;
}

static uint32_t *canvas(unsigned seed)
{
    uint32_t *c = malloc(sizeof(uint32_t) * CW * CH);

    assert_non_null(c);
    for (int i = 0; i < CW * CH; i++)
        c[i] = 0xFF000000u | ((unsigned)rand_r(&seed) & 0xFFFFFF);
    return c;
}

static void test_packed_equals_unpacked(void **state)
{
    static const int xs[] = { -40, -13, -1, 0, 3, 50, 90, 96, 120 };
    static const int ys[] = { -30, -2, 0, 7, 40, 60 };
    static const uint8_t alphas[] = { 255, 128, 1 };

    (void)state;
    for (int level = DM_BLEND_SSE2; level <= DM_BLEND_AVX512; level++) {
        if ((int)dm_blend_use_simd((dm_blend_simd)level) != level)
            continue;   /* the processor lacks it: test_simd_paths_agree says so */
        for (int w = 1; w <= 43; w += 7) {
            int h = 19;
            uint32_t *sp = sprite(w, h, (unsigned)w);
            dm_packed *pk = dm_packed_new(sp, w, h, w);
            assert_non_null(pk);
            assert_int_equal(pk->w, w);
            assert_int_equal(pk->h, h);
            for (size_t xi = 0; xi < sizeof xs / sizeof xs[0]; xi++)
                for (size_t yi = 0; yi < sizeof ys / sizeof ys[0]; yi++)
                    for (size_t ai = 0; ai < sizeof alphas / sizeof alphas[0]; ai++) {
                        uint32_t *a = canvas(7), *b = canvas(7);
                        /* a band of rows as the two-core split draws it, and the whole canvas */
                        int from = ai == 1 ? 20 : 0, to = ai == 1 ? 45 : CH;
                        dm_blend_sprite(a, CW, CH, CW, sp, w, h, w, xs[xi], ys[yi], alphas[ai], from, to);
                        dm_blend_packed(b, CW, CH, CW, pk, xs[xi], ys[yi], alphas[ai], from, to);
                        assert_memory_equal(a, b, sizeof(uint32_t) * CW * CH);
                        free(a);
                        free(b);
                    }
            dm_packed_unref(pk);
            free(sp);
        }
    }
    dm_blend_use_simd(DM_BLEND_BEST);
}

static void test_simd_paths_agree(void **state)
{
    uint32_t *sp = sprite(200, 40, 3);
    uint32_t *a = malloc(sizeof(uint32_t) * 300 * 60), *b = malloc(sizeof(uint32_t) * 300 * 60);
    uint32_t *before = malloc(sizeof(uint32_t) * 300 * 60);

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(before);
    for (int i = 0; i < 300 * 60; i++)
        a[i] = b[i] = before[i] = 0xFF000000u | (uint32_t)i * 2654435761u >> 8;
    dm_blend_use_simd(DM_BLEND_SSE2);
    dm_blend_sprite(a, 300, 60, 300, sp, 200, 40, 200, 37, 9, 255, 0, 60);
    dm_blend_sprite(a, 300, 60, 300, sp, 200, 40, 200, 61, 13, 77, 0, 60);   /* and at partial opacity */
    assert_true(memcmp(a, before, sizeof(uint32_t) * 300 * 60) != 0);   /* the blend drew */
    for (int level = DM_BLEND_AVX2; level <= DM_BLEND_AVX512; level++) {
        if ((int)dm_blend_use_simd((dm_blend_simd)level) != level) {
            print_message("SKIP: this processor has no %s: that path is not tested here\n",
                          level == DM_BLEND_AVX2 ? "AVX2" : "AVX-512BW");
            continue;
        }
        memcpy(b, before, sizeof(uint32_t) * 300 * 60);
        dm_blend_sprite(b, 300, 60, 300, sp, 200, 40, 200, 37, 9, 255, 0, 60);
        dm_blend_sprite(b, 300, 60, 300, sp, 200, 40, 200, 61, 13, 77, 0, 60);
        assert_memory_equal(a, b, sizeof(uint32_t) * 300 * 60);
    }
    dm_blend_use_simd(DM_BLEND_BEST);
    free(before);
    free(a);
    free(b);
    free(sp);
}

static void test_packing_drops_empty_blocks(void **state)
{
    enum { W = 64, H = 4 };
    uint32_t px[W * H];
    dm_packed *pk;

    (void)state;
    memset(px, 0, sizeof px);
    px[0 * W + 5] = 0xFF112233u;     /* row 0: one pixel, in the block at 4 */
    px[1 * W + 10] = 0x80404040u;    /* row 1: blocks 8 and 12 touching: one span of 8 */
    px[1 * W + 12] = 0x80404040u;
    px[1 * W + 63] = 0xFFFFFFFFu;    /* and the row's last block: a second span */
    /* row 2: blocks 0 and 3 used: a gap of two blocks stays inside one span, a gap of three does not */
    px[2 * W + 1] = 0x40101010u;
    px[2 * W + 13] = 0x40101010u;
    px[2 * W + 29] = 0x40101010u;
    /* row 3: full */
    for (int x = 0; x < W; x++)
        px[3 * W + x] = 0xFF000000u;
    pk = dm_packed_new(px, W, H, W);
    assert_non_null(pk);
    assert_int_equal(pk->row[1] - pk->row[0], 1);
    assert_int_equal(pk->span[pk->row[0]].x, 4);
    assert_int_equal(pk->span[pk->row[0]].n, 4);
    assert_int_equal(pk->row[2] - pk->row[1], 2);
    assert_int_equal(pk->span[pk->row[1]].x, 8);
    assert_int_equal(pk->span[pk->row[1]].n, 8);
    assert_int_equal(pk->span[pk->row[1] + 1].x, 60);
    assert_int_equal(pk->row[3] - pk->row[2], 2);
    assert_int_equal(pk->span[pk->row[2]].x, 0);
    assert_int_equal(pk->span[pk->row[2]].n, 16);
    assert_int_equal(pk->span[pk->row[2] + 1].x, 28);
    assert_int_equal(pk->row[4] - pk->row[3], 1);
    assert_int_equal(pk->span[pk->row[3]].n, W);
    assert_int_equal(pk->px[pk->span[pk->row[0]].off + 1], 0xFF112233u);
    /* 4 + 8 + 4 + 16 + 4 + 64 pixels kept of 256 */
    {
        unsigned kept = 0;
        for (uint32_t k = 0; k < pk->row[H]; k++)
            kept += pk->span[k].n;
        assert_int_equal(kept, 100);
        assert_true(pk->bytes < sizeof px);
    }
    assert_ptr_equal(dm_packed_ref(pk), pk);
    dm_packed_unref(pk);
    dm_packed_unref(pk);
    dm_packed_unref(NULL);
    assert_null(dm_packed_new(px, 0, H, W));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packed_equals_unpacked),
        cmocka_unit_test(test_simd_paths_agree),
        cmocka_unit_test(test_packing_drops_empty_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
