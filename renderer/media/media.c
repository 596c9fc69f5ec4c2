/*
 * media.c - dm_media: opening a film, the demux and decode threads, and the
 * consumer side (video refresh/take, audio pull) with ffplay's clock scheme.
 * See media.h for the contract and the thread layout.
 */
#include "media.h"
#include "danmaku.h"
#include "media_queue.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mem.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>

/* The demuxer stops reading when the packet queues hold this many bytes, or
 * when every stream has MIN_FRAMES packets and more than a second queued:
 * enough to ride out a slow read without buffering the whole film. */
#define MAX_QUEUE_SIZE (15 * 1024 * 1024)
#define MIN_FRAMES 25
/* Decoded frames kept ahead: video frames are big, audio frames are small
 * and the audio callback must never wait (ffplay's sizes). */
#define VIDEO_PICTURE_QUEUE_SIZE 3
#define SAMPLE_QUEUE_SIZE 9
/* How long the demux thread sleeps when full or at EOF before looking again;
 * seeks and a draining decoder wake it earlier. */
#define DEMUX_IDLE_NS 10000000L
/* Frames this close before a seek target count as "at" the target: pts are
 * rounded from integer time bases, so 1.0 may come out as 0.99999. */
#define SEEK_EPSILON 0.001
/* Consecutive read errors (not EOF) after which the rest of the file is
 * treated as unreadable and playback ends normally. */
#define MAX_READ_ERRORS 32
/* Audio streams beyond this many are not offered as tracks. */
#define MAX_AUDIO_TRACKS 64

/* Status of audio_decode_frame(), beside negative errors. */
enum { AUDIO_NONE = 0, AUDIO_DATA = 1, AUDIO_END = 2 };

typedef struct dm_decoder {
    struct dm_media *m;
    const char *kind;           /* "video" / "audio", for messages */
    AVCodecContext *avctx;      /* decode thread only once started */
    AVRational time_base;       /* stream time base; read-only */
    dm_pktq *queue;             /* packets in */
    dm_frameq *frames;          /* frames out */
    /* decode thread only: */
    AVPacket *pkt;
    int pkt_serial;             /* generation of the packet being decoded */
    int packet_pending;         /* pkt was refused with EAGAIN; resend it */
    double next_pts;            /* audio: where a frame without pts starts */
    /* written by the decode thread, read anywhere: */
    atomic_int finished;        /* serial that decoded to the end; 0 = none */
    atomic_int error_logged;    /* first decode error already reported */
    pthread_t thread;
    int thread_started;         /* owner thread only */
} dm_decoder;

struct dm_media {
    /* Set by open/start, read-only afterwards (any thread). */
    AVFormatContext *ic;        /* demux thread only once started */
    dm_media_info info;
    dm_media_log_fn log;
    void *log_ud;
    int video_stream;           /* -1 when absent or not decoded */
    int audio_stream;           /* the audio stream started with; -1 when absent or not decoded */
    int audio_streams[MAX_AUDIO_TRACKS]; /* the film's audio streams: track n is audio_streams[n - 1] */
    int n_audio;
    atomic_int audio_cur;       /* the audio stream selected now (a track switch), -1 none */
    int demux_audio;            /* demux thread only: the audio stream whose packets it queues */
    double start_offset;        /* container start time, subtracted from pts */
    double frame_duration;      /* 1 / frame rate, 0 when unknown */
    double max_frame_duration;  /* longer gaps between frames are jumps */
    int started;
    dm_media_output out;
    enum AVSampleFormat out_fmt;
    AVChannelLayout out_layout;
    int out_frame_bytes;        /* bytes per sample frame (all channels) */

    dm_decoder vdec, adec;
    dm_pktq videoq, audioq;
    dm_frameq pictq, sampq;
    pthread_t demux_thread;
    int demux_started;
    atomic_int abort;

    /* Wakes the demux thread: queues drained, seek requested, abort. */
    pthread_mutex_t wait_lock;
    pthread_cond_t continue_read;

    pthread_mutex_t seek_lock;
    /* protected by seek_lock: */
    int serial_counter;         /* last serial handed out */
    int seek_req;               /* a seek waits for the demux thread */
    double seek_target;         /* film seconds */
    int seek_serial;            /* serial the seek starts */
    double accurate_target;     /* frames of accurate_serial before it are dropped */
    int accurate_serial;
    int seek_audio;             /* the audio stream the demuxer queues from this seek on */
    AVCodecContext *audio_pending; /* a track switch's decoder, for the audio decode thread to take */

    pthread_mutex_t clock_lock;
    /* protected by clock_lock: */
    dm_clock audclk, vidclk, extclk;
    int paused;
    double speed;
    double clock_fallback;      /* dm_media_clock() while the clocks are unset */

    /* Video consumer thread only: */
    AVFrame *cur;               /* frame made current by refresh */
    dm_frame_info cur_info;
    int have_cur;
    double frame_timer;         /* time the last shown frame became due */
    double last_pts;            /* last frame shown or dropped */
    double last_duration;
    int last_serial;

    /* Audio consumer thread only: */
    SwrContext *swr;
    int swr_fmt, swr_rate, swr_serial;
    AVChannelLayout swr_layout;
    uint8_t *abuf;              /* converted samples not yet handed out */
    unsigned abuf_alloc;
    int abuf_size, abuf_index;
    double audio_clock;         /* pts at the end of abuf */
    int audio_clock_serial;
    double abuf_speed;          /* film seconds per second of the samples in abuf */
    /* speed != 1: abuffer -> atempo... -> aformat -> abuffersink */
    AVFilterGraph *tempo_graph;
    AVFilterContext *tempo_src, *tempo_sink;
    double tempo_speed;         /* the speed it was built for */
    int tempo_serial;           /* and the queue generation */
    double tempo_t0;            /* film time of the first sample fed to it */
    int64_t tempo_in, tempo_out; /* samples fed and taken since */
    AVFrame *tempo_frame;
    uint8_t *tbuf;              /* its output, swapped into abuf */
    unsigned tbuf_alloc;

    /* Counters, any thread. */
    atomic_uint_fast64_t video_frames, audio_frames, dropped, decode_errors;
    atomic_int read_error_logged;
};

/* ---------------------------------------------------------------- helpers */

static void default_log(void *ud, int level, const char *message)
{
    (void)ud;
    (void)level;
    fprintf(stderr, "danmaku: %s\n", message);
}

static void media_log(dm_media *m, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void media_log(dm_media *m, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    m->log(m->log_ud, level, msg);
}

static const char *av_err_text(int err, char *buf, size_t len)
{
    av_strerror(err, buf, len);
    return buf;
}

static double ts_to_seconds(const dm_media *m, int64_t ts, AVRational tb)
{
    if (ts == AV_NOPTS_VALUE)
        return NAN;
    return (double)ts * av_q2d(tb) - m->start_offset;
}

/* A decode error is reported once per stream: a damaged file would otherwise
 * print a line per frame and bury everything else. */
static void decode_error(dm_decoder *d, int err)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    atomic_fetch_add(&d->m->decode_errors, 1);
    if (atomic_exchange(&d->error_logged, 1) == 0)
        media_log(d->m, AV_LOG_WARNING,
                  "%s decoding error (%s): the file may be damaged; playing what can be "
                  "decoded, further errors are counted but not reported",
                  d->kind, av_err_text(err, buf, sizeof(buf)));
}

static int interrupt_cb(void *ud)
{
    dm_media *m = ud;
    return atomic_load(&m->abort);
}

static void wake_demux(dm_media *m)
{
    pthread_mutex_lock(&m->wait_lock);
    pthread_cond_signal(&m->continue_read);
    pthread_mutex_unlock(&m->wait_lock);
}

/* ---------------------------------------------------------------- decoders */

/* The audio decode thread at a new serial: a track switch's decoder and the
 * time base of its stream replace the old ones. */
static void audio_take_pending(dm_decoder *d)
{
    dm_media *m = d->m;
    pthread_mutex_lock(&m->seek_lock);
    if (m->audio_pending) {
        avcodec_free_context(&d->avctx);
        d->avctx = m->audio_pending;
        d->time_base = d->avctx->pkt_timebase;
        m->audio_pending = NULL;
    }
    pthread_mutex_unlock(&m->seek_lock);
}

/*
 * Next decoded frame of the current serial (ffplay's decoder_decode_frame).
 * Returns 1 with a frame, 0 when the decoder drained to the end, -1 on abort.
 */
static int decoder_decode_frame(dm_decoder *d, AVFrame *frame)
{
    for (;;) {
        if (atomic_load(&d->queue->serial) == d->pkt_serial) {
            for (;;) {
                int ret;
                if (atomic_load(&d->m->abort))
                    return -1;
                ret = avcodec_receive_frame(d->avctx, frame);
                if (ret >= 0)
                    return 1;
                if (ret == AVERROR_EOF) {
                    atomic_store(&d->finished, d->pkt_serial);
                    dm_frameq_wake(d->frames);
                    avcodec_flush_buffers(d->avctx);
                    return 0;
                }
                if (ret == AVERROR(EAGAIN))
                    break;
                decode_error(d, ret);
            }
        }
        for (;;) {
            int nb_packets;
            if (d->packet_pending) {
                d->packet_pending = 0;
            } else {
                int old_serial = d->pkt_serial;
                dm_pktq_stats(d->queue, &nb_packets, NULL, NULL);
                if (nb_packets == 0)
                    wake_demux(d->m);
                if (dm_pktq_get(d->queue, d->pkt, 1, &d->pkt_serial) < 0)
                    return -1;
                if (old_serial != d->pkt_serial) {
                    /* First packet after a seek: reference frames and
                     * reordering state belong to the old position. A
                     * track switch (a seek too) brings its own decoder. */
                    if (d == &d->m->adec)
                        audio_take_pending(d);
                    avcodec_flush_buffers(d->avctx);
                    atomic_store(&d->finished, 0);
                    d->next_pts = NAN;
                }
            }
            if (atomic_load(&d->queue->serial) == d->pkt_serial)
                break;
            av_packet_unref(d->pkt);
        }
        {
            int ret = avcodec_send_packet(d->avctx, d->pkt);
            if (ret == AVERROR(EAGAIN)) {
                /* Both directions full would be an API violation; keep the
                 * packet and drain frames first rather than lose it. */
                d->packet_pending = 1;
            } else {
                if (ret < 0 && ret != AVERROR_EOF)
                    decode_error(d, ret);
                av_packet_unref(d->pkt);
            }
        }
    }
}

/* True when frame `pts` of `serial` lies before a pending accurate-seek target. */
static int before_seek_target(dm_media *m, int serial, double pts, double duration)
{
    int before = 0;
    if (isnan(pts))
        return 0;
    pthread_mutex_lock(&m->seek_lock);
    if (serial == m->accurate_serial)
        before = pts + duration < m->accurate_target - SEEK_EPSILON;
    pthread_mutex_unlock(&m->seek_lock);
    return before;
}

static void *video_thread_main(void *arg)
{
    dm_decoder *d = arg;
    dm_media *m = d->m;
    AVFrame *frame = av_frame_alloc();
    double last_pts = NAN;
    if (!frame)
        return NULL;
    for (;;) {
        dm_frame_slot *slot;
        double pts;
        int ret = decoder_decode_frame(d, frame);
        if (ret < 0)
            break;
        if (ret == 0)
            continue;
        atomic_fetch_add(&m->video_frames, 1);
        pts = ts_to_seconds(m, frame->best_effort_timestamp, d->time_base);
        if (isnan(pts) && !isnan(last_pts))
            pts = last_pts + m->frame_duration;
        last_pts = pts;
        /* Video frames are dropped from their start: a frame starting before
         * the target is not shown even if it would still cover it. */
        if (before_seek_target(m, d->pkt_serial, pts, 0.0)) {
            av_frame_unref(frame);
            continue;
        }
        slot = dm_frameq_peek_writable(d->frames);
        if (!slot) {
            av_frame_unref(frame);
            break;
        }
        slot->pts = pts;
        slot->duration = m->frame_duration;
        slot->serial = d->pkt_serial;
        av_frame_move_ref(slot->frame, frame);
        dm_frameq_push(d->frames);
    }
    av_frame_free(&frame);
    return NULL;
}

static void *audio_thread_main(void *arg)
{
    dm_decoder *d = arg;
    dm_media *m = d->m;
    AVFrame *frame = av_frame_alloc();
    if (!frame)
        return NULL;
    for (;;) {
        dm_frame_slot *slot;
        double pts, duration;
        int ret = decoder_decode_frame(d, frame);
        if (ret < 0)
            break;
        if (ret == 0)
            continue;
        if (frame->sample_rate <= 0 || frame->nb_samples <= 0) {
            av_frame_unref(frame);
            continue;
        }
        atomic_fetch_add(&m->audio_frames, 1);
        duration = (double)frame->nb_samples / frame->sample_rate;
        pts = ts_to_seconds(m, frame->pts, d->time_base);
        if (isnan(pts))
            pts = d->next_pts;
        if (!isnan(pts))
            d->next_pts = pts + duration;
        /* Audio frames are dropped only when wholly before the target; the
         * part before it is cut in audio_decode_frame(). */
        if (before_seek_target(m, d->pkt_serial, pts, duration)) {
            av_frame_unref(frame);
            continue;
        }
        slot = dm_frameq_peek_writable(d->frames);
        if (!slot) {
            av_frame_unref(frame);
            break;
        }
        slot->pts = pts;
        slot->duration = duration;
        slot->serial = d->pkt_serial;
        av_frame_move_ref(slot->frame, frame);
        dm_frameq_push(d->frames);
    }
    av_frame_free(&frame);
    return NULL;
}

/* ------------------------------------------------------------ demux thread */

static int stream_has_enough_packets(dm_pktq *q, int stream, AVStream *st)
{
    int nb;
    int64_t duration;
    if (stream < 0)
        return 1;
    dm_pktq_stats(q, &nb, NULL, &duration);
    return nb > MIN_FRAMES && (!duration || av_q2d(st->time_base) * (double)duration > 1.0);
}

static int queues_full(dm_media *m)
{
    int64_t vsize = 0, asize = 0;
    if (m->video_stream >= 0)
        dm_pktq_stats(&m->videoq, NULL, &vsize, NULL);
    if (m->demux_audio >= 0)
        dm_pktq_stats(&m->audioq, NULL, &asize, NULL);
    if (vsize + asize > MAX_QUEUE_SIZE)
        return 1;
    return stream_has_enough_packets(&m->videoq, m->video_stream,
                                     m->video_stream >= 0 ? m->ic->streams[m->video_stream] : NULL)
        && stream_has_enough_packets(&m->audioq, m->demux_audio,
                                     m->demux_audio >= 0 ? m->ic->streams[m->demux_audio] : NULL);
}

static void demux_idle(dm_media *m)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += DEMUX_IDLE_NS;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&m->wait_lock);
    if (!atomic_load(&m->abort))
        pthread_cond_timedwait(&m->continue_read, &m->wait_lock, &ts);
    pthread_mutex_unlock(&m->wait_lock);
}

static void demux_put_eof(dm_media *m, int serial)
{
    if (m->video_stream >= 0)
        dm_pktq_put_eof(&m->videoq, m->video_stream, serial);
    if (m->demux_audio >= 0)
        dm_pktq_put_eof(&m->audioq, m->demux_audio, serial);
}

static void *demux_thread_main(void *arg)
{
    dm_media *m = arg;
    AVPacket *pkt = av_packet_alloc();
    int serial, eof = 0, read_errors = 0;
    if (!pkt)
        return NULL;
    pthread_mutex_lock(&m->seek_lock);
    serial = m->serial_counter;
    pthread_mutex_unlock(&m->seek_lock);

    while (!atomic_load(&m->abort)) {
        int seek = 0, ret, audio = m->demux_audio;
        double target = 0;
        pthread_mutex_lock(&m->seek_lock);
        if (m->seek_req) {
            seek = 1;
            target = m->seek_target;
            serial = m->seek_serial;
            audio = m->seek_audio;
            m->seek_req = 0;
        }
        pthread_mutex_unlock(&m->seek_lock);
        if (audio != m->demux_audio) {
            /* an audio track switch: read the new stream, skip the old */
            if (m->demux_audio >= 0)
                m->ic->streams[m->demux_audio]->discard = AVDISCARD_ALL;
            if (audio >= 0)
                m->ic->streams[audio]->discard = AVDISCARD_DEFAULT;
            m->demux_audio = audio;
        }
        if (seek) {
            int64_t ts = (int64_t)((target + m->start_offset) * AV_TIME_BASE);
            /* max_ts = ts: land on the key frame at or before the target,
             * the decoders then drop frames up to it. */
            ret = avformat_seek_file(m->ic, -1, INT64_MIN, ts, ts, 0);
            if (ret < 0) {
                char buf[AV_ERROR_MAX_STRING_SIZE];
                media_log(m, AV_LOG_WARNING, "seek to %.3f s failed (%s)", target,
                          av_err_text(ret, buf, sizeof(buf)));
            }
            eof = 0;
            read_errors = 0;
        }
        if (queues_full(m)) {
            demux_idle(m);
            continue;
        }
        ret = av_read_frame(m->ic, pkt);
        if (ret < 0) {
            int at_end = ret == AVERROR_EOF || (m->ic->pb && avio_feof(m->ic->pb));
            if (!at_end && ret != AVERROR(EAGAIN) && !eof) {
                char buf[AV_ERROR_MAX_STRING_SIZE];
                read_errors++;
                if (atomic_exchange(&m->read_error_logged, 1) == 0)
                    media_log(m, AV_LOG_WARNING, "read error (%s): the file may be damaged",
                              av_err_text(ret, buf, sizeof(buf)));
                if (read_errors >= MAX_READ_ERRORS || (m->ic->pb && m->ic->pb->error))
                    at_end = 1;
            }
            if (at_end && !eof) {
                /* A file cut short ends here too: whatever was read plays. */
                demux_put_eof(m, serial);
                eof = 1;
            }
            demux_idle(m);
            continue;
        }
        read_errors = 0;
        if (pkt->stream_index == m->video_stream)
            dm_pktq_put(&m->videoq, pkt, serial);
        else if (pkt->stream_index == m->demux_audio)
            dm_pktq_put(&m->audioq, pkt, serial);
        else
            av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    return NULL;
}

/* ---------------------------------------------------------------- opening */

static int open_decoder(dm_media *m, int index, const dm_media_options *opt, AVCodecContext **out,
                        char *err, size_t errlen)
{
    AVStream *st = m->ic->streams[index];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    AVCodecContext *avctx;
    char buf[AV_ERROR_MAX_STRING_SIZE];
    int ret;

    *out = NULL;
    if (!codec) {
        dm_set_err(err, errlen, "no decoder for %s", avcodec_get_name(st->codecpar->codec_id));
        return AVERROR_DECODER_NOT_FOUND;
    }
    avctx = avcodec_alloc_context3(codec);
    if (!avctx)
        return AVERROR(ENOMEM);
    ret = avcodec_parameters_to_context(avctx, st->codecpar);
    if (ret < 0)
        goto fail;
    avctx->pkt_timebase = st->time_base;
    if (codec->type == AVMEDIA_TYPE_VIDEO) {
        avctx->thread_count = opt ? opt->video_threads : 0;
        avctx->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    }
    ret = avcodec_open2(avctx, codec, NULL);
    if (ret < 0)
        goto fail;
    *out = avctx;
    return 0;
fail:
    dm_set_err(err, errlen, "cannot open the %s decoder (%s)", codec->name,
            av_err_text(ret, buf, sizeof(buf)));
    avcodec_free_context(&avctx);
    return ret;
}

static void fill_info(dm_media *m)
{
    dm_media_info *info = &m->info;
    AVFormatContext *ic = m->ic;
    memset(info, 0, sizeof(*info));
    info->sar = (AVRational){1, 1};
    info->pix_fmt = AV_PIX_FMT_NONE;
    info->start_offset = m->start_offset;
    if (ic->duration != AV_NOPTS_VALUE && ic->duration > 0)
        info->duration = (double)ic->duration / AV_TIME_BASE;
    if (m->video_stream >= 0) {
        AVStream *st = ic->streams[m->video_stream];
        AVRational sar = av_guess_sample_aspect_ratio(ic, st, NULL);
        AVRational fr = av_guess_frame_rate(ic, st, NULL);
        info->has_video = 1;
        info->width = m->vdec.avctx->width;
        info->height = m->vdec.avctx->height;
        if (sar.num > 0 && sar.den > 0)
            info->sar = sar;
        if (info->height > 0)
            info->display_aspect = (double)info->width * av_q2d(info->sar) / info->height;
        if (fr.num > 0 && fr.den > 0)
            info->frame_rate = av_q2d(fr);
        info->pix_fmt = m->vdec.avctx->pix_fmt;
        snprintf(info->video_codec, sizeof(info->video_codec), "%s", m->vdec.avctx->codec->name);
        if (info->duration <= 0 && st->duration != AV_NOPTS_VALUE)
            info->duration = (double)st->duration * av_q2d(st->time_base);
    }
    info->audio_tracks = m->n_audio;
    for (int i = 0; i < m->n_audio; i++)
        if (m->audio_streams[i] == m->audio_stream)
            info->audio_track = i + 1;
    if (m->audio_stream >= 0) {
        AVStream *st = ic->streams[m->audio_stream];
        info->has_audio = 1;
        info->audio_rate = m->adec.avctx->sample_rate;
        info->audio_channels = m->adec.avctx->ch_layout.nb_channels;
        snprintf(info->audio_codec, sizeof(info->audio_codec), "%s", m->adec.avctx->codec->name);
        if (info->duration <= 0 && st->duration != AV_NOPTS_VALUE)
            info->duration = (double)st->duration * av_q2d(st->time_base);
    }
    m->frame_duration = info->frame_rate > 0 ? 1.0 / info->frame_rate : 0.0;
}

static int init_sync_objects(dm_media *m)
{
    int ret;
    if (pthread_mutex_init(&m->wait_lock, NULL) != 0 || pthread_cond_init(&m->continue_read, NULL) != 0
        || pthread_mutex_init(&m->seek_lock, NULL) != 0 || pthread_mutex_init(&m->clock_lock, NULL) != 0)
        return AVERROR(ENOMEM);
    ret = dm_pktq_init(&m->videoq);
    if (ret >= 0)
        ret = dm_pktq_init(&m->audioq);
    if (ret >= 0)
        ret = dm_frameq_init(&m->pictq, VIDEO_PICTURE_QUEUE_SIZE);
    if (ret >= 0)
        ret = dm_frameq_init(&m->sampq, SAMPLE_QUEUE_SIZE);
    return ret;
}

static void decoder_setup(dm_media *m, dm_decoder *d, const char *kind, int stream, dm_pktq *q,
                          dm_frameq *f)
{
    d->m = m;
    d->kind = kind;
    d->queue = q;
    d->frames = f;
    d->pkt_serial = -1;
    d->next_pts = NAN;
    d->time_base = stream >= 0 ? m->ic->streams[stream]->time_base : (AVRational){1, 1};
    atomic_init(&d->finished, 0);
    atomic_init(&d->error_logged, 0);
}

int dm_media_open(dm_media **out, const char *path, const dm_media_options *opt, char *err,
                  size_t errlen)
{
    dm_media *m;
    char buf[AV_ERROR_MAX_STRING_SIZE];
    char why[256] = "";
    int ret, vs, as;

    if (!out || !path) {
        dm_set_err(err, errlen, "no film given");
        return AVERROR(EINVAL);
    }
    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (!m) {
        dm_set_err(err, errlen, "out of memory opening '%s'", path);
        return AVERROR(ENOMEM);
    }
    m->log = opt && opt->log ? opt->log : default_log;
    m->log_ud = opt && opt->log ? opt->log_ud : NULL;
    m->video_stream = m->audio_stream = m->demux_audio = -1;
    atomic_init(&m->audio_cur, -1);
    m->speed = 1.0;
    m->abuf_speed = 1.0;
    m->clock_fallback = 0.0;
    m->last_pts = NAN;
    m->last_serial = -1;
    m->audio_clock = NAN;
    m->audio_clock_serial = -1;
    m->swr_serial = -1;
    atomic_init(&m->abort, 0);
    atomic_init(&m->read_error_logged, 0);
    atomic_init(&m->video_frames, 0);
    atomic_init(&m->audio_frames, 0);
    atomic_init(&m->dropped, 0);
    atomic_init(&m->decode_errors, 0);
    dm_clock_init(&m->audclk);
    dm_clock_init(&m->vidclk);
    dm_clock_init(&m->extclk);

    ret = init_sync_objects(m);
    if (ret < 0) {
        dm_set_err(err, errlen, "out of memory opening '%s'", path);
        dm_media_close(&m);
        return ret;
    }
    m->cur = av_frame_alloc();
    m->ic = avformat_alloc_context();
    if (!m->cur || !m->ic) {
        dm_set_err(err, errlen, "out of memory opening '%s'", path);
        dm_media_close(&m);
        return AVERROR(ENOMEM);
    }
    m->ic->interrupt_callback.callback = interrupt_cb;
    m->ic->interrupt_callback.opaque = m;
    ret = avformat_open_input(&m->ic, path, NULL, NULL);
    if (ret < 0) {
        /* avformat_open_input frees the context on failure. */
        dm_set_err(err, errlen, "cannot open '%s': %s", path, av_err_text(ret, buf, sizeof(buf)));
        dm_media_close(&m);
        return ret;
    }
    ret = avformat_find_stream_info(m->ic, NULL);
    if (ret < 0) {
        dm_set_err(err, errlen, "cannot read the streams of '%s': %s", path,
                av_err_text(ret, buf, sizeof(buf)));
        dm_media_close(&m);
        return ret;
    }
    /* Films that start late (MPEG-TS starts near 1.4 s) are shifted to 0 so
     * comment tracks line up; a negative start (audio encoder priming) is
     * not, or the first video frame would move away from 0. */
    if (m->ic->start_time != AV_NOPTS_VALUE && m->ic->start_time > 0)
        m->start_offset = (double)m->ic->start_time / AV_TIME_BASE;
    m->max_frame_duration = (m->ic->iformat->flags & AVFMT_TS_DISCONT) ? 10.0 : 3600.0;

    vs = av_find_best_stream(m->ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    /* Cover art in music files is a one-picture "video" stream: not a film. */
    if (vs >= 0 && (m->ic->streams[vs]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        vs = -1;
    for (unsigned i = 0; i < m->ic->nb_streams && m->n_audio < MAX_AUDIO_TRACKS; i++)
        if (m->ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
            m->audio_streams[m->n_audio++] = (int)i;
    if (opt && opt->audio_track > 0) {
        /* the viewer's choice (--aid N): the Nth audio stream, or an error */
        if (opt->audio_track > m->n_audio) {
            if (m->n_audio)
                dm_set_err(err, errlen, "'%s' has no audio track %d (it has %d)", path, opt->audio_track,
                           m->n_audio);
            else
                dm_set_err(err, errlen, "'%s' has no audio track %d (it has none)", path, opt->audio_track);
            dm_media_close(&m);
            return AVERROR_STREAM_NOT_FOUND;
        }
        as = m->audio_streams[opt->audio_track - 1];
        ret = open_decoder(m, as, opt, &m->adec.avctx, why, sizeof(why));
        if (ret < 0) {
            dm_set_err(err, errlen, "'%s': audio track %d: %s", path, opt->audio_track, why);
            dm_media_close(&m);
            return ret;
        }
        m->audio_stream = as;
        as = -1;
    } else if (opt && opt->audio_track < 0) {
        as = -1;   /* no audio */
    } else {
        as = av_find_best_stream(m->ic, AVMEDIA_TYPE_AUDIO, -1, vs, NULL, 0);
    }
    if (vs >= 0) {
        ret = open_decoder(m, vs, opt, &m->vdec.avctx, why, sizeof(why));
        if (ret < 0)
            media_log(m, AV_LOG_WARNING, "'%s': video ignored: %s", path, why);
        else
            m->video_stream = vs;
    }
    if (as >= 0) {
        ret = open_decoder(m, as, opt, &m->adec.avctx, why, sizeof(why));
        if (ret < 0)
            media_log(m, AV_LOG_WARNING, "'%s': audio ignored: %s", path, why);
        else
            m->audio_stream = as;
    }
    if (m->video_stream < 0 && m->audio_stream < 0) {
        if (why[0])
            dm_set_err(err, errlen, "cannot play '%s': %s", path, why);
        else
            dm_set_err(err, errlen, "cannot play '%s': it has no video or audio stream", path);
        dm_media_close(&m);
        return AVERROR_STREAM_NOT_FOUND;
    }
    decoder_setup(m, &m->vdec, "video", m->video_stream, &m->videoq, &m->pictq);
    decoder_setup(m, &m->adec, "audio", m->audio_stream, &m->audioq, &m->sampq);
    fill_info(m);
    *out = m;
    return 0;
}

const dm_media_info *dm_media_get_info(const dm_media *m)
{
    return &m->info;
}

int dm_media_start(dm_media *m, const dm_media_output *o, char *err, size_t errlen)
{
    int ret;
    if (!m || !o) {
        dm_set_err(err, errlen, "no film or output given");
        return AVERROR(EINVAL);
    }
    if (m->started) {
        dm_set_err(err, errlen, "the film is already started");
        return AVERROR(EINVAL);
    }
    m->out = *o;
    if (!o->video && m->video_stream >= 0) {
        avcodec_free_context(&m->vdec.avctx);
        m->video_stream = -1;
    }
    if (o->audio_rate <= 0 && m->audio_stream >= 0) {
        avcodec_free_context(&m->adec.avctx);
        m->audio_stream = -1;
    }
    if (m->audio_stream >= 0) {
        if (o->audio_channels < 1 || o->audio_channels > 8 || o->audio_rate > 768000
            || (o->audio_format != DM_AUDIO_F32 && o->audio_format != DM_AUDIO_S16)) {
            dm_set_err(err, errlen, "unsupported audio output: %d Hz, %d channels", o->audio_rate,
                    o->audio_channels);
            return AVERROR(EINVAL);
        }
        m->out_fmt = o->audio_format == DM_AUDIO_S16 ? AV_SAMPLE_FMT_S16 : AV_SAMPLE_FMT_FLT;
        av_channel_layout_default(&m->out_layout, o->audio_channels);
        m->out_frame_bytes = o->audio_channels * av_get_bytes_per_sample(m->out_fmt);
    }
    if (m->video_stream < 0 && m->audio_stream < 0) {
        dm_set_err(err, errlen, "nothing to play: video and audio are both off");
        return AVERROR(EINVAL);
    }
    for (unsigned i = 0; i < m->ic->nb_streams; i++)
        if ((int)i != m->video_stream && (int)i != m->audio_stream)
            m->ic->streams[i]->discard = AVDISCARD_ALL;
    m->demux_audio = m->seek_audio = m->audio_stream;
    atomic_store(&m->audio_cur, m->audio_stream);

    /* Serial 0 never names a generation, so "finished == 0" means "not". */
    m->serial_counter = 1;
    dm_pktq_flush(&m->videoq, 1);
    dm_pktq_flush(&m->audioq, 1);

    m->vdec.pkt = av_packet_alloc();
    m->adec.pkt = av_packet_alloc();
    if (!m->vdec.pkt || !m->adec.pkt) {
        dm_set_err(err, errlen, "out of memory starting playback");
        return AVERROR(ENOMEM);
    }
    m->started = 1;
    if (m->video_stream >= 0) {
        ret = pthread_create(&m->vdec.thread, NULL, video_thread_main, &m->vdec);
        if (ret != 0)
            goto thread_fail;
        m->vdec.thread_started = 1;
    }
    if (m->audio_stream >= 0) {
        ret = pthread_create(&m->adec.thread, NULL, audio_thread_main, &m->adec);
        if (ret != 0)
            goto thread_fail;
        m->adec.thread_started = 1;
    }
    ret = pthread_create(&m->demux_thread, NULL, demux_thread_main, m);
    if (ret != 0)
        goto thread_fail;
    m->demux_started = 1;
    return 0;
thread_fail:
    dm_set_err(err, errlen, "cannot start a playback thread: %s", strerror(ret));
    return AVERROR(ret);
}

void dm_media_close(dm_media **pm)
{
    dm_media *m;
    uint64_t errors;
    if (!pm || !*pm)
        return;
    m = *pm;
    *pm = NULL;
    if (m->started) {
        atomic_store(&m->abort, 1);
        dm_pktq_abort(&m->videoq);
        dm_pktq_abort(&m->audioq);
        dm_frameq_abort(&m->pictq);
        dm_frameq_abort(&m->sampq);
        wake_demux(m);
        if (m->demux_started)
            pthread_join(m->demux_thread, NULL);
        if (m->vdec.thread_started)
            pthread_join(m->vdec.thread, NULL);
        if (m->adec.thread_started)
            pthread_join(m->adec.thread, NULL);
        dm_pktq_destroy(&m->videoq);
        dm_pktq_destroy(&m->audioq);
        dm_frameq_destroy(&m->pictq);
        dm_frameq_destroy(&m->sampq);
        pthread_cond_destroy(&m->continue_read);
        pthread_mutex_destroy(&m->wait_lock);
        pthread_mutex_destroy(&m->seek_lock);
        pthread_mutex_destroy(&m->clock_lock);
    } else if (m->pictq.max_size) {
        /* Opened but never started: the objects exist but no thread does. */
        dm_pktq_destroy(&m->videoq);
        dm_pktq_destroy(&m->audioq);
        dm_frameq_destroy(&m->pictq);
        dm_frameq_destroy(&m->sampq);
        pthread_cond_destroy(&m->continue_read);
        pthread_mutex_destroy(&m->wait_lock);
        pthread_mutex_destroy(&m->seek_lock);
        pthread_mutex_destroy(&m->clock_lock);
    }
    errors = atomic_load(&m->decode_errors);
    if (errors > 1)
        media_log(m, AV_LOG_INFO, "%llu decoding errors in total", (unsigned long long)errors);
    av_packet_free(&m->vdec.pkt);
    av_packet_free(&m->adec.pkt);
    avcodec_free_context(&m->vdec.avctx);
    avcodec_free_context(&m->adec.avctx);
    avformat_close_input(&m->ic);
    av_frame_free(&m->cur);
    swr_free(&m->swr);
    avfilter_graph_free(&m->tempo_graph);
    av_frame_free(&m->tempo_frame);
    avcodec_free_context(&m->audio_pending);
    av_channel_layout_uninit(&m->swr_layout);
    av_channel_layout_uninit(&m->out_layout);
    av_freep(&m->abuf);
    av_freep(&m->tbuf);
    free(m);
}

/* ------------------------------------------------------------------ clocks */

/* Audio leads while a track plays (at any speed); otherwise the wall clock does. */
static int audio_is_master_locked(dm_media *m)
{
    return m->audio_stream >= 0 && atomic_load(&m->audio_cur) >= 0;
}

static double master_clock_locked(dm_media *m, double now)
{
    if (audio_is_master_locked(m))
        return dm_clock_get(&m->audclk, atomic_load(&m->audioq.serial), now);
    return dm_clock_get(&m->extclk, m->extclk.serial, now);
}

double dm_media_clock(dm_media *m)
{
    double t;
    pthread_mutex_lock(&m->clock_lock);
    t = master_clock_locked(m, dm_now());
    if (isnan(t))
        t = m->clock_fallback;
    pthread_mutex_unlock(&m->clock_lock);
    return t;
}

void dm_media_set_paused(dm_media *m, int paused)
{
    double now = dm_now();
    paused = !!paused;
    pthread_mutex_lock(&m->clock_lock);
    if (m->paused != paused) {
        /* The time spent paused must not count as lateness of the next frame. */
        if (!paused)
            m->frame_timer += now - m->vidclk.last_updated;
        dm_clock_set_paused(&m->vidclk, paused, now);
        dm_clock_set_paused(&m->audclk, paused, now);
        dm_clock_set_paused(&m->extclk, paused, now);
        m->paused = paused;
    }
    pthread_mutex_unlock(&m->clock_lock);
}

int dm_media_is_paused(dm_media *m)
{
    int p;
    pthread_mutex_lock(&m->clock_lock);
    p = m->paused;
    pthread_mutex_unlock(&m->clock_lock);
    return p;
}

double dm_media_set_speed(dm_media *m, double speed)
{
    double now = dm_now(), master;
    if (!(speed >= DM_SPEED_MIN))
        speed = DM_SPEED_MIN;
    if (speed > DM_SPEED_MAX)
        speed = DM_SPEED_MAX;
    pthread_mutex_lock(&m->clock_lock);
    /* Hand the current time over to the wall clock first, so switching the
     * master (audio <-> wall) does not make the film jump. */
    master = master_clock_locked(m, now);
    if (!isnan(master))
        dm_clock_set(&m->extclk, master, m->extclk.serial, now);
    dm_clock_set_speed(&m->extclk, speed, now);
    dm_clock_set_speed(&m->vidclk, speed, now);
    dm_clock_set_speed(&m->audclk, speed, now);
    m->speed = speed;
    pthread_mutex_unlock(&m->clock_lock);
    return speed;
}

/* A seek to `seconds`; `audio_stream` is the audio stream to play from it
 * on (a track switch) and `dec` its decoder (NULL: keep the decoder). */
static int seek_with(dm_media *m, double seconds, int audio_stream, AVCodecContext *dec)
{
    int serial;
    if (!(seconds >= 0))
        seconds = 0;
    if (m->info.duration > 0 && seconds > m->info.duration)
        seconds = m->info.duration;
    pthread_mutex_lock(&m->seek_lock);
    /* Under the same lock as the flush: the audio decode thread takes the
     * new decoder with the first packet of the new serial, never before. */
    if (dec) {
        avcodec_free_context(&m->audio_pending);
        m->audio_pending = dec;
    }
    m->seek_audio = audio_stream;
    atomic_store(&m->audio_cur, audio_stream);
    serial = ++m->serial_counter;
    m->seek_req = 1;
    m->seek_target = seconds;
    m->seek_serial = serial;
    m->accurate_target = seconds;
    m->accurate_serial = serial;
    /* Flushing here, not in the demux thread, makes every queued frame stale
     * the moment seek returns; the demuxer drops packets it read meanwhile
     * because their serial is old (dm_pktq_put). */
    dm_pktq_flush(&m->videoq, serial);
    dm_pktq_flush(&m->audioq, serial);
    pthread_mutex_unlock(&m->seek_lock);

    pthread_mutex_lock(&m->clock_lock);
    /* The wall clock restarts from the first frame decoded at the target
     * (it follows the video clock), so slow decoding up to the target does
     * not make the first frames late; until then report the target. */
    dm_clock_set(&m->extclk, NAN, m->extclk.serial, dm_now());
    m->clock_fallback = seconds;
    pthread_mutex_unlock(&m->clock_lock);

    dm_frameq_wake(&m->pictq);
    dm_frameq_wake(&m->sampq);
    wake_demux(m);
    return serial;
}

int dm_media_seek(dm_media *m, double seconds)
{
    if (!m || !m->started)
        return AVERROR(EINVAL);
    return seek_with(m, seconds, atomic_load(&m->audio_cur), NULL);
}

int dm_media_audio_track(dm_media *m)
{
    int cur = atomic_load(&m->audio_cur);
    for (int i = 0; i < m->n_audio; i++)
        if (m->audio_streams[i] == cur)
            return i + 1;
    return 0;
}

int dm_media_set_audio_track(dm_media *m, int n, char *err, size_t errlen)
{
    AVCodecContext *dec = NULL;
    char why[256];
    int ret, stream = -1;

    if (!m || !m->started || m->audio_stream < 0) {
        dm_set_err(err, errlen, "no sound output: audio tracks cannot be switched");
        return AVERROR(EINVAL);
    }
    if (n < 0 || n > m->n_audio) {
        dm_set_err(err, errlen, "no audio track %d (the film has %d)", n, m->n_audio);
        return AVERROR_STREAM_NOT_FOUND;
    }
    if (n == 0 && m->video_stream < 0) {
        dm_set_err(err, errlen, "the film has no video: its sound cannot be off");
        return AVERROR(EINVAL);
    }
    if (n > 0) {
        stream = m->audio_streams[n - 1];
        ret = open_decoder(m, stream, NULL, &dec, why, sizeof(why));
        if (ret < 0) {
            dm_set_err(err, errlen, "audio track %d: %s", n, why);
            return ret;
        }
    }
    ret = seek_with(m, dm_media_clock(m), stream, dec);
    return ret < 0 ? ret : n;
}

const char *dm_media_audio_track_name(const dm_media *m, int n, char *buf, size_t len)
{
    const AVStream *st;
    const AVDictionaryEntry *lang, *title;
    char layout[64] = "";

    if (!len)
        return buf;
    buf[0] = 0;
    if (n < 1 || n > m->n_audio)
        return buf;
    st = m->ic->streams[m->audio_streams[n - 1]];
    lang = av_dict_get(st->metadata, "language", NULL, 0);
    title = av_dict_get(st->metadata, "title", NULL, 0);
    if (st->codecpar->ch_layout.nb_channels > 0)
        av_channel_layout_describe(&st->codecpar->ch_layout, layout, sizeof layout);
    snprintf(buf, len, "%d/%d%s%s%s%s%s %s%s%s", n, m->n_audio, lang ? " " : "", lang ? lang->value : "",
             title ? " '" : "", title ? title->value : "", title ? "'" : "", avcodec_get_name(st->codecpar->codec_id),
             layout[0] ? " " : "", layout);
    return buf;
}

int dm_media_eof(dm_media *m)
{
    int video_done = m->video_stream < 0
        || (atomic_load(&m->vdec.finished) == atomic_load(&m->videoq.serial)
            && dm_frameq_remaining(&m->pictq) == 0);
    int audio_done = m->audio_stream < 0 || atomic_load(&m->audio_cur) < 0
        || (atomic_load(&m->adec.finished) == atomic_load(&m->audioq.serial)
            && dm_frameq_remaining(&m->sampq) == 0);
    return m->started && video_done && audio_done;
}

void dm_media_get_stats(dm_media *m, dm_media_stats *st)
{
    st->video_frames_decoded = atomic_load(&m->video_frames);
    st->video_frames_dropped = atomic_load(&m->dropped);
    st->audio_frames_decoded = atomic_load(&m->audio_frames);
    st->decode_errors = atomic_load(&m->decode_errors);
}

/* ------------------------------------------------------------------- video */

int dm_pix_fmt_is_direct(enum AVPixelFormat fmt)
{
    return fmt == AV_PIX_FMT_YUV420P || fmt == AV_PIX_FMT_NV12;
}

static int video_finished(void *ud)
{
    dm_media *m = ud;
    return atomic_load(&m->vdec.finished) == atomic_load(&m->videoq.serial);
}

/* The oldest current-serial frame, dropping stale ones on the way; NULL when
 * none is queued yet. *ended is set when the video ended instead. */
static dm_frame_slot *video_peek_current(dm_media *m, int *ended)
{
    *ended = 0;
    for (;;) {
        dm_frame_slot *slot = dm_frameq_peek(&m->pictq);
        if (slot) {
            if (slot->serial != atomic_load(&m->videoq.serial)) {
                dm_frameq_next(&m->pictq);
                continue;
            }
            return slot;
        }
        /* The decoder marks the end only after pushing its last frame, so
         * an empty queue seen after the mark is really empty. */
        if (video_finished(m)) {
            if (dm_frameq_remaining(&m->pictq) > 0)
                continue;
            *ended = 1;
        }
        return NULL;
    }
}

static void fill_frame_info(const dm_frame_slot *slot, dm_frame_info *info)
{
    if (!info)
        return;
    info->pts = slot->pts;
    info->duration = slot->duration;
    info->serial = slot->serial;
    info->needs_convert = !dm_pix_fmt_is_direct((enum AVPixelFormat)slot->frame->format);
}

int dm_media_video_peek(dm_media *m, dm_frame_info *info, int block)
{
    if (!m || !m->started || m->video_stream < 0)
        return DM_MEDIA_EOF;
    for (;;) {
        int ended;
        dm_frame_slot *slot = video_peek_current(m, &ended);
        if (slot) {
            fill_frame_info(slot, info);
            return DM_MEDIA_OK;
        }
        if (ended)
            return DM_MEDIA_EOF;
        if (!block)
            return DM_MEDIA_AGAIN;
        if (dm_frameq_wait(&m->pictq, video_finished, m) < 0)
            return AVERROR_EXIT;
    }
}

int dm_media_video_take(dm_media *m, AVFrame *dst, dm_frame_info *info, int block)
{
    int ret = dm_media_video_peek(m, info, block);
    dm_frame_slot *slot;
    int ended;
    if (ret != DM_MEDIA_OK)
        return ret;
    slot = video_peek_current(m, &ended);
    av_frame_unref(dst);
    av_frame_move_ref(dst, slot->frame);
    dm_frameq_next(&m->pictq);
    return DM_MEDIA_OK;
}

/* Record `slot` as the last frame shown or dropped and move the video clock. */
static void video_advance(dm_media *m, const dm_frame_slot *slot, double now)
{
    m->last_pts = slot->pts;
    m->last_duration = slot->duration;
    m->last_serial = slot->serial;
    pthread_mutex_lock(&m->clock_lock);
    dm_clock_set(&m->vidclk, slot->pts, slot->serial, now);
    dm_clock_sync_to_slave(&m->extclk, m->extclk.serial, &m->vidclk, slot->serial, now);
    pthread_mutex_unlock(&m->clock_lock);
}

static void video_make_current(dm_media *m, dm_frame_slot *slot)
{
    fill_frame_info(slot, &m->cur_info);
    av_frame_unref(m->cur);
    av_frame_move_ref(m->cur, slot->frame);
    m->have_cur = 1;
    dm_frameq_next(&m->pictq);
}

int dm_media_video_refresh(dm_media *m, double *remaining)
{
    double now = dm_now();
    if (!m || !m->started || m->video_stream < 0)
        return DM_MEDIA_EOF;
    for (;;) {
        int ended, paused, serial = atomic_load(&m->videoq.serial);
        double speed, diff, delay, last_duration, next_duration = NAN, rem = 0;
        dm_frame_slot *slot = video_peek_current(m, &ended), *next;
        dm_sync_action action;

        if (!slot)
            return ended ? DM_MEDIA_EOF : DM_MEDIA_AGAIN;
        if (slot->serial != m->last_serial)
            m->frame_timer = now;   /* first frame after start or a seek: due now */

        pthread_mutex_lock(&m->clock_lock);
        paused = m->paused;
        speed = m->speed;
        diff = dm_clock_get(&m->vidclk, serial, now) - master_clock_locked(m, now);
        pthread_mutex_unlock(&m->clock_lock);

        if (paused) {
            /* Still show the first frame at a seek target while paused. */
            if (m->have_cur && m->cur_info.serial == slot->serial)
                return DM_MEDIA_AGAIN;
            video_advance(m, slot, now);
            video_make_current(m, slot);
            return DM_MEDIA_OK;
        }

        last_duration = dm_sync_frame_duration(m->last_pts, m->last_duration, m->last_serial,
                                               slot->pts, slot->serial, m->max_frame_duration);
        /* diff is film seconds; the delay and its thresholds are wall seconds */
        delay = dm_sync_target_delay(last_duration / speed, diff / speed, m->max_frame_duration);
        next = dm_frameq_peek_next(&m->pictq);
        if (next && next->serial == slot->serial)
            next_duration = dm_sync_frame_duration(slot->pts, slot->duration, slot->serial, next->pts,
                                                   next->serial, m->max_frame_duration) / speed;
        action = dm_sync_decide(&m->frame_timer, now, delay, next_duration, 1, &rem);
        if (action == DM_SYNC_WAIT) {
            if (remaining && rem < *remaining)
                *remaining = rem;
            return DM_MEDIA_AGAIN;
        }
        video_advance(m, slot, now);
        if (action == DM_SYNC_DROP) {
            atomic_fetch_add(&m->dropped, 1);
            dm_frameq_next(&m->pictq);
            continue;
        }
        video_make_current(m, slot);
        return DM_MEDIA_OK;
    }
}

const AVFrame *dm_media_video_current(const dm_media *m, dm_frame_info *info)
{
    if (!m || !m->have_cur)
        return NULL;
    if (info)
        *info = m->cur_info;
    return m->cur;
}

/* ------------------------------------------------------------------- audio */

static int audio_finished(void *ud)
{
    dm_media *m = ud;
    return atomic_load(&m->adec.finished) == atomic_load(&m->audioq.serial);
}

static int audio_setup_resampler(dm_media *m, const AVFrame *f, int serial)
{
    AVChannelLayout in_layout = {0};
    int ret;
    if (m->swr && f->format == m->swr_fmt && f->sample_rate == m->swr_rate && serial == m->swr_serial
        && !av_channel_layout_compare(&f->ch_layout, &m->swr_layout))
        return 0;
    /* A new serial also gets a new resampler: its delay line holds samples
     * from before the seek. */
    swr_free(&m->swr);
    av_channel_layout_uninit(&m->swr_layout);
    ret = av_channel_layout_copy(&in_layout, &f->ch_layout);
    if (ret < 0)
        return ret;
    if (!av_channel_layout_check(&in_layout) || in_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
        int channels = in_layout.nb_channels;
        av_channel_layout_uninit(&in_layout);
        av_channel_layout_default(&in_layout, channels > 0 ? channels : 2);
    }
    ret = swr_alloc_set_opts2(&m->swr, &m->out_layout, m->out_fmt, m->out.audio_rate, &in_layout,
                              (enum AVSampleFormat)f->format, f->sample_rate, 0, NULL);
    if (ret >= 0)
        ret = swr_init(m->swr);
    av_channel_layout_uninit(&in_layout);
    if (ret < 0) {
        swr_free(&m->swr);
        return ret;
    }
    m->swr_fmt = f->format;
    m->swr_rate = f->sample_rate;
    m->swr_serial = serial;
    return av_channel_layout_copy(&m->swr_layout, &f->ch_layout);
}

static void tempo_free(dm_media *m)
{
    avfilter_graph_free(&m->tempo_graph);
    m->tempo_src = m->tempo_sink = NULL;
}

/*
 * The time stretcher for `speed`: abuffer -> atempo (chained: one instance
 * takes 0.5..2, so 0.25 is 0.5 x 0.5 and 4 is 2 x 2) -> aformat -> sink, in
 * the output's format, rate and layout, starting at film time t0.
 */
static int tempo_setup(dm_media *m, double speed, int serial, double t0)
{
    char chain[256] = "", desc[512], args[256], layout[64];
    const char *fmt = av_get_sample_fmt_name(m->out_fmt);
    AVFilterInOut *outputs = NULL, *inputs = NULL;
    double left = speed;
    size_t n = 0;
    int ret;

    tempo_free(m);
    while ((left < 0.5 || left > 2.0) && n < sizeof chain - 32) {
        double f = left < 0.5 ? 0.5 : 2.0;
        n += (size_t)snprintf(chain + n, sizeof chain - n, "atempo=%g,", f);
        left /= f;
    }
    snprintf(chain + n, sizeof chain - n, "atempo=%.6f", left);
    ret = av_channel_layout_describe(&m->out_layout, layout, sizeof layout);
    if (ret < 0)
        return ret;
    snprintf(args, sizeof args, "sample_rate=%d:sample_fmt=%s:channel_layout=%s:time_base=1/%d", m->out.audio_rate,
             fmt, layout, m->out.audio_rate);
    snprintf(desc, sizeof desc, "%s,aformat=sample_fmts=%s:sample_rates=%d:channel_layouts=%s", chain, fmt,
             m->out.audio_rate, layout);
    m->tempo_graph = avfilter_graph_alloc();
    outputs = avfilter_inout_alloc();
    inputs = avfilter_inout_alloc();
    if (!m->tempo_graph || !outputs || !inputs) {
        ret = AVERROR(ENOMEM);
        goto done;
    }
    m->tempo_graph->nb_threads = 1;
    ret = avfilter_graph_create_filter(&m->tempo_src, avfilter_get_by_name("abuffer"), "in", args, NULL,
                                       m->tempo_graph);
    if (ret >= 0)
        ret = avfilter_graph_create_filter(&m->tempo_sink, avfilter_get_by_name("abuffersink"), "out", NULL, NULL,
                                           m->tempo_graph);
    if (ret < 0)
        goto done;
    outputs->name = av_strdup("in");
    outputs->filter_ctx = m->tempo_src;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = m->tempo_sink;
    ret = avfilter_graph_parse_ptr(m->tempo_graph, desc, &inputs, &outputs, NULL);
    if (ret >= 0)
        ret = avfilter_graph_config(m->tempo_graph, NULL);
    if (ret >= 0 && !m->tempo_frame && !(m->tempo_frame = av_frame_alloc()))
        ret = AVERROR(ENOMEM);
done:
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    if (ret < 0) {
        tempo_free(m);
        return ret;
    }
    m->tempo_speed = speed;
    m->tempo_serial = serial;
    m->tempo_t0 = t0;
    m->tempo_in = m->tempo_out = 0;
    return 0;
}

/*
 * How much film time the slowed sound is ahead of samples-out x speed.
 * atempo (WSOLA) cuts the input into windows of W samples (the power of two
 * at or above rate / 24: 2048 at 48 kHz), steps speed x W/2 through the input
 * and W/2 through the output, and overlap-adds them. Within a window the
 * sound runs at 1x, so below 1x a sound starts in the windows that begin
 * before it: what is heard at output sample n is input sample
 * n x speed + W/2 x (1 - speed) (chained instances add up to the same).
 * Left out, a beep at 0.25x comes some 60 ms before its picture. Above 1x
 * the windows barely overlap in the input and the tests (a flash and a beep
 * every second, at 1.5x and 4x) measure onsets on time without a lead.
 */
static double tempo_lead(const dm_media *m, double speed)
{
    int w = 1;
    if (speed >= 1.0)
        return 0.0;
    while (w < m->out.audio_rate / 24)
        w *= 2;
    return 0.5 * w / m->out.audio_rate * (1.0 - speed);
}

/*
 * Feed the samples in abuf (from abuf_index) through the time stretcher and
 * put what comes out in abuf instead; the audio clock then says the film time
 * at its end: t0 + samples out x speed. Returns 0 (abuf may be empty: atempo
 * buffers before its first output) or a negative AVERROR.
 */
static int tempo_run(dm_media *m)
{
    AVFrame *f = m->tempo_frame;
    int samples = (m->abuf_size - m->abuf_index) / m->out_frame_bytes, got = 0, ret;

    av_frame_unref(f);
    f->format = m->out_fmt;
    f->sample_rate = m->out.audio_rate;
    f->nb_samples = samples;
    ret = av_channel_layout_copy(&f->ch_layout, &m->out_layout);
    if (ret >= 0)
        ret = av_frame_get_buffer(f, 0);
    if (ret < 0)
        return ret;
    memcpy(f->data[0], m->abuf + m->abuf_index, (size_t)samples * m->out_frame_bytes);
    f->pts = m->tempo_in;
    m->tempo_in += samples;
    ret = av_buffersrc_add_frame(m->tempo_src, f);
    if (ret < 0)
        return ret;
    for (;;) {
        int bytes;
        ret = av_buffersink_get_frame(m->tempo_sink, f);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            break;
        if (ret < 0)
            return ret;
        bytes = f->nb_samples * m->out_frame_bytes;
        av_fast_malloc(&m->tbuf, &m->tbuf_alloc, (size_t)(got + bytes));
        if (!m->tbuf)
            return AVERROR(ENOMEM);
        memcpy(m->tbuf + got, f->data[0], (size_t)bytes);
        got += bytes;
        m->tempo_out += f->nb_samples;
        av_frame_unref(f);
    }
    {
        uint8_t *b = m->abuf;
        unsigned a = m->abuf_alloc;
        m->abuf = m->tbuf;
        m->abuf_alloc = m->tbuf_alloc;
        m->tbuf = b;
        m->tbuf_alloc = a;
    }
    m->abuf_index = 0;
    m->abuf_size = got;
    return 0;
}

/*
 * Convert the next current-serial audio frame into abuf. Returns AUDIO_DATA
 * (abuf has bytes), AUDIO_NONE (nothing decoded yet, only without block),
 * AUDIO_END, or a negative error on abort.
 */
static int audio_decode_frame(dm_media *m, int block, double speed)
{
    for (;;) {
        dm_frame_slot *slot = dm_frameq_peek(&m->sampq);
        AVFrame *f;
        double skip = 0;
        int out_count, size, n, ret;
        uint8_t *outp[1];

        if (!slot) {
            if (audio_finished(m)) {
                if (dm_frameq_remaining(&m->sampq) > 0)
                    continue;
                return AUDIO_END;
            }
            if (!block)
                return AUDIO_NONE;
            if (dm_frameq_wait(&m->sampq, audio_finished, m) < 0)
                return AVERROR_EXIT;
            continue;
        }
        if (slot->serial != atomic_load(&m->audioq.serial)) {
            dm_frameq_next(&m->sampq);
            continue;
        }
        f = slot->frame;
        pthread_mutex_lock(&m->seek_lock);
        if (slot->serial == m->accurate_serial && !isnan(slot->pts) && slot->pts < m->accurate_target)
            skip = m->accurate_target - slot->pts;
        pthread_mutex_unlock(&m->seek_lock);

        ret = audio_setup_resampler(m, f, slot->serial);
        if (ret < 0) {
            decode_error(&m->adec, ret);
            dm_frameq_next(&m->sampq);
            continue;
        }
        out_count = (int)((int64_t)f->nb_samples * m->out.audio_rate / f->sample_rate + 256);
        size = av_samples_get_buffer_size(NULL, m->out.audio_channels, out_count, m->out_fmt, 1);
        if (size < 0)
            return size;
        av_fast_malloc(&m->abuf, &m->abuf_alloc, (size_t)size);
        if (!m->abuf)
            return AVERROR(ENOMEM);
        outp[0] = m->abuf;
        n = swr_convert(m->swr, outp, out_count, (const uint8_t **)f->extended_data, f->nb_samples);
        if (n < 0) {
            decode_error(&m->adec, n);
            dm_frameq_next(&m->sampq);
            continue;
        }
        m->abuf_size = n * m->out_frame_bytes;
        m->abuf_index = 0;
        if (skip > 0) {
            int64_t skip_bytes = (int64_t)(skip * m->out.audio_rate + 0.5) * m->out_frame_bytes;
            m->abuf_index = skip_bytes >= m->abuf_size ? m->abuf_size : (int)skip_bytes;
        }
        m->audio_clock = isnan(slot->pts) ? NAN : slot->pts + slot->duration;
        m->audio_clock_serial = slot->serial;
        m->abuf_speed = 1.0;
        if (speed != 1.0 && m->abuf_index < m->abuf_size) {
            if (!m->tempo_graph || m->tempo_speed != speed || m->tempo_serial != slot->serial) {
                double t0 = isnan(slot->pts) ? NAN
                                             : slot->pts + (double)(m->abuf_index / m->out_frame_bytes) / m->out.audio_rate;
                ret = tempo_setup(m, speed, slot->serial, t0);
                if (ret < 0) {
                    char buf[AV_ERROR_MAX_STRING_SIZE];
                    media_log(m, AV_LOG_ERROR, "cannot set up the audio time stretcher (atempo) for speed %.2f: %s",
                              speed, av_err_text(ret, buf, sizeof(buf)));
                    return ret;
                }
            }
            ret = tempo_run(m);
            if (ret < 0) {
                decode_error(&m->adec, ret);
                m->abuf_index = m->abuf_size;
            }
            m->audio_clock = m->tempo_t0 + (double)m->tempo_out * speed / m->out.audio_rate + tempo_lead(m, speed);
            m->abuf_speed = speed;
        } else if (speed == 1.0 && m->tempo_graph) {
            tempo_free(m);
        }
        dm_frameq_next(&m->sampq);
        if (m->abuf_index < m->abuf_size)
            return AUDIO_DATA;
    }
}

/* Publish the audio clock: the end of abuf, minus what is still in abuf and
 * in the device, is what the listener hears now. */
static void audio_update_clock(dm_media *m, double latency, double now)
{
    double bytes_per_sec = (double)m->out.audio_rate * m->out_frame_bytes;
    if (isnan(m->audio_clock))
        return;
    pthread_mutex_lock(&m->clock_lock);
    /* time-stretched samples hold abuf_speed film seconds per second */
    dm_clock_set(&m->audclk,
                 m->audio_clock - ((m->abuf_size - m->abuf_index) / bytes_per_sec + latency) * m->abuf_speed,
                 m->audio_clock_serial, now);
    dm_clock_sync_to_slave(&m->extclk, m->extclk.serial, &m->audclk, atomic_load(&m->audioq.serial), now);
    pthread_mutex_unlock(&m->clock_lock);
}

/* Converted bytes from before a seek must not be played after it. */
static void audio_drop_stale_buffer(dm_media *m)
{
    if (m->audio_clock_serial != atomic_load(&m->audioq.serial)) {
        m->abuf_index = m->abuf_size;
        m->audio_clock = NAN;
    }
}

int dm_media_audio_pull(dm_media *m, uint8_t *buf, int len, double device_latency)
{
    double now = dm_now(), speed;
    int paused, got = 0;
    if (len <= 0)
        return 0;
    if (!m || !m->started || m->audio_stream < 0) {
        memset(buf, 0, (size_t)len);
        return 0;
    }
    pthread_mutex_lock(&m->clock_lock);
    paused = m->paused;
    speed = m->speed;
    pthread_mutex_unlock(&m->clock_lock);
    if (paused || atomic_load(&m->audio_cur) < 0) {
        memset(buf, 0, (size_t)len);
        return 0;
    }
    audio_drop_stale_buffer(m);
    while (got < len) {
        int n;
        if (m->abuf_index >= m->abuf_size && audio_decode_frame(m, 0, speed) != AUDIO_DATA)
            break;
        n = m->abuf_size - m->abuf_index;
        if (n > len - got)
            n = len - got;
        memcpy(buf + got, m->abuf + m->abuf_index, (size_t)n);
        m->abuf_index += n;
        got += n;
    }
    if (got < len)
        memset(buf + got, 0, (size_t)(len - got));
    audio_update_clock(m, device_latency, now);
    return got;
}

int dm_media_audio_read(dm_media *m, uint8_t *buf, int len)
{
    int got = 0;
    if (!m || !m->started || m->audio_stream < 0 || len <= 0)
        return 0;
    audio_drop_stale_buffer(m);
    while (got < len) {
        int n;
        if (m->abuf_index >= m->abuf_size) {
            int ret = audio_decode_frame(m, 1, 1.0);
            if (ret < 0)
                return got > 0 ? got : ret;
            if (ret != AUDIO_DATA)
                break;
        }
        n = m->abuf_size - m->abuf_index;
        if (n > len - got)
            n = len - got;
        memcpy(buf + got, m->abuf + m->abuf_index, (size_t)n);
        m->abuf_index += n;
        got += n;
    }
    audio_update_clock(m, 0.0, dm_now());
    return got;
}

int dm_media_probe_title(const char *path, char *buf, size_t len)
{
    AVFormatContext *ic = NULL;
    const AVDictionaryEntry *tag;
    size_t o = 0, keep = 0;

    if (!len || avformat_open_input(&ic, path, NULL, NULL) < 0)
        return 0;
    tag = av_dict_get(ic->metadata, "title", NULL, 0);
    for (const uint8_t *p = tag ? (const uint8_t *)tag->value : NULL, *end = p ? p + strlen((const char *)p) : NULL;
         p && p < end;) {
        const uint8_t *from = p;
        int32_t cp;
        if (av_utf8_decode(&cp, &p, end, 0) < 0) {
            o = keep = 0;  /* not UTF-8: no title rather than a broken one */
            break;
        }
        if ((size_t)(p - from) >= len - o)
            break;  /* full: cut before this character */
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
            buf[o++] = ' ';
        } else {
            memcpy(buf + o, from, (size_t)(p - from));
            o += (size_t)(p - from);
            if (cp != ' ')
                keep = o;
        }
    }
    avformat_close_input(&ic);
    /* the ends trimmed: spaces after the last character, then those before the first */
    buf[keep] = 0;
    o = strspn(buf, " ");
    memmove(buf, buf + o, keep - o + 1);
    return buf[0] != 0;
}
