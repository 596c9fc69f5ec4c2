/* internal_text.h - helpers shared by the track readers and writers of dm_core
 * (not installed, not part of the public API): text sanitising, pushing a
 * sanitised comment, and line/column of a byte offset for messages. */
#ifndef DM_INTERNAL_TEXT_H
#define DM_INTERNAL_TEXT_H

#include <stddef.h>

#include "danmaku.h"

/* What dm_text_sanitize had to repair (bit flags). */
enum {
    DM_TEXT_FIXED_UTF8 = 1,      /* invalid UTF-8 replaced by U+FFFD */
    DM_TEXT_REMOVED_CONTROLS = 2 /* NUL, C0 and C1 controls removed */
};

/*
 * Make comment text safe to display: invalid UTF-8 becomes U+FFFD, NUL, C0
 * controls other than '\n' and C1 controls (U+0080-U+009F, which fonts draw
 * as boxes) are removed (a tab becomes a space), "\r\n" and "\r" become
 * "\n". Bilibili's "/n" is the Bilibili readers' business (bili_text.h).
 * `in` need not be NUL-terminated. On success *out is a malloc'd
 * NUL-terminated string and *fixes (may be NULL) receives DM_TEXT_* flags.
 * Returns 0 or DM_ENOMEM.
 */
int dm_text_sanitize(const char *in, size_t len, char **out, unsigned *fixes);

/*
 * Sanitise `len` bytes of `text`, store them in c->text and append a copy of
 * `c` to `track`. A comment whose text is empty after sanitising is kept
 * with a warning (the layout does not show it: reason "invalid"); repaired
 * UTF-8 gives a warning. `where` names the comment in messages ("line 12").
 * c->text is left NULL afterwards (the caller owns the rest of c). Returns 0
 * or DM_ENOMEM.
 */
int dm_push_comment(dm_track *track, dm_comment *c, const char *text, size_t len,
                    dm_diag *diag, const char *where);

/*
 * A comment the reader cannot show: warn "where: why, comment not shown"
 * and append it with c->rejected = `reason` (DM_REASON_MALFORMED or
 * DM_REASON_UNSUPPORTED), its text (may be NULL) sanitised, and no
 * positioned data: every comment of a file is accounted for. Returns 0 or
 * DM_ENOMEM.
 */
int dm_push_rejected(dm_track *track, dm_comment *c, int reason, const char *text, size_t len,
                     dm_diag *diag, const char *where, const char *why);

/* 1 when a writer of tracks leaves c out: rejected, or nothing to show. */
int dm_comment_unwritable(const dm_comment *c);

/* 1-based line and column of byte `offset` in `buf`. */
void dm_text_line_col(const char *buf, size_t len, size_t offset, unsigned long *line,
                      unsigned long *col);

#endif
