/*
 * burnin.h - dm_burnin: burning comments into a film, offline and fast.
 *
 *   dm_media demux + decode threads --frames--> compose (caller's thread):
 *       scale/convert (swscale) when the output differs from the film,
 *       draw the comments on screen at the frame's time into the YUV planes
 *   --frames (bounded queue)--> sink thread: encoder (libx264 through
 *       libavcodec, with its own threads) + muxer, audio copied or re-encoded;
 *       or the null sink, which drops them (for measuring).
 *
 * The layout is the player's: dm_layout_opts_for_stage() for the film's
 * display rectangle inside the output, the same fonts, outline and colours,
 * each comment rasterised once (dm_text_render) and converted once to
 * premultiplied YUV (overlay.h).
 *
 * Thread-safety: one dm_burnin_run at a time per process is enough for the
 * tool; `stop` may be set from a signal handler.
 */
#ifndef DM_BURNIN_H
#define DM_BURNIN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "danmaku.h"
#include "subs_cli.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DM_BURNIN_MAX_TRACKS 16

/* Progress, reported after every frame composed. */
typedef struct dm_burnin_progress {
    double t;                  /* film seconds of the frame just composed */
    double start, end;         /* the range being rendered (end: film duration or --end; 0 = unknown) */
    uint64_t frames;           /* frames composed so far */
    size_t on_screen;          /* comments drawn on this frame */
} dm_burnin_progress;

typedef void (*dm_burnin_progress_fn)(void *ud, const dm_burnin_progress *p);

/* Settings; start from DM_BURNIN_OPTS_DEFAULT. */
typedef struct dm_burnin_opts {
    const char *film;                          /* input film */
    const char *output;                        /* output file; ignored with null_sink */
    const char *format;                        /* container name, NULL = from the output's extension */
    const char *tracks[DM_BURNIN_MAX_TRACKS];  /* comment tracks */
    int64_t track_offsets_ms[DM_BURNIN_MAX_TRACKS]; /* when each track's comments start (--offset) */
    int track_count;
    int null_sink;                             /* render and discard the frames */
    const char *codec;                         /* video encoder name ("libx264") */
    int crf;                                   /* < 0: not set */
    int64_t bitrate;                           /* bits/s, 0: not set (CRF is used) */
    const char *preset;                        /* encoder preset, NULL: the encoder's default */
    int out_w, out_h;                          /* output size, 0: the film's display size */
    double start;                              /* film seconds to start at */
    double end;                                /* film seconds to stop at, < 0: the end */
    const char *font;                          /* font family or file, NULL: default CJK font */
    int font_px;                               /* normal comment height, 0: from the stage */
    dm_layout_opts layout;                     /* scroll/fixed/overflow/...; stage and font set by the rule */
    dm_subs_cli subs;                          /* the film's subtitles: drawn over the comments, kept clear of */
    const dm_filter *filter;                   /* --block, --hide...: borrowed, NULL: none */
    int aigc;                                  /* --aigc: the film is AI-generated; it carries the AIGC label */
    const char *aigc_text;                     /* --aigc-text, NULL: the default */
    double opacity;                            /* 0..1 */
    int audio;                                 /* 1: keep the sound (default) */
    dm_burnin_progress_fn progress;            /* may be NULL */
    void *progress_ud;
    volatile sig_atomic_t *stop;               /* when it becomes non-zero the render ends cleanly */
    int verbose;                               /* more messages on stderr */
} dm_burnin_opts;

#define DM_BURNIN_OPTS_DEFAULT { .codec = "libx264", .crf = -1, .end = -1, \
    .layout = DM_LAYOUT_OPTS_DEFAULT, .subs = DM_SUBS_CLI_DEFAULT, .opacity = 1.0, .audio = 1 }

/* What happened. */
typedef struct dm_burnin_stats {
    uint64_t frames;           /* frames composed and handed to the sink */
    uint64_t comments_drawn;   /* sum over frames of the comments drawn */
    uint64_t sprites_made;     /* comments rasterised (each once) */
    uint64_t pictures_copied;  /* decoded pictures copied to draw on (still referenced by the decoder) */
    uint64_t decode_errors;    /* damaged parts of the film skipped */
    size_t comments_total;     /* comments in the tracks */
    size_t comments_shown;     /* comments the layout placed */
    double last_t;             /* film seconds of the last frame */
    int out_w, out_h;          /* output size */
    int font_px;               /* normal comment height used */
    int interrupted;           /* stopped by *stop; the output is complete up to last_t */
    int audio_mode;            /* 0 none, 1 copied, 2 re-encoded */
    double compose_seconds;    /* time spent scaling, copying and drawing */
    double subs_seconds;       /* the subtitles' part of it (rendering, converting, blending) */
    char summary[256];         /* what became of the comments (dm_scene_summary) */
} dm_burnin_stats;

/*
 * Render. Returns 0 (also when stopped through *stop: stats->interrupted is
 * set and the output is a playable file up to that point), or a negative
 * code with one sentence in err. On error a partly written output is removed.
 */
int dm_burnin_run(const dm_burnin_opts *opts, dm_burnin_stats *stats, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
