/*
 * media_image.c - picture helpers built on libav alone: pixel format
 * conversion with swscale and PNG reading/writing with libavcodec's PNG codec,
 * so screenshots and golden-frame tests need no other image library.
 */
#include "media.h"
#include "danmaku.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

/* Golden PNGs and screenshots are small; this only guards against reading
 * something that is not an image into memory. */
#define PNG_MAX_BYTES (256 * 1024 * 1024)

int dm_frame_to_yuv420p(struct SwsContext **sws, const AVFrame *src, AVFrame *dst)
{
    int ret;
    if (!sws || !src || !dst || src->width <= 0 || src->height <= 0)
        return AVERROR(EINVAL);
    if (dst->format != AV_PIX_FMT_YUV420P || dst->width != src->width || dst->height != src->height
        || !dst->data[0] || (dst->buf[0] && !av_buffer_is_writable(dst->buf[0]))) {
        av_frame_unref(dst);
        dst->format = AV_PIX_FMT_YUV420P;
        dst->width = src->width;
        dst->height = src->height;
        ret = av_frame_get_buffer(dst, 0);
        if (ret < 0)
            return ret;
    }
    *sws = sws_getCachedContext(*sws, src->width, src->height, (enum AVPixelFormat)src->format,
                                dst->width, dst->height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL,
                                NULL, NULL);
    if (!*sws)
        return AVERROR(EINVAL);
    ret = sws_scale(*sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
                    dst->data, dst->linesize);
    if (ret < 0)
        return ret;
    dst->pts = src->pts;
    dst->best_effort_timestamp = src->best_effort_timestamp;
    dst->sample_aspect_ratio = src->sample_aspect_ratio;
    return 0;
}

int dm_frame_to_rgba(struct SwsContext **sws, const AVFrame *src, uint8_t *rgba, int dst_w,
                     int dst_h, int stride)
{
    uint8_t *dst_data[4] = {rgba, NULL, NULL, NULL};
    int dst_linesize[4] = {stride, 0, 0, 0};
    int ret;
    if (!sws || !src || !rgba || dst_w <= 0 || dst_h <= 0 || stride < dst_w * 4)
        return AVERROR(EINVAL);
    *sws = sws_getCachedContext(*sws, src->width, src->height, (enum AVPixelFormat)src->format,
                                dst_w, dst_h, AV_PIX_FMT_RGBA, SWS_BICUBIC, NULL, NULL, NULL);
    if (!*sws)
        return AVERROR(EINVAL);
    ret = sws_scale(*sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
                    dst_data, dst_linesize);
    return ret < 0 ? ret : 0;
}

/*
 * The file at `path` appears whole or not at all: written beside it under a
 * temporary name, then renamed over it. A program watching for a screenshot
 * never reads half of one, and a failed write leaves the old file.
 */
static int write_all(const char *path, const uint8_t *data, size_t size, char *err, size_t errlen)
{
    char tmp[4200];
    FILE *fp;
    int ok;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= sizeof tmp) {
        dm_set_err(err, errlen, "cannot write '%s': the path is too long", path);
        return AVERROR(ENAMETOOLONG);
    }
    fp = fopen(tmp, "wb");
    if (!fp) {
        int e = errno;
        dm_set_err(err, errlen, "cannot write '%s': %s", path, strerror(e));
        return AVERROR(e);
    }
    ok = fwrite(data, 1, size, fp) == size;
    if (fclose(fp) != 0)
        ok = 0;
    if (!ok) {
        dm_set_err(err, errlen, "cannot write '%s': disk full or I/O error", path);
        remove(tmp);
        return AVERROR(EIO);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        dm_set_err(err, errlen, "cannot write '%s': %s", path, strerror(e));
        remove(tmp);
        return AVERROR(e);
    }
    return 0;
}

int dm_png_write(const char *path, const uint8_t *rgba, int w, int h, int stride, char *err,
                 size_t errlen)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
    AVCodecContext *enc = NULL;
    AVFrame *frame = NULL;
    AVPacket *pkt = NULL;
    int ret;

    if (!path || !rgba || w <= 0 || h <= 0 || stride < w * 4) {
        dm_set_err(err, errlen, "cannot write PNG: invalid image (%dx%d, stride %d)", w, h, stride);
        return AVERROR(EINVAL);
    }
    if (!codec) {
        dm_set_err(err, errlen, "cannot write '%s': this libavcodec has no PNG encoder", path);
        return AVERROR_ENCODER_NOT_FOUND;
    }
    enc = avcodec_alloc_context3(codec);
    frame = av_frame_alloc();
    pkt = av_packet_alloc();
    if (!enc || !frame || !pkt) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    enc->width = w;
    enc->height = h;
    enc->pix_fmt = AV_PIX_FMT_RGBA;
    enc->time_base = (AVRational){1, 1};
    ret = avcodec_open2(enc, codec, NULL);
    if (ret < 0)
        goto fail;
    /* Copy into a frame the encoder may keep: the caller's pixels are const. */
    frame->format = AV_PIX_FMT_RGBA;
    frame->width = w;
    frame->height = h;
    ret = av_frame_get_buffer(frame, 0);
    if (ret < 0)
        goto fail;
    av_image_copy_plane(frame->data[0], frame->linesize[0], rgba, stride, w * 4, h);
    frame->pts = 0;
    ret = avcodec_send_frame(enc, frame);
    if (ret >= 0)
        ret = avcodec_send_frame(enc, NULL);
    if (ret >= 0)
        ret = avcodec_receive_packet(enc, pkt);
    if (ret < 0)
        goto fail;
    ret = write_all(path, pkt->data, (size_t)pkt->size, err, errlen);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&enc);
    return ret;
fail:
    dm_set_err(err, errlen, "cannot encode PNG '%s': %s", path, av_err2str(ret));
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&enc);
    return ret;
}

static int read_all(const char *path, uint8_t **data, size_t *size, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    long len;
    uint8_t *p;
    if (!fp) {
        int e = errno;
        dm_set_err(err, errlen, "cannot read '%s': %s", path, strerror(e));
        return AVERROR(e);
    }
    len = fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;
    if (len < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        dm_set_err(err, errlen, "cannot read '%s': not a regular file", path);
        return AVERROR(EIO);
    }
    if (len == 0 || len > PNG_MAX_BYTES) {
        fclose(fp);
        dm_set_err(err, errlen, "cannot read '%s': %s", path, len == 0 ? "empty file" : "file too large");
        return AVERROR_INVALIDDATA;
    }
    /* The decoder may read a little past the end for speed. */
    p = av_mallocz((size_t)len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!p) {
        fclose(fp);
        return AVERROR(ENOMEM);
    }
    if (fread(p, 1, (size_t)len, fp) != (size_t)len) {
        fclose(fp);
        av_free(p);
        dm_set_err(err, errlen, "cannot read '%s': I/O error", path);
        return AVERROR(EIO);
    }
    fclose(fp);
    *data = p;
    *size = (size_t)len;
    return 0;
}

int dm_png_read(const char *path, uint8_t **rgba, int *w, int *h, char *err, size_t errlen)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_PNG);
    AVCodecContext *dec = NULL;
    AVFrame *frame = NULL;
    AVPacket *pkt = NULL;
    struct SwsContext *sws = NULL;
    uint8_t *data = NULL, *out = NULL;
    size_t size = 0;
    int ret;

    if (!path || !rgba || !w || !h) {
        dm_set_err(err, errlen, "cannot read PNG: invalid arguments");
        return AVERROR(EINVAL);
    }
    *rgba = NULL;
    if (!codec) {
        dm_set_err(err, errlen, "cannot read '%s': this libavcodec has no PNG decoder", path);
        return AVERROR_DECODER_NOT_FOUND;
    }
    ret = read_all(path, &data, &size, err, errlen);
    if (ret < 0)
        return ret;
    dec = avcodec_alloc_context3(codec);
    frame = av_frame_alloc();
    pkt = av_packet_alloc();
    if (!dec || !frame || !pkt) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    ret = avcodec_open2(dec, codec, NULL);
    if (ret < 0)
        goto fail;
    pkt->data = data;
    pkt->size = (int)size;
    ret = avcodec_send_packet(dec, pkt);
    if (ret >= 0)
        ret = avcodec_send_packet(dec, NULL);
    if (ret >= 0)
        ret = avcodec_receive_frame(dec, frame);
    if (ret < 0)
        goto fail;
    out = malloc((size_t)frame->width * (size_t)frame->height * 4);
    if (!out) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    ret = dm_frame_to_rgba(&sws, frame, out, frame->width, frame->height, frame->width * 4);
    if (ret < 0)
        goto fail;
    *rgba = out;
    *w = frame->width;
    *h = frame->height;
    out = NULL;
    ret = 0;
    goto done;
fail:
    dm_set_err(err, errlen, "cannot decode PNG '%s': %s", path, av_err2str(ret));
done:
    free(out);
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&dec);
    av_free(data);
    return ret;
}
