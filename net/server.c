/*
 * server.c - the live feed's lifecycle: dm_net_start loads the pages, opens
 * the recording, binds the port and starts the service thread (the
 * libwebsockets one, ws.c); dm_net_halt stops taking comments; dm_net_stop
 * closes the recording and frees everything. The render thread's calls
 * (film time, drains, statistics) go to the feed (feed.c), the only state
 * shared across threads; server.h lists the files and what each does.
 */
#define _GNU_SOURCE   /* pthread_setname_np: the threads are named for top, gdb and the tests */
#include "server.h"

#include <errno.h>
#include <math.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#ifdef DM_NET_LIBEV
#include <ev.h>
#endif

#define FD_RESERVE 48              /* descriptors besides the feed's: the film, fonts, the recording, stdio... */
#define HANDSHAKE_ROOM 16          /* the feed's descriptors beyond its connection cap: pages, refusals */
#define EMFILE_PAUSE_US 100000     /* out of descriptors anyway: accepting waits this long before it tries again */

static const struct lws_protocols protocols[] = {
    { "danmaku", dm_ws_callback, sizeof(conn), 4096, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void *service_main(void *ud)
{
    dm_net *n = ud;

#ifdef DM_NET_LIBEV
    if (n->loop) {
        /* ends when the stop callback breaks the loop (LWS_CALLBACK_EVENT_WAIT_CANCELLED) */
        ev_run(n->loop, 0);
        return NULL;
    }
#endif
    while (!atomic_load(&n->stop))
        if (lws_service(n->ctx, 0) < 0)
            break;
    return NULL;
}

/* The recorder's thread wrote comments: the service thread acks them (lws_cancel_service is safe from any thread). */
void dm_net_recorded(void *ud)
{
    dm_net *n = ud;

    pthread_mutex_lock(&n->wake_lock);
    if (n->ctx_live)
        lws_cancel_service(n->ctx);
    pthread_mutex_unlock(&n->wake_lock);
}

static int load_file(const char *dir, web_file *f, char *err, size_t errlen)
{
    char path[4096];
    FILE *fp;
    long sz;

    snprintf(path, sizeof path, "%s/%s", dir, f->name);
    fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "cannot read the audience page %s: %s", path, strerror(errno));
        return DM_EIO;
    }
    sz = fseek(fp, 0, SEEK_END) ? -1 : ftell(fp);
    if (sz < 0 || sz > 1 << 20 || fseek(fp, 0, SEEK_SET)) {
        fclose(fp);
        snprintf(err, errlen, "cannot read the audience page %s", path);
        return DM_EIO;
    }
    f->data = malloc((size_t)sz + 1);
    if (!f->data || fread(f->data, 1, (size_t)sz, fp) != (size_t)sz) {
        fclose(fp);
        snprintf(err, errlen, "cannot read the audience page %s", path);
        return DM_EIO;
    }
    f->len = (size_t)sz;
    fclose(fp);
    return 0;
}

/*
 * libwebsockets' log lines (stderr with --verbose). One matters: when
 * accept() fails for want of descriptors (EMFILE, ENFILE) lws logs it and
 * tries again at once, a busy loop while the listening socket stays
 * readable. The socket budget (fit_fd_limit, ws.c) keeps the feed from
 * getting there; should the rest of the process use up the reserve anyway,
 * the service thread pauses a moment each time instead of spinning.
 */
static atomic_int lws_verbose;

static void lws_log_line(int level, const char *line)
{
    (void)level;
    if (strstr(line, "accept: Too many open files"))
        usleep(EMFILE_PAUSE_US);
    if (atomic_load(&lws_verbose))
        fputs(line, stderr);
}

/*
 * The descriptors the feed may use: its connection cap, HANDSHAKE_ROOM for
 * pages and refusals, and FD_RESERVE for the rest of the process (lws's
 * own, the film, fonts, the recording). The soft limit is raised to that
 * (up to the hard limit); if that is not enough, the cap is lowered to what
 * fits, with a warning. The feed then holds at most sock_budget sockets at
 * once: beyond them a new connection is closed as soon as it is accepted
 * (ws.c), so accept() never meets EMFILE. 0, or DM_EINVAL with err when too
 * few descriptors are left for a live feed at all.
 */
static int fit_fd_limit(dm_net *n, char *err, size_t errlen)
{
    rlim_t need = (rlim_t)n->opts.max_connections + HANDSHAKE_ROOM + FD_RESERVE;
    struct rlimit rl;

    n->sock_budget = n->opts.max_connections + HANDSHAKE_ROOM;
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return 0;
    {
        struct rlimit want = rl;
        want.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        if (!setrlimit(RLIMIT_NOFILE, &want))
            rl = want;
    }
    if (rl.rlim_cur < need) {
        long cap = (long)rl.rlim_cur - HANDSHAKE_ROOM - FD_RESERVE;
        if (cap < 8) {
            snprintf(err, errlen, "only %llu file descriptors are allowed (ulimit -n): a live feed needs at least %d",
                     (unsigned long long)rl.rlim_cur, 8 + HANDSHAKE_ROOM + FD_RESERVE);
            return DM_EINVAL;
        }
        fprintf(stderr, "danmaku: only %llu file descriptors are allowed (ulimit -n, hard limit %llu): the live "
                        "feed takes at most %ld connections instead of %d\n",
                (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, cap, n->opts.max_connections);
        n->opts.max_connections = (int)cap;
        n->sock_budget = (int)cap + HANDSHAKE_ROOM;
    }
    return 0;
}

const char *const dm_net_page_langs[] = { "en", "zh-CN", "zh-TW", "ja", "ko" };
const size_t dm_net_page_lang_count = sizeof dm_net_page_langs / sizeof dm_net_page_langs[0];

int dm_net_url_origin(const char *url, char *out, size_t outlen)
{
    const char *sep = strstr(url, "://"), *end = sep ? strchr(sep + 3, '/') : NULL;
    size_t len = sep ? (end ? (size_t)(end - url) : strlen(url)) : 0;

    if (!sep || sep == url || !sep[3] || len >= outlen)
        return -1;
    snprintf(out, outlen, "%.*s", (int)len, url);
    return 0;
}

/* The --peer gateways: their origins (allowed here) and their WebSockets (in screening.json). */
static int check_peers(dm_net *n, const dm_net_opts *opts, char *err, size_t errlen)
{
    for (int i = 0; i < opts->peer_count; i++) {
        const char *u = opts->peers[i];
        if ((strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) ||
            dm_net_url_origin(u, n->peer_origins[i], sizeof n->peer_origins[i])) {
            snprintf(err, errlen, "--peer wants another gateway's page address, http://HOST:PORT/, got '%s'", u);
            return DM_EINVAL;
        }
    }
    return 0;
}

/*
 * /screening.json: what the pages need before anything else (docs/protocol.md,
 * "screening.json"): the screening's title, the film when one plays, the
 * language to fall back on, the languages there are and the text caps.
 */
static int make_screening(dm_net *n, const dm_net_opts *opts, web_file *f)
{
    cJSON *o = cJSON_CreateObject(), *langs, *caps;

    *f = (web_file){ "/screening.json", NULL, "application/json; charset=utf-8", NULL, 0 };
    if (!o)
        return DM_ENOMEM;
    cJSON_AddStringToObject(o, "title", opts->title ? opts->title : "");
    cJSON_AddStringToObject(o, "film", opts->film ? opts->film : "");
    cJSON_AddStringToObject(o, "lang", opts->page_lang ? opts->page_lang : "en");
    langs = cJSON_AddArrayToObject(o, "languages");
    for (size_t i = 0; langs && i < dm_net_page_lang_count; i++)
        cJSON_AddItemToArray(langs, cJSON_CreateString(dm_net_page_langs[i]));
    if (n->opts.peer_count) {
        /* where the page goes when this gateway goes away (docs/scale.md) */
        cJSON *g = cJSON_AddArrayToObject(o, "gateways");
        for (int i = 0; g && i < n->opts.peer_count; i++) {
            char ws[300];
            const char *origin = n->peer_origins[i];
            snprintf(ws, sizeof ws, "%s%s/ws", !strncmp(origin, "https://", 8) ? "wss://" : "ws://",
                     strstr(origin, "://") + 3);
            cJSON_AddItemToArray(g, cJSON_CreateString(ws));
        }
    }
    caps = cJSON_AddObjectToObject(o, "caps");
    if (caps) {
        cJSON_AddNumberToObject(caps, "code_points", n->opts.limits.max_chars);
        cJSON_AddNumberToObject(caps, "graphemes", n->opts.limits.max_graphemes);
    }
    f->data = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!f->data)
        return DM_ENOMEM;
    f->len = strlen(f->data);
    return 0;
}

static int load_pages(dm_net *n, const dm_net_opts *opts, char *err, size_t errlen)
{
    static const char *const i18n[] = { "i18n/en.json", "i18n/zh-CN.json", "i18n/zh-TW.json", "i18n/ja.json",
                                        "i18n/ko.json" };
    static const char *const i18n_paths[] = { "/i18n/en.json", "/i18n/zh-CN.json", "/i18n/zh-TW.json",
                                              "/i18n/ja.json", "/i18n/ko.json" };
    const char *dir = opts->web_dir;
    int e, host_count = opts->vendor_dir ? DM_HOST_FILES : DM_HOST_FILES - 2;

    _Static_assert(sizeof i18n / sizeof i18n[0] == sizeof dm_net_page_langs / sizeof dm_net_page_langs[0],
                   "one translation per language");
    _Static_assert(4 + sizeof i18n / sizeof i18n[0] + 1 == DM_WEB_FILES, "DM_WEB_FILES");
    n->files[0] = (web_file){ "/", "index.html", "text/html; charset=utf-8", NULL, 0 };
    n->files[1] = (web_file){ "/app.js", "app.js", "text/javascript; charset=utf-8", NULL, 0 };
    n->files[2] = (web_file){ "/app.css", "app.css", "text/css; charset=utf-8", NULL, 0 };
    n->files[3] = (web_file){ "/i18n.js", "i18n.js", "text/javascript; charset=utf-8", NULL, 0 };
    for (size_t i = 0; i < sizeof i18n / sizeof i18n[0]; i++)
        n->files[4 + i] = (web_file){ i18n_paths[i], i18n[i], "application/json; charset=utf-8", NULL, 0 };
    n->host_files[0] = (web_file){ "/host", "host.html", "text/html; charset=utf-8", NULL, 0 };
    n->host_files[1] = (web_file){ "/host/host.js", "host.js", "text/javascript; charset=utf-8", NULL, 0 };
    n->host_files[2] = (web_file){ "/host/host.css", "host.css", "text/css; charset=utf-8", NULL, 0 };
    n->host_files[3] = (web_file){ "/host/login", "host-login.html", "text/html; charset=utf-8", NULL, 0 };
    n->host_files[4] = (web_file){ "/host/vendor/uPlot.iife.min.js", "uPlot.iife.min.js",
                                   "text/javascript; charset=utf-8", NULL, 0 };
    n->host_files[5] = (web_file){ "/host/vendor/uPlot.min.css", "uPlot.min.css", "text/css; charset=utf-8", NULL, 0 };
    for (int i = 0; i < DM_WEB_FILES - 1; i++)
        if ((e = load_file(dir, &n->files[i], err, errlen)))
            return e;
    if ((e = make_screening(n, opts, &n->files[DM_WEB_FILES - 1]))) {
        snprintf(err, errlen, "out of memory");
        return e;
    }
    for (int i = 0; i < host_count; i++)
        if ((e = load_file(i < 4 ? dir : opts->vendor_dir, &n->host_files[i], err, errlen)))
            return e;
    return 0;
}

int dm_net_start(dm_net **out, const dm_net_opts *opts, char *err, size_t errlen)
{
    struct lws_context_creation_info info;
    dm_net *n;
    int e = DM_EINVAL;

    *out = NULL;
    if (opts->port < 0 || opts->port > 65535 || opts->queue_cap <= 0 || opts->rate_per_s <= 0 ||
        opts->burst < 1 || opts->max_per_address < 1 || opts->max_connections < 1 || opts->idle_ping_s < 1 ||
        opts->idle_hangup_s <= opts->idle_ping_s || opts->allow_origin_count < 0 ||
        opts->allow_origin_count > DM_NET_MAX_ORIGINS) {
        snprintf(err, errlen, "invalid live feed settings");
        return DM_EINVAL;
    }
    n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return DM_ENOMEM;
    }
    n->opts = *opts;
    pthread_mutex_init(&n->wake_lock, NULL);
    pthread_mutex_init(&n->prog_lock, NULL);
    pthread_mutex_init(&n->bus_lock, NULL);
    n->prog_now = -1;
    atomic_init(&n->pause_request, -1);
    n->session = (long long)time(NULL);
    n->salt = (uint32_t)(2166136261u ^ (uint32_t)n->session ^ (uint32_t)(dm_now() * 1e6));
    n->feed = dm_feed_new((size_t)opts->queue_cap, opts->wake, opts->wake_ud);
    n->mod = dm_mod_new();
    n->auth = dm_host_auth_new(opts->host_token);
    n->log = dm_host_log_new(HOST_LOG_CAP);
    n->awaiting = calloc(DM_RECORDER_INFLIGHT_CAP, sizeof *n->awaiting);
    if (!n->feed || !n->mod || !n->auth || !n->log || !n->awaiting) {
        e = DM_ENOMEM;
        snprintf(err, errlen, "out of memory (or no randomness for the host token)");
        goto error;
    }
    e = check_peers(n, opts, err, errlen);
    if (!e)
        e = load_pages(n, opts, err, errlen);
    if (e)
        goto error;
    /* the pages are in memory now; the caller's strings may go */
    n->opts.web_dir = n->opts.vendor_dir = n->opts.page_lang = n->opts.title = n->opts.film = NULL;
    if (opts->moderation_path) {
        e = dm_mod_load_file(n->mod, opts->moderation_path, err, errlen);
        if (e)
            goto error;
        atomic_store(&n->feed_paused, dm_mod_paused(n->mod));
    }
    if (opts->bus_url) {
        n->session = ((long long)time(NULL) << 16) | (n->salt & 0xFFFF);   /* ids unique across gateways */
        e = dm_net_bus_start(n, opts, err, errlen);
        if (e)
            goto error;
    } else if (opts->record_path || opts->record_night) {
        e = dm_recorder_open(&n->rec, opts->record_path, n->session, n->feed, dm_net_recorded, n, err, errlen);
        if (e)
            goto error;
    }
    n->opts.record_path = NULL;
    e = fit_fd_limit(n, err, errlen);
    if (e)
        goto error;
    atomic_store(&lws_verbose, opts->verbose != 0);
    lws_set_log_level(opts->verbose ? LLL_ERR | LLL_WARN : LLL_ERR, lws_log_line);
    memset(&info, 0, sizeof info);
    info.port = opts->port;
    info.iface = opts->addr;
    info.protocols = protocols;
    info.user = n;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
                   LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 10;
    /* room for requests a little over http.c's caps, so they get 414/431 rather than a bare close */
    info.max_http_header_data = 16384;
    info.keepalive_timeout = 10;
    info.count_threads = 1;
#ifdef DM_NET_LIBEV
    void *foreign_loops[1];
    n->loop = ev_loop_new(EVFLAG_AUTO);
    if (n->loop) {
        foreign_loops[0] = n->loop;
        info.foreign_loops = foreign_loops;
        info.options |= LWS_SERVER_OPTION_LIBEV;
    }
#endif
    n->ctx = lws_create_context(&info);
    if (!n->ctx) {
        snprintf(err, errlen, "cannot listen on %s:%d (port in use, or no such address)",
                 opts->addr ? opts->addr : "*", opts->port);
        e = DM_EIO;
        goto error;
    }
    pthread_mutex_lock(&n->wake_lock);
    n->ctx_live = 1;
    pthread_mutex_unlock(&n->wake_lock);
    n->vhost = lws_get_vhost_by_name(n->ctx, "default");
    n->port = n->vhost ? lws_get_vhost_listen_port(n->vhost) : opts->port;
    if (opts->public_url) {
        snprintf(n->join_url, sizeof n->join_url, "%s", opts->public_url);
        if (dm_net_url_origin(opts->public_url, n->public_origin, sizeof n->public_origin))
            n->public_origin[0] = 0;
    } else if (opts->addr && *opts->addr && strcmp(opts->addr, "0.0.0.0") && strcmp(opts->addr, "::") &&
               strcmp(opts->addr, "*")) {
        /* listening on one address: that is where phones can reach it (not the LAN's) */
        snprintf(n->join_url, sizeof n->join_url, strchr(opts->addr, ':') ? "http://[%s]:%d/" : "http://%s:%d/",
                 opts->addr, n->port);
    } else
        dm_net_lan_url(n->port, n->join_url, sizeof n->join_url);
    n->opts.public_url = NULL;
    if (pthread_create(&n->thread, NULL, service_main, n)) {
        snprintf(err, errlen, "cannot start the network thread");
        e = DM_ENOMEM;
        goto error;
    }
    pthread_setname_np(n->thread, "dm-net");
    n->thread_started = 1;
    *out = n;
    return 0;
error:
    dm_net_stop(&n);
    return e;
}

void dm_net_halt(dm_net *n)
{
    if (n->thread_started) {
        atomic_store(&n->stop, 1);
        lws_cancel_service(n->ctx);
        pthread_join(n->thread, NULL);
        n->thread_started = 0;
    }
    pthread_mutex_lock(&n->wake_lock);
    n->ctx_live = 0;
    pthread_mutex_unlock(&n->wake_lock);
    if (n->ctx)
        lws_context_destroy(n->ctx);
    n->ctx = NULL;
#ifdef DM_NET_LIBEV
    if (n->loop)
        ev_loop_destroy(n->loop);
    n->loop = NULL;
#endif
    /* comments accepted before the halt are in the queue once this returns; the recording stays open */
    if (n->rec)
        dm_recorder_sync(n->rec);
    dm_net_bus_halt(n);   /* a player takes the stream's last comments; no more callbacks after this */
}

int dm_net_close_recording(dm_net *n, char *err, size_t errlen)
{
    int e = dm_net_bus_close_recording(n, err, errlen);   /* a player's --record beside the bus */
    size_t used = e ? strlen(err) : 0;
    int e2 = n->rec ? dm_recorder_close(&n->rec, err + used, errlen - used) : 0;

    return e ? e : e2;
}

void dm_net_stop(dm_net **pn)
{
    dm_net *n = *pn;
    char err[512];

    if (!n)
        return;
    dm_net_halt(n);
    if (dm_net_close_recording(n, err, sizeof err))
        fprintf(stderr, "danmaku: %s\n", err);
    dm_net_bus_close(n);
    free(n->bus_settings_pending);
    free(n->bus_settings_seen);
    for (int i = 0; i < n->bus_put_count; i++)
        free(n->bus_settings_put[(n->bus_put_head + i) % 16]);
    pthread_mutex_destroy(&n->bus_lock);
    dm_accept_free(n);
    dm_feed_free(&n->feed);
    for (int i = 0; i < DM_WEB_FILES; i++)
        free(n->files[i].data);
    for (int i = 0; i < DM_HOST_FILES; i++)
        free(n->host_files[i].data);
    dm_mod_free(&n->mod);
    dm_host_auth_free(&n->auth);
    dm_host_log_free(&n->log);
    free(n->addrs);
    pthread_mutex_destroy(&n->wake_lock);
    free(n->prog_json);
    pthread_mutex_destroy(&n->prog_lock);
    free(n);
    *pn = NULL;
}

int dm_net_port(const dm_net *n)
{
    return n->port;
}

const char *dm_net_join_url(const dm_net *n)
{
    return n->join_url;
}

const char *dm_net_host_token(const dm_net *n)
{
    return dm_host_auth_token(n->auth);
}

void dm_net_record_deletes(dm_net *n, const char *const *ids, size_t count)
{
    if (n->bus_rec && count)
        dm_recorder_deletes(n->bus_rec, ids, count);   /* the player's clear, beside the bus */
    else if (n->rec && count)
        dm_recorder_deletes(n->rec, ids, count);
}

void dm_net_set_film_time(dm_net *n, int64_t t_ms, int paused)
{
    /* a paused film's time stands still: the stamp follows it (`paused` is for the bus's clock) */
    dm_feed_set_film_time(n->feed, t_ms);
    atomic_store(&n->bus_paused, paused != 0);
    dm_net_bus_clock(n);
}

void dm_net_stamp_floor(dm_net *n, int *pass, int64_t *t_ms)
{
    dm_feed_stamp_floor(n->feed, pass, t_ms);
}

size_t dm_net_drain(dm_net *n, dm_net_comment *out, size_t cap)
{
    return dm_feed_drain(n->feed, out, cap);
}

size_t dm_net_drain_control(dm_net *n, dm_net_control *out, size_t cap)
{
    return dm_feed_drain_control(n->feed, out, cap);
}

uint64_t dm_net_control_barrier(dm_net *n)
{
    return dm_feed_control_barrier(n->feed);
}

void dm_net_set_screen_stats(dm_net *n, uint64_t on_screen, uint64_t dropped)
{
    dm_feed_set_screen_stats(n->feed, on_screen, dropped);
}

void dm_net_get_stats(dm_net *n, dm_net_stats *st)
{
    dm_feed_view v;

    dm_feed_get(n->feed, &v);
    *st = v.stats;
    if (n->bus) {
        dm_bus_counts(n->bus, &st->bus_published, &st->bus_failed, &st->bus_connected);
        st->bus_bad = atomic_load(&n->bus_bad);
        st->bus_other_venue = atomic_load(&n->bus_other_venue);
    }
    if (n->bus_rec || (!n->bus && n->rec)) {
        dm_record_status rs;
        dm_recorder_status(n->bus_rec ? n->bus_rec : n->rec, &rs);
        st->record_error = rs.error;
        st->record_refused = rs.refused;
        st->record_lost_deletes = rs.lost_deletes;
    }
    st->intermission = atomic_load(&n->intermission_refused);
}

void dm_net_request_feed_paused(dm_net *n, int paused)
{
    atomic_store(&n->pause_request, paused ? 1 : 0);
    pthread_mutex_lock(&n->wake_lock);
    if (n->ctx_live)
        lws_cancel_service(n->ctx);
    pthread_mutex_unlock(&n->wake_lock);
}

int dm_net_feed_paused(dm_net *n)
{
    return atomic_load(&n->feed_paused);
}

/* ---------------------------------------------------------------- a night of films */

static void wake_service(dm_net *n)
{
    pthread_mutex_lock(&n->wake_lock);
    if (n->ctx_live)
        lws_cancel_service(n->ctx);
    pthread_mutex_unlock(&n->wake_lock);
}

static cJSON *entry_json(const dm_net_programme *p, int i)
{
    cJSON *e = cJSON_CreateObject();

    if (!e)
        return NULL;
    cJSON_AddNumberToObject(e, "index", i);
    cJSON_AddStringToObject(e, "title", p->titles && p->titles[i] ? p->titles[i] : "");
    if (p->credits && p->credits[i])
        cJSON_AddStringToObject(e, "credits", p->credits[i]);
    cJSON_AddBoolToObject(e, "aigc", p->aigc && p->aigc[i]);
    return e;
}

int dm_net_set_programme(dm_net *n, const dm_net_programme *p)
{
    cJSON *o = cJSON_CreateObject(), *arr;
    int now = p->now >= 0 && (size_t)p->now < p->count ? p->now : -1, news;
    int next = now >= 0 && (size_t)now + 1 < p->count ? now + 1 : -1;
    char *js;

    if (!o)
        return DM_ENOMEM;
    cJSON_AddStringToObject(o, "type", "programme");
    if (p->night)
        cJSON_AddStringToObject(o, "night", p->night);
    arr = cJSON_AddArrayToObject(o, "entries");
    for (size_t i = 0; arr && i < p->count; i++)
        cJSON_AddItemToArray(arr, entry_json(p, (int)i));
    cJSON_AddNumberToObject(o, "now", now);
    /* in an intermission `now` is the film coming; "next" is always the one after it */
    cJSON_AddNumberToObject(o, "next", next);
    cJSON_AddStringToObject(o, "state", p->intermission ? "intermission" : "film");
    cJSON_AddNumberToObject(o, "intermission_left_s", p->intermission ? floor(p->intermission_left_s * 10 + 0.5) / 10 : 0);
    cJSON_AddNumberToObject(o, "film_s", floor(p->film_s * 1000 + 0.5) / 1000);
    cJSON_AddNumberToObject(o, "duration_s", floor(p->duration_s * 1000 + 0.5) / 1000);
    cJSON_AddBoolToObject(o, "paused", p->paused);
    cJSON_AddNumberToObject(o, "volume", p->volume);
    cJSON_AddNumberToObject(o, "last_comments", (double)p->last_comments);
    js = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!js)
        return DM_ENOMEM;
    pthread_mutex_lock(&n->prog_lock);
    news = !n->prog_json || now != n->prog_now || !!p->intermission != n->prog_break || !!p->paused != n->prog_paused;
    /* the countdown made longer or shorter (not just running): the page counts down from the new one */
    if (p->intermission && n->prog_break &&
        fabs(p->intermission_left_s - (n->prog_break_left - (dm_now() - n->prog_break_at))) > 1.5)
        news = 1;
    free(n->prog_json);
    n->prog_json = js;
    n->prog_now = now;
    n->prog_break = !!p->intermission;
    n->prog_paused = !!p->paused;
    n->prog_count = p->count;
    n->prog_break_left = p->intermission ? p->intermission_left_s : 0;
    n->prog_break_at = dm_now();
    snprintf(n->prog_next_title, sizeof n->prog_next_title, "%s",
             now >= 0 && p->titles && p->titles[now] ? p->titles[now] : "");
    pthread_mutex_unlock(&n->prog_lock);
    if (news) {
        atomic_store(&n->prog_news, 1);
        wake_service(n);
    }
    return 0;
}

char *dm_net_programme_json(dm_net *n)
{
    char *js;

    pthread_mutex_lock(&n->prog_lock);
    js = n->prog_json ? strdup(n->prog_json) : NULL;
    pthread_mutex_unlock(&n->prog_lock);
    return js;
}

size_t dm_net_programme_count(dm_net *n)
{
    size_t c;

    pthread_mutex_lock(&n->prog_lock);
    c = n->prog_count;
    pthread_mutex_unlock(&n->prog_lock);
    return c;
}

/* The intermission's refusal: which film comes and about when. */
void dm_net_intermission_says(dm_net *n, char *buf, size_t len)
{
    double left;
    char title[160];

    pthread_mutex_lock(&n->prog_lock);
    left = n->prog_break ? n->prog_break_left - (dm_now() - n->prog_break_at) : -1;
    snprintf(title, sizeof title, "%s", n->prog_next_title);
    pthread_mutex_unlock(&n->prog_lock);
    if (left > 0 && title[0])
        snprintf(buf, len, "Intermission: comments open again when %s starts, in about %.0f s.", title, ceil(left));
    else if (title[0])
        snprintf(buf, len, "Intermission: comments open again when %s starts.", title);
    else
        snprintf(buf, len, "%s", dm_net_err_message(DM_NET_INTERMISSION));
}

void dm_net_set_intake(dm_net *n, int open)
{
    dm_feed_set_intake(n->feed, open);
}

int dm_net_intake_settled(dm_net *n)
{
    /* a comment's place is held until its line is written (or refused): none held, all are queued */
    return dm_feed_intake_settled(n->feed);
}

int dm_net_new_film(dm_net *n, const char *record_path, char *err, size_t errlen)
{
    if (dm_feed_new_film(n->feed)) {
        snprintf(err, errlen, "a new film only while the intake is closed and settled");
        return DM_EINVAL;
    }
    if (record_path && !record_path[0])
        record_path = NULL;
    if (!n->rec) {
        if (!record_path)
            return 0;
        snprintf(err, errlen, "cannot record %s: the live feed was started without a recording", record_path);
        return DM_EINVAL;
    }
    return dm_recorder_reopen(n->rec, record_path, n->session, err, errlen);
}
