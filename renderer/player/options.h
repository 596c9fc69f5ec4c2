/*
 * options.h - the `danmaku` player's command line: what to play, how comments
 * look, and the headless switches tests and the demo rely on.
 */
#ifndef DM_PLAYER_OPTIONS_H
#define DM_PLAYER_OPTIONS_H

#include "danmaku.h"

#define DM_MAX_TRACKS 16
#define DM_MAX_SCREENSHOTS 64

typedef struct dm_screenshot_req {
    double at;                /* film seconds */
    const char *path;         /* PNG file to write */
    int done;                 /* written already */
} dm_screenshot_req;

typedef struct player_options {
    const char *film;                       /* NULL: the bundled demo */
    const char *tracks[DM_MAX_TRACKS];      /* --track, in order */
    int track_count;
    int demo;                               /* playing the bundled demo */
    int headless;                           /* --headless (or no display) */
    int fast;                               /* --fast: headless, as fast as possible */
    int size_w, size_h;                     /* --size, 0 = from the film */
    double until;                           /* --until seconds, < 0 = to the end */
    double start;                           /* --start seconds */
    dm_screenshot_req shots[DM_MAX_SCREENSHOTS]; /* --screenshot */
    int shot_count;
    const char *font;                       /* --font */
    int font_px;                            /* --font-px, 0 = from the stage height */
    dm_layout_opts layout;                  /* --scroll --fixed --overflow ... */
    double opacity;                         /* --opacity */
    int fullscreen;                         /* --fullscreen */
    int no_comments;                        /* --no-comments: start with comments hidden */
    double volume;                          /* --volume 0..100 */
    const char *script;                     /* --script FILE: keys and screenshots at film times */
    const char *log_frames;                 /* --log-frames FILE: one line per presented frame */
    const char *screenshot_dir;             /* where the s key writes */
    int stats;                              /* --stats: print statistics at exit */
    int verbose;                            /* -v */
    /* live screening (live.c) */
    const char *listen;                     /* --listen [ADDR:]PORT, NULL = no live feed */
    const char *record;                     /* --record FILE: append accepted comments (JSONL) */
    const char *public_url;                 /* --public-url: join URL shown in the QR code */
    const char *allow_origins[DM_MAX_TRACKS]; /* --allow-origin, repeatable */
    int allow_origin_count;
    const char *dump_layout;                /* --dump-layout FILE: the live layout at exit */
    double live_rate;                       /* --live-rate: comments per second per client, 0 = default */
    double live_burst;                      /* --live-burst: token bucket size, 0 = default */
    int live_per_address;                   /* --live-per-address: connections per address, 0 = default */
    int live_max_connections;               /* --live-max-connections, 0 = default */
    int live_idle;                          /* --live-idle: ping a silent client after N s, 0 = default */
    const char *host_token;                 /* --host-token: the host console's token, NULL = random */
    const char *moderation;                 /* --moderation FILE: settings loaded at start */
} player_options;

/* Parse argv into o; 0 to go on, 1 to exit successfully (--help), -1 on error
 * (message printed). */
int player_parse_options(int argc, char **argv, player_options *o);

#endif
