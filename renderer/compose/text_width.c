/*
 * text_width.c - run widths as SDL_ttf's TTF_SizeUTF8 computes them (see
 * text_width.h). The arithmetic follows SDL_ttf 2.20's TTF_Size_Internal
 * (HarfBuzz path, no style, no outline): positions in 26.6 from HarfBuzz,
 * each glyph's box from its metrics as Load_Glyph takes them, the width the
 * span of those boxes and of the pen's final position.
 *
 * Most comment text needs no shaping at all: a run of glyphs none of which
 * any substitution or positioning lookup of the font could start at (for
 * the features and script HarfBuzz would use) is shaped to its glyphs with
 * their advances. Such runs skip hb_shape, whose cost per call is mostly
 * fixed; the set of glyphs that lookups can start at comes from HarfBuzz's
 * own plan (hb_ot_shape_plan_collect_lookups).
 *
 * Most of the rest needs shaping only in places: a glyph that no lookup of
 * the plan can look at (not as input, not as context), in a cluster of its
 * own (no mark after it), cannot take part in any substitution or
 * positioning, so the run is shaped piece by piece between such glyphs
 * (a Japanese sentence between its kanji, a Latin word between Chinese
 * characters), and each piece once: comments repeat their words.
 *
 * A glyph that only a lookup with context looks at (the space, which Noto
 * Sans CJK substitutes between two hangul syllables) counts as such a glyph
 * wherever that lookup cannot apply within reach of it: the rules are read
 * from the GSUB or GPOS table for how much context each needs, so Latin and
 * Cyrillic text is cut at its spaces into words.
 */
#include "text_width.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_SIZES_H
#include <hb.h>
#include <hb-ft.h>
#include <hb-ot.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define MAX_FACES 64           /* faces kept open (keys past it are measured by SDL_ttf) */
#define MAX_FONTS 64           /* faces x sizes kept open */
#define MAX_RUNS 32768         /* runs remembered (cleared when full) */
#define MAX_PIECES 32768       /* shaped pieces remembered (cleared when full) */
#define MAX_CONTEXTUAL 64      /* lookups with context whose application a run is checked for */

/* SDL_ttf's rounding of 26.6 values */
#define FT_FLOOR(x) (((x) & -64) / 64)
#define FT_CEIL(x) FT_FLOOR((x) + 63)

/* A glyph's box (SDL_ttf's sz_left, sz_width) and advance, by glyph index. */
typedef struct glyph_memo {
    uint32_t idx_plus1;        /* glyph index + 1; 0: empty slot */
    int32_t left, width;       /* box, px */
    int32_t advance;           /* HarfBuzz's advance, scaled units; INT32_MIN: not asked yet */
} glyph_memo;

/* A code point's glyph (the font's cmap, as HarfBuzz asks FreeType for it). */
typedef struct cmap_memo {
    uint32_t cp_plus1;         /* code point + 1; 0: empty slot */
    uint32_t glyph;            /* 0: the font has none */
    uint8_t starts;            /* a lookup may start at its glyph (or that is not known) */
    uint8_t rewrite;           /* HarfBuzz may rewrite it: a mark, a control, format or ignorable character, no glyph */
    uint8_t fixed;             /* a lookup not in the masks below may look at it (or that is not known) */
    uint8_t fixed_start;       /* ...may start at it */
    uint8_t subst;             /* a substitution may start at it */
    uint64_t ctx_input;        /* the contextual lookups (memo_font.ctx) it is input of, */
    uint64_t ctx_before;       /* ...context before of, */
    uint64_t ctx_after;        /* ...context after of */
} cmap_memo;

/* A run's width: the same text, direction and script on the same face and
 * size measure the same, so a repeated run is shaped once. */
typedef struct run_memo {
    char *text;                /* NULL: empty slot */
    uint64_t hash;
    int32_t key, pt;           /* the caller's face, the point size */
    uint32_t script;           /* the script tag HarfBuzz is given */
    int32_t rtl;               /* 1: right to left */
    int32_t w;
} run_memo;

/* A shaped piece of a run: its glyphs and their positions (26.6). */
typedef struct piece_glyph {
    uint32_t glyph;
    int32_t x_advance, x_offset;
} piece_glyph;

typedef struct piece_memo {
    char *text;                /* NULL: empty slot; in one allocation after the glyphs */
    uint64_t hash;
    int32_t key, pt;
    uint32_t n;
    const piece_glyph *glyphs;
} piece_memo;

/* A code point of the run being measured in pieces. */
typedef struct run_cp {
    cmap_memo m;               /* its code point's entry */
    uint32_t off;              /* byte offset in the run */
    uint8_t inert, starts;     /* no lookup looks at it; a lookup may start at it */
    uint64_t near;             /* the ctx lookups that may apply with it in their reach */
} run_cp;

/*
 * A lookup with context before or after its one input glyph, that applies
 * at a glyph only when the glyph beside it is of its context: a space that
 * Noto Sans CJK substitutes between two hangul syllables. A run in which
 * it cannot apply is cut into pieces at the glyphs only it looks at.
 */
typedef struct ctx_lookup {
    hb_set_t *input, *before, *after;
    int gsub;                  /* a substitution (else a positioning) */
    int need_before, need_after;   /* every rule has context on that side */
    int most_before, most_after;   /* the longest context on each side */
    int made_before, made_after, made_input;   /* a substitution may make a glyph of that set */
} ctx_lookup;

/*
 * A face, at every size: what does not depend on the size (the face HarfBuzz
 * shapes with, its tables' lookups, the cmap) is learned once, and a new
 * size is only a size of FreeType's face and a HarfBuzz font at its scale.
 */
typedef struct memo_face {
    int open;                  /* opened (or tried) */
    FT_Face ft;                /* our own face on the caller's bytes; a size of it per memo_font */
    hb_font_t *hb;             /* HarfBuzz on it, as SDL_ttf makes its own (at the first size) */
    cmap_memo *cmap;           /* open addressing, cmap_cap a power of two */
    size_t ncmap, cmap_cap;
    hb_set_t *shaped;          /* glyphs a lookup may start at (left to right, script unknown); NULL: not known */
    hb_set_t *touched;         /* glyphs a lookup may look at, as input or context; NULL: not known */
    hb_set_t *fixed;           /* ...those of the lookups not in ctx (all of them when ctx is empty) */
    hb_set_t *fixed_starts;    /* glyphs those lookups may start at */
    hb_set_t *substs;          /* glyphs a substitution may start at */
    ctx_lookup ctx[MAX_CONTEXTUAL];
    int nctx;
    uint64_t ctx_gsub;         /* the ctx lookups that are substitutions */
    uint64_t ctx_made_input;   /* ...whose input a substitution may make */
    int failed;                /* not scalable, or it could not be opened: SDL_ttf measures it */
    hb_shape_plan_t *piece_plan; /* the plan hb_shape finds for a piece's buffer, looked up once */
} memo_face;

/* A face at a point size. */
typedef struct memo_font {
    memo_face *face;
    int key, pt;               /* the caller's face, and the point size */
    FT_Size size;              /* the face's size object for pt */
    hb_font_t *hb;             /* HarfBuzz on the face at pt, as SDL_ttf makes its own */
    hb_font_t *memo;           /* a sub-font of the face's (its tables), at pt, answering from the memos */
    glyph_memo *glyphs;        /* open addressing, cap a power of two */
    size_t nglyphs, cap;
    int failed;                /* a glyph could not be loaded: use SDL_ttf for this font */
} memo_font;

struct dm_run_widths {
    FT_Library lib;
    hb_font_funcs_t *funcs;    /* the memoised advance */
    hb_buffer_t *buf;
    memo_face faces[MAX_FACES];  /* by key */
    memo_font fonts[MAX_FONTS];
    int nfonts, next;          /* used; the next to replace when full */
    run_memo *runs;            /* remembered runs, open addressing, MAX_RUNS * 2 slots once used */
    uint32_t *run_used;        /* ...the slots used, in order (a clear touches only those) */
    size_t nruns;
    piece_memo *pieces;        /* remembered pieces, open addressing, MAX_PIECES * 2 slots once used */
    uint32_t *piece_used;      /* ...the slots used */
    size_t npieces;
    run_cp *cps;               /* the run measured in pieces */
    size_t cps_cap;
};

static glyph_memo *memo_slot(memo_font *f, uint32_t idx)
{
    size_t i = (idx * 2654435761u) & (f->cap - 1);

    while (f->glyphs[i].idx_plus1 && f->glyphs[i].idx_plus1 != idx + 1)
        i = (i + 1) & (f->cap - 1);
    return &f->glyphs[i];
}

/* The glyph's memo entry, made (and its box loaded) on first use; NULL on failure. */
static glyph_memo *glyph_of(memo_font *f, uint32_t idx)
{
    glyph_memo *g = f->cap ? memo_slot(f, idx) : NULL;

    if (g && g->idx_plus1)
        return g;                  /* known: no growth, so pointers the caller holds stay valid */
    if ((f->nglyphs + 1) * 2 > f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 1024;
        glyph_memo *old = f->glyphs, *v = calloc(cap, sizeof *v);
        size_t oldcap = f->cap;
        if (!v)
            return NULL;
        f->glyphs = v;
        f->cap = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].idx_plus1)
                *memo_slot(f, old[i].idx_plus1 - 1) = old[i];
        free(old);
    }
    g = memo_slot(f, idx);
    if (g->idx_plus1)
        return g;
    /* Load_Glyph's metrics: the slot's bitmap box, or (outlines) the metrics' */
    if (FT_Load_Glyph(f->face->ft, idx, FT_LOAD_DEFAULT | FT_LOAD_TARGET_NORMAL))
        return NULL;
    {
        FT_GlyphSlot s = f->face->ft->glyph;
        int left = s->bitmap_left, top = s->bitmap_top, rows = (int)s->bitmap.rows, width = (int)s->bitmap.width;
        if (left == 0 && top == 0 && rows == 0 && width == 0) {
            FT_Glyph_Metrics *m = &s->metrics;
            int minx = (int)FT_FLOOR(m->horiBearingX), maxx = (int)FT_CEIL(m->horiBearingX + m->width);
            left = minx;
            width = maxx - minx;
        }
        g->left = left;
        g->width = width;
    }
    g->idx_plus1 = idx + 1;
    g->advance = INT32_MIN;
    f->nglyphs++;
    return g;
}

static cmap_memo *cmap_slot(memo_face *f, uint32_t cp)
{
    size_t i = (cp * 2654435761u) & (f->cmap_cap - 1);

    while (f->cmap[i].cp_plus1 && f->cmap[i].cp_plus1 != cp + 1)
        i = (i + 1) & (f->cmap_cap - 1);
    return &f->cmap[i];
}

static int is_mark(hb_unicode_general_category_t gc)
{
    return gc == HB_UNICODE_GENERAL_CATEGORY_NON_SPACING_MARK || gc == HB_UNICODE_GENERAL_CATEGORY_SPACING_MARK ||
           gc == HB_UNICODE_GENERAL_CATEGORY_ENCLOSING_MARK;
}

/*
 * Controls, format characters (joiners, variation selectors' neighbours),
 * unassigned, line and paragraph separators. (A space with a glyph is left
 * as it is: HarfBuzz's space fallback is for spaces the font lacks.)
 */
static int is_other(hb_unicode_general_category_t gc)
{
    switch (gc) {
    case HB_UNICODE_GENERAL_CATEGORY_CONTROL:
    case HB_UNICODE_GENERAL_CATEGORY_FORMAT:
    case HB_UNICODE_GENERAL_CATEGORY_UNASSIGNED:
    case HB_UNICODE_GENERAL_CATEGORY_PRIVATE_USE:
    case HB_UNICODE_GENERAL_CATEGORY_SURROGATE:
    case HB_UNICODE_GENERAL_CATEGORY_LINE_SEPARATOR:
    case HB_UNICODE_GENERAL_CATEGORY_PARAGRAPH_SEPARATOR:
        return 1;
    default:
        return 0;
    }
}

/* The code point's entry, made on first use (its glyph and what lookups do with it); NULL without memory. */
static const cmap_memo *cp_memo(memo_face *f, uint32_t cp)
{
    cmap_memo *m;

    if ((f->ncmap + 1) * 2 > f->cmap_cap) {
        size_t cap = f->cmap_cap ? f->cmap_cap * 2 : 1024, oldcap = f->cmap_cap;
        cmap_memo *old = f->cmap, *v = calloc(cap, sizeof *v);
        if (!v)
            return NULL;
        f->cmap = v;
        f->cmap_cap = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].cp_plus1)
                *cmap_slot(f, old[i].cp_plus1 - 1) = old[i];
        free(old);
    }
    m = cmap_slot(f, cp);
    if (!m->cp_plus1) {
        hb_codepoint_t g = 0;
        hb_unicode_general_category_t gc = hb_unicode_general_category(hb_unicode_funcs_get_default(), cp);
        m->glyph = hb_font_get_nominal_glyph(f->hb, cp, &g) ? g : 0;
        m->starts = !f->shaped || hb_set_has(f->shaped, m->glyph);
        m->rewrite = !m->glyph || is_mark(gc) || is_other(gc) || utf8proc_get_property((utf8proc_int32_t)cp)->ignorable;
        m->fixed = !f->fixed || hb_set_has(f->fixed, m->glyph);
        m->fixed_start = !f->fixed_starts || hb_set_has(f->fixed_starts, m->glyph);
        m->subst = !f->substs || hb_set_has(f->substs, m->glyph);
        m->ctx_input = m->ctx_before = m->ctx_after = 0;
        for (int k = 0; k < f->nctx; k++) {
            m->ctx_input |= (uint64_t)hb_set_has(f->ctx[k].input, m->glyph) << k;
            m->ctx_before |= (uint64_t)hb_set_has(f->ctx[k].before, m->glyph) << k;
            m->ctx_after |= (uint64_t)hb_set_has(f->ctx[k].after, m->glyph) << k;
        }
        m->cp_plus1 = cp + 1;
        f->ncmap++;
    }
    return m;
}

static hb_bool_t memo_nominal_glyph(hb_font_t *font, void *font_data, hb_codepoint_t cp, hb_codepoint_t *glyph,
                                    void *user_data)
{
    memo_font *f = font_data;
    const cmap_memo *m = cp_memo(f->face, cp);

    (void)font;
    (void)user_data;
    if (!m)
        return hb_font_get_nominal_glyph(f->hb, cp, glyph);
    *glyph = m->glyph;
    return m->glyph != 0;
}

static hb_position_t memo_h_advance(hb_font_t *font, void *font_data, hb_codepoint_t glyph, void *user_data)
{
    memo_font *f = font_data;
    glyph_memo *g = glyph_of(f, glyph);

    (void)font;
    (void)user_data;
    if (!g) {
        f->failed = 1;
        return hb_font_get_glyph_h_advance(f->hb, glyph);
    }
    if (g->advance == INT32_MIN)
        g->advance = hb_font_get_glyph_h_advance(f->hb, glyph);
    return g->advance;
}

/*
 * What else HarfBuzz may ask the font it shapes with while shaping (the
 * marks' fallback positions, anchors on outline points, kerning without
 * GPOS, variation selectors): this size's answer, as SDL_ttf's font gives
 * it, not the face's font's scaled.
 */
static hb_bool_t memo_font_h_extents(hb_font_t *font, void *font_data, hb_font_extents_t *e, void *user_data)
{
    (void)font;
    (void)user_data;
    return hb_font_get_h_extents(((memo_font *)font_data)->hb, e);
}

static hb_bool_t memo_variation_glyph(hb_font_t *font, void *font_data, hb_codepoint_t cp, hb_codepoint_t vs,
                                      hb_codepoint_t *glyph, void *user_data)
{
    (void)font;
    (void)user_data;
    return hb_font_get_variation_glyph(((memo_font *)font_data)->hb, cp, vs, glyph);
}

static hb_position_t memo_h_kerning(hb_font_t *font, void *font_data, hb_codepoint_t left, hb_codepoint_t right,
                                    void *user_data)
{
    (void)font;
    (void)user_data;
    return hb_font_get_glyph_h_kerning(((memo_font *)font_data)->hb, left, right);
}

static hb_bool_t memo_extents(hb_font_t *font, void *font_data, hb_codepoint_t glyph, hb_glyph_extents_t *e,
                              void *user_data)
{
    (void)font;
    (void)user_data;
    return hb_font_get_glyph_extents(((memo_font *)font_data)->hb, glyph, e);
}

static hb_bool_t memo_contour_point(hb_font_t *font, void *font_data, hb_codepoint_t glyph, unsigned point,
                                    hb_position_t *x, hb_position_t *y, void *user_data)
{
    (void)font;
    (void)user_data;
    return hb_font_get_glyph_contour_point(((memo_font *)font_data)->hb, glyph, point, x, y);
}

dm_run_widths *dm_run_widths_new(void)
{
    dm_run_widths *rw = calloc(1, sizeof *rw);

    if (!rw)
        return NULL;
    /* HarfBuzz's first hb_language_get_default is not thread-safe (it reads the locale and
     * interns its language): made here, where a dm_text opens, before a clone's thread can
     * shape (dm_text_clone) */
    (void)hb_language_get_default();
    if (FT_Init_FreeType(&rw->lib)) {
        free(rw);
        return NULL;
    }
    rw->funcs = hb_font_funcs_create();
    hb_font_funcs_set_glyph_h_advance_func(rw->funcs, memo_h_advance, NULL, NULL);
    hb_font_funcs_set_nominal_glyph_func(rw->funcs, memo_nominal_glyph, NULL, NULL);
    hb_font_funcs_set_font_h_extents_func(rw->funcs, memo_font_h_extents, NULL, NULL);
    hb_font_funcs_set_variation_glyph_func(rw->funcs, memo_variation_glyph, NULL, NULL);
    hb_font_funcs_set_glyph_h_kerning_func(rw->funcs, memo_h_kerning, NULL, NULL);
    hb_font_funcs_set_glyph_extents_func(rw->funcs, memo_extents, NULL, NULL);
    hb_font_funcs_set_glyph_contour_point_func(rw->funcs, memo_contour_point, NULL, NULL);
    hb_font_funcs_make_immutable(rw->funcs);
    rw->buf = hb_buffer_create();
    if (!hb_buffer_allocation_successful(rw->buf)) {
        dm_run_widths_free(&rw);
        return NULL;
    }
    return rw;
}

/* (The slots never used are not touched: their pages stay unmapped, or the kernel's zero page.) */
static void runs_clear(dm_run_widths *rw)
{
    for (size_t k = 0; k < rw->nruns; k++) {
        run_memo *m = &rw->runs[rw->run_used[k]];
        free(m->text);
        m->text = NULL;
    }
    rw->nruns = 0;
}

static void pieces_clear(dm_run_widths *rw)
{
    for (size_t k = 0; k < rw->npieces; k++) {
        piece_memo *m = &rw->pieces[rw->piece_used[k]];
        free((void *)m->glyphs);   /* the block the text is in */
        m->text = NULL;
    }
    rw->npieces = 0;
}

static uint32_t script_tag(const char *script)
{
    return script ? (uint32_t)HB_TAG(script[0], script[1], script[2], script[3]) : (uint32_t)HB_TAG('Z', 'z', 'z', 'z');
}

/* The slot of a run in the memo: its entry, or the empty slot to fill; NULL without a memo. */
static run_memo *run_slot(dm_run_widths *rw, int key, int pt, int rtl, uint32_t script, const char *utf8,
                          uint64_t *hash)
{
    uint64_t h = 1469598103934665603ull ^ script ^ ((uint64_t)(rtl == 1) << 32) ^ ((uint64_t)(unsigned)key << 33) ^
                 ((uint64_t)(unsigned)pt << 45);
    size_t i;

    for (const unsigned char *p = (const unsigned char *)utf8; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    *hash = h;
    if (!rw->runs && !(rw->runs = calloc(2 * MAX_RUNS, sizeof *rw->runs)))
        return NULL;
    if (!rw->run_used && !(rw->run_used = malloc(MAX_RUNS * sizeof *rw->run_used)))
        return NULL;
    for (i = (size_t)h & (2 * MAX_RUNS - 1); rw->runs[i].text; i = (i + 1) & (2 * MAX_RUNS - 1)) {
        const run_memo *m = &rw->runs[i];
        if (m->hash == h && m->key == key && m->pt == pt && m->script == script && m->rtl == (rtl == 1) &&
            !strcmp(m->text, utf8))
            break;
    }
    return &rw->runs[i];
}

int dm_run_width_known(dm_run_widths *rw, int key, int pt, int rtl, const char *script, const char *utf8, int *w)
{
    uint64_t hash;
    const run_memo *m = rw ? run_slot(rw, key, pt, rtl, script_tag(script), utf8, &hash) : NULL;

    if (!m || !m->text)
        return -1;
    *w = m->w;
    return 0;
}

void dm_run_width_remember(dm_run_widths *rw, int key, int pt, int rtl, const char *script, const char *utf8, int w)
{
    uint64_t hash;
    uint32_t tag = script_tag(script);
    run_memo *m = rw ? run_slot(rw, key, pt, rtl, tag, utf8, &hash) : NULL;

    if (!m || m->text)
        return;
    if (rw->nruns >= MAX_RUNS) {
        runs_clear(rw);
        m = run_slot(rw, key, pt, rtl, tag, utf8, &hash);   /* the table is empty now */
    }
    if (!(m->text = strdup(utf8)))
        return;
    m->hash = hash;
    m->key = key;
    m->pt = pt;
    m->script = tag;
    m->rtl = rtl == 1;
    m->w = w;
    rw->run_used[rw->nruns++] = (uint32_t)(m - rw->runs);
}

static void ctx_free(memo_face *f)
{
    for (int k = 0; k < f->nctx; k++) {
        hb_set_destroy(f->ctx[k].input);
        hb_set_destroy(f->ctx[k].before);
        hb_set_destroy(f->ctx[k].after);
    }
    f->nctx = 0;
    f->ctx_gsub = f->ctx_made_input = 0;
}

static void font_close(memo_font *f)
{
    if (f->memo)
        hb_font_destroy(f->memo);
    if (f->hb)
        hb_font_destroy(f->hb);
    if (f->size)
        FT_Done_Size(f->size);
    free(f->glyphs);
    memset(f, 0, sizeof *f);
}

static void face_close(memo_face *f)
{
    if (f->piece_plan)
        hb_shape_plan_destroy(f->piece_plan);
    if (f->hb)
        hb_font_destroy(f->hb);
    if (f->ft)
        FT_Done_Face(f->ft);
    free(f->cmap);
    if (f->shaped)
        hb_set_destroy(f->shaped);
    if (f->touched)
        hb_set_destroy(f->touched);
    if (f->fixed)
        hb_set_destroy(f->fixed);
    if (f->fixed_starts)
        hb_set_destroy(f->fixed_starts);
    if (f->substs)
        hb_set_destroy(f->substs);
    ctx_free(f);
    memset(f, 0, sizeof *f);
}

void dm_run_widths_free(dm_run_widths **prw)
{
    dm_run_widths *rw = prw ? *prw : NULL;

    if (!rw)
        return;
    for (int i = 0; i < rw->nfonts; i++)
        font_close(&rw->fonts[i]);
    for (int i = 0; i < MAX_FACES; i++)
        face_close(&rw->faces[i]);
    runs_clear(rw);
    free(rw->runs);
    free(rw->run_used);
    pieces_clear(rw);
    free(rw->pieces);
    free(rw->piece_used);
    free(rw->cps);
    if (rw->buf)
        hb_buffer_destroy(rw->buf);
    if (rw->funcs)
        hb_font_funcs_destroy(rw->funcs);
    FT_Done_FreeType(rw->lib);
    free(rw);
    *prw = NULL;
}

/* ------------------------------------------------ lookups with context */

/* A big-endian number of a GSUB or GPOS table; -1 past its end. */
static long ot_u16(const hb_blob_t *blob, size_t off)
{
    unsigned len;
    const unsigned char *p = (const unsigned char *)hb_blob_get_data((hb_blob_t *)blob, &len);

    return p && off + 2 <= len ? (long)p[off] << 8 | p[off + 1] : -1;
}

static long ot_u32(const hb_blob_t *blob, size_t off)
{
    long hi = ot_u16(blob, off), lo = ot_u16(blob, off + 2);

    return hi < 0 || lo < 0 ? -1 : hi << 16 | lo;
}

/* Whether two sets share a glyph (1 too when that cannot be told). */
static int sets_meet(const hb_set_t *a, const hb_set_t *b)
{
    hb_set_t *both = hb_set_copy(a);
    int meet;

    hb_set_intersect(both, b);
    meet = !hb_set_allocation_successful(both) || !hb_set_is_empty(both);
    hb_set_destroy(both);
    return meet;
}

/* The context a lookup's rules ask for: the fewest glyphs before and after the input. */
typedef struct ctx_need {
    long before, after;            /* the fewest */
    long most_before, most_after;  /* the most */
} ctx_need;

static void need_add(ctx_need *n, long before, long after)
{
    n->before = before < n->before ? before : n->before;
    n->after = after < n->after ? after : n->after;
    n->most_before = before > n->most_before ? before : n->most_before;
    n->most_after = after > n->most_after ? after : n->most_after;
}

/*
 * One rule of a chained context (format 1, or 2 with classes): 0, or -1 when
 * it is not one input glyph with its context (the check below is for one
 * glyph), or when a class of its context is class 0, which stands for glyphs
 * HarfBuzz's sets of context glyphs do not hold.
 */
static int chain_rule(const hb_blob_t *t, size_t rule, int classes, ctx_need *n)
{
    long nb = ot_u16(t, rule), ni, nl;

    if (nb < 0 || (ni = ot_u16(t, rule + 2 + 2 * (size_t)nb)) != 1)
        return -1;
    nl = ot_u16(t, rule + 4 + 2 * (size_t)nb);
    if (nl < 0)
        return -1;
    for (long k = 0; classes && k < nb; k++)
        if (ot_u16(t, rule + 2 + 2 * (size_t)k) <= 0)
            return -1;
    for (long k = 0; classes && k < nl; k++)
        if (ot_u16(t, rule + 6 + 2 * (size_t)nb + 2 * (size_t)k) <= 0)
            return -1;
    need_add(n, nb, nl);
    return 0;
}

/* A chained context subtable (GSUB 6, GPOS 8) or a reverse chained one (GSUB 8, `reverse`). */
static int chain_subtable(const hb_blob_t *t, size_t st, int reverse, ctx_need *n)
{
    long format = ot_u16(t, st), nb, ni, nl, sets;
    size_t first;

    if (reverse) {   /* format 1: coverage, backtrack coverages, lookahead coverages */
        nb = ot_u16(t, st + 4);
        nl = nb < 0 ? -1 : ot_u16(t, st + 6 + 2 * (size_t)nb);
        if (format != 1 || nl < 0)
            return -1;
        need_add(n, nb, nl);
        return 0;
    }
    if (format == 3) {
        nb = ot_u16(t, st + 2);
        ni = nb < 0 ? -1 : ot_u16(t, st + 4 + 2 * (size_t)nb);
        nl = ni != 1 ? -1 : ot_u16(t, st + 8 + 2 * (size_t)nb);
        if (nl < 0)
            return -1;
        need_add(n, nb, nl);
        return 0;
    }
    if (format != 1 && format != 2)
        return -1;
    /* rule sets (format 1) or class sets (format 2), each a list of rules */
    first = format == 1 ? 6 : 12;
    sets = ot_u16(t, st + first - 2);
    for (long k = 0; sets >= 0 && k < sets; k++) {
        long set = ot_u16(t, st + first + 2 * (size_t)k), rules;
        if (set < 0)
            return -1;
        if (set == 0)
            continue;
        rules = ot_u16(t, st + (size_t)set);
        for (long r = 0; r < rules; r++) {
            long rule = ot_u16(t, st + (size_t)set + 2 + 2 * (size_t)r);
            if (rule <= 0 || chain_rule(t, st + (size_t)set + (size_t)rule, format == 2, n) < 0)
                return -1;
        }
        if (rules < 0)
            return -1;
    }
    return sets < 0 ? -1 : 0;
}

/*
 * The context every rule of lookup `index` of the table needs, or -1 when
 * that cannot be told: not a chained context, a rule with more than one
 * input glyph, or a lookup that skips base glyphs (its context may then be
 * further away than the glyph beside).
 */
static int lookup_need(const hb_blob_t *t, int gsub, unsigned index, ctx_need *n)
{
    long list = ot_u16(t, 8), count, lookup, type, flag, subtables;

    n->before = n->after = 0xFFFF;
    n->most_before = n->most_after = 0;
    if (list <= 0 || (count = ot_u16(t, (size_t)list)) < 0 || index >= (unsigned long)count)
        return -1;
    lookup = ot_u16(t, (size_t)list + 2 + 2 * (size_t)index);
    if (lookup <= 0)
        return -1;
    lookup += list;
    type = ot_u16(t, (size_t)lookup);
    flag = ot_u16(t, (size_t)lookup + 2);
    subtables = ot_u16(t, (size_t)lookup + 4);
    if (type < 0 || flag < 0 || (flag & 0x0002) || subtables <= 0)
        return -1;
    for (long k = 0; k < subtables; k++) {
        long off = ot_u16(t, (size_t)lookup + 6 + 2 * (size_t)k), kind = type;
        size_t st;
        if (off <= 0)
            return -1;
        st = (size_t)lookup + (size_t)off;
        if (kind == (gsub ? 7 : 9)) {   /* extension: the real type and a 32-bit offset */
            long ext = ot_u32(t, st + 4);
            kind = ot_u16(t, st + 2);
            if (ot_u16(t, st) != 1 || ext <= 0)
                return -1;
            st += (size_t)ext;
        }
        if (kind == (gsub ? 6 : 8)) {
            if (chain_subtable(t, st, 0, n) < 0)
                return -1;
        } else if (gsub && kind == 8) {
            if (chain_subtable(t, st, 1, n) < 0)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/*
 * The glyphs that a GSUB or GPOS lookup of the plan HarfBuzz makes for
 * left-to-right text of unknown script (what TTF_Size_Internal asks for,
 * kerning on) may start at (f->shaped), and those it may look at as input
 * or as context before or after (f->touched); each NULL when it cannot tell.
 *
 * Lookups of one input glyph whose every rule asks for a glyph beside it
 * (f->ctx: a space between hangul syllables in Noto Sans CJK) are kept
 * apart, with their sets: a run in which no input glyph of such a lookup
 * has a glyph of its context beside it, nor anything a substitution may
 * change, is a run in which it does nothing (pieces_width). f->fixed and
 * f->fixed_starts are the other lookups' glyphs, f->substs the glyphs a
 * substitution may start at.
 */
static void plan_glyphs(memo_face *f)
{
    static const hb_tag_t tables[2] = { HB_OT_TAG_GSUB, HB_OT_TAG_GPOS };
    hb_feature_t kern = { HB_TAG('k', 'e', 'r', 'n'), 1, HB_FEATURE_GLOBAL_START, HB_FEATURE_GLOBAL_END };
    hb_segment_properties_t props = HB_SEGMENT_PROPERTIES_DEFAULT;
    hb_face_t *face = hb_font_get_face(f->hb);
    hb_set_t *glyphs = hb_set_create(), *touched = hb_set_create(), *lookups = hb_set_create();
    hb_set_t *fixed = hb_set_create(), *fixed_starts = hb_set_create(), *substs = hb_set_create();
    hb_set_t *made = hb_set_create();
    hb_shape_plan_t *plan;
    int ok = 1;
    /* tables HarfBuzz shapes or kerns with outside GSUB and GPOS: no shortcut on such a face */
    static const hb_tag_t others[] = { HB_TAG('m', 'o', 'r', 'x'), HB_TAG('m', 'o', 'r', 't'),
                                       HB_TAG('k', 'e', 'r', 'x'), HB_TAG('k', 'e', 'r', 'n'),
                                       HB_TAG('t', 'r', 'a', 'k') };

    for (size_t k = 0; k < sizeof others / sizeof others[0] && ok; k++) {
        hb_blob_t *blob = hb_face_reference_table(face, others[k]);
        ok = hb_blob_get_length(blob) == 0;
        hb_blob_destroy(blob);
    }
    props.direction = HB_DIRECTION_LTR;
    props.script = (hb_script_t)HB_TAG('Z', 'z', 'z', 'z');
    props.language = hb_language_get_default();
    plan = ok ? hb_shape_plan_create_cached(face, &props, &kern, 1, NULL) : NULL;
    for (int t = 0; t < 2 && plan; t++) {
        hb_codepoint_t lookup = HB_SET_VALUE_INVALID;
        hb_blob_t *blob = hb_face_reference_table(face, tables[t]);
        hb_set_clear(lookups);
        hb_ot_shape_plan_collect_lookups(plan, tables[t], lookups);
        while (hb_set_next(lookups, &lookup)) {
            hb_set_t *in = hb_set_create(), *before = hb_set_create(), *after = hb_set_create();
            ctx_need need;
            hb_ot_layout_lookup_collect_glyphs(face, tables[t], lookup, before, in, after, t ? NULL : made);
            hb_set_union(glyphs, in);
            hb_set_union(touched, in);
            hb_set_union(touched, before);
            hb_set_union(touched, after);
            if (!t)
                hb_set_union(substs, in);
            if (f->nctx < MAX_CONTEXTUAL && lookup_need(blob, !t, lookup, &need) == 0 &&
                (need.before > 0 || need.after > 0)) {
                ctx_lookup *c = &f->ctx[f->nctx++];
                c->input = in;
                c->before = before;
                c->after = after;
                c->gsub = !t;
                c->need_before = need.before > 0;
                c->need_after = need.after > 0;
                c->most_before = (int)need.most_before;
                c->most_after = (int)need.most_after;
                continue;
            }
            hb_set_union(fixed, in);
            hb_set_union(fixed, before);
            hb_set_union(fixed, after);
            hb_set_union(fixed_starts, in);
            hb_set_destroy(in);
            hb_set_destroy(before);
            hb_set_destroy(after);
        }
        hb_blob_destroy(blob);
    }
    for (int k = 0; k < f->nctx; k++) {
        ctx_lookup *c = &f->ctx[k];
        c->made_before = sets_meet(made, c->before);
        c->made_after = sets_meet(made, c->after);
        c->made_input = sets_meet(made, c->input);
        f->ctx_gsub |= (uint64_t)c->gsub << k;
        f->ctx_made_input |= (uint64_t)c->made_input << k;
        ok = ok && hb_set_allocation_successful(c->input) && hb_set_allocation_successful(c->before) &&
             hb_set_allocation_successful(c->after);
    }
    if (plan)
        hb_shape_plan_destroy(plan);
    hb_set_destroy(lookups);
    hb_set_destroy(made);
    ok = ok && plan && hb_set_allocation_successful(glyphs) && hb_set_allocation_successful(touched) &&
         hb_set_allocation_successful(fixed) && hb_set_allocation_successful(fixed_starts) &&
         hb_set_allocation_successful(substs);
    if (!ok) {   /* nothing known: every glyph may be looked at */
        hb_set_destroy(glyphs);
        hb_set_destroy(touched);
        hb_set_destroy(fixed);
        hb_set_destroy(fixed_starts);
        hb_set_destroy(substs);
        ctx_free(f);
        return;
    }
    f->shaped = glyphs;
    f->touched = touched;
    f->fixed = fixed;
    f->fixed_starts = fixed_starts;
    f->substs = substs;
}

/* The face `key`, opened on first use as SDL_ttf opens its own; NULL when it cannot be measured here. */
static memo_face *face_get(dm_run_widths *rw, int key, const void *data, size_t len, int index, int pt)
{
    memo_face *f = key >= 0 && key < MAX_FACES ? &rw->faces[key] : NULL;

    if (!f)
        return NULL;
    if (!f->open) {
        f->open = 1;
        if (FT_New_Memory_Face(rw->lib, data, (FT_Long)len, index, &f->ft) || !FT_IS_SCALABLE(f->ft) ||
            FT_Set_Char_Size(f->ft, 0, pt * 64, 0, 0)) {
            f->failed = 1;
            return NULL;
        }
        f->hb = hb_ft_font_create_referenced(f->ft);
        hb_ft_font_set_load_flags(f->hb, FT_LOAD_DEFAULT | FT_LOAD_TARGET_NORMAL);
        plan_glyphs(f);
    }
    return f->failed ? NULL : f;
}

/*
 * The face at pt, as SDL_ttf opens its own (72 dpi, default load flags):
 * a size of the face, active while it is measured, and a HarfBuzz font on
 * it; shaping is on a sub-font of the face's, for the face's tables (and
 * what HarfBuzz has made of them), at this font's scale, answering from
 * the memos or from this font.
 */
static memo_font *font_get(dm_run_widths *rw, int key, const void *data, size_t len, int index, int pt)
{
    memo_face *face;
    memo_font *f;
    int x, y;
    unsigned xp, yp;

    for (int i = 0; i < rw->nfonts; i++) {
        f = &rw->fonts[i];
        if (f->key == key && f->pt == pt) {
            if (f->failed || (f->face->ft->size != f->size && FT_Activate_Size(f->size)))
                return NULL;
            return f;
        }
    }
    if (!(face = face_get(rw, key, data, len, index, pt)))
        return NULL;
    if (rw->nfonts < MAX_FONTS) {
        f = &rw->fonts[rw->nfonts++];
    } else {
        f = &rw->fonts[rw->next];
        rw->next = (rw->next + 1) % MAX_FONTS;
        font_close(f);
    }
    f->face = face;
    f->key = key;
    f->pt = pt;
    if (FT_New_Size(face->ft, &f->size) || FT_Activate_Size(f->size) || FT_Set_Char_Size(face->ft, 0, pt * 64, 0, 0)) {
        f->failed = 1;
        return NULL;
    }
    f->hb = hb_ft_font_create_referenced(face->ft);
    hb_ft_font_set_load_flags(f->hb, FT_LOAD_DEFAULT | FT_LOAD_TARGET_NORMAL);
    f->memo = hb_font_create_sub_font(face->hb);
    hb_font_get_scale(f->hb, &x, &y);
    hb_font_set_scale(f->memo, x, y);
    hb_font_get_ppem(f->hb, &xp, &yp);
    hb_font_set_ppem(f->memo, xp, yp);
    hb_font_set_ptem(f->memo, hb_font_get_ptem(f->hb));
    hb_font_set_funcs(f->memo, rw->funcs, f, NULL);   /* the font takes its own reference */
    return f;
}

/* The code point at *s (UTF-8, checked by the caller's decoder), *s moved past it; -1 when malformed. */
static int next_cp(const unsigned char **ps, uint32_t *cp)
{
    const unsigned char *s = *ps;

    if (s[0] < 0x80) {
        *cp = *s++;
    } else if ((s[0] & 0xE0) == 0xC0 && s[1]) {
        *cp = (s[0] & 0x1Fu) << 6 | (s[1] & 0x3Fu);
        s += 2;
    } else if ((s[0] & 0xF0) == 0xE0 && s[1] && s[2]) {
        *cp = (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
        s += 3;
    } else if ((s[0] & 0xF8) == 0xF0 && s[1] && s[2] && s[3]) {
        *cp = (s[0] & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
        s += 4;
    } else {
        return -1;
    }
    *ps = s;
    return 0;
}

/* One glyph at pen *x (26.6), as TTF_Size_Internal places it: the box's span, and the pen moved on. */
/* A glyph's box at the pen (plus x_offset), and the pen moved on by x_advance (26.6). */
static void place(const glyph_memo *gm, int x_offset, int x_advance, int *x, int *minx, int *maxx)
{
    int px = FT_FLOOR(*x + x_offset) + gm->left;

    *minx = px < *minx ? px : *minx;
    *maxx = px + gm->width > *maxx ? px + gm->width : *maxx;
    *x += x_advance;
}

static int put_glyph(memo_font *f, uint32_t glyph, int x_offset, int x_advance, int *x, int *minx, int *maxx)
{
    const glyph_memo *gm = glyph_of(f, glyph);

    if (!gm || f->failed)
        return -1;
    place(gm, x_offset, x_advance, x, minx, maxx);
    return 0;
}

/* A glyph no lookup touches: HarfBuzz's position for it is its advance. */
static int put_plain(memo_font *f, uint32_t glyph, int *x, int *minx, int *maxx)
{
    glyph_memo *gm = glyph_of(f, glyph);

    if (!gm || f->failed) {
        f->failed = 1;
        return -1;
    }
    if (gm->advance == INT32_MIN)   /* as memo_h_advance answers HarfBuzz */
        gm->advance = hb_font_get_glyph_h_advance(f->hb, glyph);
    place(gm, 0, gm->advance, x, minx, maxx);
    return 0;
}

/* The run's width once every glyph is placed: the boxes' span and the pen's final position. */
static int run_box_width(const memo_font *f, int x, int minx, int maxx, int *w)
{
    maxx = FT_FLOOR(x) > maxx ? FT_FLOOR(x) : maxx;
    *w = maxx - minx;
    return f->failed ? -1 : 0;
}

/*
 * A run no lookup can touch: its glyphs from the cmap, their advances, and
 * TTF_Size_Internal's arithmetic. -1 when a glyph is missing or shaped.
 */
static int unshaped_width(memo_font *f, const char *utf8, int *w)
{
    const unsigned char *s = (const unsigned char *)utf8;
    int x = 0, minx = 0, maxx = 0;

    while (*s) {
        uint32_t cp;
        const cmap_memo *m;
        if (next_cp(&s, &cp) < 0 || !(m = cp_memo(f->face, cp)) || !m->glyph || m->starts || m->rewrite ||
            put_plain(f, m->glyph, &x, &minx, &maxx) < 0)
            return -1;
    }
    return run_box_width(f, x, minx, maxx, w);
}

static piece_memo *piece_slot(dm_run_widths *rw, int key, int pt, const char *s, size_t len, uint64_t *hash)
{
    uint64_t h = 1469598103934665603ull ^ ((uint64_t)(unsigned)key << 33) ^ ((uint64_t)(unsigned)pt << 45);
    size_t i;

    for (size_t k = 0; k < len; k++)
        h = (h ^ (unsigned char)s[k]) * 1099511628211ull;
    *hash = h;
    if (!rw->pieces && !(rw->pieces = calloc(2 * MAX_PIECES, sizeof *rw->pieces)))
        return NULL;
    if (!rw->piece_used && !(rw->piece_used = malloc(MAX_PIECES * sizeof *rw->piece_used)))
        return NULL;
    for (i = (size_t)h & (2 * MAX_PIECES - 1); rw->pieces[i].text; i = (i + 1) & (2 * MAX_PIECES - 1)) {
        const piece_memo *m = &rw->pieces[i];
        if (m->hash == h && m->key == key && m->pt == pt && !strncmp(m->text, s, len) && !m->text[len])
            break;
    }
    return &rw->pieces[i];
}

/* The piece s[0..len) shaped on its own, as dm_run_width shapes a run, remembered; NULL on failure. */
static const piece_memo *shaped_piece(dm_run_widths *rw, memo_font *f, int key, int pt, const char *s, size_t len)
{
    hb_feature_t kern = { HB_TAG('k', 'e', 'r', 'n'), 1, HB_FEATURE_GLOBAL_START, HB_FEATURE_GLOBAL_END };
    const hb_glyph_info_t *info;
    const hb_glyph_position_t *pos;
    uint64_t hash;
    piece_memo *m = piece_slot(rw, key, pt, s, len, &hash);
    piece_glyph *g;
    unsigned n;
    char *block;

    if (!m || m->text)
        return m;
    hb_buffer_clear_contents(rw->buf);
    hb_buffer_set_direction(rw->buf, HB_DIRECTION_LTR);
    hb_buffer_set_script(rw->buf, (hb_script_t)script_tag(NULL));
    hb_buffer_guess_segment_properties(rw->buf);
    hb_buffer_add_utf8(rw->buf, s, (int)len, 0, (int)len);
    /* what hb_shape does (hb_shape_full: the face's cached plan for the buffer's properties and
     * the features, then its execution), with the plan, the same for every piece, found once */
    if (!f->face->piece_plan) {
        hb_segment_properties_t props;
        hb_buffer_get_segment_properties(rw->buf, &props);
        f->face->piece_plan = hb_shape_plan_create_cached(hb_font_get_face(f->memo), &props, &kern, 1, NULL);
    }
    if (!hb_shape_plan_execute(f->face->piece_plan, f->memo, rw->buf, &kern, 1) || f->failed)
        return NULL;
    info = hb_buffer_get_glyph_infos(rw->buf, &n);
    pos = hb_buffer_get_glyph_positions(rw->buf, &n);
    if (rw->npieces >= MAX_PIECES) {
        pieces_clear(rw);
        m = piece_slot(rw, key, pt, s, len, &hash);   /* the table is empty now */
    }
    /* the glyphs first, for their alignment, then the text */
    block = malloc(n * sizeof *g + len + 1);
    if (!block)
        return NULL;
    g = (piece_glyph *)block;
    for (unsigned k = 0; k < n; k++) {
        g[k].glyph = info[k].codepoint;
        g[k].x_advance = pos[k].x_advance;
        g[k].x_offset = pos[k].x_offset;
    }
    m->text = block + n * sizeof *g;
    memcpy(m->text, s, len);
    m->text[len] = 0;
    m->glyphs = g;
    m->n = n;
    m->hash = hash;
    m->key = key;
    m->pt = pt;
    rw->piece_used[rw->npieces++] = (uint32_t)(m - rw->pieces);
    return m;
}

/* Whether the glyph at i (a neighbour of an input glyph of ctx lookup k) cannot be of its context on that side. */
static int not_context(const memo_face *f, const run_cp *cps, size_t n, size_t i, int k, int after)
{
    const run_cp *c;

    if (i >= n)
        return 1;                            /* the run's end (or its start): nothing there */
    c = &cps[i];
    if (c->m.rewrite)
        return 0;                            /* a mark the lookup may skip, or what HarfBuzz may rewrite */
    if ((after ? c->m.ctx_after : c->m.ctx_before) >> k & 1)
        return 0;
    return !(c->m.subst && (after ? f->ctx[k].made_after : f->ctx[k].made_before));
}

#define MAX_REACH 8   /* context this long at most is followed glyph by glyph; longer, the whole run */

/*
 * Which ctx lookups may apply with each glyph of the run in their reach
 * (cps[].near). Each is one input glyph with context on one side at least,
 * in every rule; at an input glyph that no other substitution changes, with
 * a glyph beside it that is not of that context and that no substitution
 * may make into one, it cannot apply. Where it may, it looks as far as its
 * longest context, and at the whole run when the run has a mark (which it
 * may skip) or the context is long.
 */
static void ctx_reach(const memo_face *f, run_cp *cps, size_t n)
{
    uint64_t whole = 0;
    int marks = 0;

    for (size_t i = 0; i < n; i++) {
        cps[i].near = 0;
        marks |= cps[i].m.rewrite;
    }
    for (size_t i = 0; i < n; i++) {
        const run_cp *c = &cps[i];
        uint64_t at = c->m.ctx_input;
        if (c->m.subst)
            whole |= f->ctx_made_input;      /* a substitute of it may be such an input */
        for (int k = 0; at; k++, at >>= 1) {
            const ctx_lookup *l = &f->ctx[k];
            uint64_t bit = (uint64_t)1 << k;
            size_t from, to;
            if (!(at & 1) || (whole & bit))
                continue;
            if (!c->m.fixed_start && !(c->m.subst && (c->m.ctx_input & f->ctx_gsub & ~bit)) &&
                ((l->need_before && not_context(f, cps, n, i - 1, k, 0)) ||
                 (l->need_after && not_context(f, cps, n, i + 1, k, 1))))
                continue;                    /* it cannot apply here */
            if (marks || l->most_before > MAX_REACH || l->most_after > MAX_REACH) {
                whole |= bit;
                continue;
            }
            from = i > (size_t)l->most_before ? i - (size_t)l->most_before : 0;
            to = i + (size_t)l->most_after < n ? i + (size_t)l->most_after : n - 1;
            for (size_t j = from; j <= to; j++)
                cps[j].near |= bit;
        }
    }
    for (size_t i = 0; whole && i < n; i++)
        cps[i].near |= whole;
}

/*
 * A left-to-right run of unknown script in pieces: the glyphs no lookup
 * looks at placed with their advances, the pieces between them shaped on
 * their own (or, when no lookup can start in them and they hold nothing
 * HarfBuzz rewrites, placed as they are). The same positions as shaping the
 * whole run: a lookup matches only glyphs it looks at, and such a glyph,
 * a base with no mark after it, is a cluster HarfBuzz's normaliser leaves
 * alone. -1 when the run has no such glyph (shape it whole) or on failure.
 */
static int pieces_width(dm_run_widths *rw, memo_font *f, int key, int pt, const char *utf8, int *w)
{
    const unsigned char *s = (const unsigned char *)utf8;
    size_t n = 0, inert = 0;
    int x = 0, minx = 0, maxx = 0;

    while (*s) {
        run_cp *c;
        const cmap_memo *m;
        uint32_t cp;
        if (n == rw->cps_cap) {
            size_t cap = rw->cps_cap ? rw->cps_cap * 2 : 256;
            run_cp *v = realloc(rw->cps, cap * sizeof *v);
            if (!v)
                return -1;
            rw->cps = v;
            rw->cps_cap = cap;
        }
        c = &rw->cps[n++];
        c->off = (uint32_t)(s - (const unsigned char *)utf8);
        if (next_cp(&s, &cp) < 0 || !(m = cp_memo(f->face, cp)))
            return -1;
        c->m = *m;
    }
    ctx_reach(f->face, rw->cps, n);
    for (size_t i = 0; i < n; i++) {
        run_cp *c = &rw->cps[i];
        c->starts = c->m.rewrite || c->m.fixed_start || (c->m.ctx_input & c->near);
        c->inert = !c->m.rewrite && !c->m.fixed && !((c->m.ctx_input | c->m.ctx_before | c->m.ctx_after) & c->near);
    }
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && rw->cps[i + 1].m.rewrite)
            rw->cps[i].inert = 0;            /* a mark after it: its cluster may be composed */
        inert += rw->cps[i].inert;
    }
    if (!inert)
        return -1;                           /* none: shape it whole */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int shape = 0;
        if (rw->cps[i].inert) {
            if (put_plain(f, rw->cps[i].m.glyph, &x, &minx, &maxx) < 0)
                return -1;
            i++;
            continue;
        }
        while (j < n && !rw->cps[j].inert) {
            shape |= rw->cps[j].starts;
            j++;
        }
        if (!shape) {
            for (; i < j; i++)
                if (put_plain(f, rw->cps[i].m.glyph, &x, &minx, &maxx) < 0)
                    return -1;
            continue;
        }
        {
            size_t end = j < n ? rw->cps[j].off : strlen(utf8);
            const piece_memo *p = shaped_piece(rw, f, key, pt, utf8 + rw->cps[i].off, end - rw->cps[i].off);
            if (!p)
                return -1;
            for (uint32_t k = 0; k < p->n; k++)
                if (put_glyph(f, p->glyphs[k].glyph, p->glyphs[k].x_offset, p->glyphs[k].x_advance, &x, &minx,
                              &maxx) < 0)
                    return -1;
        }
        i = j;
    }
    return run_box_width(f, x, minx, maxx, w);
}

int dm_run_width(dm_run_widths *rw, int key, const void *data, size_t len, int face_index, int pt, int rtl,
                 const char *script, const char *utf8, int *w)
{
    memo_font *f = rw ? font_get(rw, key, data, len, face_index, pt) : NULL;
    hb_feature_t kern = { HB_TAG('k', 'e', 'r', 'n'), 1, HB_FEATURE_GLOBAL_START, HB_FEATURE_GLOBAL_END };
    const hb_glyph_info_t *info;
    const hb_glyph_position_t *pos;
    unsigned n;
    int x = 0, minx = 0, maxx = 0;

    if (!f)
        return -1;
    if (rtl != 1 && !script && f->face->shaped && unshaped_width(f, utf8, w) == 0)
        return 0;
    if (dm_run_width_known(rw, key, pt, rtl, script, utf8, w) == 0)
        return 0;
    /* not remembered: its pieces are, and a whole run seldom repeats when its pieces do not */
    if (rtl != 1 && !script && f->face->fixed && pieces_width(rw, f, key, pt, utf8, w) == 0)
        return 0;
    /* the buffer exactly as TTF_Size_Internal sets it up */
    hb_buffer_clear_contents(rw->buf);
    hb_buffer_set_direction(rw->buf, rtl == 1 ? HB_DIRECTION_RTL : HB_DIRECTION_LTR);
    hb_buffer_set_script(rw->buf, (hb_script_t)script_tag(script));
    hb_buffer_guess_segment_properties(rw->buf);
    hb_buffer_add_utf8(rw->buf, utf8, -1, 0, -1);
    hb_shape(f->memo, rw->buf, &kern, 1);
    info = hb_buffer_get_glyph_infos(rw->buf, &n);
    pos = hb_buffer_get_glyph_positions(rw->buf, &n);
    for (unsigned g = 0; g < n; g++)
        if (put_glyph(f, info[g].codepoint, pos[g].x_offset, pos[g].x_advance, &x, &minx, &maxx) < 0)
            return -1;
    if (run_box_width(f, x, minx, maxx, w) < 0)
        return -1;
    dm_run_width_remember(rw, key, pt, rtl, script, utf8, *w);
    return 0;
}
