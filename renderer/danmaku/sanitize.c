/* sanitize.c - text sanitising shared by every track reader, so that the
 * layout and the renderer only ever see valid UTF-8 without control codes. */
#include "internal_text.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

int dm_text_sanitize(const char *in, size_t len, char **out, unsigned *fixes)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned flags = 0;
    size_t o = 0;
    char *buf;

    /* Each input byte yields at most 3 output bytes (U+FFFD). */
    if (len > (SIZE_MAX - 1) / 3)
        return DM_ENOMEM;
    buf = malloc(len * 3 + 1);
    if (!buf)
        return DM_ENOMEM;
    for (size_t i = 0; i < len;) {
        unsigned char b = s[i];
        if (b < 0x80) {
            i++;
            if (b == '\r') {
                if (i < len && s[i] == '\n')
                    i++;
                buf[o++] = '\n';
            } else if (b == '\t') {
                buf[o++] = ' ';  /* a tab separates words: keep the gap */
            } else if (b < 0x20 && b != '\n') {
                flags |= DM_TEXT_REMOVED_CONTROLS;
            } else {
                buf[o++] = (char)b;
            }
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0) {
            /* Replace one byte at a time, as browsers do, so that one bad
             * byte never swallows the valid characters after it. */
            memcpy(buf + o, "\xEF\xBF\xBD", 3);
            o += 3;
            flags |= DM_TEXT_FIXED_UTF8;
            i++;
            continue;
        }
        if (cp >= 0x80 && cp <= 0x9F) {
            flags |= DM_TEXT_REMOVED_CONTROLS;   /* C1: drawn as boxes, and libass draws them too */
        } else {
            memcpy(buf + o, s + i, (size_t)n);
            o += (size_t)n;
        }
        i += (size_t)n;
    }
    buf[o] = 0;
    *out = buf;
    if (fixes)
        *fixes = flags;
    return 0;
}

int dm_push_comment(dm_track *track, dm_comment *c, const char *text, size_t len,
                    dm_diag *diag, const char *where)
{
    unsigned fixes = 0;
    char *clean = NULL;
    int err = dm_text_sanitize(text ? text : "", text ? len : 0, &clean, &fixes);

    if (err)
        return err;
    if (fixes & DM_TEXT_FIXED_UTF8)
        dm_diag_warn(diag, "%s: invalid UTF-8 in the text replaced by U+FFFD", where);
    if (!clean[0] && c->kind != DM_KIND_SUPERCHAT)   /* a super chat may carry no message */
        dm_diag_warn(diag, "%s: empty text, comment not shown", where);
    c->text = clean;
    err = dm_track_push(track, c);
    c->text = NULL;
    free(clean);
    return err;
}

int dm_push_rejected(dm_track *track, dm_comment *c, int reason, const char *text, size_t len,
                     dm_diag *diag, const char *where, const char *why)
{
    char *clean = NULL;
    dm_positioned *pos = c->pos;
    int err = dm_text_sanitize(text ? text : "", text ? len : 0, &clean, NULL);

    if (err)
        return err;
    dm_diag_warn(diag, "%s: %s, comment not shown", where, why);
    c->text = clean;
    c->rejected = reason;
    c->pos = NULL;
    err = dm_track_push(track, c);
    c->text = NULL;
    c->pos = pos;
    free(clean);
    return err;
}

int dm_comment_unwritable(const dm_comment *c)
{
    return c->rejected || !c->text || (!c->text[0] && c->kind != DM_KIND_SUPERCHAT);
}

void dm_text_line_col(const char *buf, size_t len, size_t offset, unsigned long *line,
                      unsigned long *col)
{
    unsigned long l = 1, c = 1;

    if (offset > len)
        offset = len;
    for (size_t i = 0; i < offset; i++) {
        if (buf[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

int dm_text_to_utf8(const char *enc, const void *data, size_t len, char **out, size_t *out_len, size_t *bad,
                    size_t *stop, int *cut)
{
    iconv_t cd;
    char *in = (char *)data, *dst, *o;
    size_t cap, left = len, room;
    int ret = 0;

    *out = NULL;
    *out_len = 0;
    if (cut)
        *cut = 0;
    if (bad)
        *bad = 0;
    if (len > (SIZE_MAX - 4) / 4)
        return DM_ENOMEM;
    cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1)
        return DM_EFORMAT;
    cap = len * 4 + 4; /* enough for nearly every encoding; grown when not */
    dst = malloc(cap);
    if (!dst) {
        iconv_close(cd);
        return DM_ENOMEM;
    }
    o = dst;
    room = cap - 1;
    while (left > 0) {
        if (iconv(cd, &in, &left, &o, &room) != (size_t)-1)
            break;
        if (errno == E2BIG || room < 3) {
            size_t used = (size_t)(o - dst);
            char *grown = cap < (SIZE_MAX - 1) / 2 ? realloc(dst, cap * 2) : NULL;
            if (!grown) {
                ret = DM_ENOMEM;
                break;
            }
            dst = grown;
            o = dst + used;
            room += cap;
            cap *= 2;
            continue;
        }
        if (!bad || (errno != EILSEQ && errno != EINVAL)) {
            if (cut)
                *cut = errno == EINVAL;
            ret = DM_EPARSE;
            break;
        }
        memcpy(o, "\xEF\xBF\xBD", 3); /* skip one bad byte */
        o += 3;
        room -= 3;
        in++;
        left--;
        ++*bad;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    iconv_close(cd);
    if (stop)
        *stop = len - left;
    if (ret) {
        free(dst);
        return ret;
    }
    *o = 0;
    *out = dst;
    *out_len = (size_t)(o - dst);
    return 0;
}
