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
    O_DENSITY, O_MERGE, O_KEEPOFF, O_STRICT, O_NOSTRICT, O_NOSUPERCHAT, O_GIFTS, O_NOGIFTS,
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
    { "keep-off", required_argument, NULL, O_KEEPOFF },
    { "strict", no_argument, NULL, O_STRICT },
    { "no-strict", no_argument, NULL, O_NOSTRICT },
    { "no-superchat", no_argument, NULL, O_NOSUPERCHAT },
    { "gifts", no_argument, NULL, O_GIFTS },
    { "no-gifts", no_argument, NULL, O_NOGIFTS },
    { NULL, 0, NULL, 0 },
};

struct option *dm_cli_options_append(const struct option *own, const struct option *more)
{
    size_t n = 0, k = 0;
    struct option *all;

    while (own && own[n].name)
        n++;
    while (more[k].name)
        k++;
    all = malloc((n + k + 1) * sizeof *all);
    if (!all)
        return NULL;
    if (n)
        memcpy(all, own, n * sizeof *all);
    memcpy(all + n, more, (k + 1) * sizeof *all); /* with its all-zero end */
    return all;
}

struct option *dm_layout_cli_merge(const struct option *own)
{
    return dm_cli_options_append(own, layout_options);
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

int dm_offset_parse(const char *s, int64_t *ms, char *err, size_t errlen)
{
    double v;

    if (!s || dm_parse_number(s, -86400, 86400, &v)) {
        snprintf(err, errlen, "--offset wants seconds (negative for earlier), within a day, got '%s'", s ? s : "");
        return -1;
    }
    *ms = (int64_t)llround(v * 1000.0);
    return 0;
}

/* One number of a keep-off box: "120" px, "0.25" or "25%" a fraction. */
static int keep_off_number(const char *s, size_t len, double *v, int *fraction)
{
    char buf[64];
    int percent;

    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    percent = buf[len - 1] == '%';
    if (percent)
        buf[--len] = 0;
    *fraction = percent || strchr(buf, '.') != NULL;
    if (dm_parse_number(buf, 0, 100000, v))
        return -1;
    if (percent)
        *v /= 100.0;
    return *fraction && *v > 1.0 ? -1 : 0;
}

int dm_keep_off_parse(const char *s, dm_keep_off *k)
{
    const char *p = s, *at = strchr(s, '@');
    const char *end = at ? at : s + strlen(s);
    double *fields[4] = { &k->x, &k->y, &k->w, &k->h };

    memset(k, 0, sizeof *k);
    for (int i = 0; i < 4; i++) {
        const char *comma = i < 3 ? memchr(p, ',', (size_t)(end - p)) : end;
        int fraction;
        if (!comma || keep_off_number(p, (size_t)(comma - p), fields[i], &fraction))
            return -1;
        k->fractions |= (unsigned)fraction << i;
        p = comma + 1;
    }
    if (k->w <= 0 || k->h <= 0)
        return -1;
    k->start_ms = 0;
    k->end_ms = DM_OBSTACLE_FOREVER_MS;
    if (at) {
        const char *dash = strchr(at + 1, '-');
        double a = 0, b = 0;
        char buf[64];
        size_t n;
        if (!dash)
            return -1;
        n = (size_t)(dash - (at + 1));
        if (n >= sizeof buf)
            return -1;
        memcpy(buf, at + 1, n);
        buf[n] = 0;
        if (n && dm_parse_number(buf, 0, 1e6, &a))
            return -1;
        if (dash[1] && dm_parse_number(dash + 1, 0, 1e6, &b))
            return -1;
        k->start_ms = (int64_t)llround(a * 1000);
        if (dash[1])
            k->end_ms = (int64_t)llround(b * 1000);
        if (k->end_ms <= k->start_ms)
            return -1;
    }
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
    case O_STRICT:
    case O_NOSTRICT:
        o->strict = code == O_STRICT;
        return 1;
    case O_KEEPOFF:
        if (o->keep_off_count >= DM_LAYOUT_MAX_KEEP_OFF) {
            snprintf(err, errlen, "--keep-off: at most %d boxes", DM_LAYOUT_MAX_KEEP_OFF);
            return -1;
        }
        if (dm_keep_off_parse(value, &o->keep_off[o->keep_off_count])) {
            snprintf(err, errlen, "--keep-off wants X,Y,W,H[@START-END] (stage pixels, or fractions such as "
                     "0.75 or 75%%; START and END in seconds, END after START), got '%s'", value);
            return -1;
        }
        o->keep_off_count++;
        return 1;
    case O_NOSUPERCHAT:
        o->superchats = 0;
        return 1;
    case O_GIFTS:
    case O_NOGIFTS:
        o->gifts = code == O_GIFTS;
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
          "  --merge SECONDS       merge equal comments (after normalisation) within this window (xN)\n"
          "  --strict, --no-strict\n"
          "                        no comment crosses any other, across modes too (a scrolling one never\n"
          "                        passes over a top or bottom one), or only within a mode\n"
          "  --keep-off X,Y,W,H[@START-END]\n"
          "                        keep comments off this box (repeatable): pixels of the stage, or\n"
          "                        fractions of it (0.75, 75%); START-END in seconds of film time\n"
          "  --no-superchat        live recordings: hide super chat cards (shown by default)\n"
          "  --gifts, --no-gifts   live recordings: show gift and guard lines (hidden by default)\n",
          f);
}
