/*
 * dm_net.h - the live feed (dm_net): a libwebsockets server on its own
 * service thread that serves the audience page and takes comments over a
 * WebSocket, checks them (net_validate.h), stamps them with the film time,
 * records them and hands them to the render thread through one bounded queue.
 *
 * Threads: dm_net_start spawns the service thread (the network) and, with a
 * recording, its writer thread. Every other function here is meant for the
 * render (main) thread and is safe to call while they run; none of them
 * waits for the network or the disk (they take one short lock). The service
 * thread never touches SDL; `wake` is called (from the service or the
 * writer thread) after a comment or a host request is queued.
 *
 * End of a screening, in this order:
 *     dm_net_halt(net);                       no more comments; every one accepted is in the queue
 *     drain until dm_net_drain returns 0 and dm_net_control_barrier is UINT64_MAX,
 *         carrying out host requests (dm_net_record_deletes works until the recording closes)
 *     dm_net_close_recording(net, err, len);  optional: writes what is queued, says if anything failed
 *     dm_net_stop(&net);                      closes the recording if still open, frees
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
#define DM_NET_MAX_PEERS 8

/* Server settings. Initialise with DM_NET_OPTS_DEFAULT. */
typedef struct dm_net_opts {
    const char *addr;            /* interface to listen on, NULL = all */
    int port;                    /* 0: the system picks one (see dm_net_port) */
    const char *web_dir;         /* folder holding index.html, app.js, app.css, i18n.js, i18n/LANG.json */
    const char *vendor_dir;      /* folder holding the console's charting library (uPlot: uPlot.iife.min.js,
                                    uPlot.min.css, served under /host/vendor/), NULL = none served */
    const char *page_lang;       /* --page-lang: the pages' language when the browser's are none of theirs,
                                    NULL = English (docs/protocol.md, "screening.json") */
    const char *title;           /* the screening's title (--title, or the programme's), NULL = none */
    const char *film;            /* the film's title when one film plays (a night's are in "programme"), NULL = none */
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
    int record_night;            /* a night of films: a recorder even when record_path is NULL (the first film is
                                    not recorded), for dm_net_new_film's later files */
    /* the comment bus (docs/scale.md): bus_url NULL is the single process, as without one */
    const char *bus_url;         /* --bus nats://HOST:PORT (a comma-separated list: a cluster) */
    const char *screening;       /* --screening ID: the stream DANMAKU_ID */
    int bus_replicas;            /* copies of the stream when this process creates it (0: 1) */
    int bus_role;                /* DM_NET_BUS_PLAYER or DM_NET_BUS_GATEWAY */
    int bus_clock;               /* a player: publish its film time (--clock) */
    const char *venue;           /* --venue NAME: the hall; comments accepted here are tagged with it */
    int venue_only;              /* a player: show only the comments tagged with its own venue */
    const char *peers[DM_NET_MAX_PEERS]; /* a gateway's --peer: the other gateways' page URLs
                                    ("http://HOST:PORT/"): the audience page reconnects to them when this
                                    one goes away, and their pages' Origins are allowed here */
    int peer_count;
} dm_net_opts;

/* What this process is on the bus. A gateway's comments are stamped with the clock's film time; a
 * player's screen takes every comment from the stream (its own --listen's too). */
enum { DM_NET_BUS_PLAYER = 0, DM_NET_BUS_GATEWAY = 1 };

#define DM_NET_OPTS_DEFAULT { \
    .addr = NULL, .port = 8080, .web_dir = "assets/web", .limits = DM_NET_LIMITS_DEFAULT, \
    .rate_per_s = 1.0, .burst = 5.0, .max_per_address = 16, .max_connections = 2048, \
    .idle_ping_s = 30, .idle_hangup_s = 60, .queue_cap = 65536 }

/* The languages the pages speak (assets/web/i18n/LANG.json), English first: the values --page-lang takes. */
extern const char *const dm_net_page_langs[];
extern const size_t dm_net_page_lang_count;

/* A comment the server accepted, as the render thread receives it. */
typedef struct dm_net_comment {
    dm_comment c;                /* t_ms stamped at acceptance; text and id owned */
    double accepted_wall;        /* CLOCK_MONOTONIC seconds when it was accepted */
    char who[16];                /* the console's author hash ("" from the stream): slow mode on the bus */
} dm_net_comment;

/* Counters, for the statistics overlay and the benchmark. */
typedef struct dm_net_stats {
    uint64_t accepted;           /* comments accepted */
    uint64_t rejected;           /* messages answered with an error */
    uint64_t connections;        /* connections open now */
    uint64_t connections_total;  /* connections ever accepted */
    uint64_t refused;            /* connections refused (origin, caps) */
    /* the recording (all 0 without --record) */
    int record_error;            /* errno while the recording cannot be written (ENOSPC: the disk is full), 0 when it is */
    uint64_t record_refused;     /* comments refused (not_recorded) because their line could not be written */
    uint64_t record_lost_deletes;/* delete lines that never reached the file */
    uint64_t intermission;       /* comments refused because the intake was closed (also in `rejected`) */
    /* the comment bus (all 0 without one) */
    uint64_t bus_published;      /* comments published and acknowledged by JetStream */
    uint64_t bus_failed;         /* comments refused (unavailable) because the bus did not take them */
    uint64_t bus_bad;            /* messages of the stream that are not comments we can show */
    uint64_t bus_other_venue;    /* comments of the stream from other halls, not shown (venue_only) */
    int bus_connected;
} dm_net_stats;

typedef struct dm_net dm_net;

/*
 * Bind, load the page, open the recording and start the service thread.
 * On success *out owns the server; on error *out is NULL and err says why.
 */
int dm_net_start(dm_net **out, const dm_net_opts *opts, char *err, size_t errlen);

/*
 * Stop taking comments: the service thread ends and connections close.
 * Comments already accepted are written to the recording and stay in the
 * queue for dm_net_drain (this waits for the disk to take them), so the
 * caller can show (or dump) every acked comment. The recording stays open:
 * deletes of the final drain (dm_net_record_deletes) still reach it.
 */
void dm_net_halt(dm_net *net);

/*
 * After dm_net_halt and the final drain: write every line still queued
 * (waiting for the disk) and close the recording. 0, or DM_EIO with a
 * sentence in err when delete lines could not be written. Without a
 * recording, or called twice: 0.
 */
int dm_net_close_recording(dm_net *net, char *err, size_t errlen);

/* Halt if running, close the recording if still open (an error goes to stderr), free everything; nulls *net. */
void dm_net_stop(dm_net **net);

/* The port actually bound (useful with port 0). */
int dm_net_port(const dm_net *net);

/* The join URL ("http://192.168.1.20:8080/" or --public-url). */
const char *dm_net_join_url(const dm_net *net);

/*
 * Append a delete line for each of `count` comment ids to the recording (the
 * player's clear: the comments it took off the screen stay off in the
 * replay), written together. Any thread; it only queues them for the
 * recording's writer, so it never waits for the disk. Works until
 * dm_net_close_recording (or dm_net_stop), after dm_net_halt too.
 */
void dm_net_record_deletes(dm_net *net, const char *const *ids, size_t count);

/* A film time this much earlier than the last one is a backward seek. */
#define DM_NET_REWIND_MS 500

/*
 * Tell the server where the film is: every frame. Comments accepted from now
 * on are stamped with t_ms (a paused film keeps stamping the paused time;
 * `paused` itself is not needed for that and is ignored).
 * Stamps never go back within a pass: an earlier time is held at the latest
 * one, unless it is more than DM_NET_REWIND_MS earlier, a backward seek,
 * which starts the next pass (dm_comment.pass).
 */
void dm_net_set_film_time(dm_net *net, int64_t t_ms, int paused);

/*
 * The earliest (pass, film time) a comment not yet taken by dm_net_drain can
 * carry: the oldest one still queued, else the stamp the next one would
 * get. Stamps only grow in queue order, so the render thread may lay out a
 * track's comments up to there: no live comment will come before them.
 */
void dm_net_stamp_floor(dm_net *net, int *pass, int64_t *t_ms);

/*
 * Move up to `cap` accepted comments, in acceptance order, into `out`; the
 * caller owns their strings (dm_comment_free). Returns how many. Never past
 * the oldest host request still queued (dm_net_control_barrier): those after
 * it come once it has been taken by dm_net_drain_control.
 */
size_t dm_net_drain(dm_net *net, dm_net_comment *out, size_t cap);

void dm_net_get_stats(dm_net *net, dm_net_stats *st);

/*
 * A clear the screening's stream asked for (DM_NET_CLEAR with entry 1),
 * carried out by the render thread: on the clock player the ids it took off
 * go back to the stream, so its export marks them as a recording's delete
 * lines do. Elsewhere, or without a bus, nothing.
 */
void dm_net_stream_cleared(dm_net *net, const char *const *ids, size_t count);

/* The host console's token (printed at start; see docs/protocol.md, "Host console"). */
const char *dm_net_host_token(const dm_net *net);

/* What the host asked the screen to do, for the render thread. */
typedef enum dm_net_control_kind {
    DM_NET_DELETE = 0,           /* take comment `id` off the screen */
    DM_NET_CLEAR = 1,            /* take everything off the screen (`entry` 1: the screening's stream asked it,
                                    at film time `value` ms, the same moment on every screen) */
    /* the film and the night (the console's film controls; `value` and `entry` as said) */
    DM_NET_FILM_PLAY = 2,        /* play the film (it was paused) */
    DM_NET_FILM_PAUSE = 3,       /* pause it */
    DM_NET_FILM_SEEK = 4,        /* to `value` seconds of film time */
    DM_NET_FILM_SEEK_BY = 5,     /* by `value` seconds (negative: back) */
    DM_NET_FILM_NEXT = 6,        /* the next entry of the programme */
    DM_NET_FILM_PREV = 7,        /* the previous one */
    DM_NET_FILM_JUMP = 8,        /* entry number `entry` (0-based) */
    DM_NET_FILM_VOLUME = 9,      /* volume `value`, 0..100 */
    DM_NET_BREAK_NOW = 10,       /* end the intermission now: the next film starts */
    DM_NET_BREAK_ADD = 11,       /* make the intermission `value` seconds longer */
} dm_net_control_kind;

typedef struct dm_net_control {
    dm_net_control_kind kind;
    char id[48];                 /* DM_NET_DELETE */
    double value;                /* DM_NET_FILM_SEEK, _SEEK_BY, _VOLUME, DM_NET_BREAK_ADD */
    int entry;                   /* DM_NET_FILM_JUMP */
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
 * comments past it wait until that request is taken (dm_net_drain stops
 * there).
 */
uint64_t dm_net_control_barrier(dm_net *net);

/* Every frame: what the screen shows, for the console's statistics. */
void dm_net_set_screen_stats(dm_net *net, uint64_t on_screen, uint64_t dropped);

/* ---------------------------------------------------------------- a night of films */

/*
 * What is playing, as the audience page ("now playing", "next") and the
 * host console (the programme, the film's time, the controls' state) show
 * it. The render thread sets it (dm_net_set_programme, copied) when anything
 * in it changes and about once a second while a film plays; the page and
 * the console get it at once when the entry, the intermission or the pause
 * changes, and with their periodic updates otherwise (docs/protocol.md,
 * "programme").
 */
typedef struct dm_net_programme {
    const char *night;              /* the night's title, NULL: none */
    const char *const *titles;      /* every entry's title, `count` of them */
    const char *const *credits;     /* every entry's credits line (entries may be NULL), or NULL */
    const unsigned char *aigc;      /* every entry: 1 when AI-generated, or NULL */
    size_t count;
    int now;                        /* the entry playing, or coming after the intermission; -1: none */
    int intermission;               /* 1: the break before entry `now` */
    double intermission_left_s;     /* its countdown */
    double film_s, duration_s;      /* where the film is and its length (0 when unknown) */
    int paused;                     /* the film is paused */
    double volume;                  /* 0..100 */
    uint64_t last_comments;         /* comments shown in the last film (the intermission card says it) */
} dm_net_programme;

/* Set it (copied). 0, or DM_ENOMEM. */
int dm_net_set_programme(dm_net *net, const dm_net_programme *p);

/*
 * Open (1) or close (0) the feed to new comments. Closed (an intermission),
 * a comment is refused with "intermission" (its sentence says when the
 * next film starts, from the programme's countdown; counted in `rejected`
 * and in dm_net_stats.intermission); the page shows it. It is not queued
 * for the next film. Comments accepted before keep going to the screen and
 * the recording; so do none released by the host meanwhile (an approval in
 * the intermission is refused the same way).
 */
void dm_net_set_intake(dm_net *net, int open);

/*
 * 1 once every comment accepted before the intake closed is in the queue
 * (written to the recording when there is one): the render thread drains
 * them into the film's scene, then may start the next film.
 */
int dm_net_intake_settled(dm_net *net);

/*
 * The next film begins: every line of the last one is written and its
 * recording closed; comments are recorded in `record_path` from now on (NULL
 * or "": not recorded; a new file gets the track header, a file that is not
 * empty is appended to), and stamped from film time 0 again, first pass (a
 * new film, not a rewind). Only while the intake is closed and settled (else
 * DM_EINVAL), and a path only with a recorder (record_path or record_night at
 * start, else DM_EINVAL). 0, or DM_EIO with err (the new file cannot be
 * opened: comments are then refused with not_recorded). Then open the intake.
 */
int dm_net_new_film(dm_net *net, const char *record_path, char *err, size_t errlen);

/* Pause (1) or resume (0) the feed from the render thread (the p key);
 * takes effect on the service thread a moment later. */
void dm_net_request_feed_paused(dm_net *net, int paused);
/* Whether the feed is paused now (as the service thread last set it). */
int dm_net_feed_paused(dm_net *net);


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
