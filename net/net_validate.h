/*
 * net_validate.h - checking one message from the audience: JSON parsing
 * (cJSON), the comment's fields against their sets and palette, and the text
 * sanitised (utf8proc): controls, bidi overrides and zero-width characters
 * removed, combining marks limited, length capped in characters and grapheme
 * clusters. Pure C, no sockets, so it is unit tested on its own.
 *
 * Thread-safety: the functions are reentrant.
 */
#ifndef DM_NET_VALIDATE_H
#define DM_NET_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "danmaku.h"
#include "net_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The value of a hex digit, or -1 (JSON unicode escapes, urlencoded forms). */
int dm_net_hexval(char c);

/* Text caps. */
typedef struct dm_net_limits {
    int max_chars;            /* code points after cleaning */
    int max_graphemes;        /* grapheme clusters after cleaning */
    int max_marks;            /* combining marks kept after one base character */
} dm_net_limits;

#define DM_NET_LIMITS_DEFAULT { .max_chars = 100, .max_graphemes = 60, .max_marks = 2 }

/* The palette: the only colours a client may choose (0xRRGGBB). */
extern const uint32_t dm_net_palette[];
extern const size_t dm_net_palette_count;

/* What a message asked for. */
typedef enum dm_net_kind {
    DM_NET_MSG_COMMENT = 0,   /* {"type":"comment",...} */
    DM_NET_MSG_SUBSCRIBE,     /* {"type":"subscribe"}: send me accepted comments */
    DM_NET_MSG_PING,          /* {"type":"ping"}: answered with {"type":"pong"} */
} dm_net_kind;

/* A checked comment. `text` is malloc'd (free it) and clean. */
typedef struct dm_net_submission {
    dm_net_kind kind;
    char *text;
    dm_mode mode;
    dm_size size;
    uint32_t color;
} dm_net_submission;

/*
 * Check one text message of `len` bytes. On DM_NET_OK *out is filled (for a
 * comment, out->text is owned by the caller); otherwise *out holds nothing to
 * free. Unknown keys are ignored so clients may add fields.
 */
dm_net_err dm_net_parse_message(const char *buf, size_t len, const dm_net_limits *lim,
                                dm_net_submission *out);

/*
 * Clean a comment's text (valid UTF-8 of len bytes, no NUL): C0/C1 controls,
 * every format character (bidi overrides and marks, zero-width spaces, BOM;
 * a zero-width joiner survives only between two symbols, as in emoji
 * sequences) and combining marks beyond lim->max_marks are removed,
 * whitespace runs become one space, both ends are trimmed. *out is malloc'd.
 * DM_NET_EMPTY_TEXT if nothing visible is left, DM_NET_TOO_LONG over the
 * caps, DM_NET_BAD_TEXT for invalid UTF-8.
 */
dm_net_err dm_net_clean_text(const char *text, size_t len, const dm_net_limits *lim, char **out);

#ifdef __cplusplus
}
#endif
#endif
