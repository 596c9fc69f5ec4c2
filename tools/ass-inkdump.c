/*
 * ass-inkdump - the boxes libass actually draws for each event of an ASS
 * file, as a layout dump (../shared/LAYOUT-DUMP.md), so that the layout
 * checker can count the overlaps a viewer of that file sees in mpv, VLC or
 * ffmpeg's ass filter. Works on any tool's ASS (ours, danmaku2ass's,
 * DanmakuFactory's).
 *
 *     ass-inkdump FILE.ass -o DUMP.jsonl
 *
 * Each event is rendered alone, still at a point of a frame far wider than
 * the stage at one script unit a pixel (so a comment partly off the stage
 * is drawn whole), and its box is the bounding box of its ink, moved to
 * where the event's \pos or \move puts it: libass only translates a
 * comment as it moves. A moving event (\move) is written
 * as up to three lines: still at its start position until the motion
 * begins, moving, still at its end position; they touch only end to start,
 * so they never count against each other. The mode of each line comes from
 * the event's Name when it names one (danmaku writes it), else from the
 * motion (left: scroll, right: reverse) or, for a still event, from where
 * it stands (\an8 or the upper half: top; else bottom). Events on a layer
 * above 1, or with \pos and a fade (\fad, \t), are "positioned".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ass/ass.h>

#include "ass_measure.h"

#define PROG "ass-inkdump"
#define FAR_AWAY (1LL << 50)
#define WIDE 16384           /* a frame this wide at one unit a pixel: every comment is drawn whole */
#define ANCHOR_X 2000        /* where a comment is drawn in it */

static void quiet(int level, const char *fmt, va_list va, void *ud)
{
    (void)level;
    (void)fmt;
    (void)va;
    (void)ud;
}

/* The first \move or \pos of the event's text: 1 move, 2 pos, 0 none. */
static int motion_of(const char *text, double *x1, double *y1, double *x2, double *y2, long long *t1,
                     long long *t2)
{
    const char *mv = strstr(text, "\\move("), *ps = strstr(text, "\\pos(");

    *t1 = *t2 = -1;
    if (mv && (!ps || mv < ps)) {
        int n = sscanf(mv, "\\move(%lf,%lf,%lf,%lf,%lld,%lld", x1, y1, x2, y2, t1, t2);
        if (n >= 4) {
            if (n < 6)
                *t1 = *t2 = -1;
            return 1;
        }
    }
    if (ps && sscanf(ps, "\\pos(%lf,%lf", x1, y1) == 2) {
        *x2 = *x1;
        *y2 = *y1;
        return 2;
    }
    return 0;
}

static const char *mode_of(const ASS_Event *ev, int kind, double x1, double x2, double y, int play_h)
{
    static const char *const names[] = { "scroll", "reverse", "top", "bottom", "positioned" };

    for (size_t i = 0; ev->Name && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(ev->Name, names[i]))
            return names[i];
    if (ev->Layer > 1 || (kind == 2 && (strstr(ev->Text, "\\fad") || strstr(ev->Text, "\\t("))))
        return "positioned";
    if (kind == 1 && x2 < x1)
        return "scroll";
    if (kind == 1 && x2 > x1)
        return "reverse";
    if (strstr(ev->Text, "\\an8"))
        return "top";
    if (strstr(ev->Text, "\\an2"))
        return "bottom";
    return y < play_h / 2.0 ? "top" : "bottom";
}

static void write_line(FILE *out, long id, int seg, const char *mode, long long start, long long end, int x0,
                       int x1, int y, int w, int h)
{
    if (end <= start)
        return;
    fprintf(out,
            "{\"type\":\"comment\",\"id\":\"%ld.%d\",\"t_ms\":%lld,\"mode\":\"%s\",\"text\":\"event %ld\","
            "\"shown\":true,\"start_ms\":%lld,\"end_ms\":%lld,\"y\":%d,\"w\":%d,\"h\":%d,\"x_start\":%d,"
            "\"x_end\":%d}\n",
            id, seg, start, mode, id, start, end, y, w, h, x0, x1);
}

int main(int argc, char **argv)
{
    const char *in = NULL, *outp = NULL;
    ASS_Library *lib;
    ASS_Renderer *r;
    ASS_Track *track;
    long long *starts;
    FILE *out;
    long lines = 0;
    int stage_w;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            outp = argv[++i];
        else if (argv[i][0] != '-' && !in)
            in = argv[i];
        else {
            fprintf(stderr, "usage: " PROG " FILE.ass -o DUMP.jsonl\n");
            return 2;
        }
    }
    if (!in || !outp) {
        fprintf(stderr, "usage: " PROG " FILE.ass -o DUMP.jsonl\n");
        return 2;
    }
    lib = ass_library_init();
    ass_set_message_cb(lib, quiet, NULL);
    r = ass_renderer_init(lib);
    track = ass_read_file(lib, (char *)in, "UTF-8");
    if (!track) {
        fprintf(stderr, PROG ": %s: not an ASS file libass can read\n", in);
        return 1;
    }
    if (track->PlayResX <= 0 || track->PlayResY <= 0) {
        fprintf(stderr, PROG ": %s: no PlayResX/PlayResY\n", in);
        return 1;
    }
    stage_w = track->PlayResX;
    track->PlayResX = WIDE;
    ass_set_frame_size(r, WIDE, track->PlayResY);
    ass_set_storage_size(r, WIDE, track->PlayResY);
    ass_set_fonts(r, NULL, "sans-serif", ASS_FONTPROVIDER_AUTODETECT, NULL, 1);
    out = fopen(outp, "w");
    starts = malloc(((size_t)track->n_events + 1) * sizeof *starts);
    if (!out || !starts) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", outp, strerror(errno));
        return 1;
    }
    /* every event away, then each one back alone in turn */
    for (int i = 0; i < track->n_events; i++) {
        starts[i] = track->events[i].Start;
        track->events[i].Start = FAR_AWAY;
    }
    /* the stage line's input_count must count the comment lines: written after them */
    {
        char *body = NULL;
        size_t len = 0;
        FILE *b = open_memstream(&body, &len);
        for (int i = 0; b && i < track->n_events; i++) {
            ASS_Event *ev = &track->events[i];
            double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
            long long t1, t2, s = starts[i], e = starts[i] + ev->Duration, at;
            int kind = motion_of(ev->Text ? ev->Text : "", &x1, &y1, &x2, &y2, &t1, &t2), changed;
            int bx0, by0, bx1, by1;
            const char *mode;
            ASS_Image *img;

            char *text = ev->Text, *still = NULL;
            ev->Start = s;
            if (kind == 1 && t1 < 0) {   /* \move over the whole event */
                t1 = 0;
                t2 = ev->Duration;
            }
            if (kind) {
                /* the same text, still at (ANCHOR_X, y1) */
                const char *tag = strstr(text, kind == 1 ? "\\move(" : "\\pos("), *close = strchr(tag, ')');
                size_t n = strlen(text) + 64;
                still = malloc(n);
                if (!still || !close)
                    continue;
                snprintf(still, n, "%.*s\\pos(%d,%g)%s", (int)(tag - text), text, ANCHOR_X, y1, close + 1);
                ev->Text = still;
            }
            at = s + ev->Duration / 2;   /* any fade-in is over */
            img = ass_render_frame(r, track, at, &changed);
            ev->Text = text;
            free(still);
            if (dm_ass_ink_box(img, &bx0, &by0, &bx1, &by1) == 0) {
                if (kind) {
                    bx1 += (int)x1 - ANCHOR_X;
                    bx0 += (int)x1 - ANCHOR_X;
                }
                mode = mode_of(ev, kind, x1, x2, by0, track->PlayResY);
                if (kind == 1 && x1 != x2) {
                    int off = bx0 - (int)x1, end_x = (int)x2 + off;
                    long long m0 = s + (t1 > 0 ? t1 : 0), m1 = s + (t2 < ev->Duration ? t2 : ev->Duration);
                    write_line(b, i, 0, mode, s, m0, bx0, bx0, by0, bx1 - bx0, by1 - by0);
                    write_line(b, i, 1, mode, m0, m1, bx0, end_x, by0, bx1 - bx0, by1 - by0);
                    write_line(b, i, 2, mode, m1, e, end_x, end_x, by0, bx1 - bx0, by1 - by0);
                    lines += (m0 > s) + (m1 > m0) + (e > m1);
                } else {
                    write_line(b, i, 0, mode, s, e, bx0, bx0, by0, bx1 - bx0, by1 - by0);
                    lines += e > s;
                }
            }
            ev->Start = FAR_AWAY;
        }
        if (!b || fclose(b)) {
            fprintf(stderr, PROG ": out of memory\n");
            return 1;
        }
        fprintf(out, "{\"type\":\"stage\",\"width\":%d,\"height\":%d,\"input_count\":%ld,\"source\":\"libass\"}\n",
                stage_w, track->PlayResY, lines);
        fwrite(body, 1, len, out);
        free(body);
    }
    if (fclose(out)) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", outp, strerror(errno));
        return 1;
    }
    free(starts);
    ass_free_track(track);
    ass_renderer_done(r);
    ass_library_done(lib);
    return 0;
}
