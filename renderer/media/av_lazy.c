/*
 * av_lazy.c - FFmpeg's libraries loaded on first use (see av_lazy.h).
 */
#include "av_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include <libavutil/macros.h>

#define SONAME(lib, major) "lib" #lib ".so." AV_STRINGIFY(major)

static dm_av table;
static const dm_av *loaded;
static char failure[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    /* opened in dependency order; a handle's dlsym() also finds what the library depends on */
    static const char *const names[3] = {
        SONAME(avutil, LIBAVUTIL_VERSION_MAJOR),
        SONAME(avcodec, LIBAVCODEC_VERSION_MAJOR),
        SONAME(avformat, LIBAVFORMAT_VERSION_MAJOR),
    };
    void *handles[3];

    for (int i = 0; i < 3; i++) {
        if (!(handles[i] = dlopen(names[i], RTLD_NOW | RTLD_LOCAL))) {
            const char *why = dlerror();
            snprintf(failure, sizeof failure, "FFmpeg's %s could not be loaded: %s", names[i],
                     why ? why : "unknown error");
            return;
        }
    }
    {
        void *avutil = handles[0], *avcodec = handles[1], *avformat = handles[2];
#define DM_AV_RESOLVE(lib, fn)                                                                      \
        if (!(*(void **)&table.fn = dlsym(lib, #fn))) {                                             \
            snprintf(failure, sizeof failure, "FFmpeg's lib" #lib " has no function " #fn);         \
            return;                                                                                 \
        }
        DM_AV_FUNCTIONS(DM_AV_RESOLVE)
#undef DM_AV_RESOLVE
    }
    loaded = &table;
}

const dm_av *dm_av_load(char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (!loaded && err && errlen)
        snprintf(err, errlen, "%s", failure);
    return loaded;
}

const dm_av *dm_av_loaded(void)
{
    return loaded;
}
