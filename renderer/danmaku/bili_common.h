/*
 * bili_common.h - what the two Bilibili readers (XML: read_bilibili.c,
 * protobuf segments: read_protobuf.c) share: the meaning of Bilibili's modes
 * and sizes, positioned (mode 7) comments, and the text rules (internal to
 * dm_core, not installed).
 */
#ifndef DM_BILI_COMMON_H
#define DM_BILI_COMMON_H

#include <stddef.h>

#include "danmaku.h"

/* Bilibili font size (18/25/36, others seen) to the nearest size class. */
dm_size dm_bili_size_class(long long px);

/* Bilibili mode (1-9) to ours: 8 and 9 come as scrolling, and bili_mode makes them unsupported. */
dm_mode dm_bili_mode(int bili_mode);

/* Parse all of s (spaces around allowed) as a finite double; 0 or -1. */
int dm_bili_parse_double(const char *s, double *v);

/* What a reader tells once per file rather than once per comment. */
typedef struct dm_bili_state {
    size_t cut_arrays;        /* positioned comments read from a JSON array cut short */
} dm_bili_state;

/*
 * Append one Bilibili comment to track: c has its fields set (t_ms,
 * bili_mode, size, color, ...; mode is set here from bili_mode), `content`
 * is its text, for mode 7 the JSON array. Mode 7 is parsed, leniently when
 * the array is cut short ("...,\"text\",0," as real files hold them: the
 * database cut the field), as long as position, alpha, duration and text
 * are there. Text rules, once for every output: in positioned comments "/n"
 * is a newline, and in every comment a literal backslash-n is one. A
 * positioned comment that cannot be read is kept rejected (malformed), with
 * a warning naming `where`. 0 or DM_ENOMEM.
 */
int dm_bili_push(dm_track *track, dm_comment *c, const char *content, size_t len, dm_diag *diag,
                 const char *where, dm_bili_state *st);

/* The warnings a file's state calls for, after its last comment. */
void dm_bili_finish(const dm_bili_state *st, dm_diag *diag);

#endif
