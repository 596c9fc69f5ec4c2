/*
 * sprite_cache.h - a bounded cache of rasterised comments: each comment is
 * drawn once by dm_text_render and kept while it is likely to be drawn again
 * (every frame while on screen, and again after a seek).
 *
 * Key: a comment index, or the text itself, plus height_px, colour and
 * opacity. Value: the SDL_Surface and a texture slot the renderer may fill
 * (an SDL_Texture made from the surface); the cache calls the destroy hook on
 * the slot when the entry goes. Least recently used entries are evicted so
 * that the bytes held (width * height * 4 of each surface) never exceed the
 * budget after an insert returns.
 *
 * Default budget, DM_SPRITE_CACHE_DEFAULT_BUDGET (64 MiB): sprites of one
 * layer of scrolling comments do not overlap, so at once they cover at most
 * the stage plus the parts sticking out of its sides, about twice a 1920x1080
 * stage, 2 * 1920 * 1080 * 4 B = 16.6 MB. With the overlay layer and top and
 * bottom comments that is four such layers, ~64 MiB: the whole screen of a
 * dense 1080p screening stays cached, and anything smaller keeps recently
 * scrolled-off comments for a backward seek.
 *
 * Pointers returned by get and put stay valid until the next put, remove,
 * clear or free on the same cache (a put may evict anything but the entry it
 * inserts).
 * Thread-safety: none; use a cache from the thread that renders (SDL's main
 * thread).
 */
#ifndef DM_SPRITE_CACHE_H
#define DM_SPRITE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DM_SPRITE_CACHE_DEFAULT_BUDGET ((size_t)64 << 20)

/* Key id meaning "keyed by text, not by comment index". */
#define DM_SPRITE_NO_ID UINT64_MAX

typedef struct dm_sprite_key {
    uint64_t id;          /* comment index, or DM_SPRITE_NO_ID to key by text */
    const char *text;     /* the text when id is DM_SPRITE_NO_ID (copied on put) */
    int height_px;        /* box height the sprite was drawn at */
    uint32_t rgb;         /* fill colour 0xRRGGBB */
    uint8_t opacity;      /* opacity as 0..255 */
} dm_sprite_key;

typedef struct dm_sprite {
    SDL_Surface *surface; /* owned by the cache */
    void *texture;        /* renderer's slot, NULL until it fills it; freed by the destroy hook */
} dm_sprite;

typedef struct dm_sprite_cache_stats {
    size_t bytes;         /* bytes held (width * height * 4 summed) */
    size_t budget;        /* the budget */
    size_t entries;       /* sprites held */
    uint64_t hits;        /* gets that found their sprite */
    uint64_t misses;      /* gets that did not */
    uint64_t evictions;   /* entries dropped to stay under budget */
} dm_sprite_cache_stats;

typedef struct dm_sprite_cache dm_sprite_cache;

/* Called with the texture slot of an entry that leaves the cache (when not NULL). */
typedef void (*dm_sprite_destroy_fn)(void *ud, void *texture);

/* New cache; budget 0 means DM_SPRITE_CACHE_DEFAULT_BUDGET. NULL when out of memory. */
dm_sprite_cache *dm_sprite_cache_new(size_t budget_bytes, dm_sprite_destroy_fn destroy, void *ud);

/* Free every entry (calling the hook) and the cache; *c becomes NULL. NULL-safe. */
void dm_sprite_cache_free(dm_sprite_cache **c);

/* The sprite for key, made most recently used; NULL on a miss (counted). */
dm_sprite *dm_sprite_cache_get(dm_sprite_cache *c, const dm_sprite_key *key);

/*
 * Insert `surface` under key, replacing an entry with the same key, then
 * evict least recently used entries until bytes <= budget. On success the
 * cache owns the surface and *out (when not NULL) points at the entry.
 * DM_ETOOBIG when the surface alone exceeds the budget, DM_ENOMEM, DM_EINVAL:
 * the caller still owns the surface.
 */
int dm_sprite_cache_put(dm_sprite_cache *c, const dm_sprite_key *key, SDL_Surface *surface,
                        dm_sprite **out);

/* Drop one entry; 0, or DM_EINVAL when it is not there. */
int dm_sprite_cache_remove(dm_sprite_cache *c, const dm_sprite_key *key);

/* Drop every entry (statistics are kept). */
void dm_sprite_cache_clear(dm_sprite_cache *c);

/* Change the budget, evicting at once when it shrinks. */
void dm_sprite_cache_set_budget(dm_sprite_cache *c, size_t budget_bytes);

/* Most a budget grows to by dm_sprite_cache_frame. */
#define DM_SPRITE_CACHE_MAX_BUDGET ((size_t)1 << 30)

/*
 * After drawing a frame whose sprites came to `frame_bytes`: one screen of
 * sprites must fit, or every frame would rasterise again, so the budget
 * grows to twice that when it is less (up to DM_SPRITE_CACHE_MAX_BUDGET).
 */
void dm_sprite_cache_frame(dm_sprite_cache *c, size_t frame_bytes);

void dm_sprite_cache_stats_get(const dm_sprite_cache *c, dm_sprite_cache_stats *st);

#ifdef __cplusplus
}
#endif

#endif
