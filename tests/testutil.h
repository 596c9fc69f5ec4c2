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

/* Read a whole file into a malloc'd NUL-terminated buffer; NULL on failure. */
char *dm_test_slurp(const char *path, size_t *len);

/* Path of a file under the real tracks folder (static buffer). */
const char *dm_test_track_path(const char *name);

#endif
