/*
 * av_lazy.h - FFmpeg's libraries, loaded when a program first needs them.
 *
 * The track converter reads a film's subtitles (--sub) with libavformat and
 * libavcodec, and nothing else of FFmpeg. Linked in, those libraries and
 * the hundred-odd codec libraries they bring load at every start: about
 * 40 ms of a conversion that otherwise takes a few tens. Film subtitles and
 * the version text reach them through this table instead, filled with
 * dlsym() from the same shared libraries (the sonames this was built
 * against) on first use; a program already linked with them (the player,
 * burn-in) gets the copies it has.
 *
 * The table's members are the library functions themselves, with their
 * own types (from FFmpeg's headers):
 *
 *     const dm_av *av = dm_av_load(err, sizeof err);
 *     if (!av)
 *         return error(err);
 *     av->avformat_open_input(&ic, path, NULL, NULL);
 *
 * Thread-safe: loaded once (pthread_once); the table is read-only after.
 */
#ifndef DM_AV_LAZY_H
#define DM_AV_LAZY_H

#include <stddef.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/dict.h>
#include <libavutil/mem.h>

/* X(library, function): every FFmpeg function the lazy users call. */
#define DM_AV_FUNCTIONS(X)                                                                              \
    X(avutil, avutil_version) X(avutil, av_dict_get) X(avutil, av_free) X(avutil, av_freep)             \
    X(avutil, av_malloc) X(avutil, av_rescale_q_rnd) X(avutil, av_strerror) X(avutil, av_stristr)       \
    X(avutil, av_strlcpy)                                                                               \
    X(avcodec, avcodec_version) X(avcodec, av_packet_alloc) X(avcodec, av_packet_clone)                 \
    X(avcodec, av_packet_free) X(avcodec, av_packet_unref) X(avcodec, avcodec_alloc_context3)           \
    X(avcodec, avcodec_decode_subtitle2) X(avcodec, avcodec_descriptor_get)                             \
    X(avcodec, avcodec_find_decoder) X(avcodec, avcodec_free_context) X(avcodec, avcodec_get_name)      \
    X(avcodec, avcodec_open2) X(avcodec, avcodec_parameters_alloc) X(avcodec, avcodec_parameters_copy)  \
    X(avcodec, avcodec_parameters_free) X(avcodec, avcodec_parameters_to_context)                       \
    X(avcodec, avsubtitle_free)                                                                         \
    X(avformat, avformat_version) X(avformat, av_find_best_stream) X(avformat, av_find_input_format)    \
    X(avformat, av_read_frame) X(avformat, avformat_alloc_context) X(avformat, avformat_close_input)    \
    X(avformat, avformat_find_stream_info) X(avformat, avformat_open_input)                             \
    X(avformat, avio_alloc_context) X(avformat, avio_context_free)

typedef struct dm_av {
#define DM_AV_MEMBER(lib, fn) __typeof__(fn) *fn;
    DM_AV_FUNCTIONS(DM_AV_MEMBER)
#undef DM_AV_MEMBER
} dm_av;

/*
 * The table, the libraries loaded on the first call; NULL when one of them
 * or one of its functions cannot be found, with the reason in err (the
 * library's file name and dlerror()'s text) on every call.
 */
const dm_av *dm_av_load(char *err, size_t errlen);

/* The table once dm_av_load has succeeded; NULL before. */
const dm_av *dm_av_loaded(void);

#endif
