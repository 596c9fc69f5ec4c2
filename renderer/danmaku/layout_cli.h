/*
 * layout_cli.h - the layout settings on the command line, shared by every
 * program that lays comments out (danmaku, danmaku-convert, danmaku-render),
 * so an option means the same everywhere and its help is written once.
 *
 *     struct option *opts = dm_layout_cli_merge(my_options);
 *     while ((c = getopt_long(argc, argv, "...", opts, NULL)) != -1) {
 *         int r = dm_layout_cli_apply(&layout, c, optarg, err, sizeof err);
 *         if (r < 0) fail(err); else if (r > 0) continue;
 *         switch (c) { ... my own options ... }
 *     }
 */
#ifndef DM_LAYOUT_CLI_H
#define DM_LAYOUT_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "danmaku.h"

#ifdef __cplusplus
extern "C" {
#endif

/* getopt_long values of the layout options; programs use values below this. */
#define DM_LAYOUT_CLI_FIRST 0x4C00

/*
 * A getopt_long table: the program's own entries (terminated by an all-zero
 * entry) followed by the layout options. malloc'd; NULL when out of memory.
 */
struct option *dm_layout_cli_merge(const struct option *own);

/*
 * The getopt_long table `own` followed by `more` (each terminated by an
 * all-zero entry; `own` may be NULL): malloc'd, NULL when out of memory.
 * The other option groups (filter_cli.h, subs_cli.h) merge with it.
 */
struct option *dm_cli_options_append(const struct option *own, const struct option *more);

/*
 * Apply option `code` with `value` to `opts`: 1 when it was a layout option,
 * 0 when it is not one (the program handles it), -1 when the value is bad
 * (a sentence naming the option in err). --font-px 0 is refused; programs
 * that size the font from the stage leave opts->font_px at 0 until set.
 */
int dm_layout_cli_apply(dm_layout_opts *opts, int code, const char *value, char *err, size_t errlen);

/*
 * Parse a keep-off box "X,Y,W,H[@START-END]": each of X, Y, W, H in stage
 * pixels ("120") or a fraction of the stage ("0.75", "75%"); START and END
 * in seconds of film time, either may be left out ("@60-", "@-90"). 0, or
 * -1 when malformed. Example: "0,0.75,1.0,0.25@10-70": the lower quarter
 * of the stage from 10 s to 70 s.
 */
int dm_keep_off_parse(const char *s, dm_keep_off *k);

/*
 * Parse a track's time offset (--offset S: seconds, negative allowed, up to
 * a day either way) into *ms; 0, or -1 with a sentence in err.
 */
int dm_offset_parse(const char *s, int64_t *ms, char *err, size_t errlen);

/* Parse a whole string as a finite number within [lo, hi]; 0 or -1. */
int dm_parse_number(const char *s, double lo, double hi, double *out);

/* Print the help lines of the layout options, in the programs' style. */
void dm_layout_cli_help(FILE *f);

#ifdef __cplusplus
}
#endif
#endif
