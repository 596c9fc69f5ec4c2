/*
 * options.c - parsing the `danmaku` player's command line.
 */
#include "options.h"

#include "dm_net.h"
#include "dm_version.h"

#include "filter_cli.h"
#include "layout_cli.h"
#include "media.h"

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
        "usage: danmaku [FILM [--track FILE]... [--sub FILE]...]... [options]\n"
        "       danmaku --programme NIGHT.json [options]\n"
        "\n"
        "Plays each FILM in turn with its comment tracks: the ones beside it with its name\n"
        "(FILM.xml, .json, .jsonl, .pb) and the --track and --sub given after it (those before\n"
        "the first film are the first film's). With no FILM, plays the bundled demo.\n"
        "\n"
        "  --track FILE          comment track (repeatable): Bilibili XML or protobuf, live recorder XML,\n"
        "                        dandanplay, niconico, ArtPlayer or DPlayer JSON, ASS, danmaku JSONL;\n"
        "                        the format is told by the content\n"
        "  --offset SECONDS      the --track just before starts this much later (negative: earlier)\n"
        "  --no-track-auto       not the tracks beside the film\n"
        "  --programme FILE      a night of films (docs/programme.md): titles, tracks, subtitles,\n"
        "                        recordings, intermissions\n"
        "  --intermission SECONDS  the break between films, with a card (default 0; a programme's own)\n"
        "  --overlay             no film (the cinema plays it): the comments on a black stage of\n"
        "                        --size (default 1920x1080) on a film clock the host starts (space),\n"
        "                        seeks and nudges (- and = by 0.1 s)\n"
        "  --follow-mpv SOCKET   the film clock of a running mpv (mpv --input-ipc-server=SOCKET):\n"
        "                        its time, pauses and seeks; the host's keys drive it\n"
        "  --key-fill            with --overlay: a second output with the comments' alpha as grey\n"
        "                        (key) beside the comments (fill), for a video mixer\n"
        "  --aigc                the film is AI-generated: the AIGC label at its start and in a corner\n"
        "  --aigc-text TEXT      the label's text (default \"AI生成 · AI-generated\"; implies --aigc)\n"
        "  --headless            render without a window or sound device\n"
        "  --fast                headless, as fast as possible (no real-time pacing)\n"
        "  --size WxH            output size (headless) or window size\n"
        "  --start SECONDS       start at this film time\n"
        "  --until SECONDS       stop at this film time\n"
        "  --screenshot S:FILE   save the composed frame at film time S as PNG (repeatable; in a night,\n"
        "                        in every film: %%n in FILE is the film's number; intermission+S:FILE\n"
        "                        S seconds into each intermission)\n"
        "  --fullscreen          start in fullscreen\n"
        "  --font NAME|FILE      comment font (default: a CJK font found by fontconfig)\n"
        "  --opacity F           comment opacity 0..1 (default 1)\n"
        "  --no-comments         start with comments hidden (d shows them)\n"
        "  --volume N            0..100 (default 100)\n"
        "  --mute                start muted (m turns the sound on)\n"
        "  --speed X             playback speed 0.25..4 (default 1); the sound keeps its pitch\n"
        "  --aid N|no|auto       audio track: the film's Nth audio stream, none, or the film's default\n"
        "  --no-audio            play no sound (the same as --aid no)\n"
        "  --audio-dump FILE     write the sound as it goes to the device into FILE (16-bit WAV)\n"
        "  --screenshot-dir DIR  where the s key saves screenshots (default: .)\n"
        "  --script FILE         key presses and screenshots at film times (see docs)\n"
        "  --log-frames FILE     log each presented frame (pts, master clock) and audio chunk\n"
        "  --stats               print playback statistics at exit\n"
        "  --refresh-rate HZ     the display's refresh rate when it reports none or a wrong one\n"
        "                        (headless: the rate frames are presented at; default 60)\n"
        "  --no-vsync            present on a timer instead of in step with the display\n"
        "  --loop[=N|inf]        play the film again N more times (default: forever)\n"
        "  --save-position-on-quit  on quitting, remember where the film was: the next time it\n"
        "                        starts there (a watch-later file per film)\n"
        "  --no-resume           start at the beginning even when a position was remembered\n"
        "  --config FILE         read options from FILE instead of ~/.config/danmaku/danmaku.conf\n"
        "  --no-config           read no config file\n"
#ifdef DM_HAVE_LIVE
        "  --listen [ADDR:]PORT  live screening: serve the audience page and take comments\n"
        "                        over WebSocket on this port (0: any free port)\n"
        "  --record FILE         append each accepted live comment to FILE (JSONL track)\n"
        "  --public-url URL      join URL for the QR code (default: http://ADDR:PORT/ when --listen\n"
        "                        names an address, else http://LAN-ADDRESS:PORT/)\n"
        "  --allow-origin ORIGIN\n"
        "                        also accept WebSockets from pages at ORIGIN (repeatable)\n"
        "  --live-rate N         comments per second one client may send (default 1)\n"
        "  --live-burst N        comments one client may send at once (default 5)\n"
        "  --live-per-address N  connections from one address (default 16)\n"
        "  --live-max-connections N  connections in all (default 2048)\n"
        "  --live-idle SECONDS   ping a silent client after this long, drop it after twice (default 30)\n"
        "  --title TEXT          the screening's title on the audience page (default: the programme's)\n"
        "  --page-lang LANG      the pages' language when the browser's are none of theirs:\n"
        "                        en, zh-CN, zh-TW, ja or ko (default en)\n"
        "  --bus nats://HOST:PORT  one hall of a screening on a NATS JetStream comment bus\n"
        "                        (docs/scale.md): the screen shows the screening's stream, fed by\n"
        "                        danmaku-gate gateways (and this --listen, default 127.0.0.1:0)\n"
        "  --screening ID        the screening on the bus (A-Z a-z 0-9 _ -, up to 64)\n"
        "  --clock               this player's film time stamps the screening's comments\n"
        "  --bus-replicas N      copies of the screening's stream if this player creates it (default 1)\n"
        "  --venue NAME          this hall: comments its --listen takes are tagged NAME\n"
        "  --venue-only          show only the comments tagged with this --venue (and the gateways'\n"
        "                        --venue), not the other halls'\n"
#endif
        "  --dump-layout FILE    write the layout of every comment at exit (LAYOUT-DUMP.md)\n"
#ifdef DM_HAVE_LIVE
        "  --host-token TOKEN    the host console's token (default: a random one, printed)\n"
        "  --moderation FILE     moderation settings to start with (docs/moderation.md)\n"
#endif
        "  --version             the versions of danmaku and of the libraries it runs with\n"
        "  -v, --verbose         more messages\n"
        "  -h, --help            this help\n"
        "\n"
        "Keys: space pause, left/right seek 5 s, up/down seek 60 s, 9/0 volume, m mute, > < Enter\n"
        "next/previous film (in an intermission > and Enter start the next film now),\n"
        "f fullscreen, d comments on/off, [ ] speed, # next audio track, s screenshot, i statistics,\n"
        "c join QR code, x clear the screen, p pause/resume the live feed, v subtitles on/off,\n"
        "j/J next/previous subtitle track, z/Z subtitle delay -/+0.1 s, q/Esc quit.\n"
        "\n"
        "Layout (--font-px defaults to the picture height / 22.5):\n");
    dm_layout_cli_help(f);
    fputs("Subtitles:\n", f);
    dm_subs_cli_help(f);
    fputs("Filters (keys 1-6 and l/L change them while playing):\n", f);
    dm_filter_cli_help(f);
    fputs("\nThe config file (~/.config/danmaku/danmaku.conf, or $XDG_CONFIG_HOME/danmaku/danmaku.conf)\n"
          "holds options one per line, as NAME=VALUE or NAME for a switch (# starts a comment); the\n"
          "command line overrides it.\n", f);
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
    O_MODERATION, O_OFFSET, O_REFRESH, O_NOVSYNC, O_LOOP, O_SAVEPOS, O_NORESUME, O_CONFIG, O_NOCONFIG,
    O_PROGRAMME, O_NOTRACKAUTO, O_AIGC, O_AIGCTEXT, O_BREAK, O_OVERLAY, O_FOLLOWMPV, O_KEYFILL, O_VERSION,
    O_MUTE, O_SPEED, O_AID, O_NOAUDIO, O_AUDIODUMP, O_TITLE, O_PAGELANG, O_BUS, O_SCREENING, O_CLOCK,
    O_BUSREPLICAS, O_VENUE, O_VENUEONLY,
};

static const struct option own_options[] = {
    { "track", required_argument, NULL, O_TRACK }, { "offset", required_argument, NULL, O_OFFSET },
    { "headless", no_argument, NULL, O_HEADLESS },
    { "fast", no_argument, NULL, O_FAST }, { "size", required_argument, NULL, O_SIZE },
    { "start", required_argument, NULL, O_START }, { "until", required_argument, NULL, O_UNTIL },
    { "screenshot", required_argument, NULL, O_SHOT }, { "fullscreen", no_argument, NULL, O_FULL },
    { "font", required_argument, NULL, O_FONT },
    { "opacity", required_argument, NULL, O_OPACITY }, { "no-comments", no_argument, NULL, O_NOCOMM },
    { "volume", required_argument, NULL, O_VOLUME },
    { "mute", no_argument, NULL, O_MUTE }, { "speed", required_argument, NULL, O_SPEED },
    { "aid", required_argument, NULL, O_AID }, { "no-audio", no_argument, NULL, O_NOAUDIO },
    { "audio-dump", required_argument, NULL, O_AUDIODUMP },
    { "screenshot-dir", required_argument, NULL, O_SHOTDIR },
    { "log-frames", required_argument, NULL, O_LOGFRAMES }, { "script", required_argument, NULL, O_SCRIPT },
    { "stats", no_argument, NULL, O_STATS },
#ifdef DM_HAVE_LIVE
    { "listen", required_argument, NULL, O_LISTEN }, { "record", required_argument, NULL, O_RECORD },
    { "public-url", required_argument, NULL, O_PUBURL }, { "allow-origin", required_argument, NULL, O_ORIGIN },
    { "live-rate", required_argument, NULL, O_LIVERATE }, { "live-burst", required_argument, NULL, O_LIVEBURST },
    { "live-per-address", required_argument, NULL, O_LIVEPERADDR },
    { "live-max-connections", required_argument, NULL, O_LIVEMAXCONN },
    { "live-idle", required_argument, NULL, O_LIVEIDLE },
    { "host-token", required_argument, NULL, O_HOSTTOKEN },
    { "moderation", required_argument, NULL, O_MODERATION },
    { "title", required_argument, NULL, O_TITLE }, { "page-lang", required_argument, NULL, O_PAGELANG },
    { "bus", required_argument, NULL, O_BUS }, { "screening", required_argument, NULL, O_SCREENING },
    { "clock", no_argument, NULL, O_CLOCK }, { "bus-replicas", required_argument, NULL, O_BUSREPLICAS },
    { "venue", required_argument, NULL, O_VENUE }, { "venue-only", no_argument, NULL, O_VENUEONLY },
#endif
    { "dump-layout", required_argument, NULL, O_DUMPLAYOUT },
    { "refresh-rate", required_argument, NULL, O_REFRESH }, { "no-vsync", no_argument, NULL, O_NOVSYNC },
    { "loop", optional_argument, NULL, O_LOOP }, { "save-position-on-quit", no_argument, NULL, O_SAVEPOS },
    { "no-resume", no_argument, NULL, O_NORESUME }, { "config", required_argument, NULL, O_CONFIG },
    { "no-config", no_argument, NULL, O_NOCONFIG },
    { "programme", required_argument, NULL, O_PROGRAMME }, { "program", required_argument, NULL, O_PROGRAMME },
    { "no-track-auto", no_argument, NULL, O_NOTRACKAUTO },
    { "aigc", no_argument, NULL, O_AIGC }, { "aigc-text", required_argument, NULL, O_AIGCTEXT },
    { "intermission", required_argument, NULL, O_BREAK },
    { "overlay", no_argument, NULL, O_OVERLAY }, { "follow-mpv", required_argument, NULL, O_FOLLOWMPV },
    { "key-fill", no_argument, NULL, O_KEYFILL },
    { "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, O_VERSION }, { NULL, 0, NULL, 0 },
};

/* The getopt loop: every option of the table, layout ones through layout_cli. */
static int parse_loop(int argc, char **argv, player_options *o, const struct option *longopts, char *err,
                      size_t errlen)
{
    double d;
    int c, n;

    int subs_before = 0, last_track_in_prog = 0;

    opterr = 0;   /* one line of ours instead of getopt's and the whole usage */
    /* "-": films come in order among the options, so a --track or --sub belongs to the film before it */
    while ((c = getopt_long(argc, argv, "-:vh", longopts, NULL)) != -1) {
        int applied = dm_layout_cli_apply(&o->layout, c, optarg, err, errlen);
        if (applied == 0) {
            subs_before = o->subs.n_files;
            applied = dm_subs_cli_apply(&o->subs, c, optarg, err, errlen);
            /* a --sub after a film is that film's */
            if (applied > 0 && o->subs.n_files > subs_before && o->prog.count) {
                if (dm_programme_add_sub(&o->prog, o->subs.files[--o->subs.n_files], err, errlen))
                    return bad("%s", err);
            }
        }
        if (applied == 0)
            applied = dm_filter_cli_apply(&o->filter, c, optarg, err, errlen);
        if (applied < 0)
            return bad("%s", err);
        if (applied > 0)
            continue;
        switch (c) {
        case 1:   /* a film */
            if (dm_programme_add_film(&o->prog, optarg, 0, err, errlen))
                return bad("%s", err);
            last_track_in_prog = 0;
            break;
        case O_TRACK:
            last_track_in_prog = o->prog.count > 0;
            if (last_track_in_prog) {
                if (dm_programme_add_track(&o->prog, optarg, 0, err, errlen))
                    return bad("%s", err);
                break;
            }
            if (o->track_count == DM_MAX_TRACKS)
                return bad("at most %d --track files", DM_MAX_TRACKS);
            o->track_offsets_ms[o->track_count] = 0;
            o->tracks[o->track_count++] = optarg;
            break;
        case O_OFFSET: {
            /* the offset belongs to the track it follows */
            dm_prog_entry *e = last_track_in_prog ? &o->prog.entries[o->prog.count - 1] : NULL;
            if (e ? e->track_count == 0 : o->track_count == 0)
                return bad("--offset %s comes before any --track: write it after the track it shifts", optarg);
            if (dm_offset_parse(optarg, e ? &e->offsets_ms[e->track_count - 1] : &o->track_offsets_ms[o->track_count - 1],
                                err, errlen))
                return bad("%s", err);
            break;
        }
        case O_PROGRAMME: o->programme = optarg; break;
        case O_OVERLAY: o->overlay = 1; break;
        case O_FOLLOWMPV: o->follow_mpv = optarg; o->overlay = 1; break;
        case O_KEYFILL: o->key_fill = 1; break;
        case O_NOTRACKAUTO: o->no_track_auto = 1; break;
        case O_AIGC: o->aigc = 1; break;
        case O_AIGCTEXT: o->aigc_text = optarg; o->aigc = 1; break;
        case O_BREAK:
            if (dm_parse_number(optarg, 0, 86400, &d))
                return bad("--intermission wants seconds between films, got '%s'", optarg);
            o->intermission = d;
            o->intermission_set = 1;
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
            /* SECONDS:FILE, or intermission+SECONDS:FILE for the card between films */
            const char *at = optarg, *colon;
            int in_break = !strncmp(at, "intermission+", 13);
            char num[64];
            if (in_break)
                at += 13;
            colon = strchr(at, ':');
            if (!colon || colon == at || (size_t)(colon - at) >= sizeof num || !colon[1])
                return bad("--screenshot wants SECONDS:FILE.png (or intermission+SECONDS:FILE.png), got '%s'",
                           optarg);
            memcpy(num, at, (size_t)(colon - at));
            num[colon - at] = 0;
            if (dm_parse_number(num, 0, 1e7, &d))
                return bad("--screenshot: '%s' is not a time in seconds", num);
            if (o->shot_count == DM_MAX_SCREENSHOTS)
                return bad("at most %d --screenshot requests", DM_MAX_SCREENSHOTS);
            o->shots[o->shot_count].at = d;
            o->shots[o->shot_count].in_break = in_break;
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
        case O_MUTE: o->mute = 1; break;
        case O_SPEED:
            if (dm_parse_number(optarg, DM_SPEED_MIN, DM_SPEED_MAX, &o->speed))
                return bad("--speed wants %g..%g, got '%s'", DM_SPEED_MIN, DM_SPEED_MAX, optarg);
            break;
        case O_AID:
            /* as mpv's: N (1-based among the film's audio streams), no, auto */
            if (!strcmp(optarg, "no")) {
                o->no_audio = 1;
                o->aid = 0;
            } else if (!strcmp(optarg, "auto")) {
                o->no_audio = 0;
                o->aid = 0;
            } else if (dm_parse_number(optarg, 1, 64, &d) || d != (int)d) {
                return bad("--aid wants an audio track number (1, 2...), no or auto, got '%s'", optarg);
            } else {
                o->no_audio = 0;
                o->aid = (int)d;
            }
            break;
        case O_NOAUDIO: o->no_audio = 1; break;
        case O_AUDIODUMP: o->audio_dump = optarg; break;
        case O_SHOTDIR: o->screenshot_dir = optarg; break;
        case O_LOGFRAMES: o->log_frames = optarg; break;
        case O_SCRIPT: o->script = optarg; break;
        case O_STATS: o->stats = 1; break;
        case O_LISTEN: o->listen = optarg; break;
        case O_BUS: o->bus = optarg; break;
        case O_SCREENING: o->screening = optarg; break;
        case O_CLOCK: o->bus_clock = 1; break;
        case O_VENUE: o->venue = optarg; break;
        case O_VENUEONLY: o->venue_only = 1; break;
        case O_BUSREPLICAS:
            if (dm_parse_number(optarg, 1, 5, &d) || d != (int)d)
                return bad("--bus-replicas wants 1 to 5 copies, got '%s'", optarg);
            o->bus_replicas = (int)d;
            break;
        case O_RECORD: o->record = optarg; break;
        case O_PUBURL: o->public_url = optarg; break;
        case O_ORIGIN:
            if (o->allow_origin_count == DM_NET_MAX_ORIGINS)
                return bad("at most %d --allow-origin", DM_NET_MAX_ORIGINS);
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
        case O_TITLE:
            if (strlen(optarg) > 200)
                return bad("--title: at most 200 bytes");
            o->title = optarg;
            break;
#ifdef DM_HAVE_LIVE
        case O_PAGELANG: {
            size_t i;
            for (i = 0; i < dm_net_page_lang_count && strcmp(optarg, dm_net_page_langs[i]); i++)
                ;
            if (i == dm_net_page_lang_count)
                return bad("--page-lang wants en, zh-CN, zh-TW, ja or ko, got '%s'", optarg);
            o->page_lang = dm_net_page_langs[i];
            break;
        }
#endif
        case O_REFRESH:
            if (dm_parse_number(optarg, 1, 1000, &d))
                return bad("--refresh-rate wants hertz between 1 and 1000, got '%s'", optarg);
            o->refresh_rate = d;
            break;
        case O_NOVSYNC: o->no_vsync = 1; break;
        case O_LOOP:
            if (!optarg || !strcmp(optarg, "inf"))
                o->loop = -1;
            else if (!strcmp(optarg, "no"))
                o->loop = 0;
            else if (dm_parse_number(optarg, 0, 1e6, &d) || d != (int)d)
                return bad("--loop wants a number of times, inf or no, got '%s'", optarg);
            else
                o->loop = (int)d;
            break;
        case O_SAVEPOS: o->save_position = 1; break;
        case O_NORESUME: o->no_resume = 1; break;
        case O_CONFIG:
        case O_NOCONFIG: break;   /* read before the command line (player_parse_options) */
        case 'v': o->verbose = 1; break;
        case 'h': usage(stdout); return 1;
        case O_VERSION: dm_print_version(stdout, "danmaku"); return 1;
        case ':':
            return bad("option '%s' needs a value (danmaku --help lists the options)", argv[optind - 1]);
        default:
            return bad("unknown option '%s' (danmaku --help lists the options)", argv[optind - 1]);
        }
    }
    if (o->programme && o->prog.count)
        return bad("films on the command line and --programme %s: give one or the other", o->programme);
    if (o->overlay && (o->prog.count || o->programme))
        return bad("--overlay plays no film (the cinema does): give the comment tracks with --track, and no FILM");
    if (o->key_fill && !o->overlay)
        return bad("--key-fill is for --overlay (the comments and their alpha, for a video mixer)");
    if (o->overlay && (o->speed != 1.0 || o->aid || o->no_audio || o->audio_dump))
        return bad("--overlay plays no film (the cinema does): --speed, --aid, --no-audio and --audio-dump are the "
                   "film's");
    if (o->audio_dump && (o->fast || o->no_audio))
        return bad("--audio-dump writes the sound played in real time: not with --fast, --no-audio or --aid no");
    if (o->follow_mpv && o->fast)
        return bad("--follow-mpv follows a running mpv in real time: not with --fast");
    if (o->programme) {
        if (dm_programme_load(&o->prog, o->programme, err, errlen))
            return bad("%s", err);
        if (o->track_count || o->subs.n_files)
            return bad("--track and --sub go in the programme's entries (\"tracks\", \"subtitles\"), not on the "
                       "command line with --programme");
        if (o->intermission_set)
            o->prog.intermission_s = o->intermission;
        if (o->aigc_text && !o->prog.aigc_text && !(o->prog.aigc_text = strdup(o->aigc_text)))
            return bad("out of memory");
    } else if (o->prog.count) {
        /* the command line's films: the tracks beside each, those given before the first film, its own */
        if (dm_programme_prepend_tracks(&o->prog, 0, o->tracks, o->track_offsets_ms, o->track_count, err, errlen))
            return bad("%s", err);
        for (size_t i = 0; i < o->prog.count && !o->no_track_auto; i++)
            if (dm_programme_tracks_beside(&o->prog, i, err, errlen))
                return bad("%s", err);
        for (size_t i = 0; i < o->prog.count; i++)
            o->prog.entries[i].aigc = o->aigc;
        o->prog.intermission_s = o->intermission;
        if (o->aigc_text && !(o->prog.aigc_text = strdup(o->aigc_text)))
            return bad("out of memory");
        o->track_count = 0;
    }
    if ((o->screening || o->bus_clock || o->bus_replicas || o->venue || o->venue_only) && !o->bus)
        return bad("--screening, --clock, --bus-replicas, --venue and --venue-only need --bus");
    if (o->venue_only && !o->venue)
        return bad("--venue-only needs --venue NAME (the hall whose comments this screen shows)");
    if (o->bus && !o->screening)
        return bad("--bus needs --screening ID");
    if (o->bus && !o->listen)
        o->listen = "127.0.0.1:0";   /* the host console (and a gateway of its own, if wanted) */
    if ((o->record || o->public_url || o->allow_origin_count) && !o->listen)
        return bad("--record, --public-url and --allow-origin need --listen");
    if ((o->host_token || o->moderation) && !o->listen)
        return bad("--host-token and --moderation need --listen");
    return 0;
}

/* The config file to read: --config FILE, none with --no-config, else the user's (NULL when there is none). */
static const char *config_path(int argc, char **argv, char *buf, size_t len, int *named)
{
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");

    *named = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-config"))
            return NULL;
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            *named = 1;
            return argv[i + 1];
        }
        if (!strncmp(argv[i], "--config=", 9)) {
            *named = 1;
            return argv[i] + 9;
        }
    }
    if (xdg && *xdg)
        snprintf(buf, len, "%s/danmaku/danmaku.conf", xdg);
    else if (home && *home)
        snprintf(buf, len, "%s/.config/danmaku/danmaku.conf", home);
    else
        return NULL;
    return buf;
}

static const struct option *find_option(const struct option *opts, const char *name, size_t len)
{
    for (; opts->name; opts++)
        if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
            return opts;
    return NULL;
}

/* A config line's pieces without the white space around them. */
static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = 0;
    return s;
}

/*
 * Read the config file into command-line words ("--name=value", "--name"),
 * appended to *words (the strings are kept in *storage for the run). One line
 * per option, the options' own names (a leading "--" is allowed), "name=value"
 * or "name" for a switch ("name=yes" too); "#" starts a comment; a value may
 * be in double quotes. 0, or -1 with the line named.
 */
static int read_config(const char *path, int named, const struct option *opts, player_options *o, char ***words,
                       int *nwords)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0;

    if (!f) {
        if (named || errno != ENOENT)
            return bad("cannot read the config file %s: %s", path, strerror(errno));
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        char *l = trim(line), *eq, *name, *value = NULL, *word, **grown;
        const struct option *opt;
        size_t need;

        lineno++;
        if (!*l || *l == '#')
            continue;
        if (!strncmp(l, "--", 2))
            l += 2;
        eq = strchr(l, '=');
        if (eq) {
            *eq = 0;
            value = trim(eq + 1);
            if (*value == '"' && strlen(value) >= 2 && value[strlen(value) - 1] == '"') {
                value[strlen(value) - 1] = 0;
                value++;
            }
        }
        name = trim(l);
        opt = find_option(opts, name, strlen(name));
        if (!opt || !strcmp(name, "config") || !strcmp(name, "no-config") || !strcmp(name, "help")) {
            fclose(f);
            return bad("%s:%d: unknown option '%s' (danmaku --help lists the options)", path, lineno, name);
        }
        if (opt->has_arg == no_argument && value && strcmp(value, "yes")) {
            fclose(f);
            return bad("%s:%d: '%s' is a switch: write it alone (or '%s=yes')", path, lineno, name, name);
        }
        if (opt->has_arg == no_argument)
            value = NULL;
        if (opt->has_arg == required_argument && !value) {
            fclose(f);
            return bad("%s:%d: '%s' needs a value: %s=VALUE", path, lineno, name, name);
        }
        need = strlen(name) + (value ? strlen(value) + 1 : 0) + 3;
        word = malloc(need);
        grown = realloc(o->config_words, (size_t)(o->config_word_count + 1) * sizeof *grown);
        if (!word || !grown) {
            free(word);
            if (grown)
                o->config_words = grown;
            fclose(f);
            return bad("out of memory");
        }
        snprintf(word, need, value ? "--%s=%s" : "--%s", name, value ? value : "");
        o->config_words = grown;
        o->config_words[o->config_word_count++] = word;
    }
    fclose(f);
    *words = o->config_words;
    *nwords = o->config_word_count;
    return 0;
}

void player_free_options(player_options *o)
{
    for (int i = 0; i < o->config_word_count; i++)
        free(o->config_words[i]);
    free(o->config_words);
    o->config_words = NULL;
    o->config_word_count = 0;
    free(o->config_argv);
    o->config_argv = NULL;
    dm_filter_free(&o->filter);
    dm_programme_free(&o->prog);
}

int player_parse_options(int argc, char **argv, player_options *o)
{
    dm_layout_opts defaults = DM_LAYOUT_OPTS_DEFAULT, check;
    struct option *longopts = dm_filter_cli_merge(dm_subs_cli_merge(dm_layout_cli_merge(own_options)));
    dm_subs_cli subs_defaults = DM_SUBS_CLI_DEFAULT;
    dm_diag diag = { 0 };
    char err[256], cfgbuf[4096];
    const char *cfg;
    char **words = NULL;
    int rc, nwords = 0, named;

    memset(o, 0, sizeof *o);
    o->layout = defaults;
    o->subs = subs_defaults;
    o->until = -1;
    o->opacity = 1.0;
    o->volume = 100;
    o->speed = 1.0;
    o->screenshot_dir = ".";
    o->layout.font_px = 0;   /* 0: from the stage height, unless --font-px */
    if (!longopts)
        return bad("out of memory");
    /* the config file's options come first, so the command line's override them */
    cfg = config_path(argc, argv, cfgbuf, sizeof cfgbuf, &named);
    if (cfg && read_config(cfg, named, longopts, o, &words, &nwords)) {
        free(longopts);
        return -1;
    }
    if (nwords) {
        o->config_argv = malloc((size_t)(argc + nwords + 1) * sizeof *o->config_argv);
        if (!o->config_argv) {
            free(longopts);
            return bad("out of memory");
        }
        o->config_argv[0] = argv[0];
        memcpy(o->config_argv + 1, words, (size_t)nwords * sizeof *words);
        memcpy(o->config_argv + 1 + nwords, argv + 1, (size_t)(argc - 1) * sizeof *argv);
        o->config_argv[argc + nwords] = NULL;
        argv = o->config_argv;
        argc += nwords;
        o->config_file = cfg == cfgbuf ? NULL : cfg;
    }
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
