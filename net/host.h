/*
 * host.h - the host console's pieces that need no socket (dm_net internal):
 * the host token, login sessions and the limit on wrong tokens, the
 * console's JSON commands, the console's log of recent comments with their
 * status, comments waiting for approval or for a paused feed to resume, and
 * the comments-per-minute counter. console.c and http.c wire them to
 * libwebsockets; docs/protocol.md ("Host console") documents the messages.
 *
 * Thread-safety: none; the service thread only.
 */
#ifndef DM_NET_HOST_H
#define DM_NET_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "danmaku.h"
#include "moderation.h"
#include "net_validate.h"

#define DM_HOST_TOKEN_LEN 24          /* characters of a generated token */
#define DM_HOST_SID_LEN 32            /* characters of a session id */
#define DM_HOST_COOKIE "dm_host"      /* the session cookie's name */
#define DM_HOST_ID_LEN 48             /* comment ids ("6b04ce86-17") */
#define DM_HOST_WHO_LEN 16            /* author and address hashes */

/* ------------------------------------------------------------ auth */

typedef struct dm_host_auth dm_host_auth;

/* `token` NULL or empty: a random one. NULL when out of memory or no randomness. */
dm_host_auth *dm_host_auth_new(const char *token);
void dm_host_auth_free(dm_host_auth **a);
const char *dm_host_auth_token(const dm_host_auth *a);

/* 1 if the Authorization header value is "Bearer TOKEN" with the right token. */
int dm_host_auth_bearer(const dm_host_auth *a, const char *header);
/*
 * A login form's body ("token=..." urlencoded): with the right token, a new
 * session whose id goes to sid (DM_HOST_SID_LEN + 1 bytes) and 1; else 0.
 * The oldest session makes room when the table is full.
 */
int dm_host_auth_login(dm_host_auth *a, const char *body, size_t len, char *sid);
/*
 * The session a Cookie header value carries: 1 with its id in sid
 * (DM_HOST_SID_LEN + 1 bytes; may be NULL) if this run issued it and still
 * knows it, else 0 with sid "". A console keeps the id to notice when it ends.
 */
int dm_host_auth_cookie_session(const dm_host_auth *a, const char *header, char *sid);
/* 1 while a session id is known: issued, not logged out, not pushed out by newer logins. */
int dm_host_auth_session_live(const dm_host_auth *a, const char *sid);
/* Log out: every session the Cookie header value carries is forgotten. 1 if there was one. */
int dm_host_auth_logout(dm_host_auth *a, const char *header);

/* ------------------------------------------------------------ login limit */

#define DM_HOST_LOGIN_TRIES 5         /* wrong tokens one address may post... */
#define DM_HOST_LOGIN_WINDOW_S 60     /* ...within this many seconds */
#define DM_HOST_LOGIN_ADDRS 256       /* addresses remembered; the stalest makes room */
#define DM_HOST_ADDR_LEN 48           /* an IPv4 or IPv6 address as text */

/*
 * Wrong tokens posted to the login form, by client address: at most
 * DM_HOST_LOGIN_TRIES in any DM_HOST_LOGIN_WINDOW_S seconds. A fixed table
 * (all zero: empty), so a flood of addresses cannot grow it. Times are the
 * caller's clock in seconds (dm_now), so tests can pass their own.
 */
typedef struct dm_host_login_limit {
    struct {
        char addr[DM_HOST_ADDR_LEN];
        double fails[DM_HOST_LOGIN_TRIES];   /* the latest wrong tokens, a ring */
        unsigned count;                      /* how many of fails are set; 0: a free slot */
        unsigned next;                       /* the ring's next slot, its oldest once full */
        double last;                         /* the latest wrong token: the stalest slot is reused */
    } slots[DM_HOST_LOGIN_ADDRS];
} dm_host_login_limit;

/* Seconds (rounded up) before addr may post a token again; 0: now. */
unsigned dm_host_login_wait(const dm_host_login_limit *l, const char *addr, double now);
/* addr posted a wrong token. When the table is full, the address whose latest wrong token is oldest goes. */
void dm_host_login_failed(dm_host_login_limit *l, const char *addr, double now);
/* addr posted the right token: its wrong ones are forgotten. */
void dm_host_login_succeeded(dm_host_login_limit *l, const char *addr);
/* Addresses in the table (never more than DM_HOST_LOGIN_ADDRS). */
size_t dm_host_login_tracked(const dm_host_login_limit *l);

/* ------------------------------------------------------------ commands */

typedef enum dm_host_cmd_kind {
    DM_HOST_APPROVAL,        /* {"type":"approval","on":bool} */
    DM_HOST_APPROVE,         /* {"type":"approve","id"} */
    DM_HOST_REJECT,          /* {"type":"reject","id"} */
    DM_HOST_DELETE,          /* {"type":"delete","id"} */
    DM_HOST_BAN,             /* {"type":"ban","who"} */
    DM_HOST_UNBAN,           /* {"type":"unban","who"} */
    DM_HOST_SLOW_MODE,       /* {"type":"slow_mode","seconds":N} */
    DM_HOST_RATE_CAP,        /* {"type":"rate_cap","per_minute":N} */
    DM_HOST_ADD_RULE,        /* {"type":"add_rule","kind":"keyword"|"regex","pattern"} */
    DM_HOST_REMOVE_RULE,     /* {"type":"remove_rule","rule":N} */
    DM_HOST_PREVIEW,         /* {"type":"preview","kind","pattern"} */
    DM_HOST_PAUSE,           /* {"type":"pause"} */
    DM_HOST_RESUME,          /* {"type":"resume"} */
    DM_HOST_CLEAR,           /* {"type":"clear"} */
    DM_HOST_PING,            /* {"type":"ping"} */
    DM_HOST_STATS,           /* {"type":"stats"}: the figures now (they also come every second) */
    /* the film and the night (docs/protocol.md, "Film controls"); carried out by the player */
    DM_HOST_FILM_PLAY,       /* {"type":"film_play"} */
    DM_HOST_FILM_PAUSE,      /* {"type":"film_pause"} */
    DM_HOST_FILM_SEEK,       /* {"type":"film_seek","seconds":N}, 0 <= N */
    DM_HOST_FILM_SEEK_BY,    /* {"type":"film_seek_by","seconds":N}, negative: back */
    DM_HOST_FILM_NEXT,       /* {"type":"film_next"} */
    DM_HOST_FILM_PREV,       /* {"type":"film_prev"} */
    DM_HOST_FILM_JUMP,       /* {"type":"film_jump","entry":N}, 0-based */
    DM_HOST_FILM_VOLUME,     /* {"type":"film_volume","volume":N}, 0..100 */
    DM_HOST_BREAK_NOW,       /* {"type":"break_now"}: the intermission ends, the next film starts */
    DM_HOST_BREAK_ADD,       /* {"type":"break_add","seconds":N}, 0 < N <= 3600 */
} dm_host_cmd_kind;

typedef struct dm_host_cmd {
    dm_host_cmd_kind kind;
    char id[DM_HOST_ID_LEN];  /* approve, reject, delete */
    char who[DM_HOST_WHO_LEN];/* ban, unban */
    int on;                   /* approval */
    double value;             /* slow_mode seconds, rate_cap per minute; film_seek, film_seek_by, break_add seconds,
                                 film_volume volume, film_jump entry */
    int is_regex;             /* add_rule, preview */
    char *pattern;            /* add_rule, preview: malloc'd, the caller frees */
    uint32_t rule;            /* remove_rule */
} dm_host_cmd;

/* Parse one console message: DM_NET_OK, or DM_NET_BAD_JSON, DM_NET_UNKNOWN_TYPE,
 * DM_NET_BAD_MESSAGE (the registry's codes, net_errors.h). */
dm_net_err dm_host_parse(const char *buf, size_t len, dm_host_cmd *cmd);

/* ------------------------------------------------------------ log */

typedef enum dm_host_status {
    DM_HOST_SHOWN,           /* accepted and sent to the screen */
    DM_HOST_HELD,            /* waiting for approval */
    DM_HOST_WAITING,         /* waiting for the feed to resume */
    DM_HOST_REJECTED,        /* refused (reason says why) */
    DM_HOST_DELETED,         /* deleted by the host after it was shown */
} dm_host_status;

const char *dm_host_status_name(dm_host_status s);

/* One incoming comment as the console lists it. */
typedef struct dm_host_entry {
    char id[DM_HOST_ID_LEN];
    char author[DM_HOST_WHO_LEN];   /* connection identity */
    char address[DM_HOST_WHO_LEN];  /* address hash (the recording's author) */
    int64_t t_ms;                   /* film time: arrival, or acceptance once shown */
    char *text;                     /* owned */
    uint32_t color;
    dm_mode mode;
    dm_size size;
    dm_host_status status;          /* change it with dm_host_log_set_status, which keeps the counts */
    int reason;                     /* rejected: why, a dm_net_err (net_errors.h); -1 otherwise */
    int in_flight;                  /* released, being recorded: no decision or delete applies until it is shown */
    void *owner;                    /* held/waiting: the sender's connection, NULL once it left */
    int remote;                     /* held at another gateway of the screening (the comment bus): decided there */
    int32_t hnext;                  /* the log's index: next slot with the same hash, -1 none */
} dm_host_entry;

/*
 * The console's list: the newest `cap` comments, oldest first, found by id
 * in constant time (a hash index), with the number held and waiting kept as
 * statuses change, so no decision scans the list. Held and waiting comments
 * are those of the list (arrival order is list order); one pushed out by
 * `cap` newer comments can no longer be decided on.
 */
typedef struct dm_host_log dm_host_log;

dm_host_log *dm_host_log_new(size_t cap);
void dm_host_log_free(dm_host_log **l);
/* Append (the oldest entry goes when full); text is copied. NULL when out of memory. */
dm_host_entry *dm_host_log_add(dm_host_log *l, const dm_host_entry *e);
dm_host_entry *dm_host_log_find(dm_host_log *l, const char *id);
size_t dm_host_log_count(const dm_host_log *l);
dm_host_entry *dm_host_log_at(dm_host_log *l, size_t i);      /* 0 = oldest */
/* Set an entry's status and reason (-1: none), keeping the counts below. */
void dm_host_log_set_status(dm_host_log *l, dm_host_entry *e, dm_host_status st, int reason);
size_t dm_host_log_held(const dm_host_log *l);                /* entries held for approval */
size_t dm_host_log_waiting(const dm_host_log *l);             /* entries waiting for the feed to resume */
/* A connection left: its waiting comments are no longer answered. */
void dm_host_log_forget_owner(dm_host_log *l, const void *owner);

/* {"type":"comment",...} or {"type":"status",...} for the console; malloc'd. */
char *dm_host_entry_json(const dm_host_entry *e, int full);

/* ------------------------------------------------------------ rate */

/* Comments in the last 60 s, by second. */
typedef struct dm_host_rate {
    uint32_t buckets[60];
    int64_t second[60];
} dm_host_rate;

void dm_host_rate_add(dm_host_rate *r, double now);
unsigned dm_host_rate_per_minute(const dm_host_rate *r, double now);

/* {"type":"state",...}: the settings in force, rules with hits, bans. malloc'd. */
char *dm_host_state_json(dm_moderation *m, size_t held, size_t waiting);

#endif
