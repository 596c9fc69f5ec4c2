/*
 * media.h - dm_media: opens a film with libav, runs the demux and decode
 * threads, hands decoded video frames and resampled audio to the player, and
 * keeps the clocks that decide when each video frame is due.
 *
 * The scheme is ffplay's: one thread per stage joined by bounded queues; every
 * packet and frame carries the `serial` of the queue generation it belongs
 * to, and a seek bumps the serial, so stale packets and frames are recognised
 * and dropped wherever they are met instead of being drained by hand.
 *
 *   demux thread --packets--> video decode thread --frames--> video frame queue
 *                \--packets--> audio decode thread --frames--> audio frame queue
 *   consumer: dm_media_video_refresh()/_take() (main thread),
 *             dm_media_audio_pull() (audio callback thread)
 *
 * No SDL here: the player owns the window and the sound device and calls in.
 *
 * Times are film seconds counted from the start of the file (the container's
 * start time is subtracted), as doubles; NAN means "unknown".
 *
 * Errors: functions that can fail return a negative AVERROR code and, where an
 * `err` buffer is passed, a sentence saying what went wrong.
 *
 * Thread-safety: a dm_media is used by at most two caller threads at once:
 * one "video" thread (refresh/peek/take, pause, seek, speed, queries) and one
 * "audio" thread (dm_media_audio_pull/_read). The pure helpers (dm_clock_*,
 * dm_sync_*) touch only what they are given.
 */
#ifndef DM_MEDIA_H
#define DM_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
#include <libavutil/rational.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------- sync constants */

/* No A/V correction is attempted while video is closer than this to the
 * master clock; below 40 ms the eye cannot tell. */
#define AV_SYNC_THRESHOLD_MIN 0.04
/* Above this error a frame is shown at once or held twice as long: the
 * correction threshold is the frame duration clamped into [MIN, MAX]. */
#define AV_SYNC_THRESHOLD_MAX 0.1
/* A frame longer than this is not doubled to catch up; its delay is
 * stretched by the error instead, so slideshows do not stall for seconds. */
#define AV_SYNC_FRAMEDUP_THRESHOLD 0.1
/* Within the threshold ffplay leaves any steady offset alone (one left by
 * start-up, when the first frame shows before the sound device has played
 * anything, stays for the whole film). We take back this share of the error
 * on every frame instead: an offset decays within a second, by steps of a
 * few milliseconds nobody can see. */
#define DM_SYNC_FINE_GAIN 0.1
/* Clocks further apart than this are considered unrelated (a timestamp
 * jump, a broken file): no correction is done, the slave clock is reset. */
#define AV_NOSYNC_THRESHOLD 10.0

/* ------------------------------------------------------------- status */

enum {
    DM_MEDIA_OK = 0,    /* a frame (or data) was produced */
    DM_MEDIA_AGAIN = 1, /* nothing new yet; call again later */
    DM_MEDIA_EOF = 2,   /* the stream has ended (for the current serial) */
};

/* ---------------------------------------------------------------- clock */

/*
 * A clock that runs from the last time it was set, at `speed`, and stops when
 * paused. It belongs to one queue generation: read against another serial it
 * returns NAN, so a clock set before a seek never steers frames after it.
 * Not thread-safe: dm_media keeps its clocks under a lock.
 */
typedef struct dm_clock {
    double pts;          /* clock value at last_updated (film seconds) */
    double pts_drift;    /* pts - last_updated, so reading needs one add */
    double last_updated; /* monotonic time of the last set (seconds) */
    double speed;        /* 1.0 = real time */
    int serial;          /* queue generation the pts belongs to */
    int paused;          /* when set the clock reads pts */
} dm_clock;


/* Unset clock (reads NAN) at speed 1. */
void dm_clock_init(dm_clock *c);
/* Clock value at `now`; NAN when unset or when queue_serial != c->serial. */
double dm_clock_get(const dm_clock *c, int queue_serial, double now);
void dm_clock_set(dm_clock *c, double pts, int serial, double now);
/* Change speed without a jump: the value at `now` is kept. */
void dm_clock_set_speed(dm_clock *c, double speed, double now);
/* Pause or resume without a jump. */
void dm_clock_set_paused(dm_clock *c, int paused, double now);
/* Reset `c` to the slave's value when c is unset or off by more than
 * AV_NOSYNC_THRESHOLD (ffplay's sync_clock_to_slave). */
void dm_clock_sync_to_slave(dm_clock *c, int c_queue_serial, const dm_clock *slave,
                            int slave_queue_serial, double now);

/* ---------------------------------------------------- frame timing (pure) */

/*
 * How long the frame `pts` stays on screen: the distance to the next frame
 * when the distance is sane (positive and at most max_frame_duration),
 * otherwise its own nominal `duration`; 0 when the next frame belongs to
 * another serial (after a seek the new frame is due at once).
 */
double dm_sync_frame_duration(double pts, double duration, int serial, double next_pts,
                              int next_serial, double max_frame_duration);

/*
 * Delay before the next frame replaces the current one (ffplay's
 * compute_target_delay). `delay` is the nominal duration of the current
 * frame, `diff` = video clock - master clock (NAN when unknown or when video
 * is the master). Video behind by more than the threshold: the delay shrinks
 * (to 0 at most); ahead: the frame is held longer (doubled, or stretched by
 * `diff` for long frames). Differences beyond max_frame_duration are ignored.
 * Example: delay 0.040, diff -0.100 -> 0; diff +0.100 -> 0.080; diff 0.01 -> 0.040.
 */
double dm_sync_target_delay(double delay, double diff, double max_frame_duration);

typedef enum dm_sync_action {
    DM_SYNC_WAIT, /* the next frame is not due yet; *remaining says how long */
    DM_SYNC_SHOW, /* show the next frame now */
    DM_SYNC_DROP, /* the next frame is already late: skip it without showing */
} dm_sync_action;

/*
 * Decide what to do with the next video frame at time `now`.
 * `*frame_timer` is the time the current frame became due; `delay` comes from
 * dm_sync_target_delay(); `next_duration` is how long the next frame would
 * stay (NAN when no frame follows it yet, which forbids dropping).
 * On SHOW and DROP *frame_timer advances by `delay` (snapping to `now` when
 * more than AV_SYNC_THRESHOLD_MAX behind, so one stall does not cause a burst
 * of drops). On WAIT *remaining (if not NULL) gets the seconds until it is due.
 */
dm_sync_action dm_sync_decide(double *frame_timer, double now, double delay,
                              double next_duration, int allow_drop, double *remaining);

/* ------------------------------------------------------------ the film */

typedef struct dm_media dm_media;

/* Called from any media thread; must be thread-safe. `level` is an AV_LOG_*
 * value (AV_LOG_ERROR, AV_LOG_WARNING, AV_LOG_INFO). */
typedef void (*dm_media_log_fn)(void *ud, int level, const char *message);

typedef struct dm_media_info {
    double duration;        /* seconds; 0 when unknown */
    int has_video;          /* a decodable video stream was found */
    int has_audio;          /* a decodable audio stream was found */
    int width, height;      /* coded picture size */
    AVRational sar;         /* sample aspect ratio; 1:1 when the file does not say */
    double display_aspect;  /* width * sar / height; 0 without video */
    double frame_rate;      /* frames per second; 0 when unknown */
    enum AVPixelFormat pix_fmt; /* decoder output format */
    int audio_rate;         /* source sample rate (Hz) */
    int audio_channels;     /* source channel count */
    char video_codec[32];   /* decoder name, "" without video */
    char audio_codec[32];   /* decoder name, "" without audio */
    double start_offset;    /* container time (s) that is film time 0: a film that starts late
                             * (MPEG-TS near 1.4 s) is shifted to 0 so comment tracks line up */
    int audio_tracks;       /* the film's audio streams (decodable or not) */
    int audio_track;        /* the one chosen at open, 1-based among them; 0: none */
} dm_media_info;

typedef struct dm_media_options {
    dm_media_log_fn log;    /* NULL: messages go to stderr */
    void *log_ud;           /* passed to log */
    int video_threads;      /* decoder threads; 0 = one per core */
    int audio_track;        /* 0: the film's default audio stream; N >= 1: its Nth audio stream
                             * (as mpv's --aid); -1: no audio */
} dm_media_options;

/* Sample formats dm_media can deliver (interleaved). */
typedef enum dm_audio_format {
    DM_AUDIO_F32 = 0,       /* 32-bit float, native endian */
    DM_AUDIO_S16 = 1,       /* signed 16-bit, native endian */
} dm_audio_format;

/* What the consumer wants out; filled after opening its devices. */
typedef struct dm_media_output {
    int video;              /* decode video (ignored without a video stream) */
    int audio_rate;         /* output rate in Hz; 0 = do not decode audio */
    int audio_channels;     /* output channels (1..8) */
    dm_audio_format audio_format;
} dm_media_output;

/*
 * Open `path` and probe its streams; no thread runs yet, so the caller can
 * read dm_media_get_info() and open its sound device before dm_media_start().
 * `opt` may be NULL. On success *out owns the film; on failure *out is NULL
 * and `err` says why (missing file, unknown format, no audio or video).
 */
int dm_media_open(dm_media **out, const char *path, const dm_media_options *opt,
                  char *err, size_t errlen);

/*
 * The title the film gives itself (its container's "title" tag), read from
 * the header alone: valid UTF-8 with control codes as spaces and the ends
 * trimmed, at most len - 1 bytes (cut at a character). Returns 1 with buf set,
 * 0 when the film names itself nothing (or cannot be opened, or the tag is
 * not UTF-8).
 */
int dm_media_probe_title(const char *path, char *buf, size_t len);

/* Stream facts; valid until dm_media_close(). */
const dm_media_info *dm_media_get_info(const dm_media *m);

/*
 * Start the threads. With output->audio_rate == 0 (or a file without audio)
 * the master clock is a monotonic wall clock; otherwise it is the audio the
 * caller pulls, so the caller MUST keep calling dm_media_audio_pull() (or
 * _read()), or the queues fill and playback stalls. Call once.
 */
int dm_media_start(dm_media *m, const dm_media_output *output, char *err, size_t errlen);

/* Stop the threads and free everything; *m becomes NULL. NULL-safe. */
void dm_media_close(dm_media **m);

/* Facts about one decoded video frame. */
typedef struct dm_frame_info {
    double pts;             /* film seconds */
    double duration;        /* nominal seconds on screen (1 / frame rate) */
    int serial;             /* queue generation; bumps on every seek */
    int needs_convert;      /* not YUV420P or NV12: see dm_frame_to_yuv420p() */
} dm_frame_info;

/*
 * The next video frame in decode order, without timing: for offline users
 * (burn-in, thumbnails, tests). Frames older than the last seek are skipped
 * here and never returned. With `block` set, waits until a frame or the end.
 * Returns DM_MEDIA_OK (info filled), DM_MEDIA_AGAIN (nothing decoded yet,
 * only without block), DM_MEDIA_EOF, or a negative error once closed.
 */
int dm_media_video_peek(dm_media *m, dm_frame_info *info, int block);

/* As peek, and on DM_MEDIA_OK moves the frame into `dst` (the caller owns
 * the reference and must av_frame_unref() it) and advances the queue. */
int dm_media_video_take(dm_media *m, AVFrame *dst, dm_frame_info *info, int block);

/*
 * The player's per-iteration call (ffplay's video_refresh): decides from the
 * master clock whether the next frame is due, drops frames that are already
 * late, and makes a due frame current. `*remaining` (in/out) is lowered to
 * the seconds until the next decision is needed; the caller sleeps that long
 * (at most) before calling again. Never blocks.
 * Returns DM_MEDIA_OK when a new frame became current (upload it),
 * DM_MEDIA_AGAIN when the current frame stays, DM_MEDIA_EOF when the video
 * has ended and the last frame was shown.
 */
int dm_media_video_refresh(dm_media *m, double *remaining);

/* The frame made current by the last DM_MEDIA_OK refresh, or NULL; owned by
 * the film, valid until the next refresh/seek/close. `info` may be NULL. */
const AVFrame *dm_media_video_current(const dm_media *m, dm_frame_info *info);

/*
 * Fill `buf` with exactly `len` bytes of audio in the format given to
 * dm_media_start(), for a sound device callback; never blocks. Silence is
 * written while paused, while starved, after the end and while the audio
 * track is off. At a speed other than 1 the sound is time-stretched with
 * libavfilter's atempo (pitch unchanged). `device_latency` is the seconds of audio the
 * device has buffered but not yet played (SDL: about two device buffers);
 * it keeps the audio clock on what the listener hears.
 * Returns the number of bytes that were real audio (0..len).
 */
int dm_media_audio_pull(dm_media *m, uint8_t *buf, int len, double device_latency);

/* Offline variant: blocks until `len` bytes are decoded or the stream ends.
 * Returns the bytes written (< len only at the end; 0 = ended), or < 0. */
int dm_media_audio_read(dm_media *m, uint8_t *buf, int len);

/*
 * Seek to `seconds` (clamped to [0, duration]). Accurate: the demuxer seeks
 * to the key frame before the target and the decoders drop every frame (and
 * audio sample) before it, so the first frame out has pts >= target (within
 * one millisecond of rounding). Returns at once; frames from before the seek
 * are stale from this moment on and never come out. Returns the new serial
 * (> 0), or AVERROR(EINVAL) before dm_media_start().
 */
int dm_media_seek(dm_media *m, double seconds);

/* Pause or resume playback (clocks stop; audio pull gives silence). */
void dm_media_set_paused(dm_media *m, int paused);
int dm_media_is_paused(dm_media *m);

/*
 * Playback speed in [DM_SPEED_MIN, DM_SPEED_MAX]. The audio stays the master
 * clock at every speed: it is played time-stretched with libavfilter's atempo
 * (chained, each instance within 0.5..2), so its pitch does not change, and
 * the audio clock counts film time at `speed` film seconds per second.
 * Returns the speed applied.
 */
#define DM_SPEED_MIN 0.25
#define DM_SPEED_MAX 4.0
double dm_media_set_speed(dm_media *m, double speed);

/*
 * Switch the audio track while playing: n >= 1 the film's nth audio stream,
 * 0 none (only when the film has video; the wall clock, following the video,
 * becomes the master). Done as a seek to the current time, so the new track
 * starts in sync. Needs audio output (dm_media_start with audio_rate > 0).
 * Returns n, or a negative AVERROR with `err` saying why (no such track, no
 * decoder for it, no audio output).
 */
int dm_media_set_audio_track(dm_media *m, int n, char *err, size_t errlen);

/* The audio track playing now: 1-based among the film's audio streams, 0 none. */
int dm_media_audio_track(dm_media *m);

/* "2/3 eng aac stereo" for audio track n (1-based): its number, language
 * (when tagged), title, codec and channels. Returns buf; "" for no such track. */
const char *dm_media_audio_track_name(const dm_media *m, int n, char *buf, size_t len);

/* The master clock now, in film seconds; NAN before anything has played. */
double dm_media_clock(dm_media *m);

/* True when every started stream reached its end (for the current serial). */
int dm_media_eof(dm_media *m);

/* Counters for a HUD or a test. */
typedef struct dm_media_stats {
    uint64_t video_frames_decoded;
    uint64_t video_frames_dropped;  /* late frames skipped by refresh */
    uint64_t audio_frames_decoded;
    uint64_t decode_errors;         /* all streams, logged only once */
} dm_media_stats;
void dm_media_get_stats(dm_media *m, dm_media_stats *st);

/* ----------------------------------------------------------- image helpers */

/* True for the formats the player uploads as they are (YUV420P, NV12). */
int dm_pix_fmt_is_direct(enum AVPixelFormat fmt);

/*
 * Convert `src` into a YUV420P frame of the same size. `dst` is (re)allocated
 * as needed; `*sws` caches the scaler between calls (free with
 * sws_freeContext). pts is copied. Returns 0 or a negative AVERROR.
 */
struct SwsContext;
int dm_frame_to_yuv420p(struct SwsContext **sws, const AVFrame *src, AVFrame *dst);

/* Convert (and scale) `src` into caller memory as RGBA, dst_w x dst_h. */
int dm_frame_to_rgba(struct SwsContext **sws, const AVFrame *src, uint8_t *rgba,
                     int dst_w, int dst_h, int stride);

/*
 * Write an RGBA image as PNG with libavcodec's PNG encoder (no other image
 * library needed). Returns 0, or a negative AVERROR with `err` filled.
 */
int dm_png_write(const char *path, const uint8_t *rgba, int w, int h, int stride,
                 char *err, size_t errlen);

/*
 * Read a PNG into a malloc'd RGBA buffer (stride = 4 * w); the caller frees
 * *rgba with free(). Returns 0, or a negative AVERROR with `err` filled.
 */
int dm_png_read(const char *path, uint8_t **rgba, int *w, int *h, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
