/*
 * measure_ahead.h - measuring a scene's comments ahead of its layout on
 * helper threads (internal to dm_core, not installed).
 *
 * Laying out is sequential (each comment's lane depends on every comment
 * before it), but measuring a comment depends on its text and height alone.
 * When a scene lays out many comments at once (a track read, a stage
 * resized), helpers measure them from the back of the layout order, each
 * with a measurer of its own (dm_scene_opts.measure_clone), while the
 * layout goes from the front and measures what no helper has yet; where
 * they meet the helpers stop. Every width is what the scene's own measurer
 * would give: the clones measure exactly as it does, and a comment is
 * measured once, by one of them.
 *
 *     dm_ahead_start(a, jobs, n);       // jobs[k]: the k-th comment the layout will take
 *     ... the layout: dm_ahead_measure(a, i, text, h, &w, &hh) for each comment it measures
 *     dm_ahead_stop(a);                 // helpers joined; jobs no longer used
 *
 * Thread-safety: one thread (the scene's) calls these; the helpers are
 * this module's own.
 */
#ifndef DM_MEASURE_AHEAD_H
#define DM_MEASURE_AHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "danmaku.h"

/* Fewest comments worth starting helpers for. */
#define DM_AHEAD_MIN_JOBS 64

/* Most helper threads. */
#define DM_AHEAD_MAX_THREADS 7

/* A comment the layout will measure: its index in the scene and what it measures. */
typedef struct dm_ahead_job {
    uint32_t index;
    int height_px;
    const char *text;           /* borrowed until dm_ahead_stop */
} dm_ahead_job;

typedef struct dm_ahead dm_ahead;

/*
 * Helpers for the scene's measurer (measure, ud) and its clones. threads:
 * how many (0: one per processor this process may run on beyond the first,
 * at most DM_AHEAD_MAX_THREADS; < 0: none, dm_ahead_start does nothing).
 * NULL when out of memory or when clone is NULL.
 */
dm_ahead *dm_ahead_new(dm_measure_fn measure, void *ud, void *(*clone)(void *ud), void (*clone_free)(void *clone),
                       int threads);

/* Stop the helpers and free their measurers; *a becomes NULL. NULL-safe. */
void dm_ahead_free(dm_ahead **a);

/*
 * Start measuring jobs[0..n) (in the order the layout takes them) for
 * comments with index < count. Fewer than DM_AHEAD_MIN_JOBS, no helpers
 * or no memory: nothing starts, and dm_ahead_measure measures everything.
 */
void dm_ahead_start(dm_ahead *a, const dm_ahead_job *jobs, size_t n, size_t count);

/*
 * Comment i's width and height for `text` at height_px: a helper's result
 * when one measured it, else measured now (and then by no helper). A text
 * or height other than its job's is measured now.
 */
int dm_ahead_measure(dm_ahead *a, uint32_t i, const char *text, int height_px, int *w, int *h);

/* Stop and join the helpers of the last start. */
void dm_ahead_stop(dm_ahead *a);

/* Comments measured by helpers and by the caller's thread so far. */
void dm_ahead_counts(const dm_ahead *a, uint64_t *by_helpers, uint64_t *by_caller);

#endif
