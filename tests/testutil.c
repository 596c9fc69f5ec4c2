/* testutil.c - helpers shared by the unit tests (see testutil.h). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dm_test_measure(void *ud, const char *text, int height_px, int *w, int *h)
{
    const unsigned char *s = (const unsigned char *)text;
    double width = 0;
    int lines = 1;
    double line = 0;

    (void)ud;
    while (*s) {
        unsigned cp;
        int n;
        if (*s < 0x80) { cp = *s; n = 1; }
        else if ((*s & 0xE0) == 0xC0) { cp = *s & 0x1F; n = 2; }
        else if ((*s & 0xF0) == 0xE0) { cp = *s & 0x0F; n = 3; }
        else { cp = *s & 0x07; n = 4; }
        for (int i = 1; i < n && s[i]; i++)
            cp = (cp << 6) | (s[i] & 0x3F);
        for (int i = 0; i < n && *s; i++)
            s++;
        if (cp == '\n') {
            if (line > width)
                width = line;
            line = 0;
            lines++;
            continue;
        }
        if (cp < 0x80)
            line += 0.55 * height_px;
        else if (cp >= 0x2E80)
            line += 1.0 * height_px;
        else
            line += 0.8 * height_px;
    }
    if (line > width)
        width = line;
    *w = (int)(width + 0.5) + 4;
    *h = height_px * lines;
    return 0;
}

char *dm_test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        }
        if (buf) {
            buf[size] = 0;
            if (len)
                *len = (size_t)size;
        }
    }
    fclose(f);
    return buf;
}

const char *dm_test_track_path(const char *name)
{
    static char path[4096];
    const char *dir = getenv("DM_TRACKS_DIR");

    snprintf(path, sizeof path, "%s/%s", dir ? dir : "../shared/data/tracks", name);
    return path;
}
