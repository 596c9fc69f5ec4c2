/* write_ass.c - ASS subtitle writer: each shown comment with the position the
 * layout engine computed (\move or \pos), so that any ASS renderer plays the
 * track with the same collision-free layout. */
#include "danmaku.h"

#include <math.h>
#include <string.h>

static const char *const style_names[DM_SIZE_COUNT] = { "Small", "Normal", "Large" };

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

/*
 * Write comment text so that it can never be read as ASS markup: a newline
 * becomes \N; '{' and '}' (which would open an override block) become their
 * fullwidth forms; a backslash is followed by a word joiner (zero width), so
 * that "\N", "\h" or "\n" typed by the audience stay literal text.
 */
static void put_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n')
            fputs("\\N", out);
        else if (ch == '{')
            fputs("\xEF\xBD\x9B", out);
        else if (ch == '}')
            fputs("\xEF\xBD\x9D", out);
        else if (ch == '\\')
            fputs("\\\xE2\x81\xA0", out);
        else if (ch >= 0x20)
            fputc(ch, out);
    }
}

/* Font names with commas would break the comma-separated style line. */
static void put_font_name(FILE *out, const char *name)
{
    for (; *name; name++)
        fputc(*name == ',' ? ' ' : *name, out);
}

static void write_header(FILE *out, const dm_layout_opts *lopts, const dm_ass_opts *aopts)
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
    write_header(out, lopts, aopts);
    for (size_t i = 0; i < track->count; i++) {
        const dm_comment *c = &track->items[i];
        const dm_placed *p = &placed[i];
        int64_t start = p->start_ms > 0 ? p->start_ms : 0;
        int64_t end = p->end_ms > start ? p->end_ms : start;
        /* Centisecond event bounds that contain [start, end]; the tag times
         * below are in ms from the event start, so motion keeps ms timing. */
        int64_t start_cs = start / 10, end_cs = (end + 9) / 10;
        int64_t t1 = start - start_cs * 10, t2 = end - start_cs * 10;
        long o = aopts->outline_px;
        dm_size size = (unsigned)c->size < DM_SIZE_COUNT ? c->size : DM_SIZE_NORMAL;

        if (!p->shown)
            continue;
        fprintf(out, "Dialogue: %d,", p->layer);
        put_time(out, start_cs);
        fputc(',', out);
        put_time(out, end_cs);
        fprintf(out, ",%s,,0,0,0,,{\\an7", style_names[size]);
        if (p->mode == DM_MODE_POSITIONED && c->pos)
            put_positioned(out, c->pos, lopts, aopts, t1, t2);
        else if (p->x_start != p->x_end)
            fprintf(out, "\\move(%ld,%ld,%ld,%ld,%lld,%lld)", (long)p->x_start + o,
                    (long)p->y + o, (long)p->x_end + o, (long)p->y + o, (long long)t1,
                    (long long)t2);
        else
            fprintf(out, "\\pos(%ld,%ld)", (long)p->x_start + o, (long)p->y + o);
        if ((c->color & 0xFFFFFF) != 0xFFFFFF)
            fprintf(out, "\\c&H%02X%02X%02X&", (unsigned)(c->color & 0xFF),
                    (unsigned)((c->color >> 8) & 0xFF), (unsigned)((c->color >> 16) & 0xFF));
        fputc('}', out);
        put_text(out, texts && texts[i] ? texts[i] : c->text);
        fputc('\n', out);
    }
    if (fflush(out) == EOF || ferror(out)) {
        dm_diag_error(diag, "write error while writing ASS");
        return DM_EIO;
    }
    return 0;
}
