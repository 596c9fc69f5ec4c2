/*
 * live.c - a live screening in the player: the bridge between the live feed's
 * queue (dm_net, service thread) and the engine's timeline (main thread).
 *
 * Live comments get a layout of their own, fed in arrival order with
 * dm_layout_add. Arrival order is recording order and film times only grow
 * during play, so laying out the recording with dm_layout_track (time order,
 * ties by position in the file) gives the very same lanes.
 */
#include "live.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm_net.h"

#ifndef DM_ASSETS_DIR
#define DM_ASSETS_DIR "assets"
#endif

#define DRAIN_BATCH 256        /* comments taken from the queue per call */
#define CONTROL_BATCH 64       /* host requests (delete, clear) taken per call */
#define QR_AUTO_SECONDS 60.0   /* the QR code shows this long after start */
#define LAT_BUCKET_MS 0.05     /* latency histogram resolution */
#define LAT_BUCKETS 20000      /* up to 1 s; slower ones land in the last bucket */
#define FRAME_S (1.0 / 60.0)
#define PENDING_MAX 16384      /* comments per frame whose latency is counted */

enum { QR_AUTO = 0, QR_ON, QR_OFF };

/* A latency histogram in LAT_BUCKET_MS steps. */
typedef struct latency {
    uint32_t *hist;
    uint64_t count;
    double max;
} latency;

static int latency_init(latency *lt)
{
    lt->hist = calloc(LAT_BUCKETS, sizeof *lt->hist);
    return lt->hist ? 0 : -1;
}

static void latency_add(latency *lt, double ms)
{
    size_t b = ms <= 0 ? 0 : (size_t)(ms / LAT_BUCKET_MS);

    lt->hist[b < LAT_BUCKETS ? b : LAT_BUCKETS - 1]++;
    lt->count++;
    if (ms > lt->max)
        lt->max = ms;
}

static double latency_percentile(const latency *lt, double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)lt->count), seen = 0;

    for (size_t b = 0; b < LAT_BUCKETS; b++) {
        seen += lt->hist[b];
        if (seen >= want && want > 0)
            return (b + 1) * LAT_BUCKET_MS;
    }
    return lt->max;
}

struct dm_live {
    dm_net *net;
    player_options opt;        /* copy: the paths and switches used at exit */
    dm_text *text;             /* fonts, borrowed */
    size_t first;              /* track index of the first live comment */
    uint64_t dropped;          /* live comments the layout could not show */
    dm_layout *layout;         /* the live comments' layout */
    dm_layout_opts layout_opts;/* settings it was made with */
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
    latency to_screen;         /* acceptance to the present that first draws it */
    latency in_queue;          /* acceptance to the player taking it */
    latency to_placed;         /* every comment, drawn or not: acceptance to the present after its placement */
    double last_present;
    uint64_t frames, late_frames;
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

int dm_live_start(dm_live **out, const player_options *o, dm_text *text, size_t first)
{
    dm_net_opts no = DM_NET_OPTS_DEFAULT;
    dm_live *l;
    char addr[256], err[512] = "", web_dir[4096];

    *out = NULL;
    l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->opt = *o;
    l->text = text;
    l->first = first;
    if (latency_init(&l->to_screen) || latency_init(&l->in_queue) || latency_init(&l->to_placed)) {
        fprintf(stderr, "danmaku: out of memory for the live feed\n");
        goto error;
    }
    if (parse_listen(o->listen, addr, sizeof addr, &no.port)) {
        fprintf(stderr, "danmaku: --listen wants [ADDR:]PORT (0-65535), got '%s'\n", o->listen);
        goto error;
    }
    if (!wake_event)
        wake_event = SDL_RegisterEvents(1);
    snprintf(web_dir, sizeof web_dir, "%s/web", DM_ASSETS_DIR);
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
    no.moderation_path = o->moderation;
    if (dm_net_start(&l->net, &no, err, sizeof err)) {
        fprintf(stderr, "danmaku: %s\n", err);
        goto error;
    }
    if (dm_net_qr(dm_net_join_url(l->net), &l->qr, &l->qr_w))
        fprintf(stderr, "danmaku: cannot make the QR code of %s\n", dm_net_join_url(l->net));
    l->started = dm_net_now();
    l->last_present = -1;
    {
        const char *url = dm_net_join_url(l->net);
        size_t ul = strlen(url);
        /* before the "live on port" line, which scripts wait for */
        fprintf(stderr, "danmaku: host console: %s%shost  token: %s\n", url, ul && url[ul - 1] == '/' ? "" : "/",
                dm_net_host_token(l->net));
    }
    fprintf(stderr, "danmaku: live on port %d, join at %s\n", dm_net_port(l->net), dm_net_join_url(l->net));
    *out = l;
    return 0;
error:
    dm_live_stop(&l);
    return -1;
}

void dm_live_stop(dm_live **pl)
{
    dm_live *l = *pl;

    if (!l)
        return;
    dm_net_stop(&l->net);
    dm_layout_free(&l->layout);
    if (l->qr_tex)
        SDL_DestroyTexture(l->qr_tex);
    if (l->url_tex)
        SDL_DestroyTexture(l->url_tex);
    free(l->qr);
    free(l->to_screen.hist);
    free(l->in_queue.hist);
    free(l->to_placed.hist);
    free(l);
    *pl = NULL;
}

/* Make room for `count` comments in the placement and text arrays. */
static int grow_arrays(dm_placed **placed, char ***texts, size_t old, size_t count)
{
    dm_placed *p = realloc(*placed, (count ? count : 1) * sizeof *p);
    char **t;

    if (!p)
        return -1;
    *placed = p;
    t = realloc(*texts, (count ? count : 1) * sizeof *t);
    if (!t)
        return -1;
    for (size_t i = old; i < count; i++)
        t[i] = NULL;
    *texts = t;
    return 0;
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

static int new_layout(dm_live *l, const dm_layout_opts *layout)
{
    dm_diag diag = { 0 };

    dm_layout_free(&l->layout);
    l->layout = dm_layout_new(layout, dm_text_measure, l->text, NULL, &diag);
    if (!l->layout) {
        fprintf(stderr, "danmaku: cannot lay out live comments: %s\n", diag.error);
        return -1;
    }
    /* the host may seek back: comments then come earlier than ones placed */
    if (dm_layout_allow_rewind(l->layout)) {
        fprintf(stderr, "danmaku: out of memory for the live layout\n");
        dm_layout_free(&l->layout);
        return -1;
    }
    l->layout_opts = *layout;
    warm_fonts(l, layout);
    return 0;
}

static int place(dm_live *l, const dm_track *track, size_t i, dm_placed *placed, dm_timeline *timeline)
{
    if (dm_layout_add(l->layout, &track->items[i], NULL, &placed[i]))
        return -1;
    if (!placed[i].shown && placed[i].reason != DM_REASON_DELETED)
        l->dropped++;
    return dm_timeline_insert(timeline, (uint32_t)i, &placed[i], track->items[i].pos);
}

int dm_live_clear_screen(dm_live *l, dm_track *track, dm_placed *placed, dm_timeline *timeline, int64_t t_ms)
{
    size_t cap = 0, n, nids = 0;
    dm_visible *v = NULL;
    char **ids;

    if (!timeline)
        return 0;
    if (dm_timeline_query_all(timeline, t_ms, &v, &cap, &n)) {
        free(v);
        return -1;
    }
    ids = l && n ? malloc(n * sizeof *ids) : NULL;
    for (size_t k = 0; k < n; k++) {
        dm_timeline_remove(timeline, v[k].index);
        /* a live comment stays off even if the stage is laid out again, and
         * in the replay of the recording */
        if (l && v[k].index >= l->first && v[k].index < track->count) {
            const dm_comment *c = &track->items[v[k].index];
            track->items[v[k].index].deleted = DM_DELETED_ON_SCREEN;
            placed[v[k].index].shown = 0;   /* the dump says what the replay says */
            placed[v[k].index].reason = DM_REASON_DELETED;
            if (c->id && ids)
                ids[nids++] = c->id;
        }
    }
    if (l && n && !ids)
        fprintf(stderr, "danmaku: out of memory: the clear is not in the recording\n");
    if (ids)
        dm_net_record_deletes(l->net, (const char *const *)ids, nids);
    free(ids);
    free(v);
    return (int)n;
}

/* A host's delete: the newest live comment with that id leaves the screen now. */
static void delete_live(dm_live *l, dm_track *track, dm_placed *placed, dm_timeline *timeline, const char *id)
{
    for (size_t i = track->count; i-- > l->first;) {
        dm_comment *c = &track->items[i];
        if (c->id && !strcmp(c->id, id)) {
            c->deleted = DM_DELETED_ON_SCREEN;
            dm_timeline_remove(timeline, (uint32_t)i);
            /* the dump says what a replay of the recording (with its delete line) says */
            placed[i].shown = 0;
            placed[i].reason = DM_REASON_DELETED;
            return;
        }
    }
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

static int take_upto(dm_live *l, uint64_t upto, dm_track *track, dm_placed **placed, char ***texts,
                     dm_timeline *timeline, const dm_layout_opts *layout);

int dm_live_drain(dm_live *l, int64_t film_ms, int paused, dm_track *track, dm_placed **placed,
                  char ***texts, dm_timeline *timeline, const dm_layout_opts *layout)
{
    dm_net_control ctl[CONTROL_BATCH];
    size_t nctl;

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
        if (take_upto(l, ctl[k].after, track, placed, texts, timeline, layout))
            return -1;
        if (ctl[k].kind == DM_NET_DELETE)
            delete_live(l, track, *placed, timeline, ctl[k].id);
        else if (dm_live_clear_screen(l, track, *placed, timeline, film_ms) < 0)
            return -1;
    }
    return dm_live_take(l, track, placed, texts, timeline, layout);
}

int dm_live_take(dm_live *l, dm_track *track, dm_placed **placed, char ***texts, dm_timeline *timeline,
                 const dm_layout_opts *layout)
{
    /* not past a request still queued (one that came after this frame took its
     * requests, or more than a frame's batch): it runs first, next frame */
    return take_upto(l, dm_net_control_barrier(l->net), track, placed, texts, timeline, layout);
}

/* Take queued comments until `upto` have been taken in all (or the queue is empty). */
static int take_upto(dm_live *l, uint64_t upto, dm_track *track, dm_placed **placed, char ***texts,
                     dm_timeline *timeline, const dm_layout_opts *layout)
{
    dm_net_comment batch[DRAIN_BATCH];

    atomic_store(&l->woken, 0);
    if (!l->layout && new_layout(l, layout))
        return -1;
    while (l->taken < upto) {
        size_t n = dm_net_drain(l->net, batch, upto - l->taken < DRAIN_BATCH ? (size_t)(upto - l->taken) : DRAIN_BATCH);
        double now = dm_net_now();
        int err = 0;

        if (n == 0)
            break;
        l->taken += n;

        if (grow_arrays(placed, texts, track->count, track->count + n))
            err = -1;
        for (size_t k = 0; k < n; k++) {
            if (!err && dm_track_push(track, &batch[k].c) == 0) {
                err = place(l, track, track->count - 1, *placed, timeline);
                if (l->pending_count < PENDING_MAX) {
                    const dm_placed *pl = &(*placed)[track->count - 1];
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
    return 0;
}

int dm_live_relayout(dm_live *l, const dm_track *track, dm_placed **placed, char ***texts,
                     dm_timeline *timeline, const dm_layout_opts *layout)
{
    if (grow_arrays(placed, texts, l->first, track->count) || new_layout(l, layout))
        return -1;
    l->dropped = 0;   /* counted again as they are placed again */
    for (size_t i = l->first; i < track->count; i++)
        if (place(l, track, i, *placed, timeline))
            return -1;
    return 0;
}

void dm_live_toggle_qr(dm_live *l)
{
    int shown = l->qr_mode == QR_ON || (l->qr_mode == QR_AUTO && dm_net_now() - l->started < QR_AUTO_SECONDS);
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

void dm_live_draw(dm_live *l, SDL_Renderer *r, const SDL_Rect *display)
{
    int shown = l->qr_mode == QR_ON || (l->qr_mode == QR_AUTO && dm_net_now() - l->started < QR_AUTO_SECONDS);
    int side, margin;
    SDL_Rect dst;

    if (!shown || !l->qr)
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

void dm_live_presented(dm_live *l)
{
    double now = dm_net_now();

    if (l->last_present >= 0 && now - l->last_present > 1.5 * FRAME_S)
        l->late_frames++;
    l->last_present = now;
    l->frames++;
    for (size_t i = 0; i < l->pending_count; i++) {
        if (l->pending[i].drawn)
            latency_add(&l->to_screen, (now - l->pending[i].accepted) * 1000.0);
        latency_add(&l->in_queue, (l->pending[i].taken - l->pending[i].accepted) * 1000.0);
        latency_add(&l->to_placed, (now - l->pending[i].accepted) * 1000.0);
    }
    l->pending_count = 0;
}

/* The same lines as danmaku-convert --layout writes for the recording (LAYOUT-DUMP.md). */
static int dump_layout(dm_live *l, const dm_track *track, const dm_placed *placed, const dm_layout_opts *lo,
                       const char *family, int outline_px)
{
    FILE *f = fopen(l->opt.dump_layout, "w");
    char *line;
    int rc = 0;

    if (!f) {
        fprintf(stderr, "danmaku: cannot write %s: %s\n", l->opt.dump_layout, strerror(errno));
        return -1;
    }
    line = dm_layout_dump_stage(lo, family, track->count - l->first, outline_px);
    if (!line || fprintf(f, "%s\n", line) < 0)
        rc = -1;
    free(line);
    for (size_t i = l->first; i < track->count && rc == 0; i++) {
        line = dm_layout_dump_comment(&track->items[i], i - l->first, &placed[i], NULL);
        if (!line || fprintf(f, "%s\n", line) < 0)
            rc = -1;
        free(line);
    }
    if (fclose(f) || rc) {
        fprintf(stderr, "danmaku: cannot write %s\n", l->opt.dump_layout);
        return -1;
    }
    return 0;
}

int dm_live_finish(dm_live *l, int64_t film_ms, dm_track *track, dm_placed **placed, char ***texts,
                   dm_timeline *timeline, const dm_layout_opts *layout, const char *font_family,
                   int outline_px)
{
    dm_net_halt(l->net);
    do {   /* every request and every comment still queued */
        if (dm_live_drain(l, film_ms, 0, track, placed, texts, timeline, layout))
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
                latency_percentile(&l->to_screen, 0.50), latency_percentile(&l->to_screen, 0.99),
                l->to_screen.max, (unsigned long long)l->to_screen.count,
                latency_percentile(&l->to_placed, 0.50), latency_percentile(&l->to_placed, 0.99),
                l->to_placed.max, latency_percentile(&l->in_queue, 0.50), latency_percentile(&l->in_queue, 0.99),
                (unsigned long long)l->frames, (unsigned long long)l->late_frames);
    }
    if (l->opt.dump_layout)
        return dump_layout(l, track, *placed, layout, font_family, outline_px);
    return 0;
}
