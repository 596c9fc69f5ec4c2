/*
 * moderation.c - blocklist, bans, slow mode, rate cap, approval and pause
 * decisions for a live screening (see moderation.h).
 *
 * The blocklist matches each comment's text normalised once (NFKC, case
 * folding, white space removed: dm_text_normalize, the engine's filters'
 * rule), then every rule in turn: a keyword is a substring of the normalised
 * text, a regular expression (pcre2) is tried on the text as written and on
 * its normalised form.
 *
 * Regular expressions run on the network thread, so their work is bounded:
 * JIT where pcre2 has it, and a match context with match, depth and heap
 * limits. A match that reaches a limit counts as no match (the comment is
 * not blocked by that rule), is counted on the rule and reported
 * (dm_mod_limit_rule), so the host learns of it. A new rule (or a preview)
 * is first tried on probe texts built from its own characters; one that
 * reaches the limit there is refused as pathological.
 */
#include "moderation.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define RECENT_CAP 500
#define MATCH_LIMIT 10000         /* pcre2 match() calls per match: under 0.5 ms at worst; ordinary rules need a few hundred */
#define DEPTH_LIMIT 1000          /* backtracking depth (interpreter) */
#define HEAP_LIMIT_KIB 1024       /* backtracking memory (interpreter) */
#define PROBE_LEN 100             /* code points of a probe text: a comment's cap */
#define MAX_RULES 4096
#define MAX_BANS 65536
#define SETTINGS_MAX_BYTES (4 << 20)

typedef struct rule {
    dm_mod_rule pub;          /* what callers see */
    char *keyword;            /* a keyword rule: its normalised form */
    pcre2_code *re;           /* a regex rule, compiled */
} rule;

/* A text as the rules see it: written and normalised (norm NULL: invalid UTF-8, only regexes on the text). */
typedef struct mod_text {
    const char *text;
    const char *norm;
} mod_text;

typedef struct author_slot {
    char *author;             /* owned; NULL = empty slot */
    double last;              /* time of its last accepted comment */
} author_slot;

struct dm_moderation {
    rule *rules;              /* blocklist, in the order added */
    size_t rule_count, rule_cap;
    uint32_t next_rule_id;
    char **bans;              /* banned authors and addresses */
    size_t ban_count, ban_cap;
    author_slot *authors;     /* slow mode: last comment per author (open addressing) */
    size_t author_cap, author_count;
    double slow_mode_s;       /* 0 = off */
    double rate_cap_per_min;  /* 0 = off */
    double tokens;            /* global token bucket */
    double tokens_at;         /* when it was last refilled */
    int approval;             /* hold every comment for the host */
    int paused;               /* hold every comment until resumed */
    char *recent[RECENT_CAP]; /* ring of recent texts for previews */
    char *recent_norm[RECENT_CAP]; /* ...and their normalised forms */
    pcre2_match_data *md;     /* one match data for every regex, service thread only */
    pcre2_match_context *mctx;/* the limits every match runs under */
    int jit;                  /* pcre2 has a JIT compiler */
    uint32_t limit_rule;      /* a rule that reached a limit in the last check, 0 none */
    uint64_t limit_hits;      /* matches that reached a limit, all rules */
    size_t recent_next;       /* next slot to write */
    dm_mod_stats stats;
    char message[160];        /* dm_mod_message's buffer */
};

static void rule_clear(rule *r)
{
    free((char *)r->pub.pattern);
    free(r->keyword);
    pcre2_code_free(r->re);
    memset(r, 0, sizeof *r);
}

const char *dm_mod_reason_code(dm_mod_reason r)
{
    return dm_net_err_code(dm_mod_reason_err(r));
}

dm_moderation *dm_mod_new(void)
{
    dm_moderation *m = calloc(1, sizeof *m);

    if (!m)
        return NULL;
    m->next_rule_id = 1;
    m->md = pcre2_match_data_create(1, NULL);
    m->mctx = pcre2_match_context_create(NULL);
    if (!m->md || !m->mctx) {
        pcre2_match_data_free(m->md);
        pcre2_match_context_free(m->mctx);
        free(m);
        return NULL;
    }
    dm_mod_set_match_limit(m, MATCH_LIMIT);
    pcre2_set_depth_limit(m->mctx, DEPTH_LIMIT);
    pcre2_set_heap_limit(m->mctx, HEAP_LIMIT_KIB);
    {
        uint32_t jit = 0;
        m->jit = pcre2_config(PCRE2_CONFIG_JIT, &jit) >= 0 && jit;
    }
    return m;
}

void dm_mod_free(dm_moderation **pm)
{
    dm_moderation *m = pm ? *pm : NULL;

    if (!m)
        return;
    for (size_t i = 0; i < m->rule_count; i++)
        rule_clear(&m->rules[i]);
    free(m->rules);
    for (size_t i = 0; i < m->ban_count; i++)
        free(m->bans[i]);
    free(m->bans);
    for (size_t i = 0; i < m->author_cap; i++)
        free(m->authors[i].author);
    free(m->authors);
    for (size_t i = 0; i < RECENT_CAP; i++) {
        free(m->recent[i]);
        free(m->recent_norm[i]);
    }
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    free(m);
    *pm = NULL;
}

/* ------------------------------------------------------------ rules */

/* 1 when a match result says a limit was reached rather than whether the text matched. */
static int limit_reached(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
           rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

/* 1 match, 0 no match, -1 a limit was reached (no match either). */
static int regex_try(dm_moderation *m, const pcre2_code *re, const char *s)
{
    int rc;

    if (!s)
        return 0;
    rc = pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, m->md, m->mctx);
    if (rc >= 0)
        return 1;
    return limit_reached(rc) ? -1 : 0;
}

/*
 * Texts that make a pathological pattern backtrack without end: runs of
 * PROBE_LEN - 1 of a character, then one that may not fit the pattern's
 * end. The characters are the pattern's own letters, digits and punctuation
 * and a few common ones. A pattern that reaches a limit on any probe is
 * refused. A heuristic: what it misses (a class the probes do not cover) is
 * still bounded by the limits at match time.
 */
static int probe_pathological(dm_moderation *m, const pcre2_code *re, const char *pattern)
{
    static const char common[] = "a0 .-";
    static const char ends[] = "!\001b";
    char chars[40], probe[PROBE_LEN + 1];
    size_t nc = 0;

    for (const char *p = common; *p; p++)
        chars[nc++] = *p;
    for (const char *p = pattern; *p && nc < sizeof chars; p++)
        if ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && !memchr(chars, *p, nc))
            chars[nc++] = *p;
    for (size_t i = 0; i < nc; i++)
        for (const char *e = ends; *e; e++) {
            memset(probe, chars[i], PROBE_LEN - 1);
            probe[PROBE_LEN - 1] = *e == chars[i] ? '!' : *e;
            probe[PROBE_LEN] = 0;
            if (regex_try(m, re, probe) < 0)
                return 1;
        }
    return 0;
}

/* Compile one rule; 0, or a negative DM_E* with err filled on a bad rule. */
static int compile_rule(dm_moderation *m, rule *r, int is_regex, const char *pattern, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->pub.is_regex = is_regex;
    if (is_regex) {
        int code;
        PCRE2_SIZE off;
        r->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS,
                              &code, &off, NULL);
        if (!r->re) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(code, msg, sizeof msg);
            snprintf(err, errlen, "regex /%s/ at offset %zu: %s", pattern, (size_t)off, (char *)msg);
            return DM_EINVAL;
        }
        if (m->jit)
            (void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);   /* without it the interpreter runs, as bounded */
        if (probe_pathological(m, r->re, pattern)) {
            snprintf(err, errlen, "regex /%s/ takes too long on some comments (catastrophic backtracking, "
                                  "e.g. a repetition inside a repetition): rewrite it", pattern);
            rule_clear(r);
            return DM_EINVAL;
        }
    } else {
        r->keyword = dm_text_normalize(pattern);
        if (!r->keyword || !r->keyword[0]) {
            snprintf(err, errlen, "keyword \"%s\" is empty after normalisation or not valid UTF-8", pattern);
            rule_clear(r);
            return DM_EINVAL;
        }
    }
    return 0;
}

/* 1 when the rule blocks the text; a limit reached on either form is counted on the rule and is no match. */
static int rule_hits(dm_moderation *m, rule *r, const mod_text *t)
{
    int a, b;

    if (r->keyword)
        return t->norm && strstr(t->norm, r->keyword) != NULL;
    a = regex_try(m, r->re, t->text);
    if (a > 0)
        return 1;
    b = regex_try(m, r->re, t->norm);
    if (b > 0)
        return 1;
    if (a < 0 || b < 0) {
        r->pub.limit_hits++;
        m->limit_hits++;
        m->limit_rule = r->pub.id;
    }
    return 0;
}

int dm_mod_add_rule(dm_moderation *m, int is_regex, const char *pattern, char *err, size_t errlen)
{
    rule r;
    int rc;

    if (!pattern) {
        snprintf(err, errlen, "no pattern");
        return DM_EINVAL;
    }
    if (m->rule_count >= MAX_RULES) {
        snprintf(err, errlen, "at most %d rules", MAX_RULES);
        return DM_ETOOBIG;
    }
    rc = compile_rule(m, &r, is_regex, pattern, err, errlen);
    if (rc)
        return rc;
    r.pub.pattern = strdup(pattern);
    if (!r.pub.pattern)
        goto nomem;
    if (m->rule_count == m->rule_cap) {
        size_t cap = m->rule_cap ? m->rule_cap * 2 : 16;
        rule *rs = realloc(m->rules, cap * sizeof *rs);
        if (!rs)
            goto nomem;
        m->rules = rs;
        m->rule_cap = cap;
    }
    r.pub.id = m->next_rule_id++;
    m->rules[m->rule_count++] = r;
    return (int)r.pub.id;
nomem:
    rule_clear(&r);
    snprintf(err, errlen, "out of memory");
    return DM_ENOMEM;
}

int dm_mod_remove_rule(dm_moderation *m, uint32_t id)
{
    for (size_t i = 0; i < m->rule_count; i++) {
        if (m->rules[i].pub.id != id)
            continue;
        rule_clear(&m->rules[i]);
        memmove(&m->rules[i], &m->rules[i + 1], (m->rule_count - i - 1) * sizeof *m->rules);
        m->rule_count--;
        return 0;
    }
    return DM_EINVAL;
}

size_t dm_mod_rule_count(const dm_moderation *m)
{
    return m->rule_count;
}

const dm_mod_rule *dm_mod_rule_at(const dm_moderation *m, size_t i)
{
    return i < m->rule_count ? &m->rules[i].pub : NULL;
}

int dm_mod_preview(dm_moderation *m, int is_regex, const char *pattern, const char **out, size_t cap,
                   char *err, size_t errlen)
{
    rule r;
    size_t n = 0;
    int hits = 0, rc = compile_rule(m, &r, is_regex, pattern, err, errlen);

    uint64_t limit_hits = m->limit_hits;
    uint32_t limit_rule = m->limit_rule;

    if (rc)
        return rc;
    for (size_t k = 1; k <= RECENT_CAP; k++) {
        size_t i = (m->recent_next + RECENT_CAP - k) % RECENT_CAP;
        mod_text t = { m->recent[i], m->recent_norm[i] };
        if (!t.text || !rule_hits(m, &r, &t))
            continue;
        hits++;
        if (n < cap)
            out[n++] = t.text;
    }
    rule_clear(&r);
    m->limit_hits = limit_hits;   /* a preview's limits are not the blocklist's */
    m->limit_rule = limit_rule;
    return hits;
}

/* ------------------------------------------------------------ bans */

static int ban_index(const dm_moderation *m, const char *who)
{
    for (size_t i = 0; who && i < m->ban_count; i++)
        if (!strcmp(m->bans[i], who))
            return (int)i;
    return -1;
}

int dm_mod_ban(dm_moderation *m, const char *who)
{
    char *copy;

    if (!who || !who[0])
        return DM_EINVAL;
    if (ban_index(m, who) >= 0)
        return 0;
    if (m->ban_count >= MAX_BANS)
        return DM_ETOOBIG;
    if (m->ban_count == m->ban_cap) {
        size_t cap = m->ban_cap ? m->ban_cap * 2 : 16;
        char **b = realloc(m->bans, cap * sizeof *b);
        if (!b)
            return DM_ENOMEM;
        m->bans = b;
        m->ban_cap = cap;
    }
    copy = strdup(who);
    if (!copy)
        return DM_ENOMEM;
    m->bans[m->ban_count++] = copy;
    return 0;
}

int dm_mod_unban(dm_moderation *m, const char *who)
{
    int i = ban_index(m, who);

    if (i < 0)
        return DM_EINVAL;
    free(m->bans[i]);
    m->bans[i] = m->bans[--m->ban_count];
    return 0;
}

int dm_mod_is_banned(const dm_moderation *m, const char *author, const char *address)
{
    return ban_index(m, author) >= 0 || ban_index(m, address) >= 0;
}

size_t dm_mod_ban_count(const dm_moderation *m)
{
    return m->ban_count;
}

const char *dm_mod_ban_at(const dm_moderation *m, size_t i)
{
    return i < m->ban_count ? m->bans[i] : NULL;
}

/* ------------------------------------------------------------ slow mode */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

/*
 * Rebuild the table at `cap` slots, keeping only authors whose last comment
 * is recent enough for slow mode to hold them back at `now`: the others are
 * free to comment anyway, so a screening's passing audience does not stay
 * in memory. 0, or -1 when out of memory (the table is unchanged).
 */
static int authors_rebuild(dm_moderation *m, size_t cap, double now)
{
    author_slot *old = m->authors, *fresh = calloc(cap, sizeof *fresh);
    size_t count = 0;

    if (!fresh)
        return -1;
    for (size_t k = 0; k < m->author_cap; k++) {
        size_t i;
        if (!old[k].author)
            continue;
        if (now - old[k].last >= m->slow_mode_s) {
            free(old[k].author);
            continue;
        }
        i = (size_t)hash_str(old[k].author) & (cap - 1);
        while (fresh[i].author)
            i = (i + 1) & (cap - 1);
        fresh[i] = old[k];
        count++;
    }
    free(old);
    m->authors = fresh;
    m->author_cap = cap;
    m->author_count = count;
    return 0;
}

/* The slot of `author`, inserted if new; NULL when out of memory. */
static author_slot *author_find(dm_moderation *m, const char *author, double now)
{
    size_t i;

    if (m->author_count * 2 >= m->author_cap) {
        /* half full: forget the authors slow mode no longer holds, and grow only if that was not enough */
        size_t cap = m->author_cap ? m->author_cap : 256;
        if (authors_rebuild(m, cap, now))
            return NULL;
        if (m->author_count * 4 >= m->author_cap && authors_rebuild(m, m->author_cap * 2, now))
            return NULL;
    }
    i = (size_t)hash_str(author) & (m->author_cap - 1);
    while (m->authors[i].author && strcmp(m->authors[i].author, author))
        i = (i + 1) & (m->author_cap - 1);
    if (!m->authors[i].author) {
        m->authors[i].author = strdup(author);
        if (!m->authors[i].author)
            return NULL;
        m->authors[i].last = -1e300;
        m->author_count++;
    }
    return &m->authors[i];
}

void dm_mod_note_author(dm_moderation *m, const char *author, double now)
{
    author_slot *slot;

    if (m->slow_mode_s <= 0 || !author || !author[0])
        return;
    slot = author_find(m, author, now);
    if (slot && now > slot->last)
        slot->last = now;
}

uint32_t dm_mod_limit_rule(const dm_moderation *m)
{
    return m->limit_rule;
}

uint64_t dm_mod_limit_hits(const dm_moderation *m)
{
    return m->limit_hits;
}

void dm_mod_set_match_limit(dm_moderation *m, uint32_t limit)
{
    pcre2_set_match_limit(m->mctx, limit ? limit : 1);
}

size_t dm_mod_author_count(const dm_moderation *m)
{
    return m->author_count;
}

/* ------------------------------------------------------------ decisions */

/* Keep a checked text for previews; `norm` (malloc'd or NULL) is taken over. */
static void remember(dm_moderation *m, const char *text, char *norm)
{
    char *copy = strdup(text);

    if (!copy) {
        free(norm);
        return;
    }
    free(m->recent[m->recent_next]);
    free(m->recent_norm[m->recent_next]);
    m->recent[m->recent_next] = copy;
    m->recent_norm[m->recent_next] = norm;
    m->recent_next = (m->recent_next + 1) % RECENT_CAP;
}

/* Global token bucket: per_minute / 60 a second, bursts of up to 5 s. */
static int take_global_token(dm_moderation *m, double now)
{
    double rate = m->rate_cap_per_min / 60.0, size = rate * 5 > 1 ? rate * 5 : 1;

    if (m->rate_cap_per_min <= 0)
        return 1;
    if (now > m->tokens_at) {
        m->tokens += (now - m->tokens_at) * rate;
        m->tokens_at = now;
    }
    if (m->tokens > size)
        m->tokens = size;
    if (m->tokens < 1)
        return 0;
    m->tokens -= 1;
    return 1;
}

static dm_mod_verdict refuse(dm_moderation *m, dm_mod_reason r, dm_mod_reason *out)
{
    m->stats.rejected[r]++;
    if (out)
        *out = r;
    return DM_MOD_REJECT;
}

static dm_mod_verdict decide(dm_moderation *m, const char *author, const char *address, const mod_text *t,
                             double now, dm_mod_reason *reason)
{
    author_slot *slot = NULL;

    if (dm_mod_is_banned(m, author, address))
        return refuse(m, DM_MOD_BANNED, reason);
    for (size_t i = 0; t->text && i < m->rule_count; i++) {
        if (rule_hits(m, &m->rules[i], t)) {
            m->rules[i].pub.hits++;
            return refuse(m, DM_MOD_BLOCKED, reason);
        }
    }
    if (m->slow_mode_s > 0 && author) {
        slot = author_find(m, author, now);
        if (slot && now - slot->last < m->slow_mode_s)
            return refuse(m, DM_MOD_SLOW, reason);
    }
    if (!take_global_token(m, now))
        return refuse(m, DM_MOD_BUSY, reason);
    if (slot)
        slot->last = now;
    if (m->approval)
        return DM_MOD_HOLD;
    if (m->paused)
        return DM_MOD_WAIT;
    m->stats.accepted++;
    return DM_MOD_ACCEPT;
}

dm_mod_verdict dm_mod_check(dm_moderation *m, const char *author, const char *address, const char *text,
                            double now, dm_mod_reason *reason)
{
    mod_text t = { text, text ? dm_text_normalize(text) : NULL };   /* normalised once, for every rule */
    dm_mod_verdict v;

    m->stats.checked++;
    m->limit_rule = 0;
    v = decide(m, author, address, &t, now, reason);
    if (text)
        remember(m, text, (char *)t.norm);   /* the preview ring takes the normalised form over */
    return v;
}

dm_net_err dm_mod_reason_err(dm_mod_reason r)
{
    static const dm_net_err errs[DM_MOD_REASON_COUNT] = {
        [DM_MOD_BLOCKED] = DM_NET_BLOCKED, [DM_MOD_BANNED] = DM_NET_BANNED, [DM_MOD_SLOW] = DM_NET_SLOW_MODE,
        [DM_MOD_BUSY] = DM_NET_BUSY, [DM_MOD_REJECTED] = DM_NET_REJECTED,
    };

    return (unsigned)r < DM_MOD_REASON_COUNT ? errs[r] : DM_NET_INTERNAL;
}

const char *dm_mod_message(dm_moderation *m, dm_mod_reason reason)
{
    if (reason == DM_MOD_SLOW) {
        snprintf(m->message, sizeof m->message, "Slow mode: one comment every %g s.", m->slow_mode_s);
        return m->message;
    }
    return dm_net_err_message(dm_mod_reason_err(reason));
}

/* ------------------------------------------------------------ settings */

void dm_mod_set_slow_mode(dm_moderation *m, double seconds)
{
    m->slow_mode_s = seconds > 0 ? seconds : 0;
}

double dm_mod_slow_mode(const dm_moderation *m)
{
    return m->slow_mode_s;
}

void dm_mod_set_rate_cap(dm_moderation *m, double per_minute)
{
    m->rate_cap_per_min = per_minute > 0 ? per_minute : 0;
    m->tokens = per_minute / 60.0 * 5 > 1 ? per_minute / 60.0 * 5 : 1;
}

double dm_mod_rate_cap(const dm_moderation *m)
{
    return m->rate_cap_per_min;
}

void dm_mod_set_approval(dm_moderation *m, int on)
{
    m->approval = on != 0;
}

int dm_mod_approval(const dm_moderation *m)
{
    return m->approval;
}

void dm_mod_set_paused(dm_moderation *m, int paused)
{
    m->paused = paused != 0;
}

int dm_mod_paused(const dm_moderation *m)
{
    return m->paused;
}

void dm_mod_get_stats(const dm_moderation *m, dm_mod_stats *st)
{
    *st = m->stats;
}

void dm_mod_count_rejected(dm_moderation *m)
{
    m->stats.rejected[DM_MOD_REJECTED]++;
}

static int load_rules(dm_moderation *m, const cJSON *list, const char *path, char *err, size_t errlen)
{
    const cJSON *item;
    int n = 0;
    char why[200];

    if (!cJSON_IsArray(list)) {
        snprintf(err, errlen, "%s: \"blocklist\" must be a list of {\"keyword\": ...} or {\"regex\": ...}", path);
        return DM_EPARSE;
    }
    cJSON_ArrayForEach(item, list) {
        const cJSON *kw = cJSON_GetObjectItemCaseSensitive(item, "keyword");
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(item, "regex");
        const cJSON *which = kw ? kw : re;
        n++;
        if (!cJSON_IsObject(item) || !cJSON_IsString(which) || cJSON_GetArraySize(item) != 1) {
            snprintf(err, errlen, "%s: blocklist entry %d must be {\"keyword\": \"...\"} or {\"regex\": \"...\"}",
                     path, n);
            return DM_EPARSE;
        }
        if (dm_mod_add_rule(m, which == re, which->valuestring, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: blocklist entry %d: %s", path, n, why);
            return DM_EINVAL;
        }
    }
    return 0;
}

/* Settings (the file's format) from a buffer into m, added to what it has; `name` names the source in err. */
static int load_json(dm_moderation *m, const char *buf, size_t len, const char *name, char *err, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(buf, len);
    const cJSON *item;
    int rc = DM_EPARSE;

    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: not a JSON object (near byte %ld)", name,
                 root ? 0L : (long)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - buf : 0));
        goto out;
    }
    cJSON_ArrayForEach(item, root) {
        const char *k = item->string;
        if (!strcmp(k, "approval") && cJSON_IsBool(item)) {
            m->approval = cJSON_IsTrue(item);
        } else if (!strcmp(k, "paused") && cJSON_IsBool(item)) {
            m->paused = cJSON_IsTrue(item);
        } else if (!strcmp(k, "slow_mode_s") && cJSON_IsNumber(item) && item->valuedouble >= 0 &&
                   item->valuedouble <= 3600) {
            dm_mod_set_slow_mode(m, item->valuedouble);
        } else if (!strcmp(k, "global_rate_per_min") && cJSON_IsNumber(item) && item->valuedouble >= 0) {
            dm_mod_set_rate_cap(m, item->valuedouble);
        } else if (!strcmp(k, "blocklist")) {
            rc = load_rules(m, item, name, err, errlen);
            if (rc)
                goto out;
            rc = DM_EPARSE;
        } else if (!strcmp(k, "banned") && cJSON_IsArray(item)) {
            const cJSON *who;
            cJSON_ArrayForEach(who, item) {
                if (!cJSON_IsString(who) || dm_mod_ban(m, who->valuestring)) {
                    snprintf(err, errlen, "%s: \"banned\" must list author or address hashes", name);
                    goto out;
                }
            }
        } else {
            snprintf(err, errlen, "%s: unknown or malformed setting \"%s\" (see docs/moderation.md)", name, k);
            goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int dm_mod_load_file(dm_moderation *m, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len;
    int rc;

    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return DM_EIO;
    }
    buf = malloc(SETTINGS_MAX_BYTES + 1);
    len = buf ? fread(buf, 1, SETTINGS_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf || len > SETTINGS_MAX_BYTES) {
        snprintf(err, errlen, "%s: %s", path, buf ? "larger than 4 MiB" : "out of memory");
        free(buf);
        return buf ? DM_ETOOBIG : DM_ENOMEM;
    }
    buf[len] = 0;
    rc = load_json(m, buf, len, path, err, errlen);
    free(buf);
    return rc;
}

char *dm_mod_settings_json(const dm_moderation *m)
{
    cJSON *o = cJSON_CreateObject(), *list, *bans;
    char *s;

    if (!o)
        return NULL;
    cJSON_AddBoolToObject(o, "approval", m->approval);
    cJSON_AddBoolToObject(o, "paused", m->paused);
    cJSON_AddNumberToObject(o, "slow_mode_s", m->slow_mode_s);
    cJSON_AddNumberToObject(o, "global_rate_per_min", m->rate_cap_per_min);
    list = cJSON_AddArrayToObject(o, "blocklist");
    for (size_t i = 0; list && i < m->rule_count; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, m->rules[i].pub.is_regex ? "regex" : "keyword", m->rules[i].pub.pattern);
        cJSON_AddItemToArray(list, r);
    }
    bans = cJSON_AddArrayToObject(o, "banned");
    for (size_t i = 0; bans && i < m->ban_count; i++)
        cJSON_AddItemToArray(bans, cJSON_CreateString(m->bans[i]));
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int dm_mod_apply_settings(dm_moderation *m, const char *json, size_t len, char *err, size_t errlen)
{
    dm_moderation *fresh = dm_mod_new();
    rule *rules;
    char **bans;
    size_t n;
    int rc;

    if (!fresh) {
        snprintf(err, errlen, "out of memory");
        return DM_ENOMEM;
    }
    rc = load_json(fresh, json, len, "the screening's moderation settings", err, errlen);
    if (rc) {
        dm_mod_free(&fresh);
        return rc;
    }
    /* the rules and bans change hands; who commented when (slow mode), the recent texts and the
     * figures stay this process's */
    rules = m->rules, m->rules = fresh->rules, fresh->rules = rules;
    n = m->rule_count, m->rule_count = fresh->rule_count, fresh->rule_count = n;
    n = m->rule_cap, m->rule_cap = fresh->rule_cap, fresh->rule_cap = n;
    bans = m->bans, m->bans = fresh->bans, fresh->bans = bans;
    n = m->ban_count, m->ban_count = fresh->ban_count, fresh->ban_count = n;
    n = m->ban_cap, m->ban_cap = fresh->ban_cap, fresh->ban_cap = n;
    for (size_t i = 0; i < m->rule_count; i++)
        m->rules[i].pub.id = m->next_rule_id++;   /* new ids: the consoles get the new list */
    m->approval = fresh->approval;
    m->paused = fresh->paused;
    dm_mod_set_slow_mode(m, fresh->slow_mode_s);
    dm_mod_set_rate_cap(m, fresh->rate_cap_per_min);
    dm_mod_free(&fresh);
    return 0;
}

/* ------------------------------------------------------------ tokens */

int dm_mod_token_equal(const char *given, const char *expected)
{
    size_t n = strlen(expected), g = given ? strlen(given) : 0;
    unsigned char diff = (unsigned char)(g != n);

    /* read exactly n bytes of each whatever they hold, so the time does not
     * tell how much of the token was right */
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)((i < g ? (unsigned char)given[i] : 0) ^ (unsigned char)expected[i]);
    return diff == 0;
}

int dm_mod_token_new(char *buf, size_t len)
{
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    unsigned char raw[64];
    size_t n = len ? len - 1 : 0;

    if (n == 0 || n > sizeof raw)
        return DM_EINVAL;
    if (getrandom(raw, n, 0) != (ssize_t)n)
        return DM_EIO;
    for (size_t i = 0; i < n; i++)
        buf[i] = alphabet[raw[i] % (sizeof alphabet - 1)];
    buf[n] = 0;
    return 0;
}
