/*
 * subs_limits.c - bounds on the sizes a subtitle script may ask libass to
 * draw. libass allocates a glyph's bitmap at its full drawn size, whatever
 * the frame: one `{\fscx9000\fscy9000}` line, a chain of `\fs+100` or a
 * drawing with a coordinate of a million asks for gigabytes (libass issue
 * #928, open upstream). A hostile or broken subtitle file must never take the
 * film down, so every track handed to libass passes through here first.
 *
 * The bounds are in the script's own units (PlayResX/PlayResY), so they scale
 * with the frame as the script does, and they are far beyond what a real
 * script uses (a glyph at most as tall as the whole script, stretched at most
 * four times; borders and shadows at most an eighth of its height):
 *
 *   font size (style Fontsize, \fs, \fs+, \fs-)   <= PlayRes (the smaller side)
 *   \fscx \fscy (style ScaleX, ScaleY)            <= 400 %
 *   \bord \xbord \ybord \shad \xshad \yshad       <= PlayResY / 8
 *   \fsp (style Spacing)                          <= half the smaller side
 *   drawing and vector clip coordinates           within twice PlayRes, at the drawing's \p scale
 *
 * A value beyond its bound is written as the bound, and the track's report
 * counts the values so limited. Relative font sizes are followed as libass
 * applies them (\fs+N multiplies by 1 + N/10; \r goes back to the style's).
 */
#include "subs_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct limits {
    double fs, scale, border, spacing;  /* script units (scale in %) */
    double draw_x, draw_y;              /* drawing coordinates at \p1 */
} limits;

typedef struct outbuf {
    char *p;
    size_t n, cap;
    int failed;
} outbuf;

static void out_put(outbuf *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 64;
        while (cap < o->n + n + 1)
            cap *= 2;
        char *q = realloc(o->p, cap);
        if (!q) {
            o->failed = 1;
            return;
        }
        o->p = q;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = 0;
}

/* A number as libass reads it: [+-]digits[.digits][e[+-]digits]. Returns
 * the bytes it spans (0 when there is none) and its value in *v, computed
 * without the locale's decimal point. */
static size_t scan_number(const char *s, double *v)
{
    size_t i = 0;
    double m = 0, sign = 1;
    int digits = 0, e = 0, esign = 1, frac = 0;

    if (s[i] == '+' || s[i] == '-')
        sign = s[i++] == '-' ? -1 : 1;
    for (; s[i] >= '0' && s[i] <= '9'; i++, digits++)
        m = m * 10 + (s[i] - '0');
    if (s[i] == '.') {
        i++;
        for (; s[i] >= '0' && s[i] <= '9'; i++, digits++, frac++)
            m = m * 10 + (s[i] - '0');
    }
    if (!digits)
        return 0;
    if ((s[i] == 'e' || s[i] == 'E') &&
        ((s[i + 1] >= '0' && s[i + 1] <= '9') ||
         ((s[i + 1] == '+' || s[i + 1] == '-') && s[i + 2] >= '0' && s[i + 2] <= '9'))) {
        i++;
        if (s[i] == '+' || s[i] == '-')
            esign = s[i++] == '-' ? -1 : 1;
        for (; s[i] >= '0' && s[i] <= '9'; i++)
            if (e < 10000)
                e = e * 10 + (s[i] - '0');
    }
    *v = sign * m * pow(10, esign * e - frac);
    return i;
}

/* Writes the bound in place of a value beyond it: an integer, so no locale
 * or precision question arises. */
static void put_bound(outbuf *o, double bound, int negative)
{
    char num[32];
    int n = snprintf(num, sizeof num, "%s%lld", negative ? "-" : "", (long long)floor(bound));
    out_put(o, num, (size_t)n);
}

/* Copies the numbers of a drawing (or a vector clip) with each coordinate
 * kept within the drawing bounds; pairs alternate x, y. */
static const char *copy_drawing(outbuf *o, const char *s, const char *stop, const limits *l, int p,
                                size_t *limited)
{
    double scale = ldexp(1, (p < 1 ? 1 : p > 60 ? 60 : p) - 1);
    int axis = 0;

    while (*s && !strchr(stop, *s)) {
        double v;
        size_t n = scan_number(s, &v);
        if (n) {
            double bound = (axis ? l->draw_y : l->draw_x) * scale;
            if (!(fabs(v) <= bound)) {
                put_bound(o, bound, v < 0);
                (*limited)++;
            } else {
                out_put(o, s, n);
            }
            axis ^= 1;
            s += n;
        } else {
            if (strchr("mnlbspc", *s))
                axis = 0;  /* a new command starts with an x */
            out_put(o, s, 1);
            s++;
        }
    }
    return s;
}

typedef struct tag_rule {
    const char *name;  /* after the backslash, longest first among shared prefixes */
    int kind;
} tag_rule;

enum { TAG_FS, TAG_FS_REL, TAG_SCALE, TAG_BORDER, TAG_SPACING, TAG_CLIP, TAG_DRAW, TAG_RESET, TAG_OTHER };

/* the tags whose values make bitmaps grow; the others are copied as they are */
static const tag_rule tag_rules[] = {
    {"fscx", TAG_SCALE}, {"fscy", TAG_SCALE}, {"fsp", TAG_SPACING}, {"fs+", TAG_FS_REL}, {"fs-", TAG_FS_REL},
    {"fsc", TAG_OTHER},  {"fs", TAG_FS},      {"xbord", TAG_BORDER}, {"ybord", TAG_BORDER}, {"bord", TAG_BORDER},
    {"xshad", TAG_BORDER}, {"yshad", TAG_BORDER}, {"shad", TAG_BORDER}, {"iclip", TAG_CLIP}, {"clip", TAG_CLIP},
    {"pos", TAG_OTHER},  {"pbo", TAG_OTHER},  {"p", TAG_DRAW},       {"r", TAG_RESET},
};

static const ASS_Style *style_named(const ASS_Track *t, const char *name, size_t len, const ASS_Style *dflt)
{
    for (int i = t->n_styles - 1; i >= 0; i--)
        if (t->styles[i].Name && strlen(t->styles[i].Name) == len && !strncmp(t->styles[i].Name, name, len))
            return &t->styles[i];
    return dflt;
}

/* Rewrites one event's text into o; returns the values limited. */
static size_t limit_text(outbuf *o, const char *s, const ASS_Track *t, const ASS_Style *style, const limits *l)
{
    double fs = style ? style->FontSize : l->fs;
    int p = 0;
    size_t limited = 0;

    while (*s) {
        if (*s != '{') {
            if (p > 0) {
                s = copy_drawing(o, s, "{", l, p, &limited);
            } else {
                const char *b = strchr(s, '{');
                size_t n = b ? (size_t)(b - s) : strlen(s);
                out_put(o, s, n);
                s += n;
            }
            continue;
        }
        /* an override block: tags up to the closing brace */
        out_put(o, s++, 1);
        while (*s && *s != '}') {
            const tag_rule *rule = NULL;
            double v;
            size_t n;

            if (*s != '\\') {
                out_put(o, s++, 1);
                continue;
            }
            out_put(o, s++, 1);
            for (size_t i = 0; i < sizeof tag_rules / sizeof tag_rules[0]; i++)
                if (!strncmp(s, tag_rules[i].name, strlen(tag_rules[i].name))) {
                    rule = &tag_rules[i];
                    break;
                }
            if (!rule || rule->kind == TAG_OTHER)
                continue;  /* copied by the loop, byte by byte */
            n = strlen(rule->name);
            switch (rule->kind) {
            case TAG_FS_REL: {
                /* libass: the size now times 1 + N / 10 for \fs+N, 1 - N / 10
                 * for \fs-N (N may carry its own sign); <= 0 is the style's */
                size_t k = scan_number(s + n, &v);
                double next;
                if (!k) {
                    out_put(o, s, n);
                    s += n;
                    break;
                }
                next = fs * (1 + (s[n - 1] == '+' ? v : -v) / 10);
                if (!(next <= l->fs)) {
                    out_put(o, s, n - 1);
                    put_bound(o, l->fs, 0);
                    limited++;
                    fs = l->fs;
                } else {
                    out_put(o, s, n + k);
                    fs = next > 0 ? next : (style ? style->FontSize : l->fs);
                }
                s += n + k;
                break;
            }
            case TAG_FS:
            case TAG_SCALE:
            case TAG_BORDER:
            case TAG_SPACING: {
                double bound = rule->kind == TAG_SCALE ? l->scale
                             : rule->kind == TAG_BORDER ? l->border
                             : rule->kind == TAG_SPACING ? l->spacing : l->fs;
                size_t k;
                out_put(o, s, n);
                s += n;
                k = scan_number(s, &v);
                if (!k)
                    break;
                if (!(fabs(v) <= bound)) {
                    put_bound(o, bound, v < 0);
                    limited++;
                    if (rule->kind == TAG_FS)
                        fs = bound;
                } else {
                    out_put(o, s, k);
                    if (rule->kind == TAG_FS)
                        fs = v > 0 ? v : (style ? style->FontSize : l->fs);
                }
                s += k;
                break;
            }
            case TAG_CLIP: {
                /* a vector clip is a drawing: \clip([scale,] drawing) */
                const char *close;
                out_put(o, s, n);
                s += n;
                if (*s != '(')
                    break;
                close = strpbrk(s, ")}");
                if (!close)
                    close = s + strlen(s);
                if (memchr(s, 'm', (size_t)(close - s)) || memchr(s, 'l', (size_t)(close - s))) {
                    int cp = 1;
                    const char *q = s + 1;
                    size_t k = scan_number(q, &v);
                    out_put(o, s++, 1);
                    /* a leading "N," is the clip's own scale */
                    if (k && q[k] == ',') {
                        cp = v >= 1 ? (v > 60 ? 60 : (int)v) : 1;
                        out_put(o, q, k + 1);
                        s = q + k + 1;
                    }
                    s = copy_drawing(o, s, ")}", l, cp, &limited);
                }
                break;
            }
            case TAG_DRAW:
                out_put(o, s, n);
                s += n;
                n = scan_number(s, &v);
                p = n && v >= 1 ? (v > 60 ? 60 : (int)v) : 0;
                out_put(o, s, n);
                s += n;
                break;
            case TAG_RESET: {
                const char *e = s + 1;
                while (*e && *e != '\\' && *e != '}')
                    e++;
                const ASS_Style *to = style_named(t, s + 1, (size_t)(e - s - 1), style);
                fs = to ? to->FontSize : l->fs;
                out_put(o, s, 1);
                s++;
                break;
            }
            }
        }
        if (*s == '}')
            out_put(o, s++, 1);
    }
    return limited;
}

static double clamp_abs(double v, double bound, size_t *limited)
{
    if (fabs(v) <= bound)
        return v;  /* NaN is beyond every bound */
    (*limited)++;
    return v < 0 ? -bound : bound;
}

size_t subs_limit_track(ASS_Track *t)
{
    double pw = t->PlayResX > 0 ? t->PlayResX : t->PlayResY > 0 ? t->PlayResY * 4.0 / 3 : 384;
    double ph = t->PlayResY > 0 ? t->PlayResY : pw * 3 / 4;
    double side = pw < ph ? pw : ph;
    limits l = {
        .fs = side,
        .scale = 400,
        .border = ph / 8,
        .spacing = side / 2,
        .draw_x = 2 * pw,
        .draw_y = 2 * ph,
    };
    size_t limited = 0;

    for (int i = 0; i < t->n_styles; i++) {
        ASS_Style *st = &t->styles[i];
        st->FontSize = clamp_abs(st->FontSize, l.fs, &limited);
        st->ScaleX = clamp_abs(st->ScaleX, l.scale / 100, &limited);
        st->ScaleY = clamp_abs(st->ScaleY, l.scale / 100, &limited);
        st->Outline = clamp_abs(st->Outline, l.border, &limited);
        st->Shadow = clamp_abs(st->Shadow, l.border, &limited);
        st->Spacing = clamp_abs(st->Spacing, l.spacing, &limited);
    }
    for (int i = 0; i < t->n_events; i++) {
        ASS_Event *ev = &t->events[i];
        const ASS_Style *style = ev->Style >= 0 && ev->Style < t->n_styles ? &t->styles[ev->Style] : NULL;
        outbuf o = {0};
        size_t n;

        if (!ev->Text || !strpbrk(ev->Text, "{\\"))
            continue;  /* plain text: no tag, no drawing */
        n = limit_text(&o, ev->Text, t, style, &l);
        if (n && !o.failed) {
            free(ev->Text);
            ev->Text = o.p;
            limited += n;
        } else {
            free(o.p);
            if (n)
                ev->Text[0] = 0;  /* no memory for the bounded text: nothing drawn, not the unbounded one */
        }
    }
    return limited;
}
