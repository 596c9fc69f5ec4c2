/*
 * moderation.h - keeping a live screening civil (dm_moderation): the
 * decisions a host's console drives, as plain data with no sockets, so they
 * can be tested on their own and loaded from a file before the event.
 *
 * - blocklist: keyword and regex rules, matched after Unicode normalisation
 *   (NFKC + case folding, so "ＳＰＡＭ" and "spam" meet the same rule), editable
 *   live, with a preview of what a new rule would have blocked recently;
 * - bans: an author (connection identity) or an address hash, for the rest of
 *   the screening;
 * - slow mode: the least time between two comments of one author (authors
 *   are forgotten once slow mode would let them comment anyway);
 * - a global rate cap over all authors;
 * - approval mode: comments wait for the host's approve or reject;
 * - a paused feed: comments wait until it resumes.
 *
 * Settings file (JSON, see docs/moderation.md):
 *     {"approval": false, "slow_mode_s": 5, "global_rate_per_min": 600,
 *      "blocklist": [{"keyword": "spam"}, {"regex": "buy\\s+now"}],
 *      "banned": ["3f2a9c"]}
 *
 * Thread-safety: none; the server calls it from its service thread only.
 */
#ifndef DM_MODERATION_H
#define DM_MODERATION_H

#include <stddef.h>
#include <stdint.h>

#include "danmaku.h"
#include "net_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dm_moderation dm_moderation;

/* What happens to a comment that passed the protocol checks. */
typedef enum dm_mod_verdict {
    DM_MOD_ACCEPT = 0,        /* show it now */
    DM_MOD_HOLD = 1,          /* approval mode: wait for the host */
    DM_MOD_WAIT = 2,          /* the feed is paused: show it when it resumes */
    DM_MOD_REJECT = 3,        /* refused: code and message say why */
} dm_mod_verdict;

/* Why comments were refused; indexes of dm_mod_stats.rejected. */
typedef enum dm_mod_reason {
    DM_MOD_BLOCKED = 0,       /* "blocked": a blocklist rule matched */
    DM_MOD_BANNED = 1,        /* "banned": the author or address is banned */
    DM_MOD_SLOW = 2,          /* "slow_mode": too soon after the author's last one */
    DM_MOD_BUSY = 3,          /* "busy": the global rate cap is reached */
    DM_MOD_REJECTED = 4,      /* "rejected": the host rejected it in approval mode */
    DM_MOD_REASON_COUNT = 5
} dm_mod_reason;

/* The registry's error for a reason (net_errors.h), and its code ("blocked", ...). */
dm_net_err dm_mod_reason_err(dm_mod_reason r);
const char *dm_mod_reason_code(dm_mod_reason r);

typedef struct dm_mod_rule {
    uint32_t id;              /* stable handle for removal */
    int is_regex;             /* 0: keyword, 1: regular expression */
    const char *pattern;      /* as the host typed it; owned by the moderation */
    uint64_t hits;            /* comments it has blocked */
    uint64_t limit_hits;      /* matches that reached pcre2's limits (counted as no match) */
} dm_mod_rule;

typedef struct dm_mod_stats {
    uint64_t checked;                         /* comments seen */
    uint64_t accepted;                        /* passed straight through */
    uint64_t rejected[DM_MOD_REASON_COUNT];   /* refused, by reason */
} dm_mod_stats;

dm_moderation *dm_mod_new(void);
void dm_mod_free(dm_moderation **m);

/*
 * Load settings from a JSON file (format above). Unknown keys are an error,
 * so a typo does not silently leave a rule out. 0, or DM_EPARSE/DM_EIO/
 * DM_EINVAL with a sentence in err naming the file and the offending entry.
 */
int dm_mod_load_file(dm_moderation *m, const char *path, char *err, size_t errlen);

/*
 * The comment bus (docs/scale.md): the settings that every gateway of a
 * screening shares, in the file's format (malloc'd, NULL when out of
 * memory), and the same applied in place of m's (rules, bans, slow mode,
 * rate cap, approval, pause; who commented when and the figures stay).
 * Checked whole before anything changes: 0, or DM_E* with err and m as it was.
 */
char *dm_mod_settings_json(const dm_moderation *m);
int dm_mod_apply_settings(dm_moderation *m, const char *json, size_t len, char *err, size_t errlen);

/*
 * Decide on one comment at `now` (seconds, any monotonic clock). `author`
 * and `address` are opaque hashes (either may be NULL). A refusal sets
 * *reason. Accepted and held comments count towards slow mode and the rate
 * cap; refused ones do not. Every text checked is remembered (the last 500)
 * for rule previews.
 */
dm_mod_verdict dm_mod_check(dm_moderation *m, const char *author, const char *address, const char *text,
                            double now, dm_mod_reason *reason);

/* Human sentence for a refusal, given the settings in force: the registry's,
 * but slow mode names its interval ("Slow mode: one comment every 5 s.").
 * Static or internal buffer; valid until the next call. */
const char *dm_mod_message(dm_moderation *m, dm_mod_reason reason);

/* Blocklist. Adding returns the rule id (> 0) or a negative DM_E* with the
 * reason (bad regex, empty keyword, a regex that backtracks without end on
 * probe texts) in err. */
int dm_mod_add_rule(dm_moderation *m, int is_regex, const char *pattern, char *err, size_t errlen);
int dm_mod_remove_rule(dm_moderation *m, uint32_t id);          /* 0 or DM_EINVAL */
size_t dm_mod_rule_count(const dm_moderation *m);
const dm_mod_rule *dm_mod_rule_at(const dm_moderation *m, size_t i);

/*
 * Preview: how many of the remembered recent texts a candidate rule would
 * have blocked; up to `cap` of them (newest first) go to `out` (pointers
 * valid until the next dm_mod_check). Negative DM_E* for a bad rule.
 */
int dm_mod_preview(dm_moderation *m, int is_regex, const char *pattern, const char **out, size_t cap,
                   char *err, size_t errlen);

/* Bans: by author or by address hash. */
int dm_mod_ban(dm_moderation *m, const char *who);
int dm_mod_unban(dm_moderation *m, const char *who);            /* 0 or DM_EINVAL */
int dm_mod_is_banned(const dm_moderation *m, const char *author, const char *address);
/* The bans in force, for the console's list. */
size_t dm_mod_ban_count(const dm_moderation *m);
const char *dm_mod_ban_at(const dm_moderation *m, size_t i);

/*
 * Regular expressions run under pcre2 limits (match calls, depth, heap; JIT
 * where available): a match that reaches one is no match. The rule that did
 * in the last dm_mod_check (0: none), and how many matches did so far.
 */
uint32_t dm_mod_limit_rule(const dm_moderation *m);
uint64_t dm_mod_limit_hits(const dm_moderation *m);
/* The match-call limit (default 10,000): for tests and benchmarks. */
void dm_mod_set_match_limit(dm_moderation *m, uint32_t limit);

/*
 * Slow mode across the gateways of a screening (docs/scale.md): `author`
 * commented at another gateway at `now`; the next comment here waits the
 * interval as if it had been this gateway's. Nothing while slow mode is off.
 */
void dm_mod_note_author(dm_moderation *m, const char *author, double now);

/* Authors slow mode remembers now (for the tests: it stays bounded). */
size_t dm_mod_author_count(const dm_moderation *m);

/* Settings. slow mode 0 = off; rate cap 0 = off. */
void dm_mod_set_slow_mode(dm_moderation *m, double seconds);
double dm_mod_slow_mode(const dm_moderation *m);
void dm_mod_set_rate_cap(dm_moderation *m, double per_minute);
double dm_mod_rate_cap(const dm_moderation *m);
void dm_mod_set_approval(dm_moderation *m, int on);
int dm_mod_approval(const dm_moderation *m);
void dm_mod_set_paused(dm_moderation *m, int paused);
int dm_mod_paused(const dm_moderation *m);

void dm_mod_get_stats(const dm_moderation *m, dm_mod_stats *st);
/* Count a comment the host rejected from the approval queue. */
void dm_mod_count_rejected(dm_moderation *m);

/* Compare two secrets in time that depends only on the length of `expected`. */
int dm_mod_token_equal(const char *given, const char *expected);
/* Fill buf with a random URL-safe token of `len` - 1 characters (getrandom). */
int dm_mod_token_new(char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
