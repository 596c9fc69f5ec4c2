/*
 * overlay.h - drawing comment sprites straight into YUV 4:2:0 pictures.
 *
 * A sprite (ARGB8888, straight alpha, as dm_text_render makes it) is
 * converted once into premultiplied Y, U, V planes plus alpha; chroma is
 * kept at half resolution, averaged over each 2x2 block, once for each of
 * the four parities of the position (a scrolling comment lands on odd and
 * even columns). Blending is then dst = src' + dst * (255 - a) / 255 per
 * plane, on the rows and columns that carry any alpha only.
 *
 * Because RGB -> YUV is affine, blending premultiplied YUV gives what
 * blending in RGB and converting would give (the player's SDL blend), and
 * averaging premultiplied chroma over a 2x2 block is exactly the box-filtered
 * chroma of the blended picture.
 *
 * Thread-safety: a sprite is used by one thread at a time; the blend
 * functions touch only what they are given.
 */
#ifndef DM_OVERLAY_H
#define DM_OVERLAY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* YCbCr matrix and range of the picture comments are drawn into. */
typedef enum dm_yuv_matrix {
    DM_YUV_BT601 = 0,
    DM_YUV_BT709 = 1,
} dm_yuv_matrix;

typedef struct dm_yuv_space {
    dm_yuv_matrix matrix;
    int full_range;            /* 1: 0..255 (JPEG), 0: 16..235 / 16..240 */
} dm_yuv_space;

/* One plane of a converted sprite: premultiplied values and 255 - alpha. */
typedef struct dm_overlay_plane {
    int w, h;                  /* samples */
    uint8_t *pre;              /* premultiplied value, w * h (U and V: two such arrays) */
    uint8_t *pre2;             /* V plane of chroma, NULL for luma */
    uint8_t *inv;              /* 255 - alpha, w * h */
    int16_t *x0, *x1;          /* per row: first and one past last column with alpha */
} dm_overlay_plane;

typedef struct dm_overlay_sprite {
    int w, h;                  /* luma size (the ARGB sprite's) */
    dm_yuv_space space;        /* what it was converted for */
    dm_overlay_plane luma;     /* full resolution */
    dm_overlay_plane chroma[4];/* by (x & 1) | (y & 1) << 1, made on first use */
    uint8_t *argb_alpha;       /* kept to build chroma variants: alpha, w * h */
    uint8_t *argb_u, *argb_v;  /* full-resolution U, V (straight, not premultiplied) */
} dm_overlay_sprite;

/* A YUV 4:2:0 picture to draw into (borrowed planes). */
typedef struct dm_overlay_target {
    int width, height;         /* luma size */
    uint8_t *plane[3];         /* Y, U, V */
    int pitch[3];              /* bytes per row */
} dm_overlay_target;

/*
 * Convert an ARGB8888 image (`pitch` bytes per row; pixels as 32-bit
 * native-endian 0xAARRGGBB words) into *out. Returns 0, DM_EINVAL for an empty
 * or absurd size, DM_ENOMEM. On error *out holds nothing to free.
 */
int dm_overlay_sprite_init(dm_overlay_sprite *out, const uint32_t *argb, int w, int h, int pitch,
                           dm_yuv_space space);

/* Free what a sprite holds; it may be initialised again. NULL-safe. */
void dm_overlay_sprite_release(dm_overlay_sprite *s);

/* Bytes the sprite holds now (for statistics). */
size_t dm_overlay_sprite_bytes(const dm_overlay_sprite *s);

/*
 * Draw the sprite with its top-left corner at (x, y) (may be off the
 * picture: it is clipped), its alpha multiplied by `alpha255` / 255.
 * Returns 0, or DM_ENOMEM when a chroma variant cannot be made (nothing is
 * drawn then).
 */
int dm_overlay_blend(dm_overlay_sprite *s, const dm_overlay_target *dst, int x, int y, int alpha255);

#ifdef __cplusplus
}
#endif
#endif
