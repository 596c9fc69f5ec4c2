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
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <SDL.h>
#include <libavutil/md5.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>

#include "danmaku.h"
#include "data_dir.h"
#include "live.h"
#include "media.h"
#include "options.h"
#include "script.h"
#include "stage.h"
#include "film_clock.h"
#include "filter_cli.h"
#include "label.h"
#include "pacing.h"
#include "subs.h"
#include "text.h"


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
    FILE *audio_dump;             /* --audio-dump: a WAV of what the device is sent; audio thread while playing */
    uint32_t dump_bytes;          /* its data bytes so far */
    int dump_rate, dump_channels; /* its format (the first film's sound) */
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
    dm_scene *scene;              /* every comment of every --track, then the live ones */
    dm_live *live;                /* --listen: the live feed, else NULL */
    size_t on_screen;             /* comments drawn in the last frame */
    int drawn_osd;                /* the OSD line was on the last frame drawn */
    int redraw;                   /* something besides the film and comments changed: draw the next frame */
    /* film subtitles: main thread only */
    dm_subs *subs;                /* NULL: the film has none (or --sid no) */
    int subs_visible;             /* v toggles */
    int laid_out;                 /* the scene has its first layout */
    SDL_Texture **sub_tex;        /* renderer path: one texture per rectangle of the frame on screen */
    size_t sub_tex_n, sub_tex_cap;
    uint64_t sub_serial;          /* the subtitle frame those textures hold */
    int summarised;               /* the summary line of the comments was printed */
    SDL_Rect display;             /* the film's rectangle in the output */
    /* state */
    double t;                     /* film seconds of the frame being drawn */
    int show_comments;            /* d toggles */
    int muted;                    /* m toggles */
    double volume;                /* 0..100 */
    double speed;                 /* playback speed */
    int hud;                      /* i toggles the statistics overlay */
    int quit;
    char osd[256];                /* short message after a key */
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
    double sim_now;               /* --fast: the simulated display's clock */
    dm_pacer pacer;               /* real time: when each frame will be shown */
    int vsync;                    /* the renderer presents in step with the display */
    int display_index;            /* the display the window is on */
    int display_changed;          /* the window moved to another display (or its mode changed) */
    double target;                /* when the frame being drawn will be shown (dm_now seconds) */
    double drawn_for;             /* the moment p->t is the film time of: target, or now when late */
    double drawn_at;              /* when its drawing ended (just before the present) */
    double bar_until;             /* display seconds when the seek bar OSD disappears */
    int drawn_bar;                /* the seek bar was on the last frame drawn */
    uint32_t *density;            /* the comment density over the film, one bin per pixel of the bar */
    size_t density_n;             /* bins computed */
    size_t density_comments;      /* the scene's comment count they were computed for (live ones come) */
    int density_stale;            /* a filter changed */
    char shot_clean[4096];        /* the s key: a screenshot of the next frame without the OSD */
    char shot_window[4096];       /* S: with it */
    int loops_left;               /* --loop: plays to come, -1 forever */
    /* the night: the programme's entries, one after another */
    size_t entry;                 /* the entry playing (or coming, in an intermission) */
    long entry_request;           /* >= 0: go to that entry now (>, <, Enter, the console); -1: none */
    int in_break;                 /* the intermission card is on screen */
    double break_left;            /* its countdown, seconds */
    uint64_t last_comments;       /* comments shown in the last film, for the card */
    double start, until;          /* the entry's film times to play from and to (until < 0: its end) */
    dm_subs_cli esubs;            /* the subtitle options with the entry's files */
    dm_label *label;              /* the AIGC label of an AI-generated entry, NULL: none */
    /* a live night: what the audience page and the console are told, and the host's film controls */
    const char **prog_titles, **prog_credits; /* the programme's, for dm_net_programme */
    unsigned char *prog_aigc;
    double prog_sent_at;          /* when it was last published (wall seconds) */
    long prog_key[4];             /* entry, intermission, pause, volume as last published */
    int live_films;               /* films begun with the live feed up (the first has its recording from the start) */
    unsigned host_controls[DM_NET_BREAK_ADD + 1]; /* film controls carried out, by kind */
    /* --overlay: no film; its clock is the host's wall clock or a running mpv's */
    dm_media_info overlay_info;   /* what stands for the film: the stage's size, the comments' length */
    dm_film_clock fclock;         /* the host's clock (without --follow-mpv) */
    dm_mpv *mpv;                  /* --follow-mpv */
    SDL_Window *key_window;       /* --key-fill: the key's window (the fill's is `window`) */
    SDL_Renderer *win_renderer, *key_renderer; /* the windows' renderers: the canvas is shown through them */
    SDL_Texture *win_tex, *key_tex;
    SDL_Surface *key_surface;     /* the key: the canvas's alpha as grey */
    SDL_Texture *label_tex[2];    /* its card and corner, and the surfaces they were made from */
    SDL_Surface *label_of[2];
    int quit_by_user;             /* q, Esc or the window closed (not the film's end) */
    uint32_t tracked;             /* --log-frames: the scrolling comment whose x is logged, UINT32_MAX none */
    float tracked_x;              /* its x in the frame drawn */
    dm_hist *frame_hist;          /* --stats: compose + present of every frame */
    unsigned long long draw_calls, draw_calls_max; /* GPU path: draw calls for comments, summed, and the most in a frame */
    dm_hist *subs_hist;           /* --stats: the subtitles' share of it (frames with subtitles on) */
} player;

/* The display's clock: the wall's, or with --fast the simulated display's
 * (so what the OSD shows in a screenshot does not depend on the machine). */
static double display_now(const player *p)
{
    return p->opt.fast ? p->sim_now : dm_now();
}

static void osd(player *p, const char *msg)
{
    snprintf(p->osd, sizeof p->osd, "%s", msg);
    p->osd_until = display_now(p) + OSD_SECONDS;
}

/* ------------------------------------------------------------ the film's clock */

/* The film's, or in overlay mode the host's clock or mpv's. */
static int film_paused(const player *p)
{
    return p->media ? dm_media_is_paused(p->media) : p->mpv ? dm_mpv_paused(p->mpv) : p->fclock.paused;
}

static double film_now(const player *p)
{
    if (p->media)
        return dm_media_clock(p->media);
    return p->mpv ? dm_mpv_time(p->mpv, dm_now()) : dm_film_clock_at(&p->fclock, dm_now());
}

static void film_set_paused(player *p, int paused)
{
    if (p->media)
        dm_media_set_paused(p->media, paused);
    else if (p->mpv)
        dm_mpv_set_paused(p->mpv, paused);
    else
        dm_film_clock_set_paused(&p->fclock, paused, dm_now());
}

static void film_seek_clock(player *p, double t)
{
    if (p->media)
        dm_media_seek(p->media, t);
    else if (p->mpv)
        dm_mpv_seek(p->mpv, t, 0);
    else
        dm_film_clock_seek(&p->fclock, t, dm_now());
}

/* ------------------------------------------------------------ comments */

/* The film's scene: every --track in order (a live screening's comments follow). */
static int load_tracks(player *p)
{
    dm_scene_opts so = { 0 };
    dm_diag diag = { 0 };

    /* the real stage comes with the output (update_geometry) */
    so.layout = dm_layout_opts_for_stage(&p->opt.layout, 1920, 1080, p->opt.font_px);
    so.measure = dm_text_measure;
    so.measure_ud = p->text;
    /* helpers measure a resize's comments on the other cores (their clones learn the track's
     * text in the first layout; a one-off layout, as the converter's, gains nothing from them) */
    so.measure_clone = dm_text_measure_clone;
    so.measure_clone_free = dm_text_measure_clone_free;
    so.live = p->opt.listen != NULL;
    /* a resize lays out what is near the film's time first, the rest as the film reaches it */
    so.near_playhead = 1;
    /* the viewer's filter: the options', changed by the keys */
    if (!p->opt.filter && !(p->opt.filter = dm_filter_new())) {
        fprintf(stderr, "danmaku: out of memory\n");
        return -1;
    }
    so.filter = p->opt.filter;
    p->scene = dm_scene_new(&so, &diag);
    if (!p->scene) {
        fprintf(stderr, "danmaku: %s\n", diag.error);
        return -1;
    }
    for (int i = 0; i < p->opt.track_count; i++) {
        int err;
        memset(&diag, 0, sizeof diag);
        dm_track_file file = { .path = p->opt.tracks[i], .offset_ms = p->opt.track_offsets_ms[i] };
        err = dm_scene_read(p->scene, &file, &diag);
        if (err) {
            fprintf(stderr, "danmaku: %s\n", diag.error[0] ? diag.error : dm_strerror(err));
            return -1;
        }
        if (diag.warnings && p->opt.verbose)
            fprintf(stderr, "danmaku: %s: %u comments skipped or repaired\n", p->opt.tracks[i], diag.warnings);
    }
    return 0;
}

/* The one summary line: what became of the comments (dm_scene_summary). */
static void print_summary(player *p)
{
    char line[512], label[4200];   /* a track's whole path */

    if (p->opt.track_count == 1)
        snprintf(label, sizeof label, "%s", p->opt.tracks[0]);
    else
        snprintf(label, sizeof label, "%d tracks%s", p->opt.track_count, p->opt.listen ? " and the live feed" : "");
    fprintf(stderr, "danmaku: %s: %s\n", label, dm_scene_summary(p->scene, line, sizeof line));
    p->summarised = 1;
}

static void free_label(player *p)
{
    for (int k = 0; k < 2; k++) {
        if (p->label_tex[k])
            SDL_DestroyTexture(p->label_tex[k]);
        p->label_tex[k] = NULL;
        p->label_of[k] = NULL;
    }
    dm_label_free(&p->label);
}

/* The AIGC label over everything: the picture, the comments (which keep off it) and the subtitles. */
static void draw_label(player *p, int64_t t_ms)
{
    SDL_Rect at, dst;
    SDL_Surface *s = p->label ? dm_label_at(p->label, t_ms, (int64_t)llround(p->start * 1000.0), &at) : NULL;
    int k;

    if (!s)
        return;
    k = s == p->label_of[0] ? 0 : s == p->label_of[1] ? 1 : !p->label_of[0] ? 0 : 1;
    if (p->label_of[k] != s) {
        if (p->label_tex[k])
            SDL_DestroyTexture(p->label_tex[k]);
        p->label_tex[k] = SDL_CreateTextureFromSurface(p->renderer, s);
        p->label_of[k] = p->label_tex[k] ? s : NULL;
        if (!p->label_tex[k])
            return;
        SDL_SetTextureBlendMode(p->label_tex[k], SDL_BLENDMODE_BLEND);
    }
    dst = (SDL_Rect){ p->display.x + at.x, p->display.y + at.y, at.w, at.h };
    SDL_RenderCopy(p->renderer, p->label_tex[k], NULL, &dst);
}

/* Lay the comments out for the stage (at start, and when the window is resized). */
static int relayout(player *p, int stage_w, int stage_h)
{
    dm_layout_opts lo = dm_layout_opts_for_stage(&p->opt.layout, stage_w, stage_h, p->opt.font_px);
    const dm_layout_opts *now = dm_scene_layout_opts(p->scene);
    dm_diag diag = { 0 };
    char err[512] = "";
    double t0 = dm_now();
    int rc;

    if (p->laid_out && now->stage_w == lo.stage_w && now->stage_h == lo.stage_h && now->font_px == lo.font_px)
        return 0;
    /* an AI-generated film's label, sized for the stage: an obstacle, so no comment covers it */
    if (p->opt.prog.count && p->opt.prog.entries[p->entry].aigc) {
        dm_obstacle boxes[2];
        size_t nb;
        free_label(p);
        p->label = dm_label_new(p->text, p->opt.prog.aigc_text, lo.stage_w, lo.stage_h, err, sizeof err);
        if (!p->label) {
            fprintf(stderr, "danmaku: %s\n", err);
            return -1;
        }
        nb = dm_label_obstacles(p->label, (int64_t)llround(p->start * 1000.0),
                                p->until >= 0 ? (int64_t)llround(p->until * 1000.0) : -1, boxes);
        if (dm_scene_set_labels(p->scene, boxes, nb)) {
            fprintf(stderr, "danmaku: out of memory\n");
            return -1;
        }
    }
    /* the new stage, with the subtitles' boxes on it, in one layout */
    rc = dm_subs_cli_update(&p->esubs, p->subs, p->subs_visible, p->scene, &lo, INT64_MIN, err, sizeof err);
    if (!rc)
        rc = dm_scene_layout(p->scene, &diag);
    if (rc) {
        fprintf(stderr, "danmaku: %s\n", err[0] ? err : diag.error[0] ? diag.error : dm_strerror(rc));
        return -1;
    }
    if (p->laid_out && p->opt.verbose)
        fprintf(stderr, "danmaku: comments laid out again for a %dx%d stage (%d px font) in %.2f ms\n", lo.stage_w,
                lo.stage_h, lo.font_px, (dm_now() - t0) * 1000);
    p->laid_out = 1;
    dm_stage_flush_sprites(p->stage);
    /* a live scene is summed up at the end, when the film has reached its comments */
    if (!p->summarised && !p->opt.listen)
        print_summary(p);
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

static void close_audio_dump(player *p);

/* --audio-dump: a 16-bit PCM WAV header for `bytes` of data. */
static void wav_header(uint8_t h[44], int rate, int channels, uint32_t bytes)
{
    uint32_t v[] = { 36 + bytes, 16, (uint32_t)rate, (uint32_t)(rate * channels * 2), bytes };
    memcpy(h, "RIFF", 4);
    memcpy(h + 8, "WAVEfmt ", 8);
    memcpy(h + 36, "data", 4);
    for (int i = 0; i < 4; i++) {
        h[4 + i] = (uint8_t)(v[0] >> (8 * i));
        h[16 + i] = (uint8_t)(v[1] >> (8 * i));
        h[24 + i] = (uint8_t)(v[2] >> (8 * i));
        h[28 + i] = (uint8_t)(v[3] >> (8 * i));
        h[40 + i] = (uint8_t)(v[4] >> (8 * i));
    }
    h[20] = 1;   /* PCM */
    h[21] = 0;
    h[22] = (uint8_t)channels;
    h[23] = 0;
    h[32] = (uint8_t)(channels * 2);   /* block align */
    h[33] = 0;
    h[34] = 16;   /* bits per sample */
    h[35] = 0;
}

/* The sound as the device gets it (after the volume), appended to the dump. */
static void dump_audio(player *p, const float *s, int n)
{
    int16_t buf[4096];

    for (int i = 0; i < n;) {
        int k = n - i < 4096 ? n - i : 4096;
        for (int j = 0; j < k; j++) {
            float v = s[i + j] * 32767.0f;
            buf[j] = (int16_t)(v > 32767.0f ? 32767 : v < -32768.0f ? -32768 : lrintf(v));
        }
        if (fwrite(buf, sizeof(int16_t), (size_t)k, p->audio_dump) != (size_t)k)
            return;
        p->dump_bytes += (uint32_t)k * 2;
        i += k;
    }
}

/* Open the dump for the sound `rate` x `channels` (the first film's), or check a later film's matches. */
static void open_audio_dump(player *p, int rate, int channels)
{
    uint8_t h[44];

    if (!p->audio_dump)
        return;
    if (p->dump_rate) {
        if (rate != p->dump_rate || channels != p->dump_channels) {
            fprintf(stderr, "danmaku: --audio-dump: this film's sound is %d Hz x %d, the dump's %d Hz x %d: "
                            "the dump stops here\n", rate, channels, p->dump_rate, p->dump_channels);
            close_audio_dump(p);
        }
        return;
    }
    p->dump_rate = rate;
    p->dump_channels = channels;
    wav_header(h, rate, channels, 0);
    if (fwrite(h, 1, sizeof h, p->audio_dump) != sizeof h) {
        fprintf(stderr, "danmaku: cannot write %s: %s\n", p->opt.audio_dump, strerror(errno));
        fclose(p->audio_dump);
        p->audio_dump = NULL;
    }
}

/* With the sound stopped: the header's sizes, and the file closed. */
static void close_audio_dump(player *p)
{
    uint8_t h[44];

    if (!p->audio_dump)
        return;
    /* no film had sound: a valid WAV with no samples */
    wav_header(h, p->dump_rate ? p->dump_rate : 48000, p->dump_rate ? p->dump_channels : 2, p->dump_bytes);
    if (fseek(p->audio_dump, 0, SEEK_SET) || fwrite(h, 1, sizeof h, p->audio_dump) != sizeof h ||
        fclose(p->audio_dump))
        fprintf(stderr, "danmaku: cannot write %s: %s\n", p->opt.audio_dump, strerror(errno));
    p->audio_dump = NULL;
}

static void audio_callback(void *ud, Uint8 *stream, int len)
{
    player *p = ud;
    double latency = 2.0 * p->aspec.samples / (double)p->aspec.freq;
    float *s = (float *)(void *)stream;

    dm_media_audio_pull(p->media, stream, len, latency);
    if (SDL_AtomicGet(&p->gain_milli) < 1000) {
        float gain = (float)SDL_AtomicGet(&p->gain_milli) / 1000.0f;
        for (int i = 0; i < len / (int)sizeof(float); i++)
            s[i] *= gain;
    }
    if (p->frame_log) {
        /* when this chunk will be heard, and how loud it is (at the volume set) */
        double sum = 0, onset = -1;
        for (int i = 0; i < len / (int)sizeof(float); i++) {
            sum += (double)s[i] * s[i];
            if (onset < 0 && fabsf(s[i]) > 0.2f)
                onset = (double)(i / p->aspec.channels) / p->aspec.freq;
        }
        /* the media clock's model: the end of this chunk is heard `latency` from now */
        fprintf(p->frame_log, "audio %.6f %.6f %.6f\n",
                dm_now() + latency - (double)len / sizeof(float) / p->aspec.channels / p->aspec.freq,
                sqrt(sum / (len / (int)sizeof(float) + 1e-9)), onset);
    }
    if (p->audio_dump)
        dump_audio(p, s, len / (int)sizeof(float));
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
    if (!p->info->has_audio || p->opt.fast || p->opt.no_audio)
        return;
    if (p->opt.headless) {
        p->aspec.freq = p->info->audio_rate > 0 ? p->info->audio_rate : 48000;
        p->aspec.channels = (Uint8)(p->info->audio_channels >= 2 ? 2 : 1);
        p->aspec.samples = (Uint16)(p->aspec.freq / 50);
        out->audio_rate = p->aspec.freq;
        out->audio_channels = p->aspec.channels;
        out->audio_format = DM_AUDIO_F32;
        open_audio_dump(p, p->aspec.freq, p->aspec.channels);
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
    open_audio_dump(p, p->aspec.freq, p->aspec.channels);
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

/* "Film 2 of 3: TITLE" in a night, "" for one film. */
static const char *entry_line(const player *p, char *buf, size_t len)
{
    buf[0] = 0;
    if (p->opt.prog.count > 1)
        snprintf(buf, len, "Film %zu of %zu: %s", p->entry + 1, p->opt.prog.count,
                 p->opt.prog.entries[p->entry].title);
    return buf;
}

static void draw_hud(player *p)
{
    char buf[1024], line[300], host[200];
    double sum = 0, worst = 0, fps;
    unsigned n = p->frame_count < FRAME_TIMES ? p->frame_count : FRAME_TIMES;
    dm_media_stats ms;
    dm_sprite_cache_stats cs;
    char calls[96];

    for (unsigned i = 0; i < n; i++) {
        sum += p->frame_ms[i];
        worst = p->frame_ms[i] > worst ? p->frame_ms[i] : worst;
    }
    memset(&ms, 0, sizeof ms);
    if (p->media)
        dm_media_get_stats(p->media, &ms);
    dm_stage_sprite_stats(p->stage, &cs);
    if (p->canvas)
        calls[0] = 0;
    else
        snprintf(calls, sizeof calls, "\ndraw calls %d a frame, %d atlas pages", dm_stage_draw_calls(p->stage),
                 dm_stage_atlas_pages(p->stage));
    fps = p->frame_count / (dm_now() - p->started + 1e-9);
    {
        const unsigned *hc = p->host_controls;
        unsigned total = 0;
        for (int k = DM_NET_FILM_PLAY; k <= DM_NET_BREAK_ADD; k++)
            total += hc[k];
        snprintf(host, sizeof host, total ? "\nhost film controls %u: play %u pause %u seek %u next %u prev %u jump %u "
                                            "volume %u break now %u +time %u" : "",
                 total, hc[DM_NET_FILM_PLAY], hc[DM_NET_FILM_PAUSE], hc[DM_NET_FILM_SEEK] + hc[DM_NET_FILM_SEEK_BY],
                 hc[DM_NET_FILM_NEXT], hc[DM_NET_FILM_PREV], hc[DM_NET_FILM_JUMP], hc[DM_NET_FILM_VOLUME],
                 hc[DM_NET_BREAK_NOW], hc[DM_NET_BREAK_ADD]);
    }
    snprintf(buf, sizeof buf,
             "%s%s%.2f s  %s%.2fx\nfps %.1f   frame %.2f ms (worst %.2f)\ncomments on screen %zu of %zu\n"
             "dropped frames %llu   decoded %llu\nsprite cache %.1f MiB, %zu sprites, %llu hits, %llu misses%s%s",
             entry_line(p, line, sizeof line), line[0] ? "\n" : "",
             p->t, film_paused(p) ? "paused  " : "", p->speed, fps, n ? sum / n : 0.0, worst,
             p->on_screen, dm_scene_count(p->scene), (unsigned long long)ms.video_frames_dropped,
             (unsigned long long)ms.video_frames_decoded, cs.bytes / 1048576.0, cs.entries,
             (unsigned long long)cs.hits, (unsigned long long)cs.misses, calls, host);
    draw_text_box(p, buf, 12, 12, 22);
}

/*
 * Live comments that arrived while the frame was drawn join it just before
 * the present ("late latching"): they come last in draw order anyway, having
 * the highest indexes, so the picture is the one a single pass would draw.
 */
static int compose_late_live(player *p, const dm_stage_comments *base, int64_t t_ms)
{
    size_t before = dm_scene_count(p->scene), first, n;
    const dm_visible *v;
    dm_stage_comments c;
    long taken = dm_live_take(p->live, p->scene);

    if (taken < 0)
        return -1;
    if (!p->show_comments || taken == 0)
        return 0;
    if (dm_scene_query(p->scene, t_ms, &v, &n, NULL))
        return -1;
    /* the scene lists comments in index order: the new ones are last */
    for (first = n; first > 0 && v[first - 1].index >= before; first--)
        ;
    c = *base;
    c.items = dm_scene_comments(p->scene);
    c.texts = dm_scene_texts(p->scene);
    c.visible = v + first;
    c.count = n - first;
    p->on_screen = n;
    return dm_stage_draw_more(p->stage, &p->display, &c);
}

/* ------------------------------------------------------------ OSD: the seek bar */

#define BAR_SECONDS 2.0

/* Show the seek bar (time, progress, comment density) for a while. */
static void bar_show(player *p)
{
    p->bar_until = display_now(p) + BAR_SECONDS;
    p->redraw = 1;
}

static int bar_showing(player *p)
{
    return display_now(p) < p->bar_until || film_paused(p);
}

/* The bar's rectangle (the progress line) in output pixels, and the band it sits in. */
static void bar_geometry(player *p, SDL_Rect *bar, SDL_Rect *band)
{
    int w = 0, h = 0, unit;

    SDL_GetRendererOutputSize(p->renderer, &w, &h);
    unit = h / 60 > 3 ? h / 60 : 3;
    *bar = (SDL_Rect){ w / 40, h - 3 * unit, w - 2 * (w / 40), unit };
    *band = (SDL_Rect){ 0, h - 14 * unit, w, 14 * unit };
}

static void format_time(double s, char *buf, size_t len)
{
    long t = s > 0 ? (long)s : 0;

    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%02ld:%02ld", t / 60, t % 60);
}

/* The density graph's bins for a bar of w pixels, computed again when the comments change. */
static void update_density(player *p, int w)
{
    size_t n = (size_t)(w > 0 ? w : 1);

    if (p->density && p->density_n == n && p->density_comments == dm_scene_count(p->scene) && !p->density_stale)
        return;
    if (p->density_n != n) {
        uint32_t *d = realloc(p->density, n * sizeof *d);
        if (!d)
            return;
        p->density = d;
        p->density_n = n;
    }
    dm_scene_density(p->scene, (int64_t)(p->info->duration * 1000.0), p->density, n);
    p->density_comments = dm_scene_count(p->scene);
    p->density_stale = 0;
}

/*
 * The seek bar: film time and duration above the left end, the comment
 * density over the whole film as a curve over the bar (Bilibili's
 * 高能进度条), the bar with what has played filled.
 */
static void draw_bar(player *p)
{
    SDL_Rect bar, band, r;
    char now[32], total[32], line[80];
    double dur = p->info->duration, frac;
    uint32_t peak = 0;
    int graph_h;

    bar_geometry(p, &bar, &band);
    SDL_SetRenderDrawBlendMode(p->renderer, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(p->renderer, 0, 0, 0, 110);
    SDL_RenderFillRect(p->renderer, &band);
    /* density: a moving average over 1 % of the bar, scaled to its peak, in the 7 units above the bar */
    graph_h = bar.h * 7;
    int half = bar.w / 200 > 2 ? bar.w / 200 : 2;
    if (dur > 0 && p->scene) {
        update_density(p, bar.w);
        for (size_t i = 0; i < p->density_n; i++)
            peak = p->density[i] > peak ? p->density[i] : peak;
    }
    if (peak > 0) {
        double smooth_peak = 0, *avg = malloc((size_t)bar.w * sizeof *avg);
        for (int x = 0; avg && x < bar.w && (size_t)x < p->density_n; x++) {
            double sum = 0;
            int k = 0;
            for (int j = x - half; j <= x + half; j++)
                if (j >= 0 && (size_t)j < p->density_n) {
                    sum += p->density[j];
                    k++;
                }
            avg[x] = sum / k;
            smooth_peak = avg[x] > smooth_peak ? avg[x] : smooth_peak;
        }
        SDL_SetRenderDrawColor(p->renderer, 0x7f, 0xc8, 0xff, 170);
        for (int x = 0; avg && smooth_peak > 0 && x < bar.w && (size_t)x < p->density_n; x++) {
            int hgt = (int)lround(avg[x] / smooth_peak * graph_h);
            if (hgt > 0)
                SDL_RenderDrawLine(p->renderer, bar.x + x, bar.y - 1, bar.x + x, bar.y - hgt);
        }
        free(avg);
    }
    SDL_SetRenderDrawColor(p->renderer, 255, 255, 255, 90);
    SDL_RenderFillRect(p->renderer, &bar);
    frac = dur > 0 ? p->t / dur : 0;
    frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
    r = (SDL_Rect){ bar.x, bar.y, (int)lround(bar.w * frac), bar.h };
    SDL_SetRenderDrawColor(p->renderer, 0xfb, 0x72, 0x99, 255);   /* the pink viewers know */
    SDL_RenderFillRect(p->renderer, &r);
    format_time(p->t, now, sizeof now);
    format_time(dur, total, sizeof total);
    snprintf(line, sizeof line, "%s%s / %s", film_paused(p) ? "|| " : "", now, total);
    draw_text_box(p, line, bar.x, band.y + bar.h, bar.h * 4 > 24 ? bar.h * 4 : 24);
}

/* A left click at (x, y): on the bar, seek there. 1 when it was on the bar. */
static int bar_click(player *p, int x, int y)
{
    SDL_Rect bar, band;
    double dur = p->info->duration;

    bar_geometry(p, &bar, &band);
    if (dur <= 0 || !bar_showing(p) || y < bar.y - bar.h * 2 || y > bar.y + bar.h * 2 || x < bar.x ||
        x > bar.x + bar.w)
        return 0;
    return 1;
}

static void seek_to(player *p, double target);

/* A left click at (x, y) of the output: on the seek bar, seek to that point of the film. */
static void mouse_click(player *p, int x, int y)
{
    SDL_Rect bar, band;

    bar_show(p);
    if (!bar_click(p, x, y))
        return;
    bar_geometry(p, &bar, &band);
    seek_to(p, p->info->duration * (double)(x - bar.x) / (double)(bar.w > 0 ? bar.w : 1));
}

/* ------------------------------------------------------------ screenshots */

/* Save what the renderer holds now as PNG. */
static int save_png(player *p, const char *path);

/* What --screenshot times count: film time, or the time into the intermission. */
static double shot_clock(const player *p)
{
    return p->in_break ? p->opt.prog.intermission_s - p->break_left : p->t;
}

/* A --screenshot file name with "%n" made the entry's number (1-based; in an intermission, the coming film's). */
static const char *shot_path(const player *p, const char *path, char *buf, size_t len)
{
    const char *n = strstr(path, "%n");

    if (!n)
        return path;
    snprintf(buf, len, "%.*s%zu%s", (int)(n - path), path, p->entry + 1, n + 2);
    return buf;
}

/*
 * The screenshots due with this frame: `window` 0 before the OSD is drawn
 * (--screenshot, script "screenshot", the s key), 1 after it (script
 * "screenshot-window", the S key).
 */
static int capture_shots(player *p, int window)
{
    const dm_script_cmd *c;
    char *key = window ? p->shot_window : p->shot_clean;

    if (!window)
        for (int i = 0; i < p->opt.shot_count; i++) {
            dm_screenshot_req *s = &p->opt.shots[i];
            if (!s->done && s->in_break == p->in_break && shot_clock(p) + 1e-6 >= s->at) {
                char path[4200];
                s->done = 1;
                if (save_png(p, shot_path(p, s->path, path, sizeof path)))
                    return -1;
            }
        }
    while ((c = dm_script_due(&p->script, p->t)) != NULL &&
           c->kind == (window ? DM_SCRIPT_SCREENSHOT_WINDOW : DM_SCRIPT_SCREENSHOT)) {
        p->script.next++;
        if (save_png(p, c->path))
            return -1;
    }
    if (key[0]) {
        int rc = save_png(p, key);
        if (rc == 0)
            fprintf(stderr, "danmaku: screenshot saved to %s\n", key);
        key[0] = 0;
        if (rc)
            return -1;
    }
    return 0;
}

/* The OSD line is showing now. */
static int osd_showing(const player *p)
{
    return p->osd[0] && display_now(p) < p->osd_until;
}

/*
 * Draw the frame at p->t. Returns 1 when drawn, 0 when the picture on
 * screen is still exact (no new video frame, the comments did not move,
 * nothing else changed, and `force` is 0: libass's `changed`), or -1.
 */
/* ------------------------------------------------------------ subtitles */

/* --log-frames: follow one scrolling comment until it leaves, then the next. */
static void track_comment(player *p, const dm_visible *v, size_t n)
{
    const dm_comment *items = dm_scene_comments(p->scene);
    size_t i;

    for (i = 0; i < n && v[i].index != p->tracked; i++)
        ;
    if (i == n)
        for (i = 0; i < n && items[v[i].index].mode != DM_MODE_SCROLL; i++)
            ;
    p->tracked = i < n ? v[i].index : UINT32_MAX;
    p->tracked_x = i < n ? v[i].x : 0.0f;
}

/* The subtitle frame at t_ms (*f->count 0 when none shows) and how it changed. */
static void subs_frame(player *p, int64_t t_ms, dm_subs_frame *f, int *changed)
{
    memset(f, 0, sizeof *f);
    *changed = DM_SUBS_SAME;
    if (!p->subs || !p->subs_visible || dm_subs_sid(p->subs) == DM_SUBS_SID_NO)
        return;
    if (dm_subs_render(p->subs, t_ms, p->display.w, p->display.h, f, changed)) {
        memset(f, 0, sizeof *f);
        *changed = DM_SUBS_SAME;
    }
}

static void free_sub_textures(player *p)
{
    for (size_t i = 0; i < p->sub_tex_n; i++)
        SDL_DestroyTexture(p->sub_tex[i]);
    p->sub_tex_n = 0;
}

/*
 * Subtitles over the picture and the comments, under nothing: into the
 * software canvas, or from one texture per rectangle, made again only when
 * the subtitles' pixels change.
 */
static void draw_subs(player *p, const dm_subs_frame *f)
{
    if (!f->count)
        return;
    if (p->canvas) {
        SDL_RenderFlush(p->renderer);   /* the picture and comments are in the canvas first */
        if (SDL_MUSTLOCK(p->canvas))
            SDL_LockSurface(p->canvas);
        dm_subs_frame_blend(f, p->canvas->pixels, p->canvas->w, p->canvas->h, p->canvas->pitch, p->display.x,
                            p->display.y);
        if (SDL_MUSTLOCK(p->canvas))
            SDL_UnlockSurface(p->canvas);
        return;
    }
    if (f->serial != p->sub_serial || p->sub_tex_n != f->count) {
        free_sub_textures(p);
        if (f->count > p->sub_tex_cap) {
            SDL_Texture **v = realloc(p->sub_tex, f->count * sizeof *v);
            if (!v)
                return;
            p->sub_tex = v;
            p->sub_tex_cap = f->count;
        }
        for (size_t i = 0; i < f->count; i++) {
            const dm_subs_rect *r = &f->rects[i];
            SDL_Texture *tx = SDL_CreateTexture(p->renderer, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STATIC, r->w,
                                                r->h);
            if (!tx)
                break;
            SDL_UpdateTexture(tx, NULL, r->argb, r->pitch);
            SDL_SetTextureBlendMode(tx, SDL_BLENDMODE_BLEND);
            p->sub_tex[p->sub_tex_n++] = tx;
        }
        p->sub_serial = f->serial;
    }
    for (size_t i = 0; i < p->sub_tex_n; i++) {
        const dm_subs_rect *r = &f->rects[i];
        SDL_Rect dst = { p->display.x + r->x, p->display.y + r->y, r->w, r->h };
        SDL_RenderCopy(p->renderer, p->sub_tex[i], NULL, &dst);
    }
}

/*
 * The track, its visibility or its delay changed: the comments from now on
 * are laid out again around the new boxes, those already decided keep theirs.
 */
static void subs_changed(player *p)
{
    char err[512] = "", line[256];

    if (dm_subs_cli_update(&p->esubs, p->subs, p->subs_visible, p->scene, NULL, (int64_t)llround(p->t * 1000.0),
                           err, sizeof err))
        fprintf(stderr, "danmaku: %s\n", err);
    if (!p->subs_visible)
        snprintf(line, sizeof line, "Subtitles hidden");
    else
        dm_subs_osd(p->subs, line, sizeof line);
    osd(p, line);
}

static void publish_programme(player *p, int force);

static int compose(player *p, int force)
{
    dm_stage_comments c = { 0 };
    int64_t t_ms = (int64_t)llround(p->t * 1000.0);
    const dm_visible *v = NULL;
    size_t n = 0;
    int changed = DM_CHANGED_NONE, sub_changed;
    dm_subs_frame sf;

    if (p->live && dm_live_drain(p->live, p->scene, t_ms, film_paused(p)))
        return -1;
    publish_programme(p, 0);
    if (p->show_comments) {
        /* real time: positions for the exact moment the frame is shown (sub-pixel where the
         * renderer draws them so); --fast: whole milliseconds, reproducible frames */
        if (dm_scene_query_exact(p->scene, p->opt.fast ? (double)t_ms : p->t * 1000.0, &v, &n, &changed))
            return -1;
        if (p->frame_log)
            track_comment(p, v, n);
        c.items = dm_scene_comments(p->scene);
        c.texts = dm_scene_texts(p->scene);
        c.layout = dm_scene_layout_opts(p->scene);
        c.visible = v;
        c.count = n;
        c.opacity = p->opt.opacity;
    }
    double subs_began = dm_now(), subs_ms;
    subs_frame(p, t_ms, &sf, &sub_changed);
    subs_ms = (dm_now() - subs_began) * 1000.0;
    /* a live screening always draws (its QR code and figures follow each present) */
    if (!force && !p->live && !p->new_frame && changed == DM_CHANGED_NONE && sub_changed == DM_SUBS_SAME &&
        !p->hud && osd_showing(p) == p->drawn_osd && !bar_showing(p) && !p->drawn_bar)
        return 0;
    p->on_screen = n;
    if (dm_stage_draw(p->stage, &p->display, p->show_comments ? &c : NULL))
        return -1;
    if (p->live && compose_late_live(p, &c, t_ms))
        return -1;
    subs_began = dm_now();
    draw_subs(p, &sf);
    draw_label(p, t_ms);
    if (p->opt.stats && p->subs && p->subs_visible)
        dm_hist_add(p->subs_hist, subs_ms + (dm_now() - subs_began) * 1000.0);
    if (p->live) {
        dm_live_screen_stats(p->live, p->on_screen);
        dm_live_draw(p->live, p->renderer, &p->display);
    }
    /* the picture as the audience sees it, for the screenshots without the OSD; then the OSD */
    if (capture_shots(p, 0))
        return -1;
    if (p->hud)
        draw_hud(p);
    p->drawn_osd = osd_showing(p);
    if (p->drawn_osd)
        draw_text_box(p, p->osd, 12, p->hud ? 150 : 12, 28);
    p->drawn_bar = bar_showing(p);
    if (p->drawn_bar)
        draw_bar(p);
    if (capture_shots(p, 1))
        return -1;
    return 1;
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
    if (rc == 0 && p->opt.overlay) {
        /* the fill: the comments over black (premultiplied, so the colours are right as they are), opaque;
         * with --key-fill the key beside it: their coverage as grey */
        char key[4200];
        const char *dot = strrchr(path, '.');
        uint8_t *k = p->opt.key_fill ? malloc((size_t)w * h * 4) : NULL;
        for (size_t i = 0; i < (size_t)w * h; i++) {
            if (k)
                k[i * 4] = k[i * 4 + 1] = k[i * 4 + 2] = rgba[i * 4 + 3], k[i * 4 + 3] = 255;
            rgba[i * 4 + 3] = 255;
        }
        if (k) {
            snprintf(key, sizeof key, "%.*s-key%s", (int)(dot ? dot - path : (long)strlen(path)), path, dot ? dot : "");
            rc = dm_png_write(key, k, w, h, w * 4, err, sizeof err);
            free(k);
        } else if (p->opt.key_fill)
            rc = -1;
    }
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

/*
 * Overlay mode in windows: the frame is drawn on the software canvas (its
 * alpha is the comments' coverage); the fill window shows it over black, the
 * key window (--key-fill) its alpha as grey.
 */
static void show_overlay_windows(player *p)
{
    SDL_UpdateTexture(p->win_tex, NULL, p->canvas->pixels, p->canvas->pitch);
    SDL_RenderClear(p->win_renderer);
    SDL_RenderCopy(p->win_renderer, p->win_tex, NULL, NULL);
    SDL_RenderPresent(p->win_renderer);
    if (p->key_renderer && p->key_surface) {
        const uint32_t *src = p->canvas->pixels;
        uint32_t *dst = p->key_surface->pixels;
        for (int y = 0; y < p->canvas->h; y++)
            for (int x = 0; x < p->canvas->w; x++) {
                uint32_t a = src[(size_t)y * (p->canvas->pitch / 4) + x] >> 24;
                dst[(size_t)y * (p->key_surface->pitch / 4) + x] = 0xFF000000u | a << 16 | a << 8 | a;
            }
        SDL_UpdateTexture(p->key_tex, NULL, p->key_surface->pixels, p->key_surface->pitch);
        SDL_RenderCopy(p->key_renderer, p->key_tex, NULL, NULL);
        SDL_RenderPresent(p->key_renderer);
    }
}

/* Present the frame and do what follows a present: log, screenshots, stats. */
static int present(player *p, double began)
{
    p->drawn_at = dm_now();
    SDL_RenderPresent(p->renderer);
    if (p->win_renderer)
        show_overlay_windows(p);
    if (p->live)
        dm_live_presented(p->live, p->opt.fast ? 1.0 / REFRESH_HZ : p->pacer.period);
    p->frame_ms[p->frame_count % FRAME_TIMES] = (dm_now() - began) * 1000.0;
    if (p->opt.stats) {
        unsigned long long calls = (unsigned long long)dm_stage_draw_calls(p->stage);
        dm_hist_add(p->frame_hist, p->frame_ms[p->frame_count % FRAME_TIMES]);
        p->draw_calls += calls;
        p->draw_calls_max = calls > p->draw_calls_max ? calls : p->draw_calls_max;
    }
    p->frame_count++;
    if (p->new_frame && p->frame_log)
        fprintf(p->frame_log, "video %.6f %.6f %.6f %.2f\n", p->frame_pts,
                p->opt.fast ? p->t : film_now(p), dm_now(), p->frame_luma);
    if (p->frame_log) {
        /* for tools/frame-pacing.py: the present's return, the time the frame was drawn for,
         * the film time drawn, and the tracked comment (index, x; -1 when none) */
        double when = p->opt.fast ? p->sim_now : dm_now();
        fprintf(p->frame_log, "present %.6f %.6f %.6f %ld %.3f\n", when, p->opt.fast ? when : p->drawn_for, p->t,
                p->tracked == UINT32_MAX ? -1L : (long)p->tracked, p->tracked == UINT32_MAX ? 0.0 : p->tracked_x);
    }
    p->new_frame = 0;
    return 0;
}

/* ------------------------------------------------------------ input */

static void seek_by(player *p, double delta)
{
    seek_to(p, p->t + delta);
}

static void seek_to(player *p, double target)
{
    bar_show(p);
    if (target < 0)
        target = 0;
    if (p->info->duration > 0 && target > p->info->duration)
        target = p->info->duration;
    film_seek_clock(p, target);
    p->t = target;
    p->seeked = 1;
}

/* The viewer's filter changed: comments from now on follow it, and the OSD says what is hidden. */
static void filter_changed(player *p)
{
    char line[256];
    size_t o;
    int any = 0;
    dm_diag diag = { 0 };

    if (dm_scene_filter_changed(p->scene, (int64_t)llround(p->t * 1000.0), &diag))
        fprintf(stderr, "danmaku: %s\n", diag.error[0] ? diag.error : "out of memory");
    p->density_stale = 1;
    o = (size_t)snprintf(line, sizeof line, "Hidden:");
    for (int m = 0; m < DM_MODE_COUNT && o < sizeof line; m++)
        if (dm_filter_mode_hidden(p->opt.filter, (dm_mode)m)) {
            o += (size_t)snprintf(line + o, sizeof line - o, "%s %s", any ? "," : "", dm_filter_cli_mode_name((dm_mode)m));
            any = 1;
        }
    if (dm_filter_coloured_hidden(p->opt.filter) && o < sizeof line) {
        o += (size_t)snprintf(line + o, sizeof line - o, "%s coloured", any ? "," : "");
        any = 1;
    }
    if (!any && o < sizeof line)
        o += (size_t)snprintf(line + o, sizeof line - o, " none");
    if (o < sizeof line)
        snprintf(line + o, sizeof line - o, "   Block level %d", dm_filter_level(p->opt.filter));
    osd(p, line);
}

/* Keys 1-6: the kinds of comment the viewer hides (Bilibili's 屏蔽 switches). */
static void toggle_kind(player *p, int k)
{
    static const dm_mode order[5] = { DM_MODE_SCROLL, DM_MODE_TOP, DM_MODE_BOTTOM, DM_MODE_REVERSE,
                                      DM_MODE_POSITIONED };

    if (k < 5)
        dm_filter_hide_mode(p->opt.filter, order[k], !dm_filter_mode_hidden(p->opt.filter, order[k]));
    else
        dm_filter_hide_coloured(p->opt.filter, !dm_filter_coloured_hidden(p->opt.filter));
    filter_changed(p);
}

/* >, <, Enter: the next or previous entry of the night; in an intermission, > and Enter start the film now. */
static void next_entry(player *p, int step)
{
    long to = (long)p->entry + (p->in_break && step < 0 ? -1 : p->in_break ? 0 : step);

    if (p->in_break && step > 0) {
        p->break_left = 0;
        return;
    }
    if (to < 0 || (size_t)to >= p->opt.prog.count) {
        osd(p, step > 0 ? "This is the last film" : "This is the first film");
        return;
    }
    p->entry_request = to;
}

/* #: the next audio track, after the last none (when there is a picture), then the first again; the OSD names it. */
static void cycle_audio(player *p)
{
    char msg[256], name[200], err[200];
    int n, count;

    if (!p->media || p->opt.overlay)
        return;
    count = p->info->audio_tracks;
    if (!p->aspec.freq) {
        osd(p, count ? "Audio: no sound output (--no-audio, --fast or no device)" : "Audio: the film has none");
        return;
    }
    n = dm_media_audio_track(p->media) + 1;
    if (n > count)
        n = p->info->has_video ? 0 : 1;
    else if (n == 0)
        n = 1;
    if (dm_media_set_audio_track(p->media, n, err, sizeof err) < 0) {
        snprintf(msg, sizeof msg, "Audio: %s", err);
        osd(p, msg);
        return;
    }
    if (n)
        snprintf(msg, sizeof msg, "Audio %s", dm_media_audio_track_name(p->media, n, name, sizeof name));
    else
        snprintf(msg, sizeof msg, "Audio off");
    osd(p, msg);
    if (p->opt.verbose)
        fprintf(stderr, "danmaku: %s\n", msg);
}

/* ------------------------------------------------------------ a live night */

/*
 * What is playing, for the audience page ("now playing", "next") and the
 * console: at once when the entry, the intermission, the pause or the volume
 * changes, else once a second. A night only (one film has no programme).
 */
static void publish_programme(player *p, int force)
{
    const dm_programme *pr = &p->opt.prog;
    dm_net_programme np = { 0 };
    long key[4] = { (long)p->entry, p->in_break, p->in_break || !p->info ? 0 : film_paused(p), lround(p->volume * 10) };
    double now = dm_now();

    if (!p->live || pr->count < 2)
        return;
    if (!force && !memcmp(key, p->prog_key, sizeof key) && now - p->prog_sent_at < 1.0)
        return;
    if (!p->prog_titles) {
        p->prog_titles = calloc(pr->count, sizeof *p->prog_titles);
        p->prog_credits = calloc(pr->count, sizeof *p->prog_credits);
        p->prog_aigc = calloc(pr->count, 1);
        if (!p->prog_titles || !p->prog_credits || !p->prog_aigc)
            return;
        for (size_t i = 0; i < pr->count; i++) {
            p->prog_titles[i] = pr->entries[i].title;
            p->prog_credits[i] = pr->entries[i].credits;
            p->prog_aigc[i] = (unsigned char)(pr->entries[i].aigc != 0);
        }
    }
    np.night = pr->title;
    np.titles = p->prog_titles;
    np.credits = p->prog_credits;
    np.aigc = p->prog_aigc;
    np.count = pr->count;
    np.now = (int)p->entry;
    np.intermission = p->in_break;
    np.intermission_left_s = p->in_break ? p->break_left : 0;
    np.film_s = p->in_break ? 0 : p->t;
    np.duration_s = !p->in_break && p->info && p->info->duration > 0 ? p->info->duration : 0;
    np.paused = (int)key[2];
    np.volume = p->volume;
    np.last_comments = p->last_comments;
    dm_live_programme(p->live, &np);
    memcpy(p->prog_key, key, sizeof key);
    p->prog_sent_at = now;
}

/*
 * A film ends: the page and the console hear of the intermission before
 * entry `next` (`left` seconds; 0: none, the next film follows at once)
 * before the feed closes, so a comment refused from now on is refused in an
 * announced intermission, naming the right film.
 */
static void announce_between(player *p, size_t next, double left)
{
    size_t entry = p->entry;
    int in_break = p->in_break;
    double break_left = p->break_left;

    p->entry = next;
    p->in_break = 1;
    p->break_left = left;
    publish_programme(p, 1);
    p->entry = entry;
    p->in_break = in_break;
    p->break_left = break_left;
}

static const char *const control_names[] = {
    [DM_NET_FILM_PLAY] = "play", [DM_NET_FILM_PAUSE] = "pause", [DM_NET_FILM_SEEK] = "seek",
    [DM_NET_FILM_SEEK_BY] = "seek by", [DM_NET_FILM_NEXT] = "next", [DM_NET_FILM_PREV] = "previous",
    [DM_NET_FILM_JUMP] = "jump", [DM_NET_FILM_VOLUME] = "volume", [DM_NET_BREAK_NOW] = "intermission ends now",
    [DM_NET_BREAK_ADD] = "intermission longer",
};
static const char *const log_names[] = {
    [DM_NET_FILM_PLAY] = "play", [DM_NET_FILM_PAUSE] = "pause", [DM_NET_FILM_SEEK] = "seek",
    [DM_NET_FILM_SEEK_BY] = "seek_by", [DM_NET_FILM_NEXT] = "next", [DM_NET_FILM_PREV] = "prev",
    [DM_NET_FILM_JUMP] = "jump", [DM_NET_FILM_VOLUME] = "volume", [DM_NET_BREAK_NOW] = "break_now",
    [DM_NET_BREAK_ADD] = "break_add",
};

/*
 * The host console's film controls (live.h), carried out as the keys would
 * be: on screen within the frame (the OSD says what the host did), counted
 * in the statistics overlay, and said on stderr (the player's log).
 */
static void host_control(void *ud, const dm_net_control *c)
{
    player *p = ud;
    char msg[160];
    const char *name = (unsigned)c->kind <= DM_NET_BREAK_ADD && control_names[c->kind] ? control_names[c->kind] : "?";
    int done = 1;

    switch (c->kind) {
    case DM_NET_FILM_PLAY:
    case DM_NET_FILM_PAUSE:
        if (p->in_break || !p->info)
            done = 0;
        else
            film_set_paused(p, c->kind == DM_NET_FILM_PAUSE);   /* the film, or in overlay mode its clock (or mpv) */
        snprintf(msg, sizeof msg, "Host: %s", c->kind == DM_NET_FILM_PAUSE ? "paused" : "playing");
        break;
    case DM_NET_FILM_SEEK:
    case DM_NET_FILM_SEEK_BY:
        if (p->in_break || !p->info) {
            done = 0;
            break;
        }
        if (c->kind == DM_NET_FILM_SEEK)
            seek_to(p, c->value);
        else
            seek_by(p, c->value);
        snprintf(msg, sizeof msg, "Host: seek to %.1f s", p->t);
        break;
    case DM_NET_FILM_NEXT:
    case DM_NET_FILM_PREV:
        next_entry(p, c->kind == DM_NET_FILM_NEXT ? 1 : -1);
        snprintf(msg, sizeof msg, "Host: %s film", c->kind == DM_NET_FILM_NEXT ? "next" : "previous");
        break;
    case DM_NET_FILM_JUMP:
        if (c->entry < 0 || (size_t)c->entry >= p->opt.prog.count || (!p->in_break && (size_t)c->entry == p->entry)) {
            done = 0;
            break;
        }
        p->entry_request = c->entry;
        snprintf(msg, sizeof msg, "Host: film %d, %s", c->entry + 1, p->opt.prog.entries[c->entry].title);
        break;
    case DM_NET_FILM_VOLUME:
        p->volume = c->value < 0 ? 0 : c->value > 100 ? 100 : c->value;
        set_volume(p);
        snprintf(msg, sizeof msg, "Host: volume %.0f%%", p->volume);
        break;
    case DM_NET_BREAK_NOW:
    case DM_NET_BREAK_ADD:
        if (!p->in_break) {
            done = 0;
            break;
        }
        if (c->kind == DM_NET_BREAK_NOW)
            p->break_left = 0;
        else
            p->break_left += c->value;
        snprintf(msg, sizeof msg, c->kind == DM_NET_BREAK_NOW ? "Host: the film starts now" : "Host: intermission +%.0f s",
                 c->value);
        break;
    default:
        return;
    }
    if (!done) {
        fprintf(stderr, "danmaku: host: %s does not apply %s\n", name,
                p->in_break ? "in the intermission" : "while a film plays");
        return;
    }
    p->host_controls[c->kind]++;
    osd(p, msg);
    p->redraw = 1;
    fprintf(stderr, "danmaku: host: %s (%s%zu at %.2f s)\n", name, p->in_break ? "intermission before film " : "film ",
            p->entry + 1, p->in_break ? p->break_left : p->t);
    /* --log-frames: "host KIND WHEN ENTRY TIME" (TIME: the film's, or the intermission's countdown) */
    if (p->frame_log)
        fprintf(p->frame_log, "host %s %.6f %zu %.3f\n", log_names[c->kind], p->opt.fast ? p->sim_now : dm_now(),
                p->entry, p->in_break ? p->break_left : p->t);
    publish_programme(p, 1);
}

static void handle_key(player *p, SDL_Keycode key, SDL_Keymod mod)
{
    char msg[64];
    int shift = (mod & KMOD_SHIFT) != 0;

    p->redraw = 1;
    switch (key) {
    case SDLK_SPACE:
        film_set_paused(p, !film_paused(p));
        osd(p, film_paused(p) ? "Paused" : "Playing");
        bar_show(p);
        break;
    case SDLK_GREATER:
    case SDLK_RETURN:
    case SDLK_KP_ENTER:
        next_entry(p, 1);
        break;
    case SDLK_LESS:
        next_entry(p, -1);
        break;
    case SDLK_PERIOD:
    case SDLK_COMMA:
        if (shift)   /* > and < on keyboards that send the key under them with Shift */
            next_entry(p, key == SDLK_PERIOD ? 1 : -1);
        break;
    case SDLK_MINUS:
    case SDLK_EQUALS:
        if (!p->media) {   /* overlay mode: nudge the film clock into step with the cinema's film */
            seek_by(p, key == SDLK_MINUS ? -0.1 : 0.1);
            snprintf(msg, sizeof msg, "Film clock %+.1f s: %.1f s", key == SDLK_MINUS ? -0.1 : 0.1, p->t);
            osd(p, msg);
        }
        break;
    case SDLK_HASH:
        cycle_audio(p);
        break;
    case SDLK_1: case SDLK_2: case SDLK_3: case SDLK_4: case SDLK_5: case SDLK_6:
        if (key == SDLK_3 && shift) {   /* # on keyboards that send the key under it with Shift */
            cycle_audio(p);
            break;
        }
        toggle_kind(p, (int)(key - SDLK_1));
        break;
    case SDLK_l: {
        int level = dm_filter_level(p->opt.filter) + (shift ? -1 : 1);
        if (level >= 0 && level <= DM_FILTER_MAX_LEVEL)
            dm_filter_set_level(p->opt.filter, level);
        filter_changed(p);
        break;
    }
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
        if (!p->media)
            break;   /* overlay mode: the cinema's player has the speed */
        p->speed = dm_media_set_speed(p->media, key == SDLK_LEFTBRACKET ? p->speed / 1.1 : p->speed * 1.1);
        if (fabs(p->speed - 1.0) < 0.02)
            p->speed = dm_media_set_speed(p->media, 1.0);
        snprintf(msg, sizeof msg, "Speed %.2fx", p->speed);
        osd(p, msg);
        break;
    case SDLK_s: {
        /* s: the next frame as the audience sees it; S: with the OSD, as the window shows it */
        char *path = shift ? p->shot_window : p->shot_clean;
        snprintf(path, sizeof p->shot_clean, "%s/danmaku-shot-%04u.png", p->opt.screenshot_dir, ++p->shots_taken);
        snprintf(msg, sizeof msg, "Screenshot %04u", p->shots_taken);
        if (shift)
            osd(p, msg);   /* (in the shot: it shows the OSD) */
        break;
    }
    case SDLK_i: p->hud = !p->hud; break;
    case SDLK_c:
        if (p->live)
            dm_live_toggle_qr(p->live);
        break;
    case SDLK_x: {
        int64_t t_ms = (int64_t)llround(p->t * 1000.0);
        if ((p->live ? dm_live_clear_screen(p->live, p->scene, t_ms) : dm_scene_clear(p->scene, t_ms, NULL, NULL)) >= 0)
            osd(p, "Screen cleared");
        break;
    }
    case SDLK_v:
        if (p->subs) {
            p->subs_visible = !p->subs_visible;
            subs_changed(p);
        }
        break;
    case SDLK_j:
        if (p->subs) {
            char err[256] = "";
            if (dm_subs_cycle(p->subs, shift ? -1 : 1, err, sizeof err) < 0)
                fprintf(stderr, "danmaku: %s\n", err);
            p->sub_serial = 0;
            subs_changed(p);
        }
        break;
    case SDLK_z:
        if (p->subs) {
            dm_subs_set_delay(p->subs, dm_subs_delay(p->subs) + (shift ? 100 : -100));
            subs_changed(p);
        }
        break;
    case SDLK_p:
        if (p->live)
            osd(p, dm_live_toggle_feed(p->live) ? "Live feed paused" : "Live feed resumed");
        break;
    case SDLK_q:
    case SDLK_ESCAPE: p->quit = p->quit_by_user = 1; break;
    default: break;
    }
}

static void handle_events(player *p)
{
    SDL_Event e;

    while (SDL_PollEvent(&e)) {
        if (e.type == SDL_QUIT)
            p->quit = p->quit_by_user = 1;
        else if (e.type == SDL_KEYDOWN)
            handle_key(p, e.key.keysym.sym, (SDL_Keymod)e.key.keysym.mod);
        else if (e.type == SDL_MOUSEMOTION)
            bar_show(p);
        else if (e.type == SDL_MOUSEBUTTONDOWN && e.button.button == SDL_BUTTON_LEFT) {
            /* window points to output pixels (a high-DPI window has more of them) */
            int ww = 1, wh = 1, ow = 1, oh = 1;
            if (p->window)
                SDL_GetWindowSize(p->window, &ww, &wh);
            SDL_GetRendererOutputSize(p->renderer, &ow, &oh);
            mouse_click(p, e.button.x * ow / (ww > 0 ? ww : 1), e.button.y * oh / (wh > 0 ? wh : 1));
        }
        else if (e.type == SDL_WINDOWEVENT) {
            p->redraw = 1;   /* exposed, moved, resized: the window needs its picture */
            if (e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
                update_geometry(p);
            if (e.window.event == SDL_WINDOWEVENT_MOVED || e.window.event == SDL_WINDOWEVENT_DISPLAY_CHANGED)
                p->display_changed = SDL_GetWindowDisplayIndex(p->window) != p->display_index ||
                                     e.window.event == SDL_WINDOWEVENT_DISPLAY_CHANGED;
        } else if (e.type == SDL_DISPLAYEVENT) {
            p->display_changed = 1;   /* a display's mode changed (or one came or went) */
        }
    }
}

/* ------------------------------------------------------------ loops */

/* Script keys and mouse moves due at the current time run before drawing (screenshots while drawing). */
static void run_script_keys(player *p)
{
    const dm_script_cmd *c;

    while ((c = dm_script_due(&p->script, p->t)) != NULL && c->kind != DM_SCRIPT_SCREENSHOT &&
           c->kind != DM_SCRIPT_SCREENSHOT_WINDOW) {
        p->script.next++;
        if (c->kind == DM_SCRIPT_KEY)
            handle_key(p, c->key, c->mod);
        else if (c->kind == DM_SCRIPT_MOUSE)
            bar_show(p);
        else if (c->kind == DM_SCRIPT_WINDOW_SIZE) {
            if (p->window)
                SDL_SetWindowSize(p->window, c->x, c->y);   /* SIZE_CHANGED follows, as for a user's resize */
            else
                fprintf(stderr, "danmaku: script: window-size needs a window (not --headless)\n");
        } else
            mouse_click(p, c->x, c->y);
    }
}

/* A screenshot is due now: the frame must be drawn, even if nothing moved. */
static int shot_due(player *p)
{
    const dm_script_cmd *c = dm_script_due(&p->script, p->t);

    for (int i = 0; i < p->opt.shot_count; i++)
        if (!p->opt.shots[i].done && p->opt.shots[i].in_break == p->in_break &&
            shot_clock(p) + 1e-6 >= p->opt.shots[i].at)
            return 1;
    return p->shot_clean[0] || p->shot_window[0] ||
           (c && (c->kind == DM_SCRIPT_SCREENSHOT || c->kind == DM_SCRIPT_SCREENSHOT_WINDOW));
}

/* --loop: at the end, back to the start when plays are left (1), else 0. */
static int play_again(player *p)
{
    double start = p->start > 0 ? p->start : 0;

    if (p->loops_left == 0)
        return 0;
    if (p->loops_left > 0)
        p->loops_left--;
    film_seek_clock(p, start);
    p->t = start;
    p->seeked = 0;
    p->redraw = 1;
    return 1;
}

static int at_end(player *p, double t)
{
    if (p->until >= 0 && t >= p->until)
        return 1;
    return 0;
}

/* The refresh rate of the display the window is on (headless: --refresh-rate, else 60). */
static double display_hz(player *p)
{
    SDL_DisplayMode mode;

    if (p->opt.refresh_rate > 0)
        return p->opt.refresh_rate;
    if (!p->window)
        return REFRESH_HZ;
    p->display_index = SDL_GetWindowDisplayIndex(p->window);
    if (SDL_GetWindowDisplayMode(p->window, &mode) == 0 && mode.refresh_rate > 0)
        return mode.refresh_rate;
    if (p->display_index >= 0 && SDL_GetCurrentDisplayMode(p->display_index, &mode) == 0 && mode.refresh_rate > 0)
        return mode.refresh_rate;
    return REFRESH_HZ;
}

/*
 * Real time: the master clock drives everything. Each frame is drawn for the
 * moment it will be shown (the pacer's target: the display's next blank under
 * vsync), so motion steps evenly at the display's own rate.
 */
static int run_realtime(player *p)
{
    if (p->start > 0)
        film_seek_clock(p, p->start);
    if (p->audio)
        SDL_PauseAudioDevice(p->audio, 0);
    else if (p->opt.headless && p->aspec.freq > 0)
        p->null_audio = SDL_CreateThread(null_audio_thread, "null-audio", p);
    dm_pacer_init(&p->pacer, display_hz(p), p->vsync, dm_now());
    if (p->opt.verbose)
        fprintf(stderr, "danmaku: presenting at %.2f Hz, %s\n", dm_pacer_hz(&p->pacer),
                p->vsync ? "in step with the display (vsync)" : "on a timer (no vsync)");
    while (!p->quit) {
        double remaining = 1.0, began, clk, wait, now;   /* (remaining: dm_media's, unused here) */
        int r = DM_MEDIA_AGAIN, drawn;

        handle_events(p);
        if (p->display_changed) {
            p->display_changed = 0;
            dm_pacer_set_rate(&p->pacer, display_hz(p), dm_now());
        }
        began = dm_now();
        if (p->info->has_video) {
            r = dm_media_video_refresh(p->media, &remaining);
            if (r == DM_MEDIA_OK) {
                dm_frame_info fi;
                const AVFrame *f = dm_media_video_current(p->media, &fi);
                if (f && upload_frame(p, f) == 0)
                    p->frame_pts = fi.pts;
            }
        }
        p->target = dm_pacer_target(&p->pacer, began);
        if (p->mpv) {
            char err[256];
            if (dm_mpv_poll(p->mpv, dm_now(), err, sizeof err)) {
                fprintf(stderr, "danmaku: %s\n", err);
                return -1;
            }
        }
        clk = film_now(p);
        now = dm_now();
        /* a late frame is drawn for now: its comments stand where the film is, not where
         * it was at the missed refresh */
        p->drawn_for = p->target < now ? now : p->target;
        if (!isnan(clk) && !p->seeked)
            p->t = clk + (film_paused(p) ? 0 : (p->drawn_for - now) * p->speed);
        p->seeked = 0;
        run_script_keys(p);
        drawn = compose(p, p->redraw || shot_due(p));
        p->redraw = 0;
        if (drawn < 0 || (drawn && present(p, began)))
            return -1;
        if (drawn)
            dm_pacer_presented(&p->pacer, p->target, began, p->drawn_at, dm_now());
        if (p->entry_request >= 0)
            break;
        if (at_end(p, p->t) || (p->media && dm_media_eof(p->media) && (!p->info->has_video || r == DM_MEDIA_EOF))) {
            if (!play_again(p))
                break;
            continue;
        }
        /* a new picture waits for the next refresh too: one present a refresh, evenly spaced */
        wait = dm_pacer_wait(&p->pacer, dm_now());
        /* sleep until the next frame, but wake for an event: on a timer a live
         * comment then reaches the screen at once rather than at the next tick
         * (at most twice the refresh rate, to bound the work) */
        if (wait > 0.0005 && SDL_WaitEventTimeout(NULL, (int)(wait * 1000.0)) == 1) {
            double early = began + 0.5 / dm_pacer_hz(&p->pacer) - dm_now();
            if (p->vsync)
                early = dm_pacer_wait(&p->pacer, dm_now());
            if (early > 0.0005)
                SDL_Delay((Uint32)(early * 1000.0));
        }
    }
    return 0;
}

/* --fast: a simulated 60 Hz display stepping through the film. */
static int run_fast(player *p)
{
    double t = p->start, end = p->info->duration;
    dm_frame_info next = { 0 };
    int have_next = 0;

    if (p->until >= 0 && (end <= 0 || p->until < end))
        end = p->until;
    if (p->start > 0)
        film_seek_clock(p, p->start);
    if (p->info->has_video)
        have_next = dm_media_video_peek(p->media, &next, 1) == DM_MEDIA_OK;
    while (!p->quit) {
        double began = dm_now(), step = t + p->speed / REFRESH_HZ;   /* film time a refresh shows */

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
        if (compose(p, 1) < 0 || present(p, began))
            return -1;
        if (p->entry_request >= 0)
            break;
        if (t >= end - 1e-9 || (end <= 0 && !have_next)) {
            if (!play_again(p))
                break;
            t = p->t;
            have_next = p->info->has_video && dm_media_video_peek(p->media, &next, 1) == DM_MEDIA_OK;
            continue;
        }
        /* land exactly on requested screenshot and script times */
        for (int i = 0; i < p->opt.shot_count; i++)
            if (!p->opt.shots[i].done && p->opt.shots[i].at > t && p->opt.shots[i].at < step)
                step = p->opt.shots[i].at;
        if (dm_script_next_time(&p->script) > t && dm_script_next_time(&p->script) < step)
            step = dm_script_next_time(&p->script);
        p->sim_now += ((step < end ? step : end) - t) / p->speed;
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

/* A window of w x h showing a streaming texture of that size, in step with the display. */
static int overlay_window(const char *title, int w, int h, int x, int full, SDL_Window **win, SDL_Renderer **r,
                          SDL_Texture **tx)
{
    *win = SDL_CreateWindow(title, x, SDL_WINDOWPOS_CENTERED, w, h,
                            SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI | (full ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0));
    *r = *win ? SDL_CreateRenderer(*win, -1, SDL_RENDERER_PRESENTVSYNC) : NULL;
    if (*win && !*r)
        *r = SDL_CreateRenderer(*win, -1, 0);
    *tx = *r ? SDL_CreateTexture(*r, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING, w, h) : NULL;
    if (*r)
        SDL_SetRenderDrawColor(*r, 0, 0, 0, 255);
    return *tx ? 0 : -1;
}

static int open_output(player *p)
{
    int w = p->opt.size_w, h = p->opt.size_h;

    if (p->opt.overlay) {
        /* drawn on a software canvas whatever the output: its alpha is the key */
        w = w ? w : 1920;
        h = h ? h : 1080;
        p->canvas = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
        p->renderer = p->canvas ? SDL_CreateSoftwareRenderer(p->canvas) : NULL;
        if (!p->renderer) {
            fprintf(stderr, "danmaku: cannot create a renderer: %s\n", SDL_GetError());
            return -1;
        }
        if (p->opt.headless)
            return 0;
        if (SDL_InitSubSystem(SDL_INIT_VIDEO)) {
            fprintf(stderr, "danmaku: cannot open a window (%s); use --headless\n", SDL_GetError());
            return -1;
        }
        if (overlay_window("danmaku (fill)", w, h, SDL_WINDOWPOS_CENTERED, p->opt.fullscreen, &p->window,
                           &p->win_renderer, &p->win_tex) ||
            (p->opt.key_fill &&
             (overlay_window("danmaku (key)", w, h, SDL_WINDOWPOS_UNDEFINED, 0, &p->key_window, &p->key_renderer,
                             &p->key_tex) ||
              !(p->key_surface = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888))))) {
            fprintf(stderr, "danmaku: cannot open the overlay's windows: %s\n", SDL_GetError());
            return -1;
        }
        {
            SDL_RendererInfo ri;
            p->vsync = SDL_GetRendererInfo(p->win_renderer, &ri) == 0 && (ri.flags & SDL_RENDERER_PRESENTVSYNC);
        }
        return 0;
    }

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
        if (p->window && !p->opt.no_vsync)
            p->renderer = SDL_CreateRenderer(p->window, -1, SDL_RENDERER_PRESENTVSYNC);
        if (p->window && !p->renderer)
            p->renderer = SDL_CreateRenderer(p->window, -1, 0);
    }
    if (!p->renderer) {
        fprintf(stderr, "danmaku: cannot create a renderer: %s\n", SDL_GetError());
        return -1;
    }
    if (p->window) {
        SDL_RendererInfo ri;
        p->vsync = SDL_GetRendererInfo(p->renderer, &ri) == 0 && (ri.flags & SDL_RENDERER_PRESENTVSYNC);
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

    const char *data = dm_data_dir(dir, dirlen);

    if (!data) {
        fprintf(stderr, "danmaku: %s\n", dir);
        return -1;
    }
    snprintf(film, sizeof film, "%s/demo/demo.mp4", data);
    snprintf(track, sizeof track, "%s/demo/demo-track.xml", data);
    p->opt.demo = 1;
    if (dm_programme_add_film(&p->opt.prog, film, 0, dir, dirlen) ||
        dm_programme_prepend_tracks(&p->opt.prog, 0, p->opt.track_count ? p->opt.tracks : (const char *[]){ track },
                                    p->opt.track_offsets_ms, p->opt.track_count ? p->opt.track_count : 1, dir,
                                    dirlen)) {
        fprintf(stderr, "danmaku: %s\n", dir);
        return -1;
    }
    p->opt.prog.entries[0].aigc = p->opt.aigc;
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

/* --dump-layout: the whole scene (the tracks' comments, then the live ones) in LAYOUT-DUMP.md form. */
static int dump_scene(player *p, const char *path)
{
    FILE *f = fopen(path, "w");
    int err;

    if (!f) {
        fprintf(stderr, "danmaku: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    err = dm_scene_dump(p->scene, f, dm_text_family(p->text), dm_text_outline(p->text));
    if (fclose(f) || err) {
        fprintf(stderr, "danmaku: cannot write %s: %s\n", path,
                err ? dm_strerror(err) : strerror(errno));
        return -1;
    }
    return 0;
}

static void cleanup(player *p)
{
    if (p->audio)
        SDL_CloseAudioDevice(p->audio);
    if (p->null_audio) {
        SDL_AtomicSet(&p->null_audio_stop, 1);
        SDL_WaitThread(p->null_audio, NULL);
    }
    close_audio_dump(p);
    dm_live_stop(&p->live);
    free(p->prog_titles);
    free(p->prog_credits);
    free(p->prog_aigc);
    dm_media_close(&p->media);
    av_frame_free(&p->frame);
    av_frame_free(&p->converted);
    sws_freeContext(p->sws);
    free_sub_textures(p);
    free(p->sub_tex);
    dm_subs_destroy(&p->subs);
    free_label(p);   /* the last film's AIGC label (textures before the renderer goes) */
    dm_hist_free(&p->frame_hist);
    dm_hist_free(&p->subs_hist);
    free(p->density);
    dm_stage_free(&p->stage);
    dm_text_free(&p->text);
    dm_scene_free(&p->scene);
    if (p->renderer)
        SDL_DestroyRenderer(p->renderer);
    if (p->win_tex)
        SDL_DestroyTexture(p->win_tex);
    if (p->key_tex)
        SDL_DestroyTexture(p->key_tex);
    if (p->win_renderer)
        SDL_DestroyRenderer(p->win_renderer);
    if (p->key_renderer)
        SDL_DestroyRenderer(p->key_renderer);
    if (p->key_window)
        SDL_DestroyWindow(p->key_window);
    if (p->key_surface)
        SDL_FreeSurface(p->key_surface);
    dm_mpv_free(&p->mpv);
    if (p->window)
        SDL_DestroyWindow(p->window);
    if (p->canvas)
        SDL_FreeSurface(p->canvas);
    if (p->frame_log)
        fclose(p->frame_log);
    dm_script_free(&p->script);
    player_free_options(&p->opt);
    SDL_Quit();
}

static void print_warning(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "danmaku: warning: %s\n", msg);
}

/* ------------------------------------------------------------ watch later (resume) */

/*
 * The film's watch-later file, as mpv keeps them: one per film, named by the
 * MD5 of its absolute path, in $XDG_STATE_HOME/danmaku/watch_later (or
 * ~/.local/state/danmaku/watch_later). 0, or -1 when there is no such place.
 */
static int watch_later_path(const char *film, char *out, size_t len, int make_dir)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[4096], real[PATH_MAX];
    uint8_t md5[16];
    size_t o;

    if (!realpath(film, real))
        return -1;
    if (state && *state)
        snprintf(dir, sizeof dir, "%s/danmaku/watch_later", state);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/state/danmaku/watch_later", home);
    else
        return -1;
    if (make_dir)
        for (char *q = dir + 1; ; q++)
            if (*q == '/' || !*q) {
                char c = *q;
                *q = 0;
                if (mkdir(dir, 0700) && errno != EEXIST)
                    return -1;
                *q = c;
                if (!c)
                    break;
            }
    av_md5_sum(md5, (const uint8_t *)real, strlen(real));
    o = (size_t)snprintf(out, len, "%s/", dir);
    for (int i = 0; i < 16 && o + 2 < len; i++, o += 2)
        snprintf(out + o, len - o, "%02X", md5[i]);
    return o < len ? 0 : -1;
}

/* A saved position: start there (and forget it, as mpv does). */
static void resume_position(player *p)
{
    char path[4200], line[128];
    double at = -1;
    FILE *f;

    if (p->opt.no_resume || p->opt.demo || p->start > 0 || p->opt.prog.count > 1 ||
        watch_later_path(p->opt.film, path, sizeof path, 0))
        return;
    f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "start=", 6))
            at = strtod(line + 6, NULL);
    fclose(f);
    remove(path);
    if (at > 0 && (p->info->duration <= 0 || at < p->info->duration - 1.0)) {
        char when[32];
        format_time(at, when, sizeof when);
        p->start = at;
        fprintf(stderr, "danmaku: resuming at %s (where it was quit; --no-resume starts at the beginning)\n", when);
    }
}

/* --save-position-on-quit: the viewer quit; remember where. */
static void save_position(player *p)
{
    char path[4200];
    FILE *f;

    if (!p->opt.save_position || !p->quit_by_user || p->opt.demo || p->opt.prog.count > 1 ||
        watch_later_path(p->opt.film, path, sizeof path, 1))
        return;
    f = fopen(path, "w");
    if (!f || fprintf(f, "# %s\nstart=%.3f\n", p->opt.film, p->t) < 0 || fclose(f)) {
        fprintf(stderr, "danmaku: cannot save the position in %s: %s\n", path, strerror(errno));
        return;
    }
    if (p->opt.verbose)
        fprintf(stderr, "danmaku: position %.3f s saved in %s\n", p->t, path);
}

/* ------------------------------------------------------------ the night: one entry after another */

/* The entry's view of the options: its film, tracks, subtitle files, times. */
static void use_entry(player *p, size_t i)
{
    const dm_prog_entry *e = &p->opt.prog.entries[i];

    p->entry = i;
    p->entry_request = -1;
    p->opt.film = e->film;
    p->opt.track_count = e->track_count < DM_MAX_TRACKS ? e->track_count : DM_MAX_TRACKS;
    for (int k = 0; k < p->opt.track_count; k++) {
        p->opt.tracks[k] = e->tracks[k];
        p->opt.track_offsets_ms[k] = e->offsets_ms[k];
    }
    /* the --sub given before the first film are the first film's */
    p->esubs = p->opt.subs;
    if (i > 0)
        p->esubs.n_files = 0;
    for (int k = 0; k < e->sub_count && p->esubs.n_files < DM_SUBS_CLI_MAX_FILES; k++)
        p->esubs.files[p->esubs.n_files++] = e->subs[k];
    p->start = e->start > 0 ? e->start : p->opt.start;
    p->until = e->end >= 0 ? e->end : p->opt.until;
    p->loops_left = p->opt.loop;
    p->t = p->start;
    p->seeked = 0;
    for (int k = 0; k < p->opt.shot_count; k++)
        if (!p->opt.shots[k].in_break)
            p->opt.shots[k].done = 0;
}

/* Film, comments, subtitles and sound of entry i; the output too for the first. 0 or -1 (said on stderr). */
static int open_entry(player *p, size_t i)
{
    dm_media_options mo = { .log = log_media, .log_ud = p, .audio_track = p->opt.no_audio ? -1 : p->opt.aid };
    dm_media_output out = { .video = 1 };
    char err[512] = "";

    use_entry(p, i);
    if (load_tracks(p))
        return -1;
    if (dm_media_open(&p->media, p->opt.film, &mo, err, sizeof err)) {
        fprintf(stderr, "danmaku: %s\n", err);
        return -1;
    }
    p->info = dm_media_get_info(p->media);
    resume_position(p);
    if (p->info->duration > 0 && p->start >= p->info->duration) {
        fprintf(stderr, "danmaku: --start %.3f is past the end of the film (%.3f s)\n", p->start, p->info->duration);
        return -1;
    }
    if (dm_subs_cli_open(&p->esubs, p->opt.film, p->info->width, p->info->height, &p->subs, err, sizeof err)) {
        fprintf(stderr, "danmaku: %s\n", err);
        return -1;
    }
    p->subs_visible = 1;
    if (p->subs && p->opt.verbose) {
        char line[256];
        dm_subs_osd(p->subs, line, sizeof line);
        fprintf(stderr, "danmaku: %s\n", line);
    }
    if (!p->renderer) {
        /* the output, once for the night: the first film's size unless --size */
        if (open_output(p))
            return -1;
        p->stage = dm_stage_new(p->renderer, p->text, 0, err, sizeof err);
        if (!p->stage) {
            fprintf(stderr, "danmaku: %s\n", err);
            return -1;
        }
        if (p->canvas)
            dm_stage_set_canvas(p->stage, p->canvas);   /* software: the SIMD blender on two cores */
        if (p->opt.listen && dm_live_start(&p->live, &p->opt, p->text))
            return -1;
        /* a client that joins at once hears of the night first (the first film, not yet playing) */
        publish_programme(p, 1);
        dm_live_announce(p->live);
    }
    if (update_geometry(p))
        return -1;
    open_audio(p, &out);
    set_volume(p);
    if (dm_media_start(p->media, &out, err, sizeof err)) {
        fprintf(stderr, "danmaku: %s\n", err);
        return -1;
    }
    if (p->speed != 1.0)
        dm_media_set_speed(p->media, p->speed);
    if (p->opt.verbose && out.audio_rate > 0) {
        char name[200];
        fprintf(stderr, "danmaku: audio %s at %.2fx\n",
                dm_media_audio_track_name(p->media, p->info->audio_track, name, sizeof name), p->speed);
    }
    if (p->live) {
        /* a night: the film's own recording from its first comment (the first one's opened with the feed) */
        dm_live_set_film_handler(p->live, host_control, p);
        if (p->live_films++ > 0) {
            char path[4200];
            dm_programme_file_for(&p->opt.prog, i, p->opt.record, p->opt.prog.entries[i].record, path, sizeof path);
            dm_live_new_film(p->live, path);
        }
        publish_programme(p, 1);
    }
    if (p->frame_log)
        fprintf(p->frame_log, "film %zu %.6f\n", i, p->opt.fast ? p->sim_now : dm_now());
    if (p->opt.prog.count > 1 && p->opt.verbose)
        fprintf(stderr, "danmaku: film %zu of %zu: %s (%s)\n", i + 1, p->opt.prog.count,
                p->opt.prog.entries[i].title, p->opt.film);
    return 0;
}

/*
 * Overlay mode: no film. The comments of the --track files on a stage of
 * --size, on the host's clock (standing at --start until space) or mpv's.
 */
static int open_overlay(player *p)
{
    char err[512] = "";
    const dm_comment *c;
    int64_t last = 0;

    p->opt.film = NULL;
    p->esubs = p->opt.subs;
    p->start = p->opt.start;
    p->until = p->opt.until;
    p->loops_left = 0;
    if (load_tracks(p))
        return -1;
    memset(&p->overlay_info, 0, sizeof p->overlay_info);
    p->overlay_info.width = p->opt.size_w ? p->opt.size_w : 1920;
    p->overlay_info.height = p->opt.size_h ? p->opt.size_h : 1080;
    p->overlay_info.display_aspect = (double)p->overlay_info.width / p->overlay_info.height;
    /* the length the seek bar shows: mpv's film, else the comments' (the last one and its time on screen) */
    c = dm_scene_comments(p->scene);
    for (size_t i = 0; i < dm_scene_count(p->scene); i++)
        last = c[i].t_ms > last ? c[i].t_ms : last;
    p->overlay_info.duration = (double)(last + p->opt.layout.scroll_ms) / 1000.0 + 1.0;
    p->info = &p->overlay_info;
    if (p->opt.follow_mpv) {
        double until = dm_now() + 3.0;
        if (dm_mpv_connect(&p->mpv, p->opt.follow_mpv, err, sizeof err)) {
            fprintf(stderr, "danmaku: %s\n", err);
            return -1;
        }
        /* its first answers: where it is and how long its film is */
        while (dm_now() < until && !(dm_mpv_time_known(p->mpv) && dm_mpv_duration(p->mpv) > 0)) {
            if (dm_mpv_poll(p->mpv, dm_now(), err, sizeof err)) {
                fprintf(stderr, "danmaku: %s\n", err);
                return -1;
            }
            SDL_Delay(5);
        }
        if (dm_mpv_duration(p->mpv) > 0)
            p->overlay_info.duration = dm_mpv_duration(p->mpv);
    } else
        dm_film_clock_init(&p->fclock, p->start, dm_now());
    if (open_output(p))
        return -1;
    p->stage = dm_stage_new(p->renderer, p->text, 0, err, sizeof err);
    if (!p->stage) {
        fprintf(stderr, "danmaku: %s\n", err);
        return -1;
    }
    dm_stage_set_canvas(p->stage, p->canvas);
    dm_stage_set_transparent(p->stage, 1);
    if (p->opt.listen && dm_live_start(&p->live, &p->opt, p->text))
        return -1;
    dm_live_announce(p->live);
    if (p->live)
        dm_live_set_film_handler(p->live, host_control, p);   /* the console's play, pause and seeks drive the clock */
    if (update_geometry(p))
        return -1;
    if (!p->opt.fast && !p->mpv)
        fprintf(stderr, "danmaku: overlay: the film clock stands at %.1f s: space starts it, - and = nudge it by "
                "0.1 s, arrows seek\n", p->start);
    return 0;
}

/* What entry i leaves behind: its layout dump, its summary line. 0 or -1. */
static int finish_entry(player *p)
{
    char path[4200];
    dm_scene_tally tally;
    int rc = 0;

    if (p->opt.dump_layout) {
        dm_programme_file_for(&p->opt.prog, p->entry, p->opt.dump_layout, NULL, path, sizeof path);
        if (dump_scene(p, path))
            rc = -1;
    }
    if (p->opt.listen || !p->summarised)
        print_summary(p);
    dm_scene_tally_get(p->scene, &tally);
    p->last_comments = tally.shown;
    return rc;
}

static void close_entry(player *p)
{
    if (p->audio) {
        SDL_CloseAudioDevice(p->audio);
        p->audio = 0;
    }
    if (p->null_audio) {
        SDL_AtomicSet(&p->null_audio_stop, 1);
        SDL_WaitThread(p->null_audio, NULL);
        p->null_audio = NULL;
        SDL_AtomicSet(&p->null_audio_stop, 0);
    }
    dm_media_close(&p->media);
    p->info = NULL;
    free_sub_textures(p);
    p->sub_serial = 0;
    dm_subs_destroy(&p->subs);
    free_label(p);
    dm_scene_free(&p->scene);
    p->laid_out = p->summarised = 0;
    p->density_n = 0;
    p->frame_pts = NAN;
    p->tracked = UINT32_MAX;
    if (p->stage)
        dm_stage_flush_sprites(p->stage);
}

/* A line of the intermission card, centred at height y (output px), `px` high. Returns its height. */
static int card_line(player *p, const char *text, int y, int px, uint32_t rgb)
{
    SDL_Surface *s = text && *text ? dm_text_render(p->text, text, px, rgb, 0x000000, 1.0) : NULL;
    SDL_Texture *tx;
    int w = 0, h = 0;

    if (!s)
        return 0;
    SDL_GetRendererOutputSize(p->renderer, &w, &h);
    tx = SDL_CreateTextureFromSurface(p->renderer, s);
    if (tx) {
        SDL_Rect dst = { (w - s->w) / 2, y, s->w, s->h };
        SDL_SetTextureBlendMode(tx, SDL_BLENDMODE_BLEND);
        if (s->w > w) {   /* a title too long for the screen is shown whole, smaller */
            dst.w = w - 16;
            dst.h = s->h * dst.w / s->w;
            dst.x = 8;
        }
        SDL_RenderCopy(p->renderer, tx, NULL, &dst);
        SDL_DestroyTexture(tx);
        h = dst.h;
    } else
        h = 0;
    SDL_FreeSurface(s);
    return h;
}

/* The intermission card: what comes next, when, the join code, and what the last film's audience said. */
static void draw_card(player *p)
{
    const dm_programme *pr = &p->opt.prog;
    const dm_prog_entry *next = &pr->entries[p->entry], *last = p->entry > 0 ? &pr->entries[p->entry - 1] : NULL;
    char line[512], when[32];
    int w = 0, h = 0, y, unit;

    SDL_GetRendererOutputSize(p->renderer, &w, &h);
    unit = h / 14 > 12 ? h / 14 : 12;
    SDL_SetRenderDrawColor(p->renderer, 8, 8, 12, 255);
    SDL_RenderClear(p->renderer);
    y = h / 6;
    y += card_line(p, pr->card_text ? pr->card_text : (pr->title ? pr->title : "Intermission"), y, unit,
                   0xBBBBBB) + unit;
    y += card_line(p, "Next", y, unit, 0x888888);
    y += card_line(p, next->title, y, unit * 2, 0xFFFFFF);
    if (next->credits)
        y += card_line(p, next->credits, y, unit, 0xCCCCCC);
    if (next->aigc)
        y += card_line(p, pr->aigc_text ? pr->aigc_text : DM_LABEL_DEFAULT_TEXT, y, unit, 0x7FC8FF);
    format_time(p->break_left + 0.999, when, sizeof when);
    snprintf(line, sizeof line, "starts in %s", when);
    y += unit / 2;
    y += card_line(p, line, y, unit * 3 / 2, 0xFB7299);
    if (last) {
        snprintf(line, sizeof line, "%llu comment%s in %s", (unsigned long long)p->last_comments,
                 p->last_comments == 1 ? "" : "s", last->title);
        card_line(p, line, y + unit, unit, 0x999999);
    }
    if (p->live) {
        SDL_Rect whole = { 0, 0, w, h };
        dm_live_draw_qr(p->live, p->renderer, &whole);
    }
}

/*
 * The intermission before entry `next`: the card, counting down from the
 * programme's length; > or Enter start the film now, < goes back to the one
 * before, q quits. Returns 0, or -1 on a drawing error.
 */
static int run_break(player *p, size_t next)
{
    double last = p->opt.fast ? p->sim_now : dm_now();

    p->in_break = 1;
    p->entry = next;
    p->entry_request = -1;
    p->break_left = p->opt.prog.intermission_s;
    for (int k = 0; k < p->opt.shot_count; k++)
        if (p->opt.shots[k].in_break)
            p->opt.shots[k].done = 0;
    if (p->frame_log)
        fprintf(p->frame_log, "break %zu %.6f\n", next, last);
    publish_programme(p, 1);
    while (!p->quit && p->entry_request < 0) {
        double began = dm_now(), now;
        handle_events(p);
        if (p->live)
            dm_live_controls(p->live);   /* the console's "start now", "add five minutes", next, jump... */
        publish_programme(p, 0);
        now = p->opt.fast ? p->sim_now : dm_now();
        p->break_left -= now - last;
        last = now;
        if (p->break_left <= 0)
            break;
        draw_card(p);
        if (capture_shots(p, 0))
            return -1;
        if (p->drawn_osd = osd_showing(p), p->drawn_osd)
            draw_text_box(p, p->osd, 12, 12, 28);
        if (capture_shots(p, 1) || present(p, began))
            return -1;
        if (p->opt.fast)
            p->sim_now += 1.0 / REFRESH_HZ;
        else
            SDL_WaitEventTimeout(NULL, (int)(1000.0 / REFRESH_HZ));
    }
    p->in_break = 0;
    return 0;
}

int main(int argc, char **argv)
{
    player p = { 0 };
    char err[512] = "", demo_dir[4096] = "";
    int rc = 1, headless_demo = 0;
    size_t i;

    switch (player_parse_options(argc, argv, &p.opt)) {
    case 1: player_free_options(&p.opt); return 0;
    case -1: player_free_options(&p.opt); return 1;
    default: break;
    }
    if (!p.opt.prog.count && !p.opt.overlay) {
        headless_demo = setup_demo(&p, demo_dir, sizeof demo_dir);
        if (headless_demo < 0) {
            player_free_options(&p.opt);
            return 1;
        }
    }
    for (i = 0; i < p.opt.prog.count; i++)
        if (!file_exists(p.opt.prog.entries[i].film)) {
            fprintf(stderr, "danmaku: %s: no such file\n", p.opt.prog.entries[i].film);
            player_free_options(&p.opt);
            return 1;
        }
    /* libav's own chatter would repeat per packet (and starts with the title
     * probe below); dm_media reports each problem once */
    av_log_set_level(p.opt.verbose ? AV_LOG_WARNING : AV_LOG_QUIET);
    /* a film without a title in the programme goes by the title it gives
     * itself, else by its file name */
    for (i = 0; i < p.opt.prog.count; i++) {
        dm_prog_entry *e = &p.opt.prog.entries[i];
        char title[256], *t;
        if (e->title_from_name && dm_media_probe_title(e->film, title, sizeof title) && (t = strdup(title))) {
            free(e->title);
            e->title = t;
            e->title_from_name = 0;
        }
    }
    p.show_comments = !p.opt.no_comments;
    p.volume = p.opt.volume;
    p.speed = p.opt.speed;
    p.muted = p.opt.mute;
    p.frame_pts = NAN;
    p.tracked = UINT32_MAX;
    p.entry_request = -1;
    if (SDL_Init(SDL_INIT_EVENTS)) {
        fprintf(stderr, "danmaku: cannot start SDL: %s\n", SDL_GetError());
        player_free_options(&p.opt);
        return 1;
    }
    /* fonts first: the scene measures every comment with them */
    p.text = dm_text_new(p.opt.font, DM_TEXT_OUTLINE_DEFAULT, err, sizeof err);
    if (!p.text) {
        fprintf(stderr, "danmaku: %s\n", err);
        goto done;
    }
    dm_text_set_warn(p.text, print_warning, NULL);
    if (p.opt.script && dm_script_load(&p.script, p.opt.script))
        goto done;
    if (p.opt.log_frames)
        p.frame_log = fopen(p.opt.log_frames, "w");
    if (p.opt.log_frames && !p.frame_log) {
        fprintf(stderr, "danmaku: cannot write %s: %s\n", p.opt.log_frames, strerror(errno));
        goto done;
    }
    if (p.opt.audio_dump && !(p.audio_dump = fopen(p.opt.audio_dump, "wb"))) {
        fprintf(stderr, "danmaku: cannot write %s: %s\n", p.opt.audio_dump, strerror(errno));
        goto done;
    }
    p.frame = av_frame_alloc();
    p.frame_hist = dm_hist_new();
    p.subs_hist = dm_hist_new();
    if (!p.frame || !p.frame_hist || !p.subs_hist) {
        fprintf(stderr, "danmaku: out of memory\n");
        goto done;
    }
    p.started = dm_now();
    rc = 0;
    if (p.opt.overlay) {
        if (open_overlay(&p) || (p.opt.fast ? run_fast(&p) : run_realtime(&p)) != 0)
            rc = 1;
    }
    for (i = 0; i < p.opt.prog.count && !p.quit && rc == 0;) {
        size_t next;
        if (open_entry(&p, i)) {
            rc = 1;
            close_entry(&p);   /* nothing of it to sum up */
            break;
        }
        if ((p.opt.fast ? run_fast(&p) : run_realtime(&p)) != 0)
            rc = 1;
        save_position(&p);
        next = p.entry_request >= 0 ? (size_t)p.entry_request : i + 1;
        if (p.quit || next >= p.opt.prog.count || rc)
            break;   /* the last film: finished below, after the live feed's last comments */
        /* the intake closes: the film's scene takes every comment its recording has */
        if (p.live) {
            announce_between(&p, next, p.opt.prog.intermission_s > 0 && next == i + 1 ? p.opt.prog.intermission_s : 0);
            if (dm_live_end_film(p.live, p.scene, (int64_t)floor(p.t * 1000.0)))
                rc = 1;
        }
        if (finish_entry(&p))
            rc = 1;
        close_entry(&p);
        if (p.opt.prog.intermission_s > 0 && next == i + 1 && run_break(&p, next))
            rc = 1;
        if (p.entry_request >= 0 && p.in_break == 0 && p.entry_request != (long)next)
            next = (size_t)p.entry_request;
        i = next;
    }
    /* every comment the live feed acked is in the scene before it is dumped and summed up */
    if (p.live && p.scene && dm_live_finish(p.live, p.scene, (int64_t)floor(p.t * 1000.0)))
        rc = 1;
    if (p.scene && finish_entry(&p))
        rc = 1;
    if (p.opt.stats && p.media) {
        dm_media_stats ms;
        dm_media_get_stats(p.media, &ms);
        fprintf(stderr, "danmaku: %u frames presented, %llu video frames decoded, %llu dropped, %llu decode errors\n",
                p.frame_count, (unsigned long long)ms.video_frames_decoded,
                (unsigned long long)ms.video_frames_dropped, (unsigned long long)ms.decode_errors);
    }
    if (p.opt.stats) {
        if (dm_hist_count(p.frame_hist))
            fprintf(stderr, "danmaku: frame (compose + present) mean %.3f ms, p50 %.3f, p99 %.3f, max %.3f\n",
                    dm_hist_mean(p.frame_hist), dm_hist_percentile(p.frame_hist, 0.5),
                    dm_hist_percentile(p.frame_hist, 0.99), dm_hist_max(p.frame_hist));
        if (!p.canvas && p.frame_count)
            fprintf(stderr, "danmaku: draw calls for comments (atlas pages, SDL_RenderGeometry) mean %.1f a frame, "
                    "max %llu, %d atlas pages\n", (double)p.draw_calls / p.frame_count, p.draw_calls_max,
                    dm_stage_atlas_pages(p.stage));
        if (dm_hist_count(p.subs_hist))
            fprintf(stderr, "danmaku: subtitles %llu frames, mean %.3f ms, p50 %.3f, p99 %.3f, max %.3f a frame\n",
                    (unsigned long long)dm_hist_count(p.subs_hist), dm_hist_mean(p.subs_hist),
                    dm_hist_percentile(p.subs_hist, 0.5), dm_hist_percentile(p.subs_hist, 0.99),
                    dm_hist_max(p.subs_hist));
    }
    if (p.opt.stats) {
        const unsigned *hc = p.host_controls;
        unsigned total = 0;
        for (int k = DM_NET_FILM_PLAY; k <= DM_NET_BREAK_ADD; k++)
            total += hc[k];
        if (total)
            fprintf(stderr, "danmaku: host film controls: %u (play %u, pause %u, seek %u, seek by %u, next %u, "
                            "previous %u, jump %u, volume %u, intermission ends now %u, intermission longer %u)\n",
                    total, hc[DM_NET_FILM_PLAY], hc[DM_NET_FILM_PAUSE], hc[DM_NET_FILM_SEEK], hc[DM_NET_FILM_SEEK_BY],
                    hc[DM_NET_FILM_NEXT], hc[DM_NET_FILM_PREV], hc[DM_NET_FILM_JUMP], hc[DM_NET_FILM_VOLUME],
                    hc[DM_NET_BREAK_NOW], hc[DM_NET_BREAK_ADD]);
    }
    if (rc == 0 && headless_demo)
        printf("danmaku: no display found, so the demo was rendered headless.\n"
               "danmaku: screenshots of the demo are in %s/\n", demo_dir);
done:
    cleanup(&p);
    return rc;
}
