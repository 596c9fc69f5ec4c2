/*
 * subs_cli.c - the subtitle options every program shares (see subs_cli.h).
 */
#include "subs_cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layout_cli.h"

enum {
    O_SUB = DM_SUBS_CLI_FIRST, O_SID, O_SLANG, O_DELAY, O_SCALE, O_CODEPAGE, O_AVOID, O_NOAUTO,
};

static const struct option subs_options[] = {
    { "sub", required_argument, NULL, O_SUB },
    { "sid", required_argument, NULL, O_SID },
    { "slang", required_argument, NULL, O_SLANG },
    { "sub-delay", required_argument, NULL, O_DELAY },
    { "sub-scale", required_argument, NULL, O_SCALE },
    { "sub-codepage", required_argument, NULL, O_CODEPAGE },
    { "sub-avoid", required_argument, NULL, O_AVOID },
    { "no-sub-auto", no_argument, NULL, O_NOAUTO },
    { NULL, 0, NULL, 0 },
};

struct option *dm_subs_cli_merge(struct option *own)
{
    struct option *all = own ? dm_cli_options_append(own, subs_options) : NULL;

    free(own);
    return all;
}

/* A whole string as a number in [lo, hi]. */
static int number(const char *s, double lo, double hi, double *out)
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

int dm_subs_cli_apply(dm_subs_cli *o, int code, const char *value, char *err, size_t errlen)
{
    double v;

    switch (code) {
    case O_SUB:
        if (o->n_files == DM_SUBS_CLI_MAX_FILES) {
            snprintf(err, errlen, "--sub: at most %d files", DM_SUBS_CLI_MAX_FILES);
            return -1;
        }
        o->files[o->n_files++] = value;
        return 1;
    case O_SID:
        if (!strcmp(value, "no")) {
            o->sid = DM_SUBS_SID_NO;
        } else if (!strcmp(value, "auto")) {
            o->sid = DM_SUBS_SID_AUTO;
        } else if (!number(value, 1, 1000, &v) && v == floor(v)) {
            o->sid = (int)v;
        } else {
            snprintf(err, errlen, "--sid wants a track number (1, 2...), 'no' or 'auto', got '%s'", value);
            return -1;
        }
        return 1;
    case O_SLANG:
        o->slang = value;
        return 1;
    case O_DELAY:
        if (number(value, -86400, 86400, &v)) {
            snprintf(err, errlen, "--sub-delay wants seconds (e.g. 0.5 or -1.2), got '%s'", value);
            return -1;
        }
        o->delay_ms = (int64_t)llround(v * 1000);
        return 1;
    case O_SCALE:
        if (number(value, 0.1, 10, &v)) {
            snprintf(err, errlen, "--sub-scale wants a factor from 0.1 to 10, got '%s'", value);
            return -1;
        }
        o->scale = v;
        return 1;
    case O_CODEPAGE:
        o->codepage = value;
        return 1;
    case O_AVOID:
        if (strcmp(value, "exact") && strcmp(value, "none")) {
            snprintf(err, errlen, "--sub-avoid wants 'exact' or 'none', got '%s'", value);
            return -1;
        }
        o->avoid = !strcmp(value, "exact");
        return 1;
    case O_NOAUTO:
        o->auto_load = 0;
        return 1;
    default:
        return 0;
    }
}

void dm_subs_cli_help(FILE *f)
{
    fputs("  --sub FILE            subtitle file (.srt .ass .ssa .vtt; repeatable); FILM.srt and the like\n"
          "                        beside the film are loaded too (--no-sub-auto: not)\n"
          "  --sid N|no|auto       subtitle track (default: the film's default or forced one, else the\n"
          "                        first in --slang)\n"
          "  --slang LIST          preferred subtitle languages, e.g. zh,en\n"
          "  --sub-delay SECONDS   show subtitles later (or earlier, negative)\n"
          "  --sub-scale F         subtitle size factor (0.1..10)\n"
          "  --sub-codepage NAME   encoding of subtitle files (default: detected; e.g. GBK, BIG5, SHIFT_JIS)\n"
          "  --sub-avoid exact|none  comments keep off the subtitles exactly (default), or ignore them\n",
          f);
}

int dm_subs_cli_open(const dm_subs_cli *o, const char *film, int stage_w, int stage_h, dm_subs **out, char *err,
                     size_t errlen)
{
    dm_subs_opts so = DM_SUBS_OPTS_DEFAULT;

    *out = NULL;
    if (o->sid == DM_SUBS_SID_NO && o->n_files == 0)
        return 0;
    so.files = o->files;
    so.n_files = (size_t)o->n_files;
    so.auto_load = o->auto_load && film;
    so.codepage = o->codepage;
    so.sid = o->sid;
    so.slang = o->slang;
    so.delay_ms = o->delay_ms;
    so.scale = o->scale;
    so.video_w = film ? 0 : stage_w;
    so.video_h = film ? 0 : stage_h;
    return dm_subs_open(out, film, &so, err, errlen);
}

int dm_subs_cli_update(const dm_subs_cli *o, dm_subs *subs, int visible, dm_scene *scene,
                       const dm_layout_opts *lo, int64_t from_ms, char *err, size_t errlen)
{
    dm_layout_opts now = lo ? *lo : *dm_scene_layout_opts(scene);
    dm_obstacle *obs = NULL;
    dm_diag diag = { 0 };
    size_t n = 0;
    int rc = 0;

    if (subs && visible && o->avoid && dm_subs_sid(subs) != DM_SUBS_SID_NO)
        rc = dm_subs_obstacles(subs, now.stage_w, now.stage_h, &obs, &n, err, errlen);
    if (rc == 0) {
        rc = dm_scene_update(scene, &now, obs, n, from_ms, &diag);
        if (rc)
            dm_set_err(err, errlen, "cannot lay the comments out: %s", diag.error[0] ? diag.error : dm_strerror(rc));
    }
    free(obs);
    return rc;
}
