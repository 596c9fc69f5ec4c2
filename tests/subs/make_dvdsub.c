/*
 * make_dvdsub.c - writes a Matroska file with one DVD subtitle stream (the
 * pictures of dvdsub_layout.h, drawn with a 5x7 dot font and encoded by
 * libavcodec's dvdsub encoder). make-films.sh muxes it with a video.
 *
 *   make_dvdsub OUT.mkv
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "dvdsub_layout.h"

/* 5x7 dots, one row a byte, bit 4 = leftmost column. */
static const struct {
    char c;
    unsigned char rows[7];
} font[] = {
    {' ', {0, 0, 0, 0, 0, 0, 0}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
};

static const unsigned char *glyph(char c)
{
    for (size_t i = 0; i < sizeof font / sizeof font[0]; i++)
        if (font[i].c == c)
            return font[i].rows;
    return font[0].rows;
}

static int fail(const char *what, int err)
{
    fprintf(stderr, "make_dvdsub: %s: %s\n", what, av_err2str(err));
    return 1;
}

int main(int argc, char **argv)
{
    const AVCodec *codec;
    AVCodecContext *enc;
    AVFormatContext *oc = NULL;
    AVStream *st;
    int ret;

    if (argc != 2) {
        fprintf(stderr, "usage: make_dvdsub OUT.mkv\n");
        return 2;
    }
    codec = avcodec_find_encoder(AV_CODEC_ID_DVD_SUBTITLE);
    if (!codec) {
        fprintf(stderr, "make_dvdsub: libavcodec has no dvdsub encoder\n");
        return 1;
    }
    enc = avcodec_alloc_context3(codec);
    enc->width = DVDSUB_CANVAS_W;
    enc->height = DVDSUB_CANVAS_H;
    enc->time_base = (AVRational){1, 1000};
    if ((ret = avcodec_open2(enc, codec, NULL)) < 0)
        return fail("open the encoder", ret);
    if ((ret = avformat_alloc_output_context2(&oc, NULL, "matroska", argv[1])) < 0)
        return fail("make the muxer", ret);
    st = avformat_new_stream(oc, NULL);
    avcodec_parameters_from_context(st->codecpar, enc);
    st->time_base = (AVRational){1, 1000};
    av_dict_set(&st->metadata, "language", "eng", 0);
    if ((ret = avio_open(&oc->pb, argv[1], AVIO_FLAG_WRITE)) < 0)
        return fail(argv[1], ret);
    if ((ret = avformat_write_header(oc, NULL)) < 0)
        return fail("write the header", ret);

    for (size_t e = 0; e < DVDSUB_EVENTS; e++) {
        const dvdsub_event *ev = &dvdsub_events[e];
        size_t n = strlen(ev->text);
        int w = DVDSUB_TEXT_W((int)n), h = DVDSUB_TEXT_H;
        uint8_t *pix = calloc((size_t)w * (size_t)h, 1);
        uint32_t palette[4] = {0x00000000, 0xFF202020, 0xFFFFFFFF, 0xFF808080};
        AVSubtitleRect rect, *rects[1] = {&rect};
        AVSubtitle sub;
        uint8_t buf[65536];
        AVPacket *pkt = av_packet_alloc();
        int size;

        memset(pix, 1, (size_t)w * (size_t)h);  /* the plate */
        for (size_t i = 0; i < n; i++) {
            const unsigned char *g = glyph(ev->text[i]);
            for (int gy = 0; gy < 7; gy++)
                for (int gx = 0; gx < 5; gx++) {
                    if (!(g[gy] & (0x10 >> gx)))
                        continue;
                    for (int dy = 0; dy < DVDSUB_GLYPH_SCALE; dy++)
                        for (int dx = 0; dx < DVDSUB_GLYPH_SCALE; dx++) {
                            int x = 1 + ((int)i * 6 + gx) * DVDSUB_GLYPH_SCALE + dx;
                            int y = 1 + gy * DVDSUB_GLYPH_SCALE + dy;
                            pix[(size_t)y * (size_t)w + (size_t)x] = 2;
                        }
                }
        }
        memset(&rect, 0, sizeof rect);
        rect.x = ev->x;
        rect.y = ev->y;
        rect.w = w;
        rect.h = h;
        rect.nb_colors = 4;
        rect.type = SUBTITLE_BITMAP;
        rect.data[0] = pix;
        rect.linesize[0] = w;
        rect.data[1] = (uint8_t *)palette;
        memset(&sub, 0, sizeof sub);
        sub.format = 0;
        sub.start_display_time = 0;
        sub.end_display_time = (uint32_t)(ev->end_ms - ev->start_ms);
        sub.num_rects = 1;
        sub.rects = rects;
        sub.pts = (int64_t)ev->start_ms * 1000;  /* AV_TIME_BASE */
        size = avcodec_encode_subtitle(enc, buf, sizeof buf, &sub);
        if (size < 0)
            return fail("encode a picture", size);
        av_new_packet(pkt, size);
        memcpy(pkt->data, buf, (size_t)size);
        pkt->pts = pkt->dts = ev->start_ms;
        pkt->duration = ev->end_ms - ev->start_ms;
        pkt->stream_index = st->index;
        av_packet_rescale_ts(pkt, (AVRational){1, 1000}, st->time_base);
        if ((ret = av_interleaved_write_frame(oc, pkt)) < 0)
            return fail("write a packet", ret);
        av_packet_free(&pkt);
        free(pix);
    }
    if ((ret = av_write_trailer(oc)) < 0)
        return fail("write the trailer", ret);
    avio_closep(&oc->pb);
    avformat_free_context(oc);
    avcodec_free_context(&enc);
    return 0;
}
