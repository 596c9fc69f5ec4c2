/*
 * version.c - the --version text of every program (see dm_version.h).
 */
#include "dm_version.h"

#include <string.h>

#include <SDL.h>
#include <SDL_ttf.h>
#include <ass/ass.h>
#include <hb.h>
#include <libavfilter/avfilter.h>

#include "av_lazy.h"
#ifdef DM_HAVE_LIVE
#include <libwebsockets.h>
#endif

/* Weak: libavfilter's line is there when the program links libavfilter (the
 * player and the burn-in filter their audio and video). danmaku-convert does
 * not use it and links without it (-Wl,--as-needed): loading libavfilter and
 * the libraries it brings in was most of the converter's start-up time. */
#pragma weak avfilter_version

#ifndef DM_VERSION
#error "DM_VERSION: the project's version, from CMake"
#endif

static void av_line(FILE *f, const char *name, unsigned v)
{
    fprintf(f, "  %-15s %u.%u.%u\n", name, AV_VERSION_MAJOR(v), AV_VERSION_MINOR(v), AV_VERSION_MICRO(v));
}

void dm_print_version(FILE *f, const char *program)
{
    SDL_version sdl;
    const SDL_version *ttf = TTF_Linked_Version();
    /* libass: 0xMmmppxxx, the digits of each part in hex (0x01701000 is 0.17.1) */
    unsigned ass = (unsigned)ass_library_version();

    fprintf(f, "%s %s\n", program, DM_VERSION);
    fputs("libraries:\n", f);
    {
        /* through the lazily loaded table: the converter loads FFmpeg only for this and --sub */
        char err[512];
        const dm_av *av = dm_av_load(err, sizeof err);
        if (av) {
            av_line(f, "libavformat", av->avformat_version());
            av_line(f, "libavcodec", av->avcodec_version());
            av_line(f, "libavutil", av->avutil_version());
        } else {
            fprintf(f, "  %-15s %s\n", "FFmpeg", err);
        }
    }
    if (avfilter_version)
        av_line(f, "libavfilter", avfilter_version());
    SDL_GetVersion(&sdl);
    fprintf(f, "  %-15s %u.%u.%u\n", "SDL2", sdl.major, sdl.minor, sdl.patch);
    fprintf(f, "  %-15s %u.%u.%u\n", "SDL2_ttf", ttf->major, ttf->minor, ttf->patch);
    fprintf(f, "  %-15s %s\n", "HarfBuzz", hb_version_string());
    fprintf(f, "  %-15s %x.%x.%x\n", "libass", ass >> 28, (ass >> 20) & 0xff, (ass >> 12) & 0xff);
#ifdef DM_HAVE_LIVE
    {
        /* "4.1.6-" or "4.3.2-v4.3.2": the number up to the first dash */
        const char *lws = lws_get_library_version();
        fprintf(f, "  %-15s %.*s\n", "libwebsockets", (int)strcspn(lws, "-"), lws);
    }
#endif
}
