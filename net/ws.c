/*
 * ws.c - the libwebsockets callback of the live feed's one port: the
 * audience's WebSocket (/ws: connection caps, frames, the token bucket,
 * replies and the stream of accepted comments) and the console's
 * (/host/ws, handed to console.c once authorised); HTTP requests go to
 * http.c. Service thread only.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DM_NET_LIBEV
#include <ev.h>
#endif

uint32_t dm_net_fnv1a(uint32_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* ------------------------------------------------------------ replies */

int dm_conn_push(conn *c, const char *json, size_t len)
{
    unsigned char *b;
    out_msg *m;

    if (!c->out || c->out_count == c->out_cap)
        return -1;
    b = malloc(LWS_PRE + len);
    if (!b)
        return -1;
    memcpy(b + LWS_PRE, json, len);
    m = &c->out[(c->out_head + c->out_count) % c->out_cap];
    m->buf = b;
    m->len = len;
    c->out_count++;
    if (!c->rx_paused && c->out_count >= c->out_cap - OUT_HEADROOM) {
        /*
         * Its answers pile up: read nothing more from it until they are
         * out. A client that pipelines many requests and reads is then
         * served at the pace it reads; one that never reads is closed by
         * the sweep (NOT_READING_S).
         */
        lws_rx_flow_control(c->wsi, 0);
        c->rx_paused = 1;
        c->progress = dm_now();
    }
    lws_callback_on_writable(c->wsi);
    return 0;
}

void dm_conn_clear(conn *c)
{
    while (c->out_count) {
        free(c->out[c->out_head].buf);
        c->out_head = (c->out_head + 1) % c->out_cap;
        c->out_count--;
    }
}

/*
 * Queue a reply; a client whose backlog is full is not reading: drop it
 * (at once when this is its own callback and it returns the -1, else on
 * the next service: an ack comes back from the recorder outside it).
 */
int dm_conn_reply(conn *c, char *json)
{
    int rc;

    if (!json)
        return -1;
    rc = dm_conn_push(c, json, strlen(json));
    free(json);
    if (rc) {
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"not reading", 11);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return -1;
    }
    return 0;
}

int dm_conn_reply_error(dm_net *n, conn *c, dm_net_err e, int retry_ms)
{
    dm_feed_count_rejected(n->feed);
    return dm_conn_reply(c, dm_net_error_json(e, retry_ms));
}

int dm_conn_reply_says(dm_net *n, conn *c, dm_net_err e, const char *message)
{
    dm_feed_count_rejected(n->feed);
    return dm_conn_reply(c, dm_net_error_json_says(e, message));
}

void dm_ws_audience_broadcast(dm_net *n, char *json)
{
    for (conn *sub = n->subs; json && sub; sub = sub->next_sub)
        if (sub->out_count < STREAM_SOFT_CAP)
            dm_conn_push(sub, json, strlen(json));
    free(json);
}

/* A night's programme: to every console, and with `audience` to every audience WebSocket (subscribed or not). */
void dm_ws_programme_broadcast(dm_net *n, int audience)
{
    char *js = (n->hosts || (audience && n->all)) ? dm_net_programme_json(n) : NULL;

    if (!js)
        return;
    for (conn *c = audience ? n->all : NULL; c; c = c->next_all)
        if (!c->doomed && c->out_count < STREAM_SOFT_CAP)
            dm_conn_push(c, js, strlen(js));
    dm_console_broadcast(n, js);
}

/* A comment in an intermission: refused with when the next film starts (and counted apart). */
int dm_conn_reply_intermission(dm_net *n, conn *c)
{
    char says[256];

    /* the programme that announced the intermission goes first (the render thread set it before closing) */
    if (atomic_exchange(&n->prog_news, 0))
        dm_ws_programme_broadcast(n, 1);
    dm_net_intermission_says(n, says, sizeof says);
    atomic_fetch_add(&n->intermission_refused, 1);
    return dm_conn_reply_says(n, c, DM_NET_INTERMISSION, says);
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

/* ------------------------------------------------------------ messages */

static int take_bucket(dm_net *n, conn *c, int *retry_ms)
{
    double now = dm_now();

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

static void unsubscribe(dm_net *n, conn *c)
{
    for (conn **pp = &n->subs; *pp; pp = &(*pp)->next_sub)
        if (*pp == c) {
            *pp = c->next_sub;
            break;
        }
    c->subscribed = 0;
}

static int handle_message(dm_net *n, conn *c, const char *buf, size_t len)
{
    dm_net_submission s;
    dm_net_err e;
    int retry_ms = 0, rc;

    if (c->is_host)
        return dm_console_message(n, c, buf, len);
    if (c->rx_binary)
        return dm_conn_reply_error(n, c, DM_NET_BINARY, 0);
    e = dm_net_parse_message(buf, len, &n->opts.limits, &s);
    if (e != DM_NET_OK)
        return dm_conn_reply_error(n, c, e, 0);
    if (s.kind == DM_NET_MSG_PING)
        return dm_conn_reply(c, strdup("{\"type\":\"pong\"}"));
    if (s.kind == DM_NET_MSG_SUBSCRIBE) {
        if (!c->subscribed) {
            c->subscribed = 1;
            c->next_sub = n->subs;
            n->subs = c;
        }
        return dm_conn_reply(c, strdup("{\"type\":\"subscribed\"}"));
    }
    if (!dm_feed_intake_open(n->feed)) {
        /* the night's intermission: before the token bucket and the host's rules, which it costs nothing */
        free(s.text);
        return dm_conn_reply_intermission(n, c);
    }
    if (take_bucket(n, c, &retry_ms)) {
        free(s.text);
        return dm_conn_reply_error(n, c, DM_NET_RATE_LIMITED, retry_ms);
    }
    rc = dm_console_comment(n, c, &s);
    free(s.text);
    return rc;
}

/* A connection whose reading is paused and that took none of its answers for NOT_READING_S: close it. 1 if so. */
static int not_reading_check(conn *c, double now)
{
    if (!c->rx_paused || now - c->progress < NOT_READING_S)
        return 0;
    lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"not reading", 11);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    return 1;
}

/*
 * Once a second: ping connections silent for idle_ping_s, drop those silent
 * for idle_hangup_s. A ping answered (or any message) makes it fresh again.
 * Done by hand because lws 4.1 applies its idle policy to client connections
 * only. The consoles get their statistics.
 */
static void idle_sweep(lws_sorted_usec_list_t *sul)
{
    dm_net *n = lws_container_of(sul, dm_net, sweep);
    double now = dm_now();

    for (conn *h = n->hosts; h; h = h->next_host)
        not_reading_check(h, now);
    for (conn *c = n->all; c; c = c->next_all) {
        double idle = now - c->last_seen;
        if (not_reading_check(c, now))
            continue;
        if (idle >= n->opts.idle_hangup_s) {
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        } else if (idle >= n->opts.idle_ping_s && c->ping == 0) {
            c->ping = 1;
            lws_callback_on_writable(c->wsi);
        }
    }
    if (n->hosts) {
        dm_console_broadcast(n, dm_console_stats_json(n));
        dm_ws_programme_broadcast(n, 0);   /* the film's time and the countdown, every second */
    }
    lws_sul_schedule(n->ctx, 0, &n->sweep, idle_sweep, LWS_US_PER_SEC);
}

/* ------------------------------------------------------------ connections */

/*
 * The audience page's own id (/ws?viewer=16 hex digits, kept for the tab's
 * life): the author its comments are counted under, the same after a
 * reconnect and at every gateway of a screening (salted with the
 * screening's salt), so slow mode and a ban by author follow the viewer,
 * not the connection. Anything else is no id: the connection is the author.
 */
static void viewer_of(struct lws *wsi, char out[17])
{
    char buf[64];
    const char *v = lws_get_urlarg_by_name(wsi, "viewer=", buf, (int)sizeof buf);

    out[0] = 0;
    if (!v || strlen(v) != 16)
        return;
    for (int i = 0; i < 16; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return;
    memcpy(out, v, 17);
}

/* The handshake is in: the path, the Origin, and for /host/ws the token, kept in the connection's own data. */
static int filter_handshake(dm_net *n, struct lws *wsi, conn *c)
{
    char uri[64] = "";

    memset(c, 0, sizeof *c);
    if (dm_http_refuse_shape(wsi)) {
        dm_feed_count_connection(n->feed, n->open_conns, 0, 1);
        return 1;
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 ||
        lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) >= (int)sizeof uri ||
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || (strcmp(uri, "/ws") && strcmp(uri, "/host/ws"))) {
        dm_feed_count_connection(n->feed, n->open_conns, 0, 1);
        dm_http_refuse_now(wsi, HTTP_STATUS_NOT_FOUND, "Not found: the WebSocket endpoint is /ws.", NULL, NULL);
        return 1;
    }
    {
        /* RFC 6455 4.4: only version 13; anything else (or none) is told which one we speak */
        char version[8] = "";
        if (lws_hdr_total_length(wsi, WSI_TOKEN_VERSION) <= 0 ||
            lws_hdr_total_length(wsi, WSI_TOKEN_VERSION) >= (int)sizeof version ||
            lws_hdr_copy(wsi, version, sizeof version, WSI_TOKEN_VERSION) < 0 || strcmp(version, "13")) {
            dm_feed_count_connection(n->feed, n->open_conns, 0, 1);
            dm_http_refuse_now(wsi, 426, "Upgrade required: this server speaks WebSocket version 13.",
                               "sec-websocket-version:", "13");
            return 1;
        }
    }
    if (!dm_http_origin_allowed(n, wsi)) {
        if (n->opts.verbose)
            fprintf(stderr, "danmaku: refused a WebSocket from a foreign Origin\n");
        dm_feed_count_connection(n->feed, n->open_conns, 0, 1);
        /* a 403 the browser can show, rather than a bare hang-up */
        dm_http_refuse_now(wsi, HTTP_STATUS_FORBIDDEN, "Forbidden: this page's origin is not allowed.", NULL, NULL);
        return 1;
    }
    /* the headers are gone by ESTABLISHED: the verdict stays in the connection's data */
    c->host_ws = !strcmp(uri, "/host/ws");
    if (!c->host_ws)
        viewer_of(wsi, c->viewer);
    if (c->host_ws) {
        unsigned wait;
        c->host_authed = dm_http_host_authorized(n, wsi, c->sid, &wait);
        if (wait) {
            /* over the budget of wrong tokens: the token was not looked at */
            char secs[16], text[96];
            snprintf(secs, sizeof secs, "%u", wait);
            snprintf(text, sizeof text, "Too many wrong tokens: try again in %u s.\n", wait);
            dm_feed_count_connection(n->feed, n->open_conns, 0, 1);
            dm_http_refuse_now(wsi, 429, text, "retry-after:", secs);
            return 1;
        }
    }
    return 0;
}

static int out_ring(conn *c, unsigned cap)
{
    c->out = calloc(cap, sizeof *c->out);
    c->out_cap = c->out ? cap : 0;
    return c->out ? 0 : -1;
}

static int established(dm_net *n, struct lws *wsi, conn *c)
{
    conn verdict = *c;   /* what the handshake decided */
    addr_count *a;

    memset(c, 0, sizeof *c);
    c->is_ws = 1;
    c->wsi = wsi;
    if (verdict.host_ws) {
        if (out_ring(c, verdict.host_authed ? HOST_OUT_CAP : 4))
            return -1;
        if (!verdict.host_authed) {
            c->host_refused = 1;
            c->doomed = 1;
            c->close_reason = "host token required";
            lws_callback_on_writable(wsi);
            return 0;
        }
        c->is_host = 1;
        memcpy(c->sid, verdict.sid, sizeof c->sid);
        c->next_host = n->hosts;
        n->hosts = c;
        dm_console_hello(n, c);
        return 0;
    }
    if (out_ring(c, OUT_CAP))
        return -1;
    n->conn_seq++;
    if (verdict.viewer[0]) {
        char key[32];
        snprintf(key, sizeof key, "viewer:%s", verdict.viewer);
        snprintf(c->who, sizeof c->who, "%08x", dm_net_fnv1a(n->salt, key));
    } else {
        snprintf(c->who, sizeof c->who, "%08x", dm_net_fnv1a(n->salt * 2654435761u + n->conn_seq, "conn"));
    }
    c->tokens = n->opts.burst;
    c->refilled = dm_now();
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
    dm_feed_count_connection(n->feed, n->open_conns, 1, c->doomed);
    if (c->doomed)
        return dm_conn_reply_error(n, c, DM_NET_TOO_MANY_CONNECTIONS, 0);
    {
        /* a night: what is playing, before anything else */
        char *js = dm_net_programme_json(n);
        if (js)
            dm_conn_reply(c, js);
    }
    return 0;
}

static int receive(dm_net *n, struct lws *wsi, conn *c, const void *in, size_t len)
{
    c->last_seen = dm_now();
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
        int rc;
        c->rx_len = 0;
        rc = handle_message(n, c, (const char *)c->rx, mlen);
        dm_accept_results(n);   /* acks of comments written meanwhile, without waiting for the loop's round */
        return rc;
    }
}

static int writeable(struct lws *wsi, conn *c)
{
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
        out_msg *m = &c->out[c->out_head];
        int w = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        free(m->buf);
        m->buf = NULL;
        c->out_head = (c->out_head + 1) % c->out_cap;
        c->out_count--;
        if (w < 0)
            return -1;
        c->progress = dm_now();
        if (lws_send_pipe_choked(wsi))
            break;
    }
    if (c->rx_paused && c->out_count <= c->out_cap / 2) {
        lws_rx_flow_control(wsi, 1);
        c->rx_paused = 0;
    }
    if (c->out_count || c->doomed)
        lws_callback_on_writable(wsi);
    return 0;
}

static void closed(dm_net *n, conn *c)
{
    if (!c->is_ws)
        return;
    if (c->is_host || c->host_refused) {
        dm_console_closed(n, c);
    } else {
        dm_host_log_forget_owner(n->log, c);
        dm_accept_forget_owner(n, c);
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
        n->open_conns--;
        dm_feed_count_connection(n->feed, n->open_conns, 0, 0);
    }
    dm_conn_clear(c);
    free(c->out);
    c->out = NULL;
    free(c->rx);
    c->rx = NULL;
    c->is_ws = 0;
}

int dm_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    dm_net *n = lws_context_user(lws_get_context(wsi));
    conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_WSI_CREATE:
        if (n)
            n->socks++;
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (n && n->socks > 0)
            n->socks--;
        return 0;
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        /* out of descriptors for more: hang up at once, before EMFILE could make accept() spin */
        if (n && n->socks >= n->sock_budget) {
            dm_feed_count_connection(n->feed, n->open_conns, 0, 1);
            return 1;
        }
        return 0;
    case LWS_CALLBACK_PROTOCOL_INIT:
        if (n)
            lws_sul_schedule(lws_get_context(wsi), 0, &n->sweep, idle_sweep, LWS_US_PER_SEC);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (n && n->mod) {
            int want = atomic_exchange(&n->pause_request, -1);
            if (want >= 0 && want != dm_mod_paused(n->mod))
                dm_console_set_feed_paused(n, want);
            if (atomic_exchange(&n->prog_news, 0))
                dm_ws_programme_broadcast(n, 1);
            dm_accept_results(n);
            dm_net_bus_service(n);
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
        return dm_http_request(n, wsi, c, path);
    }
    case LWS_CALLBACK_HTTP_BODY:
        return dm_http_body(n, c, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return dm_http_body_done(n, wsi, c);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (!c)
            return 0;   /* closed before any per-connection data existed (an idle preconnect) */
        free(c->post);
        c->post = NULL;
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return dm_http_writeable(wsi, c);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter_handshake(n, wsi, c);
    case LWS_CALLBACK_ESTABLISHED:
        return established(n, wsi, c);
    case LWS_CALLBACK_RECEIVE:
        return receive(n, wsi, c, in, len);
    case LWS_CALLBACK_RECEIVE_PONG:
        c->last_seen = dm_now();
        c->ping = 0;
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return writeable(wsi, c);
    case LWS_CALLBACK_CLOSED:
        closed(n, c);
        return 0;
    default:
        break;
    }
    return 0;
}
