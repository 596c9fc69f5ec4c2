/*
 * server.c - the live feed's libwebsockets server: one port for the audience
 * page (GET /, /app.js, /app.css) and the WebSocket endpoint (/ws), on its own
 * service thread. Accepted comments are stamped with the film time, appended
 * to the recording and flushed, queued for the render thread, and only then
 * acknowledged, so every ack names a comment that is safely on disk. The host
 * console (/host, /host/ws, token protected) drives the moderation (host.c,
 * moderation.c) and sends deletes and clears to the render thread.
 */
#include "dm_net.h"
#include "host.h"
#include "moderation.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#ifdef DM_NET_LIBEV
#include <ev.h>
#endif

#define MSG_CAP_BYTES (16 * 1024)  /* one message, fragments included; bigger: close 1009 */
#define DISCARD_CAP (8u << 20)     /* bytes of an oversized message read before closing anyway */
#define OUT_CAP 256                /* replies waiting for a slow reader; more: it is not reading */
#define STREAM_SOFT_CAP 64         /* broadcast comments are dropped beyond this backlog */
#define ADDR_LEN 64

/* A reply waiting to be written, with LWS_PRE bytes of headroom. */
typedef struct out_msg {
    unsigned char *buf;
    size_t len;
} out_msg;

/* Per-connection state; service thread only (lws hands it to the callback). */
typedef struct conn {
    int is_ws;                     /* a WebSocket (else an HTTP request) */
    int counted;                   /* counted in its address's tally */
    int doomed;                    /* close once the queued error is out */
    int subscribed;                /* wants the stream of accepted comments */
    int too_big;                   /* 1: a message went over MSG_CAP_BYTES, 2: its end was read: close 1009 */
    size_t discarded;              /* bytes of that message thrown away */
    char addr[ADDR_LEN];           /* peer address */
    double tokens;                 /* token bucket */
    double refilled;               /* when the bucket was last refilled */
    unsigned char *rx;             /* message being reassembled from fragments */
    size_t rx_len;
    int rx_binary;
    out_msg out[OUT_CAP];          /* ring of replies */
    unsigned out_head, out_count;
    struct conn *next_sub;         /* subscribers list */
    struct conn *prev_all, *next_all; /* every WebSocket, for the idle sweep */
    int is_host;                   /* an authorised host console (/host/ws) */
    int host_refused;              /* a /host/ws without a valid token: closed 1008 */
    const char *close_reason;      /* reason sent with the 1008 of a doomed connection */
    struct conn *next_host;        /* host consoles list */
    char sid[DM_HOST_SID_LEN + 1]; /* host console: the session that authorised it, "" for the Bearer token */
    char who[DM_HOST_WHO_LEN];     /* connection identity, the console's "author" */
    int login;                     /* HTTP: a POST /host/login whose body is being read */
    int logout;                    /* HTTP: a POST /host/logout waiting for its body's end; 2: a session ended */
    char *post;                    /* its body */
    size_t post_len;
    double last_seen;              /* when the client last sent anything (a pong included) */
    int ping;                      /* 1: a ping is due, 2: sent and unanswered */
    struct lws *wsi;
    /* HTTP */
    const char *body;              /* page file being sent */
    size_t body_len;
    char msg[96];                  /* a short text body of our own (the 429 of the login limit) */
} conn;

/* Connection tally of one address; service thread only. */
typedef struct addr_count {
    char addr[ADDR_LEN];
    int n;
} addr_count;

typedef struct web_file {
    const char *path;              /* URL path */
    const char *name;              /* file in web_dir */
    const char *mime;
    char *data;
    size_t len;
} web_file;

struct dm_net {
    /* set by dm_net_start before the service thread starts; read-only after */
    dm_net_opts opts;              /* settings (web_dir cleared once the page is loaded) */
    struct lws_context *ctx;       /* lws_cancel_service() is the only call made on it from other threads */
    struct lws_vhost *vhost;
    pthread_t thread;              /* the service thread */
    int thread_started;            /* main thread only */
    atomic_int stop;               /* set by dm_net_halt, read by the service thread */
    int port;                      /* port bound */
    char join_url[512];            /* URL in the QR code */
#ifdef DM_NET_LIBEV
    /*
     * lws's default loop is poll(): each wake-up scans every socket, which
     * dominates with a thousand clients; libev uses epoll. Created by
     * dm_net_start, then run and broken only by the service thread.
     */
    struct ev_loop *loop;
#endif
    web_file files[3];             /* the page, loaded at start */
    web_file host_files[4];        /* the console: host.html, host.js, host.css, host-login.html */
    /* service thread only (record and seq are also written under lock, see accept_comment) */
    FILE *record;                  /* --record, appended and flushed per comment */
    addr_count *addrs;
    size_t addr_count;
    size_t addr_cap;
    conn *subs;
    conn *all;                     /* every WebSocket */
    lws_sorted_usec_list_t sweep;  /* the idle check, every second */
    uint64_t seq;
    long long session;
    uint32_t salt;
    uint64_t open_conns;
    uint32_t conn_seq;             /* connections ever, for their identities */
    dm_moderation *mod;            /* the host's rules */
    dm_host_auth *auth;            /* host token and sessions */
    dm_host_log *log;              /* recent comments as the console lists them */
    dm_host_pending pending;       /* held and waiting comments, in arrival order */
    size_t held, waiting;          /* how many of each */
    dm_host_rate rate;             /* comments shown per minute */
    conn *hosts;                   /* connected consoles */
    int filter_authed;             /* the /host/ws handshake in progress was authorised */
    char filter_sid[DM_HOST_SID_LEN + 1]; /* ...by this session ("" the Bearer token) */
    struct lws *filter_wsi;        /* ...for this connection */
    dm_host_login_limit login_limit; /* wrong tokens at the login form, by address */
    /* atomics shared with the render thread */
    atomic_int pause_request;      /* -1 none, 0 resume, 1 pause (the p key) */
    atomic_int feed_paused;        /* mirror of dm_mod_paused for the render thread */
    /* protected by lock */
    dm_net_control controls[1024]; /* host requests for the render thread (CONTROL_CAP) */
    size_t c_head, c_count;
    uint64_t on_screen, dropped;   /* reported by the render thread */
    pthread_mutex_t lock;
    int64_t film_ms;               /* film time comments are stamped with: never goes back within a pass */
    int pass;                      /* backward seeks of the film so far */
    int film_paused;               /* the film is paused (film_ms then stays put) */
    dm_net_comment *queue;         /* ring for the render thread */
    size_t q_head, q_count, q_cap;
    dm_net_stats stats;
};

double dm_net_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ replies */

static int out_push(conn *c, const char *json, size_t len)
{
    unsigned char *b;
    out_msg *m;

    if (c->out_count == OUT_CAP)
        return -1;
    b = malloc(LWS_PRE + len);
    if (!b)
        return -1;
    memcpy(b + LWS_PRE, json, len);
    m = &c->out[(c->out_head + c->out_count) % OUT_CAP];
    m->buf = b;
    m->len = len;
    c->out_count++;
    lws_callback_on_writable(c->wsi);
    return 0;
}

static void out_clear(conn *c)
{
    while (c->out_count) {
        free(c->out[c->out_head].buf);
        c->out_head = (c->out_head + 1) % OUT_CAP;
        c->out_count--;
    }
}

/* Queue a reply; a client whose backlog is full is not reading: drop it. */
static int reply(conn *c, char *json)
{
    int rc;

    if (!json)
        return -1;
    rc = out_push(c, json, strlen(json));
    free(json);
    if (rc) {
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"not reading", 11);
        return -1;
    }
    return 0;
}

static int reply_error(dm_net *n, conn *c, dm_net_err e, int retry_ms)
{
    pthread_mutex_lock(&n->lock);
    n->stats.rejected++;
    pthread_mutex_unlock(&n->lock);
    return reply(c, dm_net_error_json(e, retry_ms));
}

/* ------------------------------------------------------------ addresses */

static addr_count *addr_find(dm_net *n, const char *addr, int create)
{
    for (size_t i = 0; i < n->addr_count; i++)
        if (!strcmp(n->addrs[i].addr, addr))
            return &n->addrs[i];
    if (!create)
        return NULL;
    if (n->addr_count == n->addr_cap) {
        size_t cap = n->addr_cap ? n->addr_cap * 2 : 64;
        addr_count *a;
        if (cap > (size_t)n->opts.max_connections + 64)
            return NULL;   /* one entry per connection at most */
        a = realloc(n->addrs, cap * sizeof *a);
        if (!a)
            return NULL;
        n->addrs = a;
        n->addr_cap = cap;
    }
    snprintf(n->addrs[n->addr_count].addr, ADDR_LEN, "%s", addr);
    n->addrs[n->addr_count].n = 0;
    return &n->addrs[n->addr_count++];
}

static void addr_release(dm_net *n, const char *addr)
{
    addr_count *a = addr_find(n, addr, 0);

    if (a && --a->n <= 0) {
        *a = n->addrs[n->addr_count - 1];
        n->addr_count--;
    }
}

/* ------------------------------------------------------------ origin */

/* Host part of "scheme://host[:port]" compared with the Host header. */
static int origin_allowed(dm_net *n, struct lws *wsi)
{
    char origin[256], host[256];
    const char *o;

    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
        return 1;   /* not a browser: an Origin protects browsers only */
    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) >= (int)sizeof origin ||
        lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0)
        return 0;
    for (int i = 0; i < n->opts.allow_origin_count; i++)
        if (!strcasecmp(origin, n->opts.allow_origins[i]))
            return 1;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) <= 0 ||
        lws_hdr_total_length(wsi, WSI_TOKEN_HOST) >= (int)sizeof host ||
        lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) < 0)
        return 0;
    o = strstr(origin, "://");
    return o && !strcasecmp(o + 3, host);
}

/* ------------------------------------------------------------ comments */

static char *ack_json(const char *id, int64_t t_ms)
{
    cJSON *o = cJSON_CreateObject();
    char *s;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "type", "ack");
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddNumberToObject(o, "t_ms", (double)t_ms);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static char *stream_json(const dm_comment *c)
{
    cJSON *o = cJSON_CreateObject();
    char color[8], *s;

    if (!o)
        return NULL;
    snprintf(color, sizeof color, "#%06X", (unsigned)c->color);
    cJSON_AddStringToObject(o, "type", "comment");
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddNumberToObject(o, "t_ms", (double)c->t_ms);
    cJSON_AddStringToObject(o, "text", c->text);
    cJSON_AddStringToObject(o, "color", color);
    cJSON_AddStringToObject(o, "mode", dm_mode_name(c->mode));
    cJSON_AddStringToObject(o, "size", dm_size_name(c->size));
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static uint32_t fnv1a(uint32_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/*
 * Accept a checked comment: stamp, record (flushed), queue, then ack `c`
 * (NULL: the sender of an approved comment has left). `author` is the
 * address hash the recording keeps. `id` (DM_HOST_ID_LEN bytes) is the id
 * of a comment the host held, or empty for a fresh one, written back.
 * Returns 1 accepted, 0 refused (the sender got the error); *cb_rc is what
 * the callback returns. The queue lock is held across stamping and
 * recording so the recording's order is the queue's order, which is the
 * order the live layout sees. s->text stays the caller's: the queue gets a
 * copy, which the render thread frees as soon as the lock is released, so
 * the caller's later reads (the console's log entry) must not share it.
 */
static int accept_comment(dm_net *n, conn *c, dm_net_submission *s, const char *author, char *id, int64_t *t_ms,
                          int *cb_rc)
{
    dm_net_comment nc = { 0 };
    char who[DM_HOST_WHO_LEN], *line, *ack, *js, *text;
    size_t slot;
    int rc;

    *cb_rc = 0;
    text = strdup(s->text);   /* the queue's own copy */
    if (!text) {
        if (c)
            *cb_rc = reply_error(n, c, DM_NET_INTERNAL, 0);
        return 0;
    }
    pthread_mutex_lock(&n->lock);
    if (n->q_count == n->q_cap) {
        pthread_mutex_unlock(&n->lock);
        free(text);
        if (c)
            *cb_rc = reply_error(n, c, DM_NET_BUSY, 0);
        return 0;
    }
    if (!id[0])
        snprintf(id, DM_HOST_ID_LEN, "%llx-%llu", n->session, (unsigned long long)++n->seq);
    nc.c.t_ms = n->film_ms;
    nc.c.pass = n->pass;
    nc.c.mode = s->mode;
    nc.c.size = s->size;
    nc.c.color = s->color;
    nc.c.text = text;
    nc.c.id = id;
    snprintf(who, sizeof who, "%s", author);
    nc.c.author = who;   /* the record line only reads it */
    nc.c.sent = (int64_t)time(NULL);
    nc.c.weight = -1;
    nc.c.count = 1;
    if (n->record) {
        line = dm_jsonl_comment_line(&nc.c);
        rc = line ? fputs(line, n->record) : EOF;
        free(line);
        if (rc == EOF || fflush(n->record)) {
            pthread_mutex_unlock(&n->lock);
            free(text);
            fprintf(stderr, "danmaku: cannot write the recording: %s\n", strerror(errno));
            if (c)
                *cb_rc = reply_error(n, c, DM_NET_INTERNAL, 0);
            return 0;
        }
    }
    nc.c.id = strdup(id);
    nc.c.author = strdup(author);
    nc.accepted_wall = dm_net_now();
    /* the stream copy is made under the lock: once it is released the render thread may take the comment */
    js = n->subs ? stream_json(&nc.c) : NULL;
    slot = (n->q_head + n->q_count) % n->q_cap;
    n->queue[slot] = nc;
    n->q_count++;
    n->stats.accepted++;
    pthread_mutex_unlock(&n->lock);
    if (n->opts.wake)
        n->opts.wake(n->opts.wake_ud);
    *t_ms = nc.c.t_ms;
    ack = c ? ack_json(id, nc.c.t_ms) : NULL;
    for (conn *sub = n->subs; js && sub; sub = sub->next_sub)
        if (sub->out_count < STREAM_SOFT_CAP)
            out_push(sub, js, strlen(js));
    free(js);
    if (c)
        *cb_rc = reply(c, ack);
    return 1;
}

static int take_bucket(dm_net *n, conn *c, int *retry_ms)
{
    double now = dm_net_now();

    c->tokens += (now - c->refilled) * n->opts.rate_per_s;
    if (c->tokens > n->opts.burst)
        c->tokens = n->opts.burst;
    c->refilled = now;
    if (c->tokens >= 1.0) {
        c->tokens -= 1.0;
        return 0;
    }
    *retry_ms = (int)((1.0 - c->tokens) / n->opts.rate_per_s * 1000.0) + 1;
    return -1;
}

/* ------------------------------------------------------------ host console */

#define CONTROL_CAP 1024           /* host requests waiting for the render thread */
#define POST_CAP 1024              /* a login form's body */
#define HTTP_TOO_MANY_REQUESTS 429 /* lws 4.1 has no name for it */

static char *simple_json(const char *type, const char *key, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    char *s;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "type", type);
    if (key)
        cJSON_AddStringToObject(o, key, value);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Send to every console; a console that does not read loses messages, never the feed. */
static void host_broadcast(dm_net *n, char *json)
{
    for (conn *h = n->hosts; json && h; h = h->next_host)
        if (!h->doomed && h->out_count < OUT_CAP - 8)
            out_push(h, json, strlen(json));
    free(json);
}

/* The JSON is made only when a console is there to read it: at 10,000 comments a second it counts. */
static void host_entry_broadcast(dm_net *n, const dm_host_entry *e, int full)
{
    if (n->hosts)
        host_broadcast(n, dm_host_entry_json(e, full));
}

static void audience_broadcast(dm_net *n, char *json)
{
    for (conn *sub = n->subs; json && sub; sub = sub->next_sub)
        if (sub->out_count < STREAM_SOFT_CAP)
            out_push(sub, json, strlen(json));
    free(json);
}

static void host_send_state(dm_net *n, conn *only)
{
    char *js = dm_host_state_json(n->mod, n->held, n->waiting);

    if (only)
        reply(only, js);
    else
        host_broadcast(n, js);
}

static char *host_stats_json(dm_net *n)
{
    cJSON *o = cJSON_CreateObject(), *rej;
    dm_mod_stats ms;
    dm_net_stats st;
    uint64_t on_screen, dropped, mod_total = 0;
    int64_t film_ms;
    char *s;

    if (!o)
        return NULL;
    dm_mod_get_stats(n->mod, &ms);
    pthread_mutex_lock(&n->lock);
    st = n->stats;
    on_screen = n->on_screen;
    dropped = n->dropped;
    film_ms = n->film_ms;
    pthread_mutex_unlock(&n->lock);
    cJSON_AddStringToObject(o, "type", "stats");
    cJSON_AddNumberToObject(o, "film_ms", (double)film_ms);
    cJSON_AddNumberToObject(o, "audience", (double)n->open_conns);
    cJSON_AddNumberToObject(o, "per_minute", dm_host_rate_per_minute(&n->rate, dm_net_now()));
    cJSON_AddNumberToObject(o, "accepted", (double)st.accepted);
    rej = cJSON_AddObjectToObject(o, "rejected");
    for (int r = 0; rej && r < DM_MOD_REASON_COUNT; r++) {
        cJSON_AddNumberToObject(rej, dm_mod_reason_code((dm_mod_reason)r), (double)ms.rejected[r]);
        mod_total += ms.rejected[r];
    }
    /* the rest: the protocol's own refusals (rate_limited, too_long, ...) */
    if (rej)
        cJSON_AddNumberToObject(rej, "other", st.rejected > mod_total ? (double)(st.rejected - mod_total) : 0.0);
    cJSON_AddNumberToObject(o, "on_screen", (double)on_screen);
    cJSON_AddNumberToObject(o, "dropped", (double)dropped);
    cJSON_AddNumberToObject(o, "held", (double)n->held);
    cJSON_AddNumberToObject(o, "waiting", (double)n->waiting);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static int push_control(dm_net *n, dm_net_control_kind kind, const char *id)
{
    pthread_mutex_lock(&n->lock);
    if (n->c_count == CONTROL_CAP) {
        pthread_mutex_unlock(&n->lock);
        return -1;
    }
    /* it applies after the comments queued so far, not to later ones */
    n->controls[(n->c_head + n->c_count) % CONTROL_CAP] = (dm_net_control){ .kind = kind, .after = n->stats.accepted };
    snprintf(n->controls[(n->c_head + n->c_count) % CONTROL_CAP].id, sizeof n->controls[0].id, "%s", id ? id : "");
    n->c_count++;
    pthread_mutex_unlock(&n->lock);
    if (n->opts.wake)
        n->opts.wake(n->opts.wake_ud);
    return 0;
}

static void set_status(dm_net *n, dm_host_entry *e, dm_host_status st, int reason)
{
    e->status = st;
    e->reason = reason;
    host_entry_broadcast(n, e, 0);
}

/* A held or waiting comment goes on screen: stamped now, recorded, queued, acked if its sender is still here. */
static void release_entry(dm_net *n, dm_host_entry *e)
{
    dm_net_submission s = { .kind = DM_NET_MSG_COMMENT, .mode = e->mode, .size = e->size, .color = e->color };
    char id[DM_HOST_ID_LEN];
    int64_t t_ms = 0;
    int rc = 0;

    s.text = strdup(e->text);
    if (!s.text)
        return;
    snprintf(id, sizeof id, "%s", e->id);
    if (accept_comment(n, e->owner, &s, e->address, id, &t_ms, &rc) == 1) {
        e->t_ms = t_ms;
        dm_host_rate_add(&n->rate, dm_net_now());
        set_status(n, e, DM_HOST_SHOWN, -1);
    } else {
        set_status(n, e, DM_HOST_REJECTED, DM_MOD_BUSY);
    }
    free(s.text);
}

static void count_pending(dm_net *n)
{
    n->held = n->waiting = 0;
    for (size_t i = 0; i < n->pending.count;) {
        dm_host_entry *e = dm_host_log_find(n->log, n->pending.ids[i]);
        if (!e) {
            /* pushed out of the log by 1,000 newer comments: it can no longer be decided on */
            dm_host_pending_remove(&n->pending, n->pending.ids[i]);
            continue;
        }
        if (e->status == DM_HOST_HELD)
            n->held++;
        else if (e->status == DM_HOST_WAITING)
            n->waiting++;
        i++;
    }
}

static void set_feed_paused(dm_net *n, int paused)
{
    dm_mod_set_paused(n->mod, paused);
    atomic_store(&n->feed_paused, paused);
    if (!paused) {
        /* in arrival order; held ones stay for the host */
        for (size_t i = 0; i < n->pending.count;) {
            dm_host_entry *e = dm_host_log_find(n->log, n->pending.ids[i]);
            if (!e || e->status == DM_HOST_WAITING) {
                if (e)
                    release_entry(n, e);
                dm_host_pending_remove(&n->pending, n->pending.ids[i]);
            } else {
                i++;
            }
        }
    }
    count_pending(n);
    host_send_state(n, NULL);
}

/* An audience comment that passed the protocol checks meets the host's rules. */
static int moderate_comment(dm_net *n, conn *c, dm_net_submission *s)
{
    dm_host_entry e = { .color = s->color, .mode = s->mode, .size = s->size, .reason = -1 };
    dm_mod_reason why = DM_MOD_BLOCKED;
    dm_mod_verdict v;
    dm_host_entry *le;
    double now = dm_net_now();
    int rc = 0;

    snprintf(e.author, sizeof e.author, "%s", c->who);
    snprintf(e.address, sizeof e.address, "%08x", fnv1a(n->salt, c->addr));
    e.text = s->text;
    v = dm_mod_check(n->mod, e.author, e.address, s->text, now, &why);
    if (v == DM_MOD_ACCEPT) {
        /* once queued, the text belongs to the render thread, which may free it at any moment */
        char *copy = strdup(s->text);
        int64_t t_ms = 0;
        if (!copy)
            return reply_error(n, c, DM_NET_INTERNAL, 0);
        e.text = copy;
        if (accept_comment(n, c, s, e.address, e.id, &t_ms, &rc) == 1) {
            e.t_ms = t_ms;
            e.status = DM_HOST_SHOWN;
            dm_host_rate_add(&n->rate, now);
            le = dm_host_log_add(n->log, &e);
            if (le)
                host_entry_broadcast(n, le, 1);
        }
        free(copy);
        return rc;
    }
    pthread_mutex_lock(&n->lock);
    snprintf(e.id, sizeof e.id, "%llx-%llu", n->session, (unsigned long long)++n->seq);
    e.t_ms = n->film_ms;
    if (v == DM_MOD_REJECT)
        n->stats.rejected++;
    pthread_mutex_unlock(&n->lock);
    if (v == DM_MOD_REJECT) {
        e.status = DM_HOST_REJECTED;
        e.reason = (int)why;
        le = dm_host_log_add(n->log, &e);
        if (le)
            host_entry_broadcast(n, le, 1);
        return reply(c, dm_host_error_json(dm_mod_reason_code(why), dm_mod_message(n->mod, why)));
    }
    e.status = v == DM_MOD_HOLD ? DM_HOST_HELD : DM_HOST_WAITING;
    e.owner = c;
    if (dm_host_pending_push(&n->pending, e.id))
        return reply_error(n, c, DM_NET_BUSY, 0);
    le = dm_host_log_add(n->log, &e);
    if (!le) {
        dm_host_pending_remove(&n->pending, e.id);
        return reply_error(n, c, DM_NET_INTERNAL, 0);
    }
    host_entry_broadcast(n, le, 1);
    count_pending(n);
    {
        cJSON *o = cJSON_CreateObject();
        char *js = NULL;
        if (o) {
            cJSON_AddStringToObject(o, "type", "held");
            cJSON_AddStringToObject(o, "id", e.id);
            cJSON_AddStringToObject(o, "reason", v == DM_MOD_HOLD ? "approval" : "paused");
            js = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
        }
        return reply(c, js);
    }
}

void dm_net_record_deletes(dm_net *n, const char *const *ids, size_t count)
{
    int bad = 0;

    if (!n->record || !count)
        return;
    pthread_mutex_lock(&n->lock);   /* one flush for them all */
    for (size_t i = 0; i < count && !bad; i++) {
        char *line = simple_json("delete", "id", ids[i]);
        bad = !line || fprintf(n->record, "%s\n", line) < 0;
        free(line);
    }
    bad = fflush(n->record) || bad;
    pthread_mutex_unlock(&n->lock);
    if (bad)
        fprintf(stderr, "danmaku: cannot write %zu deletion%s to the recording: %s\n", count, count == 1 ? "" : "s",
                strerror(errno));
}

static int host_delete(dm_net *n, dm_host_entry *e)
{
    const char *id = e->id;

    dm_net_record_deletes(n, &id, 1);
    if (push_control(n, DM_NET_DELETE, e->id))
        return -1;
    audience_broadcast(n, simple_json("delete", "id", e->id));
    set_status(n, e, DM_HOST_DELETED, -1);
    return 0;
}

/* Close a console whose session ended (1008): what it was still to be sent is dropped. */
static void host_end(conn *h)
{
    out_clear(h);
    h->doomed = 1;
    h->close_reason = "session ended";
    lws_callback_on_writable(h->wsi);
}

/* After a logout, or a login that pushed out the oldest session: the consoles those sessions opened close. */
static void host_end_forgotten(dm_net *n)
{
    for (conn *h = n->hosts; h; h = h->next_host)
        if (!h->doomed && h->sid[0] && !dm_host_auth_session_live(n->auth, h->sid))
            host_end(h);
}

/* One console message: settings change in dm_moderation, actions on the log and the screen. */
static int host_message(dm_net *n, conn *c, const char *buf, size_t len)
{
    dm_host_cmd cmd;
    const char *code, *message;
    char err[256] = "";
    dm_host_entry *e = NULL;
    int rc = 0;

    if (c->sid[0] && !dm_host_auth_session_live(n->auth, c->sid)) {
        host_end(c);   /* its session ended since it connected: it may do nothing more */
        return 0;
    }
    if (c->rx_binary)
        return reply(c, dm_host_error_json("binary_not_supported", "Binary messages are not supported."));
    if (dm_host_parse(buf, len, &cmd, &code, &message))
        return reply(c, dm_host_error_json(code, message));
    if (cmd.id[0]) {
        e = dm_host_log_find(n->log, cmd.id);
        if (!e) {
            free(cmd.pattern);
            return reply(c, dm_host_error_json("unknown_id", "No such comment in the console's list."));
        }
    }
    switch (cmd.kind) {
    case DM_HOST_APPROVAL:
        dm_mod_set_approval(n->mod, cmd.on);
        host_send_state(n, NULL);
        break;
    case DM_HOST_APPROVE:
    case DM_HOST_REJECT:
        if (e->status != DM_HOST_HELD && e->status != DM_HOST_WAITING) {
            rc = reply(c, dm_host_error_json("not_pending", "That comment is not waiting for a decision."));
            break;
        }
        if (cmd.kind == DM_HOST_REJECT) {
            dm_host_pending_remove(&n->pending, e->id);
            dm_mod_count_rejected(n->mod);
            pthread_mutex_lock(&n->lock);
            n->stats.rejected++;
            pthread_mutex_unlock(&n->lock);
            if (e->owner)
                reply(e->owner, dm_host_error_json(dm_mod_reason_code(DM_MOD_REJECTED),
                                                    dm_mod_message(n->mod, DM_MOD_REJECTED)));
            set_status(n, e, DM_HOST_REJECTED, DM_MOD_REJECTED);
        } else if (dm_mod_paused(n->mod)) {
            set_status(n, e, DM_HOST_WAITING, -1);   /* approved, shown when the feed resumes */
        } else {
            dm_host_pending_remove(&n->pending, e->id);
            release_entry(n, e);
        }
        count_pending(n);
        host_send_state(n, NULL);
        break;
    case DM_HOST_DELETE:
        if (e->status == DM_HOST_HELD || e->status == DM_HOST_WAITING) {
            rc = reply(c, dm_host_error_json("not_shown", "That comment is not on screen: reject it instead."));
        } else if (e->status != DM_HOST_SHOWN) {
            rc = reply(c, dm_host_error_json("not_shown", "That comment is not on screen."));
        } else if (host_delete(n, e)) {
            rc = reply(c, dm_host_error_json("busy", "The player is not keeping up: try again."));
        }
        break;
    case DM_HOST_BAN:
        if (dm_mod_ban(n->mod, cmd.who))
            rc = reply(c, dm_host_error_json("bad_value", "Cannot ban that author."));
        host_send_state(n, NULL);
        break;
    case DM_HOST_UNBAN:
        if (dm_mod_unban(n->mod, cmd.who))
            rc = reply(c, dm_host_error_json("bad_value", "That author is not banned."));
        host_send_state(n, NULL);
        break;
    case DM_HOST_SLOW_MODE:
        dm_mod_set_slow_mode(n->mod, cmd.value);
        host_send_state(n, NULL);
        break;
    case DM_HOST_RATE_CAP:
        dm_mod_set_rate_cap(n->mod, cmd.value);
        host_send_state(n, NULL);
        break;
    case DM_HOST_ADD_RULE:
        if (dm_mod_add_rule(n->mod, cmd.is_regex, cmd.pattern, err, sizeof err) < 0)
            rc = reply(c, dm_host_error_json("bad_rule", err[0] ? err : "That rule cannot be used."));
        else
            host_send_state(n, NULL);
        break;
    case DM_HOST_REMOVE_RULE:
        if (dm_mod_remove_rule(n->mod, cmd.rule))
            rc = reply(c, dm_host_error_json("bad_value", "No such rule."));
        else
            host_send_state(n, NULL);
        break;
    case DM_HOST_PREVIEW: {
        const char *hits[20];
        int count = dm_mod_preview(n->mod, cmd.is_regex, cmd.pattern, hits, 20, err, sizeof err);
        cJSON *o, *arr;
        if (count < 0) {
            rc = reply(c, dm_host_error_json("bad_rule", err[0] ? err : "That rule cannot be used."));
            break;
        }
        o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "type", "preview");
        cJSON_AddStringToObject(o, "kind", cmd.is_regex ? "regex" : "keyword");
        cJSON_AddStringToObject(o, "pattern", cmd.pattern);
        cJSON_AddNumberToObject(o, "count", count);
        arr = cJSON_AddArrayToObject(o, "matches");
        for (int i = 0; arr && i < count && i < 20; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(hits[i]));
        rc = reply(c, cJSON_PrintUnformatted(o));
        cJSON_Delete(o);
        break;
    }
    case DM_HOST_PAUSE:
    case DM_HOST_RESUME:
        set_feed_paused(n, cmd.kind == DM_HOST_PAUSE);
        break;
    case DM_HOST_CLEAR:
        if (push_control(n, DM_NET_CLEAR, NULL))
            rc = reply(c, dm_host_error_json("busy", "The player is not keeping up: try again."));
        else
            audience_broadcast(n, simple_json("clear", NULL, NULL));
        break;
    case DM_HOST_PING:
        rc = reply(c, strdup("{\"type\":\"pong\"}"));
        break;
    case DM_HOST_STATS:
        rc = reply(c, host_stats_json(n));
        break;
    }
    free(cmd.pattern);
    return rc;
}

/* A console connected: its settings, the recent comments, the figures. */
static void host_hello(dm_net *n, conn *c)
{
    size_t count = dm_host_log_count(n->log), room = OUT_CAP - 16;

    host_send_state(n, c);
    /* the newest that fit in the reply ring, oldest first */
    for (size_t i = count > room ? count - room : 0; i < count; i++)
        reply(c, dm_host_entry_json(dm_host_log_at(n->log, i), 1));
    reply(c, host_stats_json(n));
}

static int is_host_path(const char *path)
{
    return !strcmp(path, "/host") || !strncmp(path, "/host/", 6);
}

/* A request header into buf; 0, or -1 when it is absent or does not fit (then it counts as absent). */
static int copy_header(struct lws *wsi, enum lws_token_indexes h, char *buf, size_t cap)
{
    int len = lws_hdr_total_length(wsi, h);

    if (len <= 0 || len >= (int)cap || lws_hdr_copy(wsi, buf, (int)cap, h) < 0)
        return -1;
    return 0;
}

/*
 * The Authorization header or the session cookie; never the query string.
 * sid (DM_HOST_SID_LEN + 1 bytes, or NULL) gets the session that
 * authorised the request, "" when the Bearer token did: a logout ends a
 * session, never the token.
 */
static int host_authorized(dm_net *n, struct lws *wsi, char *sid)
{
    char buf[1024], found[DM_HOST_SID_LEN + 1] = "";
    int bearer = 0, cookie = 0;

    if (!copy_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, buf, sizeof buf))
        bearer = dm_host_auth_bearer(n->auth, buf);
    if (!copy_header(wsi, WSI_TOKEN_HTTP_COOKIE, buf, sizeof buf))
        cookie = dm_host_auth_cookie_session(n->auth, buf, found);
    if (sid)
        snprintf(sid, DM_HOST_SID_LEN + 1, "%s", bearer ? "" : found);
    return bearer || cookie;
}

/*
 * The request has a body still to come (Content-Length above 0): lws then
 * reads it and calls LWS_CALLBACK_HTTP_BODY_COMPLETION; without one that
 * never comes, and the answer is due now.
 */
static int has_body(struct lws *wsi)
{
    char v[24];

    return !copy_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, v, sizeof v) && strtoll(v, NULL, 10) > 0;
}

/*
 * The headers every page gets: its type and length, a strict Content-Security-
 * Policy (scripts and styles only from our own files; `form_action` 'self'
 * for the host login form, 'none' elsewhere), nosniff, no referrer, and a
 * cache policy. 0, or -1 when the header buffer is full.
 */
static int add_page_headers(struct lws *wsi, unsigned status, const char *mime, size_t len,
                            const char *form_action, const char *cache, unsigned char **p, unsigned char *end)
{
    char csp[320];
    int n = snprintf(csp, sizeof csp,
                     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                     "connect-src 'self' ws: wss:; base-uri 'none'; form-action %s; frame-ancestors 'none'",
                     form_action);

    if (n < 0 || (size_t)n >= sizeof csp)
        return -1;
    if (lws_add_http_common_headers(wsi, status, mime, len, p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"content-security-policy:",
                                    (const unsigned char *)csp, n, p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                    (const unsigned char *)"nosniff", 7, p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"referrer-policy:",
                                    (const unsigned char *)"no-referrer", 11, p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)cache, (int)strlen(cache), p, end))
        return -1;
    return 0;
}

/*
 * A console page, the login page (401) or a redirect to /host (303) after a
 * login or a logout, with set_cookie (a Set-Cookie value, or NULL).
 */
static int host_respond(struct lws *wsi, conn *c, int status, const web_file *f, const char *set_cookie)
{
    unsigned char headers[LWS_PRE + 2048], *p = headers + LWS_PRE, *end = headers + sizeof headers - 1;

    if (add_page_headers(wsi, (unsigned)status, f ? f->mime : "text/plain", f ? f->len : 0, "'self'",
                         "no-store", &p, end))
        return -1;
    if (status == HTTP_STATUS_UNAUTHORIZED &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                    (const unsigned char *)"Bearer realm=\"danmaku host\"", 27, &p, end))
        return -1;
    if (set_cookie && lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:",
                                                  (const unsigned char *)set_cookie, (int)strlen(set_cookie), &p, end))
        return -1;
    if (status == HTTP_STATUS_SEE_OTHER &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"location:", (const unsigned char *)"/host", 5, &p,
                                    end))
        return -1;
    if (lws_finalize_write_http_header(wsi, headers + LWS_PRE, &p, end))
        return -1;
    if (!f || !f->len)
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    c->body = f->data;
    c->body_len = f->len;
    lws_callback_on_writable(wsi);
    return 0;
}

/*
 * The session cookie's Set-Cookie value; sid NULL: the cookie expired at
 * once, with the same name and attributes so the browser drops the one it has.
 */
static void session_cookie(char *out, size_t cap, const char *sid)
{
    snprintf(out, cap, "%s=%s; HttpOnly; SameSite=Strict; Path=/host%s", DM_HOST_COOKIE, sid ? sid : "",
             sid ? "" : "; Max-Age=0");
}

/* 429 to a login from an address that posted too many wrong tokens: how long to wait, as a header and in words. */
static int host_too_many(struct lws *wsi, conn *c, unsigned wait)
{
    unsigned char headers[LWS_PRE + 2048], *p = headers + LWS_PRE, *end = headers + sizeof headers - 1;
    char secs[16];
    int len = snprintf(c->msg, sizeof c->msg, "Too many wrong tokens: try again in %u s.\n", wait);
    int slen = snprintf(secs, sizeof secs, "%u", wait);

    if (add_page_headers(wsi, HTTP_TOO_MANY_REQUESTS, "text/plain; charset=utf-8", (size_t)len, "'none'",
                         "no-store", &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:", (const unsigned char *)secs, slen,
                                    &p, end) ||
        lws_finalize_write_http_header(wsi, headers + LWS_PRE, &p, end))
        return -1;
    c->body = c->msg;
    c->body_len = (size_t)len;
    lws_callback_on_writable(wsi);
    return 0;
}

/*
 * A login form's body is in. An address that posted DM_HOST_LOGIN_TRIES
 * wrong tokens within the window gets 429 without the token being looked
 * at, so guessing goes no faster than the limit whatever it sends.
 */
static int host_login_done(dm_net *n, struct lws *wsi, conn *c)
{
    char sid[DM_HOST_SID_LEN + 1], addr[DM_HOST_ADDR_LEN] = "", set_cookie[128];
    double now = dm_net_now();
    unsigned wait;
    int ok;

    lws_get_peer_simple(wsi, addr, sizeof addr);
    wait = dm_host_login_wait(&n->login_limit, addr, now);
    ok = !wait && c->post && c->post_len <= POST_CAP && dm_host_auth_login(n->auth, c->post, c->post_len, sid);
    free(c->post);
    c->post = NULL;
    c->post_len = 0;
    if (wait)
        return host_too_many(wsi, c, wait);
    if (!ok) {
        dm_host_login_failed(&n->login_limit, addr, now);
        return host_respond(wsi, c, HTTP_STATUS_UNAUTHORIZED, &n->host_files[3], NULL);
    }
    dm_host_login_succeeded(&n->login_limit, addr);
    host_end_forgotten(n);   /* the new session may have pushed out the oldest */
    session_cookie(set_cookie, sizeof set_cookie, sid);
    return host_respond(wsi, c, HTTP_STATUS_SEE_OTHER, NULL, set_cookie);
}

/* 303 to /host; the cookie expired too if the request's session was the one that ended. */
static int host_logout_done(struct lws *wsi, conn *c)
{
    char set_cookie[128];
    int ended = c->logout == 2;

    c->logout = 0;
    session_cookie(set_cookie, sizeof set_cookie, NULL);
    return host_respond(wsi, c, HTTP_STATUS_SEE_OTHER, NULL, ended ? set_cookie : NULL);
}

/*
 * POST /host/logout: the sessions its cookie names end now, consoles they
 * opened included; the Bearer token is not a session and stays valid. No
 * token is needed: without a session it only redirects.
 */
static int host_logout(dm_net *n, struct lws *wsi, conn *c)
{
    char buf[1024];

    c->logout = 1;
    if (!copy_header(wsi, WSI_TOKEN_HTTP_COOKIE, buf, sizeof buf) && dm_host_auth_logout(n->auth, buf)) {
        c->logout = 2;
        host_end_forgotten(n);
    }
    if (has_body(wsi))
        return 0;   /* answered once the (ignored) body is in */
    return host_logout_done(wsi, c);
}

static int host_http(dm_net *n, struct lws *wsi, conn *c, const char *path)
{
    web_file *login = &n->host_files[3];
    int post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;

    if (!strcmp(path, "/host/login") && post) {
        if (!has_body(wsi))
            return host_login_done(n, wsi, c);   /* no token at all: a wrong one */
        c->login = 1;   /* answered once the body is in (LWS_CALLBACK_HTTP_BODY_COMPLETION) */
        return 0;
    }
    if (!strcmp(path, "/host/logout") && post)
        return host_logout(n, wsi, c);
    if (!host_authorized(n, wsi, NULL))
        return host_respond(wsi, c, HTTP_STATUS_UNAUTHORIZED, login, NULL);
    if (!strcmp(path, "/host") || !strcmp(path, "/host/"))
        return host_respond(wsi, c, HTTP_STATUS_OK, &n->host_files[0], NULL);
    for (int i = 1; i < 3; i++)
        if (!strcmp(path, n->host_files[i].path))
            return host_respond(wsi, c, HTTP_STATUS_OK, &n->host_files[i], NULL);
    lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

size_t dm_net_drain_control(dm_net *n, dm_net_control *out, size_t cap)
{
    size_t k = 0;

    pthread_mutex_lock(&n->lock);
    while (k < cap && n->c_count) {
        out[k++] = n->controls[n->c_head];
        n->c_head = (n->c_head + 1) % CONTROL_CAP;
        n->c_count--;
    }
    pthread_mutex_unlock(&n->lock);
    return k;
}

uint64_t dm_net_control_barrier(dm_net *n)
{
    uint64_t after;

    pthread_mutex_lock(&n->lock);
    after = n->c_count ? n->controls[n->c_head].after : UINT64_MAX;
    pthread_mutex_unlock(&n->lock);
    return after;
}

void dm_net_set_screen_stats(dm_net *n, uint64_t on_screen, uint64_t dropped)
{
    pthread_mutex_lock(&n->lock);
    n->on_screen = on_screen;
    n->dropped = dropped;
    pthread_mutex_unlock(&n->lock);
}

void dm_net_request_feed_paused(dm_net *n, int paused)
{
    atomic_store(&n->pause_request, paused ? 1 : 0);
    if (n->ctx && n->thread_started)
        lws_cancel_service(n->ctx);
}

int dm_net_feed_paused(dm_net *n)
{
    return atomic_load(&n->feed_paused);
}

const char *dm_net_host_token(const dm_net *n)
{
    return dm_host_auth_token(n->auth);
}

static int handle_message(dm_net *n, conn *c, const char *buf, size_t len)
{
    dm_net_submission s;
    dm_net_err e;
    int retry_ms = 0, rc;

    if (c->is_host)
        return host_message(n, c, buf, len);
    if (c->rx_binary)
        return reply_error(n, c, DM_NET_BINARY, 0);
    e = dm_net_parse_message(buf, len, &n->opts.limits, &s);
    if (e != DM_NET_OK)
        return reply_error(n, c, e, 0);
    if (s.kind == DM_NET_MSG_PING) {
        return reply(c, strdup("{\"type\":\"pong\"}"));
    }
    if (s.kind == DM_NET_MSG_SUBSCRIBE) {
        if (!c->subscribed) {
            c->subscribed = 1;
            c->next_sub = n->subs;
            n->subs = c;
        }
        return reply(c, strdup("{\"type\":\"subscribed\"}"));
    }
    if (take_bucket(n, c, &retry_ms)) {
        free(s.text);
        return reply_error(n, c, DM_NET_RATE_LIMITED, retry_ms);
    }
    rc = moderate_comment(n, c, &s);
    free(s.text);
    return rc;
}

/* ------------------------------------------------------------ callback */

static void unsubscribe(dm_net *n, conn *c)
{
    for (conn **pp = &n->subs; *pp; pp = &(*pp)->next_sub)
        if (*pp == c) {
            *pp = c->next_sub;
            break;
        }
    c->subscribed = 0;
}

/*
 * Once a second: ping connections silent for idle_ping_s, drop those silent
 * for idle_hangup_s. A ping answered (or any message) makes it fresh again.
 * Done by hand because lws 4.1 applies its idle policy to client connections
 * only.
 */
static void idle_sweep(lws_sorted_usec_list_t *sul)
{
    dm_net *n = lws_container_of(sul, dm_net, sweep);
    double now = dm_net_now();

    for (conn *c = n->all; c; c = c->next_all) {
        double idle = now - c->last_seen;
        if (idle >= n->opts.idle_hangup_s) {
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        } else if (idle >= n->opts.idle_ping_s && c->ping == 0) {
            c->ping = 1;
            lws_callback_on_writable(c->wsi);
        }
    }
    if (n->hosts)
        host_broadcast(n, host_stats_json(n));
    lws_sul_schedule(n->ctx, 0, &n->sweep, idle_sweep, LWS_US_PER_SEC);
}

static web_file *find_file(dm_net *n, const char *path)
{
    if (!strcmp(path, "/") || !strcmp(path, "/index.html"))
        return &n->files[0];
    for (int i = 1; i < 3; i++)
        if (!strcmp(path, n->files[i].path))
            return &n->files[i];
    return NULL;
}

static int serve_file(dm_net *n, struct lws *wsi, conn *c, const char *path)
{
    unsigned char headers[LWS_PRE + 2048], *p = headers + LWS_PRE, *end = headers + sizeof headers - 1;
    web_file *f = find_file(n, path);

    if (!f) {
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    if (add_page_headers(wsi, HTTP_STATUS_OK, f->mime, f->len, "'none'", "no-cache", &p, end) ||
        lws_finalize_write_http_header(wsi, headers + LWS_PRE, &p, end))
        return -1;
    c->body = f->data;
    c->body_len = f->len;
    lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    dm_net *n = lws_context_user(lws_get_context(wsi));
    conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
        if (n)
            lws_sul_schedule(lws_get_context(wsi), 0, &n->sweep, idle_sweep, LWS_US_PER_SEC);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (n && n->mod) {
            int want = atomic_exchange(&n->pause_request, -1);
            if (want >= 0 && want != dm_mod_paused(n->mod))
                set_feed_paused(n, want);
        }
#ifdef DM_NET_LIBEV
        if (n && n->loop && atomic_load(&n->stop))
            ev_break(n->loop, EVBREAK_ALL);
#endif
        return 0;
    case LWS_CALLBACK_HTTP: {
        char path[128];
        snprintf(path, sizeof path, "%s", (const char *)in);
        memset(c, 0, sizeof *c);
        if (is_host_path(path))
            return host_http(n, wsi, c, path);
        return serve_file(n, wsi, c, path);
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (!c->login)
            return 0;
        if (!c->post)
            c->post = malloc(POST_CAP + 1);
        if (!c->post)
            return -1;
        if (len > POST_CAP - (c->post_len < POST_CAP ? c->post_len : POST_CAP)) {
            c->post_len = POST_CAP + 1;   /* too big to be a token: refused at completion */
            return 0;
        }
        memcpy(c->post + c->post_len, in, len);
        c->post_len += len;
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (c->logout)
            return host_logout_done(wsi, c);
        if (!c->login)
            return 0;
        c->login = 0;
        /* it frees the body: completing the transaction may free c itself */
        return host_login_done(n, wsi, c);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (!c)
            return 0;   /* closed before any per-connection data existed (an idle preconnect) */
        free(c->post);
        c->post = NULL;
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        unsigned char *buf;
        int w;
        if (!c->body)
            return 0;
        buf = malloc(LWS_PRE + c->body_len);
        if (!buf)
            return -1;
        memcpy(buf + LWS_PRE, c->body, c->body_len);
        w = lws_write(wsi, buf + LWS_PRE, c->body_len, LWS_WRITE_HTTP_FINAL);
        free(buf);
        c->body = NULL;
        if (w < 0)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64] = "";
        n->filter_wsi = NULL;
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 ||
            lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) >= (int)sizeof uri ||
            lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || (strcmp(uri, "/ws") && strcmp(uri, "/host/ws"))) {
            pthread_mutex_lock(&n->lock);
            n->stats.refused++;
            pthread_mutex_unlock(&n->lock);
            lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "the WebSocket endpoint is /ws");
            return 1;
        }
        if (!origin_allowed(n, wsi)) {
            if (n->opts.verbose)
                fprintf(stderr, "danmaku: refused a WebSocket from a foreign Origin\n");
            pthread_mutex_lock(&n->lock);
            n->stats.refused++;
            pthread_mutex_unlock(&n->lock);
            /* a 403 the browser can show, rather than a bare hang-up */
            lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, "origin not allowed");
            return 1;
        }
        /* the headers are gone by ESTABLISHED: remember the verdict for this handshake */
        n->filter_wsi = strcmp(uri, "/host/ws") ? NULL : wsi;
        n->filter_authed = n->filter_wsi ? host_authorized(n, wsi, n->filter_sid) : 0;
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        addr_count *a;
        memset(c, 0, sizeof *c);
        c->is_ws = 1;
        c->wsi = wsi;
        if (n->filter_wsi == wsi) {
            n->filter_wsi = NULL;
            if (!n->filter_authed) {
                c->host_refused = 1;
                c->doomed = 1;
                c->close_reason = "host token required";
                lws_callback_on_writable(wsi);
                return 0;
            }
            c->is_host = 1;
            memcpy(c->sid, n->filter_sid, sizeof c->sid);
            c->next_host = n->hosts;
            n->hosts = c;
            host_hello(n, c);
            return 0;
        }
        n->conn_seq++;
        snprintf(c->who, sizeof c->who, "%08x", fnv1a(n->salt * 2654435761u + n->conn_seq, "conn"));
        c->tokens = n->opts.burst;
        c->refilled = dm_net_now();
        lws_get_peer_simple(wsi, c->addr, sizeof c->addr);
        c->last_seen = c->refilled;
        c->next_all = n->all;
        if (n->all)
            n->all->prev_all = c;
        n->all = c;
        a = addr_find(n, c->addr, 1);
        if (a && a->n < n->opts.max_per_address && n->open_conns < (uint64_t)n->opts.max_connections) {
            a->n++;
            c->counted = 1;
        } else {
            c->doomed = 1;
            if (a && a->n == 0)
                addr_release(n, c->addr);
        }
        n->open_conns++;
        pthread_mutex_lock(&n->lock);
        n->stats.connections = n->open_conns;
        n->stats.connections_total++;
        if (c->doomed)
            n->stats.refused++;
        pthread_mutex_unlock(&n->lock);
        if (c->doomed)
            return reply_error(n, c, DM_NET_TOO_MANY_CONNECTIONS, 0);
        return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
        c->last_seen = dm_net_now();
        c->ping = 0;
        if (c->doomed)
            return 0;
        if (lws_is_first_fragment(wsi) && !c->too_big) {
            c->rx_len = 0;
            c->rx_binary = lws_frame_is_binary(wsi);
        }
        if (c->too_big || len > MSG_CAP_BYTES - c->rx_len) {
            /*
             * Read the rest of the oversized message (up to DISCARD_CAP) and
             * close from the writeable callback: closing with the client's
             * bytes unread makes the kernel reset the connection, and the
             * close frame with its 1009 is lost.
             */
            free(c->rx);
            c->rx = NULL;
            c->rx_len = 0;
            c->too_big = 1;
            c->discarded += len;
            if ((lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) || c->discarded > DISCARD_CAP) {
                c->too_big = 2;
                lws_callback_on_writable(wsi);
            }
            return 0;
        }
        if (!c->rx) {
            c->rx = malloc(MSG_CAP_BYTES);
            if (!c->rx)
                return -1;
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
            return 0;
        {
            size_t mlen = c->rx_len;
            c->rx_len = 0;
            return handle_message(n, c, (const char *)c->rx, mlen);
        }
    }
    case LWS_CALLBACK_RECEIVE_PONG:
        c->last_seen = dm_net_now();
        c->ping = 0;
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        out_msg *m;
        int w;
        if (c->ping == 1) {
            /* a payload: lws 4.1 does not report the pong to an empty ping */
            unsigned char ping[LWS_PRE + 4] = { [LWS_PRE] = 'i', 'd', 'l', 'e' };
            c->ping = 2;
            if (lws_write(wsi, ping + LWS_PRE, 4, LWS_WRITE_PING) < 0)
                return -1;
            if (c->out_count || c->doomed || c->too_big)
                lws_callback_on_writable(wsi);
            return 0;
        }
        if (c->too_big == 2) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"message too big", 15);
            return -1;
        }
        if (!c->out_count) {
            if (c->doomed) {
                const char *why = c->close_reason ? c->close_reason : "too many connections";
                lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, strlen(why));
                return -1;
            }
            return 0;
        }
        /* several replies per callback while the socket takes them: one each falls behind a pipelining client */
        for (int k = 0; k < 64 && c->out_count; k++) {
            m = &c->out[c->out_head];
            w = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
            free(m->buf);
            m->buf = NULL;
            c->out_head = (c->out_head + 1) % OUT_CAP;
            c->out_count--;
            if (w < 0)
                return -1;
            if (lws_send_pipe_choked(wsi))
                break;
        }
        if (c->out_count || c->doomed)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (!c->is_ws)
            return 0;
        if (c->is_host || c->host_refused) {
            for (conn **pp = &n->hosts; *pp; pp = &(*pp)->next_host)
                if (*pp == c) {
                    *pp = c->next_host;
                    break;
                }
            out_clear(c);
            free(c->rx);
            c->rx = NULL;
            c->is_ws = 0;
            return 0;
        }
        dm_host_log_forget_owner(n->log, c);
        if (c->subscribed)
            unsubscribe(n, c);
        if (c->prev_all)
            c->prev_all->next_all = c->next_all;
        else
            n->all = c->next_all;
        if (c->next_all)
            c->next_all->prev_all = c->prev_all;
        if (c->counted)
            addr_release(n, c->addr);
        out_clear(c);
        free(c->rx);
        c->rx = NULL;
        n->open_conns--;
        pthread_mutex_lock(&n->lock);
        n->stats.connections = n->open_conns;
        pthread_mutex_unlock(&n->lock);
        c->is_ws = 0;
        return 0;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    { "danmaku", callback, sizeof(conn), 4096, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* ------------------------------------------------------------ lifecycle */

static void *service_main(void *ud)
{
    dm_net *n = ud;

#ifdef DM_NET_LIBEV
    if (n->loop) {
        /* ends when the stop callback breaks the loop (LWS_CALLBACK_EVENT_WAIT_CANCELLED) */
        ev_run(n->loop, 0);
        return NULL;
    }
#endif
    while (!atomic_load(&n->stop))
        if (lws_service(n->ctx, 0) < 0)
            break;
    return NULL;
}

static int load_file(const char *dir, web_file *f, char *err, size_t errlen)
{
    char path[4096];
    FILE *fp;
    long sz;

    snprintf(path, sizeof path, "%s/%s", dir, f->name);
    fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "cannot read the audience page %s: %s", path, strerror(errno));
        return DM_EIO;
    }
    sz = fseek(fp, 0, SEEK_END) ? -1 : ftell(fp);
    if (sz < 0 || sz > 1 << 20 || fseek(fp, 0, SEEK_SET)) {
        fclose(fp);
        snprintf(err, errlen, "cannot read the audience page %s", path);
        return DM_EIO;
    }
    f->data = malloc((size_t)sz + 1);
    if (!f->data || fread(f->data, 1, (size_t)sz, fp) != (size_t)sz) {
        fclose(fp);
        snprintf(err, errlen, "cannot read the audience page %s", path);
        return DM_EIO;
    }
    f->len = (size_t)sz;
    fclose(fp);
    return 0;
}

static void lws_log_quiet(int level, const char *line)
{
    (void)level;
    (void)line;
}

int dm_net_start(dm_net **out, const dm_net_opts *opts, char *err, size_t errlen)
{
    struct lws_context_creation_info info;
    dm_net *n;
    int e = DM_EINVAL;

    *out = NULL;
    if (opts->port < 0 || opts->port > 65535 || opts->queue_cap <= 0 || opts->rate_per_s <= 0 ||
        opts->burst < 1 || opts->max_per_address < 1 || opts->max_connections < 1 || opts->idle_ping_s < 1 ||
        opts->idle_hangup_s <= opts->idle_ping_s) {
        snprintf(err, errlen, "invalid live feed settings");
        return DM_EINVAL;
    }
    n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return DM_ENOMEM;
    }
    n->opts = *opts;
    pthread_mutex_init(&n->lock, NULL);
    n->q_cap = (size_t)opts->queue_cap;
    n->queue = calloc(n->q_cap, sizeof *n->queue);
    n->session = (long long)time(NULL);
    n->salt = (uint32_t)(2166136261u ^ (uint32_t)n->session ^ (uint32_t)(dm_net_now() * 1e6));
    if (!n->queue) {
        e = DM_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto error;
    }
    n->files[0] = (web_file){ "/", "index.html", "text/html; charset=utf-8", NULL, 0 };
    n->files[1] = (web_file){ "/app.js", "app.js", "text/javascript; charset=utf-8", NULL, 0 };
    n->files[2] = (web_file){ "/app.css", "app.css", "text/css; charset=utf-8", NULL, 0 };
    for (int i = 0; i < 3; i++) {
        e = load_file(opts->web_dir, &n->files[i], err, errlen);
        if (e)
            goto error;
    }
    n->host_files[0] = (web_file){ "/host", "host.html", "text/html; charset=utf-8", NULL, 0 };
    n->host_files[1] = (web_file){ "/host/host.js", "host.js", "text/javascript; charset=utf-8", NULL, 0 };
    n->host_files[2] = (web_file){ "/host/host.css", "host.css", "text/css; charset=utf-8", NULL, 0 };
    n->host_files[3] = (web_file){ "/host/login", "host-login.html", "text/html; charset=utf-8", NULL, 0 };
    for (int i = 0; i < 4; i++) {
        e = load_file(opts->web_dir, &n->host_files[i], err, errlen);
        if (e)
            goto error;
    }
    atomic_init(&n->pause_request, -1);
    n->mod = dm_mod_new();
    n->auth = dm_host_auth_new(opts->host_token);
    n->log = dm_host_log_new(1000);
    if (!n->mod || !n->auth || !n->log) {
        e = DM_ENOMEM;
        snprintf(err, errlen, "out of memory (or no randomness for the host token)");
        goto error;
    }
    if (opts->moderation_path) {
        e = dm_mod_load_file(n->mod, opts->moderation_path, err, errlen);
        if (e)
            goto error;
        atomic_store(&n->feed_paused, dm_mod_paused(n->mod));
    }
    n->opts.web_dir = NULL;   /* the page is in memory now; the caller's string may go */
    if (opts->record_path) {
        n->record = fopen(opts->record_path, "a");
        if (!n->record) {
            snprintf(err, errlen, "cannot write the recording %s: %s", opts->record_path, strerror(errno));
            e = DM_EIO;
            goto error;
        }
        if (ftell(n->record) == 0) {
            fprintf(n->record, "{\"type\":\"track\",\"format\":\"danmaku\",\"version\":1,\"live\":true,"
                               "\"started_at\":%lld}\n", n->session);
            fflush(n->record);
        } else {
            /* appending is right after a crash or a restart of the same screening */
            fprintf(stderr, "danmaku: %s is not empty: this screening's comments are appended to it "
                            "(a new screening wants a new file)\n", opts->record_path);
        }
    }
    lws_set_log_level(opts->verbose ? LLL_ERR | LLL_WARN : LLL_ERR, opts->verbose ? NULL : lws_log_quiet);
    memset(&info, 0, sizeof info);
    info.port = opts->port;
    info.iface = opts->addr;
    info.protocols = protocols;
    info.user = n;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
                   LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 10;
    info.keepalive_timeout = 10;
    info.count_threads = 1;
#ifdef DM_NET_LIBEV
    void *foreign_loops[1];
    n->loop = ev_loop_new(EVFLAG_AUTO);
    if (n->loop) {
        foreign_loops[0] = n->loop;
        info.foreign_loops = foreign_loops;
        info.options |= LWS_SERVER_OPTION_LIBEV;
    }
#endif
    n->ctx = lws_create_context(&info);
    if (!n->ctx) {
        snprintf(err, errlen, "cannot listen on %s:%d (port in use, or no such address)",
                 opts->addr ? opts->addr : "*", opts->port);
        e = DM_EIO;
        goto error;
    }
    n->vhost = lws_get_vhost_by_name(n->ctx, "default");
    n->port = n->vhost ? lws_get_vhost_listen_port(n->vhost) : opts->port;
    if (opts->public_url)
        snprintf(n->join_url, sizeof n->join_url, "%s", opts->public_url);
    else
        dm_net_lan_url(n->port, n->join_url, sizeof n->join_url);
    if (pthread_create(&n->thread, NULL, service_main, n)) {
        snprintf(err, errlen, "cannot start the network thread");
        e = DM_ENOMEM;
        goto error;
    }
    n->thread_started = 1;
    *out = n;
    return 0;
error:
    dm_net_stop(&n);
    return e;
}

void dm_net_halt(dm_net *n)
{
    if (n->thread_started) {
        atomic_store(&n->stop, 1);
        lws_cancel_service(n->ctx);
        pthread_join(n->thread, NULL);
        n->thread_started = 0;
    }
    if (n->ctx)
        lws_context_destroy(n->ctx);
    n->ctx = NULL;
#ifdef DM_NET_LIBEV
    if (n->loop)
        ev_loop_destroy(n->loop);
    n->loop = NULL;
#endif
    if (n->record)
        fclose(n->record);
    n->record = NULL;
}

void dm_net_stop(dm_net **pn)
{
    dm_net *n = *pn;

    if (!n)
        return;
    dm_net_halt(n);
    for (size_t i = 0; i < n->q_count; i++)
        dm_comment_free(&n->queue[(n->q_head + i) % n->q_cap].c);
    free(n->queue);
    for (int i = 0; i < 3; i++)
        free(n->files[i].data);
    for (int i = 0; i < 4; i++)
        free(n->host_files[i].data);
    dm_mod_free(&n->mod);
    dm_host_auth_free(&n->auth);
    dm_host_log_free(&n->log);
    dm_host_pending_free(&n->pending);
    free(n->addrs);
    pthread_mutex_destroy(&n->lock);
    free(n);
    *pn = NULL;
}

int dm_net_port(const dm_net *n)
{
    return n->port;
}

const char *dm_net_join_url(const dm_net *n)
{
    return n->join_url;
}

void dm_net_set_film_time(dm_net *n, int64_t t_ms, int paused)
{
    if (t_ms < 0)
        t_ms = 0;
    pthread_mutex_lock(&n->lock);
    /*
     * Stamps never go back within a pass, so arrival order is time order and
     * a recording replays with the live lanes. A clock that steps back a
     * little is held; a backward seek starts the next pass.
     */
    if (t_ms < n->film_ms - DM_NET_REWIND_MS)
        n->pass++;
    if (t_ms >= n->film_ms || t_ms < n->film_ms - DM_NET_REWIND_MS)
        n->film_ms = t_ms;
    n->film_paused = paused;
    pthread_mutex_unlock(&n->lock);
}

size_t dm_net_drain(dm_net *n, dm_net_comment *out, size_t cap)
{
    size_t k = 0;

    pthread_mutex_lock(&n->lock);
    while (k < cap && n->q_count) {
        out[k++] = n->queue[n->q_head];
        memset(&n->queue[n->q_head], 0, sizeof n->queue[0]);
        n->q_head = (n->q_head + 1) % n->q_cap;
        n->q_count--;
    }
    pthread_mutex_unlock(&n->lock);
    return k;
}

void dm_net_get_stats(dm_net *n, dm_net_stats *st)
{
    pthread_mutex_lock(&n->lock);
    *st = n->stats;
    pthread_mutex_unlock(&n->lock);
}
