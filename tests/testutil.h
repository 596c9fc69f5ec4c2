/* testutil.h - helpers shared by the unit tests: a deterministic measurer,
 * file loading, the path of the real tracks. */
#ifndef DM_TESTUTIL_H
#define DM_TESTUTIL_H

#include <stddef.h>

#include "danmaku.h"

/*
 * A measurer that needs no font: each code point is as wide as a fraction of
 * the height (CJK and emoji: 1.0, ASCII: 0.55, others 0.8), plus 2 px of
 * outline each side. Deterministic and cheap; `ud` is ignored.
 */
int dm_test_measure(void *ud, const char *text, int height_px, int *w, int *h);

/* A scene's layout dump (dm_scene_dump, font "test", outline 2) as a malloc'd string; NULL on failure. */
char *dm_test_scene_dump(dm_scene *scene);

/* Read a whole file into a malloc'd NUL-terminated buffer; NULL on failure. */
char *dm_test_slurp(const char *path, size_t *len);

/*
 * The suite's tracks, named "real:FILE" (in $DM_TRACKS_DIR, which only the
 * tests labelled `shared` are given: ../shared/data/tracks) or
 * "gen:FILE" (written by tests/gen-tracks.py into $DM_GEN_TRACKS_DIR before
 * the tests run). Path of the file, or NULL when a real track is not there
 * (a line on stdout says so and names the folder; the caller skips).
 */
const char *dm_test_suite_track(const char *spec);

/*
 * Time at which placements a and b overlap by more than eps px, or NAN:
 * the independent checker's method (both horizontal separations are linear
 * in t), written apart from the engine's arithmetic.
 */
double dm_test_clash(const dm_placed *a, const dm_placed *b, double eps);

/* Same-mode, same-layer overlapping pairs among shown comments that are not positioned. */
int dm_test_count_overlaps(const dm_placed *p, size_t n);

/* Overlapping pairs of different modes (a scrolling comment over a top one...), same layer. */
int dm_test_count_cross_mode(const dm_placed *p, size_t n);

/* Crossings of shown, not positioned comments with obstacles (each pair once). */
int dm_test_obstacle_hits(const dm_placed *p, size_t n, const dm_obstacle *obs, size_t nobs);

/* The warnings a reader or the layout gave, one per line, for the tests to
 * search (what does not fit in `text` is left out). */
typedef struct dm_test_warnings {
    char text[32768];
    size_t len;
} dm_test_warnings;

/* A zeroed `diag` whose warnings go to `log` (emptied). */
void dm_test_diag_init(dm_diag *diag, dm_test_warnings *log);

#endif
