/*
 * blend.h - alpha blending of premultiplied ARGB8888 sprites onto an
 * ARGB8888 canvas, the hot loop of software composition.
 *
 * SDL's generic blitter handles every format and spends ~2 ns a pixel; comment
 * sprites are of one format and mostly transparent, so a loop that skips
 * transparent runs and blends the rest with SIMD (SSE2, AVX2 or AVX-512BW)
 * does the same work several times faster. Output equals SDL's blend of
 * the straight-alpha sprite within one unit per channel.
 */
#ifndef DM_BLEND_H
#define DM_BLEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Convert a straight-alpha ARGB8888 image to premultiplied alpha, in place. */
void dm_blend_premultiply(uint32_t *px, int w, int h, int pitch_px);

/*
 * Draw premultiplied `src` (sw x sh, pitch in pixels) at (x, y) onto `dst`
 * (dw x dh), touching only rows in [row_from, row_to) of dst; `alpha` (0..255)
 * scales the whole sprite. Everything outside dst is clipped.
 */
void dm_blend_sprite(uint32_t *dst, int dw, int dh, int dst_pitch_px, const uint32_t *src, int sw, int sh,
                     int src_pitch_px, int x, int y, uint8_t alpha, int row_from, int row_to);

/* The blender runs sixteen pixels at a time with AVX-512BW, eight with AVX2,
 * or four with SSE2, the widest the processor has (chosen at run time); all
 * give the same pixels. dm_blend_use_simd() keeps it to at most `level`
 * (tests and benchmarks compare the paths) and returns the level in use,
 * which is lower where the processor lacks it. */
typedef enum dm_blend_simd { DM_BLEND_SSE2, DM_BLEND_AVX2, DM_BLEND_AVX512, DM_BLEND_BEST } dm_blend_simd;
dm_blend_simd dm_blend_use_simd(dm_blend_simd level);

/*
 * A premultiplied sprite packed for blending: only its runs of 4-pixel
 * blocks that hold a pixel that is not fully transparent, row by row, their
 * pixels stored one after another. Text sprites are about 55 % transparent
 * (between glyphs, above and below them), so the transparent blocks are
 * neither stored, read nor blended (the blender is bound by its arithmetic:
 * docs/BENCHMARKS.md, "Compose at 4K").
 * Blending a packed sprite gives exactly the pixels dm_blend_sprite gives.
 * Reference counted: a frame that draws one holds a reference.
 */
typedef struct dm_packed_span {
    uint16_t x, n;            /* first pixel and length in the sprite's row */
    uint32_t off;             /* its pixels at px + off */
} dm_packed_span;

typedef struct dm_packed {
    int w, h;                 /* the sprite's size */
    int refs;
    uint32_t *row;            /* h + 1 entries: row r's spans are span[row[r]] .. span[row[r + 1] - 1] */
    dm_packed_span *span;
    uint32_t *px;
    size_t bytes;             /* what it holds */
} dm_packed;

/* Packs premultiplied pixels; NULL when out of memory (or larger than 65535 px wide). */
dm_packed *dm_packed_new(const uint32_t *px, int w, int h, int pitch_px);
dm_packed *dm_packed_ref(dm_packed *p);
void dm_packed_unref(dm_packed *p);   /* NULL-safe */

/* dm_blend_sprite for a packed sprite. */
void dm_blend_packed(uint32_t *dst, int dw, int dh, int dst_pitch_px, const dm_packed *p, int x, int y,
                     uint8_t alpha, int row_from, int row_to);

#ifdef __cplusplus
}
#endif
#endif
