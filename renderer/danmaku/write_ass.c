/* write_ass.c - ASS subtitle writer: each shown comment with the position the
 * layout engine computed (\move or \pos), so that any ASS renderer plays the
 * track with the same collision-free layout. */
#include "danmaku.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define POSITIONED_LAYER 2   /* over the lanes' layers (0, and 1 for the overlay policy) */

static const char *const style_names[DM_SIZE_COUNT] = { "Small", "Normal", "Large" };

const char *dm_ass_style_name(dm_size size)
{
    return style_names[(unsigned)size < DM_SIZE_COUNT ? size : DM_SIZE_NORMAL];
}

/* ASS alpha byte (0 opaque, 255 transparent) of an opacity 0..1. */
static unsigned alpha_byte(double opacity)
{
    if (!(opacity >= 0))
        opacity = 0;
    if (opacity > 1)
        opacity = 1;
    return 255u - (unsigned)lround(opacity * 255.0);
}

/* h:mm:ss.cc from centiseconds. */
static void put_time(FILE *out, int64_t cs)
{
    if (cs < 0)
        cs = 0;
    fprintf(out, "%lld:%02d:%02d.%02d", (long long)(cs / 360000), (int)(cs / 6000 % 60),
            (int)(cs / 100 % 60), (int)(cs % 100));
}

/* The code point at s (valid UTF-8, as sanitised text is) and its length. */
static unsigned next_cp(const unsigned char *s, int *len)
{
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if ((s[0] & 0xE0) == 0xC0 && s[1]) {
        *len = 2;
        return (s[0] & 0x1Fu) << 6 | (s[1] & 0x3Fu);
    }
    if ((s[0] & 0xF0) == 0xE0 && s[1] && s[2]) {
        *len = 3;
        return (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
    }
    if ((s[0] & 0xF8) == 0xF0 && s[1] && s[2] && s[3]) {
        *len = 4;
        return (s[0] & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
    }
    *len = 1;
    return s[0];
}

/* Emoji pictographs (the planes libass's colour-less fonts miss), and what joins them. */
static int is_emoji(unsigned cp, int in_run)
{
    if (cp >= 0x1F000 && cp <= 0x1FAFF)
        return 1;
    return in_run && (cp == 0x200D || cp == 0xFE0F || (cp >= 0x2600 && cp <= 0x27BF));
}

typedef struct buf {
    char *p;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *p;
        while (cap < b->n + len + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}

char *dm_ass_text(const char *text, const char *emoji_font)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    buf b = { 0 };
    int in_run = 0;

    put(&b, "", 0);
    while (*s) {
        int len;
        unsigned cp = next_cp(s, &len);
        int emoji = emoji_font && emoji_font[0] && is_emoji(cp, in_run);
        if (emoji != in_run) {
            if (emoji) {
                put(&b, "{\\fn", 4);
                put(&b, emoji_font, strlen(emoji_font));
                put(&b, "}", 1);
            } else {
                put(&b, "{\\fn}", 5);
            }
            in_run = emoji;
        }
        if (cp == '\n')
            put(&b, "\\N", 2);
        else if (cp == '{')
            put(&b, "\xEF\xBD\x9B", 3);
        else if (cp == '}')
            put(&b, "\xEF\xBD\x9D", 3);
        else if (cp == '\\')
            put(&b, "\\\xE2\x81\xA0", 4);
        else if (cp >= 0x20)
            put(&b, (const char *)s, (size_t)len);
        s += len;
    }
    if (in_run)
        put(&b, "{\\fn}", 5);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Font names with commas would break the comma-separated style line. */
static void put_font_name(FILE *out, const char *name)
{
    for (; *name; name++)
        fputc(*name == ',' ? ' ' : *name, out);
}

void dm_write_ass_header(FILE *out, const dm_layout_opts *lopts, const dm_ass_opts *aopts)
{
    unsigned a = alpha_byte(aopts->opacity);

    fprintf(out, "[Script Info]\n"
                 "; Comment track with its layout, written by danmaku\n"
                 "ScriptType: v4.00+\n"
                 "PlayResX: %d\n"
                 "PlayResY: %d\n"
                 "WrapStyle: 2\n"
                 "ScaledBorderAndShadow: yes\n"
                 "YCbCr Matrix: None\n\n",
            lopts->stage_w, lopts->stage_h);
    fputs("[V4+ Styles]\n"
          "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
          "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
          "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n",
          out);
    for (int s = 0; s < DM_SIZE_COUNT; s++) {
        fprintf(out, "Style: %s,", style_names[s]);
        put_font_name(out, aopts->font_name && aopts->font_name[0] ? aopts->font_name
                                                                   : "sans-serif");
        fprintf(out, ",%.6g,&H%02XFFFFFF,&H%02XFFFFFF,&H%02X000000,&H%02X000000,"
                     "0,0,0,0,100,100,0,0,1,%d,0,7,0,0,0,1\n",
                aopts->font_size[s], a, a, a, a, aopts->outline_px);
    }
    fputs("\n[Events]\n"
          "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
          out);
}

/* Position tags of a positioned comment; t0 is its birth within the event. */
static void put_positioned(FILE *out, const dm_positioned *p, const dm_layout_opts *lopts,
                           const dm_ass_opts *aopts, int64_t t0, int64_t t_end)
{
    long o = aopts->outline_px;
    long x0 = lround(p->x0 * lopts->stage_w) + o, y0 = lround(p->y0 * lopts->stage_h) + o;
    long x1 = lround(p->x1 * lopts->stage_w) + o, y1 = lround(p->y1 * lopts->stage_h) + o;
    unsigned a0 = alpha_byte(aopts->opacity * p->alpha0);
    unsigned a1 = alpha_byte(aopts->opacity * p->alpha1);

    if (p->move_ms > 0 && (x0 != x1 || y0 != y1))
        fprintf(out, "\\move(%ld,%ld,%ld,%ld,%lld,%lld)", x0, y0, x1, y1,
                (long long)(t0 + p->move_delay_ms),
                (long long)(t0 + p->move_delay_ms + p->move_ms));
    else
        fprintf(out, "\\pos(%ld,%ld)", x0, y0);
    if (!p->outline)
        fputs("\\bord0", out);
    if (a0 != alpha_byte(aopts->opacity) || a0 != a1)
        fprintf(out, "\\alpha&H%02X&", a0);
    if (a0 != a1)
        fprintf(out, "\\t(%lld,%lld,\\alpha&H%02X&)", (long long)t0, (long long)t_end, a1);
}

int dm_write_ass(const dm_track *track, const dm_placed *placed, char *const *texts,
                 const dm_layout_opts *lopts, const dm_ass_opts *aopts, FILE *out, dm_diag *diag)
{
    if (!track || (!placed && track->count) || !lopts || !aopts || !out) {
        dm_diag_error(diag, "dm_write_ass: missing track, placements, options or output");
        return DM_EINVAL;
    }
    if (lopts->stage_w <= 0 || lopts->stage_h <= 0) {
        dm_diag_error(diag, "ASS: stage size %dx%d is not positive", lopts->stage_w,
                      lopts->stage_h);
        return DM_EINVAL;
    }
    for (int s = 0; s < DM_SIZE_COUNT; s++) {
        if (!(aopts->font_size[s] > 0)) {
            dm_diag_error(diag, "ASS: font size of %s comments is not positive", style_names[s]);
            return DM_EINVAL;
        }
    }
    dm_write_ass_header(out, lopts, aopts);
    for (size_t i = 0; i < track->count; i++) {
        const dm_comment *c = &track->items[i];
        const dm_placed *p = &placed[i];
        const char *shown_text = texts && texts[i] ? texts[i] : c->text;
        int64_t start = p->start_ms > 0 ? p->start_ms : 0;
        int64_t end = p->end_ms > start ? p->end_ms : start;
        int lanes = p->mode != DM_MODE_POSITIONED;
        /* Centisecond event bounds inside the comment's life, so it never
         * meets the comment before or after it in its lanes; a moving one
         * moves over the whole event, from where it is at the event's start
         * to where it is at its end (to 1/100 px): its motion stays exact. */
        int64_t start_cs = lanes ? (start + 9) / 10 : start / 10, end_cs = lanes ? end / 10 : (end + 9) / 10;
        int64_t t1 = start - start_cs * 10, t2 = end - start_cs * 10;
        int dx = aopts->outline_px, dy = aopts->outline_px;
        dm_size size = (unsigned)c->size < DM_SIZE_COUNT ? c->size : DM_SIZE_NORMAL;
        char *text;

        if (!p->shown || end_cs <= start_cs)
            continue;
        if (aopts->anchor && p->mode != DM_MODE_POSITIONED &&
            aopts->anchor(aopts->anchor_ud, shown_text, dm_layout_height_px(lopts, size), &dx, &dy)) {
            dm_diag_error(diag, "ASS: cannot place comment %zu (its text could not be measured)", i);
            return DM_EINVAL;
        }
        text = dm_ass_text(shown_text, aopts->emoji_font);
        if (!text) {
            dm_diag_error(diag, "out of memory writing ASS");
            return DM_ENOMEM;
        }
        fprintf(out, "Dialogue: %d,", p->mode == DM_MODE_POSITIONED ? POSITIONED_LAYER : p->layer);
        put_time(out, start_cs);
        fputc(',', out);
        put_time(out, end_cs);
        fprintf(out, ",%s,%s,0,0,0,,{\\an7", style_names[size], dm_mode_name((dm_mode)p->mode));
        if (p->mode == DM_MODE_POSITIONED && c->pos)
            put_positioned(out, c->pos, lopts, aopts, t1, t2);
        else if (p->x_start != p->x_end)
            fprintf(out, "\\move(%.6g,%ld,%.6g,%ld)", round(100 * (dm_placed_x_at(p, start_cs * 10) + dx)) / 100,
                    (long)p->y + dy, round(100 * (dm_placed_x_at(p, end_cs * 10) + dx)) / 100, (long)p->y + dy);
        else
            fprintf(out, "\\pos(%ld,%ld)", (long)p->x_start + dx, (long)p->y + dy);
        if ((c->color & 0xFFFFFF) != 0xFFFFFF)
            fprintf(out, "\\c&H%02X%02X%02X&", (unsigned)(c->color & 0xFF),
                    (unsigned)((c->color >> 8) & 0xFF), (unsigned)((c->color >> 16) & 0xFF));
        if (dm_outline_rgb(c) != 0x000000)   /* the style's outline is black */
            fprintf(out, "\\3c&H%02X%02X%02X&", (unsigned)(dm_outline_rgb(c) & 0xFF),
                    (unsigned)((dm_outline_rgb(c) >> 8) & 0xFF), (unsigned)((dm_outline_rgb(c) >> 16) & 0xFF));
        fputc('}', out);
        fputs(text, out);
        fputc('\n', out);
        free(text);
    }
    if (fflush(out) == EOF || ferror(out)) {
        dm_diag_error(diag, "write error while writing ASS");
        return DM_EIO;
    }
    return 0;
}
