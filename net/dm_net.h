/*
 * dm_net.h - the live feed (dm_net): a libwebsockets server on its own
 * service thread that serves the audience page and takes comments over a
 * WebSocket, checks them (net_validate.h), stamps them with the film time,
 * records them and hands them to the render thread through one bounded queue.
 *
 * Threads: dm_net_start spawns the service thread. Every other function here
 * is meant for the render (main) thread and is safe to call while the service
 * thread runs. The service thread never touches SDL; it calls the `wake`
 * callback (from its own thread) after queueing a comment.
 *
 * Errors: functions that can fail return 0 or a negative DM_E* code and put a
 * sentence in `err`.
 */
#ifndef DM_NET_H
#define DM_NET_H

#include <stddef.h>
#include <stdint.h>

#include "danmaku.h"
#include "net_validate.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DM_NET_MAX_ORIGINS 16

/* Server settings. Initialise with DM_NET_OPTS_DEFAULT. */
typedef struct dm_net_opts {
    const char *addr;            /* interface to listen on, NULL = all */
    int port;                    /* 0: the system picks one (see dm_net_port) */
    const char *web_dir;         /* folder holding index.html, app.js, app.css */
    const char *record_path;     /* --record: JSONL track appended to, NULL = none */
    const char *public_url;      /* join URL shown in the QR code, NULL = LAN address */
    const char *allow_origins[DM_NET_MAX_ORIGINS]; /* extra Origins allowed besides the page's host */
    int allow_origin_count;
    dm_net_limits limits;        /* text caps */
    double rate_per_s;           /* token bucket refill, comments per second per connection */
    double burst;                /* token bucket size */
    int max_per_address;         /* connections from one address */
    int max_connections;         /* connections in all */
    int idle_ping_s;             /* ping a silent client after this long */
    int idle_hangup_s;           /* and hang up after this long without an answer */
    int queue_cap;               /* comments waiting for the render thread */
    void (*wake)(void *ud);      /* called on the service thread after a comment is queued */
    void *wake_ud;
    int verbose;
    const char *host_token;      /* --host-token: the host console's token, NULL = a random one */
    const char *moderation_path; /* --moderation: settings loaded at start (docs/moderation.md), NULL = none */
} dm_net_opts;

#define DM_NET_OPTS_DEFAULT { \
    .addr = NULL, .port = 8080, .web_dir = "assets/web", .limits = DM_NET_LIMITS_DEFAULT, \
    .rate_per_s = 1.0, .burst = 5.0, .max_per_address = 16, .max_connections = 2048, \
    .idle_ping_s = 30, .idle_hangup_s = 60, .queue_cap = 65536 }

/* A comment the server accepted, as the render thread receives it. */
typedef struct dm_net_comment {
    dm_comment c;                /* t_ms stamped at acceptance; text and id owned */
    double accepted_wall;        /* CLOCK_MONOTONIC seconds when it was accepted */
} dm_net_comment;

/* Counters, for the statistics overlay and the benchmark. */
typedef struct dm_net_stats {
    uint64_t accepted;           /* comments accepted */
    uint64_t rejected;           /* messages answered with an error */
    uint64_t connections;        /* connections open now */
    uint64_t connections_total;  /* connections ever accepted */
    uint64_t refused;            /* connections refused (origin, caps) */
} dm_net_stats;

typedef struct dm_net dm_net;

/*
 * Bind, load the page, open the recording and start the service thread.
 * On success *out owns the server; on error *out is NULL and err says why.
 */
int dm_net_start(dm_net **out, const dm_net_opts *opts, char *err, size_t errlen);

/*
 * Stop taking comments: the service thread ends, connections and the
 * recording close. Comments already accepted stay in the queue for
 * dm_net_drain, so the caller can show (or dump) every acked comment.
 */
void dm_net_halt(dm_net *net);

/* Halt if running, then free everything; nulls *net. */
void dm_net_stop(dm_net **net);

/* The port actually bound (useful with port 0). */
int dm_net_port(const dm_net *net);

/* The join URL ("http://192.168.1.20:8080/" or --public-url). */
const char *dm_net_join_url(const dm_net *net);

/*
 * Append a delete line for each of `count` comment ids to the recording (the
 * player's clear: the comments it took off the screen stay off in the
 * replay), with one flush. Any thread.
 */
void dm_net_record_deletes(dm_net *net, const char *const *ids, size_t count);

/* A film time this much earlier than the last one is a backward seek. */
#define DM_NET_REWIND_MS 500

/*
 * Tell the server where the film is: every frame. Comments accepted from now
 * on are stamped with t_ms (a paused film keeps stamping the paused time).
 * Stamps never go back within a pass: an earlier time is held at the latest
 * one, unless it is more than DM_NET_REWIND_MS earlier, a backward seek,
 * which starts the next pass (dm_comment.pass).
 */
void dm_net_set_film_time(dm_net *net, int64_t t_ms, int paused);

/*
 * Move up to `cap` accepted comments, in acceptance order, into `out`; the
 * caller owns their strings (dm_comment_free). Returns how many.
 */
size_t dm_net_drain(dm_net *net, dm_net_comment *out, size_t cap);

void dm_net_get_stats(dm_net *net, dm_net_stats *st);

/* The host console's token (printed at start; see docs/protocol.md, "Host console"). */
const char *dm_net_host_token(const dm_net *net);

/* What the host asked the screen to do, for the render thread. */
typedef enum dm_net_control_kind {
    DM_NET_DELETE = 0,           /* take comment `id` off the screen */
    DM_NET_CLEAR = 1,            /* take everything off the screen */
} dm_net_control_kind;

typedef struct dm_net_control {
    dm_net_control_kind kind;
    char id[48];                 /* DM_NET_DELETE */
    uint64_t after;              /* comments queued before it (ever): it applies once they are taken, before later ones */
} dm_net_control;

/*
 * Move up to `cap` host requests, in order, into `out`; returns how many.
 * Carry each out once the first `after` comments ever queued are taken
 * (dm_net_drain), and before any later one.
 */
size_t dm_net_drain_control(dm_net *net, dm_net_control *out, size_t cap);

/*
 * The `after` of the oldest request still queued (UINT64_MAX when none):
 * comments past it must wait until that request is carried out.
 */
uint64_t dm_net_control_barrier(dm_net *net);

/* Every frame: what the screen shows, for the console's statistics. */
void dm_net_set_screen_stats(dm_net *net, uint64_t on_screen, uint64_t dropped);

/* Pause (1) or resume (0) the feed from the render thread (the p key);
 * takes effect on the service thread a moment later. */
void dm_net_request_feed_paused(dm_net *net, int paused);
/* Whether the feed is paused now (as the service thread last set it). */
int dm_net_feed_paused(dm_net *net);

/* CLOCK_MONOTONIC seconds, the clock of accepted_wall. */
double dm_net_now(void);

/*
 * The QR code of `text` (libqrencode, error correction M): a width x width
 * matrix of modules, 1 dark, 0 light, malloc'd into *modules. 0 or DM_E*.
 */
int dm_net_qr(const char *text, uint8_t **modules, int *width);

/*
 * The join URL for `port`: "http://ADDR:PORT/" with the first non-loopback
 * IPv4 address of the machine (getifaddrs), or 127.0.0.1 when there is none.
 */
int dm_net_lan_url(int port, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
