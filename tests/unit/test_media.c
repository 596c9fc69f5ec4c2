/*
 * test_media.c - dm_media against real films made at test time with the
 * ffmpeg command-line tool: codecs and containers, video-only and audio-only
 * files, broken input, accurate seeks and stale-frame rejection, pause and
 * speed, the PNG helpers. Nothing here depends on how fast the machine is:
 * frames are taken with blocking calls and only counts and timestamps are
 * checked.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <libavutil/log.h>
#include <libswscale/swscale.h>

#include "media.h"

#define FPS 24
#define SECONDS 2
#define FRAMES (FPS * SECONDS)
#define RATE 48000
#define CHANNELS 2
/* Encoder priming and padding move the decoded audio length a little. */
#define AUDIO_TOLERANCE 0.15

enum film_id {
    FILM_H264_AAC_MP4,
    FILM_HEVC_OPUS_MKV,
    FILM_VP9_OPUS_WEBM,
    FILM_AV1_MP3_MKV,
    FILM_H264_MP3_MKV,
    FILM_VIDEO_ONLY,
    FILM_AUDIO_ONLY,
    FILM_TRUNC_MKV,
    FILM_TRUNC_MP4,
    FILM_CORRUPT_MKV,
    FILM_GARBAGE,
    FILM_TWO_AUDIO,
    FILM_COUNT
};

static char g_dir[256];
static char g_path[FILM_COUNT][320];
static int g_ok[FILM_COUNT];

/* ------------------------------------------------------------ film making */

static int have_encoder(const char *name)
{
#ifdef DM_FFMPEG
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "'%s' -hide_banner -encoders 2>/dev/null | grep -q ' %s '",
             DM_FFMPEG, name);
    return system(cmd) == 0;
#else
    (void)name;
    return 0;
#endif
}

/* Run ffmpeg with `args` writing `out`; 1 on success. */
static int ffmpeg_make(const char *args, const char *out)
{
#ifdef DM_FFMPEG
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s' -hide_banner -loglevel error -nostdin -y %s '%s'", DM_FFMPEG,
             args, out);
    return system(cmd) == 0;
#else
    (void)args;
    (void)out;
    return 0;
#endif
}

#define VSRC "-f lavfi -i testsrc2=s=320x240:r=24:d=2 "
#define ASRC "-f lavfi -i sine=f=440:sample_rate=48000:d=2 -ac 2 "
#define X264 "-c:v libx264 -preset ultrafast -g 12 -pix_fmt yuv420p "

/* Copy `src` to `dst`, keeping only the first `percent` of the bytes. */
static int copy_prefix(const char *src, const char *dst, int percent)
{
    FILE *in = fopen(src, "rb"), *out;
    long len, keep;
    char buf[4096];
    if (!in)
        return 0;
    fseek(in, 0, SEEK_END);
    len = ftell(in);
    fseek(in, 0, SEEK_SET);
    keep = len * percent / 100;
    out = fopen(dst, "wb");
    if (!out) {
        fclose(in);
        return 0;
    }
    while (keep > 0) {
        size_t want = keep > (long)sizeof(buf) ? sizeof(buf) : (size_t)keep;
        size_t got = fread(buf, 1, want, in);
        if (got == 0)
            break;
        fwrite(buf, 1, got, out);
        keep -= (long)got;
    }
    fclose(in);
    return fclose(out) == 0 && keep == 0;
}

/* Overwrite bytes [from%, to%) of `path` with pseudo-random garbage. */
static int corrupt_range(const char *path, int from, int to)
{
    FILE *f = fopen(path, "r+b");
    long len, a, b;
    uint32_t x = 12345;
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    a = len * from / 100;
    b = len * to / 100;
    fseek(f, a, SEEK_SET);
    for (long i = a; i < b; i++) {
        x = x * 1664525u + 1013904223u;
        fputc((int)(x >> 24), f);
    }
    return fclose(f) == 0;
}

static int write_garbage(const char *path, size_t size)
{
    FILE *f = fopen(path, "wb");
    uint32_t x = 987654321u;
    if (!f)
        return 0;
    for (size_t i = 0; i < size; i++) {
        x = x * 1664525u + 1013904223u;
        fputc((int)(x >> 24), f);
    }
    return fclose(f) == 0;
}

static void make_films(void)
{
    char full_mkv[320], full_mp4[320];
    const char *av1 = NULL;

    snprintf(full_mkv, sizeof(full_mkv), "%s/full.mkv", g_dir);
    snprintf(full_mp4, sizeof(full_mp4), "%s/full_faststart.mp4", g_dir);
    if (have_encoder("libsvtav1"))
        av1 = "-c:v libsvtav1 -preset 12 -g 12 ";
    else if (have_encoder("libaom-av1"))
        av1 = "-c:v libaom-av1 -cpu-used 8 -row-mt 1 -g 12 ";

    g_ok[FILM_H264_AAC_MP4] = have_encoder("libx264")
        && ffmpeg_make(VSRC ASRC X264 "-c:a aac -b:a 64k", g_path[FILM_H264_AAC_MP4]);
    g_ok[FILM_HEVC_OPUS_MKV] = have_encoder("libx265") && have_encoder("libopus")
        && ffmpeg_make(VSRC ASRC "-c:v libx265 -preset ultrafast -x265-params log-level=none "
                       "-g 12 -c:a libopus -b:a 64k", g_path[FILM_HEVC_OPUS_MKV]);
    /* 4:4:4 so one film exercises the "needs conversion" path. */
    g_ok[FILM_VP9_OPUS_WEBM] = have_encoder("libvpx-vp9") && have_encoder("libopus")
        && ffmpeg_make(VSRC ASRC "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 400k "
                       "-pix_fmt yuv444p -g 12 -c:a libopus -b:a 64k", g_path[FILM_VP9_OPUS_WEBM]);
    if (av1 && have_encoder("libmp3lame")) {
        char args[512];
        snprintf(args, sizeof(args), VSRC ASRC "%s -pix_fmt yuv420p -c:a libmp3lame -b:a 96k", av1);
        g_ok[FILM_AV1_MP3_MKV] = ffmpeg_make(args, g_path[FILM_AV1_MP3_MKV]);
    }
    g_ok[FILM_H264_MP3_MKV] = have_encoder("libx264") && have_encoder("libmp3lame")
        && ffmpeg_make(VSRC ASRC X264 "-c:a libmp3lame -b:a 96k", g_path[FILM_H264_MP3_MKV]);
    g_ok[FILM_VIDEO_ONLY] = have_encoder("libx264")
        && ffmpeg_make(VSRC X264 "-an", g_path[FILM_VIDEO_ONLY]);
    g_ok[FILM_AUDIO_ONLY] = ffmpeg_make(ASRC "-c:a aac -b:a 64k", g_path[FILM_AUDIO_ONLY]);

    if (have_encoder("libx264") && ffmpeg_make(VSRC ASRC X264 "-c:a aac -b:a 64k", full_mkv)) {
        g_ok[FILM_TRUNC_MKV] = copy_prefix(full_mkv, g_path[FILM_TRUNC_MKV], 60);
        g_ok[FILM_CORRUPT_MKV] = copy_prefix(full_mkv, g_path[FILM_CORRUPT_MKV], 100)
            && corrupt_range(g_path[FILM_CORRUPT_MKV], 40, 44);
    }
    if (have_encoder("libx264")
        && ffmpeg_make(VSRC ASRC X264 "-c:a aac -b:a 64k -movflags +faststart", full_mp4))
        g_ok[FILM_TRUNC_MP4] = copy_prefix(full_mp4, g_path[FILM_TRUNC_MP4], 60);
    g_ok[FILM_GARBAGE] = write_garbage(g_path[FILM_GARBAGE], 64 * 1024);
    /* two audio tracks: 440 Hz (eng), then 1000 Hz (jpn) */
    g_ok[FILM_TWO_AUDIO] = have_encoder("libx264")
        && ffmpeg_make(VSRC ASRC "-f lavfi -i sine=f=1000:sample_rate=48000:d=2 -map 0 -map 1 -map 2 " X264
                       "-c:a aac -b:a 64k -ac 2 -metadata:s:a:0 language=eng -metadata:s:a:1 language=jpn",
                       g_path[FILM_TWO_AUDIO]);
}

static int group_setup(void **state)
{
    static const char *names[FILM_COUNT] = {
        "h264_aac.mp4", "hevc_opus.mkv", "vp9_opus.webm", "av1_mp3.mkv", "h264_mp3.mkv",
        "video_only.mp4", "audio_only.m4a", "trunc.mkv", "trunc_faststart.mp4",
        "corrupt.mkv", "garbage.mp4", "two_audio.mkv",
    };
    const char *tmp = getenv("TMPDIR");
    (void)state;
    /* libav's own per-frame complaints about the broken films are noise;
     * dm_media reports through its log callback, which is what is tested. */
    av_log_set_level(AV_LOG_QUIET);
    snprintf(g_dir, sizeof(g_dir), "%s/dm-media-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir))
        return -1;
    for (int i = 0; i < FILM_COUNT; i++)
        snprintf(g_path[i], sizeof(g_path[i]), "%s/%s", g_dir, names[i]);
    make_films();
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[512];
    (void)state;
    if (!g_dir[0] || getenv("DM_KEEP_TEST_FILMS"))
        return 0;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ helpers */

typedef struct log_capture {
    int decode_errors;  /* messages about decoding errors */
    int messages;
} log_capture;

static void capture_log(void *ud, int level, const char *message)
{
    log_capture *lc = ud;
    (void)level;
    lc->messages++;
    if (strstr(message, "decoding error ("))
        lc->decode_errors++;
}

static dm_media *open_film(enum film_id id, int video, int audio, log_capture *lc)
{
    char err[256] = "";
    dm_media *m = NULL;
    dm_media_options opt = {capture_log, lc, 0, 0};
    dm_media_output out = {video, audio ? RATE : 0, CHANNELS, DM_AUDIO_F32};
    int ret = dm_media_open(&m, g_path[id], &opt, err, sizeof(err));
    if (ret < 0)
        fail_msg("opening %s failed: %s", g_path[id], err);
    ret = dm_media_start(m, &out, err, sizeof(err));
    if (ret < 0)
        fail_msg("starting %s failed: %s", g_path[id], err);
    return m;
}

#define REQUIRE_FILM(id)            \
    do {                            \
        if (!g_ok[id])              \
            skip();                 \
    } while (0)

/* Take every remaining video frame; checks pts order and serial. */
static int take_all_frames(dm_media *m, int serial, double *first_pts, double *last_pts)
{
    AVFrame *f = av_frame_alloc();
    dm_frame_info info;
    double prev = -INFINITY;
    int n = 0, ret;
    assert_non_null(f);
    for (;;) {
        ret = dm_media_video_take(m, f, &info, 1);
        if (ret != DM_MEDIA_OK)
            break;
        if (serial >= 0)
            assert_int_equal(info.serial, serial);
        assert_false(isnan(info.pts));
        if (info.pts <= prev)
            fail_msg("frame %d: pts %.4f after %.4f", n, info.pts, prev);
        if (n == 0 && first_pts)
            *first_pts = info.pts;
        prev = info.pts;
        assert_true(f->width > 0 && f->height > 0);
        av_frame_unref(f);
        n++;
    }
    assert_int_equal(ret, DM_MEDIA_EOF);
    if (last_pts)
        *last_pts = prev;
    av_frame_free(&f);
    return n;
}

/* Read all remaining audio; returns seconds of audio. */
static double read_all_audio(dm_media *m)
{
    uint8_t buf[8192];
    int64_t bytes = 0;
    int n;
    for (;;) {
        n = dm_media_audio_read(m, buf, (int)sizeof(buf));
        if (n <= 0)
            break;
        bytes += n;
    }
    assert_int_equal(n, 0);
    return (double)bytes / (RATE * CHANNELS * (int)sizeof(float));
}

/* --------------------------------------------------------------------- tests */

static void test_open_missing_file(void **state)
{
    char err[256] = "";
    char path[300];
    dm_media *m = NULL;
    (void)state;
    snprintf(path, sizeof(path), "%s/does-not-exist.mp4", g_dir);
    assert_true(dm_media_open(&m, path, NULL, err, sizeof(err)) < 0);
    assert_null(m);
    assert_non_null(strstr(err, "does-not-exist.mp4"));
    assert_non_null(strstr(err, "No such file"));
}

static void test_open_garbage(void **state)
{
    char err[256] = "";
    dm_media *m = NULL;
    (void)state;
    REQUIRE_FILM(FILM_GARBAGE);
    assert_true(dm_media_open(&m, g_path[FILM_GARBAGE], NULL, err, sizeof(err)) < 0);
    assert_null(m);
    assert_non_null(strstr(err, "garbage.mp4"));
    assert_true(strlen(err) > strlen(g_path[FILM_GARBAGE]) + 10);
}

static void test_info(void **state)
{
    char err[256] = "";
    dm_media *m = NULL;
    const dm_media_info *info;
    (void)state;
    REQUIRE_FILM(FILM_H264_AAC_MP4);
    assert_int_equal(dm_media_open(&m, g_path[FILM_H264_AAC_MP4], NULL, err, sizeof(err)), 0);
    info = dm_media_get_info(m);
    assert_true(info->has_video && info->has_audio);
    assert_int_equal(info->width, 320);
    assert_int_equal(info->height, 240);
    assert_int_equal(info->sar.num, 1);
    assert_int_equal(info->sar.den, 1);
    assert_float_equal(info->display_aspect, 4.0 / 3.0, 1e-6);
    assert_float_equal(info->frame_rate, 24.0, 1e-6);
    assert_float_equal(info->duration, 2.0, 0.1);
    assert_int_equal(info->audio_rate, 48000);
    assert_int_equal(info->audio_channels, 2);
    assert_string_equal(info->video_codec, "h264");
    assert_int_equal(info->pix_fmt, AV_PIX_FMT_YUV420P);
    assert_true(dm_media_seek(m, 1.0) < 0);   /* not started yet */
    /* Closing a film that never started is fine. */
    dm_media_close(&m);
    assert_null(m);
    dm_media_close(&m);
}

static void check_film(enum film_id id, int expect_convert)
{
    log_capture lc = {0, 0};
    dm_media *m;
    dm_frame_info info;
    double first = NAN, last = NAN, audio;
    int n;
    REQUIRE_FILM(id);
    m = open_film(id, 1, 1, &lc);
    assert_int_equal(dm_media_video_peek(m, &info, 1), DM_MEDIA_OK);
    assert_int_equal(info.needs_convert, expect_convert);
    /* Audio waits in its queues (small films fit) while video is taken. */
    n = take_all_frames(m, 1, &first, &last);
    if (abs(n - FRAMES) > 1)
        fail_msg("%s: %d frames, expected %d", g_path[id], n, FRAMES);
    /* Muxers may shift video by the audio encoder's delay (a few ms). */
    assert_true(first >= 0.0 && first < 1.0 / FPS);
    assert_float_equal(last, (FRAMES - 1.0) / FPS, 1.5 / FPS);
    audio = read_all_audio(m);
    if (fabs(audio - SECONDS) > AUDIO_TOLERANCE)
        fail_msg("%s: %.3f s of audio, expected %d", g_path[id], audio, SECONDS);
    assert_true(dm_media_eof(m));
    assert_int_equal(lc.decode_errors, 0);
    dm_media_close(&m);
}

static void test_h264_aac_mp4(void **state)
{
    (void)state;
    check_film(FILM_H264_AAC_MP4, 0);
}

static void test_hevc_opus_mkv(void **state)
{
    (void)state;
    check_film(FILM_HEVC_OPUS_MKV, 0);
}

static void test_vp9_opus_webm(void **state)
{
    (void)state;
    check_film(FILM_VP9_OPUS_WEBM, 1);
}

static void test_av1_mp3_mkv(void **state)
{
    (void)state;
    check_film(FILM_AV1_MP3_MKV, 0);
}

static void test_h264_mp3_mkv(void **state)
{
    (void)state;
    check_film(FILM_H264_MP3_MKV, 0);
}

static void test_video_only(void **state)
{
    log_capture lc = {0, 0};
    dm_media *m;
    uint8_t buf[256];
    int n;
    (void)state;
    REQUIRE_FILM(FILM_VIDEO_ONLY);
    m = open_film(FILM_VIDEO_ONLY, 1, 1, &lc);
    assert_false(dm_media_get_info(m)->has_audio);
    /* A sound device callback still gets its buffer filled (with silence). */
    memset(buf, 0x55, sizeof(buf));
    assert_int_equal(dm_media_audio_pull(m, buf, (int)sizeof(buf), 0.0), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0);
    n = take_all_frames(m, 1, NULL, NULL);
    assert_true(abs(n - FRAMES) <= 1);
    assert_true(dm_media_eof(m));
    dm_media_close(&m);
}

static void test_audio_only(void **state)
{
    log_capture lc = {0, 0};
    dm_media *m;
    dm_frame_info info;
    double audio;
    (void)state;
    REQUIRE_FILM(FILM_AUDIO_ONLY);
    m = open_film(FILM_AUDIO_ONLY, 1, 1, &lc);
    assert_false(dm_media_get_info(m)->has_video);
    assert_true(dm_media_get_info(m)->has_audio);
    assert_int_equal(dm_media_video_peek(m, &info, 1), DM_MEDIA_EOF);
    audio = read_all_audio(m);
    assert_float_equal(audio, SECONDS, AUDIO_TOLERANCE);
    assert_true(dm_media_eof(m));
    dm_media_close(&m);
}

static void check_truncated(enum film_id id)
{
    log_capture lc = {0, 0};
    dm_media *m;
    int n;
    REQUIRE_FILM(id);
    m = open_film(id, 1, 1, &lc);
    n = take_all_frames(m, 1, NULL, NULL);
    /* Some frames, then a normal end well before the full count. */
    if (n < 5 || n >= FRAMES)
        fail_msg("%s: %d frames from a file cut at 60%%", g_path[id], n);
    read_all_audio(m);
    assert_true(dm_media_eof(m));
    assert_true(lc.decode_errors <= 2);
    dm_media_close(&m);
}

static void test_truncated_mkv(void **state)
{
    (void)state;
    check_truncated(FILM_TRUNC_MKV);
}

static void test_truncated_mp4(void **state)
{
    (void)state;
    check_truncated(FILM_TRUNC_MP4);
}

static void test_corrupt_logs_once(void **state)
{
    log_capture lc = {0, 0};
    dm_media *m;
    dm_media_stats st;
    int n;
    (void)state;
    REQUIRE_FILM(FILM_CORRUPT_MKV);
    m = open_film(FILM_CORRUPT_MKV, 1, 1, &lc);
    n = take_all_frames(m, -1, NULL, NULL);
    read_all_audio(m);
    assert_true(n > 0);
    dm_media_get_stats(m, &st);
    /* At most one report per stream, however many frames were damaged. */
    assert_true(lc.decode_errors <= 2);
    if (st.decode_errors > 0)
        assert_true(lc.decode_errors >= 1);
    dm_media_close(&m);
}

static void test_seek_accurate(void **state)
{
    log_capture lc = {0, 0};
    dm_media *m;
    AVFrame *f = av_frame_alloc();
    dm_frame_info info;
    const double targets[] = {1.0, 0.5, 1.5, 0.0, 1.23};
    (void)state;
    REQUIRE_FILM(FILM_H264_AAC_MP4);
    m = open_film(FILM_H264_AAC_MP4, 1, 0, &lc);
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        int serial = dm_media_seek(m, targets[i]);
        assert_int_equal(dm_media_video_take(m, f, &info, 1), DM_MEDIA_OK);
        assert_int_equal(info.serial, serial);
        if (info.pts < targets[i] - 0.001 || info.pts > targets[i] + 1.0 / FPS + 0.001)
            fail_msg("seek to %.3f gave a first frame at %.4f", targets[i], info.pts);
        av_frame_unref(f);
    }
    /* The rest of the film follows in order from the last target. */
    {
        int n = take_all_frames(m, -1, NULL, NULL);
        int expect = FRAMES - (int)ceil(1.23 * FPS) - 1;
        assert_true(abs(n - expect) <= 1);
    }
    av_frame_free(&f);
    dm_media_close(&m);
}

static void test_seek_drops_stale_frames(void **state)
{
    log_capture lc = {0, 0};
    dm_media *m;
    AVFrame *f = av_frame_alloc();
    dm_frame_info info;
    int serial = 0, n;
    double first = NAN;
    (void)state;
    REQUIRE_FILM(FILM_H264_AAC_MP4);
    m = open_film(FILM_H264_AAC_MP4, 1, 1, &lc);
    /* Let the frame queue fill with frames from the start, then seek several
     * times without taking anything: none of those frames may come out. */
    assert_int_equal(dm_media_video_peek(m, &info, 1), DM_MEDIA_OK);
    for (int i = 0; i < 3; i++) {
        uint8_t buf[4096];
        (void)dm_media_audio_read(m, buf, (int)sizeof(buf));
    }
    dm_media_seek(m, 1.5);
    dm_media_seek(m, 0.25);
    serial = dm_media_seek(m, 0.75);
    assert_int_equal(dm_media_video_peek(m, &info, 1), DM_MEDIA_OK);
    assert_int_equal(info.serial, serial);
    n = take_all_frames(m, serial, &first, NULL);
    assert_true(first >= 0.75 - 0.001 && first <= 0.75 + 1.0 / FPS + 0.001);
    assert_true(abs(n - (FRAMES - 18)) <= 1);
    /* Audio after the seek covers the rest of the film from the target. */
    assert_float_equal(read_all_audio(m), SECONDS - 0.75, AUDIO_TOLERANCE);
    av_frame_free(&f);
    dm_media_close(&m);
}

static void test_seek_after_eof(void **state)
{
    log_capture lc = {0, 0};
    dm_media *m;
    int serial, n;
    double first = NAN;
    (void)state;
    REQUIRE_FILM(FILM_VIDEO_ONLY);
    m = open_film(FILM_VIDEO_ONLY, 1, 0, &lc);
    take_all_frames(m, 1, NULL, NULL);
    assert_true(dm_media_eof(m));
    serial = dm_media_seek(m, 0.5);
    assert_false(dm_media_eof(m));
    n = take_all_frames(m, serial, &first, NULL);
    assert_float_equal(first, 0.5, 0.001);
    assert_true(abs(n - (FRAMES - 12)) <= 1);
    dm_media_close(&m);
}

static void test_refresh_paused_and_seek(void **state)
{
    log_capture lc = {0, 0};
    dm_media *m;
    dm_frame_info info;
    double remaining = 0.01;
    int serial;
    (void)state;
    REQUIRE_FILM(FILM_VIDEO_ONLY);
    m = open_film(FILM_VIDEO_ONLY, 1, 0, &lc);
    assert_null(dm_media_video_current(m, NULL));
    /* The first frame of a serial is due at once. */
    assert_int_equal(dm_media_video_peek(m, &info, 1), DM_MEDIA_OK);
    assert_int_equal(dm_media_video_refresh(m, &remaining), DM_MEDIA_OK);
    assert_non_null(dm_media_video_current(m, &info));
    assert_float_equal(info.pts, 0.0, 0.001);
    /* Paused: nothing new, however long we wait. */
    dm_media_set_paused(m, 1);
    assert_true(dm_media_is_paused(m));
    assert_int_equal(dm_media_video_peek(m, NULL, 1), DM_MEDIA_OK);
    assert_int_equal(dm_media_video_refresh(m, &remaining), DM_MEDIA_AGAIN);
    /* A seek while paused still shows the frame at the target. */
    serial = dm_media_seek(m, 1.0);
    assert_float_equal(dm_media_clock(m), 1.0, 1e-9);
    assert_int_equal(dm_media_video_peek(m, NULL, 1), DM_MEDIA_OK);
    assert_int_equal(dm_media_video_refresh(m, &remaining), DM_MEDIA_OK);
    assert_non_null(dm_media_video_current(m, &info));
    assert_int_equal(info.serial, serial);
    assert_float_equal(info.pts, 1.0, 0.001);
    /* ...and the clock stands at that frame while paused. */
    assert_float_equal(dm_media_clock(m), 1.0, 0.001);
    assert_int_equal(dm_media_video_refresh(m, &remaining), DM_MEDIA_AGAIN);
    dm_media_set_paused(m, 0);
    assert_false(dm_media_is_paused(m));
    /* Playing: the first frame after a seek is due at once, whatever the
     * frame before it was (a new serial carries no delay over). */
    serial = dm_media_seek(m, 0.5);
    assert_int_equal(dm_media_video_peek(m, NULL, 1), DM_MEDIA_OK);
    assert_int_equal(dm_media_video_refresh(m, &remaining), DM_MEDIA_OK);
    assert_non_null(dm_media_video_current(m, &info));
    assert_int_equal(info.serial, serial);
    assert_float_equal(info.pts, 0.5, 0.001);
    dm_media_close(&m);
}

static void test_audio_pull_paused_and_speed(void **state)
{
    log_capture lc = {0, 0};
    dm_media *m;
    uint8_t buf[4096];
    (void)state;
    REQUIRE_FILM(FILM_AUDIO_ONLY);
    m = open_film(FILM_AUDIO_ONLY, 0, 1, &lc);
    dm_media_set_paused(m, 1);
    memset(buf, 0x55, sizeof(buf));
    assert_int_equal(dm_media_audio_pull(m, buf, (int)sizeof(buf), 0.0), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0);
    dm_media_set_paused(m, 0);
    /* Away from speed 1 the sound still plays, time-stretched (atempo):
     * real bytes come out, and the audio clock counts film time twice as
     * fast as the samples handed out. */
    assert_float_equal(dm_media_set_speed(m, 2.0), 2.0, 0);
    {
        int real = 0;
        double t0 = NAN, t1, out = 0;
        for (int i = 0; i < 400 && out < 0.5; i++) {
            int got = dm_media_audio_pull(m, buf, (int)sizeof(buf), 0.0);
            if (got > 0 && isnan(t0)) {
                t0 = dm_media_clock(m);
                real = 1;
            } else if (got > 0) {
                out += (double)got / (sizeof(float) * 2 * 48000);
            }
            if (got == 0)
                usleep(5000);
        }
        assert_true(real);
        t1 = dm_media_clock(m);
        print_message("speed 2: %.3f s of sound moved the clock %.3f s\n", out, t1 - t0);
        assert_true(out >= 0.5);
        assert_true(fabs((t1 - t0) - 2.0 * out) < 0.05);
    }
    assert_float_equal(dm_media_set_speed(m, 100.0), 4.0, 0);
    assert_float_equal(dm_media_set_speed(m, 1.0), 1.0, 0);
    /* Back at speed 1 real audio flows again (blocking read, no timing). */
    assert_true(dm_media_audio_read(m, buf, (int)sizeof(buf)) > 0);
    dm_media_close(&m);
}

/* Sign changes of the left channel in 0.2 s of sound read from now: 2 per period. */
static double tone_hz(dm_media *m)
{
    static float buf[48000 / 5 * 2];
    int got = dm_media_audio_read(m, (uint8_t *)buf, (int)sizeof(buf)), n = got / (int)(2 * sizeof(float)), changes = 0;
    for (int i = 1; i < n; i++)
        changes += (buf[2 * i] >= 0) != (buf[2 * (i - 1)] >= 0);
    return n ? changes / 2.0 / ((double)n / RATE) : 0;
}

/* --aid: the track chosen at open, one that is not there, and switching while playing (the other tone, none). */
static void test_audio_tracks(void **state)
{
    log_capture lc = {0, 0};
    dm_media_options opt = {capture_log, &lc, 0, 2};
    dm_media_output out = {1, RATE, CHANNELS, DM_AUDIO_F32};
    dm_media *m = NULL;
    char err[256] = "", name[128];
    double hz;
    (void)state;
    REQUIRE_FILM(FILM_TWO_AUDIO);
    opt.audio_track = 3;
    assert_true(dm_media_open(&m, g_path[FILM_TWO_AUDIO], &opt, err, sizeof(err)) < 0);
    assert_null(m);
    assert_non_null(strstr(err, "no audio track 3 (it has 2)"));
    opt.audio_track = 2;
    assert_int_equal(dm_media_open(&m, g_path[FILM_TWO_AUDIO], &opt, err, sizeof(err)), 0);
    assert_int_equal(dm_media_get_info(m)->audio_tracks, 2);
    assert_int_equal(dm_media_get_info(m)->audio_track, 2);
    dm_media_audio_track_name(m, 2, name, sizeof(name));
    print_message("track 2: %s\n", name);
    assert_non_null(strstr(name, "2/2 jpn aac"));
    assert_int_equal(dm_media_start(m, &out, err, sizeof(err)), 0);
    assert_int_equal(dm_media_audio_track(m), 2);
    tone_hz(m);   /* (past the encoder's start) */
    hz = tone_hz(m);
    print_message("track 2: %.0f Hz\n", hz);
    assert_true(fabs(hz - 1000) < 30);
    /* switched while playing: the other stream's sound from now on */
    assert_int_equal(dm_media_set_audio_track(m, 1, err, sizeof(err)), 1);
    assert_int_equal(dm_media_audio_track(m), 1);
    hz = tone_hz(m);
    print_message("track 1: %.0f Hz\n", hz);
    assert_true(fabs(hz - 440) < 20);
    assert_int_equal(dm_media_set_audio_track(m, 0, err, sizeof(err)), 0);
    assert_int_equal(dm_media_audio_track(m), 0);
    assert_true(dm_media_set_audio_track(m, 3, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "no audio track 3"));
    assert_int_equal(lc.decode_errors, 0);
    dm_media_close(&m);
}

static void test_png_roundtrip(void **state)
{
    const int w = 37, h = 21, stride = w * 4 + 12;
    uint8_t *img = calloc((size_t)stride * h, 1), *back = NULL;
    char path[320], err[256] = "";
    int bw = 0, bh = 0;
    (void)state;
    assert_non_null(img);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img + y * stride + x * 4;
            p[0] = (uint8_t)(x * 7);
            p[1] = (uint8_t)(y * 11);
            p[2] = (uint8_t)(x ^ y);
            p[3] = (uint8_t)(255 - x * 3);
        }
    snprintf(path, sizeof(path), "%s/roundtrip.png", g_dir);
    assert_int_equal(dm_png_write(path, img, w, h, stride, err, sizeof(err)), 0);
    assert_int_equal(dm_png_read(path, &back, &bw, &bh, err, sizeof(err)), 0);
    assert_int_equal(bw, w);
    assert_int_equal(bh, h);
    for (int y = 0; y < h; y++)
        assert_memory_equal(back + y * w * 4, img + y * stride, (size_t)w * 4);
    free(back);
    free(img);
}

static void test_png_errors(void **state)
{
    uint8_t px[4] = {1, 2, 3, 4};
    uint8_t *out = NULL;
    char err[256] = "";
    int w, h;
    (void)state;
    assert_true(dm_png_write("/nonexistent-dir/x.png", px, 1, 1, 4, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "/nonexistent-dir/x.png"));
    assert_true(dm_png_write("/tmp/x.png", px, 1, 1, 2, err, sizeof(err)) < 0);
    REQUIRE_FILM(FILM_GARBAGE);
    assert_true(dm_png_read(g_path[FILM_GARBAGE], &out, &w, &h, err, sizeof(err)) < 0);
    assert_null(out);
}

static void test_frame_conversion(void **state)
{
    log_capture lc = {0, 0};
    dm_media *m;
    AVFrame *f = av_frame_alloc(), *yuv = av_frame_alloc();
    struct SwsContext *sws = NULL, *sws2 = NULL;
    dm_frame_info info;
    uint8_t *rgba = malloc(160 * 120 * 4);
    char path[320], err[256] = "";
    (void)state;
    REQUIRE_FILM(FILM_VP9_OPUS_WEBM);
    assert_non_null(rgba);
    m = open_film(FILM_VP9_OPUS_WEBM, 1, 0, &lc);
    assert_int_equal(dm_media_video_take(m, f, &info, 1), DM_MEDIA_OK);
    assert_true(info.needs_convert);
    assert_int_equal(dm_frame_to_yuv420p(&sws, f, yuv), 0);
    assert_int_equal(yuv->format, AV_PIX_FMT_YUV420P);
    assert_int_equal(yuv->width, 320);
    assert_true(dm_pix_fmt_is_direct((enum AVPixelFormat)yuv->format));
    assert_int_equal(dm_frame_to_rgba(&sws2, f, rgba, 160, 120, 160 * 4), 0);
    for (int i = 0; i < 160 * 120; i++)
        assert_int_equal(rgba[i * 4 + 3], 255);
    snprintf(path, sizeof(path), "%s/frame.png", g_dir);
    assert_int_equal(dm_png_write(path, rgba, 160, 120, 160 * 4, err, sizeof(err)), 0);
    sws_freeContext(sws);
    sws_freeContext(sws2);
    av_frame_free(&f);
    av_frame_free(&yuv);
    free(rgba);
    dm_media_close(&m);
}

static void test_close_while_running(void **state)
{
    log_capture lc = {0, 0};
    dm_media *m;
    (void)state;
    REQUIRE_FILM(FILM_H264_AAC_MP4);
    /* Threads blocked on full queues must wind down on close. */
    m = open_film(FILM_H264_AAC_MP4, 1, 1, &lc);
    assert_int_equal(dm_media_video_peek(m, NULL, 1), DM_MEDIA_OK);
    dm_media_close(&m);
    assert_null(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_missing_file),
        cmocka_unit_test(test_open_garbage),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_h264_aac_mp4),
        cmocka_unit_test(test_hevc_opus_mkv),
        cmocka_unit_test(test_vp9_opus_webm),
        cmocka_unit_test(test_av1_mp3_mkv),
        cmocka_unit_test(test_h264_mp3_mkv),
        cmocka_unit_test(test_video_only),
        cmocka_unit_test(test_audio_only),
        cmocka_unit_test(test_truncated_mkv),
        cmocka_unit_test(test_truncated_mp4),
        cmocka_unit_test(test_corrupt_logs_once),
        cmocka_unit_test(test_seek_accurate),
        cmocka_unit_test(test_seek_drops_stale_frames),
        cmocka_unit_test(test_seek_after_eof),
        cmocka_unit_test(test_refresh_paused_and_seek),
        cmocka_unit_test(test_audio_pull_paused_and_speed),
        cmocka_unit_test(test_audio_tracks),
        cmocka_unit_test(test_png_roundtrip),
        cmocka_unit_test(test_png_errors),
        cmocka_unit_test(test_frame_conversion),
        cmocka_unit_test(test_close_while_running),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
