/*
 * stage.c - drawing one frame: letterboxed picture plus the comments on
 * screen, each from its cached sprite (see stage.h).
 */
#include "stage.h"

#include "blend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* One sprite to blend this frame; holds a reference on the surface. */
typedef struct blit_job {
    SDL_Surface *surface;     /* premultiplied sprite */
    int x, y;                 /* canvas position */
    uint8_t alpha;            /* whole-sprite opacity */
} blit_job;

struct dm_stage {
    SDL_Renderer *renderer;   /* borrowed */
    dm_text *text;            /* borrowed; rasterises comments */
    dm_sprite_cache *sprites; /* comment sprites and their textures */
    SDL_Texture *picture;     /* current film picture, NULL if none */
    dm_picture_format pic_format; /* format of `picture` */
    int pic_w, pic_h;         /* size of `picture` */
    SDL_Surface *canvas;      /* software target drawn into directly, or NULL */
    size_t budget;            /* sprite cache budget now */
    size_t frame_bytes;       /* sprite bytes drawn in this frame so far */
    /* software blending on two cores: the main thread draws the top band,
     * the worker the bottom one; `jobs` is written by the main thread only
     * while the worker waits on `go`, and read by the worker until it posts
     * `done` */
    blit_job *jobs;           /* this frame's sprites */
    size_t job_count, job_cap;
    int band_from, band_to;   /* worker's rows */
    SDL_Thread *worker;       /* NULL until the first software frame */
    SDL_sem *go, *done;       /* hand-over between the two */
    int quit;                 /* tells the worker to end (set before posting go) */
};

/* Most the sprite cache may grow to when one screen needs more than the budget. */
#define MAX_SPRITE_BUDGET ((size_t)1 << 30)

static void destroy_texture(void *ud, void *texture)
{
    (void)ud;
    SDL_DestroyTexture(texture);
}

dm_stage *dm_stage_new(SDL_Renderer *renderer, dm_text *text, size_t sprite_budget, char *err,
                       size_t errlen)
{
    dm_stage *s = calloc(1, sizeof *s);

    if (!s || !renderer || !text) {
        snprintf(err, errlen, "stage: %s", s ? "needs a renderer and fonts" : "out of memory");
        free(s);
        return NULL;
    }
    s->renderer = renderer;
    s->text = text;
    s->budget = sprite_budget ? sprite_budget : DM_SPRITE_CACHE_DEFAULT_BUDGET;
    s->sprites = dm_sprite_cache_new(sprite_budget, destroy_texture, NULL);
    if (!s->sprites) {
        snprintf(err, errlen, "stage: out of memory for the sprite cache");
        free(s);
        return NULL;
    }
    return s;
}

void dm_stage_free(dm_stage **stage)
{
    dm_stage *s = stage ? *stage : NULL;

    if (!s)
        return;
    if (s->worker) {
        s->quit = 1;
        SDL_SemPost(s->go);
        SDL_WaitThread(s->worker, NULL);
    }
    if (s->go)
        SDL_DestroySemaphore(s->go);
    if (s->done)
        SDL_DestroySemaphore(s->done);
    free(s->jobs);
    dm_sprite_cache_free(&s->sprites);
    if (s->picture)
        SDL_DestroyTexture(s->picture);
    free(s);
    *stage = NULL;
}

SDL_Rect dm_stage_fit(int out_w, int out_h, int pic_w, int pic_h, double aspect)
{
    SDL_Rect r = { 0, 0, out_w, out_h };
    double a = aspect > 0 ? aspect : (pic_h > 0 ? (double)pic_w / pic_h : 0);

    if (a <= 0 || out_w <= 0 || out_h <= 0)
        return r;
    if ((double)out_w / out_h > a) {        /* output wider: pillarbox */
        r.w = (int)lround(out_h * a);
        r.w = r.w < 1 ? 1 : r.w;
        r.x = (out_w - r.w) / 2;
    } else {                                /* output taller: letterbox */
        r.h = (int)lround(out_w / a);
        r.h = r.h < 1 ? 1 : r.h;
        r.y = (out_h - r.h) / 2;
    }
    return r;
}

int dm_stage_upload(dm_stage *s, const dm_picture *pic)
{
    Uint32 fmt = pic->format == DM_PICTURE_NV12 ? SDL_PIXELFORMAT_NV12 : SDL_PIXELFORMAT_IYUV;
    int rc;

    if (pic->width <= 0 || pic->height <= 0 || !pic->plane[0] || !pic->plane[1])
        return DM_EINVAL;
    if (!s->picture || s->pic_w != pic->width || s->pic_h != pic->height || s->pic_format != pic->format) {
        if (s->picture)
            SDL_DestroyTexture(s->picture);
        s->picture = SDL_CreateTexture(s->renderer, fmt, SDL_TEXTUREACCESS_STREAMING, pic->width, pic->height);
        if (!s->picture)
            return DM_ENOMEM;
        s->pic_w = pic->width;
        s->pic_h = pic->height;
        s->pic_format = pic->format;
    }
    if (pic->format == DM_PICTURE_NV12)
        rc = SDL_UpdateNVTexture(s->picture, NULL, pic->plane[0], pic->pitch[0], pic->plane[1], pic->pitch[1]);
    else
        rc = SDL_UpdateYUVTexture(s->picture, NULL, pic->plane[0], pic->pitch[0], pic->plane[1], pic->pitch[1],
                                  pic->plane[2], pic->pitch[2]);
    return rc ? DM_EINVAL : 0;
}

void dm_stage_clear_picture(dm_stage *s)
{
    if (s->picture)
        SDL_DestroyTexture(s->picture);
    s->picture = NULL;
}

/* The sprite of one comment, rasterised and uploaded on first use. */
static dm_sprite *sprite_for(dm_stage *s, const dm_stage_comments *c, uint32_t index)
{
    const dm_comment *cm = &c->items[index];
    const char *text = c->texts && c->texts[index] ? c->texts[index] : cm->text;
    dm_sprite_key key = {
        .id = index,
        .height_px = dm_layout_height_px(c->layout, cm->size),
        .rgb = cm->color & 0xFFFFFF,
        .opacity = (uint8_t)lround(c->opacity * 255),
    };
    uint32_t outline = (cm->color & 0xFFFFFF) == 0 ? 0xFFFFFF : 0x000000;  /* black text: light edge */
    dm_sprite *sp = dm_sprite_cache_get(s->sprites, &key);
    SDL_Surface *surf;

    if (sp)
        return sp;
    surf = dm_text_render(s->text, text, key.height_px, key.rgb, outline, c->opacity);
    if (!surf)
        return NULL;
    if (s->canvas)
        dm_blend_premultiply(surf->pixels, surf->w, surf->h, surf->pitch / 4);
    if (dm_sprite_cache_put(s->sprites, &key, surf, &sp)) {
        SDL_FreeSurface(surf);
        return NULL;
    }
    return sp;
}

static void blend_jobs(dm_stage *s, int row_from, int row_to)
{
    SDL_Surface *cv = s->canvas;

    for (size_t i = 0; i < s->job_count; i++) {
        const blit_job *j = &s->jobs[i];
        dm_blend_sprite(cv->pixels, cv->w, cv->h, cv->pitch / 4, j->surface->pixels, j->surface->w,
                        j->surface->h, j->surface->pitch / 4, j->x, j->y, j->alpha, row_from, row_to);
    }
}

static int blend_worker(void *ud)
{
    dm_stage *s = ud;

    for (;;) {
        SDL_SemWait(s->go);
        if (s->quit)
            return 0;
        blend_jobs(s, s->band_from, s->band_to);
        SDL_SemPost(s->done);
    }
}

/* Software target: blend premultiplied sprites straight into the canvas,
 * the two halves of the picture on two cores. */
static size_t draw_into_canvas(dm_stage *s, const SDL_Rect *display, const dm_stage_comments *c)
{
    SDL_Surface *cv = s->canvas;
    size_t bytes = 0;
    int mid = display->y + display->h / 2;

    s->job_count = 0;
    if (c->count > s->job_cap) {
        blit_job *j = realloc(s->jobs, c->count * sizeof *j);
        if (!j)
            return 0;
        s->jobs = j;
        s->job_cap = c->count;
    }
    /* rasterise (main thread only), keeping a reference on each surface in
     * case a later insert evicts it within this frame */
    for (size_t i = 0; i < c->count; i++) {
        const dm_visible *v = &c->visible[i];
        dm_sprite *sp = sprite_for(s, c, v->index);
        blit_job *j = &s->jobs[s->job_count];
        if (!sp)
            continue;
        j->surface = sp->surface;
        j->surface->refcount++;
        j->x = display->x + (int)lroundf(v->x);
        j->y = display->y + (int)lroundf(v->y);
        j->alpha = (uint8_t)lroundf(v->alpha * 255.0f);
        bytes += (size_t)sp->surface->w * sp->surface->h * 4;
        s->job_count++;
    }
    SDL_RenderFlush(s->renderer);   /* the picture must be in the canvas first */
    if (SDL_MUSTLOCK(cv))
        SDL_LockSurface(cv);
    if (!s->worker && s->go) {
        s->worker = SDL_CreateThread(blend_worker, "blend", s);
    }
    if (s->worker && s->job_count > 16) {
        s->band_from = mid;
        s->band_to = display->y + display->h;
        SDL_SemPost(s->go);
        blend_jobs(s, display->y, mid);
        SDL_SemWait(s->done);
    } else {
        blend_jobs(s, display->y, display->y + display->h);
    }
    if (SDL_MUSTLOCK(cv))
        SDL_UnlockSurface(cv);
    for (size_t i = 0; i < s->job_count; i++)
        SDL_FreeSurface(s->jobs[i].surface);
    return bytes;
}

/* Renderer target: one SDL_RenderCopy per comment (SDL batches them). */
static size_t draw_with_renderer(dm_stage *s, const SDL_Rect *display, const dm_stage_comments *c)
{
    size_t bytes = 0;

    for (size_t i = 0; i < c->count; i++) {
        const dm_visible *v = &c->visible[i];
        dm_sprite *sp = sprite_for(s, c, v->index);
        SDL_FRect dst;

        if (!sp)
            continue;
        bytes += (size_t)sp->surface->w * sp->surface->h * 4;
        if (!sp->texture) {
            sp->texture = SDL_CreateTextureFromSurface(s->renderer, sp->surface);
            if (!sp->texture)
                continue;
            SDL_SetTextureBlendMode(sp->texture, SDL_BLENDMODE_BLEND);
        }
        /* whole pixels, rounded as on the software canvas and in burn-in */
        dst.x = (float)(display->x + (int)lroundf(v->x));
        dst.y = (float)(display->y + (int)lroundf(v->y));
        dst.w = (float)sp->surface->w;
        dst.h = (float)sp->surface->h;
        SDL_SetTextureAlphaMod(sp->texture, (Uint8)lroundf(v->alpha * 255.0f));
        SDL_RenderCopyF(s->renderer, sp->texture, NULL, &dst);
    }
    return bytes;
}

int dm_stage_draw(dm_stage *s, const SDL_Rect *display, const dm_stage_comments *c)
{
    SDL_SetRenderDrawColor(s->renderer, 0, 0, 0, 255);
    SDL_RenderClear(s->renderer);
    if (s->picture)
        SDL_RenderCopy(s->renderer, s->picture, NULL, display);
    s->frame_bytes = 0;
    return dm_stage_draw_more(s, display, c);
}

int dm_stage_draw_more(dm_stage *s, const SDL_Rect *display, const dm_stage_comments *c)
{
    if (c && c->count)
        s->frame_bytes += s->canvas ? draw_into_canvas(s, display, c) : draw_with_renderer(s, display, c);
    /* one screen of sprites must fit, or every frame would rasterise again */
    if (s->frame_bytes > s->budget / 2 && s->budget < MAX_SPRITE_BUDGET) {
        s->budget = s->frame_bytes * 2 < MAX_SPRITE_BUDGET ? s->frame_bytes * 2 : MAX_SPRITE_BUDGET;
        dm_sprite_cache_set_budget(s->sprites, s->budget);
    }
    return 0;
}

void dm_stage_set_canvas(dm_stage *s, SDL_Surface *canvas)
{
    if (canvas && (canvas->format->format != SDL_PIXELFORMAT_ARGB8888 && canvas->format->format != SDL_PIXELFORMAT_RGB888))
        canvas = NULL;   /* the blender speaks ARGB8888 only */
    if (canvas != s->canvas)
        dm_sprite_cache_clear(s->sprites);   /* sprites change representation */
    s->canvas = canvas;
    if (canvas && !s->go) {
        s->go = SDL_CreateSemaphore(0);
        s->done = SDL_CreateSemaphore(0);
    }
}

void dm_stage_flush_sprites(dm_stage *s)
{
    dm_sprite_cache_clear(s->sprites);
}

void dm_stage_sprite_stats(const dm_stage *s, dm_sprite_cache_stats *st)
{
    dm_sprite_cache_stats_get(s->sprites, st);
}
