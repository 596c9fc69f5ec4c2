/*
 * live.c - a live screening in the player: the bridge between the live feed's
 * queue (dm_net, service thread) and the film's scene (main thread).
 *
 * Live comments are appended to the scene in arrival order, which is
 * recording order: film times only grow within a pass, and each backward
 * seek starts the next one. The scene lays out its tracks' comments up to
 * the stamp floor (dm_net_stamp_floor) and each live comment among them, so
 * the tracks followed by the recording replay with the very same lanes.
 */
#include "live.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_dir.h"
#include "dm_net.h"


#define DRAIN_BATCH 256        /* comments taken from the queue per call */
#define CONTROL_BATCH 64       /* host requests (delete, clear) taken per call */
#define QR_AUTO_SECONDS 60.0   /* the QR code shows this long after start */
#define FRAME_S (1.0 / 60.0)
#define PENDING_MAX 16384      /* comments per frame whose latency is counted */

enum { QR_AUTO = 0, QR_ON, QR_OFF };

struct dm_live {
    dm_net *net;
    player_options opt;        /* copy: the paths and switches used at exit */
    dm_text *text;             /* fonts, borrowed */
    uint64_t dropped;          /* live comments the layout could not show */
    int warm_font_px;          /* fonts are loaded for this comment height */
    atomic_int woken;          /* a wake event is pending in SDL's queue */
    /* QR code */
    uint8_t *qr;
    int qr_w;
    SDL_Texture *qr_tex;
    SDL_Texture *url_tex;
    int url_w, url_h;
    int qr_mode;
    double started;
    /* figures */
    uint64_t taken;            /* comments taken from the queue, ever */
    int64_t film_ms;           /* film time of the frame being drawn */
    struct {                   /* comments taken since the last present (the first PENDING_MAX) */
        double accepted;       /* when the server accepted it */
        double taken;          /* when the player took it */
        int drawn;             /* on screen in this frame (not delayed or dropped by the layout) */
    } pending[PENDING_MAX];
    size_t pending_count;
    dm_hist *to_screen;        /* acceptance to the present that first draws it */
    dm_hist *in_queue;         /* acceptance to the player taking it */
    dm_hist *to_placed;        /* every comment, drawn or not: acceptance to the present after its placement */
    double last_present;
    uint64_t frames, late_frames;
    /* the console's film controls */
    void (*film_fn)(void *ud, const dm_net_control *c);
    void *film_ud;
    /* the banner while the recording cannot be written */
    SDL_Texture *banner_tex;
    int banner_w, banner_h, banner_error;
    uint64_t banner_refused;
    double banner_at;
};

static Uint32 wake_event;

/* Service thread: nudge the main loop's event queue, once until it drains. */
static void wake_main(void *ud)
{
    dm_live *l = ud;
    SDL_Event e = { 0 };

    if (atomic_exchange(&l->woken, 1))
        return;
    e.type = wake_event;
    SDL_PushEvent(&e);
}

static int parse_listen(const char *s, char *addr, size_t addrlen, int *port)
{
    const char *colon = strrchr(s, ':');
    const char *p = colon ? colon + 1 : s;
    char *end;
    long v;

    errno = 0;
    v = strtol(p, &end, 10);
    if (!*p || *end || errno || v < 0 || v > 65535)
        return -1;
    *port = (int)v;
    addr[0] = 0;
    if (colon) {
        size_t n = (size_t)(colon - s);
        if (n >= addrlen)
            return -1;
        memcpy(addr, s, n);
        addr[n] = 0;
    }
    return 0;
}

int dm_live_start(dm_live **out, const player_options *o, dm_text *text)
{
    dm_net_opts no = DM_NET_OPTS_DEFAULT;
    dm_live *l;
    char addr[256], err[512] = "", web_dir[4096], vendor_dir[4200], first[4200] = "";

    *out = NULL;
    l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->opt = *o;
    l->text = text;
    l->to_screen = dm_hist_new();
    l->in_queue = dm_hist_new();
    l->to_placed = dm_hist_new();
    if (!l->to_screen || !l->in_queue || !l->to_placed) {
        fprintf(stderr, "danmaku: out of memory for the live feed\n");
        goto error;
    }
    if (parse_listen(o->listen, addr, sizeof addr, &no.port)) {
        fprintf(stderr, "danmaku: --listen wants [ADDR:]PORT (0-65535), got '%s'\n", o->listen);
        goto error;
    }
    if (!wake_event)
        wake_event = SDL_RegisterEvents(1);
    {
        const char *data = dm_data_dir(err, sizeof err);
        if (!data) {
            fprintf(stderr, "danmaku: %s\n", err);
            goto error;
        }
        snprintf(web_dir, sizeof web_dir, "%s/web", data);
        if (!dm_vendor_dir(vendor_dir, sizeof vendor_dir, err, sizeof err)) {
            fprintf(stderr, "danmaku: %s\n", err);
            goto error;
        }
    }
    no.addr = addr[0] ? addr : NULL;
    no.web_dir = web_dir;
    no.record_path = o->record;
    no.public_url = o->public_url;
    for (int i = 0; i < o->allow_origin_count && i < DM_NET_MAX_ORIGINS; i++)
        no.allow_origins[no.allow_origin_count++] = o->allow_origins[i];
    if (o->live_rate > 0)
        no.rate_per_s = o->live_rate;
    if (o->live_burst > 0)
        no.burst = o->live_burst;
    if (o->live_per_address > 0)
        no.max_per_address = o->live_per_address;
    if (o->live_max_connections > 0)
        no.max_connections = o->live_max_connections;
    if (o->live_idle > 0) {
        no.idle_ping_s = o->live_idle;
        no.idle_hangup_s = 2 * o->live_idle;
    }
    no.wake = wake_event != (Uint32)-1 ? wake_main : NULL;
    no.wake_ud = l;
    no.verbose = o->verbose;
    no.host_token = o->host_token;
    no.title = o->title ? o->title : o->prog.title;
    no.film = o->prog.count == 1 ? o->prog.entries[0].title : NULL;
    no.page_lang = o->page_lang;
    no.vendor_dir = vendor_dir;
    {
        /* a night: the first film's recording (its own, or derived from --record); a recorder
         * for the later films' even when the first one is not recorded */
        char path[4200];
        for (size_t i = 0; i < o->prog.count; i++) {
            dm_programme_file_for(&o->prog, i, o->record, o->prog.entries[i].record, path, sizeof path);
            if (i == 0)
                snprintf(first, sizeof first, "%s", path);
            if (path[0] && o->prog.count > 1)
                no.record_night = 1;
        }
        no.record_path = first[0] ? first : o->record;
    }
    no.moderation_path = o->moderation;
    no.bus_url = o->bus;
    no.screening = o->screening;
    no.bus_clock = o->bus_clock;
    no.venue = o->venue;
    no.venue_only = o->venue_only;
    no.bus_replicas = o->bus_replicas;
    no.bus_role = DM_NET_BUS_PLAYER;
    if (dm_net_start(&l->net, &no, err, sizeof err)) {
        fprintf(stderr, "danmaku: %s\n", err);
        goto error;
    }
    if (dm_net_qr(dm_net_join_url(l->net), &l->qr, &l->qr_w))
        fprintf(stderr, "danmaku: cannot make the QR code of %s\n", dm_net_join_url(l->net));
    l->started = dm_now();
    l->last_present = -1;
    *out = l;
    return 0;
error:
    dm_live_stop(&l);
    return -1;
}

void dm_live_announce(dm_live *l)
{
    const char *url;
    size_t ul;

    if (!l)
        return;
    url = dm_net_join_url(l->net);
    ul = strlen(url);
    /* before the "live on port" line, which scripts wait for */
    fprintf(stderr, "danmaku: host console: %s%shost  token: %s\n", url, ul && url[ul - 1] == '/' ? "" : "/",
            dm_net_host_token(l->net));
    fprintf(stderr, "danmaku: live on port %d, join at %s\n", dm_net_port(l->net), url);
}

void dm_live_stop(dm_live **pl)
{
    dm_live *l = *pl;

    if (!l)
        return;
    dm_net_stop(&l->net);
    if (l->qr_tex)
        SDL_DestroyTexture(l->qr_tex);
    if (l->banner_tex)
        SDL_DestroyTexture(l->banner_tex);
    if (l->url_tex)
        SDL_DestroyTexture(l->url_tex);
    free(l->qr);
    dm_hist_free(&l->to_screen);
    dm_hist_free(&l->in_queue);
    dm_hist_free(&l->to_placed);
    free(l);
    *pl = NULL;
}

/*
 * Load, before the audience writes, the fonts and sizes their comments will
 * need (fallback fonts are found and opened on first use, which takes
 * milliseconds): the first comment in each script then reaches the screen
 * as fast as the rest.
 */
static void warm_fonts(dm_live *l, const dm_layout_opts *layout)
{
    static const char sample[] = "Aa 前方高能 ここ好き 대박 Привет ¡Qué! 😂🎉";
    static const dm_size sizes[] = { DM_SIZE_SMALL, DM_SIZE_NORMAL, DM_SIZE_LARGE };

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int h = dm_layout_height_px(layout, sizes[i]), w;
        SDL_Surface *s;
        if (dm_text_measure(l->text, sample, h, &w, &h))
            continue;
        s = dm_text_render(l->text, sample, h, 0xFFFFFF, 0x000000, 1.0);
        SDL_FreeSurface(s);
    }
}

/* The ids a clear took off the screen, recorded with one flush. */
typedef struct clear_ids {
    const char **ids;
    size_t n, cap;
    size_t missed;             /* ids that found no room (out of memory) */
} clear_ids;

static void collect_id(void *ud, const dm_comment *c)
{
    clear_ids *ci = ud;

    if (!c->id)
        return;
    if (ci->n == ci->cap) {
        size_t cap = ci->cap ? ci->cap * 2 : 64;
        const char **v = realloc(ci->ids, cap * sizeof *v);
        if (!v) {
            ci->missed++;
            return;
        }
        ci->ids = v;
        ci->cap = cap;
    }
    ci->ids[ci->n++] = c->id;
}

/* A clear at t_ms; from_stream: the screening's stream asked for it (its clock player names what it took off). */
static long clear_screen(dm_live *l, dm_scene *scene, int64_t t_ms, int from_stream)
{
    clear_ids ci = { 0 };
    long n = dm_scene_clear(scene, t_ms, collect_id, &ci);

    if (ci.missed)
        fprintf(stderr, "danmaku: out of memory: %zu comments of the clear are not in the recording\n", ci.missed);
    if (ci.n)
        dm_net_record_deletes(l->net, ci.ids, ci.n);
    if (ci.n && from_stream)
        dm_net_stream_cleared(l->net, ci.ids, ci.n);
    free(ci.ids);
    return n < 0 ? -1 : n;
}

long dm_live_clear_screen(dm_live *l, dm_scene *scene, int64_t t_ms)
{
    return clear_screen(l, scene, t_ms, 0);
}

void dm_live_screen_stats(dm_live *l, size_t on_screen)
{
    dm_net_set_screen_stats(l->net, on_screen, l->dropped);
}

int dm_live_toggle_feed(dm_live *l)
{
    int paused = !dm_net_feed_paused(l->net);

    dm_net_request_feed_paused(l->net, paused);
    return paused;
}

static long take_upto(dm_live *l, uint64_t upto, dm_scene *scene);

int dm_live_drain(dm_live *l, dm_scene *scene, int64_t film_ms, int paused)
{
    dm_net_control ctl[CONTROL_BATCH];
    size_t nctl;
    int64_t floor_ms;
    int floor_pass;

    dm_net_set_film_time(l->net, film_ms, paused);
    l->film_ms = film_ms;
    /*
     * Host requests run in their place among the comments: each after the
     * comments queued before it (a delete then finds its comment in the
     * track) and before any later one (a clear never takes those off).
     * Requests left over wait for the next frame, and so do the comments
     * after them.
     */
    nctl = dm_net_drain_control(l->net, ctl, CONTROL_BATCH);
    for (size_t k = 0; k < nctl; k++) {
        if (take_upto(l, ctl[k].after, scene) < 0)
            return -1;
        if (ctl[k].kind == DM_NET_DELETE)
            dm_scene_delete(scene, ctl[k].id);
        else if (ctl[k].kind == DM_NET_CLEAR) {
            /* the stream's clear at its own moment, the same on every screen; a local one now */
            if (clear_screen(l, scene, ctl[k].entry ? (int64_t)ctl[k].value : film_ms, ctl[k].entry) < 0)
                return -1;
        } else if (l->film_fn)
            l->film_fn(l->film_ud, &ctl[k]);
        else
            fprintf(stderr, "danmaku: host: a film control does not apply here\n");
    }
    if (dm_live_take(l, scene) < 0)
        return -1;
    /* the tracks' comments up to where no live comment can come before them */
    dm_net_stamp_floor(l->net, &floor_pass, &floor_ms);
    if (dm_scene_advance(scene, floor_pass, floor_ms)) {
        fprintf(stderr, "danmaku: out of memory laying out the comments\n");
        return -1;
    }
    return 0;
}

long dm_live_take(dm_live *l, dm_scene *scene)
{
    /* the feed stops at a request still queued (one that came after this frame took its
     * requests, or more than a frame's batch): it runs first, next frame */
    return take_upto(l, UINT64_MAX, scene);
}

/* Take queued comments until `upto` have been taken in all (or the queue is empty). */
static long take_upto(dm_live *l, uint64_t upto, dm_scene *scene)
{
    dm_net_comment batch[DRAIN_BATCH];
    const dm_layout_opts *lo = dm_scene_layout_opts(scene);
    long appended = 0;

    atomic_store(&l->woken, 0);
    if (l->warm_font_px != lo->font_px) {
        warm_fonts(l, lo);
        l->warm_font_px = lo->font_px;
    }
    while (l->taken < upto) {
        size_t n = dm_net_drain(l->net, batch, upto - l->taken < DRAIN_BATCH ? (size_t)(upto - l->taken) : DRAIN_BATCH);
        double now = dm_now();
        int err = 0;

        if (n == 0)
            break;
        l->taken += n;
        for (size_t k = 0; k < n; k++) {
            size_t i;
            if (!err && dm_scene_append(scene, &batch[k].c, &i) == 0) {
                const dm_placed *pl = &dm_scene_placed(scene)[i];
                appended++;
                if (!pl->shown && pl->reason != DM_REASON_DELETED)
                    l->dropped++;
                if (l->pending_count < PENDING_MAX) {
                    l->pending[l->pending_count].accepted = batch[k].accepted_wall;
                    l->pending[l->pending_count].taken = now;
                    l->pending[l->pending_count++].drawn =
                        pl->shown && pl->start_ms <= l->film_ms && pl->end_ms > l->film_ms;
                }
            } else {
                err = -1;
            }
            dm_comment_free(&batch[k].c);
        }
        if (err) {
            fprintf(stderr, "danmaku: out of memory for live comments\n");
            return -1;
        }
    }
    return appended;
}

void dm_live_toggle_qr(dm_live *l)
{
    int shown = l->qr_mode == QR_ON || (l->qr_mode == QR_AUTO && dm_now() - l->started < QR_AUTO_SECONDS);
    l->qr_mode = shown ? QR_OFF : QR_ON;
}

static void make_qr_textures(dm_live *l, SDL_Renderer *r)
{
    const int quiet = 4;   /* the white margin scanners need */
    int w = l->qr_w + 2 * quiet;
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, w, 32, SDL_PIXELFORMAT_ARGB8888);
    SDL_Surface *u;

    if (!s)
        return;
    SDL_FillRect(s, NULL, 0xFFFFFFFF);
    for (int y = 0; y < l->qr_w; y++)
        for (int x = 0; x < l->qr_w; x++)
            if (l->qr[y * l->qr_w + x]) {
                SDL_Rect px = { x + quiet, y + quiet, 1, 1 };
                SDL_FillRect(s, &px, 0xFF000000);
            }
    l->qr_tex = SDL_CreateTextureFromSurface(r, s);
    if (l->qr_tex)
        SDL_SetTextureScaleMode(l->qr_tex, SDL_ScaleModeNearest);
    SDL_FreeSurface(s);
    u = dm_text_render(l->text, dm_net_join_url(l->net), 24, 0xFFFFFF, 0x000000, 1.0);
    if (u) {
        l->url_tex = SDL_CreateTextureFromSurface(r, u);
        l->url_w = u->w;
        l->url_h = u->h;
        SDL_FreeSurface(u);
    }
}

/*
 * While the recording cannot be written, a red line in the top left corner
 * says so, with the comments refused since (the host console shows it too):
 * the host must know before the screening ends that its record is short.
 */
static void draw_record_banner(dm_live *l, SDL_Renderer *r, const SDL_Rect *display)
{
    dm_net_stats st;
    SDL_Rect dst;

    dm_net_get_stats(l->net, &st);
    if (!st.record_error) {
        if (l->banner_tex)
            SDL_DestroyTexture(l->banner_tex);
        l->banner_tex = NULL;
        l->banner_error = 0;
        return;
    }
    if (!l->banner_tex || st.record_error != l->banner_error ||
        (st.record_refused != l->banner_refused && dm_now() - l->banner_at > 1.0)) {
        char line[256];
        SDL_Surface *u;
        snprintf(line, sizeof line, "recording stopped: %s (%llu comments not recorded)",
                 st.record_error == ENOSPC ? "DISK FULL" : strerror(st.record_error),
                 (unsigned long long)st.record_refused);
        u = dm_text_render(l->text, line, display->h / 30 > 16 ? display->h / 30 : 16, 0xFFFFFF, 0x000000, 1.0);
        if (l->banner_tex)
            SDL_DestroyTexture(l->banner_tex);
        l->banner_tex = u ? SDL_CreateTextureFromSurface(r, u) : NULL;
        l->banner_w = u ? u->w : 0;
        l->banner_h = u ? u->h : 0;
        SDL_FreeSurface(u);
        l->banner_error = st.record_error;
        l->banner_refused = st.record_refused;
        l->banner_at = dm_now();
    }
    if (!l->banner_tex)
        return;
    dst = (SDL_Rect){ display->x + 8, display->y + 8, l->banner_w + 16, l->banner_h + 8 };
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, 200, 0, 0, 220);
    SDL_RenderFillRect(r, &dst);
    dst = (SDL_Rect){ display->x + 16, display->y + 12, l->banner_w, l->banner_h };
    SDL_RenderCopy(r, l->banner_tex, NULL, &dst);
}

void dm_live_draw(dm_live *l, SDL_Renderer *r, const SDL_Rect *display)
{
    int shown = l->qr_mode == QR_ON || (l->qr_mode == QR_AUTO && dm_now() - l->started < QR_AUTO_SECONDS);

    draw_record_banner(l, r, display);
    if (shown)
        dm_live_draw_qr(l, r, display);
}

void dm_live_draw_qr(dm_live *l, SDL_Renderer *r, const SDL_Rect *display)
{
    int side, margin;
    SDL_Rect dst;

    if (!l->qr)
        return;
    if (!l->qr_tex)
        make_qr_textures(l, r);
    if (!l->qr_tex)
        return;
    side = (display->h < display->w ? display->h : display->w) / 4;
    side -= side % (l->qr_w + 8);   /* whole pixels per module keep it scannable */
    if (side < l->qr_w + 8)
        side = l->qr_w + 8;
    margin = side / 12;
    dst = (SDL_Rect){ display->x + display->w - side - margin, display->y + display->h - side - margin, side, side };
    SDL_RenderCopy(r, l->qr_tex, NULL, &dst);
    if (l->url_tex) {
        SDL_Rect ud = { display->x + display->w - l->url_w - margin, dst.y - l->url_h - 4, l->url_w, l->url_h };
        SDL_RenderCopy(r, l->url_tex, NULL, &ud);
    }
}

void dm_live_presented(dm_live *l, double period)
{
    double now = dm_now();

    if (l->last_present >= 0 && now - l->last_present > 1.5 * (period > 0 ? period : FRAME_S))
        l->late_frames++;
    l->last_present = now;
    l->frames++;
    for (size_t i = 0; i < l->pending_count; i++) {
        if (l->pending[i].drawn)
            dm_hist_add(l->to_screen, (now - l->pending[i].accepted) * 1000.0);
        dm_hist_add(l->in_queue, (l->pending[i].taken - l->pending[i].accepted) * 1000.0);
        dm_hist_add(l->to_placed, (now - l->pending[i].accepted) * 1000.0);
    }
    l->pending_count = 0;
}

int dm_live_finish(dm_live *l, dm_scene *scene, int64_t film_ms)
{
    dm_net_halt(l->net);
    do {   /* every request and every comment still queued */
        if (dm_live_drain(l, scene, film_ms, 0))
            return -1;
    } while (dm_net_control_barrier(l->net) != UINT64_MAX);
    if (l->opt.stats) {
        dm_net_stats st;
        dm_net_get_stats(l->net, &st);
        fprintf(stderr,
                "danmaku: live: %llu accepted, %llu rejected, %llu connections (%llu refused); "
                "acceptance-to-screen p50 %.2f ms, p99 %.2f ms, max %.2f ms over the %llu comments drawn at once "
                "(the layout delayed or dropped the others); every comment, to the present after its placement: "
                "p50 %.2f ms, p99 %.2f ms, max %.2f ms (in the queue: p50 %.2f ms, p99 %.2f ms); "
                "%llu frames, %llu late\n",
                (unsigned long long)st.accepted, (unsigned long long)st.rejected,
                (unsigned long long)st.connections_total, (unsigned long long)st.refused,
                dm_hist_percentile(l->to_screen, 0.50), dm_hist_percentile(l->to_screen, 0.99),
                dm_hist_max(l->to_screen), (unsigned long long)dm_hist_count(l->to_screen),
                dm_hist_percentile(l->to_placed, 0.50), dm_hist_percentile(l->to_placed, 0.99),
                dm_hist_max(l->to_placed), dm_hist_percentile(l->in_queue, 0.50),
                dm_hist_percentile(l->in_queue, 0.99),
                (unsigned long long)l->frames, (unsigned long long)l->late_frames);
    }
    if (l->opt.bus) {
        dm_net_stats st;
        dm_net_get_stats(l->net, &st);
        if (l->opt.stats || st.bus_bad || st.bus_failed)
            fprintf(stderr, "danmaku: bus: %llu comments published from here, %llu refused (unavailable); "
                            "%llu messages of the stream could not be read (not shown)\n",
                    (unsigned long long)st.bus_published, (unsigned long long)st.bus_failed,
                    (unsigned long long)st.bus_bad);
        if (l->opt.venue_only)
            fprintf(stderr, "danmaku: bus: %llu comments of other halls not shown (--venue-only %s)\n",
                    (unsigned long long)st.bus_other_venue, l->opt.venue);
    }
    return 0;
}

void dm_live_set_film_handler(dm_live *l, void (*fn)(void *ud, const dm_net_control *c), void *ud)
{
    l->film_fn = fn;
    l->film_ud = ud;
}

int dm_live_end_film(dm_live *l, dm_scene *scene, int64_t film_ms)
{
    dm_net_set_intake(l->net, 0);
    /* every comment that got in before the close, and every request among them */
    for (;;) {
        int settled = dm_net_intake_settled(l->net);
        if (dm_live_drain(l, scene, film_ms, 1))
            return -1;
        /* settled before that drain: nothing can have come after it */
        if (settled && dm_net_control_barrier(l->net) == UINT64_MAX && dm_live_take(l, scene) == 0)
            break;
        SDL_Delay(1);
    }
    return 0;
}

int dm_live_new_film(dm_live *l, const char *record_path)
{
    char err[512] = "";
    int rc = 0;

    if (dm_net_new_film(l->net, record_path, err, sizeof err)) {
        fprintf(stderr, "danmaku: %s\n", err);
        rc = -1;
    } else if (l->opt.verbose && record_path && record_path[0])
        fprintf(stderr, "danmaku: recording this film's comments in %s\n", record_path);
    l->dropped = 0;
    dm_net_set_intake(l->net, 1);
    return rc;
}

void dm_live_controls(dm_live *l)
{
    dm_net_control ctl[CONTROL_BATCH];
    size_t n;

    /* the intake is closed and settled: no comment waits in the queue, deletes and clears find nothing to do */
    while ((n = dm_net_drain_control(l->net, ctl, CONTROL_BATCH)) > 0)
        for (size_t k = 0; k < n; k++)
            if (ctl[k].kind != DM_NET_DELETE && ctl[k].kind != DM_NET_CLEAR && l->film_fn)
                l->film_fn(l->film_ud, &ctl[k]);
}

void dm_live_programme(dm_live *l, const dm_net_programme *p)
{
    if (dm_net_set_programme(l->net, p))
        fprintf(stderr, "danmaku: out of memory for the programme\n");
}
