/*
 * sprite_cache.c - LRU cache of comment sprites under a byte budget
 * (see sprite_cache.h): a chained hash table for lookups and a doubly linked
 * list in recency order for eviction.
 */
#include "sprite_cache.h"

#include <stdlib.h>
#include <string.h>

#include "danmaku.h"

typedef struct sprite_entry {
    dm_sprite sprite;             /* what callers see; first so a dm_sprite* is the entry */
    uint64_t id;                  /* key: comment index or DM_SPRITE_NO_ID */
    char *text;                   /* key: copied text when id is DM_SPRITE_NO_ID */
    int height_px;                /* key */
    uint32_t rgb;                 /* key */
    uint8_t opacity;              /* key */
    uint64_t hash;                /* hash of the key */
    size_t bytes;                 /* width * height * 4 */
    struct sprite_entry *next;    /* next in the hash chain */
    struct sprite_entry *newer;   /* towards the most recently used */
    struct sprite_entry *older;   /* towards the least recently used */
} sprite_entry;

struct dm_sprite_cache {
    sprite_entry **buckets;       /* hash chains */
    size_t nbuckets;              /* power of two */
    sprite_entry *newest;         /* most recently used */
    sprite_entry *oldest;         /* least recently used: evicted first */
    dm_sprite_destroy_fn destroy; /* texture slot hook, may be NULL */
    void *destroy_ud;             /* passed to destroy */
    dm_sprite_cache_stats st;     /* counters, bytes and budget */
};

static uint64_t key_hash(const dm_sprite_key *k)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    const unsigned char *p;

    if (k->id == DM_SPRITE_NO_ID) {
        for (p = (const unsigned char *)k->text; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
    } else {
        h = (h ^ k->id) * 1099511628211ull;
    }
    h = (h ^ (uint64_t)(uint32_t)k->height_px) * 1099511628211ull;
    h = (h ^ k->rgb) * 1099511628211ull;
    h = (h ^ k->opacity) * 1099511628211ull;
    return h;
}

static int key_valid(const dm_sprite_key *k)
{
    return k && (k->id != DM_SPRITE_NO_ID || k->text);
}

static int key_equal(const sprite_entry *e, const dm_sprite_key *k, uint64_t hash)
{
    if (e->hash != hash || e->id != k->id || e->height_px != k->height_px || e->rgb != k->rgb ||
        e->opacity != k->opacity)
        return 0;
    return k->id != DM_SPRITE_NO_ID || strcmp(e->text, k->text) == 0;
}

static sprite_entry *find(const dm_sprite_cache *c, const dm_sprite_key *k, uint64_t hash)
{
    sprite_entry *e = c->buckets[hash & (c->nbuckets - 1)];

    while (e && !key_equal(e, k, hash))
        e = e->next;
    return e;
}

static void lru_unlink(dm_sprite_cache *c, sprite_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push_newest(dm_sprite_cache *c, sprite_entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

/* Unlink from hash and list, release everything it holds. */
static void drop(dm_sprite_cache *c, sprite_entry *e)
{
    sprite_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    lru_unlink(c, e);
    if (e->sprite.texture && c->destroy)
        c->destroy(c->destroy_ud, e->sprite.texture);
    SDL_FreeSurface(e->sprite.surface);
    c->st.bytes -= e->bytes;
    c->st.entries--;
    free(e->text);
    free(e);
}

/* Evict from the old end, sparing `keep`, until the budget holds. */
static void enforce_budget(dm_sprite_cache *c, const sprite_entry *keep)
{
    while (c->st.bytes > c->st.budget && c->oldest) {
        sprite_entry *victim = c->oldest;
        if (victim == keep) {
            victim = victim->newer;
            if (!victim)
                break;
        }
        drop(c, victim);
        c->st.evictions++;
    }
}

static int rehash(dm_sprite_cache *c, size_t nbuckets)
{
    sprite_entry **nb = calloc(nbuckets, sizeof *nb);

    if (!nb)
        return DM_ENOMEM;
    for (size_t i = 0; i < c->nbuckets; i++) {
        sprite_entry *e = c->buckets[i];
        while (e) {
            sprite_entry *next = e->next;
            size_t b = e->hash & (nbuckets - 1);
            e->next = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    free(c->buckets);
    c->buckets = nb;
    c->nbuckets = nbuckets;
    return 0;
}

dm_sprite_cache *dm_sprite_cache_new(size_t budget_bytes, dm_sprite_destroy_fn destroy, void *ud)
{
    dm_sprite_cache *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->destroy = destroy;
    c->destroy_ud = ud;
    c->st.budget = budget_bytes ? budget_bytes : DM_SPRITE_CACHE_DEFAULT_BUDGET;
    if (rehash(c, 256) < 0) {
        free(c);
        return NULL;
    }
    return c;
}

void dm_sprite_cache_clear(dm_sprite_cache *c)
{
    if (!c)
        return;
    while (c->oldest)
        drop(c, c->oldest);
}

void dm_sprite_cache_free(dm_sprite_cache **cp)
{
    if (!cp || !*cp)
        return;
    dm_sprite_cache_clear(*cp);
    free((*cp)->buckets);
    free(*cp);
    *cp = NULL;
}

dm_sprite *dm_sprite_cache_get(dm_sprite_cache *c, const dm_sprite_key *key)
{
    sprite_entry *e;

    if (!c || !key_valid(key))
        return NULL;
    e = find(c, key, key_hash(key));
    if (!e) {
        c->st.misses++;
        return NULL;
    }
    c->st.hits++;
    lru_unlink(c, e);
    lru_push_newest(c, e);
    return &e->sprite;
}

int dm_sprite_cache_put(dm_sprite_cache *c, const dm_sprite_key *key, SDL_Surface *surface, dm_sprite **out)
{
    uint64_t hash;
    size_t bytes, b;
    sprite_entry *e, *old;

    if (!c || !key_valid(key) || !surface || surface->w <= 0 || surface->h <= 0)
        return DM_EINVAL;
    bytes = (size_t)surface->w * (size_t)surface->h * 4;
    if (bytes > c->st.budget)
        return DM_ETOOBIG;
    if (c->st.entries + 1 > c->nbuckets && rehash(c, c->nbuckets * 2) < 0)
        return DM_ENOMEM;
    e = calloc(1, sizeof *e);
    if (!e)
        return DM_ENOMEM;
    if (key->id == DM_SPRITE_NO_ID) {
        e->text = strdup(key->text);
        if (!e->text) {
            free(e);
            return DM_ENOMEM;
        }
    }
    hash = key_hash(key);
    old = find(c, key, hash);
    if (old)
        drop(c, old);
    e->sprite.surface = surface;
    e->id = key->id;
    e->height_px = key->height_px;
    e->rgb = key->rgb;
    e->opacity = key->opacity;
    e->hash = hash;
    e->bytes = bytes;
    b = hash & (c->nbuckets - 1);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    lru_push_newest(c, e);
    c->st.bytes += bytes;
    c->st.entries++;
    enforce_budget(c, e);
    if (out)
        *out = &e->sprite;
    return 0;
}

int dm_sprite_cache_remove(dm_sprite_cache *c, const dm_sprite_key *key)
{
    sprite_entry *e;

    if (!c || !key_valid(key))
        return DM_EINVAL;
    e = find(c, key, key_hash(key));
    if (!e)
        return DM_EINVAL;
    drop(c, e);
    return 0;
}

void dm_sprite_cache_set_budget(dm_sprite_cache *c, size_t budget_bytes)
{
    if (!c)
        return;
    c->st.budget = budget_bytes ? budget_bytes : DM_SPRITE_CACHE_DEFAULT_BUDGET;
    enforce_budget(c, NULL);
}

void dm_sprite_cache_stats_get(const dm_sprite_cache *c, dm_sprite_cache_stats *st)
{
    if (!c || !st)
        return;
    *st = c->st;
}

void dm_sprite_cache_frame(dm_sprite_cache *c, size_t frame_bytes)
{
    size_t want = frame_bytes < DM_SPRITE_CACHE_MAX_BUDGET / 2 ? frame_bytes * 2 : DM_SPRITE_CACHE_MAX_BUDGET;

    if (want > c->st.budget)
        dm_sprite_cache_set_budget(c, want);
}
