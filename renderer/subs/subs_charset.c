/*
 * subs_charset.c - the encoding of external subtitle text: byte order marks,
 * UTF-8 validity, else uchardet's guess (Chinese and Japanese subtitles are
 * still often GBK, Big5 or Shift_JIS); conversion to UTF-8 with iconv.
 */
#include "subs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uchardet.h>

/* Is data valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF)? */
static int valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += n + 1;
    }
    return 1;
}

static void set_name(char *name, size_t len, const char *value)
{
    if (name && len) {
        strncpy(name, value, len - 1);
        name[len - 1] = 0;
    }
}

int dm_subs_detect_codepage(const void *data, size_t len, char *name, size_t namelen)
{
    const unsigned char *s = data;
    uchardet_t ud;
    const char *cs;
    int ret = DM_EFORMAT;

    set_name(name, namelen, "");
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        set_name(name, namelen, "UTF-8");
        return 0;
    }
    if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
        set_name(name, namelen, "UTF-16LE");
        return 0;
    }
    if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
        set_name(name, namelen, "UTF-16BE");
        return 0;
    }
    if (valid_utf8(s, len)) {
        set_name(name, namelen, "UTF-8");
        return 0;
    }
    ud = uchardet_new();
    if (!ud)
        return DM_ENOMEM;
    if (uchardet_handle_data(ud, data, len) == 0) {
        uchardet_data_end(ud);
        cs = uchardet_get_charset(ud);
        if (cs && cs[0]) {
            set_name(name, namelen, cs);
            ret = 0;
        }
    }
    uchardet_delete(ud);
    return ret;
}

int dm_subs_to_utf8(const void *data, size_t len, const char *codepage, char **out,
                    size_t *out_len, char *used, size_t usedlen, char *err, size_t errlen)
{
    char cp[64], *buf, *outp;
    size_t n, stop;
    int r, cut, named = codepage && codepage[0] && strcasecmp(codepage, "auto") != 0;

    *out = NULL;
    if (out_len)
        *out_len = 0;
    set_name(used, usedlen, "");
    if (len > DM_SUBS_MAX_FILE_BYTES) {
        dm_set_err(err, errlen, "larger than %u MiB, not a subtitle file", DM_SUBS_MAX_FILE_BYTES >> 20);
        return DM_ETOOBIG;
    }
    if (named) {
        set_name(cp, sizeof cp, codepage);
    } else {
        r = dm_subs_detect_codepage(data, len, cp, sizeof cp);
        if (r == DM_ENOMEM)
            return r;
        if (r < 0) {
            dm_set_err(err, errlen, "cannot tell the text encoding (not UTF-8, and uchardet has no "
                                    "guess); name it with --sub-codepage");
            return DM_EFORMAT;
        }
    }
    set_name(used, usedlen, cp);
    r = dm_text_to_utf8(cp, data, len, &buf, &n, NULL, &stop, &cut);
    if (r == DM_EFORMAT) {
        dm_set_err(err, errlen, "unknown text encoding \"%s\" (iconv does not know it)", cp);
        return r;
    }
    if (r == DM_EPARSE) {
        if (cut)
            dm_set_err(err, errlen, "the text ends inside a %s character", cp);
        else
            dm_set_err(err, errlen, "byte %zu is not valid %s text%s", stop, cp,
                       named ? " (check --sub-codepage)" : "");
        return r;
    }
    if (r)
        return r;
    outp = buf + n;
    /* a byte order mark is not text */
    if (outp - buf >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF) {
        memmove(buf, buf + 3, (size_t)(outp - buf) - 3 + 1);
        outp -= 3;
    }
    *out = buf;
    if (out_len)
        *out_len = (size_t)(outp - buf);
    return 0;
}
