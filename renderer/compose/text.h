/*
 * text.h - measuring and rasterising comment text (dm_text): SDL_ttf with
 * HarfBuzz shaping for the glyphs, fontconfig for finding the fonts and for
 * per-code-point fallback (CJK, emoji, symbols), since SDL_ttf 2.20 has none.
 *
 * One comment becomes one ARGB8888 sprite: coloured fill with a dark outline
 * (the Bilibili look), transparent elsewhere. The layout engine gets the
 * sprite's exact size from dm_text_measure before anything is drawn.
 *
 * Box model: `height_px` is the box height of one line, outline included.
 * The point size is the largest whose line height (ascent + descent of the
 * primary font) plus 2 * outline fits in height_px; every line box is exactly
 * height_px tall, so text with n lines ('\n') is n * height_px tall. The width
 * is the widest line plus the outline on both sides. dm_text_render always
 * returns a surface of exactly the measured size.
 *
 * Ownership: dm_text_new returns an object the caller frees with
 * dm_text_free; surfaces from dm_text_render belong to the caller.
 * Thread-safety: a dm_text may be used by one thread at a time (SDL_ttf's
 * font handles and this module's caches are not locked). Distinct dm_text
 * objects may live on distinct threads once TTF_Init has run.
 */
#ifndef DM_TEXT_H
#define DM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "danmaku.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dm_text dm_text;

/* Outline thickness used when the caller has no opinion. */
#define DM_TEXT_OUTLINE_DEFAULT 2

/* Thickest outline accepted: thicker outlines swallow the glyphs. */
#define DM_TEXT_MAX_OUTLINE 16

/* Largest height_px accepted, so one absurd comment cannot ask for a huge font. */
#define DM_TEXT_MAX_HEIGHT_PX 1024

/*
 * Open the fonts. `font` is a family name ("Noto Sans CJK SC"), a path to a
 * font file, or NULL for the default: fontconfig's best CJK-capable sans
 * (lang zh-cn, "Noto Sans CJK SC"), else any font covering U+4E2D. Colour
 * emoji come from fontconfig's colour emoji font when one is installed.
 * `outline_px` (0..16) is the outline thickness. Initialises SDL_ttf when it
 * is not yet. On failure returns NULL with a sentence in err (errlen bytes,
 * may be 0).
 */
dm_text *dm_text_new(const char *font, int outline_px, char *err, size_t errlen);

/* Close the fonts and free everything; *t becomes NULL. NULL-safe. */
void dm_text_free(dm_text **t);

/*
 * A second dm_text for another thread: the same fonts, outline and width
 * checks, so it measures every text exactly as `t` does. Its warnings
 * (dm_text_set_warn) are `t`'s, said once among them all and possibly from
 * its thread, and its width checks count in `t`'s (dm_text_width_checks).
 * Free it with dm_text_free before `t`. NULL with the reason in err.
 */
dm_text *dm_text_clone(dm_text *t, char *err, size_t errlen);

/* The same for a scene's measuring threads (dm_scene_opts.measure_clone). */
void *dm_text_measure_clone(void *text);
void dm_text_measure_clone_free(void *clone);

/* Resolved family name of the primary font ("Noto Sans CJK SC"). */
const char *dm_text_family(const dm_text *t);

/*
 * Where warnings go: a code point that no installed font has is reported
 * once, naming it ("no installed font has U+0E01: ..."); the text is drawn
 * without it. fn NULL: not reported. fn runs under this module's lock, on
 * the thread of whichever clone (dm_text_clone) met the code point: it must
 * not call back into dm_text.
 */
void dm_text_set_warn(dm_text *t, void (*fn)(void *ud, const char *msg), void *ud);

/* Outline thickness given to dm_text_new. */
int dm_text_outline(const dm_text *t);

/*
 * The box (outline included) that `utf8` takes at `height_px`: sets *w and
 * *h and returns 0; DM_EINVAL when the text is empty, has nothing drawable
 * (every code point uncovered) or height_px is out of range (it must exceed
 * 2 * outline + 3 and be at most DM_TEXT_MAX_HEIGHT_PX); DM_ENOMEM; DM_EIO
 * when a font cannot be opened. Same signature as dm_measure_fn: pass
 * dm_text_measure with the dm_text as `ud` to the layout engine.
 * Example: dm_text_measure(t, "前方高能", 48, &w, &h) -> h == 48.
 */
int dm_text_measure(void *text, const char *utf8, int height_px, int *w, int *h);

/*
 * Rasterise `utf8`: an ARGB8888 surface of exactly the measured size, fill
 * colour `rgb` (0xRRGGBB), outline colour `outline_rgb`, every pixel's alpha
 * multiplied by `opacity` (0..1). Colour emoji keep their own colours and get
 * no outline. NULL on failure (same cases as dm_text_measure; the reason is
 * in SDL_GetError()). The caller frees the surface with SDL_FreeSurface.
 */
SDL_Surface *dm_text_render(dm_text *t, const char *utf8, int height_px, uint32_t rgb,
                            uint32_t outline_rgb, double opacity);

/*
 * One comment's sprite, the way every output draws it: its colour, the
 * outline colour of dm_outline_rgb, `text` (NULL: the comment's own; a
 * merged "×N" text otherwise) at `height_px` (its size class's box height).
 * Same returns as dm_text_render.
 */
SDL_Surface *dm_text_render_comment(dm_text *t, const dm_comment *c, const char *text, int height_px,
                                    double opacity);

/*
 * A live card's sprite (a super chat, a gift or guard line; danmaku.h,
 * "live cards"), the way every output draws it: its bands in the colours of
 * dm_card_colors_for, the lines of `text` (its display text from the scene;
 * NULL: the comment's own) left-aligned in them, rounded corners, for the
 * stage `layout` (dm_card_metrics_for). Exactly dm_card_box's size. Same
 * returns as dm_text_render.
 */
SDL_Surface *dm_text_render_card(dm_text *t, const dm_comment *c, const char *text, const dm_layout_opts *layout,
                                 double opacity);

/*
 * Coverage query for tests and diagnostics: how many code points of `utf8`
 * (format characters such as ZWJ and variation selectors aside) no chosen
 * font provides; such code points are skipped by measure and render alike.
 * Returns 0 and sets *missing, or a negative DM_E* code.
 */
int dm_text_coverage(dm_text *t, const char *utf8, size_t *missing);

/*
 * Where each run of one line went, for tests and debugging: run i spans
 * x[i]..x[i]+w[i] of the sprite (outline padding included in x) and was drawn
 * with the font family family[i]; colour[i] is 1 for colour bitmap (emoji)
 * runs. Fills at most `cap` runs of line `line` and returns how many runs the
 * line has, or a negative DM_E* code.
 */
typedef struct dm_text_run_info {
    int x, w;               /* horizontal extent inside the sprite */
    int colour;             /* 1: colour bitmap font (emoji), scaled */
    const char *family;     /* family of the font used, owned by the dm_text */
} dm_text_run_info;

int dm_text_runs(dm_text *t, const char *utf8, int height_px, int line, dm_text_run_info *runs,
                 int cap);

/*
 * Tests: compare every run width computed without SDL_ttf's glyph cache
 * (text_width.h) with TTF_SizeUTF8's, counting the checks and mismatches.
 */
void dm_text_check_widths(dm_text *t, int on);
void dm_text_width_checks(const dm_text *t, uint64_t *checks, uint64_t *mismatches);

/* 1 when fontconfig has a font of exactly this family ("Symbola"), else 0. */
int dm_text_family_installed(const char *family);

/* Point size chosen for height_px (see the box model above); negative on error. */
int dm_text_point_size(dm_text *t, int height_px);

#ifdef __cplusplus
}
#endif

#endif
