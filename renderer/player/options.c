/*
 * options.c - parsing the `danmaku` player's command line.
 */
#include "options.h"

#include "layout_cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
        "usage: danmaku [FILM] [--track FILE]... [options]\n"
        "\n"
        "Plays FILM with its comment tracks. With no FILM, plays the bundled demo.\n"
        "\n"
        "  --track FILE          comment track: Bilibili XML, dandanplay/niconico JSON, danmaku JSONL\n"
        "                        (repeatable)\n"
        "  --headless            render without a window or sound device\n"
        "  --fast                headless, as fast as possible (no real-time pacing)\n"
        "  --size WxH            output size (headless) or window size\n"
        "  --start SECONDS       start at this film time\n"
        "  --until SECONDS       stop at this film time\n"
        "  --screenshot S:FILE   save the composed frame at film time S as PNG (repeatable)\n"
        "  --fullscreen          start in fullscreen\n"
        "  --font NAME|FILE      comment font (default: a CJK font found by fontconfig)\n"
        "  (the layout options below; --font-px defaults to the picture height / 22.5)\n"
        "  --opacity F           comment opacity 0..1 (default 1)\n"
        "  --no-comments         start with comments hidden (d shows them)\n"
        "  --volume N            0..100 (default 100)\n"
        "  --screenshot-dir DIR  where the s key saves screenshots (default: .)\n"
        "  --script FILE         key presses and screenshots at film times (see docs)\n"
        "  --log-frames FILE     log each presented frame (pts, master clock) and audio chunk\n"
        "  --stats               print playback statistics at exit\n"
        "  --listen [ADDR:]PORT  live screening: serve the audience page and take comments\n"
        "                        over WebSocket on this port (0: any free port)\n"
        "  --record FILE         append each accepted live comment to FILE (JSONL track)\n"
        "  --public-url URL      join URL for the QR code (default: http://LAN-ADDRESS:PORT/)\n"
        "  --allow-origin ORIGIN also accept WebSockets from pages at ORIGIN (repeatable)\n"
        "  --live-rate N         comments per second one client may send (default 1)\n"
        "  --live-burst N        comments one client may send at once (default 5)\n"
        "  --live-per-address N  connections from one address (default 16)\n"
        "  --live-max-connections N  connections in all (default 2048)\n"
        "  --live-idle SECONDS   ping a silent client after this long, drop it after twice (default 30)\n"
        "  --dump-layout FILE    write the live comments' layout at exit (LAYOUT-DUMP.md)\n"
        "  --host-token TOKEN    the host console's token (default: a random one, printed)\n"
        "  --moderation FILE     moderation settings to start with (docs/moderation.md)\n"
        "  -v, --verbose         more messages\n"
        "  -h, --help            this help\n"
        "\n"
        "Keys: space pause, left/right seek 5 s, up/down seek 60 s, 9/0 volume, m mute,\n"
        "f fullscreen, d comments on/off, [ ] speed, s screenshot, i statistics, c join QR code,\n"
        "x clear the screen, p pause/resume the live feed, q/Esc quit.\n"
        "\n"
        "Layout:\n");
    dm_layout_cli_help(f);
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;

    fputs("danmaku: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}


/* getopt_long values of the player's own options (the layout ones come from layout_cli). */
enum {
    O_TRACK = 256, O_HEADLESS, O_FAST, O_SIZE, O_START, O_UNTIL, O_SHOT, O_FULL, O_FONT, O_OPACITY, O_NOCOMM,
    O_VOLUME, O_SHOTDIR, O_LOGFRAMES, O_STATS, O_SCRIPT, O_LISTEN, O_RECORD, O_PUBURL, O_ORIGIN,
    O_DUMPLAYOUT, O_LIVERATE, O_LIVEBURST, O_LIVEPERADDR, O_LIVEMAXCONN, O_LIVEIDLE, O_HOSTTOKEN,
    O_MODERATION,
};

static const struct option own_options[] = {
    { "track", required_argument, NULL, O_TRACK }, { "headless", no_argument, NULL, O_HEADLESS },
    { "fast", no_argument, NULL, O_FAST }, { "size", required_argument, NULL, O_SIZE },
    { "start", required_argument, NULL, O_START }, { "until", required_argument, NULL, O_UNTIL },
    { "screenshot", required_argument, NULL, O_SHOT }, { "fullscreen", no_argument, NULL, O_FULL },
    { "font", required_argument, NULL, O_FONT },
    { "opacity", required_argument, NULL, O_OPACITY }, { "no-comments", no_argument, NULL, O_NOCOMM },
    { "volume", required_argument, NULL, O_VOLUME },
    { "screenshot-dir", required_argument, NULL, O_SHOTDIR },
    { "log-frames", required_argument, NULL, O_LOGFRAMES }, { "script", required_argument, NULL, O_SCRIPT },
    { "stats", no_argument, NULL, O_STATS },
    { "listen", required_argument, NULL, O_LISTEN }, { "record", required_argument, NULL, O_RECORD },
    { "public-url", required_argument, NULL, O_PUBURL }, { "allow-origin", required_argument, NULL, O_ORIGIN },
    { "dump-layout", required_argument, NULL, O_DUMPLAYOUT },
    { "live-rate", required_argument, NULL, O_LIVERATE }, { "live-burst", required_argument, NULL, O_LIVEBURST },
    { "live-per-address", required_argument, NULL, O_LIVEPERADDR },
    { "live-max-connections", required_argument, NULL, O_LIVEMAXCONN },
    { "live-idle", required_argument, NULL, O_LIVEIDLE },
    { "host-token", required_argument, NULL, O_HOSTTOKEN },
    { "moderation", required_argument, NULL, O_MODERATION },
    { "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
};

/* The getopt loop: every option of the table, layout ones through layout_cli. */
static int parse_loop(int argc, char **argv, player_options *o, const struct option *longopts, char *err,
                      size_t errlen)
{
    double d;
    int c, n;

    while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        int applied = dm_layout_cli_apply(&o->layout, c, optarg, err, errlen);
        if (applied < 0)
            return bad("%s", err);
        if (applied > 0)
            continue;
        switch (c) {
        case O_TRACK:
            if (o->track_count == DM_MAX_TRACKS)
                return bad("at most %d --track files", DM_MAX_TRACKS);
            o->tracks[o->track_count++] = optarg;
            break;
        case O_HEADLESS: o->headless = 1; break;
        case O_FAST: o->fast = o->headless = 1; break;
        case O_SIZE:
            if (sscanf(optarg, "%dx%d%n", &o->size_w, &o->size_h, &n) != 2 || optarg[n] || o->size_w < 16 ||
                o->size_h < 16 || o->size_w > 8192 || o->size_h > 8192)
                return bad("--size wants WIDTHxHEIGHT (16..8192 each), got '%s'", optarg);
            break;
        case O_START:
        case O_UNTIL:
            if (dm_parse_number(optarg, 0, 1e7, &d))
                return bad("--%s wants seconds, got '%s'", c == O_START ? "start" : "until", optarg);
            *(c == O_START ? &o->start : &o->until) = d;
            break;
        case O_SHOT: {
            const char *colon = strchr(optarg, ':');
            char num[64];
            if (!colon || colon == optarg || (size_t)(colon - optarg) >= sizeof num || !colon[1])
                return bad("--screenshot wants SECONDS:FILE.png, got '%s'", optarg);
            memcpy(num, optarg, (size_t)(colon - optarg));
            num[colon - optarg] = 0;
            if (dm_parse_number(num, 0, 1e7, &d))
                return bad("--screenshot: '%s' is not a time in seconds", num);
            if (o->shot_count == DM_MAX_SCREENSHOTS)
                return bad("at most %d --screenshot requests", DM_MAX_SCREENSHOTS);
            o->shots[o->shot_count].at = d;
            o->shots[o->shot_count++].path = colon + 1;
            break;
        }
        case O_FULL: o->fullscreen = 1; break;
        case O_FONT: o->font = optarg; break;
        case O_OPACITY:
            if (dm_parse_number(optarg, 0, 1, &o->opacity))
                return bad("--opacity wants 0..1, got '%s'", optarg);
            break;
        case O_NOCOMM: o->no_comments = 1; break;
        case O_VOLUME:
            if (dm_parse_number(optarg, 0, 100, &o->volume))
                return bad("--volume wants 0..100, got '%s'", optarg);
            break;
        case O_SHOTDIR: o->screenshot_dir = optarg; break;
        case O_LOGFRAMES: o->log_frames = optarg; break;
        case O_SCRIPT: o->script = optarg; break;
        case O_STATS: o->stats = 1; break;
        case O_LISTEN: o->listen = optarg; break;
        case O_RECORD: o->record = optarg; break;
        case O_PUBURL: o->public_url = optarg; break;
        case O_ORIGIN:
            if (o->allow_origin_count == DM_MAX_TRACKS)
                return bad("at most %d --allow-origin", DM_MAX_TRACKS);
            o->allow_origins[o->allow_origin_count++] = optarg;
            break;
        case O_DUMPLAYOUT: o->dump_layout = optarg; break;
        case O_LIVERATE:
        case O_LIVEBURST:
            if (dm_parse_number(optarg, 0.001, 100000, &d))
                return bad("--%s wants a positive number, got '%s'", c == O_LIVERATE ? "live-rate" : "live-burst",
                           optarg);
            *(c == O_LIVERATE ? &o->live_rate : &o->live_burst) = d;
            break;
        case O_LIVEPERADDR:
        case O_LIVEMAXCONN:
            if (dm_parse_number(optarg, 1, 100000, &d))
                return bad("a connection count (1..100000) was expected, got '%s'", optarg);
            *(c == O_LIVEPERADDR ? &o->live_per_address : &o->live_max_connections) = (int)d;
            break;
        case O_LIVEIDLE:
            if (dm_parse_number(optarg, 1, 3600, &d))
                return bad("--live-idle wants seconds (1..3600), got '%s'", optarg);
            o->live_idle = (int)d;
            break;
        case O_HOSTTOKEN:
            n = (int)strlen(optarg);
            if (n < 8 || n > 100 || strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                   "0123456789-._~") != (size_t)n)
                return bad("--host-token wants 8 to 100 letters, digits or -._~ (a short one can be guessed)");
            o->host_token = optarg;
            break;
        case O_MODERATION: o->moderation = optarg; break;
        case 'v': o->verbose = 1; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc)
        o->film = argv[optind++];
    if (optind < argc)
        return bad("one film at a time ('%s' is extra); comment tracks go after --track", argv[optind]);
    if ((o->record || o->dump_layout || o->public_url || o->allow_origin_count) && !o->listen)
        return bad("--record, --dump-layout, --public-url and --allow-origin need --listen");
    if ((o->host_token || o->moderation) && !o->listen)
        return bad("--host-token and --moderation need --listen");
    return 0;
}

int player_parse_options(int argc, char **argv, player_options *o)
{
    dm_layout_opts defaults = DM_LAYOUT_OPTS_DEFAULT, check;
    struct option *longopts = dm_layout_cli_merge(own_options);
    dm_diag diag = { 0 };
    char err[256];
    int rc;

    memset(o, 0, sizeof *o);
    o->layout = defaults;
    o->until = -1;
    o->opacity = 1.0;
    o->volume = 100;
    o->screenshot_dir = ".";
    o->layout.font_px = 0;   /* 0: from the stage height, unless --font-px */
    if (!longopts)
        return bad("out of memory");
    rc = parse_loop(argc, argv, o, longopts, err, sizeof err);
    free(longopts);
    if (rc)
        return rc;
    o->font_px = o->layout.font_px;
    check = o->layout;
    check.font_px = o->font_px ? o->font_px : defaults.font_px;
    if (dm_layout_opts_check(&check, &diag))
        return bad("%s", diag.error);
    return 0;
}
