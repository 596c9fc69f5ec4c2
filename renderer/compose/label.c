/*
 * label.c - the AIGC label (label.h).
 */
#include "label.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dm_label {
    SDL_Surface *card, *corner;   /* straight-alpha ARGB8888 */
    SDL_Rect card_at, corner_at;  /* stage px */
};

/* The text on a dark, mostly opaque plate with a margin of a third of its height. */
static SDL_Surface *plate(dm_text *t, const char *text, int px)
{
    SDL_Surface *s = dm_text_render(t, text, px, 0xFFFFFF, 0x000000, 1.0), *out;
    int pad = px / 3 > 2 ? px / 3 : 2;
    SDL_Rect dst;

    if (!s)
        return NULL;
    out = SDL_CreateRGBSurfaceWithFormat(0, s->w + 2 * pad, s->h + pad, 32, SDL_PIXELFORMAT_ARGB8888);
    if (out) {
        SDL_FillRect(out, NULL, SDL_MapRGBA(out->format, 16, 16, 16, 190));
        SDL_SetSurfaceBlendMode(s, SDL_BLENDMODE_BLEND);
        dst = (SDL_Rect){ pad, pad / 2, s->w, s->h };
        SDL_BlitSurface(s, NULL, out, &dst);
    }
    SDL_FreeSurface(s);
    return out;
}

dm_label *dm_label_new(dm_text *t, const char *text, int stage_w, int stage_h, char *err, size_t errlen)
{
    dm_label *l = calloc(1, sizeof *l);
    int card_px = stage_h / 10 > 28 ? stage_h / 10 : 28, corner_px = stage_h / 24 > 22 ? stage_h / 24 : 22;
    int margin = stage_h / 40 > 4 ? stage_h / 40 : 4;

    if (!text || !*text)
        text = DM_LABEL_DEFAULT_TEXT;
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->card = plate(t, text, card_px);
    l->corner = plate(t, text, corner_px);
    if (!l->card || !l->corner) {
        snprintf(err, errlen, "cannot draw the label \"%s\": %s", text, SDL_GetError());
        dm_label_free(&l);
        return NULL;
    }
    /* the card across the upper part of the picture; a card wider than the stage is shown whole, scaled */
    if (l->card->w > stage_w - 2 * margin) {
        SDL_FreeSurface(l->card);
        l->card = plate(t, text, card_px * (stage_w - 2 * margin) / (l->card->w + 1));
        if (!l->card) {
            snprintf(err, errlen, "cannot draw the label \"%s\"", text);
            dm_label_free(&l);
            return NULL;
        }
    }
    l->card_at = (SDL_Rect){ (stage_w - l->card->w) / 2, stage_h / 8, l->card->w, l->card->h };
    l->corner_at = (SDL_Rect){ stage_w - l->corner->w - margin, margin, l->corner->w, l->corner->h };
    if (l->corner_at.x < 0)
        l->corner_at.x = 0;
    return l;
}

void dm_label_free(dm_label **pl)
{
    dm_label *l = *pl;

    if (!l)
        return;
    SDL_FreeSurface(l->card);
    SDL_FreeSurface(l->corner);
    free(l);
    *pl = NULL;
}

size_t dm_label_obstacles(const dm_label *l, int64_t start_ms, int64_t end_ms, dm_obstacle out[2])
{
    int64_t card_end = start_ms + DM_LABEL_CARD_MS, end = end_ms >= 0 ? end_ms : start_ms + 86400000LL;

    memset(out, 0, 2 * sizeof *out);
    out[0] = (dm_obstacle){ .start_ms = start_ms, .end_ms = card_end < end ? card_end : end,
                            .x = l->card_at.x, .y = l->card_at.y, .w = l->card_at.w, .h = l->card_at.h };
    out[1] = (dm_obstacle){ .start_ms = card_end < end ? card_end : end - 1, .end_ms = end,
                            .x = l->corner_at.x, .y = l->corner_at.y, .w = l->corner_at.w, .h = l->corner_at.h };
    snprintf(out[0].kind, sizeof out[0].kind, "label");
    snprintf(out[1].kind, sizeof out[1].kind, "label");
    snprintf(out[0].id, sizeof out[0].id, "aigc-card");
    snprintf(out[1].id, sizeof out[1].id, "aigc-corner");
    return 2;
}

SDL_Surface *dm_label_at(const dm_label *l, int64_t t_ms, int64_t start_ms, SDL_Rect *at)
{
    if (t_ms < start_ms)
        return NULL;
    if (t_ms < start_ms + DM_LABEL_CARD_MS) {
        *at = l->card_at;
        return l->card;
    }
    *at = l->corner_at;
    return l->corner;
}
