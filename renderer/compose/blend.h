/*
 * blend.h - alpha blending of premultiplied ARGB8888 sprites onto an
 * ARGB8888 canvas, the hot loop of software composition.
 *
 * SDL's generic blitter handles every format and spends ~2 ns a pixel; comment
 * sprites are mostly transparent or opaque pixels of one format, so a loop
 * that skips transparent runs, copies opaque ones and blends the edges with
 * SSE2 does the same work several times faster. Output equals SDL's blend of
 * the straight-alpha sprite within one unit per channel.
 */
#ifndef DM_BLEND_H
#define DM_BLEND_H

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

#ifdef __cplusplus
}
#endif
#endif
