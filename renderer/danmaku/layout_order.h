/*
 * layout_order.h - the order in which a track's comments are laid out, and
 * duplicate merging, shared by dm_layout_track and the scene (internal to
 * dm_core, not installed).
 */
#ifndef DM_LAYOUT_ORDER_H
#define DM_LAYOUT_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "danmaku.h"

/* Comments are laid out in order of (pass, t_ms, input index). */
typedef struct dm_order_key {
    int pass;                   /* screening pass (live recordings) */
    int64_t t;                  /* comment time */
    uint32_t index;             /* input index, the tie-break */
} dm_order_key;

/* qsort comparison of dm_order_key. */
int dm_order_cmp(const void *a, const void *b);

/*
 * The layout order of comments [0, n) of `track` into *order (malloc'd, n
 * entries, the caller frees), and duplicate merging when merge_window_ms > 0:
 * members get DM_REASON_DUPLICATE (and their mode) in placed[], leaders
 * their "text ×N" in texts[] (malloc'd). placed and texts hold n zeroed
 * entries. *rewinds is 1 when a comment has a pass > 0 (the layout must
 * allow rewinds). 0, DM_ENOMEM or DM_ETOOBIG.
 */
int dm_layout_prepare(const dm_track *track, size_t n, const dm_filter *filter, int merge_window_ms,
                      dm_order_key **order, dm_placed *placed, char **texts, int *rewinds);

#endif
