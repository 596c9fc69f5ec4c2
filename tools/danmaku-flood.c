/*
 * danmaku-flood.c - a simulated audience for a live screening: N WebSocket
 * clients (libwebsockets' client API, one thread) sending comments at a total
 * rate, reporting ack latency percentiles and errors by code. --demo sends
 * friendly comments in several scripts, for showing the feed off.
 *
 *     danmaku-flood ws://127.0.0.1:8080/ws --clients 100 --rate 200 --seconds 10
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "dm_version.h"

#define PROG "danmaku-flood"
#define INFLIGHT_CAP 4096           /* unanswered comments tracked per client */
#define MAX_LATENCIES (64u << 20)   /* latency samples kept (hard cap) */
#define MAX_CODES 32                /* distinct error codes counted */
#define TICK_US 1000                /* scheduler resolution */

typedef struct client {
    struct lws *wsi;
    int index;
    int state;                      /* 0 connecting, 1 open, 2 closed, 3 failed */
    double next_send;               /* monotonic seconds of the next comment */
    double interval;                /* seconds between this client's comments */
    double inflight[INFLIGHT_CAP];  /* send times, answered in order */
    unsigned in_head, in_count;
    unsigned long long sent;
    int want_write;
} client;

typedef struct flood {
    char address[256], path[256], host[300];
    const char *origin;
    int port;
    int nclients;
    double rate;                    /* comments per second, all clients together */
    double seconds;
    int demo;
    int json;
    client *clients;
    struct lws_context *ctx;
    lws_sorted_usec_list_t tick;
    double start, send_until, stop_at;
    unsigned long long sent, acked, errors, overflow;
    double *lat;                    /* ack latencies, ms */
    size_t lat_count, lat_cap;
    struct { char code[48]; unsigned long long n; } codes[MAX_CODES];
    int ncodes;
    unsigned opened, failed, closed_early;
    unsigned rng;
} flood;

static flood F;
static volatile sig_atomic_t interrupted;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned rnd(void)
{
    F.rng = F.rng * 1103515245u + 12345u;
    return F.rng >> 8;
}

static const char *const demo_texts[] = {
    "前方高能！", "哈哈哈哈哈", "这个镜头太美了", "泪目了", "名场面", "弹幕护体", "开幕雷击",
    "ここ好き", "すごい！", "神回", "かわいい", "888888", "草", "待ってました！",
    "대박", "와 진짜 멋있다", "ㅋㅋㅋㅋㅋ", "최고예요", "소름 돋았어",
    "😂😂😂", "👏👏", "🔥🔥🔥", "❤️", "🎉 bravo", "✨ beautiful ✨",
    "what a shot", "this music though", "hello from the back row!", "encore!", "no way",
    "Bonjour tout le monde", "¡Qué bonito!", "Привет всем",
};
static const char *const palette[] = { "#FFFFFF", "#FE0302", "#FF7204", "#FFAA02", "#FFD302", "#A0EE00",
                                       "#00CD00", "#019899", "#4266BE", "#89D5FF", "#CC0273" };

static char *make_comment(client *c)
{
    cJSON *o = cJSON_CreateObject();
    char text[128], *s;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "type", "comment");
    if (F.demo) {
        unsigned r = rnd();
        cJSON_AddStringToObject(o, "text", demo_texts[r % (sizeof demo_texts / sizeof demo_texts[0])]);
        cJSON_AddStringToObject(o, "color", (r >> 8) % 3 ? "#FFFFFF" : palette[(r >> 10) % (sizeof palette / sizeof palette[0])]);
        cJSON_AddStringToObject(o, "mode", (r >> 14) % 10 == 0 ? "top" : (r >> 14) % 10 == 1 ? "bottom" : "scroll");
        cJSON_AddStringToObject(o, "size", (r >> 18) % 8 == 0 ? "large" : (r >> 18) % 8 == 1 ? "small" : "normal");
    } else {
        snprintf(text, sizeof text, "flood %d-%llu 弹幕", c->index, c->sent);
        cJSON_AddStringToObject(o, "text", text);
    }
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static void count_code(const char *code)
{
    for (int i = 0; i < F.ncodes; i++)
        if (!strcmp(F.codes[i].code, code)) {
            F.codes[i].n++;
            return;
        }
    if (F.ncodes < MAX_CODES) {
        snprintf(F.codes[F.ncodes].code, sizeof F.codes[0].code, "%s", code);
        F.codes[F.ncodes++].n = 1;
    }
}

static void on_reply(client *c, const char *buf, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(buf, len);
    const cJSON *type = o ? cJSON_GetObjectItemCaseSensitive(o, "type") : NULL;
    double sent_at;

    if (!cJSON_IsString(type) || (strcmp(type->valuestring, "ack") && strcmp(type->valuestring, "error"))) {
        cJSON_Delete(o);
        return;
    }
    if (c->in_count) {
        sent_at = c->inflight[c->in_head];
        c->in_head = (c->in_head + 1) % INFLIGHT_CAP;
        c->in_count--;
        if (F.lat_count < F.lat_cap)
            F.lat[F.lat_count++] = (now_s() - sent_at) * 1000.0;
    }
    if (!strcmp(type->valuestring, "ack")) {
        F.acked++;
    } else {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
        F.errors++;
        count_code(cJSON_IsString(code) ? code->valuestring : "?");
    }
    cJSON_Delete(o);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    client *c = lws_get_opaque_user_data(wsi);

    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c) {
            c->state = 1;
            F.opened++;
        }
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) {
            c->state = 3;
            c->wsi = NULL;
            F.failed++;
            if (F.failed <= 3)
                fprintf(stderr, PROG ": client %d could not connect: %s\n", c->index, in ? (const char *)in : "?");
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (c && lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi))
            on_reply(c, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        unsigned char buf[LWS_PRE + 1024];
        char *s;
        size_t n;
        if (!c || c->state != 1)
            break;
        c->want_write = 0;
        s = make_comment(c);
        if (!s)
            return -1;
        n = strlen(s);
        if (n > sizeof buf - LWS_PRE)
            n = sizeof buf - LWS_PRE;
        memcpy(buf + LWS_PRE, s, n);
        free(s);
        if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
            return -1;
        c->sent++;
        F.sent++;
        if (c->in_count < INFLIGHT_CAP) {
            c->inflight[(c->in_head + c->in_count) % INFLIGHT_CAP] = now_s();
            c->in_count++;
        } else {
            F.overflow++;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c) {
            if (now_s() < F.send_until)
                F.closed_early++;
            c->state = 2;
            c->wsi = NULL;
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    { "danmaku-flood", callback, 0, 4096, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void connect_client(client *c)
{
    struct lws_client_connect_info ci;

    memset(&ci, 0, sizeof ci);
    ci.context = F.ctx;
    ci.address = F.address;
    ci.port = F.port;
    ci.path = F.path;
    ci.host = F.host;
    ci.origin = F.origin;
    ci.ietf_version_or_minus_one = -1;
    ci.protocol = NULL;
    ci.opaque_user_data = c;
    ci.pwsi = &c->wsi;
    c->state = 0;
    if (!lws_client_connect_via_info(&ci)) {
        c->state = 3;
        F.failed++;
    }
}

/* Every millisecond: ask for a write on each client whose next comment is due. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
    double t = now_s();

    (void)sul;
    if (t < F.send_until) {
        for (int i = 0; i < F.nclients; i++) {
            client *c = &F.clients[i];
            if (c->state != 1 || c->want_write || t < c->next_send)
                continue;
            c->next_send += c->interval;
            if (c->next_send < t - 1.0)
                c->next_send = t;   /* fell far behind: do not burst to catch up */
            c->want_write = 1;
            lws_callback_on_writable(c->wsi);
        }
    }
    lws_sul_schedule(F.ctx, 0, &F.tick, on_tick, TICK_US);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double q)
{
    size_t i;

    if (!F.lat_count)
        return 0;
    i = (size_t)ceil(q * (double)F.lat_count);
    return F.lat[i ? i - 1 : 0];
}

static unsigned long long unanswered(void)
{
    unsigned long long n = 0;

    for (int i = 0; i < F.nclients; i++)
        n += F.clients[i].in_count;
    return n;
}

static void report(double elapsed)
{
    double send_s = F.seconds;

    qsort(F.lat, F.lat_count, sizeof *F.lat, cmp_double);
    if (F.json) {
        printf("{\"clients\":%d,\"rate\":%.1f,\"seconds\":%.1f,\"opened\":%u,\"failed\":%u,\"closed_early\":%u,"
               "\"sent\":%llu,\"acked\":%llu,\"errors\":%llu,\"acked_per_s\":%.1f,"
               "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"codes\":{",
               F.nclients, F.rate, F.seconds, F.opened, F.failed, F.closed_early, F.sent, F.acked, F.errors,
               F.acked / send_s, pct(0.5), pct(0.9), pct(0.99), F.lat_count ? F.lat[F.lat_count - 1] : 0.0);
        for (int i = 0; i < F.ncodes; i++)
            printf("%s\"%s\":%llu", i ? "," : "", F.codes[i].code, F.codes[i].n);
        printf("}}\n");
        return;
    }
    printf(PROG ": %d clients, %.0f comments/s in all, %.0f s (ran %.1f s)\n", F.nclients, F.rate, F.seconds, elapsed);
    printf("connections: %u opened, %u failed, %u closed early\n", F.opened, F.failed, F.closed_early);
    printf("sent %llu, acked %llu (%.1f/s), errors %llu, unanswered %llu\n", F.sent, F.acked, F.acked / send_s,
           F.errors, unanswered());
    for (int i = 0; i < F.ncodes; i++)
        printf("  error %-22s %llu\n", F.codes[i].code, F.codes[i].n);
    printf("ack latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (%zu samples)\n", pct(0.5), pct(0.9), pct(0.99),
           F.lat_count ? F.lat[F.lat_count - 1] : 0.0, F.lat_count);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " URL [--clients N] [--rate PER_SECOND] [--seconds S] [--demo] [--origin O] [--json]\n"
               "\n"
               "Plays a simulated audience against a live screening (danmaku --listen).\n"
               "URL is ws://HOST:PORT/ws (or the page's http://HOST:PORT/).\n"
               "  --clients N        audience members, one WebSocket each (default 10)\n"
               "  --rate R           comments per second, all clients together (default 10)\n"
               "  --seconds S        how long to send (default 10)\n"
               "  --demo             friendly comments in Chinese, Japanese, Korean, emoji, English...\n"
               "  --origin ORIGIN    send this Origin header (default: none, like a native app)\n"
               "  --json             print the figures as one JSON object\n"
               "  -h, --help         this help\n"
               "  --version          the versions of " PROG " and of the libraries it runs with\n");
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "clients", required_argument, NULL, 'c' }, { "rate", required_argument, NULL, 'r' },
        { "seconds", required_argument, NULL, 's' }, { "demo", no_argument, NULL, 'd' },
        { "origin", required_argument, NULL, 'o' }, { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
    };
    struct lws_context_creation_info info;
    char url[512], *end;
    const char *prot, *ads, *path;
    int opt;
    double t0;

    F.nclients = 10;
    F.rate = 10;
    F.seconds = 10;
    opterr = 0;   /* one line of ours instead of getopt's and the whole usage */
    for (;;) {
        opt = getopt_long(argc, argv, "h", longopts, NULL);
        if (opt == -1)
            break;
        switch (opt) {
        case 'c': F.nclients = (int)strtol(optarg, &end, 10); if (*end || F.nclients < 1 || F.nclients > 100000) goto bad; break;
        case 'r': F.rate = strtod(optarg, &end); if (*end || !(F.rate > 0) || F.rate > 1e7) goto bad; break;
        case 's': F.seconds = strtod(optarg, &end); if (*end || !(F.seconds > 0) || F.seconds > 86400) goto bad; break;
        case 'd': F.demo = 1; break;
        case 'o': F.origin = optarg; break;
        case 'j': F.json = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': dm_print_version(stdout, "danmaku-flood"); return 0;
        default:
            fprintf(stderr, "danmaku-flood: unknown option %s (see danmaku-flood --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    snprintf(url, sizeof url, "%s", argv[optind]);
    if (lws_parse_uri(url, &prot, &ads, &F.port, &path) || (strcmp(prot, "ws") && strcmp(prot, "http"))) {
        fprintf(stderr, PROG ": '%s' is not a ws:// or http:// URL\n", argv[optind]);
        return 2;
    }
    snprintf(F.address, sizeof F.address, "%s", ads);
    /* lws_parse_uri drops the leading slash; the page's URL means its /ws */
    while (*path == '/')
        path++;
    snprintf(F.path, sizeof F.path, "/%s", *path ? path : "ws");
    snprintf(F.host, sizeof F.host, "%s:%d", F.address, F.port);
    F.lat_cap = (size_t)fmin((double)MAX_LATENCIES, F.rate * F.seconds * 1.2 + 1024);
    F.lat = malloc(F.lat_cap * sizeof *F.lat);
    F.clients = calloc((size_t)F.nclients, sizeof *F.clients);
    if (!F.lat || !F.clients) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    F.rng = (unsigned)time(NULL);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.fd_limit_per_thread = (unsigned)F.nclients + 64;
    info.connect_timeout_secs = 20;
    F.ctx = lws_create_context(&info);
    if (!F.ctx) {
        fprintf(stderr, PROG ": cannot start libwebsockets (too many clients for the fd limit?)\n");
        return 1;
    }
    for (int i = 0; i < F.nclients; i++) {
        F.clients[i].index = i;
        F.clients[i].interval = F.nclients / F.rate;
        connect_client(&F.clients[i]);
    }
    /* wait for the connections (at most 30 s), then send */
    t0 = now_s();
    while (!interrupted && F.opened + F.failed < (unsigned)F.nclients && now_s() - t0 < 30)
        lws_service(F.ctx, 0);
    if (F.opened == 0) {
        fprintf(stderr, PROG ": no client could connect to %s\n", argv[optind]);
        lws_context_destroy(F.ctx);
        return 1;
    }
    F.start = now_s();
    F.send_until = F.start + F.seconds;
    F.stop_at = F.send_until + 5.0;   /* time for the last acks */
    for (int i = 0; i < F.nclients; i++)   /* spread the clients over one interval */
        F.clients[i].next_send = F.start + F.clients[i].interval * i / F.nclients;
    lws_sul_schedule(F.ctx, 0, &F.tick, on_tick, TICK_US);
    while (!interrupted) {
        unsigned long long pending = 0;
        double t;
        lws_service(F.ctx, 0);
        t = now_s();
        if (t < F.send_until)
            continue;
        for (int i = 0; i < F.nclients; i++)
            pending += F.clients[i].state == 1 ? F.clients[i].in_count : 0;
        if (!pending || t > F.stop_at)
            break;
    }
    report(now_s() - F.start);
    lws_context_destroy(F.ctx);
    free(F.lat);
    free(F.clients);
    return F.opened ? 0 : 1;
bad:
    fprintf(stderr, PROG ": bad value '%s' (--clients 1..100000, --rate and --seconds positive)\n", optarg);
    return 2;
}
