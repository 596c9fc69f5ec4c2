/*
 * sink.h - where composed frames go: an encoder + muxer writing a file (with
 * the film's sound), or nothing at all (--null, for measuring). A small
 * vtable, as dav1d's output muxers, so the pipeline does not care which.
 *
 * Thread-safety: a sink is driven by one thread (the pipeline's sink thread)
 * from open to close.
 */
#ifndef DM_BURNIN_SINK_H
#define DM_BURNIN_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/frame.h>
#include <libavutil/rational.h>

typedef struct dm_sink dm_sink;

typedef struct dm_sink_ops {
    const char *name;
    /* Consume one frame (borrowed; pts in the params' time base). 0 or < 0. */
    int (*write)(dm_sink *s, const AVFrame *frame);
    /* Drain the encoder, write the remaining sound up to `end_t` output
     * seconds (< 0: all of it) and the trailer. 0 or < 0. */
    int (*finish)(dm_sink *s, double end_t);
    /* Free everything; an unfinished file is removed. */
    void (*close)(dm_sink *s);
} dm_sink_ops;

struct dm_sink {
    const dm_sink_ops *ops;
    char err[512];             /* the sentence of the last failure */
};

/* What the file sink needs to know. */
typedef struct dm_sink_file_params {
    const char *path;          /* output file */
    const char *format;        /* container, NULL: from the extension */
    const char *codec;         /* video encoder name */
    int crf;                   /* < 0: not set */
    int64_t bitrate;           /* 0: not set */
    const char *preset;        /* NULL: not set */
    int width, height;         /* picture size */
    AVRational frame_rate;     /* nominal rate */
    AVRational time_base;      /* of the frames' pts */
    const char *film;          /* where the sound comes from; NULL: no sound */
    double film_origin;        /* container seconds that are film time 0 (dm_media_info.start_offset) */
    double film_offset;        /* film seconds at output time 0 (--start) */
    double film_end;           /* film seconds at which to stop the sound, < 0: the end */
    int verbose;
} dm_sink_file_params;

/*
 * The file sink. Nothing is opened until the first frame arrives (its
 * colour properties go into the stream headers). Returns 0 or a negative
 * AVERROR with `err` filled.
 */
int dm_sink_file_new(dm_sink **out, const dm_sink_file_params *p, char *err, size_t errlen);

/* How the sound went: 0 none, 1 copied, 2 re-encoded. */
int dm_sink_file_audio_mode(const dm_sink *s);

/* The null sink: drops every frame. */
int dm_sink_null_new(dm_sink **out);

#endif
