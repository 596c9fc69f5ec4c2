/*
 * sink_file.c - the file sink: video encoder (libx264 by default) and muxer,
 * with the film's sound copied when the container takes its codec and
 * re-encoded to AAC otherwise. The sound is read from its own demuxer of the
 * film and written in step with the video, so the muxer interleaves without
 * buffering the whole soundtrack.
 */
#include "sink.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>


enum { AUDIO_NONE = 0, AUDIO_COPY = 1, AUDIO_ENCODE = 2 };

typedef struct file_sink {
    dm_sink base;
    dm_sink_file_params p;
    char *path;                 /* owned copy of p.path */
    /* output */
    AVFormatContext *oc;
    AVCodecContext *venc;
    AVStream *vst;
    AVPacket *pkt;
    int created;                /* the output file exists because we made it */
    int finished;
    double last_video_t;        /* output seconds of the last frame sent */
    /* sound */
    int audio_mode;
    AVFormatContext *ic;        /* the film, sound stream only */
    int in_stream;
    AVRational in_tb;
    int64_t in_offset;          /* film_offset in in_tb */
    AVStream *ast;
    AVPacket *apkt;             /* the next sound packet, read but not written */
    int apkt_pending;
    int audio_eof;
    AVCodecContext *adec, *aenc;
    SwrContext *swr;
    AVAudioFifo *fifo;
    AVFrame *aframe;
    int64_t next_sample;        /* output pts of the next encoded sample, -1 before the first */
} file_sink;

__attribute__((format(printf, 2, 3))) static int fail(file_sink *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->base.err, sizeof s->base.err, fmt, ap);
    va_end(ap);
    return AVERROR(EINVAL);
}

static const char *averr(int e, char *buf, size_t len)
{
    av_strerror(e, buf, len);
    return buf;
}

/* ------------------------------------------------------------ sound */

/* Open the film's sound and choose copy or AAC; 0 also when there is none. */
static int audio_open(file_sink *s)
{
    char eb[AV_ERROR_MAX_STRING_SIZE];
    AVStream *in;
    int ret, idx;

    if (!s->p.film)
        return 0;
    ret = avformat_open_input(&s->ic, s->p.film, NULL, NULL);
    if (ret >= 0)
        ret = avformat_find_stream_info(s->ic, NULL);
    if (ret < 0)
        return fail(s, "cannot read the sound of '%s': %s", s->p.film, averr(ret, eb, sizeof eb));
    idx = av_find_best_stream(s->ic, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (idx < 0)
        return 0;   /* a silent film */
    for (unsigned i = 0; i < s->ic->nb_streams; i++)
        s->ic->streams[i]->discard = (int)i == idx ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    in = s->ic->streams[idx];
    s->in_stream = idx;
    s->in_tb = in->time_base;
    /* film time 0 is where dm_media put it */
    s->in_offset = llround((s->p.film_origin + s->p.film_offset) / av_q2d(s->in_tb));
    if (s->p.film_offset > 0) {
        int64_t ts = av_rescale_q(s->in_offset, s->in_tb, AV_TIME_BASE_Q);
        av_seek_frame(s->ic, -1, ts, AVSEEK_FLAG_BACKWARD);
    }
    s->ast = avformat_new_stream(s->oc, NULL);
    if (!s->ast)
        return AVERROR(ENOMEM);
    if (avformat_query_codec(s->oc->oformat, in->codecpar->codec_id, FF_COMPLIANCE_NORMAL) == 1) {
        ret = avcodec_parameters_copy(s->ast->codecpar, in->codecpar);
        if (ret < 0)
            return ret;
        s->ast->codecpar->codec_tag = 0;
        s->ast->time_base = in->time_base;
        s->audio_mode = AUDIO_COPY;
        return 0;
    }
    /* The container does not take this codec: decode and encode AAC. */
    {
        const AVCodec *dec = avcodec_find_decoder(in->codecpar->codec_id);
        const AVCodec *enc = avcodec_find_encoder(AV_CODEC_ID_AAC);
        if (!dec || !enc)
            return fail(s, "cannot re-encode the sound of '%s': no %s", s->p.film,
                        dec ? "AAC encoder" : "decoder for it");
        s->adec = avcodec_alloc_context3(dec);
        s->aenc = avcodec_alloc_context3(enc);
        if (!s->adec || !s->aenc)
            return AVERROR(ENOMEM);
        ret = avcodec_parameters_to_context(s->adec, in->codecpar);
        if (ret < 0)
            return ret;
        s->adec->pkt_timebase = in->time_base;
        ret = avcodec_open2(s->adec, dec, NULL);
        if (ret < 0)
            return fail(s, "cannot decode the sound of '%s': %s", s->p.film, averr(ret, eb, sizeof eb));
        s->aenc->sample_rate = s->adec->sample_rate > 0 ? s->adec->sample_rate : 48000;
        s->aenc->sample_fmt = AV_SAMPLE_FMT_FLTP;
        av_channel_layout_default(&s->aenc->ch_layout,
                                  s->adec->ch_layout.nb_channels > 0 ? s->adec->ch_layout.nb_channels : 2);
        s->aenc->bit_rate = 64000 * (int64_t)s->aenc->ch_layout.nb_channels;
        s->aenc->time_base = (AVRational){ 1, s->aenc->sample_rate };
        if (s->oc->oformat->flags & AVFMT_GLOBALHEADER)
            s->aenc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        ret = avcodec_open2(s->aenc, enc, NULL);
        if (ret < 0)
            return fail(s, "cannot open the AAC encoder: %s", averr(ret, eb, sizeof eb));
        ret = avcodec_parameters_from_context(s->ast->codecpar, s->aenc);
        if (ret < 0)
            return ret;
        s->ast->time_base = s->aenc->time_base;
        s->fifo = av_audio_fifo_alloc(s->aenc->sample_fmt, s->aenc->ch_layout.nb_channels, 4096);
        s->aframe = av_frame_alloc();
        if (!s->fifo || !s->aframe)
            return AVERROR(ENOMEM);
        s->next_sample = -1;
        s->audio_mode = AUDIO_ENCODE;
    }
    return 0;
}

/* Write every packet the sound encoder has ready (NULL frame: drain). */
static int audio_encode(file_sink *s, AVFrame *frame)
{
    AVPacket *pkt = s->pkt;
    int ret = avcodec_send_frame(s->aenc, frame);

    if (ret < 0 && ret != AVERROR_EOF)
        return ret;
    for (;;) {
        ret = avcodec_receive_packet(s->aenc, pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return ret;
        av_packet_rescale_ts(pkt, s->aenc->time_base, s->ast->time_base);
        pkt->stream_index = s->ast->index;
        ret = av_interleaved_write_frame(s->oc, pkt);
        if (ret < 0)
            return ret;
    }
}

/* Move whole encoder frames (or, at the end, the rest) from the fifo to the encoder. */
static int audio_drain_fifo(file_sink *s, int final)
{
    int fs = s->aenc->frame_size > 0 ? s->aenc->frame_size : 1024;

    while (av_audio_fifo_size(s->fifo) >= fs || (final && av_audio_fifo_size(s->fifo) > 0)) {
        int n = av_audio_fifo_size(s->fifo) < fs ? av_audio_fifo_size(s->fifo) : fs;
        int ret;

        av_frame_unref(s->aframe);
        s->aframe->nb_samples = n;
        s->aframe->format = s->aenc->sample_fmt;
        s->aframe->sample_rate = s->aenc->sample_rate;
        ret = av_channel_layout_copy(&s->aframe->ch_layout, &s->aenc->ch_layout);
        if (ret >= 0)
            ret = av_frame_get_buffer(s->aframe, 0);
        if (ret < 0)
            return ret;
        if (av_audio_fifo_read(s->fifo, (void **)s->aframe->data, n) < n)
            return AVERROR_BUG;
        s->aframe->pts = s->next_sample;
        s->next_sample += n;
        ret = audio_encode(s, s->aframe);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* Decode one sound packet (NULL: drain) into the fifo. `t` is its output time. */
static int audio_transcode(file_sink *s, const AVPacket *in, double t)
{
    AVFrame *f = av_frame_alloc();
    int ret;

    if (!f)
        return AVERROR(ENOMEM);
    ret = avcodec_send_packet(s->adec, in);
    if (ret < 0 && ret != AVERROR_EOF && ret != AVERROR(EAGAIN))
        ret = 0;    /* a damaged sound packet is skipped, the rest plays */
    for (;;) {
        uint8_t **conv = NULL;
        int n;

        ret = avcodec_receive_frame(s->adec, f);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) {
            ret = 0;
            break;
        }
        if (ret < 0) {
            ret = 0;    /* as above: keep what decodes */
            continue;
        }
        if (!s->swr) {
            ret = swr_alloc_set_opts2(&s->swr, &s->aenc->ch_layout, s->aenc->sample_fmt, s->aenc->sample_rate,
                                      &f->ch_layout, f->format, f->sample_rate, 0, NULL);
            if (ret >= 0)
                ret = swr_init(s->swr);
            if (ret < 0)
                break;
        }
        if (s->next_sample < 0)
            s->next_sample = t > 0 ? llround(t * s->aenc->sample_rate) : 0;
        n = swr_get_out_samples(s->swr, f->nb_samples);
        ret = av_samples_alloc_array_and_samples(&conv, NULL, s->aenc->ch_layout.nb_channels, n,
                                                 s->aenc->sample_fmt, 0);
        if (ret >= 0)
            ret = swr_convert(s->swr, conv, n, (const uint8_t **)f->extended_data, f->nb_samples);
        if (ret > 0)
            ret = av_audio_fifo_write(s->fifo, (void **)conv, ret);
        if (conv)
            av_freep(&conv[0]);
        av_freep(&conv);
        av_frame_unref(f);
        if (ret < 0)
            break;
        ret = audio_drain_fifo(s, 0);
        if (ret < 0)
            break;
    }
    av_frame_free(&f);
    return ret;
}

/* Write the sound up to output time `until` (seconds; < 0: to the end). */
static int audio_feed(file_sink *s, double until)
{
    double tb = s->audio_mode ? av_q2d(s->in_tb) : 0;
    double end = s->p.film_end >= 0 ? s->p.film_end - s->p.film_offset : -1;

    while (s->audio_mode && !s->audio_eof) {
        double t, dur;
        int ret;

        if (!s->apkt_pending) {
            ret = av_read_frame(s->ic, s->apkt);
            if (ret < 0) {
                s->audio_eof = 1;   /* the end, or the readable part of a damaged file */
                break;
            }
            if (s->apkt->stream_index != s->in_stream || s->apkt->pts == AV_NOPTS_VALUE) {
                av_packet_unref(s->apkt);
                continue;
            }
            s->apkt_pending = 1;
        }
        t = (double)(s->apkt->pts - s->in_offset) * tb;
        dur = (double)s->apkt->duration * tb;
        if (until >= 0 && t > until)
            return 0;
        s->apkt_pending = 0;
        if (end >= 0 && t >= end) {
            av_packet_unref(s->apkt);
            s->audio_eof = 1;
            break;
        }
        if (s->p.film_offset > 0 && t + dur <= 0) {
            av_packet_unref(s->apkt);   /* before --start */
            continue;
        }
        if (s->audio_mode == AUDIO_COPY) {
            s->apkt->pts -= s->in_offset;
            if (s->apkt->dts != AV_NOPTS_VALUE)
                s->apkt->dts -= s->in_offset;
            av_packet_rescale_ts(s->apkt, s->in_tb, s->ast->time_base);
            s->apkt->stream_index = s->ast->index;
            s->apkt->pos = -1;
            ret = av_interleaved_write_frame(s->oc, s->apkt);
        } else {
            ret = audio_transcode(s, s->apkt, t);
            av_packet_unref(s->apkt);
        }
        if (ret < 0) {
            char eb[AV_ERROR_MAX_STRING_SIZE];
            return fail(s, "cannot write the sound to '%s': %s", s->path, averr(ret, eb, sizeof eb));
        }
    }
    return 0;
}

/* ------------------------------------------------------------ video */

static int is_x26x(const AVCodec *codec)
{
    return !strcmp(codec->name, "libx264") || !strcmp(codec->name, "libx265");
}

static int known_preset(const char *name)
{
    static const char *const presets[] = { "ultrafast", "superfast", "veryfast", "faster", "fast",
                                           "medium", "slow", "slower", "veryslow", "placebo" };

    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(name, presets[i]))
            return 1;
    return 0;
}

static int video_open(file_sink *s, const AVFrame *first)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(s->p.codec);
    char eb[AV_ERROR_MAX_STRING_SIZE];
    AVCodecContext *c;
    int ret;

    if (!codec || codec->type != AVMEDIA_TYPE_VIDEO)
        return fail(s, "no video encoder named '%s' (see ffmpeg -encoders)", s->p.codec);
    c = s->venc = avcodec_alloc_context3(codec);
    if (!c)
        return AVERROR(ENOMEM);
    c->width = s->p.width;
    c->height = s->p.height;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = s->p.time_base;
    c->framerate = s->p.frame_rate;
    c->sample_aspect_ratio = (AVRational){ 1, 1 };
    c->colorspace = first->colorspace;
    c->color_range = first->color_range;
    c->color_primaries = first->color_primaries;
    c->color_trc = first->color_trc;
    c->thread_count = 0;    /* the encoder's own threads, one set per core */
    if (s->p.bitrate > 0)
        c->bit_rate = s->p.bitrate;
    if (s->oc->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (s->p.preset && is_x26x(codec) && !known_preset(s->p.preset))
        /* x264 and x265 would print their own complaint past our log level */
        return fail(s, "no %s preset '%s' (ultrafast, superfast, veryfast, faster, fast, medium, slow, "
                    "slower, veryslow, placebo)", s->p.codec, s->p.preset);
    if (s->p.preset && av_opt_set(c->priv_data, "preset", s->p.preset, 0) < 0)
        return fail(s, "the %s encoder has no preset '%s'", s->p.codec, s->p.preset);
    if (!s->p.verbose && !strcmp(codec->name, "libx265"))
        av_opt_set(c->priv_data, "x265-params", "log-level=error", 0);   /* x265 logs to stderr itself */
    if (s->p.crf >= 0 && s->p.bitrate <= 0 && av_opt_set_int(c->priv_data, "crf", s->p.crf, 0) < 0)
        return fail(s, "the %s encoder takes no --crf; use --bitrate", s->p.codec);
    ret = avcodec_open2(c, codec, NULL);
    if (ret < 0)
        return fail(s, "cannot open the %s encoder at %dx%d: %s", s->p.codec, c->width, c->height,
                    averr(ret, eb, sizeof eb));
    s->vst = avformat_new_stream(s->oc, NULL);
    if (!s->vst)
        return AVERROR(ENOMEM);
    ret = avcodec_parameters_from_context(s->vst->codecpar, c);
    if (ret < 0)
        return ret;
    s->vst->time_base = c->time_base;
    s->vst->avg_frame_rate = s->p.frame_rate;
    return 0;
}

static int open_output(file_sink *s, const AVFrame *first)
{
    char eb[AV_ERROR_MAX_STRING_SIZE];
    int ret = avformat_alloc_output_context2(&s->oc, NULL, s->p.format, s->path);

    if (ret < 0 || !s->oc)
        return fail(s, "cannot tell the container of '%s' from its name; use a .mp4 or .mkv name or --format",
                    s->path);
    ret = video_open(s, first);
    if (ret < 0)
        return ret;
    ret = audio_open(s);
    if (ret < 0)
        return ret;
    if (!(s->oc->oformat->flags & AVFMT_NOFILE)) {
        ret = avio_open(&s->oc->pb, s->path, AVIO_FLAG_WRITE);
        if (ret < 0)
            return fail(s, "cannot create '%s': %s", s->path, averr(ret, eb, sizeof eb));
        s->created = 1;
    }
    ret = avformat_write_header(s->oc, NULL);
    if (ret < 0)
        return fail(s, "cannot write '%s': %s", s->path, averr(ret, eb, sizeof eb));
    return 0;
}

/* Write the packets the video encoder has ready (frame NULL: drain). */
static int video_encode(file_sink *s, const AVFrame *frame)
{
    char eb[AV_ERROR_MAX_STRING_SIZE];
    int ret = avcodec_send_frame(s->venc, frame);

    if (ret < 0 && ret != AVERROR_EOF)
        return fail(s, "the %s encoder failed: %s", s->p.codec, averr(ret, eb, sizeof eb));
    for (;;) {
        ret = avcodec_receive_packet(s->venc, s->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return fail(s, "the %s encoder failed: %s", s->p.codec, averr(ret, eb, sizeof eb));
        if (s->pkt->duration <= 0)
            s->pkt->duration = av_rescale_q(1, av_inv_q(s->p.frame_rate), s->venc->time_base);
        av_packet_rescale_ts(s->pkt, s->venc->time_base, s->vst->time_base);
        s->pkt->stream_index = s->vst->index;
        ret = av_interleaved_write_frame(s->oc, s->pkt);
        if (ret < 0)
            return fail(s, "cannot write '%s': %s", s->path, averr(ret, eb, sizeof eb));
    }
}

static int file_write(dm_sink *base, const AVFrame *frame)
{
    file_sink *s = (file_sink *)base;
    int ret;

    if (!s->oc) {
        ret = open_output(s, frame);
        if (ret < 0)
            return ret;
    }
    ret = video_encode(s, frame);
    if (ret < 0)
        return ret;
    s->last_video_t = (double)frame->pts * av_q2d(s->p.time_base);
    /* Sound up to the picture just sent, no further: the encoder holds
     * pictures back (lookahead), so the muxer's interleaving queue keeps the
     * sound until their packets come, and a render stopped here has sound
     * exactly as long as its pictures. */
    return audio_feed(s, s->last_video_t);
}

static int file_finish(dm_sink *base, double end_t)
{
    file_sink *s = (file_sink *)base;
    char eb[AV_ERROR_MAX_STRING_SIZE];
    int ret;

    if (!s->oc)
        return fail(s, "no video frame could be decoded from the film, nothing was written");
    ret = video_encode(s, NULL);
    if (ret < 0)
        return ret;
    ret = audio_feed(s, end_t);
    if (ret < 0)
        return ret;
    if (s->audio_mode == AUDIO_ENCODE) {
        ret = audio_transcode(s, NULL, 0);
        if (ret >= 0)
            ret = audio_drain_fifo(s, 1);
        if (ret >= 0)
            ret = audio_encode(s, NULL);
        if (ret < 0)
            return fail(s, "cannot encode the sound: %s", averr(ret, eb, sizeof eb));
    }
    ret = av_write_trailer(s->oc);
    if (ret < 0)
        return fail(s, "cannot finish '%s': %s", s->path, averr(ret, eb, sizeof eb));
    s->finished = 1;
    return 0;
}

static void file_close(dm_sink *base)
{
    file_sink *s = (file_sink *)base;

    if (!s)
        return;
    if (s->oc && !(s->oc->oformat->flags & AVFMT_NOFILE))
        avio_closep(&s->oc->pb);
    /* A file without its trailer is not playable: do not leave it behind. */
    if (s->created && !s->finished)
        remove(s->path);
    avformat_free_context(s->oc);
    avcodec_free_context(&s->venc);
    avcodec_free_context(&s->adec);
    avcodec_free_context(&s->aenc);
    avformat_close_input(&s->ic);
    swr_free(&s->swr);
    if (s->fifo)
        av_audio_fifo_free(s->fifo);
    av_frame_free(&s->aframe);
    av_packet_free(&s->pkt);
    av_packet_free(&s->apkt);
    free(s->path);
    free(s);
}

int dm_sink_file_audio_mode(const dm_sink *base)
{
    return ((const file_sink *)base)->audio_mode;
}

static const dm_sink_ops file_ops = { "file", file_write, file_finish, file_close };

int dm_sink_file_new(dm_sink **out, const dm_sink_file_params *p, char *err, size_t errlen)
{
    file_sink *s = calloc(1, sizeof *s);

    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return AVERROR(ENOMEM);
    }
    s->base.ops = &file_ops;
    s->p = *p;
    s->path = strdup(p->path);
    s->pkt = av_packet_alloc();
    s->apkt = av_packet_alloc();
    if (!s->path || !s->pkt || !s->apkt) {
        file_close(&s->base);
        snprintf(err, errlen, "out of memory");
        return AVERROR(ENOMEM);
    }
    s->p.path = s->path;
    *out = &s->base;
    return 0;
}

/* ------------------------------------------------------------ null */

static int null_write(dm_sink *s, const AVFrame *frame)
{
    (void)s;
    (void)frame;
    return 0;
}

static int null_finish(dm_sink *s, double end_t)
{
    (void)s;
    (void)end_t;
    return 0;
}

static void null_close(dm_sink *s)
{
    free(s);
}

static const dm_sink_ops null_ops = { "null", null_write, null_finish, null_close };

int dm_sink_null_new(dm_sink **out)
{
    dm_sink *s = calloc(1, sizeof *s);

    *out = s;
    if (!s)
        return AVERROR(ENOMEM);
    s->ops = &null_ops;
    return 0;
}
