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
 */
#include "text_width.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include <hb.h>
#include <hb-ft.h>
#include <hb-ot.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FONTS 64           /* faces x sizes kept open */
#define MAX_RUNS 32768         /* runs remembered (cleared when full) */

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

typedef struct memo_font {
    int key, pt;               /* the caller's face, and the point size */
    FT_Face ft;                /* our own face on the caller's bytes */
    hb_font_t *hb;             /* HarfBuzz on it, as SDL_ttf makes its own */
    hb_font_t *memo;           /* a sub-font answering advances from `glyphs` */
    glyph_memo *glyphs;        /* open addressing, cap a power of two */
    size_t nglyphs, cap;
    cmap_memo *cmap;           /* open addressing, cmap_cap a power of two */
    size_t ncmap, cmap_cap;
    hb_set_t *shaped;          /* glyphs a lookup may start at (left to right, script unknown); NULL: not known */
    int failed;                /* a glyph could not be loaded: use SDL_ttf for this font */
} memo_font;

struct dm_run_widths {
    FT_Library lib;
    hb_font_funcs_t *funcs;    /* the memoised advance */
    hb_buffer_t *buf;
    memo_font fonts[MAX_FONTS];
    int nfonts, next;          /* used; the next to replace when full */
    run_memo *runs;            /* remembered runs, open addressing, MAX_RUNS * 2 slots once used */
    size_t nruns;
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
    if (FT_Load_Glyph(f->ft, idx, FT_LOAD_DEFAULT | FT_LOAD_TARGET_NORMAL))
        return NULL;
    {
        FT_GlyphSlot s = f->ft->glyph;
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

static cmap_memo *cmap_slot(memo_font *f, uint32_t cp)
{
    size_t i = (cp * 2654435761u) & (f->cmap_cap - 1);

    while (f->cmap[i].cp_plus1 && f->cmap[i].cp_plus1 != cp + 1)
        i = (i + 1) & (f->cmap_cap - 1);
    return &f->cmap[i];
}

static hb_bool_t memo_nominal_glyph(hb_font_t *font, void *font_data, hb_codepoint_t cp, hb_codepoint_t *glyph,
                                    void *user_data)
{
    memo_font *f = font_data;
    cmap_memo *m;

    (void)font;
    (void)user_data;
    if ((f->ncmap + 1) * 2 > f->cmap_cap) {
        size_t cap = f->cmap_cap ? f->cmap_cap * 2 : 1024, oldcap = f->cmap_cap;
        cmap_memo *old = f->cmap, *v = calloc(cap, sizeof *v);
        if (!v)
            return hb_font_get_nominal_glyph(f->hb, cp, glyph);
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
        m->glyph = hb_font_get_nominal_glyph(f->hb, cp, &g) ? g : 0;
        m->cp_plus1 = cp + 1;
        f->ncmap++;
    }
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

dm_run_widths *dm_run_widths_new(void)
{
    dm_run_widths *rw = calloc(1, sizeof *rw);

    if (!rw)
        return NULL;
    if (FT_Init_FreeType(&rw->lib)) {
        free(rw);
        return NULL;
    }
    rw->funcs = hb_font_funcs_create();
    hb_font_funcs_set_glyph_h_advance_func(rw->funcs, memo_h_advance, NULL, NULL);
    hb_font_funcs_set_nominal_glyph_func(rw->funcs, memo_nominal_glyph, NULL, NULL);
    hb_font_funcs_make_immutable(rw->funcs);
    rw->buf = hb_buffer_create();
    if (!hb_buffer_allocation_successful(rw->buf)) {
        dm_run_widths_free(&rw);
        return NULL;
    }
    return rw;
}

static void runs_clear(dm_run_widths *rw)
{
    for (size_t i = 0; rw->runs && i < 2 * MAX_RUNS; i++) {
        free(rw->runs[i].text);
        rw->runs[i].text = NULL;
    }
    rw->nruns = 0;
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
    rw->nruns++;
}

static void font_close(memo_font *f)
{
    if (f->memo)
        hb_font_destroy(f->memo);
    if (f->hb)
        hb_font_destroy(f->hb);
    if (f->ft)
        FT_Done_Face(f->ft);
    free(f->glyphs);
    free(f->cmap);
    if (f->shaped)
        hb_set_destroy(f->shaped);
    memset(f, 0, sizeof *f);
}

void dm_run_widths_free(dm_run_widths **prw)
{
    dm_run_widths *rw = prw ? *prw : NULL;

    if (!rw)
        return;
    for (int i = 0; i < rw->nfonts; i++)
        font_close(&rw->fonts[i]);
    runs_clear(rw);
    free(rw->runs);
    if (rw->buf)
        hb_buffer_destroy(rw->buf);
    if (rw->funcs)
        hb_font_funcs_destroy(rw->funcs);
    FT_Done_FreeType(rw->lib);
    free(rw);
    *prw = NULL;
}

/*
 * The glyphs that a GSUB or GPOS lookup of the plan HarfBuzz makes for
 * left-to-right text of unknown script (what TTF_Size_Internal asks for,
 * kerning on) may start at; NULL when it cannot tell.
 */
static hb_set_t *shaped_glyphs(memo_font *f)
{
    static const hb_tag_t tables[2] = { HB_OT_TAG_GSUB, HB_OT_TAG_GPOS };
    hb_feature_t kern = { HB_TAG('k', 'e', 'r', 'n'), 1, HB_FEATURE_GLOBAL_START, HB_FEATURE_GLOBAL_END };
    hb_segment_properties_t props = HB_SEGMENT_PROPERTIES_DEFAULT;
    hb_face_t *face = hb_font_get_face(f->hb);
    hb_set_t *glyphs = hb_set_create(), *lookups = hb_set_create();
    hb_shape_plan_t *plan;

    props.direction = HB_DIRECTION_LTR;
    props.script = (hb_script_t)HB_TAG('Z', 'z', 'z', 'z');
    props.language = hb_language_get_default();
    plan = hb_shape_plan_create_cached(face, &props, &kern, 1, NULL);
    for (int t = 0; t < 2; t++) {
        hb_codepoint_t lookup = HB_SET_VALUE_INVALID;
        hb_set_clear(lookups);
        hb_ot_shape_plan_collect_lookups(plan, tables[t], lookups);
        while (hb_set_next(lookups, &lookup))
            hb_ot_layout_lookup_collect_glyphs(face, tables[t], lookup, NULL, glyphs, NULL, NULL);
    }
    hb_shape_plan_destroy(plan);
    hb_set_destroy(lookups);
    if (!hb_set_allocation_successful(glyphs)) {
        hb_set_destroy(glyphs);
        return NULL;
    }
    return glyphs;
}

/* The face at pt, opened as SDL_ttf opens its own (72 dpi, default load flags). */
static memo_font *font_get(dm_run_widths *rw, int key, const void *data, size_t len, int index, int pt)
{
    memo_font *f;

    for (int i = 0; i < rw->nfonts; i++)
        if (rw->fonts[i].key == key && rw->fonts[i].pt == pt)
            return rw->fonts[i].failed ? NULL : &rw->fonts[i];
    if (rw->nfonts < MAX_FONTS) {
        f = &rw->fonts[rw->nfonts++];
    } else {
        f = &rw->fonts[rw->next];
        rw->next = (rw->next + 1) % MAX_FONTS;
        font_close(f);
    }
    f->key = key;
    f->pt = pt;
    if (FT_New_Memory_Face(rw->lib, data, (FT_Long)len, index, &f->ft) || !FT_IS_SCALABLE(f->ft) ||
        FT_Set_Char_Size(f->ft, 0, pt * 64, 0, 0)) {
        f->failed = 1;
        return NULL;
    }
    f->hb = hb_ft_font_create_referenced(f->ft);
    hb_ft_font_set_load_flags(f->hb, FT_LOAD_DEFAULT | FT_LOAD_TARGET_NORMAL);
    f->memo = hb_font_create_sub_font(f->hb);
    hb_font_set_funcs(f->memo, rw->funcs, f, NULL);   /* the font takes its own reference */
    f->shaped = shaped_glyphs(f);
    return f;
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
        hb_codepoint_t g;
        const glyph_memo *gm;
        int px;
        if (s[0] < 0x80) {
            cp = *s++;
        } else if ((s[0] & 0xE0) == 0xC0 && s[1]) {
            cp = (s[0] & 0x1Fu) << 6 | (s[1] & 0x3Fu);
            s += 2;
        } else if ((s[0] & 0xF0) == 0xE0 && s[1] && s[2]) {
            cp = (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
            s += 3;
        } else if ((s[0] & 0xF8) == 0xF0 && s[1] && s[2] && s[3]) {
            cp = (s[0] & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
            s += 4;
        } else {
            return -1;
        }
        if (!memo_nominal_glyph(f->memo, f, cp, &g, NULL) || hb_set_has(f->shaped, g))
            return -1;
        gm = glyph_of(f, g);
        if (!gm || f->failed)
            return -1;
        px = FT_FLOOR(x) + gm->left;
        minx = px < minx ? px : minx;
        maxx = px + gm->width > maxx ? px + gm->width : maxx;
        x += memo_h_advance(f->memo, f, g, NULL);   /* last: it may grow the memo under gm */
    }
    maxx = FT_FLOOR(x) > maxx ? FT_FLOOR(x) : maxx;
    *w = maxx - minx;
    return f->failed ? -1 : 0;
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
    if (rtl != 1 && !script && f->shaped && unshaped_width(f, utf8, w) == 0)
        return 0;
    if (dm_run_width_known(rw, key, pt, rtl, script, utf8, w) == 0)
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
    for (unsigned g = 0; g < n; g++) {
        const glyph_memo *gm = glyph_of(f, info[g].codepoint);
        int pos_x = x + pos[g].x_offset, px;
        if (!gm || f->failed)
            return -1;
        x += pos[g].x_advance;
        px = FT_FLOOR(pos_x) + gm->left;
        minx = px < minx ? px : minx;
        maxx = px + gm->width > maxx ? px + gm->width : maxx;
    }
    maxx = FT_FLOOR(x) > maxx ? FT_FLOOR(x) : maxx;
    *w = maxx - minx;
    if (!f->failed)
        dm_run_width_remember(rw, key, pt, rtl, script, utf8, *w);
    return 0;
}
