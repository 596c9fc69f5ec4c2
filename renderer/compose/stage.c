/*
 * stage.c - drawing one frame: letterboxed picture plus the comments on
 * screen, each from its cached sprite (see stage.h).
 */
#include "stage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct dm_stage {
    SDL_Renderer *renderer;   /* borrowed */
    dm_text *text;            /* borrowed; rasterises comments */
    dm_sprite_cache *sprites; /* comment sprites and their textures */
    SDL_Texture *picture;     /* current film picture, NULL if none */
    dm_picture_format pic_format; /* format of `picture` */
    int pic_w, pic_h;         /* size of `picture` */
};

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
    if (dm_sprite_cache_put(s->sprites, &key, surf, &sp)) {
        SDL_FreeSurface(surf);
        return NULL;
    }
    return sp;
}

int dm_stage_draw(dm_stage *s, const SDL_Rect *display, const dm_stage_comments *c)
{
    SDL_SetRenderDrawColor(s->renderer, 0, 0, 0, 255);
    SDL_RenderClear(s->renderer);
    if (s->picture)
        SDL_RenderCopy(s->renderer, s->picture, NULL, display);
    for (size_t i = 0; c && i < c->count; i++) {
        const dm_visible *v = &c->visible[i];
        dm_sprite *sp = sprite_for(s, c, v->index);
        SDL_FRect dst;

        if (!sp)
            continue;
        if (!sp->texture) {
            sp->texture = SDL_CreateTextureFromSurface(s->renderer, sp->surface);
            if (!sp->texture)
                continue;
            SDL_SetTextureBlendMode(sp->texture, SDL_BLENDMODE_BLEND);
        }
        dst.x = (float)display->x + v->x;
        dst.y = (float)display->y + v->y;
        dst.w = (float)sp->surface->w;
        dst.h = (float)sp->surface->h;
        SDL_SetTextureAlphaMod(sp->texture, (Uint8)lroundf(v->alpha * 255.0f));
        SDL_RenderCopyF(s->renderer, sp->texture, NULL, &dst);
    }
    return 0;
}

void dm_stage_flush_sprites(dm_stage *s)
{
    dm_sprite_cache_clear(s->sprites);
}

void dm_stage_sprite_stats(const dm_stage *s, dm_sprite_cache_stats *st)
{
    dm_sprite_cache_stats_get(s->sprites, st);
}
