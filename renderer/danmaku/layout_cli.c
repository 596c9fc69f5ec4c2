/*
 * layout_cli.c - parsing the layout options every program shares
 * (see layout_cli.h).
 */
#include "layout_cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    O_FONTPX = DM_LAYOUT_CLI_FIRST, O_SCROLL, O_FIXED, O_OVERFLOW, O_MAXDELAY, O_AREA, O_GAP, O_LINEGAP,
    O_DENSITY, O_MERGE,
};

static const struct option layout_options[] = {
    { "font-px", required_argument, NULL, O_FONTPX },
    { "scroll", required_argument, NULL, O_SCROLL },
    { "fixed", required_argument, NULL, O_FIXED },
    { "overflow", required_argument, NULL, O_OVERFLOW },
    { "max-delay", required_argument, NULL, O_MAXDELAY },
    { "area", required_argument, NULL, O_AREA },
    { "gap", required_argument, NULL, O_GAP },
    { "line-gap", required_argument, NULL, O_LINEGAP },
    { "density", required_argument, NULL, O_DENSITY },
    { "merge", required_argument, NULL, O_MERGE },
    { NULL, 0, NULL, 0 },
};

struct option *dm_layout_cli_merge(const struct option *own)
{
    size_t n = 0, k = sizeof layout_options / sizeof layout_options[0];
    struct option *all;

    while (own && own[n].name)
        n++;
    all = malloc((n + k) * sizeof *all);
    if (!all)
        return NULL;
    if (n)
        memcpy(all, own, n * sizeof *all);
    memcpy(all + n, layout_options, k * sizeof *all);
    return all;
}

int dm_parse_number(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int dm_layout_cli_apply(dm_layout_opts *o, int code, const char *value, char *err, size_t errlen)
{
    double v;

    switch (code) {
    case O_FONTPX:
        if (dm_parse_number(value, 4, 4096, &v) || v != floor(v))
            goto bad;
        o->font_px = (int)v;
        return 1;
    case O_SCROLL:
    case O_FIXED:
        if (dm_parse_number(value, 0.1, 600, &v))
            goto bad;
        *(code == O_SCROLL ? &o->scroll_ms : &o->fixed_ms) = (int)lround(v * 1000);
        return 1;
    case O_MAXDELAY:
    case O_MERGE:
        if (dm_parse_number(value, 0, 600, &v))
            goto bad;
        *(code == O_MAXDELAY ? &o->max_delay_ms : &o->merge_window_ms) = (int)lround(v * 1000);
        return 1;
    case O_OVERFLOW: {
        int p = dm_overflow_from_name(value);
        if (p < 0)
            goto bad;
        o->overflow = (dm_overflow)p;
        return 1;
    }
    case O_AREA:
        if (dm_parse_number(value, 0.01, 1, &o->area))
            goto bad;
        return 1;
    case O_GAP:
    case O_LINEGAP:
    case O_DENSITY:
        if (dm_parse_number(value, 0, 100000, &v) || v != floor(v))
            goto bad;
        *(code == O_GAP ? &o->min_gap_px : code == O_LINEGAP ? &o->line_gap_px : &o->density_cap) = (int)v;
        return 1;
    default:
        return 0;
    }
bad:
    for (const struct option *lo = layout_options; lo->name; lo++)
        if (lo->val == code)
            snprintf(err, errlen, "--%s: '%s' is not valid (see --help)", lo->name, value);
    return -1;
}

void dm_layout_cli_help(FILE *f)
{
    fputs("  --font-px N           box height of a normal comment in px\n"
          "  --scroll SECONDS      time a scrolling comment takes to cross (default 8)\n"
          "  --fixed SECONDS       time a top/bottom comment stays (default 4)\n"
          "  --overflow POLICY     when no lane is free: delay (default), drop or overlay\n"
          "  --max-delay SECONDS   longest hold under 'delay' (default 1)\n"
          "  --area FRACTION       share of the stage height comments may use (default 1)\n"
          "  --gap PX              horizontal gap between comments in a lane (default font-px / 3)\n"
          "  --line-gap PX         vertical gap between lines (default 0)\n"
          "  --density N           at most N comments on screen (default: no cap)\n"
          "  --merge SECONDS       merge equal comments (after normalisation) within this window (xN)\n",
          f);
}
