/*
 * read_ass.c - ASS files that comment converters wrote (danmaku2ass,
 * DanmakuFactory, our own dm_write_ass) read back into comments: each
 * Dialogue event is one comment, its mode told by its override tags.
 *
 *   \move(x1,y,x2,y)          scrolling (x2 < x1) or reverse (x2 > x1);
 *                             any other motion is a positioned comment
 *   \pos(x,y)                 top or bottom: the style's or the event's
 *                             name first (DanmakuFactory's TOP, BTM, SP;
 *                             "top", "bottom", "positioned"), then the
 *                             alignment (\an8 top, \an2 bottom:
 *                             danmaku2ass), then the half of the stage
 *   neither                   a plain subtitle line: top when aligned to
 *                             the top, else bottom
 *
 * The colour is the last \c (or \1c) of the text, else the style's primary
 * colour; the size class is the font size (\fs, else the style's) against
 * the style's. Text: override blocks are dropped, \N and \n are newlines,
 * \h a space, and the escapes danmaku2ass writes (\{ \} \\) are undone.
 * Events that are no comments (DanmakuFactory's message box and statistics,
 * drawings, Comment: lines) are counted in one warning each.
 */
#include "danmaku.h"
#include "internal_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_STYLES 256
#define MAX_FIELDS 32
/* Times past this (about 115 days) are corrupt, not film times. */
#define MAX_TIME_MS 1e10
/* Far off the stage is as invisible as just off it: positions are kept within this many stages. */
#define MAX_POS_FRACTION 100.0
#define MAX_MOVE_MS 3600000.0

typedef struct ass_style {
    char name[64];            /* Name */
    double size;              /* Fontsize */
    uint32_t color;           /* PrimaryColour as 0xRRGGBB */
    int align;                /* Alignment, numpad (\an) form */
} ass_style;

/* Which tool wrote the file, when its header says so. */
enum { WRITER_OTHER, WRITER_D2A, WRITER_DF, WRITER_OURS };

typedef struct ass_reader {
    dm_track *track;
    dm_diag *diag;
    int section;              /* S_* below */
    int play_w, play_h;       /* PlayResX, PlayResY, 0 when not given */
    int writer;               /* WRITER_* */
    int bt709;                /* danmaku2ass converted the colours to BT.709 (its "YCbCr Matrix: TV.601") */
    int style_fields[MAX_FIELDS]; /* style Format: column -> F_* */
    int nstyle_fields;
    ass_style styles[MAX_STYLES];
    int nstyles;
    int event_fields[MAX_FIELDS]; /* event Format: column -> F_* */
    int nevent_fields;
    int saw_info;             /* a [Script Info] section */
    size_t events;            /* Dialogue lines */
    size_t not_comments;      /* message boxes, statistics, drawings */
    size_t comment_lines;     /* Comment: events */
    size_t too_many_styles;   /* styles past MAX_STYLES */
} ass_reader;

enum { S_NONE, S_INFO, S_STYLES, S_EVENTS, S_OTHER };
enum { F_OTHER, F_NAME, F_FONTSIZE, F_PRIMARY, F_ALIGNMENT, F_START, F_END, F_STYLE, F_ACTOR, F_TEXT };

/* ---------------------------------------------------------------- small parsers */

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

/* A small integer (out of range: 0), without atoi's undefined overflow. */
static int to_int(const char *s)
{
    long v = strtol(s, NULL, 10);

    return v > 1000000 || v < -1000000 ? 0 : (int)v;
}

/* Copy [s, e) trimmed into buf. */
static void copy_field(char *buf, size_t cap, const char *s, const char *e)
{
    size_t n;

    trim(&s, &e);
    n = (size_t)(e - s) < cap - 1 ? (size_t)(e - s) : cap - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
}

/* "h:mm:ss.cc" (also more or fewer fraction digits) in ms; -1 when malformed. */
static int64_t parse_time(const char *s)
{
    unsigned long h, m;
    double sec;
    char *end;

    while (*s == ' ')
        s++;
    errno = 0;
    h = strtoul(s, &end, 10);
    if (end == s || *end != ':')
        return -1;
    s = end + 1;
    m = strtoul(s, &end, 10);
    if (end == s || *end != ':' || m > 59)
        return -1;
    s = end + 1;
    sec = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end || errno || !(sec >= 0 && sec < 60) || h > 100000)
        return -1;
    return (int64_t)h * 3600000 + (int64_t)m * 60000 + llround(sec * 1000.0);
}

/* An ASS colour: "&HAABBGGRR", "&HBBGGRR&" or a decimal number (SSA); 0xRRGGBB, or -1. */
static long parse_color(const char *s, const char **after)
{
    unsigned long v;
    char *end;
    int hex = 0;

    while (*s == ' ')
        s++;
    if (*s == '&')
        s++;
    if (*s == 'H' || *s == 'h') {
        hex = 1;
        s++;
    }
    errno = 0;
    v = strtoul(s, &end, hex ? 16 : 10);
    if (end == s || errno)
        return -1;
    if (*end == '&')
        end++;
    if (after)
        *after = end;
    /* BGR with the alpha byte on top: keep the colour */
    return (long)(((v & 0xFF) << 16) | (v & 0xFF00) | ((v >> 16) & 0xFF));
}

/* SSA's legacy \a alignment to the numpad form of \an. */
static int legacy_align(int a)
{
    int col = a & 3, row = a & 12;

    if (col < 1)
        col = 2;
    return row == 4 ? 6 + col : row == 8 ? 3 + col : col;   /* 4: top, 8: middle, else bottom */
}

/* The colour danmaku2ass wrote for stages of 1280x576 and more: it converted the RGB to BT.709's
 * (its ConvertColor); undo that matrix, so the colour reads back as the track had it. */
static uint32_t undo_bt709(uint32_t rgb)
{
    static const double m[3][3] = {
        { 0.91348912373987645, 0.07858536372532510, 0.00792551253479842 },
        { -0.10493933142075390, 1.17231478191855154, -0.06737545049779757 },
        { 0.00956384088080656, 0.03217254540203729, 0.95826361371715607 },
    };
    double y[3] = { (rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF }, x[3];
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                 m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    uint32_t out = 0;

    if (rgb == 0 || rgb == 0xFFFFFF)
        return rgb;   /* written as they are */
    for (int k = 0; k < 3; k++) {
        double a[3][3];
        memcpy(a, m, sizeof a);
        for (int r = 0; r < 3; r++)
            a[r][k] = y[r];    /* Cramer's rule */
        x[k] = (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])) / det;
    }
    for (int k = 0; k < 3; k++) {
        long v = lround(x[k]);
        out = out << 8 | (uint32_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    return out;
}

/* ---------------------------------------------------------------- sections */

static int field_id(const char *name, int events)
{
    static const struct {
        const char *name;
        int id, events;
    } ids[] = {
        { "name", F_NAME, 0 }, { "fontsize", F_FONTSIZE, 0 }, { "primarycolour", F_PRIMARY, 0 },
        { "primarycolor", F_PRIMARY, 0 }, { "alignment", F_ALIGNMENT, 0 },
        { "start", F_START, 1 }, { "end", F_END, 1 }, { "style", F_STYLE, 1 }, { "name", F_ACTOR, 1 },
        { "actor", F_ACTOR, 1 }, { "text", F_TEXT, 1 },
    };

    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i].events == events && !strcasecmp(name, ids[i].name))
            return ids[i].id;
    return F_OTHER;
}

/* A "Format:" line: the columns of the section's lines. */
static void read_format(const char *s, const char *e, int *fields, int *n, int events)
{
    *n = 0;
    while (s < e && *n < MAX_FIELDS) {
        const char *comma = memchr(s, ',', (size_t)(e - s));
        const char *fe = comma ? comma : e;
        char name[32];
        copy_field(name, sizeof name, s, fe);
        fields[(*n)++] = field_id(name, events);
        s = comma ? comma + 1 : e;
    }
}

static void read_style(ass_reader *r, const char *s, const char *e)
{
    ass_style st = { .size = 0, .color = 0xFFFFFF, .align = 2 };
    char buf[64];

    if (r->nstyles == MAX_STYLES) {
        r->too_many_styles++;
        return;
    }
    if (!r->nstyle_fields) {   /* no Format: line: the one every ASS writer uses */
        static const int dflt[] = { F_NAME, F_OTHER, F_FONTSIZE, F_PRIMARY, F_OTHER, F_OTHER, F_OTHER,
                                    F_OTHER, F_OTHER, F_OTHER, F_OTHER, F_OTHER, F_OTHER, F_OTHER,
                                    F_OTHER, F_OTHER, F_OTHER, F_OTHER, F_ALIGNMENT };
        memcpy(r->style_fields, dflt, sizeof dflt);
        r->nstyle_fields = (int)(sizeof dflt / sizeof dflt[0]);
    }
    for (int i = 0; i < r->nstyle_fields && s <= e; i++) {
        const char *comma = memchr(s, ',', (size_t)(e - s));
        const char *fe = comma ? comma : e;
        copy_field(buf, sizeof buf, s, fe);
        switch (r->style_fields[i]) {
        case F_NAME: snprintf(st.name, sizeof st.name, "%s", buf); break;
        case F_FONTSIZE: st.size = strtod(buf, NULL); break;
        case F_PRIMARY: {
            long c = parse_color(buf, NULL);
            if (c >= 0)
                st.color = (uint32_t)c;
            break;
        }
        case F_ALIGNMENT: st.align = to_int(buf); break;
        default: break;
        }
        if (!comma)
            break;
        s = comma + 1;
    }
    if (!isfinite(st.size) || st.size < 0)
        st.size = 0;
    if (st.align < 1 || st.align > 9)
        st.align = 2;
    r->styles[r->nstyles++] = st;
}

static const ass_style *find_style(const ass_reader *r, const char *name)
{
    const char *n = name;

    while (*n == '*')   /* "*Default": the default style in some writers */
        n++;
    for (int i = 0; i < r->nstyles; i++)
        if (!strcasecmp(r->styles[i].name, n))
            return &r->styles[i];
    return NULL;
}

static void read_info(ass_reader *r, const char *s, const char *e)
{
    char key[32], value[128];
    const char *colon = memchr(s, ':', (size_t)(e - s));

    if (*s == ';' || *s == '!') {   /* comments, where the writers sign */
        copy_field(value, sizeof value, s + 1, e);
        if (strstr(value, "Danmaku2ASS") || strstr(value, "danmaku2ass"))
            r->writer = WRITER_D2A;
        else if (strstr(value, "DanmakuFactory"))
            r->writer = WRITER_DF;
        else if (strstr(value, "written by danmaku"))
            r->writer = WRITER_OURS;
        return;
    }
    if (!colon)
        return;
    copy_field(key, sizeof key, s, colon);
    copy_field(value, sizeof value, colon + 1, e);
    if (!strcasecmp(key, "PlayResX"))
        r->play_w = to_int(value);
    else if (!strcasecmp(key, "PlayResY"))
        r->play_h = to_int(value);
    else if (!strcasecmp(key, "YCbCr Matrix"))
        r->bt709 = !strcasecmp(value, "TV.601");
    else if (!strcasecmp(key, "Script Updated By") && strstr(value, "Danmaku2ASS"))
        r->writer = WRITER_D2A;
}

/* ---------------------------------------------------------------- events */

/* What the override tags of an event say. */
typedef struct ass_tags {
    int has_move, has_pos;
    double x1, y1, x2, y2;    /* \move (x1, y1 .. x2, y2) or \pos (x1, y1) */
    int t1, t2;               /* \move's times within the event, ms (-1: the whole event) */
    int align;                /* \an or \a, 0: the style's */
    long color;               /* last \c, -1: the style's */
    double fs;                /* last \fs, 0: the style's */
    int alpha;                /* \alpha or \1a, -1: none */
    int drawing;              /* \p1 and up: vector drawing, not text */
} ass_tags;

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Numbers in "(a,b,c...)" after a tag; how many were read. */
static int tag_numbers(const char *s, const char *e, double *v, int max)
{
    int n = 0;

    if (s >= e || *s != '(')
        return 0;
    s++;
    while (n < max && s < e) {
        char *end;
        double x = strtod(s, &end);
        if (end == s || !isfinite(x))
            break;
        v[n++] = x;
        s = end;
        while (s < e && *s == ' ')
            s++;
        if (s < e && *s == ',')
            s++;
        else
            break;
    }
    return n;
}

/* Read the tags of one override block [s, e) ("\an8\pos(960,0)"). */
static void read_tags(ass_tags *t, const char *s, const char *e)
{
    while (s < e) {
        const char *tag = memchr(s, '\\', (size_t)(e - s)), *next;
        double v[6];
        if (!tag)
            break;
        tag++;
        next = memchr(tag, '\\', (size_t)(e - tag));
        /* a tag's parentheses may hold backslashes (\t(...\fs20)): skip to their end */
        {
            const char *paren = memchr(tag, '(', (size_t)((next ? next : e) - tag));
            if (paren) {
                const char *close = memchr(paren, ')', (size_t)(e - paren));
                next = close ? memchr(close, '\\', (size_t)(e - close)) : NULL;
            }
        }
        if (!next)
            next = e;
        if (!strncmp(tag, "move", 4) && tag_numbers(tag + 4, next, v, 6) >= 4) {
            int n = tag_numbers(tag + 4, next, v, 6);
            t->has_move = 1;
            t->x1 = v[0], t->y1 = v[1], t->x2 = v[2], t->y2 = v[3];
            t->t1 = n >= 6 ? (int)clampd(v[4], 0, MAX_MOVE_MS) : -1;
            t->t2 = n >= 6 ? (int)clampd(v[5], 0, MAX_MOVE_MS) : -1;
        } else if (!strncmp(tag, "pos", 3) && tag_numbers(tag + 3, next, v, 2) == 2) {
            t->has_pos = 1;
            t->x1 = t->x2 = v[0], t->y1 = t->y2 = v[1];
        } else if (!strncmp(tag, "an", 2) && isdigit((unsigned char)tag[2])) {
            t->align = tag[2] - '0';
        } else if (tag[0] == 'a' && isdigit((unsigned char)tag[1])) {
            t->align = legacy_align(to_int(tag + 1));
        } else if ((tag[0] == 'c' && tag[1] == '&') || (tag[0] == '1' && tag[1] == 'c' && tag[2] == '&')) {
            long c = parse_color(tag + (tag[0] == 'c' ? 1 : 2), NULL);
            if (c >= 0)
                t->color = c;
        } else if (tag[0] == 'f' && tag[1] == 's' && (isdigit((unsigned char)tag[2]) || tag[2] == '.')) {
            double fs = strtod(tag + 2, NULL);
            if (fs > 0 && isfinite(fs))
                t->fs = fs;
        } else if (!strncmp(tag, "alpha&", 6) || !strncmp(tag, "1a&", 3)) {
            const char *h = tag + (tag[0] == 'a' ? 6 : 3);
            if (*h == 'H' || *h == 'h')
                t->alpha = (int)(strtoul(h + 1, NULL, 16) & 0xFF);
        } else if (tag[0] == 'p' && isdigit((unsigned char)tag[1])) {
            t->drawing = to_int(tag + 1) > 0;
        }
        s = next;
    }
}

/*
 * The text of an event without its override blocks, with ASS's line breaks
 * and the escapes converters write undone; the tags into *t. malloc'd.
 */
static char *event_text(const char *s, const char *e, ass_tags *t, int *lines)
{
    char *out = malloc((size_t)(e - s) + 1);
    size_t o = 0;

    *lines = 1;
    if (!out)
        return NULL;
    while (s < e) {
        if (*s == '{') {
            const char *close = memchr(s, '}', (size_t)(e - s));
            if (close) {
                read_tags(t, s + 1, close);
                s = close + 1;
                continue;
            }
        }
        if (*s == '\\' && s + 1 < e) {
            char n = s[1];
            if (n == 'N' || n == 'n') {
                out[o++] = '\n';
                (*lines)++;
                s += 2;
                continue;
            }
            if (n == 'h') {
                out[o++] = ' ';
                s += 2;
                continue;
            }
            if (n == '{' || n == '}' || n == '\\') {   /* danmaku2ass's escapes */
                out[o++] = n;
                s += 2;
                continue;
            }
            if (e - s >= 4 && !memcmp(s + 1, "\xE2\x81\xA0", 3)) {   /* ours: a backslash kept literal */
                out[o++] = '\\';
                s += 4;
                continue;
            }
        }
        out[o++] = *s++;
    }
    out[o] = 0;
    return out;
}

/* 1 when `word` occurs in s, any case. */
static int has_word(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (; *s; s++)
        if (!strncasecmp(s, word, n))
            return 1;
    return 0;
}

/* The mode a style's or an event's name says, -1 when it says none. */
static int mode_from_name(const char *name)
{
    static const struct {
        const char *word;
        dm_mode mode;
    } words[] = {
        { "R2L", DM_MODE_SCROLL }, { "L2R", DM_MODE_REVERSE }, { "TOP", DM_MODE_TOP }, { "BTM", DM_MODE_BOTTOM },
        { "SP", DM_MODE_POSITIONED }, { "scroll", DM_MODE_SCROLL }, { "reverse", DM_MODE_REVERSE },
        { "top", DM_MODE_TOP }, { "bottom", DM_MODE_BOTTOM }, { "positioned", DM_MODE_POSITIONED },
    };

    for (size_t i = 0; name && i < sizeof words / sizeof words[0]; i++)
        if (!strcasecmp(name, words[i].word))
            return (int)words[i].mode;
    for (size_t i = 5; name && i < sizeof words / sizeof words[0]; i++)   /* "Danmaku-top", "positioned-7" */
        if (has_word(name, words[i].word))
            return (int)words[i].mode;
    return -1;
}

static int read_event(ass_reader *r, const char *s, const char *e, unsigned long line_no)
{
    char where[48], style_name[64] = "", actor[64] = "", start_s[32] = "", end_s[32] = "";
    const char *text_s = NULL;
    dm_comment c = { .size = DM_SIZE_NORMAL, .color = 0xFFFFFF, .weight = -1, .count = 1 };
    ass_tags t = { .color = -1, .alpha = -1 };
    dm_positioned pos = { .alpha0 = 1, .alpha1 = 1, .outline = 1 };
    const ass_style *st;
    int64_t start, end;
    int named, align, lines, err;
    double base, fs, w, h;
    char *text;

    snprintf(where, sizeof where, "line %lu", line_no);
    r->events++;
    if (!r->nevent_fields) {   /* no Format: line: ASS's own order */
        static const int dflt[] = { F_OTHER, F_START, F_END, F_STYLE, F_ACTOR, F_OTHER, F_OTHER, F_OTHER,
                                    F_OTHER, F_TEXT };
        memcpy(r->event_fields, dflt, sizeof dflt);
        r->nevent_fields = (int)(sizeof dflt / sizeof dflt[0]);
    }
    for (int i = 0; i < r->nevent_fields && s <= e; i++) {
        const char *comma = r->event_fields[i] == F_TEXT || i == r->nevent_fields - 1
                                ? NULL : memchr(s, ',', (size_t)(e - s));
        const char *fe = comma ? comma : e;
        switch (r->event_fields[i]) {
        case F_START: copy_field(start_s, sizeof start_s, s, fe); break;
        case F_END: copy_field(end_s, sizeof end_s, s, fe); break;
        case F_STYLE: copy_field(style_name, sizeof style_name, s, fe); break;
        case F_ACTOR: copy_field(actor, sizeof actor, s, fe); break;
        case F_TEXT: text_s = s; break;
        default: break;
        }
        if (!comma) {
            if (r->event_fields[i] != F_TEXT && i < r->nevent_fields - 1)
                text_s = NULL;   /* the line ended early */
            break;
        }
        s = comma + 1;
    }
    start = parse_time(start_s);
    end = parse_time(end_s);
    if (!text_s || start < 0 || end < 0 || start > MAX_TIME_MS)
        return dm_push_rejected(r->track, &c, DM_REASON_MALFORMED, text_s, text_s ? (size_t)(e - text_s) : 0,
                                r->diag, where, "a Dialogue line without a start, end and text");
    if ((r->writer == WRITER_DF && (!strncmp(style_name, "MSG", 3) || strstr(style_name, "danmakuFactory_"))) ||
        !strncmp(style_name, "message_box", 11)) {
        r->not_comments++;   /* DanmakuFactory's live message box and statistics */
        return 0;
    }
    text = event_text(text_s, e, &t, &lines);
    if (!text)
        return DM_ENOMEM;
    if (t.drawing) {
        r->not_comments++;
        free(text);
        return 0;
    }
    c.t_ms = start;
    st = find_style(r, style_name);
    w = r->play_w > 0 ? r->play_w : 384;
    h = r->play_h > 0 ? r->play_h : 288;
    align = t.align ? t.align : st ? st->align : 2;
    named = mode_from_name(actor);
    if (named < 0)
        named = mode_from_name(style_name);
    /* the mode */
    if (t.has_move && fabs(t.y2 - t.y1) <= 1 && fabs(t.x2 - t.x1) >= w / 2 && named != DM_MODE_POSITIONED) {
        c.mode = t.x2 < t.x1 ? DM_MODE_SCROLL : DM_MODE_REVERSE;
    } else if (t.has_move || named == DM_MODE_POSITIONED) {
        c.mode = DM_MODE_POSITIONED;
    } else if (named == DM_MODE_TOP || named == DM_MODE_BOTTOM) {
        c.mode = (dm_mode)named;
    } else if (align >= 7) {
        c.mode = t.has_pos && align != 8 && t.y1 >= h / 2 ? DM_MODE_BOTTOM : DM_MODE_TOP;
    } else if (align <= 3) {
        c.mode = t.has_pos && align != 2 && t.y1 < h / 2 ? DM_MODE_TOP : DM_MODE_BOTTOM;
    } else {
        c.mode = t.has_pos && t.y1 < h / 2 ? DM_MODE_TOP : DM_MODE_BOTTOM;
    }
    if (c.mode == DM_MODE_POSITIONED) {
        pos.x0 = (t.has_move || t.has_pos ? t.x1 : w / 2) / w;
        pos.y0 = (t.has_move || t.has_pos ? t.y1 : h / 2) / h;
        pos.x1 = (t.has_move ? t.x2 : t.x1) / w;
        pos.y1 = (t.has_move ? t.y2 : t.y1) / h;
        if (!t.has_move && !t.has_pos)
            pos.x1 = pos.x0, pos.y1 = pos.y0;
        pos.x0 = clampd(pos.x0, -MAX_POS_FRACTION, MAX_POS_FRACTION);
        pos.y0 = clampd(pos.y0, -MAX_POS_FRACTION, MAX_POS_FRACTION);
        pos.x1 = clampd(pos.x1, -MAX_POS_FRACTION, MAX_POS_FRACTION);
        pos.y1 = clampd(pos.y1, -MAX_POS_FRACTION, MAX_POS_FRACTION);
        pos.life_ms = (int32_t)(end - start > 1 ? (end - start > 3600000 ? 3600000 : end - start) : 1);
        if (t.has_move && t.t1 >= 0 && t.t2 > t.t1) {
            pos.move_delay_ms = t.t1;
            pos.move_ms = t.t2 - t.t1;
        } else if (t.has_move) {
            pos.move_ms = pos.life_ms;
        }
        if (t.alpha >= 0)
            pos.alpha0 = pos.alpha1 = 1.0 - t.alpha / 255.0;
        c.pos = &pos;
    }
    /* the colour */
    c.color = t.color >= 0 ? (uint32_t)t.color : st ? st->color : 0xFFFFFF;
    if (r->writer == WRITER_D2A && r->bt709 && (w >= 1280 || h >= 576))
        c.color = undo_bt709(c.color);
    /* the size: against the style's, a normal comment's (ours names its styles by size class) */
    if (st && !strcasecmp(st->name, "Small"))
        c.size = DM_SIZE_SMALL;
    else if (st && !strcasecmp(st->name, "Large"))
        c.size = DM_SIZE_LARGE;
    base = st && st->size > 0 ? st->size : 0;
    fs = t.fs > 0 ? t.fs : base;
    if (r->writer == WRITER_DF && t.fs > 0 && lines > 1)
        fs /= lines;   /* DanmakuFactory writes the height of all the lines */
    if (base > 0 && fs > 0 && fs != base) {
        double bili = 25.0 * fs / base;
        c.size = bili <= 21 ? DM_SIZE_SMALL : bili <= 30 ? DM_SIZE_NORMAL : DM_SIZE_LARGE;
    }
    err = dm_push_comment(r->track, &c, text, strlen(text), r->diag, where);
    free(text);
    return err;
}

/* ---------------------------------------------------------------- the file */

static int read_line(ass_reader *r, const char *s, const char *e, unsigned long line_no)
{
    const char *colon;
    char key[32];

    trim(&s, &e);
    if (s >= e)
        return 0;
    if (*s == '[') {
        char name[32];
        const char *close = memchr(s, ']', (size_t)(e - s));
        copy_field(name, sizeof name, s + 1, close ? close : e);
        r->section = !strcasecmp(name, "Script Info") ? S_INFO
                   : !strcasecmp(name, "V4+ Styles") || !strcasecmp(name, "V4 Styles") ||
                             !strcasecmp(name, "V4 Styles+") ? S_STYLES
                   : !strcasecmp(name, "Events") ? S_EVENTS : S_OTHER;
        r->saw_info |= r->section == S_INFO;
        return 0;
    }
    if (r->section == S_INFO) {
        read_info(r, s, e);
        return 0;
    }
    colon = memchr(s, ':', (size_t)(e - s));
    if (!colon)
        return 0;
    copy_field(key, sizeof key, s, colon);
    if (r->section == S_STYLES) {
        if (!strcasecmp(key, "Format"))
            read_format(colon + 1, e, r->style_fields, &r->nstyle_fields, 0);
        else if (!strcasecmp(key, "Style"))
            read_style(r, colon + 1, e);
    } else if (r->section == S_EVENTS) {
        if (!strcasecmp(key, "Format"))
            read_format(colon + 1, e, r->event_fields, &r->nevent_fields, 1);
        else if (!strcasecmp(key, "Dialogue"))
            return read_event(r, colon + 1, e, line_no);
        else if (!strcasecmp(key, "Comment"))
            r->comment_lines++;
    }
    return 0;
}

int dm_read_ass(dm_track *track, const char *buf, size_t len, dm_diag *diag)
{
    ass_reader *r;
    unsigned long line_no = 0;
    size_t at = 0;
    int err = 0;

    if (!track || (!buf && len)) {
        dm_diag_error(diag, "dm_read_ass: no track or no buffer");
        return DM_EINVAL;
    }
    if (len > DM_TRACK_MAX_BYTES) {
        dm_diag_error(diag, "input of %zu bytes is over the track size limit", len);
        return DM_ETOOBIG;
    }
    r = calloc(1, sizeof *r);
    if (!r) {
        dm_diag_error(diag, "out of memory reading ASS");
        return DM_ENOMEM;
    }
    r->track = track;
    r->diag = diag;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        at = 3;
    while (at < len && !err) {
        const char *line = buf + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        at += n + (nl ? 1 : 0);
        line_no++;
        err = read_line(r, line, line + n, line_no);
    }
    if (err) {
        dm_diag_error(diag, "ASS: line %lu: %s", line_no, dm_strerror(err));
    } else if (!r->saw_info) {
        dm_diag_error(diag, "not an ASS file: it has no [Script Info] section");
        err = DM_EFORMAT;
    } else {
        if (!r->events)
            dm_diag_warn(diag, "the ASS file holds no Dialogue line: no comments in it");
        if (r->not_comments)
            dm_diag_warn(diag, "%zu event%s that are no comments (message boxes, statistics, drawings) not read",
                         r->not_comments, r->not_comments == 1 ? "" : "s");
        if (r->comment_lines)
            dm_diag_warn(diag, "%zu Comment: event%s (never displayed) not read", r->comment_lines,
                         r->comment_lines == 1 ? "" : "s");
        if (r->too_many_styles)
            dm_diag_warn(diag, "%zu styles past the first %d ignored", r->too_many_styles, MAX_STYLES);
    }
    free(r);
    return err;
}
