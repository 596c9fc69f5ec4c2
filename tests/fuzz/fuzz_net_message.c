/* fuzz_net_message.c - libFuzzer target for the live feed's message check
 * (dm_net_parse_message): whatever a client sends, the check must not crash,
 * and an accepted comment's text must hold the cleaning promises of
 * docs/protocol.md (valid UTF-8, something visible, no controls or format
 * characters but an emoji joiner, at most 2 marks per character, within the
 * caps). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "net_validate.h"

/* The server never passes more than its 16 KiB message cap. */
#define FUZZ_MAX_BYTES (16u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *t, const dm_net_limits *lim)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)t;
    size_t len = strlen(t), i = 0;
    int chars = 0, marks = 0, visible = 0;

    if (len == 0 || t[0] == ' ' || t[len - 1] == ' ')
        abort();
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t r = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        utf8proc_category_t cat;
        if (r <= 0)
            abort();
        cat = utf8proc_category(cp);
        if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CO ||
            (cat == UTF8PROC_CATEGORY_CF && cp != 0x200D))
            abort();
        if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME) {
            if (++marks > lim->max_marks)
                abort();
        } else {
            marks = 0;
        }
        if (cat != UTF8PROC_CATEGORY_ZS && cat != UTF8PROC_CATEGORY_CF && marks == 0)
            visible = 1;
        chars++;
        i += (size_t)r;
    }
    if (!visible || chars > lim->max_chars)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const dm_net_limits lim = DM_NET_LIMITS_DEFAULT;
    dm_net_submission s;
    dm_net_err e;

    if (size > FUZZ_MAX_BYTES)
        return 0;
    e = dm_net_parse_message((const char *)data, size, &lim, &s);
    if (e == DM_NET_OK && s.kind == DM_NET_MSG_COMMENT) {
        check_text(s.text, &lim);
        free(s.text);
    }
    if (e != DM_NET_OK && !dm_net_err_code(e)[0])
        abort();
    return 0;
}
