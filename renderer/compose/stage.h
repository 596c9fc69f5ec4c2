/*
 * stage.h - drawing one frame: the film picture letterboxed into the output,
 * and the comments on screen on top of it, on an SDL_Renderer.
 *
 * The stage is the film's display rectangle inside the output; comment
 * positions from the engine are stage pixels, so the layout is computed for
 * the display rectangle's size and sprites are never scaled.
 *
 * Video frames are uploaded as they are (YUV420P through SDL_UpdateYUVTexture,
 * NV12 through SDL_UpdateNVTexture) and only when a new frame is due. Each
 * comment is rasterised once into the sprite cache; drawing it again is one
 * SDL_RenderCopy (SDL batches them), or, on a software canvas, one SIMD blend.
 * The sprite cache grows past its budget when one screen of comments needs
 * more (up to 1 GiB): re-rasterising every frame would be far worse.
 *
 * Thread-safety: SDL's main thread only.
 */
#ifndef DM_STAGE_H
#define DM_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "danmaku.h"
#include "sprite_cache.h"
#include "text.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dm_stage dm_stage;

/* Picture formats uploaded as they are. */
typedef enum dm_picture_format {
    DM_PICTURE_YUV420P = 0,   /* three planes, chroma halved both ways */
    DM_PICTURE_NV12 = 1,      /* luma plane + interleaved UV plane */
} dm_picture_format;

/* One decoded picture, borrowed for the duration of the upload. */
typedef struct dm_picture {
    dm_picture_format format;
    int width, height;        /* coded size */
    const uint8_t *plane[3];  /* Y, U (or UV), V */
    int pitch[3];             /* bytes per row of each plane */
} dm_picture;

/* What the stage draws comments from; all borrowed. */
typedef struct dm_stage_comments {
    const dm_comment *items;  /* the track's comments */
    char *const *texts;       /* display text overrides (merged "xN"), may be NULL */
    const dm_layout_opts *layout; /* settings the layout was computed with */
    const dm_visible *visible;    /* what is on screen now */
    size_t count;                 /* entries in visible */
    double opacity;               /* 0..1, for every comment */
} dm_stage_comments;

/*
 * New stage on `renderer`, rasterising with `text` (borrowed). The sprite
 * cache budget is in bytes (0: the default). NULL with err filled on failure.
 */
dm_stage *dm_stage_new(SDL_Renderer *renderer, dm_text *text, size_t sprite_budget, char *err,
                       size_t errlen);
void dm_stage_free(dm_stage **stage);

/*
 * The display rectangle of a picture of pic_w x pic_h with display aspect
 * `aspect` (width / height, 0: square pixels) centred in an output of
 * out_w x out_h: letterboxed or pillarboxed, never stretched.
 */
SDL_Rect dm_stage_fit(int out_w, int out_h, int pic_w, int pic_h, double aspect);

/* Upload a new picture (only when a new frame is due). 0 or DM_EINVAL/DM_ENOMEM. */
int dm_stage_upload(dm_stage *stage, const dm_picture *pic);

/* Forget the picture (audio-only films, or before the first frame). */
void dm_stage_clear_picture(dm_stage *stage);

/*
 * Draw a frame: black output, the picture in `display`, then the comments at
 * display.x + x, display.y + y. Does not present. Returns 0 or a negative
 * DM_E* code (a comment that cannot be rasterised is skipped, not an error).
 */
int dm_stage_draw(dm_stage *stage, const SDL_Rect *display, const dm_stage_comments *comments);

/*
 * More comments over the frame drawn by dm_stage_draw, which stay in the
 * same frame: comments that arrived while it was drawn (a live feed takes
 * its latest ones just before the present). Same returns.
 */
int dm_stage_draw_more(dm_stage *stage, const SDL_Rect *display, const dm_stage_comments *comments);

/*
 * Software rendering: `canvas` is the ARGB8888 (or RGB888) surface the
 * software renderer draws into. Comments are then blended straight into it
 * with the SIMD blender (much faster than SDL's generic blitter); pass NULL
 * to go back to SDL_RenderCopy.
 */
void dm_stage_set_canvas(dm_stage *stage, SDL_Surface *canvas);

/*
 * Start each frame transparent (1) instead of opaque black (0): on a
 * software canvas the comments then leave their coverage in its alpha (the
 * blender is premultiplied "over" on all four channels), which overlay
 * mode's key output shows.
 */
void dm_stage_set_transparent(dm_stage *stage, int transparent);

/* Forget every cached sprite (after a relayout changes sizes). */
void dm_stage_flush_sprites(dm_stage *stage);

/* Sprite cache statistics (for the HUD and the benchmark). */
void dm_stage_sprite_stats(const dm_stage *stage, dm_sprite_cache_stats *st);

/*
 * Software canvas: how many threads blend the comments, the caller's
 * included: the picture's rows are cut into that many slices. 0 (the
 * default) is one per core, at most DM_STAGE_MAX_THREADS; 1 blends on the
 * caller's thread alone. Every count draws the same pixels.
 */
#define DM_STAGE_MAX_THREADS 16
void dm_stage_set_threads(dm_stage *stage, int threads);

/* Software canvas: blend packed sprites (the default) or whole surfaces (the
 * blender before packing, for benchmarks to compare). */
void dm_stage_set_packed(dm_stage *stage, int packed);

/* GPU path: the draw calls that drew comments in the last frame (one per run
 * of sprites from one atlas page, one per sprite too large for a page), and
 * the atlas pages made so far. 0 on the software canvas. */
int dm_stage_draw_calls(const dm_stage *stage);
int dm_stage_atlas_pages(const dm_stage *stage);

#ifdef __cplusplus
}
#endif
#endif
