/*
 * filter_cli.h - the comment filters on the command line, shared by every
 * program that shows or converts comments (danmaku, danmaku-convert,
 * danmaku-render): --block, --block-regex, --block-user, --hide and
 * --block-level mean the same everywhere and their help is written once.
 * Used like layout_cli.h:
 *
 *     struct option *opts = dm_filter_cli_merge(dm_layout_cli_merge(mine));
 *     ...  r = dm_filter_cli_apply(&filter, c, optarg, err, sizeof err);
 */
#ifndef DM_FILTER_CLI_H
#define DM_FILTER_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "danmaku.h"

/* getopt_long values of the filter options; programs use values below DM_LAYOUT_CLI_FIRST. */
#define DM_FILTER_CLI_FIRST 0x4D00

/*
 * The program's table (terminated by an all-zero entry, malloc'd: it is
 * freed) followed by the filter options; malloc'd, NULL when out of memory
 * (own is freed then too, and NULL is passed through).
 */
struct option *dm_filter_cli_merge(struct option *own);

/*
 * Apply option `code` with `value`: 1 when it was a filter option (*filter
 * is made on first use), 0 when it is not one, -1 when the value is bad (a
 * sentence naming the option in err).
 */
int dm_filter_cli_apply(dm_filter **filter, int code, const char *value, char *err, size_t errlen);

/*
 * The names --hide takes, in the order of dm_mode, then "coloured":
 * "scroll", "reverse", "top", "bottom", "positioned". NULL past the end.
 */
const char *dm_filter_cli_mode_name(dm_mode mode);

/* Print the help lines of the filter options, in the programs' style. */
void dm_filter_cli_help(FILE *f);

#endif
