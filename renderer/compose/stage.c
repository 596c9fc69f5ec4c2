/*
 * stage.c - drawing one frame: letterboxed picture plus the comments on
 * screen, each from its cached sprite (see stage.h).
 */
#include "stage.h"

#include "atlas.h"
#include "blend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* One sprite to blend this frame; holds a reference on the packed sprite (or the surface). */
typedef struct blit_job {
    dm_packed *packed;        /* the premultiplied sprite packed, or NULL: */
    SDL_Surface *surface;     /* the premultiplied sprite */
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
    int transparent;          /* frames start transparent, not black (overlay mode's key output) */
    size_t frame_bytes;       /* sprite bytes drawn in this frame so far */
    /* software blending on every core: the picture's rows are cut into as
     * many slices as there are blenders, the main thread drawing the first
     * and each worker one of the others; `jobs` is written by the main
     * thread only while the workers wait on their `go`, and read by them
     * until each posts `done` */
    blit_job *jobs;           /* this frame's sprites */
    size_t job_count, job_cap;
    int threads;              /* blenders wanted, main thread included (0: one per core, at most DM_STAGE_MAX_THREADS) */
    struct blend_worker {
        dm_stage *stage;
        SDL_Thread *thread;
        SDL_sem *go;
        int from, to;         /* its rows this frame */
        int slot;             /* its scratch: workers 1.., the main thread 0 */
    } workers[DM_STAGE_MAX_THREADS - 1];
    void (*task)(dm_stage *s, int from, int to, int slot); /* what the blenders do now */
    /* the software canvas' picture: converted once an upload, on every core,
     * into the canvas' format at its own size; a frame drawn 1:1 copies its
     * rows into each band just before the band's sprites are blended */
    SDL_Surface *pic_rgb;     /* NULL until a picture is uploaded on the canvas */
    int pic_rgb_newer;        /* pic_rgb holds a picture `picture` (scaled frames) lacks */
    const dm_picture *converting; /* the picture being converted (during dm_stage_upload) */
    uint8_t *scratch[DM_STAGE_MAX_THREADS]; /* a band's planes, contiguous for SDL_ConvertPixels */
    size_t scratch_cap[DM_STAGE_MAX_THREADS];
    const SDL_Rect *fill;     /* this frame's display when the bands start with the picture, else NULL */
    int blend_y0, blend_y1;   /* the rows sprites are drawn on: the display's */
    Uint32 fill_bg;           /* the canvas outside the picture: black, or transparent */
    int n_workers;            /* started so far */
    SDL_sem *done;            /* each worker posts once a frame */
    int quit;                 /* tells the workers to end (set before posting go) */
    /* GPU path: sprites in atlas pages, drawn in batches of one page */
    dm_atlas *atlas;          /* NULL until the first renderer frame */
    SDL_Vertex *verts;        /* the batch: four corners a sprite */
    int *idx;                 /* two triangles a sprite */
    int nverts, nidx, batch_cap; /* batch_cap in sprites */
    int batch_page;           /* page of the batch, -1: empty */
    int draw_calls;           /* draw calls for comments in this frame */
    int unpacked;             /* software canvas: blend from the surfaces, not packed sprites */
};

/* What the stage keeps beside a cached sprite: on the GPU path its place in
 * the atlas, or its own texture when it is larger than a page; on the
 * software canvas the sprite packed for the blender. */
typedef struct gpu_sprite {
    dm_atlas_slot slot;
    SDL_Texture *own;
    dm_packed *packed;
} gpu_sprite;

static void destroy_texture(void *ud, void *texture)
{
    gpu_sprite *g = texture;

    (void)ud;
    if (g->own)
        SDL_DestroyTexture(g->own);
    dm_packed_unref(g->packed);
    free(g);
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
    s->quit = 1;
    for (int i = 0; i < s->n_workers; i++) {
        SDL_SemPost(s->workers[i].go);
        SDL_WaitThread(s->workers[i].thread, NULL);
        SDL_DestroySemaphore(s->workers[i].go);
    }
    if (s->done)
        SDL_DestroySemaphore(s->done);
    free(s->jobs);
    dm_sprite_cache_free(&s->sprites);
    dm_atlas_free(&s->atlas);
    free(s->verts);
    free(s->idx);
    if (s->picture)
        SDL_DestroyTexture(s->picture);
    SDL_FreeSurface(s->pic_rgb);
    for (int i = 0; i < DM_STAGE_MAX_THREADS; i++)
        free(s->scratch[i]);
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

static int blenders(dm_stage *s);

/* Runs task on rows [from, to) cut into n slices, the main thread taking the
 * first and a worker each of the others; slices start on even rows when
 * `even` (4:2:0 chroma pairs rows). Returns when all are done. */
static void run_sliced(dm_stage *s, void (*task)(dm_stage *, int, int, int), int from, int to, int n, int even)
{
    int cut[DM_STAGE_MAX_THREADS + 1];

    for (int i = 0; i <= n; i++) {
        cut[i] = i == n ? to : from + (int)((int64_t)(to - from) * i / n);
        if (even && i > 0 && i < n)
            cut[i] &= ~1;
    }
    s->task = task;
    for (int i = 1; i < n; i++) {
        struct blend_worker *w = &s->workers[i - 1];
        w->from = cut[i];
        w->to = cut[i + 1];
        w->slot = i;
        SDL_SemPost(w->go);
    }
    task(s, cut[0], cut[1], 0);
    for (int i = 1; i < n; i++)
        SDL_SemWait(s->done);
}

/* Picture rows [from, to) (from even) into pic_rgb: the band's planes copied
 * together (SDL_ConvertPixels reads them one after another), then converted
 * with SDL's own YUV conversion, the one its renderer uses for the texture. */
static void convert_rows(dm_stage *s, int from, int to, int slot)
{
    const dm_picture *p = s->converting;
    int w = p->width, rows = to - from, crows = (rows + 1) / 2, cw = (w + 1) / 2;
    int nv12 = p->format == DM_PICTURE_NV12;
    size_t ybytes = (size_t)w * rows, cbytes = (size_t)(nv12 ? cw * 2 : cw) * crows;
    size_t need = ybytes + cbytes * (nv12 ? 1 : 2);
    uint8_t *buf = s->scratch[slot];

    if (rows <= 0)
        return;
    if (s->scratch_cap[slot] < need) {
        uint8_t *nb = realloc(buf, need);
        if (!nb)
            return;                     /* (the rows keep the last picture) */
        s->scratch[slot] = buf = nb;
        s->scratch_cap[slot] = need;
    }
    for (int r = 0; r < rows; r++)
        memcpy(buf + (size_t)r * w, p->plane[0] + (size_t)(from + r) * p->pitch[0], (size_t)w);
    for (int r = 0; r < crows; r++) {
        const uint8_t *u = p->plane[1] + (size_t)(from / 2 + r) * p->pitch[1];
        if (nv12) {
            memcpy(buf + ybytes + (size_t)r * cw * 2, u, (size_t)cw * 2);
        } else {
            memcpy(buf + ybytes + (size_t)r * cw, u, (size_t)cw);
            memcpy(buf + ybytes + cbytes + (size_t)r * cw, p->plane[2] + (size_t)(from / 2 + r) * p->pitch[2],
                   (size_t)cw);
        }
    }
    SDL_ConvertPixels(w, rows, nv12 ? SDL_PIXELFORMAT_NV12 : SDL_PIXELFORMAT_IYUV, buf, w,
                      s->pic_rgb->format->format, (uint8_t *)s->pic_rgb->pixels + (size_t)from * s->pic_rgb->pitch,
                      s->pic_rgb->pitch);
}

/* The software canvas: the picture converted at once, on every core. */
static int upload_to_canvas(dm_stage *s, const dm_picture *pic)
{
    Uint32 fmt = s->canvas->format->format;

    if (pic->format == DM_PICTURE_NV12 ? !pic->plane[1] : !pic->plane[2])
        return DM_EINVAL;
    if (!s->pic_rgb || s->pic_rgb->w != pic->width || s->pic_rgb->h != pic->height || s->pic_rgb->format->format != fmt) {
        SDL_FreeSurface(s->pic_rgb);
        s->pic_rgb = SDL_CreateRGBSurfaceWithFormat(0, pic->width, pic->height, 32, fmt);
        if (!s->pic_rgb)
            return DM_ENOMEM;
    }
    s->converting = pic;
    run_sliced(s, convert_rows, 0, pic->height, pic->height >= 64 ? blenders(s) : 1, 1);
    s->converting = NULL;
    s->pic_rgb_newer = 1;
    return 0;
}

int dm_stage_upload(dm_stage *s, const dm_picture *pic)
{
    Uint32 fmt = pic->format == DM_PICTURE_NV12 ? SDL_PIXELFORMAT_NV12 : SDL_PIXELFORMAT_IYUV;
    int rc;

    if (pic->width <= 0 || pic->height <= 0 || !pic->plane[0] || !pic->plane[1])
        return DM_EINVAL;
    if (s->canvas)
        return upload_to_canvas(s, pic);
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
    SDL_FreeSurface(s->pic_rgb);
    s->pic_rgb = NULL;
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
    dm_sprite *sp = dm_sprite_cache_get(s->sprites, &key);
    SDL_Surface *surf;

    if (sp)
        return sp;
    surf = cm->kind != DM_KIND_COMMENT ? dm_text_render_card(s->text, cm, text, c->layout, c->opacity)
                                       : dm_text_render_comment(s->text, cm, text, key.height_px, c->opacity);
    if (!surf)
        return NULL;
    if (s->canvas)
        dm_blend_premultiply(surf->pixels, surf->w, surf->h, surf->pitch / 4);
    if (dm_sprite_cache_put(s->sprites, &key, surf, &sp)) {
        SDL_FreeSurface(surf);
        return NULL;
    }
    if (s->canvas && !s->unpacked) {
        /* packed for the blender (NULL: blended from the surface) */
        gpu_sprite *g = calloc(1, sizeof *g);
        if (g) {
            g->slot.page = -1;
            g->packed = dm_packed_new(surf->pixels, surf->w, surf->h, surf->pitch / 4);
            sp->texture = g;
        }
    }
    return sp;
}

/* Rows of the canvas blended together: every sprite over one band, then the
 * next, so that the band stays in the cache while the sprites over it are
 * drawn and each canvas pixel goes to and from memory once a frame, however
 * many comments cover it (about 256 KB at 1080p, 512 KB at 4K). */
#define BAND_BYTES (256 * 1024)

/* Canvas rows [from, to) as the frame starts: the picture's rows where the
 * display is (drawn 1:1), the background elsewhere. */
static void fill_rows(dm_stage *s, int from, int to)
{
    SDL_Surface *cv = s->canvas;
    const SDL_Rect *d = s->fill;
    const SDL_Surface *pic = s->pic_rgb;

    for (int r = from; r < to; r++) {
        uint32_t *row = (uint32_t *)(void *)((uint8_t *)cv->pixels + (size_t)r * cv->pitch);
        int x = 0;
        if (pic && r >= d->y && r < d->y + d->h) {
            for (; x < d->x; x++)
                row[x] = s->fill_bg;
            memcpy(row + x, (const uint8_t *)pic->pixels + (size_t)(r - d->y) * pic->pitch, (size_t)d->w * 4);
            x += d->w;
        }
        for (; x < cv->w; x++)
            row[x] = s->fill_bg;
    }
}

static void blend_jobs(dm_stage *s, int row_from, int row_to, int slot)
{
    SDL_Surface *cv = s->canvas;
    int band = BAND_BYTES / (cv->pitch > 0 ? cv->pitch : 1);

    (void)slot;
    band = band < 8 ? 8 : band;
    for (int start = row_from; start < row_to; start += band) {
        int from = start, to = start + band < row_to ? start + band : row_to;
        if (s->fill)
            fill_rows(s, from, to);
        from = from < s->blend_y0 ? s->blend_y0 : from;
        to = to > s->blend_y1 ? s->blend_y1 : to;
        for (size_t i = 0; i < s->job_count && from < to; i++) {
            const blit_job *j = &s->jobs[i];
            int h = j->packed ? j->packed->h : j->surface->h;
            if (j->y >= to || j->y + h <= from)
                continue;
            if (j->packed)
                dm_blend_packed(cv->pixels, cv->w, cv->h, cv->pitch / 4, j->packed, j->x, j->y, j->alpha, from, to);
            else
                dm_blend_sprite(cv->pixels, cv->w, cv->h, cv->pitch / 4, j->surface->pixels, j->surface->w,
                                j->surface->h, j->surface->pitch / 4, j->x, j->y, j->alpha, from, to);
        }
    }
}

static int blend_worker(void *ud)
{
    struct blend_worker *w = ud;
    dm_stage *s = w->stage;

    for (;;) {
        SDL_SemWait(w->go);
        if (s->quit)
            return 0;
        s->task(s, w->from, w->to, w->slot);
        SDL_SemPost(s->done);
    }
}

/* The blenders for this frame, main thread included: the workers are
 * started on first use, as many as wanted (fewer when the system will not
 * give more). */
static int blenders(dm_stage *s)
{
    int want = s->threads > 0 ? s->threads : SDL_GetCPUCount();

    want = want < 1 ? 1 : want > DM_STAGE_MAX_THREADS ? DM_STAGE_MAX_THREADS : want;
    if (!s->done && want > 1)
        s->done = SDL_CreateSemaphore(0);
    while (s->done && s->n_workers < want - 1) {
        struct blend_worker *w = &s->workers[s->n_workers];
        w->stage = s;
        if (!(w->go = SDL_CreateSemaphore(0)))
            break;
        if (!(w->thread = SDL_CreateThread(blend_worker, "blend", w))) {
            SDL_DestroySemaphore(w->go);
            break;
        }
        s->n_workers++;
    }
    return 1 + (want - 1 < s->n_workers ? want - 1 : s->n_workers);
}

/* Software target: blend premultiplied sprites straight into the canvas,
 * the picture's rows in slices on all the blenders. */
static size_t draw_into_canvas(dm_stage *s, const SDL_Rect *display, const dm_stage_comments *c)
{
    SDL_Surface *cv = s->canvas;
    size_t bytes = 0;
    int n;

    s->job_count = 0;
    s->blend_y0 = display->y;
    s->blend_y1 = display->y + display->h;
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
        const gpu_sprite *g;
        if (!sp)
            continue;
        g = sp->texture;
        j->packed = g ? dm_packed_ref(g->packed) : NULL;
        j->surface = j->packed ? NULL : sp->surface;
        if (j->surface)
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
    /* a few sprites are not worth the hand-over, unless the bands also take the picture */
    n = s->job_count > 16 || (s->fill && display->h >= 64) ? blenders(s) : 1;
    if (s->fill)   /* the whole canvas, the display's rows spread over the blenders */
        run_sliced(s, blend_jobs, 0, cv->h, n, 0);
    else
        run_sliced(s, blend_jobs, display->y, display->y + display->h, n, 0);
    if (SDL_MUSTLOCK(cv))
        SDL_UnlockSurface(cv);
    for (size_t i = 0; i < s->job_count; i++) {
        dm_packed_unref(s->jobs[i].packed);
        if (s->jobs[i].surface)
            SDL_FreeSurface(s->jobs[i].surface);
    }
    return bytes;
}

/* Submits the batch (one page's sprites, in drawing order) as one call. */
static void flush_batch(dm_stage *s)
{
    if (s->batch_page >= 0 && s->nidx) {
        SDL_RenderGeometry(s->renderer, dm_atlas_texture(s->atlas, s->batch_page), s->verts, s->nverts, s->idx,
                           s->nidx);
        s->draw_calls++;
    }
    s->nverts = s->nidx = 0;
    s->batch_page = -1;
}

static void before_page_reuse(void *ud, int page)
{
    dm_stage *s = ud;

    if (s->batch_page == page)
        flush_batch(s);
}

/* Adds one sprite to the batch, flushing first when it lies on another page. */
static int batch_sprite(dm_stage *s, const gpu_sprite *g, float x, float y, Uint8 alpha)
{
    float inv = 1.0f / (float)dm_atlas_page_px(s->atlas);
    const SDL_Rect *r = &g->slot.rect;
    SDL_Color c = { 255, 255, 255, alpha };
    SDL_Vertex *v;
    int *ix;

    if (s->batch_page != g->slot.page)
        flush_batch(s);
    if (s->nverts / 4 == s->batch_cap) {
        int cap = s->batch_cap ? s->batch_cap * 2 : 256;
        SDL_Vertex *nv = realloc(s->verts, (size_t)cap * 4 * sizeof *nv);
        int *ni;
        if (!nv)
            return DM_ENOMEM;
        s->verts = nv;
        ni = realloc(s->idx, (size_t)cap * 6 * sizeof *ni);
        if (!ni)
            return DM_ENOMEM;
        s->idx = ni;
        s->batch_cap = cap;
    }
    s->batch_page = g->slot.page;
    v = &s->verts[s->nverts];
    v[0] = (SDL_Vertex){ { x, y }, c, { r->x * inv, r->y * inv } };
    v[1] = (SDL_Vertex){ { x + r->w, y }, c, { (r->x + r->w) * inv, r->y * inv } };
    v[2] = (SDL_Vertex){ { x + r->w, y + r->h }, c, { (r->x + r->w) * inv, (r->y + r->h) * inv } };
    v[3] = (SDL_Vertex){ { x, y + r->h }, c, { r->x * inv, (r->y + r->h) * inv } };
    ix = &s->idx[s->nidx];
    ix[0] = s->nverts;
    ix[1] = s->nverts + 1;
    ix[2] = s->nverts + 2;
    ix[3] = s->nverts;
    ix[4] = s->nverts + 2;
    ix[5] = s->nverts + 3;
    s->nverts += 4;
    s->nidx += 6;
    return 0;
}

/* The sprite's place on the GPU: in the atlas (placed again if its page was
 * emptied), or its own texture when larger than a page. NULL on failure. */
static gpu_sprite *gpu_sprite_for(dm_stage *s, dm_sprite *sp)
{
    gpu_sprite *g = sp->texture;

    if (!g) {
        g = calloc(1, sizeof *g);
        if (!g)
            return NULL;
        g->slot.page = -1;
        sp->texture = g;
    }
    if (g->own || dm_atlas_use(s->atlas, &g->slot))
        return g;
    if (dm_atlas_put(s->atlas, sp->surface, &g->slot) == 0)
        return g;
    g->slot.page = -1;
    g->own = SDL_CreateTextureFromSurface(s->renderer, sp->surface);
    if (!g->own)
        return NULL;
    SDL_SetTextureBlendMode(g->own, SDL_BLENDMODE_BLEND);
    return g;
}

/* Renderer target (the GPU path): sprites from atlas pages, batched into one
 * SDL_RenderGeometry call per run of one page; positions are not rounded, so
 * the motion is sub-pixel where the renderer filters. */
static size_t draw_with_renderer(dm_stage *s, const SDL_Rect *display, const dm_stage_comments *c)
{
    size_t bytes = 0;

    if (!s->atlas) {
        s->atlas = dm_atlas_new(s->renderer, 0, 0, before_page_reuse, s);
        if (!s->atlas)
            return 0;
        s->batch_page = -1;
    }
    for (size_t i = 0; i < c->count; i++) {
        const dm_visible *v = &c->visible[i];
        dm_sprite *sp = sprite_for(s, c, v->index);
        gpu_sprite *g = sp ? gpu_sprite_for(s, sp) : NULL;
        float x = (float)display->x + v->x, y = (float)display->y + v->y;
        Uint8 alpha = (Uint8)lroundf(v->alpha * 255.0f);

        if (!g)
            continue;
        bytes += (size_t)sp->surface->w * sp->surface->h * 4;
        if (g->own) {
            SDL_FRect dst = { x, y, (float)sp->surface->w, (float)sp->surface->h };
            flush_batch(s);
            SDL_SetTextureAlphaMod(g->own, alpha);
            SDL_RenderCopyF(s->renderer, g->own, NULL, &dst);
            s->draw_calls++;
        } else if (batch_sprite(s, g, x, y, alpha)) {
            break;
        }
    }
    flush_batch(s);
    return bytes;
}

void dm_stage_set_transparent(dm_stage *s, int transparent)
{
    s->transparent = transparent != 0;
}

/* The canvas' picture drawn scaled: through SDL's renderer, as on a GPU,
 * from a texture refreshed from pic_rgb when that holds a newer picture. */
static void copy_scaled_picture(dm_stage *s, const SDL_Rect *display)
{
    SDL_Surface *p = s->pic_rgb;

    if (s->picture && (s->pic_w != p->w || s->pic_h != p->h)) {
        SDL_DestroyTexture(s->picture);
        s->picture = NULL;
    }
    if (!s->picture) {
        s->picture = SDL_CreateTexture(s->renderer, p->format->format, SDL_TEXTUREACCESS_STREAMING, p->w, p->h);
        if (!s->picture)
            return;
        SDL_SetTextureBlendMode(s->picture, SDL_BLENDMODE_NONE);
        s->pic_w = p->w;
        s->pic_h = p->h;
        s->pic_rgb_newer = 1;
    }
    if (s->pic_rgb_newer && SDL_UpdateTexture(s->picture, NULL, p->pixels, p->pitch) == 0)
        s->pic_rgb_newer = 0;
    SDL_RenderCopy(s->renderer, s->picture, NULL, display);
}

int dm_stage_draw(dm_stage *s, const SDL_Rect *display, const dm_stage_comments *c)
{
    SDL_Surface *cv = s->canvas;
    int one_to_one = cv && display->x >= 0 && display->y >= 0 && display->x + display->w <= cv->w &&
                     display->y + display->h <= cv->h &&
                     (!s->pic_rgb || (s->pic_rgb->w == display->w && s->pic_rgb->h == display->h));

    s->frame_bytes = 0;
    s->draw_calls = 0;
    if (s->atlas)
        dm_atlas_frame(s->atlas);
    if (one_to_one) {
        /* the software canvas, picture at its size (or none): each band is
         * started with the picture's rows just before its sprites are drawn */
        static const dm_stage_comments none = { 0 };
        s->fill = display;
        s->fill_bg = SDL_MapRGBA(cv->format, 0, 0, 0, s->transparent ? 0 : 255);
        s->frame_bytes = draw_into_canvas(s, display, c ? c : &none);
        s->fill = NULL;
        dm_sprite_cache_frame(s->sprites, s->frame_bytes);
        return 0;
    }
    SDL_SetRenderDrawColor(s->renderer, 0, 0, 0, s->transparent ? 0 : 255);
    SDL_RenderClear(s->renderer);
    if (cv && s->pic_rgb)
        copy_scaled_picture(s, display);
    else if (!cv && s->picture)
        SDL_RenderCopy(s->renderer, s->picture, NULL, display);
    return dm_stage_draw_more(s, display, c);
}

int dm_stage_draw_more(dm_stage *s, const SDL_Rect *display, const dm_stage_comments *c)
{
    if (c && c->count)
        s->frame_bytes += s->canvas ? draw_into_canvas(s, display, c) : draw_with_renderer(s, display, c);
    dm_sprite_cache_frame(s->sprites, s->frame_bytes);
    return 0;
}

void dm_stage_set_canvas(dm_stage *s, SDL_Surface *canvas)
{
    if (canvas && (canvas->format->format != SDL_PIXELFORMAT_ARGB8888 && canvas->format->format != SDL_PIXELFORMAT_RGB888))
        canvas = NULL;   /* the blender speaks ARGB8888 only */
    if (canvas != s->canvas) {
        dm_sprite_cache_clear(s->sprites);   /* sprites change representation */
        if (s->atlas)
            dm_atlas_clear(s->atlas);
        dm_stage_clear_picture(s);           /* so does the picture: the next upload brings it */
    }
    s->canvas = canvas;
}

void dm_stage_set_threads(dm_stage *s, int threads)
{
    s->threads = threads < 0 ? 0 : threads;
}

void dm_stage_flush_sprites(dm_stage *s)
{
    dm_sprite_cache_clear(s->sprites);
    if (s->atlas)
        dm_atlas_clear(s->atlas);
}

void dm_stage_set_packed(dm_stage *s, int packed)
{
    if (s->unpacked != !packed)
        dm_sprite_cache_clear(s->sprites);
    s->unpacked = !packed;
}

int dm_stage_draw_calls(const dm_stage *s)
{
    return !s || s->canvas ? 0 : s->draw_calls;
}

int dm_stage_atlas_pages(const dm_stage *s)
{
    return s && s->atlas ? dm_atlas_pages(s->atlas) : 0;
}

void dm_stage_sprite_stats(const dm_stage *s, dm_sprite_cache_stats *st)
{
    dm_sprite_cache_stats_get(s->sprites, st);
}
