/*
 * filter_cli.c - the comment filters on the command line (filter_cli.h).
 */
#include "filter_cli.h"

#include <stdlib.h>
#include <string.h>

#include "layout_cli.h"

enum {
    O_BLOCK = DM_FILTER_CLI_FIRST, O_BLOCK_REGEX, O_BLOCK_USER, O_HIDE, O_BLOCK_LEVEL,
};

static const struct option filter_options[] = {
    { "block", required_argument, NULL, O_BLOCK },
    { "block-regex", required_argument, NULL, O_BLOCK_REGEX },
    { "block-user", required_argument, NULL, O_BLOCK_USER },
    { "hide", required_argument, NULL, O_HIDE },
    { "block-level", required_argument, NULL, O_BLOCK_LEVEL },
    { NULL, 0, NULL, 0 },
};

static const char *const mode_names[DM_MODE_COUNT] = {
    [DM_MODE_SCROLL] = "scroll", [DM_MODE_REVERSE] = "reverse", [DM_MODE_TOP] = "top",
    [DM_MODE_BOTTOM] = "bottom", [DM_MODE_POSITIONED] = "positioned",
};

const char *dm_filter_cli_mode_name(dm_mode mode)
{
    return (unsigned)mode < DM_MODE_COUNT ? mode_names[mode] : NULL;
}

struct option *dm_filter_cli_merge(struct option *own)
{
    struct option *all = own ? dm_cli_options_append(own, filter_options) : NULL;

    free(own);
    return all;
}

/* --hide LIST: comma-separated mode names and "coloured". */
static int apply_hide(dm_filter *f, const char *list, char *err, size_t errlen)
{
    const char *p = list;

    while (*p) {
        size_t len = strcspn(p, ",");
        int m, found = 0;
        for (m = 0; m < DM_MODE_COUNT; m++)
            if (strlen(mode_names[m]) == len && !strncmp(p, mode_names[m], len)) {
                dm_filter_hide_mode(f, (dm_mode)m, 1);
                found = 1;
            }
        if (!found && ((len == 8 && !strncmp(p, "coloured", 8)) || (len == 7 && !strncmp(p, "colored", 7)))) {
            dm_filter_hide_coloured(f, 1);
            found = 1;
        }
        if (!found) {
            snprintf(err, errlen, "--hide: '%.*s' is none of scroll, reverse, top, bottom, positioned, coloured",
                     (int)len, p);
            return -1;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

int dm_filter_cli_apply(dm_filter **filter, int code, const char *value, char *err, size_t errlen)
{
    dm_diag diag = { 0 };
    double level;

    if (code < O_BLOCK || code > O_BLOCK_LEVEL)
        return 0;
    if (!*filter && !(*filter = dm_filter_new())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    switch (code) {
    case O_BLOCK:
        if (dm_filter_add_keyword(*filter, value)) {
            snprintf(err, errlen, "--block: '%s' is empty or not valid UTF-8", value);
            return -1;
        }
        return 1;
    case O_BLOCK_REGEX:
        if (dm_filter_add_regex(*filter, value, &diag)) {
            snprintf(err, errlen, "--block-regex: %s", diag.error[0] ? diag.error : "out of memory");
            return -1;
        }
        return 1;
    case O_BLOCK_USER:
        if (dm_filter_add_user(*filter, value)) {
            snprintf(err, errlen, "--block-user: cannot add '%s'", value);
            return -1;
        }
        return 1;
    case O_HIDE:
        return apply_hide(*filter, value, err, errlen) ? -1 : 1;
    default:
        if (dm_parse_number(value, 0, DM_FILTER_MAX_LEVEL, &level) || level != (int)level) {
            snprintf(err, errlen, "--block-level wants a whole number from 0 to %d, got '%s'", DM_FILTER_MAX_LEVEL,
                     value);
            return -1;
        }
        dm_filter_set_level(*filter, (int)level);
        return 1;
    }
}

void dm_filter_cli_help(FILE *f)
{
    fputs("  --block WORD          hide comments containing WORD (repeatable; NFKC, any case)\n"
          "  --block-regex RE      hide comments matching RE (repeatable; PCRE2)\n"
          "  --block-user HASH     hide comments by this author (repeatable)\n"
          "  --hide LIST           hide kinds of comments: scroll, reverse, top, bottom, positioned,\n"
          "                        coloured (comma-separated, repeatable)\n"
          "  --block-level N       hide comments whose Bilibili weight is below N (0-10; 0: none)\n",
          f);
}
