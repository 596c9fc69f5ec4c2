/*
 * net_errors.h - the one registry of the error codes clients see: the
 * audience's WebSocket (refusals by the protocol checks, by the host's rules,
 * by the recording) and the host console. Each code has one stable name and
 * one sentence for people; a few errors say something of the moment instead
 * (how long to wait, why a rule is refused), through
 * dm_net_error_json_says. docs/protocol.md ("Error codes") lists them all.
 *
 * Thread-safety: the functions are reentrant (static tables, malloc'd JSON).
 */
#ifndef DM_NET_ERRORS_H
#define DM_NET_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Stable error codes (docs/protocol.md); numbers never change meaning, new ones go at the end. */
typedef enum dm_net_err {
    DM_NET_OK = 0,
    DM_NET_BAD_JSON,          /* "bad_json": not a JSON object (a raw NUL byte included) */
    DM_NET_BAD_MESSAGE,       /* "bad_message": no "type", or a field missing or of the wrong type */
    DM_NET_UNKNOWN_TYPE,      /* "unknown_type" */
    DM_NET_BAD_TEXT,          /* "bad_text": missing text, invalid UTF-8, NUL or lone surrogate */
    DM_NET_EMPTY_TEXT,        /* "empty_text": nothing visible once cleaned */
    DM_NET_TOO_LONG,          /* "too_long": over the character or grapheme cap */
    DM_NET_BAD_COLOR,         /* "bad_color": not one of the palette's colours */
    DM_NET_BAD_MODE,          /* "bad_mode" */
    DM_NET_BAD_SIZE,          /* "bad_size" */
    DM_NET_RATE_LIMITED,      /* "rate_limited": the sender's token bucket is empty */
    DM_NET_BUSY,              /* "busy": the player's queue, the global rate cap or the host's request queue is full */
    DM_NET_TOO_MANY_CONNECTIONS, /* "too_many_connections": per-address or total cap */
    DM_NET_BINARY,            /* "binary_not_supported" */
    DM_NET_INTERNAL,          /* "internal": out of memory */
    DM_NET_BLOCKED,           /* "blocked": a blocklist rule matched */
    DM_NET_BANNED,            /* "banned": the author or address is banned */
    DM_NET_SLOW_MODE,         /* "slow_mode": too soon after the author's previous comment */
    DM_NET_REJECTED,          /* "rejected": the host rejected it in approval mode */
    DM_NET_NOT_RECORDED,      /* "not_recorded": the recording cannot be written (disk full...) */
    DM_NET_UNKNOWN_ID,        /* console: "unknown_id": no such comment in the console's list */
    DM_NET_NOT_PENDING,       /* console: "not_pending": approve or reject of a comment not waiting */
    DM_NET_NOT_SHOWN,         /* console: "not_shown": delete of a comment not on screen */
    DM_NET_BAD_RULE,          /* console: "bad_rule": a rule that cannot be used (the message says why) */
    DM_NET_BAD_VALUE,         /* console: "bad_value": a ban, unban or rule id that does not apply */
    DM_NET_INTERMISSION,      /* "intermission": a night's break between films: comments wait for the next film */
    DM_NET_UNAVAILABLE,       /* "unavailable": a gateway cannot reach the comment bus (NATS): not stored, not shown */
    DM_NET_ERR_COUNT
} dm_net_err;

const char *dm_net_err_code(dm_net_err e);     /* "bad_json", ...; "internal" for a number out of range */
const char *dm_net_err_message(dm_net_err e);  /* the sentence for people */

/* {"type":"error","code":...,"message":...}, with "retry_ms" for rate_limited when retry_ms > 0. malloc'd. */
char *dm_net_error_json(dm_net_err e, int retry_ms);
/* The same with a sentence of the moment (NULL or "": the registry's). malloc'd. */
char *dm_net_error_json_says(dm_net_err e, const char *message);

/* slow_mode's refusal, with the interval in "every_s" (the pages say it in their language). */
char *dm_net_error_json_slow(const char *message, double every_s);

#ifdef __cplusplus
}
#endif
#endif
