/*
 * subs_cli.h - the subtitle options on the command line, shared by every
 * program that shows or avoids film subtitles (danmaku, danmaku-render,
 * danmaku-convert), and the one way they set up a film's subtitles and
 * hand their boxes to the comment scene.
 *
 *     struct option *opts = dm_subs_cli_merge(dm_layout_cli_merge(my_options));
 *     ... r = dm_subs_cli_apply(&subs_cli, c, optarg, err, sizeof err) ...
 *     dm_subs_cli_open(&subs_cli, film, stage_w, stage_h, &subs, err, sizeof err);
 *     dm_subs_cli_update(&subs_cli, subs, 1, scene, &layout_for_the_stage, INT64_MIN, err, sizeof err);
 */
#ifndef DM_SUBS_CLI_H
#define DM_SUBS_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "danmaku.h"
#include "subs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* getopt_long values of the subtitle options (beside layout_cli.h's). */
#define DM_SUBS_CLI_FIRST 0x5300
#define DM_SUBS_CLI_MAX_FILES 16

typedef struct dm_subs_cli {
    const char *files[DM_SUBS_CLI_MAX_FILES]; /* --sub FILE, in order */
    int n_files;
    int auto_load;           /* 1: FILM.srt & co. beside the film too (--no-sub-auto: 0) */
    const char *codepage;    /* --sub-codepage, NULL: detect */
    int sid;                 /* --sid: DM_SUBS_SID_AUTO, DM_SUBS_SID_NO or 1..N */
    const char *slang;       /* --slang "zh,en" */
    int64_t delay_ms;        /* --sub-delay */
    double scale;            /* --sub-scale */
    int avoid;               /* --sub-avoid: 1 exact (comments keep off the subtitles), 0 none */
} dm_subs_cli;

#define DM_SUBS_CLI_DEFAULT { .auto_load = 1, .sid = DM_SUBS_SID_AUTO, .scale = 1.0, .avoid = 1 }

/* `own` (terminated by an all-zero entry) followed by the subtitle options; malloc'd, `own` is freed. */
struct option *dm_subs_cli_merge(struct option *own);

/* As dm_layout_cli_apply: 1 taken, 0 not a subtitle option, -1 bad value (a sentence in err). */
int dm_subs_cli_apply(dm_subs_cli *o, int code, const char *value, char *err, size_t errlen);

void dm_subs_cli_help(FILE *f);

/*
 * Open the film's subtitles as the options say (film may be NULL: only the
 * --sub files, for a stage of stage_w x stage_h). *out is NULL and 0 is
 * returned when there is nothing to do (--sid no and no --sub). Errors name
 * the file and what was wrong with it.
 */
int dm_subs_cli_open(const dm_subs_cli *o, const char *film, int stage_w, int stage_h, dm_subs **out, char *err,
                     size_t errlen);

/*
 * Lay the scene out for `lo` (NULL: its own settings) with the boxes of the
 * selected track on that stage as its obstacles from from_ms on (INT64_MIN:
 * the whole film): none when subs is NULL, nothing is selected, `visible`
 * is 0 or --sub-avoid none. One layout again for both. 0 or a negative DM_E*
 * with err filled.
 */
int dm_subs_cli_update(const dm_subs_cli *o, dm_subs *subs, int visible, dm_scene *scene,
                       const dm_layout_opts *lo, int64_t from_ms, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
