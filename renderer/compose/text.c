/*
 * text.c - dm_text: comment text measuring and rasterising with SDL_ttf
 * (HarfBuzz shaping) and fontconfig fallback. See text.h for the box model.
 *
 * Pipeline, shared by measure and render so the two can never disagree:
 * decode UTF-8 -> split lines on '\n' -> grapheme clusters (utf8proc) ->
 * one font per cluster (primary, fontconfig fallback, colour emoji) -> runs of
 * consecutive clusters with the same font and direction -> each run shaped and
 * sized by SDL_ttf. The canvas size comes from that layout alone; rendering
 * only paints into it.
 */
#include "text.h"

#include <fontconfig/fontconfig.h>
#include <SDL_ttf.h>
#include <utf8proc.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "danmaku.h"
#include "text_width.h"

#define MAX_FACES 32          /* distinct font files one dm_text may use */
#define MAX_HANDLES 48        /* open TTF_Font handles kept (face x size x outline) */
#define MAX_SIZES 16          /* remembered height_px -> point size choices */
#define MAX_TEXT_BYTES 65536  /* longer comments are refused rather than shaped */

/* One font face we may draw with. */
typedef struct text_face {
    char *path;           /* font file */
    int index;            /* face index inside a collection (.ttc) */
    char *family;         /* first family name */
    FcCharSet *charset;   /* code points the face provides (a reference we own) */
    int bitmap;           /* 1: fixed-size strike (CBDT colour emoji), scaled to the line */
    int strike_px;        /* pixels per em of that strike */
    void *map;            /* the file mapped read-only, NULL until first opened */
    size_t map_len;       /* bytes mapped */
} text_face;

/* One open SDL_ttf handle. */
typedef struct text_handle {
    int face;             /* index into faces */
    int pt;               /* point size (ignored for bitmap faces) */
    int outline;          /* TTF_SetFontOutline value */
    TTF_Font *font;       /* the handle */
    uint64_t used;        /* tick of last use, for LRU replacement */
} text_handle;

/* A point size decision for one box height. */
typedef struct text_size {
    int height_px;        /* box height asked for */
    int pt;               /* largest point size whose line height + 2 * outline fits */
    int ascent;           /* primary font ascent at pt */
    int line_h;           /* primary font line height (ascent - descent) at pt */
} text_size;

/* A measured comment: (text, height) -> box, an open-addressing hash slot. */
typedef struct text_memo {
    char *text;           /* NULL: empty slot */
    uint64_t hash;
    int height, w, h;
    int rc;               /* dm_text_measure's result */
} text_memo;

#define MEMO_CAP 65536    /* comments remembered (cleared when full): repeats and resizes back */

/* Code point -> fallback face, an open-addressing hash slot. */
typedef struct text_cp_slot {
    uint32_t cp;          /* code point + 1 (0 marks an empty slot) */
    int16_t face;         /* fallback face index, or -1 when no installed font has it */
    uint8_t fallback;     /* `face` is known */
    uint8_t single;       /* what follows is known: the code point as a cluster of its own */
    int16_t single_face;  /* ...its face (-1: skipped) */
    int8_t dir;           /* ...its strong direction (strong_direction) */
    uint8_t missing;      /* ...it counts as a code point without a glyph */
    const char *script;   /* ...complex_script */
} text_cp_slot;

/* A run: consecutive clusters drawn with one font in one direction. */
typedef struct text_run {
    size_t off;           /* NUL-terminated UTF-8 at t->buf + off */
    int face;             /* face index */
    int rtl;              /* -1 unknown, 0 left-to-right, 1 right-to-left */
    const char *script;   /* complex script tag, NULL: let SDL_ttf's default stand */
    int x;                /* left edge inside the line's content */
    int w;                /* advance box width (scaled for bitmap faces) */
    int ystart;           /* rows SDL_ttf adds above the ascent for tall glyphs */
} text_run;

/* A line: runs [first, first + count). */
typedef struct text_line {
    size_t first;         /* first run */
    size_t count;         /* number of runs */
    int w;                /* content width, outline excluded */
} text_line;

struct dm_text {
    text_face faces[MAX_FACES];     /* faces[0] is the primary font */
    int nfaces;                     /* faces in use */
    int emoji;                      /* colour emoji face, -1 if none installed */
    int outline;                    /* outline thickness in pixels */
    text_handle handles[MAX_HANDLES]; /* open handles, LRU-replaced */
    int nhandles;                   /* handles in use */
    uint64_t tick;                  /* use counter for the LRU */
    TTF_Font *probe;                /* primary font handle used to search point sizes */
    text_size sizes[MAX_SIZES];     /* remembered size decisions, round-robin */
    int nsizes;                     /* entries filled */
    int next_size;                  /* next entry to overwrite when full */
    text_cp_slot *cpmap;            /* fallback choices and clusters of one code point, per code point */
    size_t cpcap;                   /* slots (power of two) */
    size_t cpcount;                 /* slots used */
    uint32_t *cps;                  /* scratch: decoded text */
    size_t cpscap;                  /* capacity of cps */
    char *buf;                      /* scratch: run texts, each NUL-terminated */
    size_t buflen, bufcap;          /* bytes used / allocated */
    text_run *runs;                 /* scratch: runs of all lines */
    size_t nruns, runcap;           /* used / allocated */
    text_line *lines;               /* scratch: lines */
    size_t nlines, linecap;         /* used / allocated */
    size_t missing;                 /* uncovered code points in the last itemisation */
    uint32_t warned[64];            /* code points no font has, already reported */
    int nwarned;
    void (*warn)(void *ud, const char *msg); /* where to report them (dm_text_set_warn) */
    void *warn_ud;
    uint8_t *cpinfo;                /* per BMP code point: CP_* flags, 0 until looked at */
    text_memo *memo;                /* measured comments, MEMO_CAP slots (NULL: none) */
    uint32_t *memo_used;            /* ...the slots used, in order (a clear touches only those) */
    size_t nmemo;                   /* slots used, at most MEMO_CAP / 2 */
    dm_run_widths *widths;          /* run widths as SDL_ttf measures them, memoised (text_width.h) */
    int check_widths;               /* compare each of those with TTF_SizeUTF8 (tests) */
    uint64_t width_checks, width_mismatches;
    char *font_arg;                 /* dm_text_new's `font`, for clones (NULL: the default) */
    dm_text *parent;                /* a clone's original: its warnings and width checks go there */
};

/*
 * SDL_ttf opens and closes faces on its one FT_Library, which FreeType does
 * not let two threads do at once; a face once open is its dm_text's alone.
 * The same lock keeps an original's warnings and counters, which its clones
 * on other threads add to.
 */
static pthread_mutex_t text_lock = PTHREAD_MUTEX_INITIALIZER;

static TTF_Font *font_open_rw(SDL_RWops *rw, int pt, long index)
{
    TTF_Font *font;

    pthread_mutex_lock(&text_lock);
    font = TTF_OpenFontIndexRW(rw, 1, pt, index);
    pthread_mutex_unlock(&text_lock);
    return font;
}

static void font_close(TTF_Font *font)
{
    pthread_mutex_lock(&text_lock);
    TTF_CloseFont(font);
    pthread_mutex_unlock(&text_lock);
}

/* One run width compared with TTF_SizeUTF8's (dm_text_check_widths); a clone's count in its original. */
static void count_check(dm_text *t, int mismatch)
{
    if (t->parent)
        t = t->parent;
    pthread_mutex_lock(&text_lock);
    t->width_checks++;
    t->width_mismatches += mismatch != 0;
    pthread_mutex_unlock(&text_lock);
}

/* ---------------------------------------------------------------- helpers */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 16;
    void *np;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    np = realloc(*p, ncap * elem);
    if (!np)
        return DM_ENOMEM;
    *p = np;
    *cap = ncap;
    return 0;
}

/* Format characters that shapers hide (ZWJ, variation selectors, tags...):
 * no font needs to provide them for the text to render without tofu. */
static int is_ignorable(uint32_t cp)
{
    if (cp == 0xAD || cp == 0x34F || cp == 0xFEFF)
        return 1;
    if ((cp >= 0x180B && cp <= 0x180F) || (cp >= 0x200B && cp <= 0x200F) ||
        (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) ||
        (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0000 && cp <= 0xE0FFF))
        return 1;
    return utf8proc_get_property((utf8proc_int32_t)cp)->ignorable;
}

/* Code points never drawn: controls, line/paragraph separators, unassigned,
 * surrogates. Private-use code points are drawn when a font has them. */
static int is_undrawable(uint32_t cp)
{
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);

    return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CS ||
           (cat == UTF8PROC_CATEGORY_CN && !is_ignorable(cp));
}

/*
 * Whether a cluster should come from the colour emoji font: an explicit
 * emoji presentation selector, a skin tone, a keycap, a flag, or a pictograph
 * from the planes whose pictographs default to emoji presentation. U+FE0E asks
 * for the text form, so the text fonts get the first chance.
 */
static int cluster_wants_emoji(const uint32_t *c, size_t n)
{
    const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)c[0]);
    int pictographic = p->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC;

    for (size_t i = 0; i < n; i++)
        if (c[i] == 0xFE0E)
            return 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i] == 0xFE0F || c[i] == 0x20E3 || (c[i] >= 0x1F3FB && c[i] <= 0x1F3FF))
            return 1;
        if (c[i] == 0x200D && pictographic)
            return 1;
    }
    if (c[0] >= 0x1F1E6 && c[0] <= 0x1F1FF)
        return 1;
    return pictographic && c[0] >= 0x1F000;
}

/*
 * The OpenType script tag of code points whose shaping depends on it (joining,
 * reordering, right-to-left), NULL for the rest. SDL_ttf 2.20 shapes with the
 * script "Unknown" unless a font is told otherwise, and it cannot ask HarfBuzz
 * to guess (it guesses before adding the text), so runs of these scripts set
 * it themselves. Latin, CJK, kana and hangul shape the same either way.
 */
static const char *complex_script(uint32_t cp)
{
    static const struct {
        uint32_t lo, hi;  /* code point range */
        const char *tag;  /* ISO 15924 tag as SDL_ttf takes it */
    } tab[] = {
        {0x0590, 0x05FF, "Hebr"}, {0x0600, 0x06FF, "Arab"}, {0x0700, 0x074F, "Syrc"},
        {0x0750, 0x077F, "Arab"}, {0x0780, 0x07BF, "Thaa"}, {0x08A0, 0x08FF, "Arab"},
        {0x0900, 0x097F, "Deva"}, {0x0980, 0x09FF, "Beng"}, {0x0A00, 0x0A7F, "Guru"},
        {0x0A80, 0x0AFF, "Gujr"}, {0x0B00, 0x0B7F, "Orya"}, {0x0B80, 0x0BFF, "Taml"},
        {0x0C00, 0x0C7F, "Telu"}, {0x0C80, 0x0CFF, "Knda"}, {0x0D00, 0x0D7F, "Mlym"},
        {0x0D80, 0x0DFF, "Sinh"}, {0x0E00, 0x0E7F, "Thai"}, {0x0E80, 0x0EFF, "Laoo"},
        {0x0F00, 0x0FFF, "Tibt"}, {0x1000, 0x109F, "Mymr"}, {0x1780, 0x17FF, "Khmr"},
        {0xFB1D, 0xFB4F, "Hebr"}, {0xFB50, 0xFDFF, "Arab"}, {0xFE70, 0xFEFF, "Arab"},
    };

    if (cp < 0x0590 || cp > 0xFEFF)
        return NULL;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (cp >= tab[i].lo && cp <= tab[i].hi)
            return tab[i].tag;
    return NULL;
}

/* -1 neutral, 0 strong left-to-right, 1 strong right-to-left. */
static int strong_direction(uint32_t cp)
{
    int bc = utf8proc_get_property((utf8proc_int32_t)cp)->bidi_class;

    if (bc == UTF8PROC_BIDI_CLASS_R || bc == UTF8PROC_BIDI_CLASS_AL)
        return 1;
    if (bc == UTF8PROC_BIDI_CLASS_L)
        return 0;
    return -1;
}

/* ---------------------------------------------------------------- faces */

static int face_has(const dm_text *t, int face, uint32_t cp)
{
    return face >= 0 && FcCharSetHasChar(t->faces[face].charset, cp);
}

/*
 * A fixed-size (bitmap) face ignores the point size: SDL_ttf 2.20's
 * TTF_SetFontSize takes the "size" of such a face as the index of a strike,
 * clamped to the strikes it has, so two different sizes give the same height.
 */
static int face_probe_bitmap(text_face *f, char *err, size_t errlen)
{
    SDL_RWops *rw = SDL_RWFromFile(f->path, "rb");
    TTF_Font *font = rw ? font_open_rw(rw, 12, f->index) : NULL;
    int h12, h48;

    if (!font) {
        dm_set_err(err, errlen, "cannot open font %s: %s", f->path, TTF_GetError());
        return DM_EIO;
    }
    h12 = TTF_FontHeight(font);
    if (TTF_SetFontSize(font, 48) < 0) {
        dm_set_err(err, errlen, "cannot size font %s: %s", f->path, TTF_GetError());
        font_close(font);
        return DM_EIO;
    }
    h48 = TTF_FontHeight(font);
    font_close(font);
    f->bitmap = h12 == h48;
    if (f->bitmap && f->strike_px <= 0)
        f->strike_px = h12 > 0 ? h12 : 1;
    return 0;
}

/* Register a face found by fontconfig (or given by path); returns its index
 * in *out, reusing an existing entry for the same file and face index. */
static int face_add(dm_text *t, FcPattern *pat, int *out, char *err, size_t errlen)
{
    FcChar8 *file = NULL, *family = NULL;
    FcCharSet *cs = NULL;
    int index = 0;
    double pixel = 0;
    text_face *f;
    int rc;

    if (FcPatternGetString(pat, FC_FILE, 0, &file) != FcResultMatch ||
        FcPatternGetCharSet(pat, FC_CHARSET, 0, &cs) != FcResultMatch) {
        dm_set_err(err, errlen, "fontconfig returned a font without a file or character set");
        return DM_EIO;
    }
    FcPatternGetInteger(pat, FC_INDEX, 0, &index);
    for (int i = 0; i < t->nfaces; i++) {
        if (t->faces[i].index == index && strcmp(t->faces[i].path, (const char *)file) == 0) {
            *out = i;
            return 0;
        }
    }
    if (t->nfaces == MAX_FACES) {
        dm_set_err(err, errlen, "more than %d fonts needed", MAX_FACES);
        return DM_ETOOBIG;
    }
    f = &t->faces[t->nfaces];
    memset(f, 0, sizeof *f);
    if (FcPatternGetString(pat, FC_FAMILY, 0, &family) != FcResultMatch)
        family = file;
    f->path = strdup((const char *)file);
    f->family = strdup((const char *)family);
    if (!f->path || !f->family) {
        free(f->path);
        free(f->family);
        return DM_ENOMEM;
    }
    f->index = index;
    if (FcPatternGetDouble(pat, FC_PIXEL_SIZE, 0, &pixel) == FcResultMatch && pixel >= 1)
        f->strike_px = (int)(pixel + 0.5);
    rc = face_probe_bitmap(f, err, errlen);
    if (rc < 0) {
        free(f->path);
        free(f->family);
        return rc;
    }
    f->charset = FcCharSetCopy(cs);
    *out = t->nfaces++;
    return 0;
}

/*
 * First font in fontconfig's sorted list for `pat` that provides `cp`: the
 * font with `cp` that scores best against `pat`. fontconfig scores each
 * font on its own, so that is its best match among the installed fonts
 * that have `cp` (FcFontMatch is FcFontSetMatch over all of them), which
 * costs a look at each font's character set instead of a score for each
 * font (a third of a sort). The sorted list is the way left when the file
 * of that font cannot be read.
 */
static int face_find_sorted(dm_text *t, FcPattern *pat, uint32_t cp, int *out)
{
    FcResult res;
    FcFontSet *set, *have = FcFontSetCreate();
    FcSetName names[2] = { FcSetSystem, FcSetApplication };
    FcPattern *best = NULL;
    int rc = 0;

    *out = -1;
    if (!have || !FcConfigSubstitute(NULL, pat, FcMatchPattern)) {
        if (have)
            FcFontSetDestroy(have);
        return DM_ENOMEM;
    }
    FcDefaultSubstitute(pat);
    for (int k = 0; k < 2 && rc == 0; k++) {
        FcFontSet *fonts = FcConfigGetFonts(NULL, names[k]);
        for (int i = 0; fonts && i < fonts->nfont; i++) {
            FcCharSet *cs = NULL;
            if (FcPatternGetCharSet(fonts->fonts[i], FC_CHARSET, 0, &cs) != FcResultMatch || !FcCharSetHasChar(cs, cp))
                continue;
            FcPatternReference(fonts->fonts[i]);
            if (!FcFontSetAdd(have, fonts->fonts[i])) {
                FcPatternDestroy(fonts->fonts[i]);
                rc = DM_ENOMEM;
                break;
            }
        }
    }
    if (rc == 0 && have->nfont == 0) {
        FcFontSetDestroy(have);
        return 0;            /* no installed font has it */
    }
    if (rc == 0)
        best = FcFontSetMatch(NULL, &have, 1, pat, &res);
    FcFontSetDestroy(have);
    if (best) {
        rc = face_add(t, best, out, NULL, 0);
        FcPatternDestroy(best);
        if (rc != DM_EIO)
            return rc;
        rc = 0;              /* an unreadable file: the sorted list */
        *out = -1;
    }
    if (rc < 0)
        return rc;
    set = FcFontSort(NULL, pat, FcTrue, NULL, &res);
    if (!set)
        return 0;
    for (int i = 0; i < set->nfont; i++) {
        FcCharSet *cs = NULL;
        if (FcPatternGetCharSet(set->fonts[i], FC_CHARSET, 0, &cs) != FcResultMatch ||
            !FcCharSetHasChar(cs, cp))
            continue;
        /* Sorted results lack some properties (pixel size): render the full match. */
        FcPattern *full = FcFontRenderPrepare(NULL, pat, set->fonts[i]);
        if (!full) {
            rc = DM_ENOMEM;
            break;
        }
        rc = face_add(t, full, out, NULL, 0);
        FcPatternDestroy(full);
        if (rc == DM_EIO) {
            /* An unreadable font file: keep looking. */
            rc = 0;
            *out = -1;
            continue;
        }
        break;
    }
    FcFontSetDestroy(set);
    return rc;
}

static FcPattern *pattern_for_cp(uint32_t cp)
{
    FcPattern *pat = FcPatternCreate();
    FcCharSet *cs = FcCharSetCreate();

    if (!pat || !cs || !FcCharSetAddChar(cs, cp) || !FcPatternAddCharSet(pat, FC_CHARSET, cs)) {
        if (pat)
            FcPatternDestroy(pat);
        if (cs)
            FcCharSetDestroy(cs);
        return NULL;
    }
    FcCharSetDestroy(cs);
    return pat;
}

/* The code point's slot in t->cpmap, made on first use (nothing known yet); NULL without memory. */
static text_cp_slot *cp_slot(dm_text *t, uint32_t cp)
{
    size_t mask, i;

    if (t->cpcount * 2 >= t->cpcap) {
        size_t ncap = t->cpcap ? t->cpcap * 2 : 256;
        text_cp_slot *nm = calloc(ncap, sizeof *nm);
        if (!nm)
            return NULL;
        for (size_t k = 0; k < t->cpcap; k++) {
            if (!t->cpmap[k].cp)
                continue;
            size_t j = (t->cpmap[k].cp * 2654435761u) & (ncap - 1);
            while (nm[j].cp)
                j = (j + 1) & (ncap - 1);
            nm[j] = t->cpmap[k];
        }
        free(t->cpmap);
        t->cpmap = nm;
        t->cpcap = ncap;
    }
    mask = t->cpcap - 1;
    for (i = ((cp + 1) * 2654435761u) & mask; t->cpmap[i].cp; i = (i + 1) & mask)
        if (t->cpmap[i].cp == cp + 1)
            return &t->cpmap[i];
    t->cpmap[i].cp = cp + 1;
    t->cpcount++;
    return &t->cpmap[i];
}

/* The fallback face for a code point the primary font lacks, cached. */
static int face_fallback(dm_text *t, uint32_t cp, int *out)
{
    text_cp_slot *slot = cp_slot(t, cp);
    FcPattern *pat;
    int rc;

    if (!slot)
        return DM_ENOMEM;
    if (slot->fallback) {
        *out = slot->face;
        return 0;
    }
    pat = pattern_for_cp(cp);
    if (!pat)
        return DM_ENOMEM;
    rc = face_find_sorted(t, pat, cp, out);
    FcPatternDestroy(pat);
    if (rc == DM_ETOOBIG) {
        /* Out of face slots: treat the code point as uncovered, consistently. */
        *out = -1;
        rc = 0;
    }
    if (rc < 0)
        return rc;
    slot->face = (int16_t)*out;   /* (finding a face leaves the table as it is) */
    slot->fallback = 1;
    return 0;
}

/* ---------------------------------------------------------------- handles */

/*
 * SDL_ttf reads glyphs through an SDL_RWops; from a file that is an lseek and
 * a read per glyph load, which dominated measuring time. Handles read from
 * one shared read-only mapping of the font file instead.
 */
static int face_map(text_face *f)
{
    struct stat st;
    int fd;
    void *map;

    if (f->map)
        return 0;
    fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return DM_EIO;
    if (fstat(fd, &st) < 0 || st.st_size <= 0) {
        close(fd);
        return DM_EIO;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return DM_EIO;
    f->map = map;
    f->map_len = (size_t)st.st_size;
    return 0;
}

static TTF_Font *face_open(text_face *f, int pt)
{
    SDL_RWops *rw;

    if (face_map(f) < 0) {
        SDL_SetError("cannot map font file %s", f->path);
        return NULL;
    }
    rw = SDL_RWFromConstMem(f->map, (int)f->map_len);
    if (!rw)
        return NULL;
    return font_open_rw(rw, pt, f->index);
}

static int handle_get(dm_text *t, int face, int pt, int outline, TTF_Font **out)
{
    int victim = 0;
    text_handle *h;
    TTF_Font *font;

    if (t->faces[face].bitmap) {
        pt = 0;
        outline = 0;
    }
    t->tick++;
    for (int i = 0; i < t->nhandles; i++) {
        h = &t->handles[i];
        if (h->face == face && h->pt == pt && h->outline == outline) {
            h->used = t->tick;
            *out = h->font;
            return 0;
        }
        if (h->used < t->handles[victim].used)
            victim = i;
    }
    font = face_open(&t->faces[face], pt);
    if (!font)
        return DM_EIO;
    if (outline > 0)
        TTF_SetFontOutline(font, outline);
    if (t->nhandles < MAX_HANDLES) {
        victim = t->nhandles++;
    } else {
        font_close(t->handles[victim].font);
    }
    h = &t->handles[victim];
    h->face = face;
    h->pt = pt;
    h->outline = outline;
    h->font = font;
    h->used = t->tick;
    *out = font;
    return 0;
}

/* Largest point size whose line height + 2 * outline fits in height_px. */
static int size_for_height(dm_text *t, int height_px, const text_size **out)
{
    int lo = 1, hi = height_px, best = 0;
    text_size *s;

    for (int i = 0; i < t->nsizes; i++) {
        if (t->sizes[i].height_px == height_px) {
            *out = &t->sizes[i];
            return 0;
        }
    }
    if (height_px <= 2 * t->outline + 3 || height_px > DM_TEXT_MAX_HEIGHT_PX)
        return DM_EINVAL;
    /* Line height grows with the point size (ceil of a linear function), so a
     * binary search finds the largest fitting size. */
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (TTF_SetFontSize(t->probe, mid) < 0)
            return DM_EIO;
        if (TTF_FontHeight(t->probe) + 2 * t->outline <= height_px) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    if (best == 0)
        return DM_EINVAL;
    if (TTF_SetFontSize(t->probe, best) < 0)
        return DM_EIO;
    if (t->nsizes < MAX_SIZES) {
        s = &t->sizes[t->nsizes++];
    } else {
        s = &t->sizes[t->next_size];
        t->next_size = (t->next_size + 1) % MAX_SIZES;
    }
    s->height_px = height_px;
    s->pt = best;
    s->ascent = TTF_FontAscent(t->probe);
    s->line_h = TTF_FontHeight(t->probe);
    *out = s;
    return 0;
}

/* ---------------------------------------------------------------- layout */

static int decode(dm_text *t, const char *utf8, size_t *n)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)utf8;
    size_t len = strlen(utf8), i = 0, k = 0;
    int rc;

    if (len > MAX_TEXT_BYTES)
        return DM_ETOOBIG;
    rc = grow((void **)&t->cps, &t->cpscap, len + 1, sizeof *t->cps);
    if (rc < 0)
        return rc;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t step = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (step <= 0) {
            /* Malformed byte: shown as U+FFFD like every other decoder does. */
            cp = 0xFFFD;
            step = 1;
        }
        t->cps[k++] = (uint32_t)cp;
        i += (size_t)step;
    }
    *n = k;
    return 0;
}

/* (itemise makes the room first: 4 bytes a code point and a NUL for each) */
static void buf_put_cp(dm_text *t, uint32_t cp)
{
    if (cp < 0x80)
        t->buf[t->buflen++] = (char)cp;
    else
        t->buflen += (size_t)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)t->buf + t->buflen);
}

static int buf_end_run(dm_text *t)
{
    int rc = grow((void **)&t->buf, &t->bufcap, t->buflen + 1, 1);

    if (rc < 0)
        return rc;
    t->buf[t->buflen++] = '\0';
    return 0;
}

/* A code point no installed font has: said once (the comment is drawn without it). */
static void note_missing(dm_text *t, uint32_t cp)
{
    char msg[200];
    int n = (int)(sizeof t->warned / sizeof t->warned[0]);

    if (t->parent)
        t = t->parent;   /* a clone's are its original's: said once among them all */
    pthread_mutex_lock(&text_lock);
    for (int i = 0; i < t->nwarned; i++)
        if (t->warned[i] == cp) {
            pthread_mutex_unlock(&text_lock);
            return;
        }
    if (t->nwarned > n) {
        pthread_mutex_unlock(&text_lock);
        return;
    }
    if (t->nwarned == n)
        snprintf(msg, sizeof msg, "more code points that no installed font has (U+%04X...): not named one by one",
                 (unsigned)cp);
    else
        snprintf(msg, sizeof msg, "no installed font has U+%04X: comments with it are drawn without it", (unsigned)cp);
    if (t->nwarned < n)
        t->warned[t->nwarned] = cp;
    t->nwarned++;
    if (t->warn)
        t->warn(t->warn_ud, msg);
    pthread_mutex_unlock(&text_lock);
}

void dm_text_set_warn(dm_text *t, void (*fn)(void *ud, const char *msg), void *ud)
{
    t->warn = fn;
    t->warn_ud = ud;
}

/*
 * The face for one cluster: the first candidate that provides every code
 * point of it, else the first that provides its base; -1 to skip it. Adds
 * the code points left without a glyph to t->missing.
 */
static int cluster_face(dm_text *t, const uint32_t *c, size_t n, int *out)
{
    int cand[4], ncand = 0, fb = -1, fb_mark = -1, rc;
    size_t base = 0, lacking = 0, mark = 0;

    while (base < n && is_ignorable(c[base]))
        base++;
    *out = -1;
    if (base == n || is_undrawable(c[base])) {
        for (size_t i = base; i < n; i++)
            if (!is_ignorable(c[i]) && !is_undrawable(c[i]))
                t->missing++;
        return 0;
    }
    if (!face_has(t, 0, c[base]) && !(t->emoji >= 0 && face_has(t, t->emoji, c[base]))) {
        rc = face_fallback(t, c[base], &fb);
        if (rc < 0)
            return rc;
    }
    /* A mark the primary font lacks on a base it has ("e" + U+030A): the font
     * that has the mark usually has the base too, and one font must draw both. */
    for (mark = base + 1; mark < n; mark++)
        if (!is_ignorable(c[mark]) && !face_has(t, 0, c[mark]))
            break;
    if (mark < n && !(t->emoji >= 0 && face_has(t, t->emoji, c[mark]))) {
        rc = face_fallback(t, c[mark], &fb_mark);
        if (rc < 0)
            return rc;
    }
    if (t->emoji >= 0 && cluster_wants_emoji(c + base, n - base))
        cand[ncand++] = t->emoji;
    cand[ncand++] = 0;
    if (fb >= 0)
        cand[ncand++] = fb;
    if (fb_mark >= 0 && fb_mark != fb)
        cand[ncand++] = fb_mark;
    if (t->emoji >= 0 && cand[0] != t->emoji)
        cand[ncand++] = t->emoji;

    for (int k = 0; k < ncand && *out < 0; k++) {
        int all = 1;
        for (size_t i = base; i < n && all; i++)
            if (!is_ignorable(c[i]) && !face_has(t, cand[k], c[i]))
                all = 0;
        if (all)
            *out = cand[k];
    }
    for (int k = 0; k < ncand && *out < 0; k++)
        if (face_has(t, cand[k], c[base]))
            *out = cand[k];
    for (size_t i = base; i < n; i++)
        if (!is_ignorable(c[i]) && !face_has(t, *out, c[i])) {
            lacking++;
            note_missing(t, c[i]);
        }
    t->missing += lacking;
    return 0;
}

/* A cluster's face (cluster_face), strong direction and complex script. */
static int cluster_of(dm_text *t, const uint32_t *c, size_t n, int *face, int *dir, const char **script)
{
    int rc = cluster_face(t, c, n, face);

    *dir = -1;
    *script = NULL;
    for (size_t k = 0; k < n && *dir < 0; k++)
        *dir = strong_direction(c[k]);
    for (size_t k = 0; k < n && !*script; k++)
        *script = complex_script(c[k]);
    return rc;
}

/* cluster_of for a cluster of one code point, remembered (most of the clusters that are not CP_SIMPLE). */
static int single_cluster(dm_text *t, uint32_t cp, int *face, int *dir, const char **script)
{
    text_cp_slot *slot = cp_slot(t, cp);
    size_t missing = t->missing;
    int rc;

    if (!slot)
        return DM_ENOMEM;
    if (slot->single) {
        *face = slot->single_face;
        *dir = slot->dir;
        *script = slot->script;
        if (slot->missing) {
            t->missing++;
            if (!is_undrawable(cp))
                note_missing(t, cp);   /* as cluster_face does (said once) */
        }
        return 0;
    }
    rc = cluster_of(t, &cp, 1, face, dir, script);
    if (rc < 0)
        return rc;
    if (!(slot = cp_slot(t, cp)))   /* a fallback looked up may have moved the table */
        return DM_ENOMEM;
    slot->single_face = (int16_t)*face;
    slot->dir = (int8_t)*dir;
    slot->script = *script;
    slot->missing = t->missing != missing;
    slot->single = 1;
    return 0;
}

enum {
    CP_KNOWN = 1,      /* the flags below are set */
    CP_SIMPLE = 2,     /* a cluster on its own between two such code points, drawn by the primary
                          font, no joining, reordering or right-to-left shaping: most CJK and Latin */
    CP_LTR = 4,        /* strong left-to-right */
};

/* The CP_* flags of a code point (the BMP's are remembered). */
static unsigned cp_flags(dm_text *t, uint32_t cp)
{
    unsigned f;
    const utf8proc_property_t *p;

    if (cp < 0x10000 && t->cpinfo && t->cpinfo[cp])
        return t->cpinfo[cp];
    p = utf8proc_get_property((utf8proc_int32_t)cp);
    f = CP_KNOWN;
    /* no grapheme rule joins two code points of these classes (hangul syllables join only jamo after them) */
    if ((p->boundclass == UTF8PROC_BOUNDCLASS_OTHER || p->boundclass == UTF8PROC_BOUNDCLASS_LV ||
         p->boundclass == UTF8PROC_BOUNDCLASS_LVT) && !is_ignorable(cp) && !is_undrawable(cp) &&
        face_has(t, 0, cp) && !complex_script(cp) && strong_direction(cp) != 1)
        f |= CP_SIMPLE;
    if (strong_direction(cp) == 0)
        f |= CP_LTR;
    if (cp < 0x10000 && t->cpinfo)
        t->cpinfo[cp] = (uint8_t)f;
    return f;
}

/* Split decoded text into lines and runs; run texts go to t->buf. */
static int itemise(dm_text *t, size_t n)
{
    size_t i = 0;
    int rc;

    t->nruns = t->nlines = t->buflen = 0;
    t->missing = 0;
    /* each code point at most 4 bytes and one run of its own (its NUL) */
    if ((rc = grow((void **)&t->buf, &t->bufcap, 5 * n + 1, 1)) < 0)
        return rc;
    for (;;) {
        size_t end = i;
        text_line *line;
        text_run *cur = NULL;
        utf8proc_int32_t state = 0;

        while (end < n && t->cps[end] != '\n')
            end++;
        rc = grow((void **)&t->lines, &t->linecap, t->nlines + 1, sizeof *t->lines);
        if (rc < 0)
            return rc;
        line = &t->lines[t->nlines++];
        line->first = t->nruns;
        line->count = 0;
        line->w = 0;
        while (i < end) {
            size_t j = i + 1;
            int face, dir = -1;
            const char *script = NULL;
            unsigned fi = cp_flags(t, t->cps[i]);
            if ((fi & CP_SIMPLE) && (j == end || (cp_flags(t, t->cps[j]) & CP_SIMPLE))) {
                /* the common case, the same result as the general one below, much faster */
                face = 0;
                dir = fi & CP_LTR ? 0 : -1;
                state = 0;
            } else {
                while (j < end && !utf8proc_grapheme_break_stateful((utf8proc_int32_t)t->cps[j - 1],
                                                                    (utf8proc_int32_t)t->cps[j], &state))
                    j++;
                if (j < end)
                    state = 0;
                if (j - i == 1)
                    rc = single_cluster(t, t->cps[i], &face, &dir, &script);
                else
                    rc = cluster_of(t, t->cps + i, j - i, &face, &dir, &script);
                if (rc < 0)
                    return rc;
                if (face < 0) {
                    i = j;
                    continue;
                }
            }
            if (!cur || cur->face != face || (dir >= 0 && cur->rtl >= 0 && dir != cur->rtl) ||
                (script && cur->script && script != cur->script)) {
                if (cur) {
                    rc = buf_end_run(t);
                    if (rc < 0)
                        return rc;
                }
                rc = grow((void **)&t->runs, &t->runcap, t->nruns + 1, sizeof *t->runs);
                if (rc < 0)
                    return rc;
                cur = &t->runs[t->nruns++];
                memset(cur, 0, sizeof *cur);
                cur->off = t->buflen;
                cur->face = face;
                cur->rtl = -1;
                line->count++;
            }
            if (cur->rtl < 0)
                cur->rtl = dir;
            if (!cur->script)
                cur->script = script;
            for (size_t k = i; k < j; k++)
                buf_put_cp(t, t->cps[k]);
            i = j;
        }
        if (cur) {
            rc = buf_end_run(t);
            if (rc < 0)
                return rc;
        }
        if (end >= n)
            break;
        i = end + 1;
    }
    return 0;
}

/* Handles are shared between runs: set the run's script and direction on
 * each use (cheap: it does not flush SDL_ttf's glyph cache). */
static int handle_for_run(dm_text *t, const text_run *run, int pt, int outline, TTF_Font **out)
{
    int rc = handle_get(t, run->face, pt, outline, out);

    if (rc < 0)
        return rc;
    if (TTF_SetFontScriptName(*out, run->script ? run->script : "Zzzz") < 0 ||
        TTF_SetFontDirection(*out, run->rtl == 1 ? TTF_DIRECTION_RTL : TTF_DIRECTION_LTR) < 0)
        return DM_EIO;
    return 0;
}

/* Scale a length measured in a bitmap strike to the line's point size. */
static int strike_scale(int v, int pt, int strike_px)
{
    return (int)(((int64_t)v * pt * 2 + strike_px) / (2 * (int64_t)strike_px));
}

/*
 * Rows SDL_ttf inserts above the ascent when a glyph rises above it: its
 * surface then puts the baseline lower by that much. SDL_ttf does not report
 * it, so it is derived from the glyph tops (HarfBuzz offsets of stacked marks
 * aside, which only move a run a pixel or two).
 */
static int run_ystart(TTF_Font *font, const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    int ascent = TTF_FontAscent(font), top = 0;
    utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s);

    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t step = utf8proc_iterate(p, len, &cp);
        int maxy;
        if (step <= 0)
            break;
        if (TTF_GlyphIsProvided32(font, (Uint32)cp) &&
            TTF_GlyphMetrics32(font, (Uint32)cp, NULL, NULL, NULL, &maxy, NULL) == 0 && maxy > top)
            top = maxy;
        p += step;
        len -= step;
    }
    return top > ascent ? top - ascent : 0;
}

/* Full layout of utf8 at height_px: lines, runs, widths (and ystart when
 * `for_render`). Sets the sprite size in *w, *h. */
static int layout(dm_text *t, const char *utf8, int height_px, int for_render,
                  const text_size **size, int *w, int *h)
{
    size_t n;
    int rc, maxw = 0, drawn = 0;

    if (!utf8 || !*utf8)
        return DM_EINVAL;
    rc = size_for_height(t, height_px, size);
    if (rc < 0)
        return rc;
    rc = decode(t, utf8, &n);
    if (rc < 0)
        return rc;
    rc = itemise(t, n);
    if (rc < 0)
        return rc;
    for (size_t l = 0; l < t->nlines; l++) {
        text_line *line = &t->lines[l];
        for (size_t r = line->first; r < line->first + line->count; r++) {
            text_run *run = &t->runs[r];
            text_face *f = &t->faces[run->face];
            TTF_Font *font = NULL;
            int rw = 0, rh = 0, fast;
            /* scalable faces: SDL_ttf's own width without its glyph cache's misses */
            fast = !f->bitmap && face_map(f) == 0 &&
                   dm_run_width(t->widths, run->face, f->map, f->map_len, f->index, (*size)->pt, run->rtl,
                                run->script, t->buf + run->off, &rw) == 0;
            /* the others (bitmap faces): SDL_ttf's width, remembered */
            if (!fast && !for_render && !t->check_widths &&
                dm_run_width_known(t->widths, run->face, (*size)->pt, run->rtl, run->script, t->buf + run->off,
                                   &rw) == 0)
                fast = 1;
            if (!fast || for_render || t->check_widths) {
                int sw = 0;
                rc = handle_for_run(t, run, (*size)->pt, 0, &font);
                if (rc < 0)
                    return rc;
                if ((!fast || t->check_widths) && TTF_SizeUTF8(font, t->buf + run->off, &sw, &rh) < 0)
                    return DM_EIO;
                if (fast && t->check_widths)
                    count_check(t, sw != rw);
                if (!fast) {
                    rw = sw;
                    dm_run_width_remember(t->widths, run->face, (*size)->pt, run->rtl, run->script,
                                          t->buf + run->off, sw);
                }
            }
            if (f->bitmap)
                rw = strike_scale(rw, (*size)->pt, f->strike_px);
            run->x = line->w;
            run->w = rw;
            run->ystart = for_render ? run_ystart(font, t->buf + run->off) : 0;
            line->w += rw;
            drawn = 1;
        }
        if (line->w > maxw)
            maxw = line->w;
    }
    if (!drawn)
        return DM_EINVAL;
    *w = maxw + 2 * t->outline;
    *h = (int)t->nlines * height_px;
    return 0;
}

/* ---------------------------------------------------------------- public */

static uint64_t memo_hash(const char *s, int height)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(unsigned)height;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void memo_clear(dm_text *t)
{
    for (size_t k = 0; k < t->nmemo; k++) {
        text_memo *m = &t->memo[t->memo_used[k]];
        free(m->text);
        m->text = NULL;
    }
    t->nmemo = 0;
}


static int open_primary(dm_text *t, const char *font, char *err, size_t errlen)
{
    FcPattern *pat = NULL, *match = NULL;
    FcResult res;
    int rc, face = -1;

    if (font && (strchr(font, '/') || access(font, R_OK) == 0)) {
        int count = 0;
        pat = FcFreeTypeQuery((const FcChar8 *)font, 0, NULL, &count);
        if (!pat) {
            dm_set_err(err, errlen, "cannot read font file %s (missing, unreadable or not a font)", font);
            return DM_EIO;
        }
        rc = face_add(t, pat, &face, err, errlen);
        FcPatternDestroy(pat);
        return rc;
    }

    pat = FcPatternCreate();
    if (!pat)
        return DM_ENOMEM;
    if (font) {
        FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)font);
    } else {
        FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)"Noto Sans CJK SC");
        FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)"sans-serif");
        FcPatternAddString(pat, FC_LANG, (const FcChar8 *)"zh-cn");
    }
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    match = FcFontMatch(NULL, pat, &res);
    FcPatternDestroy(pat);

    if (font) {
        FcChar8 *fam = NULL;
        int found = 0;
        for (int i = 0; match && FcPatternGetString(match, FC_FAMILY, i, &fam) == FcResultMatch; i++)
            if (strcasecmp((const char *)fam, font) == 0)
                found = 1;
        if (!found) {
            fam = NULL;
            if (match)
                FcPatternGetString(match, FC_FAMILY, 0, &fam);
            dm_set_err(err, errlen,
                    "font family \"%s\" is not installed (closest: \"%s\"); `fc-list : family` lists them",
                    font, fam ? (const char *)fam : "none");
            if (match)
                FcPatternDestroy(match);
            return DM_EINVAL;
        }
        rc = face_add(t, match, &face, err, errlen);
        FcPatternDestroy(match);
        return rc;
    }

    rc = 0;
    if (match) {
        FcCharSet *cs = NULL;
        if (FcPatternGetCharSet(match, FC_CHARSET, 0, &cs) == FcResultMatch && FcCharSetHasChar(cs, 0x4E2D))
            rc = face_add(t, match, &face, err, errlen);
        FcPatternDestroy(match);
    }
    if (rc == 0 && face < 0) {
        /* No Noto CJK: take whatever sans covers Chinese. */
        pat = pattern_for_cp(0x4E2D);
        if (!pat)
            return DM_ENOMEM;
        FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)"sans-serif");
        rc = face_find_sorted(t, pat, 0x4E2D, &face);
        FcPatternDestroy(pat);
    }
    if (rc == 0 && face < 0) {
        dm_set_err(err, errlen, "no installed font covers Chinese text (U+4E2D); install fonts-noto-cjk "
                             "or pass a font file");
        return DM_EINVAL;
    }
    return rc;
}

/* The colour emoji face, when fontconfig knows one; none is not an error. */
static int open_emoji(dm_text *t)
{
    FcPattern *pat = pattern_for_cp(0x1F600);
    FcPattern *match;
    FcResult res;
    FcBool color = FcFalse;
    FcCharSet *cs = NULL;
    int rc = 0, face = -1;

    t->emoji = -1;
    if (!pat)
        return DM_ENOMEM;
    FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)"emoji");
    FcPatternAddBool(pat, FC_COLOR, FcTrue);
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    match = FcFontMatch(NULL, pat, &res);
    FcPatternDestroy(pat);
    if (!match)
        return 0;
    if (FcPatternGetBool(match, FC_COLOR, 0, &color) == FcResultMatch && color &&
        FcPatternGetCharSet(match, FC_CHARSET, 0, &cs) == FcResultMatch && FcCharSetHasChar(cs, 0x1F600)) {
        rc = face_add(t, match, &face, NULL, 0);
        if (rc == DM_EIO)
            rc = 0;
    }
    FcPatternDestroy(match);
    if (rc == 0 && face > 0)
        t->emoji = face;
    return rc;
}

dm_text *dm_text_new(const char *font, int outline_px, char *err, size_t errlen)
{
    dm_text *t;
    int rc;

    dm_set_err(err, errlen, "%s", "");
    if (outline_px < 0 || outline_px > DM_TEXT_MAX_OUTLINE) {
        dm_set_err(err, errlen, "outline %d px is out of range 0..%d", outline_px, DM_TEXT_MAX_OUTLINE);
        return NULL;
    }
    if (!FcInit()) {
        dm_set_err(err, errlen, "fontconfig failed to load its configuration");
        return NULL;
    }
    if (!TTF_WasInit() && TTF_Init() < 0) {
        dm_set_err(err, errlen, "SDL_ttf failed to start: %s", TTF_GetError());
        return NULL;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        dm_set_err(err, errlen, "out of memory");
        return NULL;
    }
    t->outline = outline_px;
    t->emoji = -1;
    t->widths = dm_run_widths_new();   /* NULL: every width from SDL_ttf */
    t->cpinfo = calloc(0x10000, 1);      /* NULL: every code point looked at each time */
    t->memo = calloc(MEMO_CAP, sizeof *t->memo);
    t->memo_used = malloc(MEMO_CAP / 2 * sizeof *t->memo_used);
    if (!t->memo_used) {   /* no list of slots: no memo */
        free(t->memo);
        t->memo = NULL;
    }
    rc = font && !(t->font_arg = strdup(font)) ? DM_ENOMEM : open_primary(t, font, err, errlen);
    if (rc == 0 && t->faces[0].bitmap) {
        dm_set_err(err, errlen, "font %s is a fixed-size bitmap font; pick a scalable one", t->faces[0].path);
        rc = DM_EINVAL;
    }
    if (rc == 0)
        rc = open_emoji(t);
    if (rc == 0) {
        t->probe = face_open(&t->faces[0], 12);
        if (!t->probe) {
            dm_set_err(err, errlen, "cannot open font %s: %s", t->faces[0].path, TTF_GetError());
            rc = DM_EIO;
        }
    }
    if (rc < 0) {
        if (err && errlen && !err[0])
            dm_set_err(err, errlen, "cannot set up fonts: %s", dm_strerror(rc));
        dm_text_free(&t);
        return NULL;
    }
    return t;
}

void dm_text_free(dm_text **tp)
{
    dm_text *t;

    if (!tp || !*tp)
        return;
    t = *tp;
    for (int i = 0; i < t->nhandles; i++)
        font_close(t->handles[i].font);
    if (t->probe)
        font_close(t->probe);
    free(t->font_arg);
    for (int i = 0; i < t->nfaces; i++) {
        free(t->faces[i].path);
        free(t->faces[i].family);
        FcCharSetDestroy(t->faces[i].charset);
        if (t->faces[i].map)
            munmap(t->faces[i].map, t->faces[i].map_len);
    }
    free(t->cpmap);
    free(t->cps);
    free(t->buf);
    free(t->runs);
    free(t->lines);
    dm_run_widths_free(&t->widths);
    free(t->cpinfo);
    memo_clear(t);
    free(t->memo);
    free(t->memo_used);
    free(t);
    *tp = NULL;
}

const char *dm_text_family(const dm_text *t)
{
    return t && t->nfaces > 0 ? t->faces[0].family : NULL;
}

int dm_text_outline(const dm_text *t)
{
    return t ? t->outline : 0;
}

int dm_text_point_size(dm_text *t, int height_px)
{
    const text_size *s;
    int rc;

    if (!t)
        return DM_EINVAL;
    rc = size_for_height(t, height_px, &s);
    return rc < 0 ? rc : s->pt;
}

int dm_text_measure(void *text, const char *utf8, int height_px, int *w, int *h)
{
    dm_text *t = text;
    const text_size *s;
    text_memo *m = NULL;
    uint64_t hash;
    int bw = 0, bh = 0, rc;

    if (!t || !utf8 || !w || !h)
        return DM_EINVAL;
    /* comments repeat ("666", "哈哈哈"), and a stage resized back measures again */
    if (t->memo && !t->check_widths) {
        size_t i;
        hash = memo_hash(utf8, height_px);
        i = (size_t)hash & (MEMO_CAP - 1);
        while (t->memo[i].text && (t->memo[i].hash != hash || t->memo[i].height != height_px ||
                                   strcmp(t->memo[i].text, utf8)))
            i = (i + 1) & (MEMO_CAP - 1);
        m = &t->memo[i];
        if (m->text) {
            *w = m->w;
            *h = m->h;
            return m->rc;
        }
    }
    rc = layout(t, utf8, height_px, 0, &s, &bw, &bh);
    if (m && rc != DM_ENOMEM) {
        if (t->nmemo * 2 >= MEMO_CAP)
            memo_clear(t);   /* m is still a free slot: the table is empty now */
        m->text = strdup(utf8);
        if (m->text) {
            m->hash = hash;
            m->height = height_px;
            m->w = bw;
            m->h = bh;
            m->rc = rc < 0 ? rc : 0;
            t->memo_used[t->nmemo++] = (uint32_t)(m - t->memo);
        }
    }
    if (rc < 0)
        return rc;
    *w = bw;
    *h = bh;
    return 0;
}

int dm_text_coverage(dm_text *t, const char *utf8, size_t *missing)
{
    size_t n;
    int rc;

    if (!t || !utf8 || !missing)
        return DM_EINVAL;
    rc = decode(t, utf8, &n);
    if (rc < 0)
        return rc;
    rc = itemise(t, n);
    if (rc < 0)
        return rc;
    *missing = t->missing;
    return 0;
}

int dm_text_runs(dm_text *t, const char *utf8, int height_px, int line, dm_text_run_info *runs, int cap)
{
    const text_size *s;
    const text_line *l;
    int bw, bh, rc;

    if (!t || !utf8 || line < 0 || cap < 0 || (cap > 0 && !runs))
        return DM_EINVAL;
    rc = layout(t, utf8, height_px, 0, &s, &bw, &bh);
    if (rc < 0)
        return rc;
    if ((size_t)line >= t->nlines)
        return DM_EINVAL;
    l = &t->lines[line];
    for (size_t i = 0; i < l->count && (int)i < cap; i++) {
        const text_run *r = &t->runs[l->first + i];
        runs[i].x = t->outline + (bw - 2 * t->outline - l->w) / 2 + r->x;
        runs[i].w = r->w;
        runs[i].colour = t->faces[r->face].bitmap;
        runs[i].family = t->faces[r->face].family;
    }
    return (int)l->count;
}

/* ---------------------------------------------------------------- render */

/*
 * Area-average `src` (straight-alpha ARGB8888) down to dw x dh and composite
 * it over `dst` at (dx, dy). SDL2's own scaled blit samples the nearest pixel,
 * which turns a 4x reduction of an emoji into noise.
 */
static void blend_scaled(SDL_Surface *dst, int dx, int dy, int dw, int dh, SDL_Surface *src)
{
    double sx = (double)src->w / dw, sy = (double)src->h / dh;
    const uint8_t *sp = src->pixels;
    uint8_t *dp = dst->pixels;

    for (int y = 0; y < dh; y++) {
        int ty = dy + y;
        double y0 = y * sy, y1 = (y + 1) * sy;
        if (ty < 0 || ty >= dst->h)
            continue;
        for (int x = 0; x < dw; x++) {
            int tx = dx + x;
            double x0 = x * sx, x1 = (x + 1) * sx;
            double acc[4] = {0, 0, 0, 0}, area = 0;
            if (tx < 0 || tx >= dst->w)
                continue;
            for (int iy = (int)y0; iy < src->h && iy < y1; iy++) {
                double wy = (iy + 1 < y1 ? iy + 1 : y1) - (iy > y0 ? iy : y0);
                const uint32_t *row = (const uint32_t *)(sp + (size_t)iy * (size_t)src->pitch);
                for (int ix = (int)x0; ix < src->w && ix < x1; ix++) {
                    double wx = (ix + 1 < x1 ? ix + 1 : x1) - (ix > x0 ? ix : x0);
                    uint32_t p = row[ix];
                    double a = (double)(p >> 24) / 255.0 * wx * wy;
                    acc[0] += a;
                    acc[1] += a * ((p >> 16) & 0xFF);
                    acc[2] += a * ((p >> 8) & 0xFF);
                    acc[3] += a * (p & 0xFF);
                    area += wx * wy;
                }
            }
            if (area <= 0 || acc[0] <= 0)
                continue;
            {
                uint32_t *d = (uint32_t *)(dp + (size_t)ty * (size_t)dst->pitch) + tx;
                double sa = acc[0] / area;
                double da = (double)(*d >> 24) / 255.0;
                double oa = sa + da * (1 - sa);
                double rgb[3];
                for (int c = 0; c < 3; c++) {
                    double dc = (double)((*d >> (16 - 8 * c)) & 0xFF);
                    double sc = acc[1 + c] / acc[0];
                    rgb[c] = (sc * sa + dc * da * (1 - sa)) / oa;
                }
                *d = ((uint32_t)(oa * 255.0 + 0.5) << 24) | ((uint32_t)(rgb[0] + 0.5) << 16) |
                     ((uint32_t)(rgb[1] + 0.5) << 8) | (uint32_t)(rgb[2] + 0.5);
            }
        }
    }
}

/* Paint one run (fill or outline pass) into the canvas. */
static int paint_run(dm_text *t, SDL_Surface *canvas, const text_size *s, const text_run *run, int x,
                     int line_top, int outline_pass, uint32_t rgb)
{
    const text_face *f = &t->faces[run->face];
    SDL_Color col = {(Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255};
    int baseline = line_top + (s->height_px - s->line_h - 2 * t->outline) / 2 + t->outline + s->ascent;
    TTF_Font *fill, *font;
    SDL_Surface *surf;
    SDL_Rect dst;
    int ascent, rc;

    if (run->w <= 0 || (outline_pass && f->bitmap))
        return 0;
    rc = handle_for_run(t, run, s->pt, 0, &fill);
    if (rc < 0)
        return rc;
    ascent = TTF_FontAscent(fill);
    font = fill;
    if (outline_pass) {
        rc = handle_for_run(t, run, s->pt, t->outline, &font);
        if (rc < 0)
            return rc;
    }
    surf = TTF_RenderUTF8_Blended(font, t->buf + run->off, col);
    if (!surf)
        return DM_EIO;
    if (f->bitmap) {
        int dh = strike_scale(surf->h, s->pt, f->strike_px);
        int top = baseline - strike_scale(ascent + run->ystart, s->pt, f->strike_px);
        if (dh > 0 && SDL_LockSurface(canvas) == 0) {
            if (SDL_LockSurface(surf) == 0) {
                blend_scaled(canvas, x, top, run->w, dh, surf);
                SDL_UnlockSurface(surf);
            }
            SDL_UnlockSurface(canvas);
        }
        SDL_FreeSurface(surf);
        return 0;
    }
    /* SDL_ttf draws an outlined string shifted right and down by the outline
     * width, so the outline surface starts one outline width up and left. */
    dst.x = x - (outline_pass ? t->outline : 0);
    dst.y = baseline - ascent - run->ystart - (outline_pass ? t->outline : 0);
    dst.w = surf->w;
    dst.h = surf->h;
    SDL_SetSurfaceBlendMode(surf, SDL_BLENDMODE_BLEND);
    rc = SDL_BlitSurface(surf, NULL, canvas, &dst) < 0 ? DM_EIO : 0;
    SDL_FreeSurface(surf);
    return rc;
}

static void apply_opacity(SDL_Surface *canvas, double opacity)
{
    uint32_t k = (uint32_t)(opacity * 256.0 + 0.5);

    for (int y = 0; y < canvas->h; y++) {
        uint32_t *row = (uint32_t *)((uint8_t *)canvas->pixels + (size_t)y * (size_t)canvas->pitch);
        for (int x = 0; x < canvas->w; x++) {
            uint32_t a = ((row[x] >> 24) * k) >> 8;
            row[x] = (row[x] & 0x00FFFFFFu) | (a << 24);
        }
    }
}

SDL_Surface *dm_text_render(dm_text *t, const char *utf8, int height_px, uint32_t rgb, uint32_t outline_rgb,
                            double opacity)
{
    const text_size *s;
    SDL_Surface *canvas;
    int w, h, rc;

    if (!t || !utf8) {
        SDL_SetError("dm_text_render: no text object or no text");
        return NULL;
    }
    rc = layout(t, utf8, height_px, 1, &s, &w, &h);
    if (rc < 0) {
        SDL_SetError("cannot lay out text at %d px: %s", height_px, dm_strerror(rc));
        return NULL;
    }
    canvas = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!canvas)
        return NULL;
    SDL_SetSurfaceBlendMode(canvas, SDL_BLENDMODE_NONE);
    /* All outlines first, then all fills: a run's outline must not cover the
     * neighbouring run's fill where they touch. */
    for (int pass = t->outline > 0 ? 0 : 1; pass < 2; pass++) {
        for (size_t l = 0; l < t->nlines; l++) {
            const text_line *line = &t->lines[l];
            int x0 = t->outline + (w - 2 * t->outline - line->w) / 2;
            for (size_t r = line->first; r < line->first + line->count; r++) {
                const text_run *run = &t->runs[r];
                rc = paint_run(t, canvas, s, run, x0 + run->x, (int)l * height_px, pass == 0,
                               pass == 0 ? outline_rgb : rgb);
                if (rc < 0) {
                    SDL_SetError("cannot draw text run with %s: %s", t->faces[run->face].family,
                                 TTF_GetError());
                    SDL_FreeSurface(canvas);
                    return NULL;
                }
            }
        }
    }
    if (opacity < 1.0) {
        if (opacity < 0)
            opacity = 0;
        if (SDL_LockSurface(canvas) == 0) {
            apply_opacity(canvas, opacity);
            SDL_UnlockSurface(canvas);
        }
    }
    return canvas;
}

SDL_Surface *dm_text_render_comment(dm_text *t, const dm_comment *c, const char *text, int height_px,
                                    double opacity)
{
    return dm_text_render(t, text ? text : c->text, height_px, c->color & 0xFFFFFF, dm_outline_rgb(c), opacity);
}

int dm_text_family_installed(const char *family)
{
    FcPattern *pat, *match;
    FcResult res;
    FcChar8 *got = NULL;
    int found = 0;

    if (!family || !family[0] || !FcInit())
        return 0;
    pat = FcNameParse((const FcChar8 *)family);
    if (!pat)
        return 0;
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    match = FcFontMatch(NULL, pat, &res);
    if (match && FcPatternGetString(match, FC_FAMILY, 0, &got) == FcResultMatch)
        found = !strcasecmp((const char *)got, family);
    if (match)
        FcPatternDestroy(match);
    FcPatternDestroy(pat);
    return found;
}

void dm_text_check_widths(dm_text *t, int on)
{
    t->check_widths = on;
}

void dm_text_width_checks(const dm_text *t, uint64_t *checks, uint64_t *mismatches)
{
    pthread_mutex_lock(&text_lock);
    *checks = t->width_checks;
    *mismatches = t->width_mismatches;
    pthread_mutex_unlock(&text_lock);
}

dm_text *dm_text_clone(dm_text *t, char *err, size_t errlen)
{
    dm_text *c;

    if (!t) {
        dm_set_err(err, errlen, "no text to clone");
        return NULL;
    }
    if (t->parent)
        t = t->parent;
    c = dm_text_new(t->font_arg, t->outline, err, errlen);
    if (!c)
        return NULL;
    if (c->nfaces < 1 || strcmp(c->faces[0].path, t->faces[0].path) || c->faces[0].index != t->faces[0].index) {
        dm_set_err(err, errlen, "the font changed since the original was opened");
        dm_text_free(&c);
        return NULL;
    }
    c->parent = t;
    c->check_widths = t->check_widths;
    return c;
}

void *dm_text_measure_clone(void *text)
{
    return dm_text_clone(text, NULL, 0);
}

void dm_text_measure_clone_free(void *clone)
{
    dm_text *c = clone;

    dm_text_free(&c);
}

/* ---------------------------------------------------------------- live cards */

/* Fill rows [y0, y1) of an ARGB canvas with an opaque colour. */
static void fill_band(SDL_Surface *canvas, int y0, int y1, uint32_t rgb)
{
    SDL_Rect r = { 0, y0, canvas->w, y1 - y0 };

    if (y1 > y0)
        SDL_FillRect(canvas, &r, 0xFF000000u | (rgb & 0xFFFFFF));
}

/* Round the canvas's corners (radius r): the pixels outside become transparent. */
static void round_corners(SDL_Surface *canvas, int r)
{
    if (r <= 0 || 2 * r > canvas->w || 2 * r > canvas->h || SDL_LockSurface(canvas))
        return;
    for (int y = 0; y < r; y++) {
        for (int x = 0; x < r; x++) {
            double dx = r - x - 0.5, dy = r - y - 0.5;
            if (dx * dx + dy * dy <= (double)r * r)
                continue;
            int xs[2] = { x, canvas->w - 1 - x }, ys[2] = { y, canvas->h - 1 - y };
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                    ((uint32_t *)((uint8_t *)canvas->pixels + (size_t)ys[j] * (size_t)canvas->pitch))[xs[i]] = 0;
        }
    }
    SDL_UnlockSurface(canvas);
}

/* Draw one line of card text at (x, y). */
static int card_line(dm_text *t, SDL_Surface *canvas, const char *line, size_t n, int x, int y, int height_px,
                     uint32_t rgb, uint32_t outline_rgb)
{
    char buf[4096];
    SDL_Surface *s;
    SDL_Rect dst;
    int rc;

    if (n == 0)
        return 0;
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, line, n);
    buf[n] = 0;
    s = dm_text_render(t, buf, height_px, rgb, outline_rgb, 1.0);
    if (!s)
        return -1;
    dst = (SDL_Rect){ x, y, s->w, s->h };
    SDL_SetSurfaceBlendMode(s, SDL_BLENDMODE_BLEND);
    rc = SDL_BlitSurface(s, NULL, canvas, &dst);
    SDL_FreeSurface(s);
    return rc;
}

SDL_Surface *dm_text_render_card(dm_text *t, const dm_comment *c, const char *text, const dm_layout_opts *layout,
                                 double opacity)
{
    dm_card_metrics m;
    dm_card_colors col;
    SDL_Surface *canvas;
    int w, h, band, y;
    const char *line;

    if (!t || !c || !layout) {
        SDL_SetError("dm_text_render_card: no text object, card or layout");
        return NULL;
    }
    if (!text)
        text = c->text ? c->text : "";
    m = dm_card_metrics_for(layout);
    col = dm_card_colors_for(c->kind, c->price);
    if (dm_card_box(layout, c, text, dm_text_measure, t, &w, &h)) {
        SDL_SetError("cannot measure the card's text");
        return NULL;
    }
    canvas = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!canvas)
        return NULL;
    SDL_SetSurfaceBlendMode(canvas, SDL_BLENDMODE_NONE);
    band = m.line_px + 2 * m.pad_y;
    /* the header band (a super chat's name and price, a gift's line), then the message band */
    fill_band(canvas, 0, band, col.header);
    fill_band(canvas, band, h, col.body);
    y = m.pad_y;
    line = text;
    for (int l = 0; *line || l == 0; l++) {
        size_t n = strcspn(line, "\n");
        int header = l == 0;
        /* the text's outline in its band's colour: a bolder stroke, no dark halo on a light card */
        int rc = card_line(t, canvas, line, n, m.pad_x, y, m.line_px, header ? col.header_text : col.body_text,
                           header ? col.header : col.body);
        if (rc < 0) {
            SDL_FreeSurface(canvas);
            return NULL;
        }
        y += m.line_px + (header ? 2 * m.pad_y : 0);
        line += n;
        if (*line != '\n')
            break;
        line++;
    }
    round_corners(canvas, m.radius);
    if (opacity < 1.0 && SDL_LockSurface(canvas) == 0) {
        apply_opacity(canvas, opacity < 0 ? 0 : opacity);
        SDL_UnlockSurface(canvas);
    }
    return canvas;
}
