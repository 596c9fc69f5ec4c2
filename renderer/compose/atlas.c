/*
 * atlas.c - sprite pages for the GPU path (see atlas.h).
 */
#include "atlas.h"

#include "danmaku.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_PAGE_PX 2048
#define DEFAULT_MAX_PAGES 64
#define MAX_SHELVES 256

typedef struct shelf {
    int y, h;                 /* rows of the page, border included */
    int x;                    /* next free column */
} shelf;

typedef struct atlas_page {
    SDL_Texture *texture;
    uint32_t gen;             /* moves on when the page is emptied */
    uint64_t used;            /* the frame it was last drawn from */
    shelf shelves[MAX_SHELVES];
    int nshelves;
    int top;                  /* first row no shelf holds */
} atlas_page;

struct dm_atlas {
    SDL_Renderer *renderer;   /* borrowed */
    int page_px, max_pages;
    atlas_page *pages;
    int npages;
    uint64_t frame;
    dm_atlas_reuse_fn before_reuse;
    void *ud;
    uint32_t *scratch;        /* one sprite with its border, for the upload */
    size_t scratch_cap;
};

dm_atlas *dm_atlas_new(SDL_Renderer *renderer, int page_px, int max_pages, dm_atlas_reuse_fn before_reuse, void *ud)
{
    dm_atlas *a = calloc(1, sizeof *a);
    SDL_RendererInfo info;

    if (!a)
        return NULL;
    a->renderer = renderer;
    a->page_px = page_px > 0 ? page_px : DEFAULT_PAGE_PX;
    if (SDL_GetRendererInfo(renderer, &info) == 0) {
        if (info.max_texture_width > 0 && a->page_px > info.max_texture_width)
            a->page_px = info.max_texture_width;
        if (info.max_texture_height > 0 && a->page_px > info.max_texture_height)
            a->page_px = info.max_texture_height;
    }
    a->max_pages = max_pages > 0 ? max_pages : DEFAULT_MAX_PAGES;
    a->pages = calloc((size_t)a->max_pages, sizeof *a->pages);
    a->before_reuse = before_reuse;
    a->ud = ud;
    if (!a->pages) {
        free(a);
        return NULL;
    }
    return a;
}

void dm_atlas_free(dm_atlas **pa)
{
    dm_atlas *a = pa ? *pa : NULL;

    if (!a)
        return;
    for (int i = 0; i < a->npages; i++)
        if (a->pages[i].texture)
            SDL_DestroyTexture(a->pages[i].texture);
    free(a->pages);
    free(a->scratch);
    free(a);
    *pa = NULL;
}

void dm_atlas_frame(dm_atlas *a)
{
    a->frame++;
}

int dm_atlas_use(dm_atlas *a, const dm_atlas_slot *s)
{
    if (s->page < 0 || s->page >= a->npages || a->pages[s->page].gen != s->gen)
        return 0;
    a->pages[s->page].used = a->frame;
    return 1;
}

/* Room for w x h (border included) on page p: the best fitting shelf, or a new one. */
static int fit(atlas_page *p, int page_px, int w, int h, int *x, int *y)
{
    shelf *best = NULL;

    for (int i = 0; i < p->nshelves; i++) {
        shelf *s = &p->shelves[i];
        /* a shelf no more than a quarter taller than the sprite, with room left */
        if (s->h >= h && s->h * 4 <= h * 5 && s->x + w <= page_px && (!best || s->h < best->h))
            best = s;
    }
    if (!best) {
        if (p->nshelves == MAX_SHELVES || p->top + h > page_px || w > page_px)
            return 0;
        best = &p->shelves[p->nshelves++];
        best->y = p->top;
        best->h = h;
        best->x = 0;
        p->top += h;
    }
    *x = best->x;
    *y = best->y;
    best->x += w;
    return 1;
}

static void empty_page(dm_atlas *a, int i)
{
    if (a->before_reuse)
        a->before_reuse(a->ud, i);
    a->pages[i].gen++;
    a->pages[i].nshelves = 0;
    a->pages[i].top = 0;
}

static int new_page(dm_atlas *a)
{
    atlas_page *p = &a->pages[a->npages];

    p->texture = SDL_CreateTexture(a->renderer, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STATIC, a->page_px,
                                   a->page_px);
    if (!p->texture)
        return -1;
    SDL_SetTextureBlendMode(p->texture, SDL_BLENDMODE_BLEND);
    p->gen = 1;
    return a->npages++;
}

int dm_atlas_put(dm_atlas *a, SDL_Surface *surf, dm_atlas_slot *slot)
{
    int w = surf->w + 2, h = surf->h + 2, x = 0, y = 0, pi = -1;
    size_t need = (size_t)w * h;

    if (w > a->page_px || h > a->page_px || surf->format->format != SDL_PIXELFORMAT_ARGB8888)
        return DM_EINVAL;
    /* newest page first: sprites placed together (comments entering together) share a page, so a
     * frame's batches seldom alternate between pages */
    for (int i = a->npages - 1; i >= 0 && pi < 0; i--)
        if (fit(&a->pages[i], a->page_px, w, h, &x, &y))
            pi = i;
    if (pi < 0) {
        /* the page least recently drawn from, unless all are in this frame and another may be made */
        int lru = 0;
        for (int i = 1; i < a->npages; i++)
            if (a->pages[i].used < a->pages[lru].used)
                lru = i;
        if (a->npages < a->max_pages && (a->npages == 0 || a->pages[lru].used == a->frame))
            pi = new_page(a);
        if (pi < 0) {
            if (a->npages == 0)
                return DM_ENOMEM;
            pi = lru;
            empty_page(a, pi);
        }
        if (!fit(&a->pages[pi], a->page_px, w, h, &x, &y))
            return DM_EINVAL;
    }
    if (need > a->scratch_cap) {
        uint32_t *v = realloc(a->scratch, need * sizeof *v);
        if (!v)
            return DM_ENOMEM;
        a->scratch = v;
        a->scratch_cap = need;
    }
    /* the sprite inside a transparent border, uploaded as one rectangle */
    memset(a->scratch, 0, need * sizeof *a->scratch);
    for (int r = 0; r < surf->h; r++)
        memcpy(a->scratch + (size_t)(r + 1) * w + 1, (const uint8_t *)surf->pixels + (size_t)r * surf->pitch,
               (size_t)surf->w * 4);
    {
        SDL_Rect dst = { x, y, w, h };
        if (SDL_UpdateTexture(a->pages[pi].texture, &dst, a->scratch, w * 4))
            return DM_ENOMEM;
    }
    a->pages[pi].used = a->frame;
    slot->page = pi;
    slot->gen = a->pages[pi].gen;
    slot->rect = (SDL_Rect){ x + 1, y + 1, surf->w, surf->h };
    return 0;
}

SDL_Texture *dm_atlas_texture(const dm_atlas *a, int page)
{
    return page >= 0 && page < a->npages ? a->pages[page].texture : NULL;
}

int dm_atlas_page_px(const dm_atlas *a)
{
    return a->page_px;
}

int dm_atlas_pages(const dm_atlas *a)
{
    return a->npages;
}

void dm_atlas_clear(dm_atlas *a)
{
    for (int i = 0; i < a->npages; i++) {
        a->pages[i].gen++;
        a->pages[i].nshelves = 0;
        a->pages[i].top = 0;
    }
}
