/* read_bilibili.c - reader of Bilibili XML comment tracks (<d p="...">text</d>)
 * on expat, including positioned (mode 7) comments (bili_common.c), and of
 * live-stream recordings in the same format (BililiveRecorder: <d> with the
 * sender's name in user="...", <sc> super chats, <gift> and <guard>). */
#include "danmaku.h"
#include "bili_common.h"
#include "internal_text.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <expat.h>
#include <utf8proc.h>

/* Times past this (about 115 days) are corrupt, not film times. */
#define MAX_TIME_S 1e7
/* Unix times past this are corrupt (year 33658). */
#define MAX_SENT 1000000000000000LL

/* The attributes the reader keeps of an element (others are ignored). */
enum { A_P, A_USER, A_UID, A_TS, A_PRICE, A_TIME, A_GIFTNAME, A_GIFTCOUNT, A_LEVEL, A_COUNT, A_N };
static const char *const attr_names[A_N] = {
    "p", "user", "uid", "ts", "price", "time", "giftname", "giftcount", "level", "count",
};

typedef struct bili_reader {
    XML_Parser parser;
    dm_track *track;
    dm_diag *diag;
    int err;                 /* fatal error raised inside a handler */
    int root_seen;           /* the document element has started */
    char root[16];           /* its name, for the message when it is not a track */
    size_t items;            /* <d>, <sc>, <gift> and <guard> elements seen */
    size_t bad_colors;       /* comments whose colour was not a number */
    dm_bili_state bili;      /* what is told once per file */
    int d_depth;             /* depth inside the current item, 0 outside */
    dm_kind kind;            /* the current item's kind (<d>: a comment) */
    unsigned long d_line;    /* line of the current item */
    char *attr[A_N];         /* its attributes, NULL when missing */
    char *text;              /* its text so far */
    size_t text_len, text_cap;
} bili_reader;

/* ---------------------------------------------------------------- pre-filter */

/* 1 for a code point that XML 1.0 does not allow anywhere in a document. */
static int xml_forbidden(unsigned long cp)
{
    if (cp < 0x20)
        return cp != 0x9 && cp != 0xA && cp != 0xD;
    return (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF || cp > 0x10FFFF;
}

/*
 * Length of a character reference "&#...;" at s whose value XML forbids,
 * else 0. Such references (&#1; and friends) occur in real Bilibili files and
 * would make expat reject the whole document.
 */
static size_t forbidden_char_ref(const char *s, size_t len)
{
    size_t i = 2;
    unsigned long cp = 0;
    int hex = 0, digits = 0;

    if (len < 4 || s[0] != '&' || s[1] != '#')
        return 0;
    if (s[2] == 'x' || s[2] == 'X') {
        hex = 1;
        i++;
    }
    for (; i < len && digits < 12; i++, digits++) {
        int c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (hex && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            break;
        if (cp <= 0x110000)
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
    }
    if (!digits || i >= len || s[i] != ';')
        return 0;
    return xml_forbidden(cp) ? i + 1 : 0;
}

/*
 * The encoding the XML declaration names, into name (NUL-terminated), or ""
 * when there is no declaration or it names none.
 */
static void declared_encoding(const char *buf, size_t len, char *name, size_t cap)
{
    const char *end, *p;
    size_t n = 0;
    char quote;

    name[0] = 0;
    if (len < 6 || memcmp(buf, "<?xml", 5))
        return;
    end = memchr(buf, '>', len < 256 ? len : 256);
    if (!end)
        return;
    for (p = buf + 5; p + 8 < end && memcmp(p, "encoding", 8); p++)
        ;
    if (p + 8 >= end)
        return;
    for (p += 8; p < end && (*p == ' ' || *p == '\t' || *p == '='); p++)
        ;
    if (p >= end || (*p != '"' && *p != '\''))
        return;
    quote = *p++;
    while (p < end && *p != quote && n + 1 < cap)
        name[n++] = *p++;
    name[p < end && *p == quote ? n : 0] = 0;
}

/*
 * Whether a declared encoding is read as UTF-8 anyway: UTF-8 and ASCII, and
 * the 16/32-bit Unicode forms, which a file whose declaration we could read
 * byte by byte (no byte order mark) evidently is not in (a common mistake of
 * some tools).
 */
static int read_as_utf8(const char *name)
{
    char low[16];
    size_t i;

    for (i = 0; name[i] && i + 1 < sizeof low; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[i] = 0;
    return !name[0] || !strcmp(low, "utf-8") || !strcmp(low, "utf8") || !strcmp(low, "us-ascii") ||
           !strcmp(low, "ascii") || !strncmp(low, "utf-16", 6) || !strncmp(low, "utf-32", 6) ||
           !strncmp(low, "ucs-", 4) || !strcmp(low, "unicode");
}

/* Valid UTF-8 with at least one multi-byte character: no legacy encoding's text looks like that. */
static int is_real_utf8(const char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)buf;
    int multi = 0;

    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0)
            return 0;
        multi = 1;
        i += (size_t)n;
    }
    return multi;
}

/*
 * Files saved by older Chinese and Japanese tools declare GBK, GB18030,
 * Big5, Shift_JIS...: convert them to UTF-8 (the declaration is then
 * overridden). A byte sequence invalid in that encoding becomes U+FFFD.
 * 0, 1 when iconv does not know the encoding (the input is left as it is),
 * or DM_ENOMEM.
 */
static int to_utf8(const char *enc, const char *buf, size_t len, char **out, size_t *out_len, dm_diag *diag)
{
    size_t bad = 0, stop = 0;
    int r = dm_text_to_utf8(enc, buf, len, out, out_len, &bad, &stop, NULL);

    if (r == DM_EFORMAT)
        return 1;
    if (r == DM_EPARSE) {
        dm_diag_warn(diag, "converting from %s stopped after %zu of %zu bytes; read as UTF-8", enc, stop, len);
        return 1;
    }
    if (r)
        return r;
    if (bad)
        dm_diag_warn(diag, "replaced %zu byte%s not valid in %s with U+FFFD", bad, bad == 1 ? "" : "s", enc);
    return 0;
}

/*
 * Copy buf without the control characters XML forbids (raw bytes and
 * character references) and with invalid UTF-8 replaced by U+FFFD, as real
 * players do, so that expat accepts the files that exist in the wild.
 * Newlines are kept, so line numbers in messages stay right.
 */
static int prefilter(const char *buf, size_t len, char **out, size_t *out_len, dm_diag *diag)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t removed = 0, replaced = 0, o = 0;
    char *dst;

    if (len > (SIZE_MAX - 1) / 3)
        return DM_ENOMEM;
    dst = malloc(len * 3 + 1);
    if (!dst)
        return DM_ENOMEM;
    for (size_t i = 0; i < len;) {
        unsigned char b = s[i];
        if (b < 0x80) {
            size_t ref = b == '&' ? forbidden_char_ref(buf + i, len - i) : 0;
            if (ref) {
                removed++;
                i += ref;
            } else if (xml_forbidden(b)) {
                removed++;
                i++;
            } else {
                dst[o++] = (char)b;
                i++;
            }
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0 || xml_forbidden((unsigned long)cp)) {
            memcpy(dst + o, "\xEF\xBF\xBD", 3);
            o += 3;
            replaced++;
            i += n > 0 ? (size_t)n : 1;
            continue;
        }
        memcpy(dst + o, s + i, (size_t)n);
        o += (size_t)n;
        i += (size_t)n;
    }
    dst[o] = 0;
    if (removed)
        dm_diag_warn(diag, "removed %zu control character%s that XML does not allow", removed,
                     removed == 1 ? "" : "s");
    if (replaced)
        dm_diag_warn(diag, "replaced %zu invalid UTF-8 sequence%s with U+FFFD", replaced,
                     replaced == 1 ? "" : "s");
    *out = dst;
    *out_len = o;
    return 0;
}

/* ---------------------------------------------------------------- numbers */

/* Parse all of s as an integer in [lo, hi]. */
static int parse_int(const char *s, long long lo, long long hi, long long *v)
{
    char *end;

    while (*s == ' ')
        s++;
    if (!*s)
        return -1;
    errno = 0;
    *v = strtoll(s, &end, 10);
    while (*end == ' ')
        end++;
    if (*end || errno == ERANGE || *v < lo || *v > hi)
        return -1;
    return 0;
}

/* Bilibili font size (18/25/36, others seen) to the nearest size class. */
/* ---------------------------------------------------------------- comments */

/* Split p at commas into at most `max` NUL-terminated fields. */
static int split_fields(char *p, char **fields, int max)
{
    int n = 0;

    fields[n++] = p;
    for (char *c = p; *c && n < max; c++) {
        if (*c == ',') {
            *c = 0;
            fields[n++] = c + 1;
        }
    }
    return n;
}

/* Fill c from the numeric fields of p; NULL, or why they are malformed. */
static const char *parse_p_fields(char **f, int n, dm_comment *c, int *bad_color)
{
    double t;
    long long v;

    if (dm_bili_parse_double(f[0], &t) || t < 0 || t > MAX_TIME_S)
        return "time is not a number of seconds in range";
    c->t_ms = llround(t * 1000.0);
    if (parse_int(f[1], 1, 9, &v))
        return "mode is not 1-9";
    c->bili_mode = (int)v;
    c->mode = dm_bili_mode(c->bili_mode);
    if (parse_int(f[2], 1, 1000, &v))
        return "size is not a number in 1-1000";
    c->size = dm_bili_size_class(v);
    /* Real files carry "undefined" colours (a web client's bug): such a
     * comment is still worth showing, in white; the caller counts them. */
    c->color = 0xFFFFFF;
    if (parse_int(f[3], 0, 0xFFFFFF, &v))
        *bad_color = 1;
    else
        c->color = (uint32_t)v;
    if (parse_int(f[4], 0, MAX_SENT, &v))
        return "send time is not a Unix time";
    c->sent = v;
    if (parse_int(f[5], 0, 1000, &v))
        return "pool is not a small number";
    c->pool = (int)v;
    if (n == 9) {
        if (parse_int(f[8], 0, 100, &v))
            return "weight is not a number in 0-100";
        c->weight = (int)v;
    }
    return NULL;
}

/*
 * Turn the finished <d> into a comment. One the reader cannot read is kept
 * as a malformed comment with what could be read of it (its time, id and
 * text), and a warning.
 */
static int finish_comment(bili_reader *r, const char *where)
{
    char *f[10], why_buf[160];
    const char *why = NULL;
    dm_comment c = { .weight = -1, .count = 1, .sender = r->attr[A_USER] };
    const char *text = r->text ? r->text : "";
    int n, bad_color = 0;

    if (!r->attr[A_P])
        return dm_push_rejected(r->track, &c, DM_REASON_MALFORMED, text, r->text_len, r->diag, where,
                                "<d> without a p attribute");
    n = split_fields(r->attr[A_P], f, 10);
    if (n >= 8)
        c.id = f[7][0] ? f[7] : NULL;
    if (n < 8 || n > 9) {
        /* n == 10 means "more than 9": the rest stays in the last field */
        snprintf(why_buf, sizeof why_buf, "malformed p attribute: %d fields, expected 8 or 9 "
                 "(time,mode,size,color,sent,pool,user,id[,weight])", n);
        return dm_push_rejected(r->track, &c, DM_REASON_MALFORMED, text, r->text_len, r->diag, where, why_buf);
    }
    why = parse_p_fields(f, n, &c, &bad_color);
    if (why) {
        snprintf(why_buf, sizeof why_buf, "malformed p attribute: %s", why);
        c.bili_mode = 0;
        c.mode = DM_MODE_SCROLL;
        return dm_push_rejected(r->track, &c, DM_REASON_MALFORMED, text, r->text_len, r->diag, where, why_buf);
    }
    r->bad_colors += bad_color;
    c.author = f[6][0] ? f[6] : NULL;
    /* live recorders (BililiveRecorder) write the send time in ms and 0 for every row id */
    if (r->attr[A_USER] && c.sent > 100000000000LL)
        c.sent /= 1000;
    if (c.id && !strcmp(c.id, "0"))
        c.id = NULL;
    return dm_bili_push(r->track, &c, text, r->text_len, r->diag, where, &r->bili);
}

/* A live recorder's number attribute: all of it a number in [lo, hi] (a decimal comma is read as a point). */
static int live_number(const char *s, double lo, double hi, double *v)
{
    char buf[64];
    size_t n = s ? strlen(s) : 0;

    if (!n || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    /* C#'s ToString() in a German or French locale writes "12,5" */
    for (char *c = buf; *c; c++)
        if (*c == ',')
            *c = '.';
    return dm_bili_parse_double(buf, v) || *v < lo || *v > hi ? -1 : 0;
}

/* The guard levels of BililiveRecorder's level attribute. */
static const char *const guard_levels[] = { "总督", "提督", "舰长" };

/* Turn a finished <sc>, <gift> or <guard> into a live card. */
static int finish_card(bili_reader *r, const char *where)
{
    static const char *const what[] = { "", "<sc>", "<gift>", "<guard>" };
    dm_comment c = { .kind = r->kind, .weight = -1, .count = 1, .color = 0xFFFFFF, .size = DM_SIZE_NORMAL,
                     .mode = DM_MODE_POSITIONED, .sender = r->attr[A_USER], .author = r->attr[A_UID] };
    char why[96];
    double t, v;

    if (live_number(r->attr[A_TS], 0, MAX_TIME_S, &t)) {
        snprintf(why, sizeof why, "%s without a time (ts) in seconds", what[r->kind]);
        return dm_push_rejected(r->track, &c, DM_REASON_MALFORMED, r->text, r->text_len, r->diag, where, why);
    }
    c.t_ms = llround(t * 1000.0);
    if (r->kind == DM_KIND_SUPERCHAT) {
        if (live_number(r->attr[A_PRICE], 0, 1e7, &v))
            return dm_push_rejected(r->track, &c, DM_REASON_MALFORMED, r->text, r->text_len, r->diag, where,
                                    "<sc> without a price in yuan");
        c.price = (int)llround(v);
        if (r->attr[A_TIME] && !live_number(r->attr[A_TIME], 1, 86400, &v))
            c.duration_ms = (int32_t)llround(v * 1000.0);
        return dm_push_comment(r->track, &c, r->text, r->text ? r->text_len : 0, r->diag, where);
    }
    if (r->kind == DM_KIND_GIFT) {
        const char *name = r->attr[A_GIFTNAME];
        c.quantity = r->attr[A_GIFTCOUNT] && !live_number(r->attr[A_GIFTCOUNT], 1, 1e9, &v) ? (int)v : 1;
        return dm_push_comment(r->track, &c, name, name ? strlen(name) : 0, r->diag, where);
    }
    c.quantity = r->attr[A_COUNT] && !live_number(r->attr[A_COUNT], 1, 1e9, &v) ? (int)v : 1;
    if (live_number(r->attr[A_LEVEL], 1, 3, &v))
        return dm_push_rejected(r->track, &c, DM_REASON_MALFORMED, NULL, 0, r->diag, where,
                                "<guard> level is not 1 (总督), 2 (提督) or 3 (舰长)");
    return dm_push_comment(r->track, &c, guard_levels[(int)v - 1], strlen(guard_levels[(int)v - 1]), r->diag, where);
}

static void clear_item(bili_reader *r)
{
    for (int i = 0; i < A_N; i++) {
        free(r->attr[i]);
        r->attr[i] = NULL;
    }
    r->text_len = 0;
    if (r->text)
        r->text[0] = 0;
}

/* ---------------------------------------------------------------- expat */

static void fail(bili_reader *r, int err)
{
    if (!r->err)
        r->err = err;
    XML_StopParser(r->parser, XML_FALSE);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    bili_reader *r = ud;

    if (!r->root_seen)
        snprintf(r->root, sizeof r->root, "%s", name);
    r->root_seen = 1;
    if (r->d_depth) {
        r->d_depth++;  /* markup inside a comment: keep collecting its text */
        return;
    }
    if (!strcmp(name, "d"))
        r->kind = DM_KIND_COMMENT;
    else if (!strcmp(name, "sc"))
        r->kind = DM_KIND_SUPERCHAT;
    else if (!strcmp(name, "gift"))
        r->kind = DM_KIND_GIFT;
    else if (!strcmp(name, "guard"))
        r->kind = DM_KIND_GUARD;
    else
        return;
    r->items++;
    r->d_depth = 1;
    r->d_line = (unsigned long)XML_GetCurrentLineNumber(r->parser);
    clear_item(r);
    for (int i = 0; attrs[i]; i += 2) {
        for (int k = 0; k < A_N; k++) {
            if (!r->attr[k] && !strcmp(attrs[i], attr_names[k])) {
                r->attr[k] = strdup(attrs[i + 1]);
                if (!r->attr[k])
                    fail(r, DM_ENOMEM);
                break;
            }
        }
    }
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    bili_reader *r = ud;

    if (!r->d_depth || len <= 0)
        return;
    if (r->text_len + (size_t)len + 1 > r->text_cap) {
        size_t cap = r->text_cap ? r->text_cap : 256;
        char *t;
        while (cap < r->text_len + (size_t)len + 1)
            cap *= 2;
        t = realloc(r->text, cap);
        if (!t) {
            fail(r, DM_ENOMEM);
            return;
        }
        r->text = t;
        r->text_cap = cap;
    }
    memcpy(r->text + r->text_len, s, (size_t)len);
    r->text_len += (size_t)len;
    r->text[r->text_len] = 0;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    bili_reader *r = ud;
    char where[48];
    int err;

    (void)name;
    if (!r->d_depth || --r->d_depth)
        return;
    snprintf(where, sizeof where, "line %lu", r->d_line);
    err = r->kind == DM_KIND_COMMENT ? finish_comment(r, where) : finish_card(r, where);
    clear_item(r);
    if (err)
        fail(r, err);
}

static int only_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

int dm_read_bilibili_xml(dm_track *track, const char *buf, size_t len, dm_diag *diag)
{
    bili_reader r = { .track = track, .diag = diag };
    char *clean = NULL;
    size_t clean_len = 0;
    int utf16, err = 0;

    if (!track || (!buf && len)) {
        dm_diag_error(diag, "dm_read_bilibili_xml: no track or no buffer");
        return DM_EINVAL;
    }
    if (!buf)
        buf = "";
    if (len > DM_TRACK_MAX_BYTES || len > INT_MAX) {
        dm_diag_error(diag, "input of %zu bytes is over the track size limit", len);
        return DM_ETOOBIG;
    }
    if (only_space(buf, len)) {
        dm_diag_error(diag, "the input is empty: no XML document in it");
        return DM_EPARSE;
    }
    /* A UTF-16 file (byte order mark) is left to expat as it is. */
    utf16 = len >= 2 && (((unsigned char)buf[0] == 0xFF && (unsigned char)buf[1] == 0xFE) ||
                         ((unsigned char)buf[0] == 0xFE && (unsigned char)buf[1] == 0xFF));
    if (!utf16) {
        char enc[64], *converted = NULL;
        size_t converted_len = 0;

        /* a UTF-8 byte order mark wins over the declaration */
        if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
            enc[0] = 0;
        else
            declared_encoding(buf, len, enc, sizeof enc);
        if (!read_as_utf8(enc) && is_real_utf8(buf, len)) {
            dm_diag_warn(diag, "declares encoding \"%s\" but is UTF-8; read as UTF-8", enc);
        } else if (!read_as_utf8(enc)) {
            err = to_utf8(enc, buf, len, &converted, &converted_len, diag);
            if (err == 1) {
                dm_diag_warn(diag, "unknown encoding \"%s\" declared; read as UTF-8", enc);
                err = 0;
            }
        }
        if (!err)
            err = converted ? prefilter(converted, converted_len, &clean, &clean_len, diag)
                            : prefilter(buf, len, &clean, &clean_len, diag);
        free(converted);
        if (err) {
            dm_diag_error(diag, "out of memory reading Bilibili XML");
            return err;
        }
    }
    /* The pre-filter produced valid UTF-8: parse it as such whatever the
     * declaration says. */
    r.parser = XML_ParserCreate(utf16 ? NULL : "UTF-8");
    if (!r.parser) {
        free(clean);
        dm_diag_error(diag, "out of memory creating the XML parser");
        return DM_ENOMEM;
    }
    XML_SetUserData(r.parser, &r);
    XML_SetElementHandler(r.parser, on_start, on_end);
    XML_SetCharacterDataHandler(r.parser, on_text);

    /* Parse everything as not final first: an error then is a real syntax
     * error, while a failure of the final empty call means the input stopped
     * inside the document (a truncated download). */
    if (XML_Parse(r.parser, utf16 ? buf : clean, (int)(utf16 ? len : clean_len), XML_FALSE) ==
        XML_STATUS_ERROR) {
        if (r.err) {
            err = r.err;
            dm_diag_error(diag, "%s", dm_strerror(err));
        } else {
            err = DM_EPARSE;
            dm_diag_error(diag, "line %lu, column %lu: %s",
                          (unsigned long)XML_GetCurrentLineNumber(r.parser),
                          (unsigned long)XML_GetCurrentColumnNumber(r.parser) + 1,
                          XML_ErrorString(XML_GetErrorCode(r.parser)));
        }
    } else if (XML_Parse(r.parser, NULL, 0, XML_TRUE) == XML_STATUS_ERROR) {
        if (r.err) {
            err = r.err;
            dm_diag_error(diag, "%s", dm_strerror(err));
        } else if (!r.root_seen) {
            err = DM_EPARSE;
            dm_diag_error(diag, "line %lu, column %lu: %s (no document element)",
                          (unsigned long)XML_GetCurrentLineNumber(r.parser),
                          (unsigned long)XML_GetCurrentColumnNumber(r.parser) + 1,
                          XML_ErrorString(XML_GetErrorCode(r.parser)));
        } else {
            dm_diag_warn(diag, "truncated at line %lu: the input ends inside the document; "
                         "kept the comments read so far",
                         (unsigned long)XML_GetCurrentLineNumber(r.parser));
        }
    }
    if (!err && r.root_seen && !r.items && strcmp(r.root, "i")) {
        /* an XML document, but not a comment track (an SVG, a web page...) */
        err = DM_EFORMAT;
        dm_diag_error(diag, "an XML document whose root element is <%s> and which holds no <d> comment: "
                      "not a Bilibili comment track", r.root);
    }
    if (r.bad_colors)
        dm_diag_warn(diag, "%zu comment%s had no valid colour (such as \"undefined\"); "
                     "shown in white", r.bad_colors, r.bad_colors == 1 ? "" : "s");
    dm_bili_finish(&r.bili, diag);
    XML_ParserFree(r.parser);
    clear_item(&r);
    free(r.text);
    free(clean);
    return err;
}
