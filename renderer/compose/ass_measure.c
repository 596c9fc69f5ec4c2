/*
 * ass_measure.c - text measured as libass draws it (see ass_measure.h).
 */
#include "ass_measure.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEASURE_W 16384          /* a frame wide enough for the longest comment */
#define CACHE_MIN 1024

typedef struct entry {
    char *text;                  /* NULL: empty slot */
    int height;
    int w, h, dx, dy;
    int ok;                      /* 0: libass drew nothing */
} entry;

struct dm_ass_measure {
    ASS_Library *lib;
    ASS_Renderer *renderer;
    ASS_Track *track;
    dm_layout_opts lo;           /* the stage the output is for */
    dm_ass_opts ass;             /* the writer's settings */
    int margin;                  /* where the measured text's anchor goes */
    entry *cache;                /* open addressing, cap a power of two */
    size_t cache_n, cache_cap;
};

static void quiet(int level, const char *fmt, va_list va, void *ud)
{
    (void)level;
    (void)fmt;
    (void)va;
    (void)ud;
}

dm_ass_measure *dm_ass_measure_new(const dm_layout_opts *lo, const dm_ass_opts *ass, char *err, size_t errlen)
{
    dm_ass_measure *m = calloc(1, sizeof *m);
    dm_layout_opts wide;
    char *header = NULL;
    size_t len = 0;
    FILE *f;

    if (!m)
        goto nomem;
    m->lo = *lo;
    m->ass = *ass;
    m->ass.anchor = NULL;
    m->margin = 2 * lo->font_px + 16;
    m->lib = ass_library_init();
    if (!m->lib) {
        dm_set_err(err, errlen, "cannot start libass");
        goto fail;
    }
    ass_set_message_cb(m->lib, quiet, NULL);
    m->renderer = ass_renderer_init(m->lib);
    m->track = ass_new_track(m->lib);
    if (!m->renderer || !m->track) {
        dm_set_err(err, errlen, "cannot start libass's renderer");
        goto fail;
    }
    /* the output's styles, on a stage as tall and far wider, at one pixel per unit */
    wide = *lo;
    wide.stage_w = MEASURE_W;
    f = open_memstream(&header, &len);
    if (!f)
        goto nomem;
    dm_write_ass_header(f, &wide, &m->ass);
    if (fclose(f) || !header)
        goto nomem;
    ass_process_data(m->track, header, (int)len);
    free(header);
    ass_set_frame_size(m->renderer, MEASURE_W, lo->stage_h);
    ass_set_storage_size(m->renderer, MEASURE_W, lo->stage_h);
    ass_set_fonts(m->renderer, NULL, "sans-serif", ASS_FONTPROVIDER_AUTODETECT, NULL, 1);
    m->cache_cap = CACHE_MIN;
    m->cache = calloc(m->cache_cap, sizeof *m->cache);
    if (!m->cache)
        goto nomem;
    return m;
nomem:
    dm_set_err(err, errlen, "out of memory");
fail:
    dm_ass_measure_free(&m);
    return NULL;
}

void dm_ass_measure_free(dm_ass_measure **pm)
{
    dm_ass_measure *m = pm ? *pm : NULL;

    if (!m)
        return;
    for (size_t i = 0; m->cache && i < m->cache_cap; i++)
        free(m->cache[i].text);
    free(m->cache);
    if (m->track)
        ass_free_track(m->track);
    if (m->renderer)
        ass_renderer_done(m->renderer);
    if (m->lib)
        ass_library_done(m->lib);
    free(m);
    *pm = NULL;
}

int dm_ass_ink_box(const ASS_Image *img, int *x0, int *y0, int *x1, int *y1)
{
    int found = 0;

    *x0 = *y0 = INT32_MAX;
    *x1 = *y1 = INT32_MIN;
    for (; img; img = img->next) {
        if ((img->color & 0xFF) == 0xFF)
            continue;   /* fully transparent */
        for (int y = 0; y < img->h; y++) {
            const unsigned char *row = img->bitmap + (size_t)y * img->stride;
            int first = -1, last = -1;
            for (int x = 0; x < img->w; x++)
                if (row[x]) {
                    if (first < 0)
                        first = x;
                    last = x;
                }
            if (first < 0)
                continue;
            found = 1;
            if (img->dst_x + first < *x0)
                *x0 = img->dst_x + first;
            if (img->dst_x + last + 1 > *x1)
                *x1 = img->dst_x + last + 1;
            if (img->dst_y + y < *y0)
                *y0 = img->dst_y + y;
            if (img->dst_y + y + 1 > *y1)
                *y1 = img->dst_y + y + 1;
        }
    }
    return found ? 0 : -1;
}

static uint64_t hash_of(const char *text, int height)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)height;

    for (; *text; text++)
        h = (h ^ (unsigned char)*text) * 1099511628211ull;
    return h;
}

static entry *find(dm_ass_measure *m, const char *text, int height)
{
    size_t i = (size_t)hash_of(text, height) & (m->cache_cap - 1);

    while (m->cache[i].text && (m->cache[i].height != height || strcmp(m->cache[i].text, text)))
        i = (i + 1) & (m->cache_cap - 1);
    return &m->cache[i];
}

static int grow(dm_ass_measure *m)
{
    size_t cap = m->cache_cap * 2;
    entry *old = m->cache, *v = calloc(cap, sizeof *v);

    if (!v)
        return DM_ENOMEM;
    m->cache = v;
    m->cache_cap = cap;
    for (size_t i = 0; i < cap / 2; i++)
        if (old[i].text)
            *find(m, old[i].text, old[i].height) = old[i];
    free(old);
    return 0;
}

/* The size class whose box height is height_px (the style to measure with). */
static dm_size size_of(const dm_ass_measure *m, int height_px)
{
    for (int s = 0; s < DM_SIZE_COUNT; s++)
        if (dm_layout_height_px(&m->lo, (dm_size)s) == height_px)
            return (dm_size)s;
    return DM_SIZE_NORMAL;
}

/* Render the text alone at the anchor (margin, margin) and take its ink's box. */
static int measure(dm_ass_measure *m, const char *text, int height_px, entry *e)
{
    dm_size size = size_of(m, height_px);
    char *ass_text = dm_ass_text(text, m->ass.emoji_font), *line;
    int len, x0, y0, x1, y1, changed, o = m->ass.outline_px, fs = (int)(m->ass.font_size[size] + 0.5);
    ASS_Image *img;

    if (!ass_text)
        return DM_ENOMEM;
    len = snprintf(NULL, 0, "Dialogue: 0,0:00:00.00,0:01:00.00,%s,,0,0,0,,{\\an7\\pos(%d,%d)}%s",
                   dm_ass_style_name(size), m->margin, m->margin, ass_text);
    line = malloc((size_t)len + 1);
    if (!line) {
        free(ass_text);
        return DM_ENOMEM;
    }
    snprintf(line, (size_t)len + 1, "Dialogue: 0,0:00:00.00,0:01:00.00,%s,,0,0,0,,{\\an7\\pos(%d,%d)}%s",
             dm_ass_style_name(size), m->margin, m->margin, ass_text);
    free(ass_text);
    ass_flush_events(m->track);
    ass_process_data(m->track, line, len);
    free(line);
    img = ass_render_frame(m->renderer, m->track, 10, &changed);
    e->ok = dm_ass_ink_box(img, &x0, &y0, &x1, &y1) == 0;
    if (!e->ok)
        return 0;
    /* at least the line box: the anchor is the text's top-left, inside the outline */
    if (x0 > m->margin - o)
        x0 = m->margin - o;
    if (y0 > m->margin - o)
        y0 = m->margin - o;
    if (y1 < m->margin + fs + o)
        y1 = m->margin + fs + o;
    e->w = x1 - x0;
    e->h = y1 - y0;
    e->dx = m->margin - x0;
    e->dy = m->margin - y0;
    return 0;
}

static const entry *lookup(dm_ass_measure *m, const char *text, int height_px, int *err)
{
    entry *e;

    *err = 0;
    if ((m->cache_n + 1) * 2 > m->cache_cap && (*err = grow(m)) != 0)
        return NULL;
    e = find(m, text, height_px);
    if (e->text)
        return e;
    if ((*err = measure(m, text, height_px, e)) != 0)
        return NULL;
    e->text = strdup(text);
    if (!e->text) {
        *err = DM_ENOMEM;
        return NULL;
    }
    e->height = height_px;
    m->cache_n++;
    return e;
}

int dm_ass_measure_text(void *ud, const char *text, int height_px, int *w, int *h)
{
    int err;
    const entry *e = lookup(ud, text, height_px, &err);

    if (!e)
        return err;
    if (!e->ok)
        return DM_EINVAL;
    *w = e->w;
    *h = e->h;
    return 0;
}

int dm_ass_measure_anchor(void *ud, const char *text, int height_px, int *dx, int *dy)
{
    int err;
    const entry *e = lookup(ud, text, height_px, &err);

    if (!e)
        return err;
    if (!e->ok)
        return DM_EINVAL;
    *dx = e->dx;
    *dy = e->dy;
    return 0;
}
