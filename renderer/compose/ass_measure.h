/*
 * ass_measure.h - measuring comment text the way libass draws it, for ASS
 * output: the layout of an ASS file is then collision-free as libass (mpv,
 * VLC, ffmpeg's ass filter) actually draws it, not only as our own renderer
 * does. Glyph advances, hinting and outline widths differ between SDL_ttf
 * and libass by a fraction of a pixel a glyph, which adds up over a long
 * comment; measuring with libass itself removes the difference.
 *
 * A comment is rendered alone, with the very style and text dm_write_ass
 * writes, and its box is the bounding box of the ink libass returns (outline
 * included), grown to at least the line box (the font size plus the outline
 * each way) so comments of a size class stack like the player's. The anchor
 * (dm_ass_opts.anchor) says where, inside that box, dm_write_ass must put the
 * \pos of the text's top-left for the ink to land in the box.
 *
 *     dm_ass_measure *am = dm_ass_measure_new(&lo, &ass_opts, err, sizeof err);
 *     scene measure: dm_ass_measure_text with `am` as user data;
 *     ass_opts.anchor = dm_ass_measure_anchor; ass_opts.anchor_ud = am;
 *     dm_write_ass(..., &ass_opts, out, &diag);
 *     dm_ass_measure_free(&am);
 *
 * Results are cached by (text, height). Thread-safety: one thread at a time.
 */
#ifndef DM_ASS_MEASURE_H
#define DM_ASS_MEASURE_H

#include <stddef.h>

#include <ass/ass.h>

#include "danmaku.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dm_ass_measure dm_ass_measure;

/*
 * A measurer for the styles dm_write_ass writes with `ass` for a stage of
 * `lo` (its sizes per class: dm_layout_height_px). NULL with a sentence in
 * err when libass cannot start. `ass` is copied (its strings are not: they
 * must outlive the measurer).
 */
dm_ass_measure *dm_ass_measure_new(const dm_layout_opts *lo, const dm_ass_opts *ass, char *err, size_t errlen);
void dm_ass_measure_free(dm_ass_measure **m);

/* dm_measure_fn: the box libass draws `text` in at `height_px` (a size class's height). */
int dm_ass_measure_text(void *m, const char *text, int height_px, int *w, int *h);

/* dm_ass_opts.anchor: where the \pos of the text lies inside its box. */
int dm_ass_measure_anchor(void *m, const char *text, int height_px, int *dx, int *dy);

/*
 * The bounding box [x0, x1) x [y0, y1) of the ink of a libass image list:
 * the pixels with any coverage, in images that are not fully transparent.
 * 0, or -1 when nothing is drawn.
 */
int dm_ass_ink_box(const ASS_Image *images, int *x0, int *y0, int *x1, int *y1);

#ifdef __cplusplus
}
#endif
#endif
