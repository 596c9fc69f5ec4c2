/*
 * host.c - the host console's token, sessions, login limit, commands,
 * comment log and counters (see host.h); no sockets, so console.c and
 * http.c stay about transport.
 */
#include "host.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define MAX_SESSIONS 32          /* consoles logged in at once; the oldest is forgotten */
#define TEXT_CAP_BYTES 512       /* a pattern longer than this is not a rule anyone typed */

struct dm_host_auth {
    char token[128];                              /* the host token */
    char sessions[MAX_SESSIONS][DM_HOST_SID_LEN + 1]; /* issued session ids, "" = free */
    uint64_t issued[MAX_SESSIONS];                /* login order: the oldest session makes room */
    uint64_t logins;                              /* logins so far */
};

dm_host_auth *dm_host_auth_new(const char *token)
{
    dm_host_auth *a = calloc(1, sizeof *a);

    if (!a)
        return NULL;
    if (token && token[0]) {
        snprintf(a->token, sizeof a->token, "%s", token);
    } else if (dm_mod_token_new(a->token, DM_HOST_TOKEN_LEN + 1)) {
        free(a);
        return NULL;
    }
    return a;
}

void dm_host_auth_free(dm_host_auth **a)
{
    if (*a)
        memset(*a, 0, sizeof **a);   /* secrets do not linger in freed memory */
    free(*a);
    *a = NULL;
}

const char *dm_host_auth_token(const dm_host_auth *a)
{
    return a->token;
}

int dm_host_auth_bearer(const dm_host_auth *a, const char *header)
{
    if (!header || strncmp(header, "Bearer ", 7))
        return 0;
    return dm_mod_token_equal(header + 7, a->token);
}

/*
 * The slot of the issued session sid[0..len) names, or -1. Every issued
 * session is compared, whatever matched, so the time says nothing.
 */
static int session_slot(const dm_host_auth *a, const char *sid, size_t len)
{
    char given[DM_HOST_SID_LEN + 1];
    int slot = -1;

    if (len != DM_HOST_SID_LEN)
        return -1;
    memcpy(given, sid, len);
    given[len] = 0;
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (a->sessions[i][0] && dm_mod_token_equal(given, a->sessions[i]))
            slot = i;
    return slot;
}

/* The slot of a known session among the Cookie header's dm_host cookies (the last one), or -1. */
static int cookie_slot(const dm_host_auth *a, const char *header)
{
    const size_t nlen = strlen(DM_HOST_COOKIE);
    const char *p = header;
    int slot = -1;

    while (p && *p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        if (len > nlen && !strncmp(p, DM_HOST_COOKIE, nlen) && p[nlen] == '=') {
            int i = session_slot(a, p + nlen + 1, len - nlen - 1);
            if (i >= 0)
                slot = i;
        }
        p = end ? end + 1 : NULL;
    }
    return slot;
}

int dm_host_auth_cookie_session(const dm_host_auth *a, const char *header, char *sid)
{
    int slot = cookie_slot(a, header);

    if (sid)
        memcpy(sid, slot >= 0 ? a->sessions[slot] : "", slot >= 0 ? DM_HOST_SID_LEN + 1 : 1);
    return slot >= 0;
}

int dm_host_auth_session_live(const dm_host_auth *a, const char *sid)
{
    return sid && session_slot(a, sid, strlen(sid)) >= 0;
}

int dm_host_auth_logout(dm_host_auth *a, const char *header)
{
    int slot, any = 0;

    /* a header may carry several dm_host cookies: each known one goes */
    while ((slot = cookie_slot(a, header)) >= 0) {
        memset(a->sessions[slot], 0, sizeof a->sessions[slot]);
        any = 1;
    }
    return any;
}

/* The value of `name` in an urlencoded form, decoded into out; 0 or -1. */
static int form_value(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name), i = 0;

    while (i < len) {
        size_t j = i, k = 0;
        while (j < len && body[j] != '&')
            j++;
        if (j - i > nlen && !strncmp(body + i, name, nlen) && body[i + nlen] == '=') {
            for (size_t x = i + nlen + 1; x < j; x++) {
                char ch = body[x];
                if (ch == '+') {
                    ch = ' ';
                } else if (ch == '%' && x + 2 < j && dm_net_hexval(body[x + 1]) >= 0 &&
                           dm_net_hexval(body[x + 2]) >= 0) {
                    ch = (char)(dm_net_hexval(body[x + 1]) * 16 + dm_net_hexval(body[x + 2]));
                    x += 2;
                }
                if (k + 1 >= cap || ch == 0)
                    return -1;   /* a NUL would end the value early, so "TOKEN%00junk" would pass */
                out[k++] = ch;
            }
            out[k] = 0;
            return 0;
        }
        i = j + 1;
    }
    return -1;
}

int dm_host_auth_login(dm_host_auth *a, const char *body, size_t len, char *sid)
{
    char given[128];
    int slot = 0;

    if (form_value(body, len, "token", given, sizeof given) || !dm_mod_token_equal(given, a->token))
        return 0;
    if (dm_mod_token_new(sid, DM_HOST_SID_LEN + 1))
        return 0;
    /* a slot a logout freed, else the oldest session's */
    for (int i = 1; i < MAX_SESSIONS && a->sessions[slot][0]; i++)
        if (!a->sessions[i][0] || a->issued[i] < a->issued[slot])
            slot = i;
    memcpy(a->sessions[slot], sid, DM_HOST_SID_LEN + 1);
    a->issued[slot] = ++a->logins;
    return 1;
}

/* ------------------------------------------------------------ login limit */

/* Truncated alike, so an address longer than the slot still finds its own. */
static int same_addr(const char *slot, const char *addr)
{
    return !strncmp(slot, addr, DM_HOST_ADDR_LEN - 1);
}

static int limit_find(const dm_host_login_limit *l, const char *addr)
{
    for (int i = 0; i < DM_HOST_LOGIN_ADDRS; i++)
        if (l->slots[i].count && same_addr(l->slots[i].addr, addr))
            return i;
    return -1;
}

unsigned dm_host_login_wait(const dm_host_login_limit *l, const char *addr, double now)
{
    int i = limit_find(l, addr);
    double until;

    if (i < 0 || l->slots[i].count < DM_HOST_LOGIN_TRIES)
        return 0;
    /* the ring is full: its oldest is the first of the latest DM_HOST_LOGIN_TRIES wrong tokens */
    until = l->slots[i].fails[l->slots[i].next] + DM_HOST_LOGIN_WINDOW_S;
    return until > now ? (unsigned)ceil(until - now) : 0;
}

void dm_host_login_failed(dm_host_login_limit *l, const char *addr, double now)
{
    int i = limit_find(l, addr);

    if (i < 0) {
        /* a free slot, else the stalest: a flood of addresses pushes out only the quiet ones */
        i = 0;
        for (int k = 1; k < DM_HOST_LOGIN_ADDRS && l->slots[i].count; k++)
            if (!l->slots[k].count || l->slots[k].last < l->slots[i].last)
                i = k;
        memset(&l->slots[i], 0, sizeof l->slots[i]);
        snprintf(l->slots[i].addr, sizeof l->slots[i].addr, "%s", addr);
    }
    l->slots[i].fails[l->slots[i].next] = now;
    l->slots[i].next = (l->slots[i].next + 1) % DM_HOST_LOGIN_TRIES;
    if (l->slots[i].count < DM_HOST_LOGIN_TRIES)
        l->slots[i].count++;
    l->slots[i].last = now;
}

void dm_host_login_succeeded(dm_host_login_limit *l, const char *addr)
{
    int i = limit_find(l, addr);

    if (i >= 0)
        memset(&l->slots[i], 0, sizeof l->slots[i]);
}

size_t dm_host_login_tracked(const dm_host_login_limit *l)
{
    size_t n = 0;

    for (int i = 0; i < DM_HOST_LOGIN_ADDRS; i++)
        n += l->slots[i].count > 0;
    return n;
}

/* ------------------------------------------------------------ commands */

static const struct {
    const char *name;
    dm_host_cmd_kind kind;
} cmd_names[] = {
    { "approval", DM_HOST_APPROVAL }, { "approve", DM_HOST_APPROVE }, { "reject", DM_HOST_REJECT },
    { "delete", DM_HOST_DELETE }, { "ban", DM_HOST_BAN }, { "unban", DM_HOST_UNBAN },
    { "slow_mode", DM_HOST_SLOW_MODE }, { "rate_cap", DM_HOST_RATE_CAP }, { "add_rule", DM_HOST_ADD_RULE },
    { "remove_rule", DM_HOST_REMOVE_RULE }, { "preview", DM_HOST_PREVIEW }, { "pause", DM_HOST_PAUSE },
    { "resume", DM_HOST_RESUME }, { "clear", DM_HOST_CLEAR }, { "ping", DM_HOST_PING },
    { "stats", DM_HOST_STATS }, { "film_play", DM_HOST_FILM_PLAY }, { "film_pause", DM_HOST_FILM_PAUSE },
    { "film_seek", DM_HOST_FILM_SEEK }, { "film_seek_by", DM_HOST_FILM_SEEK_BY }, { "film_next", DM_HOST_FILM_NEXT },
    { "film_prev", DM_HOST_FILM_PREV }, { "film_jump", DM_HOST_FILM_JUMP }, { "film_volume", DM_HOST_FILM_VOLUME },
    { "break_now", DM_HOST_BREAK_NOW }, { "break_add", DM_HOST_BREAK_ADD },
};

/* A number field within [lo, hi] (finite); an integer when `whole`. 0 or -1. */
static int number_in(const cJSON *o, const char *key, double lo, double hi, int whole, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi ||
        (whole && v->valuedouble != floor(v->valuedouble)))
        return -1;
    *out = v->valuedouble;
    return 0;
}

static int copy_string(const cJSON *o, const char *key, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= cap)
        return -1;
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

dm_net_err dm_host_parse(const char *buf, size_t len, dm_host_cmd *cmd)
{
    cJSON *o;
    const cJSON *type, *v;
    dm_net_err e = DM_NET_UNKNOWN_TYPE;
    int rc = -1;

    memset(cmd, 0, sizeof *cmd);
    if (memchr(buf, 0, len))
        return DM_NET_BAD_JSON;   /* cJSON would read the text up to it, silently */
    o = cJSON_ParseWithLength(buf, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return DM_NET_BAD_JSON;
    }
    type = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!cJSON_IsString(type)) {
        cJSON_Delete(o);
        return DM_NET_BAD_MESSAGE;
    }
    for (size_t i = 0; i < sizeof cmd_names / sizeof cmd_names[0]; i++)
        if (!strcmp(type->valuestring, cmd_names[i].name)) {
            cmd->kind = cmd_names[i].kind;
            e = DM_NET_BAD_MESSAGE;
            rc = 0;
            break;
        }
    if (rc)
        goto done;
    switch (cmd->kind) {
    case DM_HOST_APPROVAL:
        v = cJSON_GetObjectItemCaseSensitive(o, "on");
        rc = cJSON_IsBool(v) ? 0 : -1;
        cmd->on = cJSON_IsTrue(v);
        break;
    case DM_HOST_APPROVE:
    case DM_HOST_REJECT:
    case DM_HOST_DELETE:
        rc = copy_string(o, "id", cmd->id, sizeof cmd->id);
        break;
    case DM_HOST_BAN:
    case DM_HOST_UNBAN:
        rc = copy_string(o, "who", cmd->who, sizeof cmd->who);
        break;
    case DM_HOST_SLOW_MODE:
    case DM_HOST_RATE_CAP:
        v = cJSON_GetObjectItemCaseSensitive(o, cmd->kind == DM_HOST_SLOW_MODE ? "seconds" : "per_minute");
        rc = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1e6 && isfinite(v->valuedouble) ? 0 : -1;
        cmd->value = rc ? 0 : v->valuedouble;
        break;
    case DM_HOST_ADD_RULE:
    case DM_HOST_PREVIEW:
        v = cJSON_GetObjectItemCaseSensitive(o, "kind");
        rc = -1;
        if (cJSON_IsString(v) && (!strcmp(v->valuestring, "keyword") || !strcmp(v->valuestring, "regex"))) {
            cmd->is_regex = !strcmp(v->valuestring, "regex");
            v = cJSON_GetObjectItemCaseSensitive(o, "pattern");
            if (cJSON_IsString(v) && strlen(v->valuestring) < TEXT_CAP_BYTES) {
                cmd->pattern = strdup(v->valuestring);
                if (!cmd->pattern)
                    e = DM_NET_INTERNAL;
                rc = cmd->pattern ? 0 : -1;
            }
        }
        break;
    case DM_HOST_REMOVE_RULE:
        v = cJSON_GetObjectItemCaseSensitive(o, "rule");
        rc = cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 4294967296.0 ? 0 : -1;
        cmd->rule = rc ? 0 : (uint32_t)v->valuedouble;
        break;
    case DM_HOST_FILM_SEEK:
        rc = number_in(o, "seconds", 0, 1e6, 0, &cmd->value);
        break;
    case DM_HOST_FILM_SEEK_BY:
        rc = number_in(o, "seconds", -1e6, 1e6, 0, &cmd->value);
        break;
    case DM_HOST_FILM_JUMP:
        rc = number_in(o, "entry", 0, 1e6, 1, &cmd->value);
        break;
    case DM_HOST_FILM_VOLUME:
        rc = number_in(o, "volume", 0, 100, 0, &cmd->value);
        break;
    case DM_HOST_BREAK_ADD:
        rc = number_in(o, "seconds", 1e-3, 3600, 0, &cmd->value);
        break;
    default:
        rc = 0;
        break;
    }
done:
    cJSON_Delete(o);
    return rc ? e : DM_NET_OK;
}

/* ------------------------------------------------------------ log */

static const char *const status_names[] = { "shown", "held", "waiting", "rejected", "deleted" };

const char *dm_host_status_name(dm_host_status s)
{
    return (unsigned)s < sizeof status_names / sizeof status_names[0] ? status_names[s] : "?";
}

struct dm_host_log {
    dm_host_entry *ring;      /* oldest at head */
    size_t head, count, cap;
    int32_t *buckets;         /* the id index: first slot of each hash chain, -1 empty */
    size_t bucket_mask;       /* buckets - 1 (a power of two, at least 2 * cap) */
    size_t held, waiting;     /* entries with those statuses */
};

static size_t id_hash(const dm_host_log *l, const char *id)
{
    uint32_t h = 2166136261u;   /* FNV-1a */

    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h & l->bucket_mask;
}

static void count_status(dm_host_log *l, dm_host_status st, int delta)
{
    if (st == DM_HOST_HELD)
        l->held += (size_t)delta;
    else if (st == DM_HOST_WAITING)
        l->waiting += (size_t)delta;
}

dm_host_log *dm_host_log_new(size_t cap)
{
    dm_host_log *l = calloc(1, sizeof *l);
    size_t nb = 2;

    if (!l)
        return NULL;
    cap = cap ? cap : 1;
    while (nb < 2 * cap)
        nb *= 2;
    l->ring = calloc(cap, sizeof *l->ring);
    l->buckets = malloc(nb * sizeof *l->buckets);
    if (!l->ring || !l->buckets) {
        free(l->ring);
        free(l->buckets);
        free(l);
        return NULL;
    }
    for (size_t i = 0; i < nb; i++)
        l->buckets[i] = -1;
    l->bucket_mask = nb - 1;
    l->cap = cap;
    return l;
}

void dm_host_log_free(dm_host_log **pl)
{
    dm_host_log *l = *pl;

    if (!l)
        return;
    for (size_t i = 0; i < l->cap; i++)
        free(l->ring[i].text);
    free(l->ring);
    free(l->buckets);
    free(l);
    *pl = NULL;
}

/* Take the slot out of its hash chain. */
static void unindex(dm_host_log *l, size_t slot)
{
    int32_t *p = &l->buckets[id_hash(l, l->ring[slot].id)];

    while (*p >= 0 && (size_t)*p != slot)
        p = &l->ring[*p].hnext;
    if (*p >= 0)
        *p = l->ring[slot].hnext;
}

dm_host_entry *dm_host_log_add(dm_host_log *l, const dm_host_entry *e)
{
    char *text = strdup(e->text ? e->text : "");
    size_t slot, b;

    if (!text)
        return NULL;
    if (l->count == l->cap) {
        /* the oldest goes; a held one that old has been waiting for a very long time */
        unindex(l, l->head);
        count_status(l, l->ring[l->head].status, -1);
        free(l->ring[l->head].text);
        l->ring[l->head].text = NULL;
        l->head = (l->head + 1) % l->cap;
        l->count--;
    }
    slot = (l->head + l->count) % l->cap;
    l->ring[slot] = *e;
    l->ring[slot].text = text;
    b = id_hash(l, e->id);
    l->ring[slot].hnext = l->buckets[b];
    l->buckets[b] = (int32_t)slot;
    count_status(l, e->status, 1);
    l->count++;
    return &l->ring[slot];
}

dm_host_entry *dm_host_log_at(dm_host_log *l, size_t i)
{
    return i < l->count ? &l->ring[(l->head + i) % l->cap] : NULL;
}

size_t dm_host_log_count(const dm_host_log *l)
{
    return l->count;
}

dm_host_entry *dm_host_log_find(dm_host_log *l, const char *id)
{
    for (int32_t i = l->buckets[id_hash(l, id)]; i >= 0; i = l->ring[i].hnext)
        if (!strcmp(l->ring[i].id, id))
            return &l->ring[i];
    return NULL;
}

void dm_host_log_set_status(dm_host_log *l, dm_host_entry *e, dm_host_status st, int reason)
{
    count_status(l, e->status, -1);
    e->status = st;
    e->reason = reason;
    count_status(l, st, 1);
}

size_t dm_host_log_held(const dm_host_log *l)
{
    return l->held;
}

size_t dm_host_log_waiting(const dm_host_log *l)
{
    return l->waiting;
}

void dm_host_log_forget_owner(dm_host_log *l, const void *owner)
{
    for (size_t i = 0; i < l->count; i++) {
        dm_host_entry *e = dm_host_log_at(l, i);
        if (e->owner == owner)
            e->owner = NULL;
    }
}

char *dm_host_entry_json(const dm_host_entry *e, int full)
{
    cJSON *o = cJSON_CreateObject();
    char color[8], *s;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "type", full ? "comment" : "status");
    cJSON_AddStringToObject(o, "id", e->id);
    cJSON_AddStringToObject(o, "status", dm_host_status_name(e->status));
    cJSON_AddNumberToObject(o, "t_ms", (double)e->t_ms);
    if (e->status == DM_HOST_REJECTED && e->reason > 0)
        cJSON_AddStringToObject(o, "reason", dm_net_err_code((dm_net_err)e->reason));
    if (full) {
        snprintf(color, sizeof color, "#%06X", (unsigned)e->color);
        cJSON_AddStringToObject(o, "author", e->author);
        cJSON_AddStringToObject(o, "address", e->address);
        cJSON_AddStringToObject(o, "text", e->text);
        cJSON_AddStringToObject(o, "color", color);
        cJSON_AddStringToObject(o, "mode", dm_mode_name(e->mode));
        cJSON_AddStringToObject(o, "size", dm_size_name(e->size));
    }
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ------------------------------------------------------------ rate */

void dm_host_rate_add(dm_host_rate *r, double now)
{
    int64_t sec = (int64_t)floor(now);
    size_t i = (size_t)(sec % 60);

    if (r->second[i] != sec) {
        r->second[i] = sec;
        r->buckets[i] = 0;
    }
    r->buckets[i]++;
}

unsigned dm_host_rate_per_minute(const dm_host_rate *r, double now)
{
    int64_t sec = (int64_t)floor(now);
    unsigned n = 0;

    for (size_t i = 0; i < 60; i++)
        if (r->second[i] > sec - 60 && r->second[i] <= sec)
            n += r->buckets[i];
    return n;
}

char *dm_host_state_json(dm_moderation *m, size_t held, size_t waiting)
{
    cJSON *o = cJSON_CreateObject(), *rules, *bans;
    char *s;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "type", "state");
    cJSON_AddBoolToObject(o, "approval", dm_mod_approval(m));
    cJSON_AddBoolToObject(o, "paused", dm_mod_paused(m));
    cJSON_AddNumberToObject(o, "slow_mode_s", dm_mod_slow_mode(m));
    cJSON_AddNumberToObject(o, "rate_per_min", dm_mod_rate_cap(m));
    cJSON_AddNumberToObject(o, "held", (double)held);
    cJSON_AddNumberToObject(o, "waiting", (double)waiting);
    rules = cJSON_AddArrayToObject(o, "rules");
    for (size_t i = 0; rules && i < dm_mod_rule_count(m); i++) {
        const dm_mod_rule *r = dm_mod_rule_at(m, i);
        cJSON *j = cJSON_CreateObject();
        if (!j)
            break;
        cJSON_AddNumberToObject(j, "id", r->id);
        cJSON_AddStringToObject(j, "kind", r->is_regex ? "regex" : "keyword");
        cJSON_AddStringToObject(j, "pattern", r->pattern);
        cJSON_AddNumberToObject(j, "hits", (double)r->hits);
        cJSON_AddNumberToObject(j, "limit_hits", (double)r->limit_hits);
        cJSON_AddItemToArray(rules, j);
    }
    bans = cJSON_AddArrayToObject(o, "bans");
    for (size_t i = 0; bans && i < dm_mod_ban_count(m); i++)
        cJSON_AddItemToArray(bans, cJSON_CreateString(dm_mod_ban_at(m, i)));
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
