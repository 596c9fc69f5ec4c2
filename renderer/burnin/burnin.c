/*
 * burnin.c - the burn-in pipeline (see burnin.h): decode (dm_media threads),
 * compose on the caller's thread, encode + mux on a sink thread, joined by a
 * bounded frame queue so all three run at once on separate cores.
 */
#include "burnin.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>
#include <libavutil/buffer.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "media.h"
#include "overlay.h"
#include "sink.h"
#include "stage.h"
#include "label.h"
#include "subs.h"
#include "text.h"

/* Frames between compose and the encoder: enough to absorb the encoder's
 * uneven pace (x264 emits frames in bursts) without holding much memory. */
#define QUEUE_CAP 6
/* Frame rate assumed when the film does not say. */
#define FALLBACK_FPS 25

/* ------------------------------------------------------------ frame queue */

typedef struct frame_queue {
    pthread_mutex_t lock;
    pthread_cond_t changed;     /* signalled on every push, pop, eof and abort */
    /* protected by lock: */
    AVFrame *items[QUEUE_CAP];  /* ring buffer */
    int head, count;
    int eof;                    /* the producer is done */
    int abort;                  /* the consumer failed: the producer must stop */
} frame_queue;

/* A code point no font has: said once on stderr (the comment is drawn without it). */
static void text_warning(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "danmaku-render: warning: %s\n", msg);
}

static int queue_init(frame_queue *q)
{
    memset(q, 0, sizeof *q);
    if (pthread_mutex_init(&q->lock, NULL))
        return -1;
    if (pthread_cond_init(&q->changed, NULL)) {
        pthread_mutex_destroy(&q->lock);
        return -1;
    }
    return 0;
}

static void queue_destroy(frame_queue *q)
{
    for (int i = 0; i < q->count; i++)
        av_frame_free(&q->items[(q->head + i) % QUEUE_CAP]);
    pthread_cond_destroy(&q->changed);
    pthread_mutex_destroy(&q->lock);
}

/* Hand a frame over (the queue owns it then); -1 when the consumer gave up
 * (the frame is freed). */
static int queue_push(frame_queue *q, AVFrame *f)
{
    int ok;

    pthread_mutex_lock(&q->lock);
    while (q->count == QUEUE_CAP && !q->abort)
        pthread_cond_wait(&q->changed, &q->lock);
    ok = !q->abort;
    if (ok) {
        q->items[(q->head + q->count) % QUEUE_CAP] = f;
        q->count++;
        pthread_cond_broadcast(&q->changed);
    }
    pthread_mutex_unlock(&q->lock);
    if (!ok)
        av_frame_free(&f);
    return ok ? 0 : -1;
}

/* The next frame, or NULL once the producer is done and the queue is empty. */
static AVFrame *queue_pop(frame_queue *q)
{
    AVFrame *f = NULL;

    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->eof && !q->abort)
        pthread_cond_wait(&q->changed, &q->lock);
    if (q->count > 0 && !q->abort) {
        f = q->items[q->head];
        q->head = (q->head + 1) % QUEUE_CAP;
        q->count--;
        pthread_cond_broadcast(&q->changed);
    }
    pthread_mutex_unlock(&q->lock);
    return f;
}

static void queue_set(frame_queue *q, int eof, int abort)
{
    pthread_mutex_lock(&q->lock);
    q->eof |= eof;
    q->abort |= abort;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->lock);
}

/* ------------------------------------------------------------ state */

typedef struct burn {
    const dm_burnin_opts *o;      /* settings, borrowed */
    dm_burnin_stats *st;          /* filled as we go (compose thread) */
    char *err;                    /* caller's buffer for the one-sentence error */
    size_t errlen;
    /* comments: compose thread only */
    dm_scene *scene;              /* every comment of every track, laid out for our stage */
    dm_text *text;                /* fonts; rasterises and measures */
    dm_sprite_cache *sprites;     /* rasterised comments, each with its YUV sprite in the slot */
    dm_subs *subs;                /* the film's subtitles, NULL: none */
    dm_label *label;              /* --aigc: the AIGC label, NULL: none */
    dm_overlay_sprite label_sprite[2]; /* its card and corner, made when first drawn */
    SDL_Surface *label_of[2];     /* the surfaces those sprites were made from */
    dm_overlay_sprite *sub_sprites; /* the subtitle frame on screen, one sprite per rectangle */
    size_t sub_n, sub_cap;
    uint64_t sub_serial;          /* the frame they were made from */
    /* film and geometry: compose thread only */
    dm_media *media;              /* the film: demux and decode threads */
    const dm_media_info *info;    /* its streams */
    int out_w, out_h;             /* output picture size */
    SDL_Rect display;             /* the film's rectangle: the comment stage */
    int pic_x, pic_y, pic_w, pic_h; /* where the picture goes (even, for 4:2:0) */
    AVRational frame_rate, time_base; /* of the output: 1 / frame rate, as ffmpeg's CFR */
    struct SwsContext *sws;       /* scaler, when the picture is not used as it is */
    AVBufferPool *pool;           /* output pictures; thread-safe */
    int linesize[3];              /* of pooled pictures */
    dm_yuv_space space;           /* what sprites are converted for */
    int space_known;              /* space chosen (from the first frame) */
    enum AVColorSpace out_cs;     /* output colour tags */
    enum AVColorPrimaries out_prim;
    enum AVColorTransferCharacteristic out_trc;
    int64_t last_pts;             /* of the last frame sent, in time_base */
    /* the sink: driven by the sink thread while it runs, then by the compose thread */
    dm_sink *sink;                /* file or null */
    frame_queue queue;            /* compose -> sink; has its own lock */
    pthread_t sink_thread;
    int sink_started;             /* compose thread only */
    int sink_failed;              /* written by the sink thread before it exits; read after join */
} burn;

__attribute__((format(printf, 2, 3))) static int fail(burn *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(b->err, b->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static void media_log(void *ud, int level, const char *message)
{
    const burn *b = ud;

    /* damage warnings are summed up once at the end by the caller */
    if (level <= AV_LOG_ERROR || b->o->verbose)
        fprintf(stderr, "danmaku-render: %s\n", message);
}

/* ------------------------------------------------------------ setup */

static void free_overlay_sprite(void *ud, void *sprite)
{
    (void)ud;
    dm_overlay_sprite_release(sprite);
    free(sprite);
}

/* The comments' scene: every track, in order (their layout waits for the stage). */
static int load_comments(burn *b)
{
    dm_scene_opts so = { 0 };
    dm_diag diag = { 0 };
    char err[256] = "";

    b->text = dm_text_new(b->o->font, DM_TEXT_OUTLINE_DEFAULT, err, sizeof err);
    if (!b->text)
        return fail(b, "%s", err);
    dm_text_set_warn(b->text, text_warning, b);
    so.layout = dm_layout_opts_for_stage(&b->o->layout, 1920, 1080, b->o->font_px);
    so.measure = dm_text_measure;
    so.measure_ud = b->text;
    so.filter = b->o->filter;
    b->scene = dm_scene_new(&so, &diag);
    b->sprites = dm_sprite_cache_new(0, free_overlay_sprite, NULL);
    if (!b->scene || !b->sprites)
        return fail(b, "%s", b->scene ? "out of memory" : diag.error);
    for (int i = 0; i < b->o->track_count; i++) {
        int e;
        memset(&diag, 0, sizeof diag);
        dm_track_file file = { .path = b->o->tracks[i], .offset_ms = b->o->track_offsets_ms[i] };
        e = dm_scene_read(b->scene, &file, &diag);
        if (e)
            return fail(b, "%s: %s", b->o->tracks[i], diag.error[0] ? diag.error : dm_strerror(e));
        if (diag.warnings && b->o->verbose)
            fprintf(stderr, "danmaku-render: %s: %u comments skipped or repaired\n", b->o->tracks[i],
                    diag.warnings);
    }
    b->st->comments_total = dm_scene_count(b->scene);
    return 0;
}

/* The player's rule: the layout is made for the film's display rectangle
 * inside the output, with the same fonts and outline. */
static int lay_out(burn *b)
{
    dm_layout_opts lo = dm_layout_opts_for_stage(&b->o->layout, b->display.w, b->display.h, b->o->font_px);
    dm_diag diag = { 0 };
    const dm_placed *placed;
    char err[512] = "";

    if (dm_subs_cli_open(&b->o->subs, b->o->film, b->info->width, b->info->height, &b->subs, err, sizeof err))
        return fail(b, "%s", err);
    if (b->o->aigc) {
        dm_obstacle boxes[2];
        size_t n;
        int64_t start = (int64_t)llround(b->o->start * 1000.0);
        b->label = dm_label_new(b->text, b->o->aigc_text, b->display.w, b->display.h, err, sizeof err);
        if (!b->label)
            return fail(b, "%s", err);
        n = dm_label_obstacles(b->label, start, b->o->end >= 0 ? (int64_t)llround(b->o->end * 1000.0) : -1, boxes);
        if (dm_scene_set_labels(b->scene, boxes, n))
            return fail(b, "out of memory");
    }
    /* the player's rule again: the stage, with the subtitles' boxes on it */
    if (dm_subs_cli_update(&b->o->subs, b->subs, 1, b->scene, &lo, INT64_MIN, err, sizeof err))
        return fail(b, "%s", err);
    if (dm_scene_layout(b->scene, &diag))
        return fail(b, "cannot lay out the comments: %s", diag.error);
    b->st->font_px = lo.font_px;
    placed = dm_scene_placed(b->scene);
    for (size_t i = 0; i < dm_scene_count(b->scene); i++)
        b->st->comments_shown += placed[i].shown;
    dm_scene_summary(b->scene, b->st->summary, sizeof b->st->summary);
    return 0;
}

static int even_down(int v)
{
    v &= ~1;
    return v < 2 ? 2 : v;
}

static int set_geometry(burn *b)
{
    const dm_media_info *in = b->info;
    double aspect = in->display_aspect > 0 ? in->display_aspect : (double)in->width / in->height;
    AVRational fr;

    b->out_w = b->o->out_w;
    b->out_h = b->o->out_h;
    if (!b->out_w || !b->out_h) {
        /* the player's default stage: the film's display size */
        b->out_h = in->height;
        b->out_w = (int)lround(in->height * aspect);
    }
    /* H.264 in 4:2:0 wants even sides */
    b->out_w = even_down(b->out_w);
    b->out_h = even_down(b->out_h);
    b->display = dm_stage_fit(b->out_w, b->out_h, in->width, in->height, aspect);
    b->pic_x = b->display.x & ~1;
    b->pic_y = b->display.y & ~1;
    b->pic_w = even_down(b->display.w);
    b->pic_h = even_down(b->display.h);
    if (b->pic_x + b->pic_w > b->out_w)
        b->pic_w = b->out_w - b->pic_x;
    if (b->pic_y + b->pic_h > b->out_h)
        b->pic_h = b->out_h - b->pic_y;
    b->st->out_w = b->out_w;
    b->st->out_h = b->out_h;

    fr = in->frame_rate > 0 ? av_d2q(in->frame_rate, 1001000) : (AVRational){ FALLBACK_FPS, 1 };
    if (fr.num <= 0 || fr.den <= 0)
        fr = (AVRational){ FALLBACK_FPS, 1 };
    b->frame_rate = fr;
    b->time_base = av_inv_q(fr);

    b->linesize[0] = FFALIGN(b->out_w, 64);
    b->linesize[1] = b->linesize[2] = FFALIGN(b->out_w / 2, 64);
    b->pool = av_buffer_pool_init((size_t)b->linesize[0] * b->out_h + (size_t)b->linesize[1] * b->out_h + 64, NULL);
    if (!b->pool)
        return fail(b, "out of memory");
    return 0;
}

/* Matrix and range the comments are converted for, from the first frame:
 * its own tags, else what players assume for its size. The output carries
 * the same tags, so every player decodes it as intended. */
static void choose_space(burn *b, const AVFrame *f, int converted)
{
    enum AVColorSpace cs = f->colorspace;
    int full = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P;

    if (cs != AVCOL_SPC_BT709 && cs != AVCOL_SPC_BT470BG && cs != AVCOL_SPC_SMPTE170M)
        cs = f->height > 576 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
    b->space.matrix = cs == AVCOL_SPC_BT709 ? DM_YUV_BT709 : DM_YUV_BT601;
    b->space.full_range = converted ? 0 : full;
    b->out_cs = cs;
    b->out_prim = f->color_primaries != AVCOL_PRI_UNSPECIFIED ? f->color_primaries
        : cs == AVCOL_SPC_BT709 ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M;
    b->out_trc = f->color_trc != AVCOL_TRC_UNSPECIFIED ? f->color_trc
        : cs == AVCOL_SPC_BT709 ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M;
    b->space_known = 1;
}

/* ------------------------------------------------------------ compose */

static AVFrame *pool_frame(burn *b)
{
    AVFrame *f = av_frame_alloc();

    if (!f)
        return NULL;
    f->buf[0] = av_buffer_pool_get(b->pool);
    if (!f->buf[0]) {
        av_frame_free(&f);
        return NULL;
    }
    f->format = AV_PIX_FMT_YUV420P;
    f->width = b->out_w;
    f->height = b->out_h;
    f->data[0] = f->buf[0]->data;
    f->data[1] = f->data[0] + (size_t)b->linesize[0] * b->out_h;
    f->data[2] = f->data[1] + (size_t)b->linesize[1] * ((b->out_h + 1) / 2);
    for (int i = 0; i < 3; i++)
        f->linesize[i] = b->linesize[i];
    return f;
}

static void fill_black(burn *b, AVFrame *f)
{
    int y0 = b->space.full_range ? 0 : 16;

    memset(f->data[0], y0, (size_t)f->linesize[0] * f->height);
    memset(f->data[1], 128, (size_t)f->linesize[1] * ((f->height + 1) / 2));
    memset(f->data[2], 128, (size_t)f->linesize[2] * ((f->height + 1) / 2));
}

static void copy_planes(AVFrame *dst, const AVFrame *src)
{
    for (int p = 0; p < 3; p++) {
        int w = p ? (dst->width + 1) / 2 : dst->width, h = p ? (dst->height + 1) / 2 : dst->height;
        av_image_copy_plane(dst->data[p], dst->linesize[p], src->data[p], src->linesize[p], w, h);
    }
}

/* The output picture for a decoded frame: the frame itself when it fits as
 * it is and nothing is drawn or nobody else holds it, a copy when comments
 * are drawn on a picture the decoder still references, a scaled/converted
 * picture otherwise. */
static AVFrame *output_picture(burn *b, AVFrame *in, int drawing)
{
    int direct = (in->format == AV_PIX_FMT_YUV420P || in->format == AV_PIX_FMT_YUVJ420P) &&
                 in->width == b->out_w && in->height == b->out_h && b->pic_w == b->out_w && b->pic_h == b->out_h;
    AVFrame *out;

    if (!b->space_known)
        choose_space(b, in, !direct);
    /* a picture only we hold (not a reference the decoder keeps) is drawn on in place */
    if (direct && (!drawing || av_frame_is_writable(in)))
        return av_frame_clone(in);
    out = pool_frame(b);
    if (!out)
        return NULL;
    if (direct) {
        copy_planes(out, in);
        b->st->pictures_copied++;
        return out;
    }
    if (b->pic_w != b->out_w || b->pic_h != b->out_h)
        fill_black(b, out);
    b->sws = sws_getCachedContext(b->sws, in->width, in->height, (enum AVPixelFormat)in->format, b->pic_w,
                                  b->pic_h, AV_PIX_FMT_YUV420P, SWS_BICUBIC, NULL, NULL, NULL);
    if (!b->sws) {
        av_frame_free(&out);
        return NULL;
    }
    {
        const int *coef = sws_getCoefficients(b->out_cs);
        int src_full = in->color_range == AVCOL_RANGE_JPEG || in->format == AV_PIX_FMT_YUVJ420P;
        uint8_t *dst[3];

        sws_setColorspaceDetails(b->sws, coef, src_full, coef, 0, 0, 1 << 16, 1 << 16);
        dst[0] = out->data[0] + (size_t)b->pic_y * out->linesize[0] + b->pic_x;
        dst[1] = out->data[1] + (size_t)(b->pic_y / 2) * out->linesize[1] + b->pic_x / 2;
        dst[2] = out->data[2] + (size_t)(b->pic_y / 2) * out->linesize[2] + b->pic_x / 2;
        sws_scale(b->sws, (const uint8_t *const *)in->data, in->linesize, 0, in->height, dst, out->linesize);
    }
    return out;
}

/*
 * The comment's sprite, rasterised and converted on its first frame, then
 * kept in the sprite cache (the ARGB surface sizes its budget, the YUV
 * sprite rides in the texture slot).
 */
static dm_overlay_sprite *sprite_for(burn *b, uint32_t index, size_t *frame_bytes)
{
    const dm_comment *c = &dm_scene_comments(b->scene)[index];
    char *const *texts = dm_scene_texts(b->scene);
    dm_sprite_key key = {
        .id = index,
        .height_px = dm_layout_height_px(dm_scene_layout_opts(b->scene), c->size),
        .rgb = c->color & 0xFFFFFF,
        .opacity = (uint8_t)lround(b->o->opacity * 255),
    };
    dm_sprite *entry = dm_sprite_cache_get(b->sprites, &key);
    dm_overlay_sprite *sp;
    SDL_Surface *surf;
    int e;

    if (!entry) {
        surf = c->kind != DM_KIND_COMMENT
                   ? dm_text_render_card(b->text, c, texts[index], dm_scene_layout_opts(b->scene), b->o->opacity)
                   : dm_text_render_comment(b->text, c, texts[index], key.height_px, b->o->opacity);
        if (!surf)
            return NULL;
        if (dm_sprite_cache_put(b->sprites, &key, surf, &entry)) {
            SDL_FreeSurface(surf);
            return NULL;
        }
    }
    *frame_bytes += (size_t)entry->surface->w * entry->surface->h * 4;
    if (entry->texture)
        return entry->texture;
    sp = malloc(sizeof *sp);
    e = sp ? SDL_LockSurface(entry->surface) : -1;
    if (e == 0) {
        e = dm_overlay_sprite_init(sp, entry->surface->pixels, entry->surface->w, entry->surface->h,
                                   entry->surface->pitch, b->space);
        SDL_UnlockSurface(entry->surface);
    }
    if (e) {
        free(sp);
        return NULL;
    }
    entry->texture = sp;
    b->st->sprites_made++;
    return sp;
}

static size_t query(burn *b, int64_t t_ms, const dm_visible **visible)
{
    size_t n;

    if (dm_scene_query(b->scene, t_ms, visible, &n, NULL))
        fprintf(stderr, "danmaku-render: out of memory: no comments on the frame at %.3f s\n", t_ms / 1000.0);
    return n;
}

static void draw_comments(burn *b, AVFrame *out, const dm_visible *visible, size_t n)
{
    dm_overlay_target t = { out->width, out->height, { out->data[0], out->data[1], out->data[2] },
                            { out->linesize[0], out->linesize[1], out->linesize[2] } };
    size_t frame_bytes = 0;

    for (size_t i = 0; i < n; i++) {
        const dm_visible *v = &visible[i];
        dm_overlay_sprite *sp = sprite_for(b, v->index, &frame_bytes);
        /* the pixel the player's software compositor picks (stage.c) */
        int x = b->display.x + (int)lroundf(v->x), y = b->display.y + (int)lroundf(v->y);

        if (sp)
            dm_overlay_blend(sp, &t, x, y, (int)lroundf(v->alpha * 255.0f));
    }
    dm_sprite_cache_frame(b->sprites, frame_bytes);
}

static void release_sub_sprites(burn *b)
{
    for (size_t i = 0; i < b->sub_n; i++)
        dm_overlay_sprite_release(&b->sub_sprites[i]);
    b->sub_n = 0;
}

/* The subtitles at the frame's time, over the comments (the player's order); sprites made when they change. */
static void draw_subs(burn *b, AVFrame *out, const dm_subs_frame *f)
{
    dm_overlay_target t = { out->width, out->height, { out->data[0], out->data[1], out->data[2] },
                            { out->linesize[0], out->linesize[1], out->linesize[2] } };

    if (f->serial != b->sub_serial || b->sub_n != f->count) {
        release_sub_sprites(b);
        if (f->count > b->sub_cap) {
            dm_overlay_sprite *v = realloc(b->sub_sprites, f->count * sizeof *v);
            if (!v)
                return;
            b->sub_sprites = v;
            b->sub_cap = f->count;
        }
        for (size_t i = 0; i < f->count; i++) {
            const dm_subs_rect *r = &f->rects[i];
            if (dm_overlay_sprite_init(&b->sub_sprites[b->sub_n], r->argb, r->w, r->h, r->pitch, b->space))
                break;
            b->sub_n++;
        }
        b->sub_serial = f->serial;
    }
    for (size_t i = 0; i < b->sub_n; i++)
        dm_overlay_blend(&b->sub_sprites[i], &t, b->display.x + f->rects[i].x, b->display.y + f->rects[i].y, 255);
}

/* The AIGC label over everything (comments never cover it: it is an obstacle of the scene). */
static void draw_label(burn *b, AVFrame *out, int64_t t_ms)
{
    dm_overlay_target t = { out->width, out->height, { out->data[0], out->data[1], out->data[2] },
                            { out->linesize[0], out->linesize[1], out->linesize[2] } };
    SDL_Rect at;
    SDL_Surface *s = dm_label_at(b->label, t_ms, (int64_t)llround(b->o->start * 1000.0), &at);
    int k;

    if (!s)
        return;
    k = s == b->label_of[0] ? 0 : s == b->label_of[1] ? 1 : !b->label_of[0] ? 0 : 1;
    if (b->label_of[k] != s) {
        if (b->label_of[k])
            dm_overlay_sprite_release(&b->label_sprite[k]);
        b->label_of[k] = NULL;
        if (dm_overlay_sprite_init(&b->label_sprite[k], s->pixels, s->w, s->h, s->pitch, b->space))
            return;
        b->label_of[k] = s;
    }
    dm_overlay_blend(&b->label_sprite[k], &t, b->display.x + at.x, b->display.y + at.y, 255);
}

static void *sink_thread_main(void *arg)
{
    burn *b = arg;
    for (;;) {
        AVFrame *f = queue_pop(&b->queue);
        int ret;

        if (!f)
            break;
        ret = b->sink->ops->write(b->sink, f);
        av_frame_free(&f);
        if (ret < 0) {
            b->sink_failed = 1;
            queue_set(&b->queue, 0, 1);
            break;
        }
    }
    return NULL;
}

/*
 * Decoded frames wait here until the decoder lets go of them: a picture the
 * decoder still references (for predicting later ones) cannot be drawn on,
 * and copying it costs more than the comments on it (a 1080p picture is
 * 3 MB). H.264 and HEVC release a reference within a few frames, so a frame
 * that waits is usually drawn on in place when its turn comes; one still
 * held when the window is full, or at the end, is copied.
 */
#define PENDING_MAX 8

typedef struct pending_frame {
    AVFrame *f;
    dm_frame_info fi;
} pending_frame;

/* Compose one decoded frame and hand it to the sink; 1 when the sink has failed, -1 on error. */
static int compose_one(burn *b, AVFrame *in, dm_frame_info fi, double fdur, dm_burnin_progress *pr)
{
    const dm_burnin_opts *o = b->o;
    const dm_visible *visible;
    dm_subs_frame sf = { 0 };
    AVFrame *out;
    size_t n;
    int64_t t_ms, pts;
    double t0, t_subs;

    t0 = dm_now();
    t_ms = (int64_t)floor(fi.pts * 1000.0 + 1e-6);
    n = query(b, t_ms, &visible);
    t_subs = dm_now();
    if (b->subs && dm_subs_sid(b->subs) != DM_SUBS_SID_NO &&
        dm_subs_render(b->subs, t_ms, b->display.w, b->display.h, &sf, NULL))
        memset(&sf, 0, sizeof sf);
    b->st->subs_seconds += dm_now() - t_subs;
    out = output_picture(b, in, n > 0 || sf.count > 0 || b->label != NULL);
    av_frame_unref(in);
    if (!out)
        return fail(b, "out of memory composing a %dx%d frame", b->out_w, b->out_h);
    if (n > 0)
        draw_comments(b, out, visible, n);
    if (sf.count) {
        t_subs = dm_now();
        draw_subs(b, out, &sf);
        b->st->subs_seconds += dm_now() - t_subs;
    }
    if (b->label)
        draw_label(b, out, t_ms);
    pts = llround((fi.pts - o->start) / fdur);
    if (pts <= b->last_pts)
        pts = b->last_pts + 1;   /* the encoder wants rising timestamps */
    b->last_pts = pts;
    out->pts = pts;
    out->format = AV_PIX_FMT_YUV420P;   /* a YUVJ420P picture is the same layout; the range says the rest */
    out->colorspace = b->out_cs;
    out->color_primaries = b->out_prim;
    out->color_trc = b->out_trc;
    out->color_range = b->space.full_range ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    out->sample_aspect_ratio = (AVRational){ 1, 1 };
    b->st->compose_seconds += dm_now() - t0;
    b->st->frames++;
    b->st->comments_drawn += n;
    b->st->last_t = fi.pts;
    if (queue_push(&b->queue, out))
        return 1;   /* the sink failed; its message follows */
    if (o->progress) {
        pr->t = fi.pts;
        pr->frames = b->st->frames;
        pr->on_screen = n;
        o->progress(o->progress_ud, pr);
    }
    return 0;
}

static int compose_loop(burn *b)
{
    const dm_burnin_opts *o = b->o;
    pending_frame pend[PENDING_MAX];
    int head = 0, count = 0, done = 0;
    dm_burnin_progress pr = { 0 };
    double fdur = av_q2d(b->time_base), last_film_t = NAN;
    int rc = 0;

    for (int i = 0; i < PENDING_MAX; i++) {
        pend[i].f = av_frame_alloc();
        if (!pend[i].f) {
            for (int k = 0; k < i; k++)
                av_frame_free(&pend[k].f);
            return fail(b, "out of memory");
        }
    }
    pr.start = o->start;
    pr.end = o->end >= 0 ? o->end : b->info->duration;
    b->last_pts = INT64_MIN;
    while (rc == 0 && (!done || count > 0)) {
        if (o->stop && *o->stop) {
            b->st->interrupted = 1;   /* the output ends with the last frame composed */
            break;
        }
        if (!done && count < PENDING_MAX) {
            pending_frame *p = &pend[(head + count) % PENDING_MAX];
            int r;
            r = dm_media_video_take(b->media, p->f, &p->fi, 1);
            if (r == DM_MEDIA_EOF) {
                done = 1;
                continue;
            }
            if (r != DM_MEDIA_OK) {
                rc = fail(b, "decoding stopped unexpectedly");
                break;
            }
            if (isnan(p->fi.pts))
                p->fi.pts = isnan(last_film_t) ? o->start : last_film_t + fdur;
            if (o->end >= 0 && p->fi.pts >= o->end - 1e-6) {
                av_frame_unref(p->f);
                done = 1;
                continue;
            }
            last_film_t = p->fi.pts;
            count++;
            /* the oldest goes on once the decoder has let go of it (drawn in place), or when the
             * window is full (copied) */
            if (count < PENDING_MAX && !av_frame_is_writable(pend[head].f))
                continue;
        }
        rc = compose_one(b, pend[head].f, pend[head].fi, fdur, &pr);
        if (rc > 0) {
            rc = 0;
            break;   /* the sink failed; its message follows */
        }
        head = (head + 1) % PENDING_MAX;
        count--;
    }
    for (int i = 0; i < PENDING_MAX; i++)
        av_frame_free(&pend[i].f);   /* frames left waiting (an interruption) go unused */
    return rc;
}

/* ------------------------------------------------------------ run */

static void cleanup(burn *b)
{
    if (b->sink_started) {
        queue_set(&b->queue, 1, 1);
        pthread_join(b->sink_thread, NULL);
    }
    if (b->sink)
        b->sink->ops->close(b->sink);
    queue_destroy(&b->queue);
    dm_media_close(&b->media);
    dm_sprite_cache_free(&b->sprites);
    release_sub_sprites(b);
    free(b->sub_sprites);
    dm_subs_destroy(&b->subs);
    for (int k = 0; k < 2; k++)
        if (b->label_of[k])
            dm_overlay_sprite_release(&b->label_sprite[k]);
    dm_label_free(&b->label);
    dm_scene_free(&b->scene);
    dm_text_free(&b->text);
    sws_freeContext(b->sws);
    av_buffer_pool_uninit(&b->pool);
}

static int open_sink(burn *b)
{
    const dm_burnin_opts *o = b->o;
    dm_sink_file_params p = { 0 };
    char err[512] = "";

    if (o->null_sink)
        return dm_sink_null_new(&b->sink) < 0 ? fail(b, "out of memory") : 0;
    p.path = o->output;
    p.format = o->format;
    p.codec = o->codec ? o->codec : "libx264";
    p.crf = o->crf;
    p.bitrate = o->bitrate;
    p.preset = o->preset;
    p.width = b->out_w;
    p.height = b->out_h;
    p.frame_rate = b->frame_rate;
    p.time_base = b->time_base;
    p.film = o->audio ? o->film : NULL;
    p.film_origin = b->info->start_offset;
    p.film_offset = o->start;
    p.film_end = o->end;
    p.verbose = o->verbose;
    if (dm_sink_file_new(&b->sink, &p, err, sizeof err) < 0)
        return fail(b, "%s", err);
    return 0;
}

int dm_burnin_run(const dm_burnin_opts *o, dm_burnin_stats *st, char *err, size_t errlen)
{
    burn b;
    dm_media_options mo = { 0 };
    dm_media_output mout = { .video = 1 };
    dm_media_stats ms;
    char merr[512] = "";
    int rc = -1;

    memset(&b, 0, sizeof b);
    memset(st, 0, sizeof *st);
    b.o = o;
    b.st = st;
    b.err = err;
    b.errlen = errlen;
    if (queue_init(&b.queue)) {
        snprintf(err, errlen, "cannot create the frame queue");
        return -1;
    }
    if (!o->film || (!o->null_sink && !o->output)) {
        fail(&b, "a film and an output file are needed");
        goto done;
    }
    if (load_comments(&b))
        goto done;
    mo.log = media_log;
    mo.log_ud = &b;
    if (dm_media_open(&b.media, o->film, &mo, merr, sizeof merr)) {
        fail(&b, "%s", merr);
        goto done;
    }
    b.info = dm_media_get_info(b.media);
    if (!b.info->has_video || b.info->width <= 0 || b.info->height <= 0) {
        fail(&b, "'%s' has no picture to burn comments into", o->film);
        goto done;
    }
    if (o->start > 0 && b.info->duration > 0 && o->start >= b.info->duration) {
        fail(&b, "--start %.3f s is past the end of '%s' (%.3f s)", o->start, o->film, b.info->duration);
        goto done;
    }
    if (set_geometry(&b) || lay_out(&b) || open_sink(&b))
        goto done;
    if (dm_media_start(b.media, &mout, merr, sizeof merr)) {
        fail(&b, "%s", merr);
        goto done;
    }
    if (o->start > 0)
        dm_media_seek(b.media, o->start);
    if (pthread_create(&b.sink_thread, NULL, sink_thread_main, &b)) {
        fail(&b, "cannot start the encoder thread");
        goto done;
    }
    b.sink_started = 1;
    rc = compose_loop(&b);
    queue_set(&b.queue, 1, 0);
    pthread_join(b.sink_thread, NULL);
    b.sink_started = 0;
    if (b.sink_failed) {
        fail(&b, "%s", b.sink->err);
        rc = -1;
    } else if (rc == 0 && st->frames == 0) {
        rc = st->interrupted ? fail(&b, "interrupted before the first frame; nothing was written")
                             : fail(&b, "no picture could be decoded from '%s'", o->film);
    } else if (rc == 0) {
        /* Interrupted: the sound stops with the last picture. */
        double end_t = st->interrupted ? st->last_t - o->start + av_q2d(b.time_base) : -1;
        if (b.sink->ops->finish(b.sink, end_t) < 0) {
            fail(&b, "%s", b.sink->err);
            rc = -1;
        }
    }
    if (rc == 0 && !o->null_sink)
        st->audio_mode = dm_sink_file_audio_mode(b.sink);
    dm_media_get_stats(b.media, &ms);
    st->decode_errors = ms.decode_errors;
done:
    cleanup(&b);
    return rc;
}
