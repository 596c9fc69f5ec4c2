/* error.c - error names and the diagnostics sink shared by readers and writers. */
#include "danmaku.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *dm_strerror(int err)
{
    switch (err) {
    case DM_OK: return "success";
    case DM_ENOMEM: return "out of memory";
    case DM_EIO: return "input/output error";
    case DM_EPARSE: return "malformed input";
    case DM_EINVAL: return "invalid argument";
    case DM_EFORMAT: return "unknown or unsupported format";
    case DM_ETOOBIG: return "input too large";
    default: return "unknown error";
    }
}

void dm_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void dm_diag_error(dm_diag *diag, const char *fmt, ...)
{
    va_list ap;

    if (!diag || diag->error[0])  /* keep the first, most specific, error */
        return;
    va_start(ap, fmt);
    vsnprintf(diag->error, sizeof diag->error, fmt, ap);
    va_end(ap);
}

void dm_diag_warn(dm_diag *diag, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!diag)
        return;
    diag->warnings++;
    if (!diag->warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag->warn(diag->warn_ud, msg);
}
