/*
 * options.h - the `danmaku` player's command line: what to play, how comments
 * look, and the headless switches tests and the demo rely on.
 */
#ifndef DM_PLAYER_OPTIONS_H
#define DM_PLAYER_OPTIONS_H

#include "danmaku.h"
#include "dm_net.h"
#include "programme.h"
#include "subs_cli.h"

#define DM_MAX_TRACKS 16
#define DM_MAX_SCREENSHOTS 64

typedef struct dm_screenshot_req {
    double at;                /* film seconds */
    const char *path;         /* PNG file to write */
    int done;                 /* written already (in this film, or this intermission) */
    int in_break;             /* intermission+SECONDS: in each intermission, SECONDS into it */
} dm_screenshot_req;

typedef struct player_options {
    const char *film;                       /* the film playing (the programme's entry); NULL: the demo */
    dm_programme prog;                      /* the films of the command line (or --programme), owned */
    const char *programme;                  /* --programme FILE */
    int no_track_auto;                      /* --no-track-auto: not the tracks beside the film */
    int aigc;                               /* --aigc: the (one) film is AI-generated */
    const char *aigc_text;                  /* --aigc-text */
    double intermission;                    /* --intermission: seconds between films */
    int overlay;                            /* --overlay: no film, comments on a black stage */
    const char *follow_mpv;                 /* --follow-mpv SOCKET: mpv's film clock */
    int key_fill;                           /* --key-fill: a key output beside the fill */
    int intermission_set;
    const char *tracks[DM_MAX_TRACKS];      /* the entry's tracks (--track before the first film: parsing) */
    int64_t track_offsets_ms[DM_MAX_TRACKS]; /* --offset after each: when its comments start */
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
    dm_subs_cli subs;                       /* --sub --sid --slang --sub-delay ... */
    double opacity;                         /* --opacity */
    int fullscreen;                         /* --fullscreen */
    int no_comments;                        /* --no-comments: start with comments hidden */
    double volume;                          /* --volume 0..100 */
    int mute;                               /* --mute: start muted (m unmutes) */
    int no_audio;                           /* --no-audio (or --aid no): no sound decoded, the wall clock leads */
    int aid;                                /* --aid N: the film's Nth audio track, 0 = the film's default */
    double speed;                           /* --speed 0.25..4 (default 1) */
    const char *audio_dump;                 /* --audio-dump FILE.wav: the sound as sent to the device */
    const char *script;                     /* --script FILE: keys and screenshots at film times */
    const char *log_frames;                 /* --log-frames FILE: one line per presented frame */
    const char *screenshot_dir;             /* where the s key writes */
    int stats;                              /* --stats: print statistics at exit */
    double refresh_rate;                    /* --refresh-rate, 0 = the display's */
    int loop;                               /* --loop: times to play again, -1 forever, 0 none */
    int save_position;                      /* --save-position-on-quit */
    int no_resume;                          /* --no-resume */
    dm_filter *filter;                      /* --block, --hide, --block-level...: owned, NULL = none */
    const char *config_file;                /* the config file read (--config), NULL: the default one or none */
    char **config_words;                    /* its options as command-line words, owned */
    int config_word_count;
    char **config_argv;                     /* those words, then the command line: owned (not the strings) */
    int no_vsync;                           /* --no-vsync: present on a timer */
    int verbose;                            /* -v */
    /* live screening (live.c) */
    const char *listen;                     /* --listen [ADDR:]PORT, NULL = no live feed */
    const char *record;                     /* --record FILE: append accepted comments (JSONL) */
    const char *public_url;                 /* --public-url: join URL shown in the QR code */
    const char *allow_origins[DM_NET_MAX_ORIGINS]; /* --allow-origin, repeatable */
    int allow_origin_count;
    const char *dump_layout;                /* --dump-layout FILE: the live layout at exit */
    double live_rate;                       /* --live-rate: comments per second per client, 0 = default */
    double live_burst;                      /* --live-burst: token bucket size, 0 = default */
    int live_per_address;                   /* --live-per-address: connections per address, 0 = default */
    int live_max_connections;               /* --live-max-connections, 0 = default */
    int live_idle;                          /* --live-idle: ping a silent client after N s, 0 = default */
    const char *host_token;                 /* --host-token: the host console's token, NULL = random */
    const char *moderation;                 /* --moderation FILE: settings loaded at start */
    const char *title;                      /* --title: the screening's title on the pages, NULL = the programme's */
    const char *page_lang;                  /* --page-lang: the pages' fallback language, NULL = en */
    const char *bus;                        /* --bus nats://...: the comment bus (docs/scale.md), NULL = none */
    const char *screening;                  /* --screening ID */
    int bus_clock;                          /* --clock: this player's film time stamps the comments */
    int bus_replicas;                       /* --bus-replicas N, 0 = 1 */
    const char *venue;                      /* --venue NAME: this hall, NULL = none */
    int venue_only;                         /* --venue-only: only this hall's comments on screen */
} player_options;

/* Parse the config file, then argv, into o; 0 to go on, 1 to exit
 * successfully (--help), -1 on error (message printed). Free with
 * player_free_options whatever it returned. */
int player_parse_options(int argc, char **argv, player_options *o);
void player_free_options(player_options *o);

#endif
