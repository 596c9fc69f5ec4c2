/* testutil.c - helpers shared by the unit tests (see testutil.h). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

char *dm_test_scene_dump(dm_scene *scene)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int err;

    if (!f)
        return NULL;
    err = dm_scene_dump(scene, f, "test", 2);
    if (fclose(f) || err) {
        free(buf);
        return NULL;
    }
    return buf;
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

const char *dm_test_suite_track(const char *spec)
{
    static char path[4096];
    struct stat st;
    const char *dir;

    if (!strncmp(spec, "gen:", 4)) {
        dir = getenv("DM_GEN_TRACKS_DIR");
        snprintf(path, sizeof path, "%s/%s", dir ? dir : "tracks", spec + 4);
        return path;
    }
    if (!strncmp(spec, "real:", 5))
        spec += 5;
    /* only the tests labelled `shared` are told where the real tracks are (tests/CMakeLists.txt) */
    dir = getenv("DM_TRACKS_DIR");
    if (!dir || !dir[0]) {
        printf("skipped: the real track %s: DM_TRACKS_DIR is not set (the real tracks come from "
               "../shared/data/tracks, for the tests labelled shared)\n", spec);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", dir, spec);
    if (stat(path, &st) == 0)
        return path;
    printf("skipped: the real track %s is not there (the real tracks come from ../shared/data/tracks, "
           "or DM_TRACKS_DIR)\n", path);
    return NULL;
}

static double test_x_at(const dm_placed *p, double t)
{
    return p->x_start + (p->x_end - p->x_start) * (t - p->start_ms) / (double)(p->end_ms - p->start_ms);
}

double dm_test_clash(const dm_placed *a, const dm_placed *b, double eps)
{
    double t0 = (double)(a->start_ms > b->start_ms ? a->start_ms : b->start_ms);
    double t1 = (double)(a->end_ms < b->end_ms ? a->end_ms : b->end_ms);
    double lo = t0, hi = t1;

    if (t1 <= t0)
        return NAN;
    if (a->y + a->h <= b->y + eps || b->y + b->h <= a->y + eps)
        return NAN;
    for (int k = 0; k < 2; k++) {
        const dm_placed *p = k ? a : b, *q = k ? b : a;
        double f0 = test_x_at(p, t0) + p->w - test_x_at(q, t0) - eps;
        double f1 = test_x_at(p, t1) + p->w - test_x_at(q, t1) - eps;
        double cross;
        if (f0 <= 0 && f1 <= 0)
            return NAN;
        if (f0 > 0 && f1 > 0)
            continue;
        cross = t0 + (t1 - t0) * f0 / (f0 - f1);
        if (f0 > 0)
            hi = hi < cross ? hi : cross;
        else
            lo = lo > cross ? lo : cross;
    }
    return hi - lo > 1e-6 ? lo : NAN;
}

/* Overlapping pairs in one layer whose modes are the same (same = 1) or differ (same = 0). */
static int count_pairs(const dm_placed *p, size_t n, int same)
{
    int overlaps = 0;

    for (size_t i = 0; i < n; i++) {
        if (!p[i].shown || p[i].mode == DM_MODE_POSITIONED)
            continue;
        for (size_t j = i + 1; j < n; j++) {
            if (!p[j].shown || p[j].mode == DM_MODE_POSITIONED || (p[j].mode == p[i].mode) != same ||
                p[j].layer != p[i].layer)
                continue;
            if (!isnan(dm_test_clash(&p[i], &p[j], 0.5)))
                overlaps++;
        }
    }
    return overlaps;
}

int dm_test_count_overlaps(const dm_placed *p, size_t n)
{
    return count_pairs(p, n, 1);
}

int dm_test_count_cross_mode(const dm_placed *p, size_t n)
{
    return count_pairs(p, n, 0);
}

int dm_test_obstacle_hits(const dm_placed *p, size_t n, const dm_obstacle *obs, size_t nobs)
{
    int hits = 0;

    for (size_t k = 0; k < nobs; k++) {
        /* an obstacle is a box that does not move: a fixed comment's shape */
        dm_placed box = { .shown = 1, .y = obs[k].y, .w = obs[k].w, .h = obs[k].h, .x_start = obs[k].x,
                          .x_end = obs[k].x, .start_ms = obs[k].start_ms, .end_ms = obs[k].end_ms };
        for (size_t i = 0; i < n; i++)
            if (p[i].shown && p[i].mode != DM_MODE_POSITIONED && !isnan(dm_test_clash(&box, &p[i], 0.5)))
                hits++;
    }
    return hits;
}

static void collect_warning(void *ud, const char *message)
{
    dm_test_warnings *log = ud;
    int n = snprintf(log->text + log->len, sizeof log->text - log->len, "%s\n", message);

    if (n > 0 && log->len + (size_t)n < sizeof log->text)
        log->len += (size_t)n;
}

void dm_test_diag_init(dm_diag *diag, dm_test_warnings *log)
{
    memset(diag, 0, sizeof *diag);
    memset(log, 0, sizeof *log);
    diag->warn = collect_warning;
    diag->warn_ud = log;
}
