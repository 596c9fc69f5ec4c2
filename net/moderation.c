/*
 * moderation.c - blocklist, bans, slow mode, rate cap, approval and pause
 * decisions for a live screening (see moderation.h).
 */
#include "moderation.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define RECENT_CAP 500
#define MAX_RULES 4096
#define MAX_BANS 65536
#define SETTINGS_MAX_BYTES (4 << 20)

typedef struct rule {
    dm_mod_rule pub;          /* what callers see */
    dm_filter *filter;        /* the rule alone, compiled */
} rule;

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
    size_t recent_next;       /* next slot to write */
    dm_mod_stats stats;
    char message[160];        /* dm_mod_message's buffer */
};

static const char *const reason_codes[DM_MOD_REASON_COUNT] = {
    "blocked", "banned", "slow_mode", "busy", "rejected",
};

const char *dm_mod_reason_code(dm_mod_reason r)
{
    return (unsigned)r < DM_MOD_REASON_COUNT ? reason_codes[r] : "?";
}

dm_moderation *dm_mod_new(void)
{
    dm_moderation *m = calloc(1, sizeof *m);

    if (!m)
        return NULL;
    m->next_rule_id = 1;
    return m;
}

void dm_mod_free(dm_moderation **pm)
{
    dm_moderation *m = pm ? *pm : NULL;

    if (!m)
        return;
    for (size_t i = 0; i < m->rule_count; i++) {
        free((char *)m->rules[i].pub.pattern);
        dm_filter_free(&m->rules[i].filter);
    }
    free(m->rules);
    for (size_t i = 0; i < m->ban_count; i++)
        free(m->bans[i]);
    free(m->bans);
    for (size_t i = 0; i < m->author_cap; i++)
        free(m->authors[i].author);
    free(m->authors);
    for (size_t i = 0; i < RECENT_CAP; i++)
        free(m->recent[i]);
    free(m);
    *pm = NULL;
}

/* ------------------------------------------------------------ rules */

/* Compile one rule into its own filter; NULL with err filled on a bad rule. */
static dm_filter *compile_rule(int is_regex, const char *pattern, char *err, size_t errlen)
{
    dm_filter *f = dm_filter_new();
    dm_diag diag = { 0 };
    int rc;

    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rc = is_regex ? dm_filter_add_regex(f, pattern, &diag) : dm_filter_add_keyword(f, pattern);
    if (rc) {
        if (is_regex)
            snprintf(err, errlen, "%s", diag.error);
        else
            snprintf(err, errlen, "keyword \"%s\" is empty after normalisation or not valid UTF-8", pattern);
        dm_filter_free(&f);
    }
    return f;
}

int dm_mod_add_rule(dm_moderation *m, int is_regex, const char *pattern, char *err, size_t errlen)
{
    rule r = { 0 };

    if (!pattern) {
        snprintf(err, errlen, "no pattern");
        return DM_EINVAL;
    }
    if (m->rule_count >= MAX_RULES) {
        snprintf(err, errlen, "at most %d rules", MAX_RULES);
        return DM_ETOOBIG;
    }
    r.filter = compile_rule(is_regex, pattern, err, errlen);
    if (!r.filter)
        return DM_EINVAL;
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
    r.pub.is_regex = is_regex;
    m->rules[m->rule_count++] = r;
    return (int)r.pub.id;
nomem:
    free((char *)r.pub.pattern);
    dm_filter_free(&r.filter);
    snprintf(err, errlen, "out of memory");
    return DM_ENOMEM;
}

int dm_mod_remove_rule(dm_moderation *m, uint32_t id)
{
    for (size_t i = 0; i < m->rule_count; i++) {
        if (m->rules[i].pub.id != id)
            continue;
        free((char *)m->rules[i].pub.pattern);
        dm_filter_free(&m->rules[i].filter);
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

static int filter_hits(const dm_filter *f, const char *text)
{
    dm_comment c = { 0 };

    c.text = (char *)text;
    return dm_filter_match(f, &c);
}

int dm_mod_preview(dm_moderation *m, int is_regex, const char *pattern, const char **out, size_t cap,
                   char *err, size_t errlen)
{
    dm_filter *f = compile_rule(is_regex, pattern, err, errlen);
    size_t n = 0;
    int hits = 0;

    if (!f)
        return DM_EINVAL;
    for (size_t k = 1; k <= RECENT_CAP; k++) {
        const char *t = m->recent[(m->recent_next + RECENT_CAP - k) % RECENT_CAP];
        if (!t || !filter_hits(f, t))
            continue;
        hits++;
        if (n < cap)
            out[n++] = t;
    }
    dm_filter_free(&f);
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

/* The slot of `author`, inserted if new; NULL when out of memory. */
static author_slot *author_find(dm_moderation *m, const char *author)
{
    size_t i;

    if (m->author_count * 2 >= m->author_cap) {
        size_t cap = m->author_cap ? m->author_cap * 2 : 256;
        author_slot *old = m->authors, *fresh = calloc(cap, sizeof *fresh);
        if (!fresh)
            return NULL;
        for (size_t k = 0; k < m->author_cap; k++) {
            if (!old[k].author)
                continue;
            i = (size_t)hash_str(old[k].author) & (cap - 1);
            while (fresh[i].author)
                i = (i + 1) & (cap - 1);
            fresh[i] = old[k];
        }
        free(old);
        m->authors = fresh;
        m->author_cap = cap;
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

/* ------------------------------------------------------------ decisions */

static void remember(dm_moderation *m, const char *text)
{
    char *copy = strdup(text);

    if (!copy)
        return;
    free(m->recent[m->recent_next]);
    m->recent[m->recent_next] = copy;
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

dm_mod_verdict dm_mod_check(dm_moderation *m, const char *author, const char *address, const char *text,
                            double now, dm_mod_reason *reason)
{
    author_slot *slot = NULL;

    m->stats.checked++;
    if (text)
        remember(m, text);
    if (dm_mod_is_banned(m, author, address))
        return refuse(m, DM_MOD_BANNED, reason);
    for (size_t i = 0; text && i < m->rule_count; i++) {
        if (filter_hits(m->rules[i].filter, text)) {
            m->rules[i].pub.hits++;
            return refuse(m, DM_MOD_BLOCKED, reason);
        }
    }
    if (m->slow_mode_s > 0 && author) {
        slot = author_find(m, author);
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

const char *dm_mod_message(dm_moderation *m, dm_mod_reason reason)
{
    switch (reason) {
    case DM_MOD_BLOCKED: return "This comment contains something the host has blocked.";
    case DM_MOD_BANNED: return "The host has blocked your comments for this screening.";
    case DM_MOD_SLOW:
        snprintf(m->message, sizeof m->message, "Slow mode: one comment every %g s.", m->slow_mode_s);
        return m->message;
    case DM_MOD_BUSY: return "Too many comments right now; try again in a few seconds.";
    case DM_MOD_REJECTED: return "The host did not approve this comment.";
    default: return "Refused.";
    }
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

int dm_mod_load_file(dm_moderation *m, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len;
    cJSON *root = NULL;
    const cJSON *item;
    int rc = DM_EPARSE;

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
    root = cJSON_ParseWithLength(buf, len);
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: not a JSON object (near byte %ld)", path,
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
            rc = load_rules(m, item, path, err, errlen);
            if (rc)
                goto out;
            rc = DM_EPARSE;
        } else if (!strcmp(k, "banned") && cJSON_IsArray(item)) {
            const cJSON *who;
            cJSON_ArrayForEach(who, item) {
                if (!cJSON_IsString(who) || dm_mod_ban(m, who->valuestring)) {
                    snprintf(err, errlen, "%s: \"banned\" must list author or address hashes", path);
                    goto out;
                }
            }
        } else {
            snprintf(err, errlen, "%s: unknown or malformed setting \"%s\" (see docs/moderation.md)", path, k);
            goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    free(buf);
    return rc;
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
