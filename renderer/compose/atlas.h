/*
 * atlas.h - comment sprites packed into a few large textures for the GPU
 * path, so that a frame is drawn with a handful of batched
 * SDL_RenderGeometry calls instead of one texture per comment.
 *
 * A page is one square streaming texture, filled shelf by shelf (comments
 * come in a few heights, so shelves waste little); every slot has a one
 * pixel transparent border so that sub-pixel positions and linear filtering
 * never sample a neighbour. Nothing is freed one by one: when no page has
 * room, the page least recently drawn from is emptied whole (its
 * generation moves on and every slot on it becomes stale, to be placed
 * again on its next use), or a new page is made while every page is still
 * in use in the current frame, up to the maximum.
 *
 * The caller draws in order, one page at a time; before a page is emptied
 * the `before_reuse` hook is called with it so that the caller can submit
 * what it has batched from that page (SDL flushes queued draws of a
 * texture before updating it, so what was submitted is drawn as it was).
 *
 * Thread-safety: none; the render thread only.
 */
#ifndef DM_ATLAS_H
#define DM_ATLAS_H

#include <stdint.h>

#include <SDL.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dm_atlas dm_atlas;

/* Where a sprite lies: page, the page's generation when placed, and the
 * sprite's pixels (without the border) on it. */
typedef struct dm_atlas_slot {
    int page;
    uint32_t gen;
    SDL_Rect rect;
} dm_atlas_slot;

typedef void (*dm_atlas_reuse_fn)(void *ud, int page);

/* Pages of page_px x page_px (0: 2048, or the renderer's limit if smaller),
 * at most max_pages of them (0: 64; pages are added only while every page is drawn from in the frame). NULL when out of memory. */
dm_atlas *dm_atlas_new(SDL_Renderer *renderer, int page_px, int max_pages, dm_atlas_reuse_fn before_reuse,
                       void *ud);
void dm_atlas_free(dm_atlas **atlas);

/* Starts a frame: pages drawn from before it may be emptied for new sprites. */
void dm_atlas_frame(dm_atlas *atlas);

/* 1 when the slot still holds its sprite; marks its page used in this frame. */
int dm_atlas_use(dm_atlas *atlas, const dm_atlas_slot *slot);

/* Uploads an ARGB8888 surface into a page; 0, DM_EINVAL when it is larger
 * than a page (draw it from its own texture), DM_ENOMEM. */
int dm_atlas_put(dm_atlas *atlas, SDL_Surface *surface, dm_atlas_slot *slot);

SDL_Texture *dm_atlas_texture(const dm_atlas *atlas, int page);
int dm_atlas_page_px(const dm_atlas *atlas);
int dm_atlas_pages(const dm_atlas *atlas);

/* Every slot stale (the sprites changed representation). */
void dm_atlas_clear(dm_atlas *atlas);

#ifdef __cplusplus
}
#endif

#endif
