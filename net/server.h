/*
 * server.h - dm_net's internals shared by its files (not installed):
 *
 *   server.c   lifecycle: start, halt, stop, the service thread, the getters
 *   feed.c     what crosses threads: stamps, the comment queue, host requests
 *   recorder.c the recording's writer thread
 *   accept.c   a checked comment's way in: stamp, record, queue, then ack
 *   ws.c       the libwebsockets callback: connections, frames, replies
 *   http.c     the pages, the host's login and logout, Origin and token checks
 *   console.c  the host console's messages and the moderation of comments
 *
 * Everything here but the feed and the recorder belongs to the service
 * thread (the libwebsockets one) unless a field says otherwise.
 */
#ifndef DM_NET_SERVER_H
#define DM_NET_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "dm_net.h"
#include "bus.h"
#include "feed.h"
#include "host.h"
#include "moderation.h"
#include "recorder.h"

#define MSG_CAP_BYTES (16 * 1024)  /* one message, fragments included; bigger: close 1009 */
#define DISCARD_CAP (8u << 20)     /* bytes of an oversized message read before closing anyway */
#define OUT_CAP 256                /* replies waiting for an audience client; more: it is not reading */
#define HOST_LOG_CAP 1000          /* comments in the console's list (docs/protocol.md) */
#define HOST_OUT_CAP (HOST_LOG_CAP + 64) /* replies waiting for a console: the whole list fits at connect */
#define STREAM_SOFT_CAP 64         /* broadcast comments are dropped beyond this backlog */
#define OUT_HEADROOM 16            /* a client's reading pauses this close to its ring's end */
#define NOT_READING_S 10           /* ...and it is closed if it takes none of its answers for this long */
#define ADDR_LEN 64
#define POST_CAP 1024              /* a login form's body */
#define LIMIT_NOTICE_S 2.0         /* at most one "rule_limit" notice to the consoles this often */

/* A reply waiting to be written, with LWS_PRE bytes of headroom. */
typedef struct out_msg {
    unsigned char *buf;
    size_t len;
} out_msg;

/* Per-connection state: lws's user data of each connection; service thread only. */
typedef struct conn {
    struct lws *wsi;
    int is_ws;                     /* a WebSocket (else an HTTP request) */
    /* set at the handshake (LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION), kept at ESTABLISHED */
    int host_ws;                   /* the handshake was for /host/ws */
    int host_authed;               /* ...with a valid token or session */
    char sid[DM_HOST_SID_LEN + 1]; /* host console: the session that authorised it, "" for the Bearer token */
    char viewer[17];               /* /ws?viewer=HEX: the page's own id (16 hex digits), "" if none */
    /* a WebSocket */
    int is_host;                   /* an authorised host console */
    int host_refused;              /* a /host/ws without a valid token: closed 1008 */
    int counted;                   /* counted in its address's tally */
    int doomed;                    /* close once the queued error is out */
    const char *close_reason;      /* reason sent with the 1008 of a doomed connection */
    int subscribed;                /* wants the stream of accepted comments */
    int too_big;                   /* 1: a message went over MSG_CAP_BYTES, 2: its end was read: close 1009 */
    size_t discarded;              /* bytes of that message thrown away */
    char addr[ADDR_LEN];           /* peer address */
    char who[DM_HOST_WHO_LEN];     /* connection identity, the console's "author" */
    double tokens;                 /* token bucket */
    double refilled;               /* when the bucket was last refilled */
    unsigned char *rx;             /* message being reassembled from fragments */
    size_t rx_len;
    int rx_binary;
    out_msg *out;                  /* ring of replies (OUT_CAP, or HOST_OUT_CAP for a console) */
    unsigned out_cap, out_head, out_count;
    int rx_paused;                 /* reading paused until its answers are out (lws_rx_flow_control) */
    double progress;               /* when it last took an answer (or reading paused) */
    struct conn *next_sub;         /* subscribers list */
    struct conn *prev_all, *next_all; /* every audience WebSocket, for the idle sweep */
    struct conn *next_host;        /* host consoles list */
    double last_seen;              /* when the client last sent anything (a pong included) */
    int ping;                      /* 1: a ping is due, 2: sent and unanswered */
    /* an HTTP request */
    int head;                      /* a HEAD request: headers only */
    int close_after;               /* close once the answer is out (a refused request whose body is not read) */
    int forbidden;                 /* a login or logout from a foreign Origin: 403 once its body is read */
    int login;                     /* a POST /host/login whose body is being read */
    int logout;                    /* a POST /host/logout waiting for its body's end; 2: a session ended */
    char *post;                    /* its body */
    size_t post_len;
    const char *body;              /* page file being sent */
    size_t body_len;
    char msg[160];                 /* a short text body of our own (403, 429...) */
} conn;

/* Connection tally of one address. */
typedef struct addr_count {
    char addr[ADDR_LEN];
    int n;
} addr_count;

/* The audience page's files: index.html, app.js, app.css, i18n.js, the translations, screening.json. */
#define DM_WEB_FILES 10
/* The console's: host.html, host.js, host.css, host-login.html, then uPlot's script and style (with a vendor_dir). */
#define DM_HOST_FILES 6

typedef struct web_file {
    const char *path;              /* URL path */
    const char *name;              /* file in web_dir */
    const char *mime;
    char *data;
    size_t len;
} web_file;

/* A comment handed to the recorder: what to do once its line is written (or not). */
typedef struct awaiting {
    conn *owner;                   /* who gets the ack or the error; NULL once it left */
    int released;                  /* a held or waiting comment of the console's list, else a fresh one */
    dm_host_entry e;               /* the console's entry (text owned); a released one's is found by id */
} awaiting;

struct dm_net {
    /* set by dm_net_start before the service thread starts; read-only after */
    dm_net_opts opts;              /* settings (web_dir cleared once the page is loaded) */
    struct lws_context *ctx;       /* lws_cancel_service() is the only call made on it from other threads */
    struct lws_vhost *vhost;
    pthread_t thread;              /* the service thread */
    int thread_started;            /* main thread only */
    int port;                      /* port bound */
    char join_url[512];            /* URL in the QR code */
    char public_origin[256];       /* --public-url's "scheme://host[:port]", "" without one */
    char peer_origins[DM_NET_MAX_PEERS][256]; /* the --peer gateways' origins, peer_count of them */
    long long session;             /* start time, the prefix of comment ids */
    uint32_t salt;                 /* per-run salt of address hashes */
    web_file files[DM_WEB_FILES];  /* the page, its translations and /screening.json, loaded (made) at start */
    web_file host_files[DM_HOST_FILES]; /* the console: host.html, host.js, host.css, host-login.html, uPlot */
    dm_feed *feed;                 /* what crosses threads (feed.h) */
    dm_recorder *rec;              /* --record's writer, NULL without one; closed by dm_net_close_recording */
#ifdef DM_NET_LIBEV
    /*
     * lws's default loop is poll(): each wake-up scans every socket, which
     * dominates with a thousand clients; libev uses epoll. Created by
     * dm_net_start, then run and broken only by the service thread.
     */
    struct ev_loop *loop;
#endif
    /* shared with other threads */
    atomic_int stop;               /* set by dm_net_halt, read by the service thread */
    atomic_int pause_request;      /* -1 none, 0 resume, 1 pause (the p key) */
    atomic_int feed_paused;        /* mirror of dm_mod_paused for the render thread */
    atomic_int prog_news;          /* the programme's entry, intermission or pause changed: send it at once */
    atomic_uint_fast64_t intermission_refused; /* comments refused because the intake was closed */
    pthread_mutex_t prog_lock;     /* the programme as the render thread last set it: */
    char *prog_json;               /*   {"type":"programme",...}, NULL: not a night */
    int prog_now, prog_break, prog_paused; /* what makes news */
    size_t prog_count;             /*   entries (the console's jump is checked against it) */
    double prog_break_left, prog_break_at; /* the countdown, and when it was set (dm_now) */
    char prog_next_title[160];     /*   the coming film's title, for the intermission's refusal */
    pthread_mutex_t wake_lock;     /* ctx_live: the recorder's wake-ups stop before the context goes */
    int ctx_live;                  /* protected by wake_lock */
    /* service thread only */
    addr_count *addrs;
    size_t addr_count, addr_cap;
    conn *subs;                    /* subscribers */
    conn *all;                     /* every audience WebSocket */
    conn *hosts;                   /* connected consoles */
    lws_sorted_usec_list_t sweep;  /* the idle check, every second */
    uint64_t seq;                  /* comment ids given so far */
    uint64_t open_conns;
    int socks;                     /* lws connections open now (HTTP, handshakes, WebSockets) */
    int sock_budget;               /* at most this many: descriptors left for the rest (server.c) */
    uint32_t conn_seq;             /* connections ever, for their identities */
    dm_moderation *mod;            /* the host's rules */
    dm_host_auth *auth;            /* host token and sessions */
    dm_host_log *log;              /* recent comments as the console lists them */
    dm_host_rate rate;             /* comments shown per minute */
    dm_host_login_limit login_limit; /* wrong tokens at the login form, by address */
    double limit_notice_at;        /* when the consoles were last told a rule reached its limits */
    awaiting *awaiting;            /* ring of comments being recorded, in the recorder's order */
    /* the comment bus (bus_link.c), NULL: none */
    dm_bus *bus;
    dm_recorder *bus_rec;          /* a player's --record beside the bus: the stream as this screen took it */
    dm_bus_order bus_order;        /* the stream's stamps so far (its consumer's thread only) */
    atomic_uint_fast64_t bus_bad;  /* stream messages that are not comments we can show */
    atomic_uint_fast64_t bus_unrecorded; /* stream comments bus_rec could not write */
    atomic_uint_fast64_t bus_other_venue; /* stream comments of other halls, left out (venue_only) */
    atomic_int bus_stopping;       /* halting: the consumer stops waiting for room */
    atomic_int bus_paused;         /* the clock player's film is paused */
    double bus_clock_sent;         /* render thread: when the clock was last published, */
    int bus_clock_sent_paused;     /* ...whether it said paused */
    int bus_clock_failing;
    pthread_mutex_t bus_lock;      /* bus_settings_pending, bus_authors */
    char (*bus_authors)[16];       /* authors who commented at other gateways, for slow mode (a ring) */
    size_t bus_authors_head, bus_authors_count;
    atomic_int bus_slow_on;        /* slow mode is on: other gateways' authors are worth noting */
    atomic_uint_fast64_t bus_authors_lost; /* noted too fast for the service thread (ring full) */
    struct bus_ctl *bus_ctl_head, *bus_ctl_tail; /* the other gateways' approval messages, for the service thread */
    size_t bus_ctl_count;
    atomic_uint_fast64_t bus_ctl_lost;     /* ...more than the service thread could keep (counted) */
    char *bus_settings_pending;    /* the settings another gateway put, for the service thread */
    char *bus_settings_seen;       /* service thread: the settings last applied or put here */
    char *bus_settings_put[16];    /* service thread: the settings put here whose echo has not come back, oldest first */
    int bus_put_head, bus_put_count;
    size_t aw_head, aw_count;
};

/* server.c */
int dm_net_url_origin(const char *url, char *out, size_t outlen);   /* "scheme://host[:port]" of a URL: 0, or -1 */
char *dm_net_programme_json(dm_net *n);                      /* a copy, NULL when not a night */
void dm_net_intermission_says(dm_net *n, char *buf, size_t len);
size_t dm_net_programme_count(dm_net *n);

void dm_net_recorded(void *ud);                              /* the recorder's results are waiting */

/* bus_link.c */
int dm_net_bus_start(dm_net *n, const dm_net_opts *o, char *err, size_t errlen);
void dm_net_bus_halt(dm_net *n);
void dm_net_bus_close(dm_net *n);
int dm_net_bus_close_recording(dm_net *n, char *err, size_t errlen);   /* bus_rec: 0 or DM_EIO with err */
void dm_net_bus_clock(dm_net *n);
/* The console's screen actions to the screening's host subject: 1 published (every screen takes it from the
 * stream, in its place), 0 no bus (carry it out here), -1 it could not be published. */
int dm_net_bus_clear(dm_net *n);
/* The approval queue across gateways: a comment held here, shared; a decision on one held elsewhere, sent to its
 * gateway (1 sent, 0 no bus, -1 not); the decision on one held here, told to the others. */
void dm_net_bus_held(dm_net *n, const dm_host_entry *e);
int dm_net_bus_decide(dm_net *n, const char *id, int approve);
void dm_net_bus_decided(dm_net *n, const dm_host_entry *e);
int dm_net_bus_film(dm_net *n, dm_net_control_kind kind, double value, int entry);
void dm_net_bus_service(dm_net *n);                          /* service thread: apply settings put elsewhere */
void dm_net_bus_settings_changed(dm_net *n);                 /* service thread: the host changed them here */
int dm_net_bus_delete(dm_net *n, const char *id);            /* a host delete through the stream: 1 done, 0 no bus */

/* ws.c */
int dm_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
int dm_conn_push(conn *c, const char *json, size_t len);     /* 0, or -1 when its ring is full */
int dm_conn_reply(conn *c, char *json);                      /* takes json; a full ring closes c as not reading */
int dm_conn_reply_error(dm_net *n, conn *c, dm_net_err e, int retry_ms);
int dm_conn_reply_says(dm_net *n, conn *c, dm_net_err e, const char *message);
int dm_conn_reply_intermission(dm_net *n, conn *c);          /* the intake is closed: "intermission" */
void dm_conn_clear(conn *c);
void dm_ws_audience_broadcast(dm_net *n, char *json);        /* takes json; to every subscriber */
void dm_ws_programme_broadcast(dm_net *n, int audience);     /* the programme to the consoles (and every audience connection) */
uint32_t dm_net_fnv1a(uint32_t h, const char *s);

/* accept.c */
int dm_accept_comment(dm_net *n, conn *c, dm_host_entry *e, int released);
void dm_accept_results(dm_net *n);
void dm_accept_forget_owner(dm_net *n, const conn *c);
void dm_accept_free(dm_net *n);
char *dm_simple_json(const char *type, const char *key, const char *value);

/* http.c */
int dm_http_request(dm_net *n, struct lws *wsi, conn *c, const char *path);
int dm_http_body(dm_net *n, conn *c, const void *in, size_t len);
int dm_http_body_done(dm_net *n, struct lws *wsi, conn *c);
int dm_http_writeable(struct lws *wsi, conn *c);
int dm_http_refuse_now(struct lws *wsi, unsigned status, const char *text, const char *extra_name,
                       const char *extra_value);
int dm_http_refuse_shape(struct lws *wsi);
int dm_http_origin_allowed(dm_net *n, struct lws *wsi);
int dm_http_host_authorized(dm_net *n, struct lws *wsi, char *sid, unsigned *wait);

/* console.c */
int dm_console_message(dm_net *n, conn *c, const char *buf, size_t len);
void dm_console_hello(dm_net *n, conn *c);
int dm_console_comment(dm_net *n, conn *c, dm_net_submission *s);
void dm_console_shown(dm_net *n, const dm_host_entry *e, int released);
void dm_console_refused(dm_net *n, const dm_host_entry *e, int released, dm_net_err why);
void dm_console_broadcast(dm_net *n, char *json);            /* takes json */
char *dm_console_stats_json(dm_net *n);
void dm_console_set_feed_paused(dm_net *n, int paused);
void dm_console_end_forgotten(dm_net *n);
void dm_console_closed(dm_net *n, conn *c);
void dm_console_settings_changed(dm_net *n);                 /* the moderation settings came from the bus */
/* The approval queue across gateways (bus_link.c, service thread): a comment held at another gateway, listed here;
 * another console's decision on one held here; the decision taken on one held elsewhere. */
void dm_console_bus_held(dm_net *n, const dm_host_entry *e);
void dm_console_bus_decide(dm_net *n, const char *id, int approve);
void dm_console_bus_decided(dm_net *n, const char *id, dm_host_status status, int reason);

#endif
