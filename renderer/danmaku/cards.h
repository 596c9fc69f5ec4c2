/*
 * cards.h - laying out the live cards of a scene (super chats, gift and
 * guard lines; see danmaku.h, "live cards"): internal to dm_core, used by
 * scene.c.
 */
#ifndef DM_CARDS_H
#define DM_CARDS_H

#include <stddef.h>

#include "danmaku.h"
#include "layout_order.h"

/*
 * Lay out every card among comments [0, n) of `track`, taken in `order`
 * (the scene's layout order): a card's placed[] entry (positioned, at its
 * place in the stack, or not shown with its reason) and its display text in
 * texts[] (the old one freed) are written; nothing else is touched. Cards
 * keep off `avoid` (keep-off boxes, subtitles) and each other. The shown
 * cards' boxes are returned as obstacles (kind "superchat" or "gift") in
 * *obstacles (malloc'd, *count of them; NULL and 0 when none): the layout
 * keeps every comment off them. 0, DM_ENOMEM.
 */
int dm_cards_layout(const dm_track *track, size_t n, const dm_order_key *order, const dm_layout_opts *opts,
                    dm_measure_fn measure, void *measure_ud, const dm_filter *filter, const dm_obstacle *avoid,
                    size_t avoid_count, dm_placed *placed, char **texts, dm_obstacle **obstacles, size_t *count);

#endif
