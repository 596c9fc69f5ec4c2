/*
 * data_dir.c - the data folder's lookup (see data_dir.h).
 */
#include "data_dir.h"

#include "danmaku.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set by the build (renderer/danmaku/CMakeLists.txt). */
#ifndef DM_BUILD_DIR
#error "DM_BUILD_DIR: the build folder, from CMake"
#endif
#ifndef DM_SOURCE_ASSETS_DIR
#error "DM_SOURCE_ASSETS_DIR: the checkout's assets folder, from CMake"
#endif
#ifndef DM_DATA_RELDIR
#error "DM_DATA_RELDIR: the data folder relative to the programs' folder, from CMake"
#endif

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder the running program is in (resolved), or "" when it cannot be told. */
static void exe_dir(char *out, size_t outlen)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash;

    out[0] = '\0';
    if (n <= 0 || (size_t)n >= sizeof exe - 1)
        return;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    if ((size_t)(slash - exe) < outlen)
        memcpy(out, exe, (size_t)(slash - exe) + 1);
}

/* Whether dir is the build folder or inside it. */
static int in_build_tree(const char *dir)
{
    char build[PATH_MAX];
    size_t n;

    if (!realpath(DM_BUILD_DIR, build))
        return 0;
    n = strlen(build);
    return strncmp(dir, build, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

const char *dm_data_dir(char *err, size_t errlen)
{
    static char found[PATH_MAX + 64];
    char dir[PATH_MAX], installed[PATH_MAX + 64];
    const char *env = getenv("DANMAKU_DATA_DIR");

    if (found[0])
        return found;
    if (env && env[0]) {
        if (!is_dir(env)) {
            dm_set_err(err, errlen, "DANMAKU_DATA_DIR=%s is not a folder", env);
            return NULL;
        }
        snprintf(found, sizeof found, "%s", env);
        return found;
    }
    exe_dir(dir, sizeof dir);
    if (DM_DATA_RELDIR[0] == '/')
        snprintf(installed, sizeof installed, "%s", DM_DATA_RELDIR);
    else
        snprintf(installed, sizeof installed, "%s/%s", dir[0] ? dir : ".", DM_DATA_RELDIR);
    if (is_dir(installed)) {
        char *real = realpath(installed, NULL);
        snprintf(found, sizeof found, "%s", real ? real : installed);
        free(real);
        return found;
    }
    if (dir[0] && in_build_tree(dir) && is_dir(DM_SOURCE_ASSETS_DIR)) {
        snprintf(found, sizeof found, "%s", DM_SOURCE_ASSETS_DIR);
        return found;
    }
    dm_set_err(err, errlen, "no data folder: %s is missing (set DANMAKU_DATA_DIR to the folder with demo/ and web/)",
               installed);
    return NULL;
}

const char *dm_vendor_dir(char *out, size_t outlen, char *err, size_t errlen)
{
    const char *data = dm_data_dir(err, errlen);
    char dir[PATH_MAX];

    if (!data)
        return NULL;
    snprintf(out, outlen, "%s/web/vendor", data);
    if (is_dir(out))
        return out;
    exe_dir(dir, sizeof dir);
    if (dir[0] && in_build_tree(dir)) {
        snprintf(out, outlen, "%s/web/vendor", DM_BUILD_DIR);
        if (is_dir(out))
            return out;
    }
    dm_set_err(err, errlen, "no charting library for the host console: %s is missing (the build copies it from "
               "node_modules: run tools/bootstrap.sh)", out);
    return NULL;
}
