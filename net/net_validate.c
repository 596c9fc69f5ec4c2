/*
 * net_validate.c - checking and cleaning what the audience sends, before the
 * server trusts any of it: JSON by cJSON, Unicode properties by utf8proc.
 */
#include "net_validate.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <utf8proc.h>

/* Bilibili's web palette, plus white: what a phone's colour picker offers. */
const uint32_t dm_net_palette[] = {
    0xFFFFFF, 0xFE0302, 0xFF7204, 0xFFAA02, 0xFFD302, 0xFFFF00, 0xA0EE00,
    0x00CD00, 0x019899, 0x4266BE, 0x89D5FF, 0xCC0273, 0x222222, 0x9B9B9E,
};
const size_t dm_net_palette_count = sizeof dm_net_palette / sizeof dm_net_palette[0];

int dm_net_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * cJSON turns "\u0000" into a C string's end, silently cutting the text, and
 * fails the whole document on a lone surrogate; both deserve the specific
 * bad_text answer. An escape is real when an odd number of backslashes
 * precede the 'u'. Returns 1 when such an escape is present.
 */
static int has_forbidden_escape(const char *buf, size_t len)
{
    int pending_high = 0;   /* the previous escape was a high surrogate */
    size_t i = 0;

    while (i < len) {
        size_t run = 0;
        long v = 0;

        if (buf[i] != '\\') {
            if (pending_high)
                return 1;
            i++;
            continue;
        }
        while (i < len && buf[i] == '\\') {
            run++;
            i++;
        }
        if (run % 2 == 0 || i >= len || buf[i] != 'u') {
            if (pending_high)
                return 1;
            continue;
        }
        if (i + 4 >= len)
            return 0;   /* truncated: cJSON reports it */
        for (int k = 1; k <= 4; k++) {
            int h = dm_net_hexval(buf[i + k]);
            if (h < 0)
                return 0;
            v = v * 16 + h;
        }
        i += 5;
        if (v == 0)
            return 1;
        if (v >= 0xDC00 && v <= 0xDFFF) {
            if (!pending_high)
                return 1;
            pending_high = 0;
        } else if (v >= 0xD800 && v <= 0xDBFF) {
            if (pending_high)
                return 1;
            pending_high = 1;
        } else if (pending_high) {
            return 1;
        }
    }
    return pending_high;
}

/*
 * A raw NUL byte: JSON forbids it unescaped, and cJSON would read a string
 * only up to it, silently cutting the text. DM_NET_BAD_TEXT when it is
 * inside a string (as for the escaped form), DM_NET_BAD_JSON elsewhere,
 * DM_NET_OK when there is none.
 */
static dm_net_err raw_nul(const char *buf, size_t len)
{
    int in_string = 0;

    if (!memchr(buf, 0, len))
        return DM_NET_OK;
    for (size_t i = 0; i < len; i++) {
        if (!buf[i])
            return in_string ? DM_NET_BAD_TEXT : DM_NET_BAD_JSON;
        if (in_string && buf[i] == '\\')
            i++;   /* the escaped character cannot end the string */
        else if (buf[i] == '"')
            in_string = !in_string;
    }
    return DM_NET_BAD_JSON;
}

static int is_mark(utf8proc_category_t c)
{
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

static int is_space(int32_t cp, utf8proc_category_t c)
{
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP ||
           cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C;
}

static int is_visible(utf8proc_category_t c)
{
    switch (c) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS: case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF: case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
        return 1;
    default:
        return 0;
    }
}

dm_net_err dm_net_clean_text(const char *text, size_t len, const dm_net_limits *lim, char **out)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    int32_t *cps;
    size_t n = 0, kept = 0;
    char *buf;
    size_t blen = 0;
    int marks = 0, have_base = 0, visible = 0, graphemes = 0;
    int32_t gstate = 0, prev = -1;

    *out = NULL;
    if (len > (size_t)1 << 20)
        return DM_NET_TOO_LONG;
    cps = malloc((len + 1) * sizeof *cps);
    if (!cps)
        return DM_NET_INTERNAL;
    /* decode, refusing invalid UTF-8 and NUL */
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t r = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (r <= 0 || cp == 0) {
            free(cps);
            return DM_NET_BAD_TEXT;
        }
        cps[n++] = cp;
        i += (size_t)r;
    }
    /* filter in place */
    for (size_t i = 0; i < n; i++) {
        int32_t cp = cps[i];
        utf8proc_category_t cat = utf8proc_category(cp);

        if (is_space(cp, cat)) {
            if (kept && cps[kept - 1] != ' ')
                cps[kept++] = ' ';
            marks = 0;
            have_base = 0;
            continue;
        }
        if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CS || cat == UTF8PROC_CATEGORY_CO)
            continue;
        if (cat == UTF8PROC_CATEGORY_CF) {
            /* a ZWJ joins emoji (family, profession sequences); elsewhere it only hides things */
            int ok = cp == 0x200D && kept && i + 1 < n &&
                     utf8proc_category(cps[kept - 1]) == UTF8PROC_CATEGORY_SO &&
                     utf8proc_category(cps[i + 1]) == UTF8PROC_CATEGORY_SO;
            if (ok)
                cps[kept++] = cp;
            continue;
        }
        if (is_mark(cat)) {
            if (!have_base || marks >= lim->max_marks)
                continue;
            marks++;
            cps[kept++] = cp;
            continue;
        }
        have_base = 1;
        marks = 0;
        if (is_visible(cat))
            visible = 1;
        cps[kept++] = cp;
    }
    while (kept && cps[kept - 1] == ' ')
        kept--;
    if (!visible) {
        free(cps);
        return DM_NET_EMPTY_TEXT;
    }
    if ((int)kept > lim->max_chars) {
        free(cps);
        return DM_NET_TOO_LONG;
    }
    for (size_t i = 0; i < kept; i++) {
        if (prev < 0 || utf8proc_grapheme_break_stateful(prev, cps[i], &gstate))
            graphemes++;
        prev = cps[i];
    }
    if (graphemes > lim->max_graphemes) {
        free(cps);
        return DM_NET_TOO_LONG;
    }
    buf = malloc(kept * 4 + 1);
    if (!buf) {
        free(cps);
        return DM_NET_INTERNAL;
    }
    for (size_t i = 0; i < kept; i++)
        blen += (size_t)utf8proc_encode_char(cps[i], (utf8proc_uint8_t *)buf + blen);
    buf[blen] = 0;
    free(cps);
    *out = buf;
    return DM_NET_OK;
}

static int parse_color(const char *s, uint32_t *out)
{
    uint32_t v = 0;

    if (strlen(s) != 7 || s[0] != '#')
        return -1;
    for (int i = 1; i < 7; i++) {
        int h = dm_net_hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + (uint32_t)h;
    }
    for (size_t i = 0; i < dm_net_palette_count; i++)
        if (dm_net_palette[i] == v) {
            *out = v;
            return 0;
        }
    return -1;
}

dm_net_err dm_net_parse_message(const char *buf, size_t len, const dm_net_limits *lim,
                                dm_net_submission *out)
{
    cJSON *root, *type, *f;
    const char *end = NULL;
    dm_net_err e = DM_NET_OK;

    memset(out, 0, sizeof *out);
    out->mode = DM_MODE_SCROLL;
    out->size = DM_SIZE_NORMAL;
    out->color = 0xFFFFFF;
    e = raw_nul(buf, len);
    if (e != DM_NET_OK)
        return e;
    root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root) {
        return has_forbidden_escape(buf, len) ? DM_NET_BAD_TEXT : DM_NET_BAD_JSON;
    }
    while (end && end < buf + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    if (!cJSON_IsObject(root) || (end && end < buf + len)) {
        e = DM_NET_BAD_JSON;
        goto done;
    }
    type = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(type)) {
        e = DM_NET_BAD_MESSAGE;
        goto done;
    }
    if (!strcmp(type->valuestring, "subscribe")) {
        out->kind = DM_NET_MSG_SUBSCRIBE;
        goto done;
    }
    if (!strcmp(type->valuestring, "ping")) {
        out->kind = DM_NET_MSG_PING;
        goto done;
    }
    if (strcmp(type->valuestring, "comment")) {
        e = DM_NET_UNKNOWN_TYPE;
        goto done;
    }
    out->kind = DM_NET_MSG_COMMENT;
    f = cJSON_GetObjectItemCaseSensitive(root, "color");
    if (f && !cJSON_IsNull(f) && (!cJSON_IsString(f) || parse_color(f->valuestring, &out->color))) {
        e = DM_NET_BAD_COLOR;
        goto done;
    }
    f = cJSON_GetObjectItemCaseSensitive(root, "mode");
    if (f && !cJSON_IsNull(f)) {
        int m = cJSON_IsString(f) ? dm_mode_from_name(f->valuestring) : -1;
        if (m != DM_MODE_SCROLL && m != DM_MODE_TOP && m != DM_MODE_BOTTOM) {
            e = DM_NET_BAD_MODE;
            goto done;
        }
        out->mode = (dm_mode)m;
    }
    f = cJSON_GetObjectItemCaseSensitive(root, "size");
    if (f && !cJSON_IsNull(f)) {
        int sz = cJSON_IsString(f) ? dm_size_from_name(f->valuestring) : -1;
        if (sz < 0) {
            e = DM_NET_BAD_SIZE;
            goto done;
        }
        out->size = (dm_size)sz;
    }
    f = cJSON_GetObjectItemCaseSensitive(root, "text");
    if (!cJSON_IsString(f) || has_forbidden_escape(buf, len)) {
        e = DM_NET_BAD_TEXT;
        goto done;
    }
    e = dm_net_clean_text(f->valuestring, strlen(f->valuestring), lim, &out->text);
done:
    cJSON_Delete(root);
    return e;
}
