/* fuzz_subs_file.c - libFuzzer target for the external subtitle readers: the
 * bytes go through what dm_subs does to a .srt/.ass/.ssa/.vtt file (encoding
 * detection or a forced codepage, iconv, libavformat's reader from memory,
 * libavcodec's decoder, the event checks) and, for inputs that ask, through
 * libass drawing and the obstacle walk on a small stage (for tracks of up
 * to 32 events). The first byte
 * chooses: bits 0-1 the format, bit 2 a forced GBK codepage, bit 3 drawing.
 * Whatever the input: no crash, no leak, and what was read is consistent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subs.h"

/* Subtitle files are small; larger inputs only slow each run down. */
#define FUZZ_MAX_BYTES (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ud, int level, const char *message)
{
    (void)ud;
    (void)level;
    (void)message;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const formats[] = {"srt", "ass", "ssa", "vtt"};
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    dm_subs *s = NULL;
    dm_subs_track t;
    char err[256];
    unsigned sel;

    if (size < 1 || size > FUZZ_MAX_BYTES)
        return 0;
    sel = data[0];
    o.log = quiet;
    o.codepage = (sel & 4) ? "GBK" : NULL;
    o.video_w = 320;
    o.video_h = 180;
    o.anim_step_ms = 500;  /* bounds the walk of moving events */
    err[0] = 0;
    if (dm_subs_open_memory(&s, data + 1, size - 1, formats[sel & 3], "fuzz", &o, err, sizeof err) != 0) {
        if (s || !err[0])
            abort();  /* a refusal leaves nothing and says why */
        return 0;
    }
    if (dm_subs_track_count(s) != 1 || dm_subs_track_get(s, 1, &t) != 0 || t.events == 0 ||
        dm_subs_sid(s) != 1)
        abort();
    /* drawing costs grow with the events on screen together: bounded here
     * so that each run stays short */
    if ((sel & 8) && t.events <= 32) {
        dm_subs_frame f;
        dm_obstacle *ob = NULL;
        size_t n = 0;
        int ch;
        if (dm_subs_obstacles(s, 96, 54, &ob, &n, NULL, 0) != 0)
            abort();
        for (size_t i = 0; i < n; i++) {
            if (ob[i].x < 0 || ob[i].y < 0 || ob[i].w <= 0 || ob[i].h <= 0 || ob[i].x + ob[i].w > 96 ||
                ob[i].y + ob[i].h > 54 || ob[i].end_ms <= ob[i].start_ms ||
                (i && ob[i].start_ms < ob[i - 1].start_ms))
                abort();
        }
        for (size_t i = 0; i < n && i < 4; i++)
            if (dm_subs_render(s, ob[i].start_ms, 96, 54, &f, &ch) != 0)
                abort();
        if (dm_subs_render(s, 0, 96, 54, &f, &ch) != 0)
            abort();
        free(ob);
    }
    dm_subs_destroy(&s);
    return 0;
}
