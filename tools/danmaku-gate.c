/*
 * danmaku-gate.c - an audience gateway of a screening on the comment bus
 * (docs/scale.md): it serves the audience page and /ws with the player's
 * own server (dm_net: the same checks, protocol and moderation), stamps each
 * comment with the film time run on from the clock player's messages, and
 * acks it only once NATS JetStream has stored it in the screening's stream.
 * It keeps no state of its own: run as many as the audience needs, behind a
 * load balancer or one DNS name.
 *
 *     danmaku-gate --listen 8080 --bus nats://127.0.0.1:4222 --screening premiere
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "danmaku.h"
#include "data_dir.h"
#include "dm_net.h"
#include "dm_version.h"

#define PROG "danmaku-gate"
#define TICK_NS 20000000L          /* the main loop: frees what the feed holds, 50 times a second */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: " PROG " --listen [ADDR:]PORT --bus nats://HOST:PORT --screening ID [options]\n"
        "An audience gateway of a live screening on a NATS JetStream comment bus: serves the\n"
        "audience page and its WebSocket, and publishes each accepted comment to the screening's\n"
        "stream, acking the phone once JetStream has stored it. Players show the stream\n"
        "(danmaku FILM --bus ... --screening ID). See docs/scale.md.\n"
        "\n"
        "  --listen [ADDR:]PORT  serve the audience here (0: any free port)\n"
        "  --bus URL             the NATS server (nats://HOST:PORT; a comma-separated list for\n"
        "                        a cluster)\n"
        "  --screening ID        the screening (A-Z a-z 0-9 _ -, up to 64 characters)\n"
        "  --bus-replicas N      copies of the screening's stream if this gateway creates it\n"
        "                        (default 1; 3 on a three-node cluster)\n"
        "  --venue NAME          the hall this gateway's audience is in: its comments are tagged\n"
        "                        NAME (A-Z a-z 0-9 _ -, up to 32), for players with --venue-only\n"
        "  --public-url URL      join URL for the QR code and the page (default: http://ADDR:PORT/)\n"
        "  --peer URL            another gateway's page address (http://HOST:PORT/, repeatable, up\n"
        "                        to 8): the audience page moves there when this one goes away\n"
        "  --allow-origin ORIGIN\n"
        "                        also accept WebSockets from pages at ORIGIN (repeatable)\n"
        "  --live-rate N         comments per second one client may send (default 1)\n"
        "  --live-burst N        comments one client may send at once (default 5)\n"
        "  --live-per-address N  connections from one address (default 16)\n"
        "  --live-max-connections N  connections in all (default 2048)\n"
        "  --live-idle SECONDS   ping a silent client after this long, drop it after twice (default 30)\n"
        "  --moderation FILE     moderation settings to start with (docs/moderation.md)\n"
        "  --host-token TOKEN    this gateway's console token (default: a random one, printed)\n"
        "  --title TEXT          the screening's title on the audience page\n"
        "  --page-lang LANG      the page's language when the browser's is none of en, zh-CN,\n"
        "                        zh-TW, ja, ko (default en)\n"
        "  -v, --verbose         log connections\n"
        "  -h, --help            this help\n"
        "  --version             the versions of " PROG " and of the libraries it runs with\n"
        "\n"
        "Exit status: 0 after SIGINT or SIGTERM, 1 for bad options, 2 when the NATS server cannot\n"
        "be reached or the port cannot be bound at start.\n");
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see " PROG " --help)\n");
    return 1;
}

static int number(const char *s, double lo, double hi, double *v)
{
    char *end;

    errno = 0;
    *v = strtod(s, &end);
    return !*s || *end || errno || *v < lo || *v > hi;
}

static int parse_listen(const char *s, char *addr, size_t addrlen, int *port)
{
    const char *colon = strrchr(s, ':');
    const char *p = colon ? colon + 1 : s;
    double v;

    if (number(p, 0, 65535, &v) || v != (int)v)
        return -1;
    *port = (int)v;
    addr[0] = 0;
    if (colon) {
        if ((size_t)(colon - s) >= addrlen)
            return -1;
        memcpy(addr, s, (size_t)(colon - s));
        addr[colon - s] = 0;
    }
    return 0;
}

enum { O_LISTEN = 256, O_BUS, O_SCREENING, O_REPLICAS, O_PUBURL, O_ORIGIN, O_RATE, O_BURST, O_PERADDR, O_MAXCONN,
       O_IDLE, O_MODERATION, O_HOSTTOKEN, O_TITLE, O_PAGELANG, O_VERSION, O_PEER, O_VENUE };

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "listen", required_argument, NULL, O_LISTEN }, { "bus", required_argument, NULL, O_BUS },
        { "screening", required_argument, NULL, O_SCREENING },
        { "bus-replicas", required_argument, NULL, O_REPLICAS },
        { "public-url", required_argument, NULL, O_PUBURL }, { "peer", required_argument, NULL, O_PEER },
        { "venue", required_argument, NULL, O_VENUE },
        { "allow-origin", required_argument, NULL, O_ORIGIN },
        { "live-rate", required_argument, NULL, O_RATE }, { "live-burst", required_argument, NULL, O_BURST },
        { "live-per-address", required_argument, NULL, O_PERADDR },
        { "live-max-connections", required_argument, NULL, O_MAXCONN },
        { "live-idle", required_argument, NULL, O_IDLE }, { "moderation", required_argument, NULL, O_MODERATION },
        { "host-token", required_argument, NULL, O_HOSTTOKEN }, { "title", required_argument, NULL, O_TITLE },
        { "page-lang", required_argument, NULL, O_PAGELANG }, { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, O_VERSION }, { NULL, 0, NULL, 0 },
    };
    dm_net_opts no = DM_NET_OPTS_DEFAULT;
    dm_net_comment batch[256];
    dm_net_control ctl[64];
    const char *listen = NULL;
    char addr[256] = "", err[1024] = "", web_dir[4200], vendor_dir[4200];
    struct sigaction sa;
    dm_net *net = NULL;
    dm_net_stats st;
    double v;
    int c;

    opterr = 0;   /* one line of ours instead of getopt's */
    while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN: listen = optarg; break;
        case O_BUS: no.bus_url = optarg; break;
        case O_SCREENING: no.screening = optarg; break;
        case O_REPLICAS:
            if (number(optarg, 1, 5, &v) || v != (int)v)
                return bad("--bus-replicas wants 1 to 5 copies, got '%s'", optarg);
            no.bus_replicas = (int)v;
            break;
        case O_PUBURL: no.public_url = optarg; break;
        case O_VENUE: no.venue = optarg; break;
        case O_PEER:
            if (no.peer_count == DM_NET_MAX_PEERS)
                return bad("at most %d --peer", DM_NET_MAX_PEERS);
            no.peers[no.peer_count++] = optarg;
            break;
        case O_ORIGIN:
            if (no.allow_origin_count == DM_NET_MAX_ORIGINS)
                return bad("at most %d --allow-origin", DM_NET_MAX_ORIGINS);
            no.allow_origins[no.allow_origin_count++] = optarg;
            break;
        case O_RATE:
        case O_BURST:
            if (number(optarg, 0.001, 100000, &v))
                return bad("--live-rate and --live-burst want a positive number, got '%s'", optarg);
            *(c == O_RATE ? &no.rate_per_s : &no.burst) = v;
            break;
        case O_PERADDR:
        case O_MAXCONN:
            if (number(optarg, 1, 100000, &v))
                return bad("a connection count (1..100000) was expected, got '%s'", optarg);
            *(c == O_PERADDR ? &no.max_per_address : &no.max_connections) = (int)v;
            break;
        case O_IDLE:
            if (number(optarg, 1, 3600, &v))
                return bad("--live-idle wants seconds (1..3600), got '%s'", optarg);
            no.idle_ping_s = (int)v;
            no.idle_hangup_s = 2 * (int)v;
            break;
        case O_MODERATION: no.moderation_path = optarg; break;
        case O_HOSTTOKEN: no.host_token = optarg; break;
        case O_TITLE: no.title = optarg; break;
        case O_PAGELANG: no.page_lang = optarg; break;
        case 'v': no.verbose = 1; break;
        case 'h': usage(stdout); return 0;
        case O_VERSION: dm_print_version(stdout, PROG); return 0;
        default: return bad("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad("unexpected argument '%s'", argv[optind]);
    if (!listen || !no.bus_url || !no.screening)
        return bad("--listen, --bus and --screening are all needed");
    if (parse_listen(listen, addr, sizeof addr, &no.port))
        return bad("--listen wants [ADDR:]PORT (0-65535), got '%s'", listen);
    {
        const char *data = dm_data_dir(err, sizeof err);
        if (!data || !dm_vendor_dir(vendor_dir, sizeof vendor_dir, err, sizeof err)) {
            fprintf(stderr, PROG ": %s\n", err);
            return 2;
        }
        snprintf(web_dir, sizeof web_dir, "%s/web", data);
    }
    no.addr = addr[0] ? addr : NULL;
    no.web_dir = web_dir;
    no.vendor_dir = vendor_dir;
    no.bus_role = DM_NET_BUS_GATEWAY;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (dm_net_start(&net, &no, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        return 2;
    }
    fprintf(stderr, PROG ": host console: %shost  token: %s\n", dm_net_join_url(net), dm_net_host_token(net));
    fprintf(stderr, PROG ": screening %s on %s: live on port %d, join at %s\n", no.screening, no.bus_url,
            dm_net_port(net), dm_net_join_url(net));
    while (!stop_signal) {
        struct timespec tick = { 0, TICK_NS };
        size_t n;
        nanosleep(&tick, NULL);
        /* the feed holds nothing the screen needs here (comments go to the stream); requests the console
         * makes of a screen do not apply to a gateway */
        do {   /* a drain stops at a request still queued: both, until neither has more */
            n = dm_net_drain(net, batch, sizeof batch / sizeof batch[0]);
            for (size_t i = 0; i < n; i++)
                dm_comment_free(&batch[i].c);
            n += dm_net_drain_control(net, ctl, sizeof ctl / sizeof ctl[0]);
        } while (n > 0);
    }
    dm_net_halt(net);
    dm_net_get_stats(net, &st);
    fprintf(stderr, PROG ": %s: %llu comments published, %llu refused (unavailable), %llu rejected in all, "
                    "%llu connections\n", strsignal(stop_signal), (unsigned long long)st.bus_published,
            (unsigned long long)st.bus_failed, (unsigned long long)st.rejected,
            (unsigned long long)st.connections_total);
    dm_net_stop(&net);
    return 0;
}
