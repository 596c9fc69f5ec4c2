/*
 * label.h - the AIGC label (人工智能生成合成内容标识办法, in force since
 * 2025-09-01): a film marked as AI-generated carries an explicit label at
 * its start (a card across the upper part of the picture for the first
 * DM_LABEL_CARD_MS) and a persistent one in the top right corner for the
 * rest of it, the way every output draws it (the player, danmaku-render),
 * sized from the stage so it is legible at any size, and an obstacle of the
 * scene (kind "label") so no comment ever covers it.
 *
 * Thread-safety: one thread uses a label (it borrows the dm_text).
 */
#ifndef DM_LABEL_H
#define DM_LABEL_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "danmaku.h"
#include "text.h"

#define DM_LABEL_CARD_MS 5000
#define DM_LABEL_DEFAULT_TEXT "AI生成 · AI-generated"

typedef struct dm_label dm_label;

/* The label `text` (NULL: the default) for a stage of stage_w x stage_h; NULL with err. */
dm_label *dm_label_new(dm_text *t, const char *text, int stage_w, int stage_h, char *err, size_t errlen);
void dm_label_free(dm_label **l);

/*
 * Its boxes as the scene's obstacles, for a film shown from film time
 * start_ms to end_ms (end_ms < 0: without end): the card, then the corner.
 * Returns how many (2) were written to out.
 */
size_t dm_label_obstacles(const dm_label *l, int64_t start_ms, int64_t end_ms, dm_obstacle out[2]);

/*
 * What is drawn at film time t_ms: the card, or the corner label, as an
 * ARGB8888 surface (straight alpha; the label owns it), with its place in
 * stage px in *at; NULL before start_ms.
 */
SDL_Surface *dm_label_at(const dm_label *l, int64_t t_ms, int64_t start_ms, SDL_Rect *at);

#endif
