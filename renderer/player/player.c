/*
 * player.c - the `danmaku` program: a film with its comments, in sync.
 *
 * The loop is a flat list of steps (mpv's playloop): handle input, let the
 * media module decide whether a new video frame is due (dropping late ones
 * before any overlay work), ask the engine's timeline what is on screen at
 * the master clock, draw, present, then wait for the next display refresh
 * or the next frame, whichever comes first. Comments therefore move at the
 * display's rate, not the film's.
 *
 * Outputs: a window (SDL's accelerated or software renderer), or headless:
 * SDL's software renderer drawing into a surface, with the dummy sound
 * driver pacing the audio clock in real time. --fast drops the real-time
 * pacing: a simulated 60 Hz display steps through the film as fast as the
 * machine allows, which makes screenshots exactly reproducible.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <SDL.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>

#include "danmaku.h"
#include "live.h"
#include "media.h"
#include "options.h"
#include "script.h"
#include "stage.h"
#include "text.h"

#ifndef DM_ASSETS_DIR
#define DM_ASSETS_DIR "assets"
#endif

#define REFRESH_HZ 60.0
#define SEEK_SHORT 5.0
#define SEEK_LONG 60.0
#define OSD_SECONDS 1.5
#define FRAME_TIMES 240     /* frame times kept for the statistics overlay */

typedef struct player {
    player_options opt;           /* command line */
    /* SDL: main thread only */
    SDL_Window *window;           /* NULL when headless */
    SDL_Renderer *renderer;       /* window's or the software one */
    SDL_Surface *canvas;          /* headless target surface */
    SDL_AudioDeviceID audio;      /* 0 when no sound device */
    SDL_AudioSpec aspec;          /* what the device gave us */
    /* audio callback reads these under SDL_LockAudioDevice */
    SDL_atomic_t gain_milli;      /* volume 0..1000 (0 when muted); read by the audio thread */
    SDL_Thread *null_audio;       /* headless: the thread that plays audio into nothing */
    SDL_atomic_t null_audio_stop; /* tells it to end */
    /* media */
    dm_media *media;              /* the film */
    const dm_media_info *info;    /* its streams */
    AVFrame *frame;               /* --fast: the frame on screen */
    double frame_pts;             /* pts of the frame on screen, NAN if none */
    int new_frame;                /* a new picture was uploaded since the last present */
    AVFrame *converted;           /* frames in other pixel formats, as YUV420P */
    struct SwsContext *sws;       /* the scaler that converts them */
    /* comments */
    dm_text *text;                /* fonts */
    dm_stage *stage;              /* drawing */
    dm_track track;               /* every comment of every --track, then the live ones */
    size_t recorded_count;        /* comments from --track files; live ones follow */
    dm_live *live;                /* --listen: the live feed, else NULL */
    dm_layout_opts layout;        /* settings of the current layout */
    dm_placed *placed;            /* where each comment goes */
    char **texts;                 /* merged "xN" texts */
    dm_timeline *timeline;        /* what is on screen when */
    dm_visible *visible;          /* scratch for the timeline query */
    size_t visible_cap;
    size_t on_screen;             /* comments drawn in the last frame */
    SDL_Rect display;             /* the film's rectangle in the output */
    /* state */
    double t;                     /* film seconds of the frame being drawn */
    int show_comments;            /* d toggles */
    int muted;                    /* m toggles */
    double volume;                /* 0..100 */
    double speed;                 /* playback speed */
    int hud;                      /* i toggles the statistics overlay */
    int quit;
    char osd[128];                /* short message after a key */
    double osd_until;             /* wall seconds when it disappears */
    /* statistics */
    double frame_ms[FRAME_TIMES]; /* compose + present time of recent frames */
    unsigned frame_count;         /* frames presented */
    double started;               /* wall seconds at start */
    FILE *frame_log;              /* --log-frames; written by the main and the audio thread */
    double frame_luma;            /* mean luma of the frame on screen (with --log-frames) */
    dm_script script;             /* --script commands */
    int seeked;                   /* a seek happened since the loop last looked */
    unsigned shots_taken;         /* s key counter */
} player;

static double wall_now(void)
{
    return (double)SDL_GetPerformanceCounter() / (double)SDL_GetPerformanceFrequency();
}

static void osd(player *p, const char *msg)
{
    snprintf(p->osd, sizeof p->osd, "%s", msg);
    p->osd_until = wall_now() + OSD_SECONDS;
}

/* ------------------------------------------------------------ comments */

static int load_tracks(player *p)
{
    dm_track_init(&p->track);
    for (int i = 0; i < p->opt.track_count; i++) {
        dm_diag diag = { 0 };
        int err = dm_read_file(&p->track, p->opt.tracks[i], DM_FORMAT_UNKNOWN, &diag);
        if (err) {
            fprintf(stderr, "danmaku: %s\n", diag.error[0] ? diag.error : dm_strerror(err));
            return -1;
        }
        if (diag.warnings && p->opt.verbose)
            fprintf(stderr, "danmaku: %s: %u comments skipped or repaired\n", p->opt.tracks[i], diag.warnings);
    }
    p->recorded_count = p->track.count;
    return 0;
}

/* Lay the comments out again for a new stage size (window resized). */
static int relayout(player *p, int stage_w, int stage_h)
{
    dm_layout_opts lo = dm_layout_opts_for_stage(&p->opt.layout, stage_w, stage_h, p->opt.font_px);
    dm_diag diag = { 0 };
    dm_placed *placed = NULL;
    char **texts = NULL;
    dm_track recorded = p->track;

    recorded.count = p->recorded_count;   /* live comments keep their arrival-order layout (live.c) */
    if (p->placed && lo.stage_w == p->layout.stage_w && lo.stage_h == p->layout.stage_h &&
        lo.font_px == p->layout.font_px)
        return 0;
    if (dm_layout_track(&recorded, &lo, dm_text_measure, p->text, NULL, &placed, &texts, &diag)) {
        fprintf(stderr, "danmaku: cannot lay out the comments: %s\n", diag.error);
        return -1;
    }
    dm_texts_free(p->texts, p->track.count);
    free(p->placed);
    p->placed = placed;
    p->texts = texts;
    p->layout = lo;
    dm_timeline_free(&p->timeline);
    p->timeline = dm_timeline_new(&lo);
    if (!p->timeline)
        return -1;
    for (size_t i = 0; i < p->recorded_count; i++)
        if (dm_timeline_insert(p->timeline, (uint32_t)i, &placed[i], p->track.items[i].pos))
            return -1;
    if (p->live && dm_live_relayout(p->live, &p->track, &p->placed, &p->texts, p->timeline, &p->layout))
        return -1;
    dm_stage_flush_sprites(p->stage);
    return 0;
}

/* Fit the film into the output and lay out for the result. */
static int update_geometry(player *p)
{
    int w, h;
    double aspect = p->info->has_video ? p->info->display_aspect : 16.0 / 9.0;

    if (SDL_GetRendererOutputSize(p->renderer, &w, &h))
        return -1;
    p->display = dm_stage_fit(w, h, p->info->width, p->info->height, aspect);
    return relayout(p, p->display.w, p->display.h);
}

/* ------------------------------------------------------------ audio */

static void audio_callback(void *ud, Uint8 *stream, int len)
{
    player *p = ud;
    double latency = 2.0 * p->aspec.samples / (double)p->aspec.freq;
    float *s = (float *)(void *)stream;

    dm_media_audio_pull(p->media, stream, len, latency);
    if (p->frame_log) {
        /* when this chunk will be heard, and how loud it is */
        double sum = 0, onset = -1;
        for (int i = 0; i < len / (int)sizeof(float); i++) {
            sum += (double)s[i] * s[i];
            if (onset < 0 && fabsf(s[i]) > 0.2f)
                onset = (double)(i / p->aspec.channels) / p->aspec.freq;
        }
        /* the media clock's model: the end of this chunk is heard `latency` from now */
        fprintf(p->frame_log, "audio %.6f %.6f %.6f\n",
                wall_now() + latency - (double)len / sizeof(float) / p->aspec.channels / p->aspec.freq,
                sqrt(sum / (len / (int)sizeof(float) + 1e-9)), onset);
    }
    if (SDL_AtomicGet(&p->gain_milli) < 1000) {
        float gain = (float)SDL_AtomicGet(&p->gain_milli) / 1000.0f;
        for (int i = 0; i < len / (int)sizeof(float); i++)
            s[i] *= gain;
    }
}

static void set_volume(player *p)
{
    SDL_AtomicSet(&p->gain_milli, p->muted ? 0 : (int)lround(p->volume * 10.0));
}

/*
 * Headless sound: a thread that consumes audio at exactly the real-time rate,
 * on absolute deadlines like a sound card's clock. SDL's dummy driver sleeps
 * whole milliseconds per buffer and drifts by several per cent, which would
 * make the audio master clock run slow.
 */
static int null_audio_thread(void *ud)
{
    player *p = ud;
    int bytes = p->aspec.samples * p->aspec.channels * (int)sizeof(float);
    uint8_t *buf = malloc((size_t)bytes);
    struct timespec next;
    long period_ns = (long)(1e9 * p->aspec.samples / p->aspec.freq);

    if (!buf)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!SDL_AtomicGet(&p->null_audio_stop)) {
        audio_callback(p, buf, bytes);
        next.tv_nsec += period_ns;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
    }
    free(buf);
    return 0;
}

static void open_audio(player *p, dm_media_output *out)
{
    SDL_AudioSpec want = { 0 };

    out->audio_rate = 0;
    if (!p->info->has_audio || p->opt.fast)
        return;
    if (p->opt.headless) {
        p->aspec.freq = p->info->audio_rate > 0 ? p->info->audio_rate : 48000;
        p->aspec.channels = (Uint8)(p->info->audio_channels >= 2 ? 2 : 1);
        p->aspec.samples = (Uint16)(p->aspec.freq / 50);
        out->audio_rate = p->aspec.freq;
        out->audio_channels = p->aspec.channels;
        out->audio_format = DM_AUDIO_F32;
        return;
    }
    if (SDL_InitSubSystem(SDL_INIT_AUDIO)) {
        fprintf(stderr, "danmaku: no sound (%s); playing on the wall clock\n", SDL_GetError());
        return;
    }
    want.freq = p->info->audio_rate > 0 ? p->info->audio_rate : 48000;
    want.format = AUDIO_F32SYS;
    want.channels = (Uint8)(p->info->audio_channels > 2 ? 2 : p->info->audio_channels < 1 ? 1
                                                                                      : p->info->audio_channels);
    /* 20 ms buffers: a whole number of milliseconds, so drivers that pace by
     * sleeping (the dummy one) keep real time */
    want.samples = (Uint16)(want.freq / 50);
    want.callback = audio_callback;
    want.userdata = p;
    p->audio = SDL_OpenAudioDevice(NULL, 0, &want, &p->aspec,
                                   SDL_AUDIO_ALLOW_FREQUENCY_CHANGE | SDL_AUDIO_ALLOW_CHANNELS_CHANGE);
    if (!p->audio) {
        fprintf(stderr, "danmaku: cannot open a sound device (%s); playing on the wall clock\n",
                SDL_GetError());
        return;
    }
    out->audio_rate = p->aspec.freq;
    out->audio_channels = p->aspec.channels;
    out->audio_format = DM_AUDIO_F32;
}

/* ------------------------------------------------------------ video */

/* Mean of a grid of luma samples: enough to tell a flash from black. */
static double mean_luma(const AVFrame *f)
{
    double sum = 0;
    int n = 0;

    for (int y = 0; y < f->height; y += 8)
        for (int x = 0; x < f->width; x += 8, n++)
            sum += f->data[0][(size_t)y * f->linesize[0] + x];
    return n ? sum / n : 0;
}

static int upload_frame(player *p, const AVFrame *f)
{
    dm_picture pic = { 0 };

    if (!dm_pix_fmt_is_direct((enum AVPixelFormat)f->format)) {
        if (!p->converted)
            p->converted = av_frame_alloc();
        if (!p->converted || dm_frame_to_yuv420p(&p->sws, f, p->converted) < 0)
            return -1;
        f = p->converted;
    }
    pic.format = f->format == AV_PIX_FMT_NV12 ? DM_PICTURE_NV12 : DM_PICTURE_YUV420P;
    pic.width = f->width;
    pic.height = f->height;
    for (int i = 0; i < 3; i++) {
        pic.plane[i] = f->data[i];
        pic.pitch[i] = f->linesize[i];
    }
    p->new_frame = 1;
    if (p->frame_log)
        p->frame_luma = mean_luma(f);
    return dm_stage_upload(p->stage, &pic);
}

/* ------------------------------------------------------------ drawing */

static void draw_text_box(player *p, const char *msg, int x, int y, int height)
{
    SDL_Surface *s = dm_text_render(p->text, msg, height, 0xFFFFFF, 0x000000, 1.0);
    SDL_Texture *tx;
    SDL_Rect dst;

    if (!s)
        return;
    tx = SDL_CreateTextureFromSurface(p->renderer, s);
    if (tx) {
        SDL_Rect bg = { x - 4, y - 2, s->w + 8, s->h + 4 };
        SDL_SetRenderDrawBlendMode(p->renderer, SDL_BLENDMODE_BLEND);
        SDL_SetRenderDrawColor(p->renderer, 0, 0, 0, 140);
        SDL_RenderFillRect(p->renderer, &bg);
        dst = (SDL_Rect){ x, y, s->w, s->h };
        SDL_RenderCopy(p->renderer, tx, NULL, &dst);
        SDL_DestroyTexture(tx);
    }
    SDL_FreeSurface(s);
}

static void draw_hud(player *p)
{
    char buf[512];
    double sum = 0, worst = 0, fps;
    unsigned n = p->frame_count < FRAME_TIMES ? p->frame_count : FRAME_TIMES;
    dm_media_stats ms;
    dm_sprite_cache_stats cs;

    for (unsigned i = 0; i < n; i++) {
        sum += p->frame_ms[i];
        worst = p->frame_ms[i] > worst ? p->frame_ms[i] : worst;
    }
    dm_media_get_stats(p->media, &ms);
    dm_stage_sprite_stats(p->stage, &cs);
    fps = p->frame_count / (wall_now() - p->started + 1e-9);
    snprintf(buf, sizeof buf,
             "%.2f s  %s%.2fx\nfps %.1f   frame %.2f ms (worst %.2f)\ncomments on screen %zu of %zu\n"
             "dropped frames %llu   decoded %llu\nsprite cache %.1f MiB, %zu sprites, %llu hits, %llu misses",
             p->t, dm_media_is_paused(p->media) ? "paused  " : "", p->speed, fps, n ? sum / n : 0.0, worst,
             p->on_screen, p->track.count, (unsigned long long)ms.video_frames_dropped,
             (unsigned long long)ms.video_frames_decoded, cs.bytes / 1048576.0, cs.entries,
             (unsigned long long)cs.hits, (unsigned long long)cs.misses);
    draw_text_box(p, buf, 12, 12, 22);
}

/*
 * Live comments that arrived while the frame was drawn join it just before
 * the present ("late latching"): they come last in draw order anyway, having
 * the highest indexes, so the picture is the one a single pass would draw.
 */
static int compose_late_live(player *p, const dm_stage_comments *base, int64_t t_ms)
{
    size_t before = p->track.count, first, n;
    dm_stage_comments c;

    if (dm_live_take(p->live, &p->track, &p->placed, &p->texts, p->timeline, &p->layout))
        return -1;
    if (!p->show_comments || !p->timeline || p->track.count == before)
        return 0;
    if (dm_timeline_query_all(p->timeline, t_ms, &p->visible, &p->visible_cap, &n))
        return -1;
    /* the timeline lists comments in index order: the new ones are last */
    for (first = n; first > 0 && p->visible[first - 1].index >= before; first--)
        ;
    c = *base;
    c.items = p->track.items;
    c.texts = p->texts;
    c.visible = p->visible + first;
    c.count = n - first;
    p->on_screen = n;
    return dm_stage_draw_more(p->stage, &p->display, &c);
}

static int compose(player *p)
{
    dm_stage_comments c = { 0 };
    int64_t t_ms = (int64_t)llround(p->t * 1000.0);
    size_t n = 0;

    if (p->live && dm_live_drain(p->live, t_ms, dm_media_is_paused(p->media), &p->track, &p->placed, &p->texts,
                                 p->timeline, &p->layout))
        return -1;
    if (p->show_comments && p->timeline) {
        if (dm_timeline_query_all(p->timeline, t_ms, &p->visible, &p->visible_cap, &n))
            return -1;
        c.items = p->track.items;
        c.texts = p->texts;
        c.layout = &p->layout;
        c.visible = p->visible;
        c.count = n;
        c.opacity = p->opt.opacity;
    }
    p->on_screen = n;
    if (dm_stage_draw(p->stage, &p->display, p->show_comments ? &c : NULL))
        return -1;
    if (p->live && compose_late_live(p, &c, t_ms))
        return -1;
    if (p->live) {
        dm_live_screen_stats(p->live, p->on_screen);
        dm_live_draw(p->live, p->renderer, &p->display);
    }
    if (p->hud)
        draw_hud(p);
    if (p->osd[0] && wall_now() < p->osd_until)
        draw_text_box(p, p->osd, 12, p->hud ? 150 : 12, 28);
    return 0;
}

/* Save what the renderer holds now as PNG. */
static int save_png(player *p, const char *path)
{
    int w, h, rc;
    uint8_t *rgba;
    char err[256] = "";

    if (SDL_GetRendererOutputSize(p->renderer, &w, &h))
        return -1;
    rgba = malloc((size_t)w * h * 4);
    if (!rgba)
        return -1;
    /* ABGR8888 is R, G, B, A in memory on little-endian machines, RGBA32 everywhere */
    rc = SDL_RenderReadPixels(p->renderer, NULL, SDL_PIXELFORMAT_RGBA32, rgba, w * 4);
    if (rc == 0)
        rc = dm_png_write(path, rgba, w, h, w * 4, err, sizeof err);
    free(rgba);
    if (rc) {
        fprintf(stderr, "danmaku: cannot save screenshot %s: %s\n", path, err[0] ? err : SDL_GetError());
        return -1;
    }
    if (p->opt.verbose)
        fprintf(stderr, "danmaku: screenshot %s at %.3f s\n", path, p->t);
    return 0;
}

/* Present the frame and do what follows a present: log, screenshots, stats. */
static int present(player *p, double began)
{
    SDL_RenderPresent(p->renderer);
    if (p->live)
        dm_live_presented(p->live);
    p->frame_ms[p->frame_count % FRAME_TIMES] = (wall_now() - began) * 1000.0;
    p->frame_count++;
    if (p->new_frame && p->frame_log)
        fprintf(p->frame_log, "video %.6f %.6f %.6f %.2f\n", p->frame_pts,
                p->opt.fast ? p->t : dm_media_clock(p->media), wall_now(), p->frame_luma);
    p->new_frame = 0;
    for (int i = 0; i < p->opt.shot_count; i++) {
        dm_screenshot_req *s = &p->opt.shots[i];
        if (!s->done && p->t + 1e-6 >= s->at) {
            s->done = 1;
            if (save_png(p, s->path))
                return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ input */

static void seek_by(player *p, double delta)
{
    double target = p->t + delta;

    if (target < 0)
        target = 0;
    if (p->info->duration > 0 && target > p->info->duration)
        target = p->info->duration;
    dm_media_seek(p->media, target);
    p->t = target;
    p->seeked = 1;
}

static void handle_key(player *p, SDL_Keycode key)
{
    char msg[64];

    switch (key) {
    case SDLK_SPACE:
        dm_media_set_paused(p->media, !dm_media_is_paused(p->media));
        osd(p, dm_media_is_paused(p->media) ? "Paused" : "Playing");
        break;
    case SDLK_LEFT: seek_by(p, -SEEK_SHORT); break;
    case SDLK_RIGHT: seek_by(p, SEEK_SHORT); break;
    case SDLK_UP: seek_by(p, SEEK_LONG); break;
    case SDLK_DOWN: seek_by(p, -SEEK_LONG); break;
    case SDLK_9:
    case SDLK_KP_DIVIDE:
    case SDLK_0:
    case SDLK_KP_MULTIPLY:
        p->volume += (key == SDLK_9 || key == SDLK_KP_DIVIDE) ? -2 : 2;
        p->volume = p->volume < 0 ? 0 : p->volume > 100 ? 100 : p->volume;
        set_volume(p);
        snprintf(msg, sizeof msg, "Volume %.0f %%", p->volume);
        osd(p, msg);
        break;
    case SDLK_m:
        p->muted = !p->muted;
        set_volume(p);
        osd(p, p->muted ? "Mute" : "Sound on");
        break;
    case SDLK_f:
        if (p->window) {
            int full = SDL_GetWindowFlags(p->window) & SDL_WINDOW_FULLSCREEN_DESKTOP;
            SDL_SetWindowFullscreen(p->window, full ? 0 : SDL_WINDOW_FULLSCREEN_DESKTOP);
        }
        break;
    case SDLK_d:
        p->show_comments = !p->show_comments;
        osd(p, p->show_comments ? "Comments on" : "Comments off");
        break;
    case SDLK_LEFTBRACKET:
    case SDLK_RIGHTBRACKET:
        p->speed = dm_media_set_speed(p->media, key == SDLK_LEFTBRACKET ? p->speed / 1.1 : p->speed * 1.1);
        if (fabs(p->speed - 1.0) < 0.02)
            p->speed = dm_media_set_speed(p->media, 1.0);
        snprintf(msg, sizeof msg, "Speed %.2fx%s", p->speed, p->speed != 1.0 ? " (muted)" : "");
        osd(p, msg);
        break;
    case SDLK_s: {
        char path[4096];
        snprintf(path, sizeof path, "%s/danmaku-shot-%04u.png", p->opt.screenshot_dir, ++p->shots_taken);
        if (save_png(p, path) == 0) {
            snprintf(msg, sizeof msg, "Screenshot %04u saved", p->shots_taken);
            osd(p, msg);
            fprintf(stderr, "danmaku: screenshot saved to %s\n", path);
        }
        break;
    }
    case SDLK_i: p->hud = !p->hud; break;
    case SDLK_c:
        if (p->live)
            dm_live_toggle_qr(p->live);
        break;
    case SDLK_x:
        if (dm_live_clear_screen(p->live, &p->track, p->placed, p->timeline, (int64_t)llround(p->t * 1000.0)) >= 0)
            osd(p, "Screen cleared");
        break;
    case SDLK_p:
        if (p->live)
            osd(p, dm_live_toggle_feed(p->live) ? "Live feed paused" : "Live feed resumed");
        break;
    case SDLK_q:
    case SDLK_ESCAPE: p->quit = 1; break;
    default: break;
    }
}

static void handle_events(player *p)
{
    SDL_Event e;

    while (SDL_PollEvent(&e)) {
        if (e.type == SDL_QUIT)
            p->quit = 1;
        else if (e.type == SDL_KEYDOWN)
            handle_key(p, e.key.keysym.sym);
        else if (e.type == SDL_WINDOWEVENT && e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
            update_geometry(p);
    }
}

/* ------------------------------------------------------------ loops */

/* Script keys due at the current time run before drawing. */
static void run_script_keys(player *p)
{
    const dm_script_cmd *c;

    while ((c = dm_script_due(&p->script, p->t)) != NULL && c->kind == DM_SCRIPT_KEY) {
        p->script.next++;
        handle_key(p, c->key);
    }
}

/* Script screenshots due at the current time run after presenting. */
static int run_script_shots(player *p)
{
    const dm_script_cmd *c = dm_script_due(&p->script, p->t);

    if (c && c->kind == DM_SCRIPT_SCREENSHOT) {
        p->script.next++;
        return save_png(p, c->path);
    }
    return 0;
}

static int at_end(player *p, double t)
{
    if (p->opt.until >= 0 && t >= p->opt.until)
        return 1;
    return 0;
}

/* Real time: the master clock drives everything; present at the display rate. */
static int run_realtime(player *p)
{
    double next_tick = wall_now();

    if (p->opt.start > 0)
        dm_media_seek(p->media, p->opt.start);
    if (p->audio)
        SDL_PauseAudioDevice(p->audio, 0);
    else if (p->opt.headless && p->aspec.freq > 0)
        p->null_audio = SDL_CreateThread(null_audio_thread, "null-audio", p);
    while (!p->quit) {
        double remaining = 1.0 / REFRESH_HZ, began, clk, wait;
        int r = DM_MEDIA_AGAIN;

        handle_events(p);
        began = wall_now();
        if (p->info->has_video) {
            r = dm_media_video_refresh(p->media, &remaining);
            if (r == DM_MEDIA_OK) {
                dm_frame_info fi;
                const AVFrame *f = dm_media_video_current(p->media, &fi);
                if (f && upload_frame(p, f) == 0)
                    p->frame_pts = fi.pts;
            }
        }
        clk = dm_media_clock(p->media);
        if (!isnan(clk) && !p->seeked)
            p->t = clk;
        p->seeked = 0;
        run_script_keys(p);
        if (compose(p) || present(p, began) || run_script_shots(p))
            return -1;
        if (at_end(p, p->t))
            break;
        if (dm_media_eof(p->media) && (!p->info->has_video || r == DM_MEDIA_EOF))
            break;
        next_tick += 1.0 / REFRESH_HZ;
        if (next_tick < wall_now())
            next_tick = wall_now();   /* we fell behind: do not try to catch up in a burst */
        wait = next_tick - wall_now();
        if (remaining < wait)
            wait = remaining;
        /* sleep until the next refresh or frame, but wake for an event: a
         * live comment then reaches the screen at once rather than at the
         * next tick (at most twice the refresh rate, to bound the work) */
        if (wait > 0.0005 && SDL_WaitEventTimeout(NULL, (int)(wait * 1000.0)) == 1) {
            double early = began + 0.5 / REFRESH_HZ - wall_now();
            if (early > 0.0005)
                SDL_Delay((Uint32)(early * 1000.0));
        }
    }
    return 0;
}

/* --fast: a simulated 60 Hz display stepping through the film. */
static int run_fast(player *p)
{
    double t = p->opt.start, end = p->info->duration;
    dm_frame_info next = { 0 };
    int have_next = 0;

    if (p->opt.until >= 0 && (end <= 0 || p->opt.until < end))
        end = p->opt.until;
    if (p->opt.start > 0)
        dm_media_seek(p->media, p->opt.start);
    if (p->info->has_video)
        have_next = dm_media_video_peek(p->media, &next, 1) == DM_MEDIA_OK;
    while (!p->quit) {
        double began = wall_now(), step = t + 1.0 / REFRESH_HZ;

        handle_events(p);
        p->t = t;
        run_script_keys(p);
        if (p->seeked) {
            /* show the first frame at the new position at once */
            p->seeked = 0;
            t = p->t;
            have_next = p->info->has_video && dm_media_video_peek(p->media, &next, 1) == DM_MEDIA_OK;
            if (have_next && next.pts < t + 1.0)
                next.pts = t;
        }
        while (have_next && next.pts <= t + 1e-6) {
            av_frame_unref(p->frame);
            if (dm_media_video_take(p->media, p->frame, &next, 1) != DM_MEDIA_OK)
                break;
            p->frame_pts = next.pts;
            if (upload_frame(p, p->frame))
                return -1;
            have_next = dm_media_video_peek(p->media, &next, 1) == DM_MEDIA_OK;
        }
        p->t = t;
        if (compose(p) || present(p, began) || run_script_shots(p))
            return -1;
        if (t >= end - 1e-9 || (end <= 0 && !have_next))
            break;
        /* land exactly on requested screenshot and script times */
        for (int i = 0; i < p->opt.shot_count; i++)
            if (!p->opt.shots[i].done && p->opt.shots[i].at > t && p->opt.shots[i].at < step)
                step = p->opt.shots[i].at;
        if (dm_script_next_time(&p->script) > t && dm_script_next_time(&p->script) < step)
            step = dm_script_next_time(&p->script);
        t = step < end ? step : end;
    }
    return 0;
}

/* ------------------------------------------------------------ setup */

static int have_display(void)
{
    const char *drv = getenv("SDL_VIDEODRIVER");

    if (drv && *drv)
        return strcmp(drv, "dummy") && strcmp(drv, "offscreen");
    return getenv("DISPLAY") || getenv("WAYLAND_DISPLAY");
}

static int open_output(player *p)
{
    int w = p->opt.size_w, h = p->opt.size_h;

    if (!w || !h) {
        w = p->info->has_video ? p->info->width : 1280;
        h = p->info->has_video ? p->info->height : 720;
        if (p->info->has_video && p->info->display_aspect > 0)
            w = (int)lround(h * p->info->display_aspect);
    }
    if (p->opt.headless) {
        p->canvas = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
        if (p->canvas)
            p->renderer = SDL_CreateSoftwareRenderer(p->canvas);
    } else {
        if (SDL_InitSubSystem(SDL_INIT_VIDEO)) {
            fprintf(stderr, "danmaku: cannot open a window (%s); use --headless\n", SDL_GetError());
            return -1;
        }
        p->window = SDL_CreateWindow("danmaku", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                                     SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI |
                                         (p->opt.fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0));
        if (p->window)
            p->renderer = SDL_CreateRenderer(p->window, -1, 0);
    }
    if (!p->renderer) {
        fprintf(stderr, "danmaku: cannot create a renderer: %s\n", SDL_GetError());
        return -1;
    }
    return 0;
}

static void log_media(void *ud, int level, const char *message)
{
    const player *p = ud;

    if (level <= 24 /* AV_LOG_WARNING */ || p->opt.verbose)
        fprintf(stderr, "danmaku: %s\n", message);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* No FILM: the bundled demo, headless with screenshots when there is no display. */
static int setup_demo(player *p, char *dir, size_t dirlen)
{
    static char film[4096], track[4096];
    static char shot_paths[5][4200];
    static const double shot_at[5] = { 3.0, 9.0, 14.5, 20.5, 26.0 };

    snprintf(film, sizeof film, "%s/demo/demo.mp4", DM_ASSETS_DIR);
    snprintf(track, sizeof track, "%s/demo/demo-track.xml", DM_ASSETS_DIR);
    p->opt.film = film;
    p->opt.demo = 1;
    if (p->opt.track_count == 0)
        p->opt.tracks[p->opt.track_count++] = track;
    if (p->opt.headless || have_display())
        return 0;
    /* no display: render headless, write screenshots, say where */
    p->opt.headless = p->opt.fast = 1;
    if (!p->opt.size_w) {
        p->opt.size_w = 1280;
        p->opt.size_h = 720;
    }
    snprintf(dir, dirlen, "%s/danmaku-demo", getenv("PWD") ? getenv("PWD") : ".");
    if (mkdir(dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "danmaku: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < 5 && p->opt.shot_count < DM_MAX_SCREENSHOTS; i++) {
        snprintf(shot_paths[i], sizeof shot_paths[i], "%s/demo-%04.1fs.png", dir, shot_at[i]);
        p->opt.shots[p->opt.shot_count].at = shot_at[i];
        p->opt.shots[p->opt.shot_count++].path = shot_paths[i];
    }
    return 1;
}

static void cleanup(player *p)
{
    if (p->audio)
        SDL_CloseAudioDevice(p->audio);
    if (p->null_audio) {
        SDL_AtomicSet(&p->null_audio_stop, 1);
        SDL_WaitThread(p->null_audio, NULL);
    }
    dm_live_stop(&p->live);
    dm_media_close(&p->media);
    av_frame_free(&p->frame);
    av_frame_free(&p->converted);
    sws_freeContext(p->sws);
    dm_stage_free(&p->stage);
    dm_text_free(&p->text);
    dm_timeline_free(&p->timeline);
    dm_texts_free(p->texts, p->track.count);
    free(p->placed);
    free(p->visible);
    dm_track_clear(&p->track);
    if (p->renderer)
        SDL_DestroyRenderer(p->renderer);
    if (p->window)
        SDL_DestroyWindow(p->window);
    if (p->canvas)
        SDL_FreeSurface(p->canvas);
    if (p->frame_log)
        fclose(p->frame_log);
    dm_script_free(&p->script);
    SDL_Quit();
}

int main(int argc, char **argv)
{
    player p = { 0 };
    dm_media_options mo = { 0 };
    dm_media_output out = { .video = 1 };
    char err[512] = "", demo_dir[4096] = "";
    int rc = 1, headless_demo = 0;

    switch (player_parse_options(argc, argv, &p.opt)) {
    case 1: return 0;
    case -1: return 1;
    default: break;
    }
    if (!p.opt.film) {
        headless_demo = setup_demo(&p, demo_dir, sizeof demo_dir);
        if (headless_demo < 0)
            return 1;
    }
    if (!file_exists(p.opt.film)) {
        fprintf(stderr, "danmaku: %s: no such file\n", p.opt.film);
        return 1;
    }
    p.show_comments = !p.opt.no_comments;
    p.volume = p.opt.volume;
    p.speed = 1.0;
    p.frame_pts = NAN;
    if (SDL_Init(SDL_INIT_EVENTS)) {
        fprintf(stderr, "danmaku: cannot start SDL: %s\n", SDL_GetError());
        return 1;
    }
    if (load_tracks(&p))
        goto done;
    if (p.opt.script && dm_script_load(&p.script, p.opt.script))
        goto done;
    /* libav's own chatter would repeat per packet; dm_media reports each problem once */
    av_log_set_level(p.opt.verbose ? AV_LOG_WARNING : AV_LOG_QUIET);
    mo.log = log_media;
    mo.log_ud = &p;
    if (dm_media_open(&p.media, p.opt.film, &mo, err, sizeof err)) {
        fprintf(stderr, "danmaku: %s\n", err);
        goto done;
    }
    p.info = dm_media_get_info(p.media);
    p.frame = av_frame_alloc();
    if (!p.frame || open_output(&p))
        goto done;
    p.text = dm_text_new(p.opt.font, DM_TEXT_OUTLINE_DEFAULT, err, sizeof err);
    if (!p.text) {
        fprintf(stderr, "danmaku: %s\n", err);
        goto done;
    }
    p.stage = dm_stage_new(p.renderer, p.text, 0, err, sizeof err);
    if (!p.stage) {
        fprintf(stderr, "danmaku: %s\n", err);
        goto done;
    }
    if (p.canvas)
        dm_stage_set_canvas(p.stage, p.canvas);   /* software: the SIMD blender on two cores */
    if (p.opt.listen && dm_live_start(&p.live, &p.opt, p.text, p.recorded_count))
        goto done;
    if (update_geometry(&p))
        goto done;
    if (p.opt.log_frames)
        p.frame_log = fopen(p.opt.log_frames, "w");
    if (p.opt.log_frames && !p.frame_log) {
        fprintf(stderr, "danmaku: cannot write %s: %s\n", p.opt.log_frames, strerror(errno));
        goto done;
    }
    open_audio(&p, &out);
    set_volume(&p);
    if (dm_media_start(p.media, &out, err, sizeof err)) {
        fprintf(stderr, "danmaku: %s\n", err);
        goto done;
    }
    p.started = wall_now();
    if ((p.opt.fast ? run_fast(&p) : run_realtime(&p)) == 0)
        rc = 0;
    if (p.live && dm_live_finish(p.live, (int64_t)floor(p.t * 1000.0), &p.track, &p.placed, &p.texts, p.timeline,
                                 &p.layout, dm_text_family(p.text), dm_text_outline(p.text)))
        rc = 1;
    if (p.opt.stats) {
        dm_media_stats ms;
        dm_media_get_stats(p.media, &ms);
        fprintf(stderr, "danmaku: %u frames presented, %llu video frames decoded, %llu dropped, %llu decode errors\n",
                p.frame_count, (unsigned long long)ms.video_frames_decoded,
                (unsigned long long)ms.video_frames_dropped, (unsigned long long)ms.decode_errors);
    }
    if (rc == 0 && headless_demo)
        printf("danmaku: no display found, so the demo was rendered headless.\n"
               "danmaku: screenshots of the demo are in %s/\n", demo_dir);
done:
    cleanup(&p);
    return rc;
}
