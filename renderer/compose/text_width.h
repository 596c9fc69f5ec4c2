/*
 * text_width.h - run widths as SDL_ttf measures them, without SDL_ttf's
 * glyph cache (internal to dm_compose).
 *
 * TTF_SizeUTF8 shapes a run with HarfBuzz and takes each glyph's box from a
 * 256-slot cache keyed by glyph index: CJK text, with thousands of glyphs,
 * misses nearly every time and reloads each glyph from FreeType, which made
 * measuring a comment cost microseconds a glyph. This module computes the
 * very same width (the same shaping through HarfBuzz's FreeType font, the
 * same glyph boxes, the same arithmetic) on faces of its own, with the
 * advances and glyph boxes memoised for good, so a glyph is loaded once per
 * face and size. Runs that need shaping are remembered too (text,
 * direction and script, per face and size), and so are the runs the caller
 * measures with SDL_ttf (bitmap faces): comments repeat their runs
 * ("مرحبا", a kana word, a copied sentence), and a repeated run is shaped
 * once. The player's tests compare it with TTF_SizeUTF8 on
 * thousands of texts in many scripts.
 *
 * Thread-safety: one thread at a time (the dm_text that owns it).
 */
#ifndef DM_TEXT_WIDTH_H
#define DM_TEXT_WIDTH_H

#include <stddef.h>

typedef struct dm_run_widths dm_run_widths;

dm_run_widths *dm_run_widths_new(void);
void dm_run_widths_free(dm_run_widths **rw);

/*
 * The width TTF_SizeUTF8 gives for `utf8` on a handle (outline 0, no style)
 * of the scalable face `face_index` of the font file in memory at data/len,
 * opened at point size `pt`, with TTF_SetFontDirection RTL when rtl is 1 (LTR
 * otherwise) and TTF_SetFontScriptName `script` ("Zzzz" when NULL). `key`
 * names the face for the memo (the caller's face number). 0 and *w, or -1
 * when it cannot (the caller asks SDL_ttf).
 */
int dm_run_width(dm_run_widths *rw, int key, const void *data, size_t len, int face_index, int pt, int rtl,
                 const char *script, const char *utf8, int *w);

/*
 * The memo of run widths, for runs measured another way (SDL_ttf, for the
 * bitmap faces dm_run_width cannot measure): the width remembered for the
 * run, keyed as dm_run_width keys it (0 and *w, or -1), and remembering one.
 */
int dm_run_width_known(dm_run_widths *rw, int key, int pt, int rtl, const char *script, const char *utf8, int *w);
void dm_run_width_remember(dm_run_widths *rw, int key, int pt, int rtl, const char *script, const char *utf8, int w);

#endif
