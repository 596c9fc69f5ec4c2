/* test_writers.c - JSONL, Bilibili XML and ASS writers: read -> write -> read
 * round trips on the real tracks (when ../shared is there) and on the
 * generated ones, escaping, and the ASS output parsed back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "danmaku.h"
#include "testutil.h"

/* Tracks of each round trip test case (NULL-terminated): Bilibili ones go through XML too. */
static const char *const real_tracks[] = {
    "real:bilibili-dense-180s.xml", "real:bilibili-comment-506s.xml", "real:bilibili-boss-258s.xml",
    "real:bilibili-burst-111s.xml", "real:niconico-410s.json", NULL,
};
static const char *const gen_tracks[] = {
    "gen:gen-bilibili-dense-180s.xml", "gen:gen-bilibili-long-600s.xml", "gen:gen-niconico-240s.json",
    "gen:gen-dandanplay-120s.json", NULL,
};

/* Everything written to f, as a malloc'd NUL-terminated string. */
static char *file_contents(FILE *f, size_t *len)
{
    long size;
    char *buf;

    assert_int_equal(fflush(f), 0);
    size = ftell(f);
    assert_true(size >= 0);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    rewind(f);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = 0;
    *len = (size_t)size;
    return buf;
}

static void assert_same_str(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_close(double a, double b, double tol)
{
    if (!(a - b <= tol && b - a <= tol))
        fail_msg("%.12g and %.12g differ by more than %g", a, b, tol);
}

/* The comments as the engine sees them are equal; `full` also compares the
 * fields only JSONL carries (count, deleted, pass). */
static void assert_same_comments(const dm_track *a, const dm_track *b, int full)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const dm_comment *x = &a->items[i], *y = &b->items[i];
        assert_int_equal(x->t_ms, y->t_ms);
        assert_int_equal(x->mode, y->mode);
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->color, y->color);
        assert_string_equal(x->text, y->text);
        assert_same_str(x->id, y->id);
        assert_same_str(x->author, y->author);
        assert_int_equal(x->sent, y->sent);
        assert_int_equal(x->pool, y->pool);
        assert_int_equal(x->weight, y->weight);
        if (x->bili_mode)  /* XML gives every comment one; 0 = "not from Bilibili" */
            assert_int_equal(x->bili_mode, y->bili_mode);
        if (full) {
            assert_int_equal(x->count, y->count);
            assert_int_equal(x->deleted, y->deleted);
            assert_int_equal(x->pass, y->pass);
            assert_same_str(x->venue, y->venue);
        }
        assert_int_equal(x->pos == NULL, y->pos == NULL);
        if (x->pos) {
            assert_close(x->pos->x0, y->pos->x0, 1e-9);
            assert_close(x->pos->y0, y->pos->y0, 1e-9);
            assert_close(x->pos->x1, y->pos->x1, 1e-9);
            assert_close(x->pos->y1, y->pos->y1, 1e-9);
            assert_close(x->pos->alpha0, y->pos->alpha0, 1e-6);
            assert_close(x->pos->alpha1, y->pos->alpha1, 1e-6);
            assert_int_equal(x->pos->life_ms, y->pos->life_ms);
            assert_int_equal(x->pos->move_ms, y->pos->move_ms);
            assert_int_equal(x->pos->move_delay_ms, y->pos->move_delay_ms);
            assert_close(x->pos->rotate_z, y->pos->rotate_z, 1e-9);
            assert_close(x->pos->rotate_y, y->pos->rotate_y, 1e-9);
            assert_int_equal(x->pos->outline, y->pos->outline);
        }
    }
}

typedef int (*writer_fn)(const dm_track *, FILE *, dm_diag *);
typedef int (*reader_fn)(dm_track *, const char *, size_t, dm_diag *);

static void round_trip(const dm_track *in, writer_fn write, reader_fn read, int full)
{
    FILE *f = tmpfile();
    dm_track out;
    dm_diag diag = { .warn = NULL };
    size_t len;
    char *buf;

    assert_non_null(f);
    assert_int_equal(write(in, f, &diag), 0);
    buf = file_contents(f, &len);
    fclose(f);
    dm_track_init(&out);
    assert_int_equal(read(&out, buf, len, &diag), 0);
    assert_int_equal(diag.warnings, 0);
    assert_same_comments(in, &out, full);
    dm_track_clear(&out);
    free(buf);
}

/* Read a suite track; 0 when it is not there (a real one without ../shared). */
static int read_suite_track(const char *spec, dm_track *t)
{
    const char *path = dm_test_suite_track(spec);
    dm_diag diag = { .warn = NULL };

    if (!path)
        return 0;
    dm_track_init(t);
    assert_int_equal(dm_read_file(t, path, DM_FORMAT_UNKNOWN, &diag), 0);
    assert_true(t->count > 0);
    return 1;
}

/* Every track of the case through JSONL (all of it) and Bilibili XML (what XML carries). */
static void test_round_trips(void **state)
{
    const char *const *specs = *state;
    int done = 0;

    for (size_t i = 0; specs[i]; i++) {
        dm_track t;
        if (!read_suite_track(specs[i], &t))
            continue;
        round_trip(&t, dm_write_jsonl, dm_read_jsonl, 1);
        if (strstr(specs[i], ".xml"))
            round_trip(&t, dm_write_bilibili_xml, dm_read_bilibili_xml, 0);
        dm_track_clear(&t);
        done++;
    }
    if (!done)
        skip();
}

/* Comments with every awkward feature, built by hand. */
static void make_awkward_track(dm_track *t)
{
    dm_positioned pos = { .x0 = 0, .y0 = 1, .x1 = 1.5, .y1 = -0.25, .alpha0 = 0.5,
                          .alpha1 = 0, .life_ms = 3250, .move_ms = 700, .move_delay_ms = 100,
                          .rotate_z = 45, .rotate_y = -30, .outline = 0 };
    dm_comment c[] = {
        { .t_ms = 0, .mode = DM_MODE_SCROLL, .size = DM_SIZE_NORMAL, .color = 0xFFFFFF,
          .text = "<b>&amp; \"quotes\" 'single'</b>", .id = "1", .author = "a", .weight = -1 },
        { .t_ms = 1001, .mode = DM_MODE_TOP, .size = DM_SIZE_LARGE, .color = 0x123456,
          .text = "two\nlines {\\pos(0,0)} back\\slash", .id = NULL, .author = NULL,
          .weight = 0, .sent = 1700000000, .pool = 2 },
        { .t_ms = 59999, .mode = DM_MODE_POSITIONED, .size = DM_SIZE_SMALL, .color = 0,
          .text = "positioned \xE4\xB8\xAD", .id = "p", .author = "b", .weight = 10,
          .bili_mode = 7, .pos = &pos },
        { .t_ms = 3600000, .mode = DM_MODE_REVERSE, .size = DM_SIZE_NORMAL, .color = 0xFF,
          .text = "]]> </d> -->", .id = "r", .weight = -1, .bili_mode = 6 },
        { .t_ms = 5, .mode = DM_MODE_SCROLL, .size = DM_SIZE_NORMAL, .color = 0xFFFFFF,
          .text = "script", .id = "s", .weight = -1, .bili_mode = 8 },
        { .t_ms = 6, .mode = DM_MODE_SCROLL, .size = DM_SIZE_NORMAL, .color = 0xFFFFFF,
          .text = "mode 3", .id = "m3", .weight = -1, .bili_mode = 3 },
    };

    dm_track_init(t);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        assert_int_equal(dm_track_push(t, &c[i]), 0);
}

static void test_round_trip_awkward(void **state)
{
    dm_track t;

    (void)state;
    make_awkward_track(&t);
    round_trip(&t, dm_write_bilibili_xml, dm_read_bilibili_xml, 0);
    /* JSONL also carries what Bilibili XML cannot. */
    t.items[0].count = 3;
    t.items[1].deleted = DM_DELETED_ON_SCREEN;
    t.items[1].venue = strdup("hall-a");   /* a screening in several halls */
    t.items[2].pass = 2;
    t.items[2].deleted = DM_DELETED_BEFORE;
    round_trip(&t, dm_write_jsonl, dm_read_jsonl, 1);
    dm_track_clear(&t);
}

static void test_xml_escaping_and_commas(void **state)
{
    dm_comment c = { .t_ms = 1234, .size = DM_SIZE_NORMAL, .text = "a<b>&c", .id = "x,y",
                     .author = "u", .weight = -1,
                     .color = 0xFFFFFF };
    dm_track t, back;
    dm_diag diag = { .warn = NULL };
    FILE *f = tmpfile();
    size_t len;
    char *buf;

    (void)state;
    assert_non_null(f);
    dm_track_init(&t);
    assert_int_equal(dm_track_push(&t, &c), 0);
    t.items[0].deleted = 0;
    assert_int_equal(dm_write_bilibili_xml(&t, f, &diag), 0);
    assert_int_equal(diag.warnings, 1);  /* the comma in the id */
    buf = file_contents(f, &len);
    fclose(f);
    assert_non_null(strstr(buf, "<d p=\"1.234,1,25,16777215,0,0,u,x_y\">a&lt;b&gt;&amp;c</d>"));
    dm_track_init(&back);
    assert_int_equal(dm_read_bilibili_xml(&back, buf, len, &diag), 0);
    assert_int_equal(back.count, 1);
    assert_string_equal(back.items[0].text, "a<b>&c");
    dm_track_clear(&back);
    dm_track_clear(&t);
    free(buf);
}

static void test_jsonl_line(void **state)
{
    dm_comment c = { .t_ms = 42, .mode = DM_MODE_BOTTOM, .size = DM_SIZE_SMALL,
                     .color = 0xABCDEF, .text = "line\nbreak \"q\"", .id = "7", .weight = -1, .venue = "hall-2" };
    static const char *const bad_venue[] = {
        "{\"type\":\"comment\",\"t_ms\":1,\"text\":\"x\",\"venue\":\"\"}\n",
        "{\"type\":\"comment\",\"t_ms\":1,\"text\":\"x\",\"venue\":7}\n",
        "{\"type\":\"comment\",\"t_ms\":1,\"text\":\"x\",\"venue\":\"012345678901234567890123456789012\"}\n",
    };
    char *line = dm_jsonl_comment_line(&c);
    dm_track t;
    dm_diag diag = { .warn = NULL };

    (void)state;
    assert_non_null(line);
    assert_non_null(strchr(line, '\n'));
    assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);  /* exactly one, last */
    assert_non_null(strstr(line, "\"color\":\"#ABCDEF\""));
    assert_non_null(strstr(line, "\"mode\":\"bottom\""));
    dm_track_init(&t);
    assert_int_equal(dm_read_jsonl(&t, line, strlen(line), &diag), 0);
    assert_int_equal(t.count, 1);
    assert_string_equal(t.items[0].text, c.text);
    assert_int_equal(t.items[0].color, 0xABCDEF);
    assert_int_equal(t.items[0].size, DM_SIZE_SMALL);
    assert_string_equal(t.items[0].venue, "hall-2");   /* the hall, kept through the line */
    dm_track_clear(&t);
    free(line);
    for (size_t i = 0; i < sizeof bad_venue / sizeof bad_venue[0]; i++) {
        dm_track_init(&t);
        assert_int_equal(dm_read_jsonl(&t, bad_venue[i], strlen(bad_venue[i]), &diag), 0);
        assert_int_equal(t.count, 1);
        assert_int_equal(t.items[0].rejected, DM_REASON_MALFORMED);   /* counted, never shown */
        assert_null(t.items[0].venue);
        dm_track_clear(&t);
    }
}

/* ---------------------------------------------------------------- ASS */

static int64_t parse_ass_time(const char *s)
{
    int h, m, sec, cs;

    assert_int_equal(sscanf(s, "%d:%d:%d.%d", &h, &m, &sec, &cs), 4);
    return ((int64_t)h * 3600 + m * 60 + sec) * 100 + cs;
}

static void test_ass(void **state)
{
    dm_layout_opts lopts = DM_LAYOUT_OPTS_DEFAULT;
    dm_ass_opts aopts = { .font_name = "Noto Sans CJK SC", .font_size = { 34, 48, 69 },
                          .outline_px = 2, .opacity = 0.8 };
    dm_track t;
    dm_placed *placed;
    char **texts;
    dm_diag diag = { .warn = NULL };
    FILE *f = tmpfile();
    size_t len, shown = 0, dialogues = 0, i = 0;
    char *buf, *line, *save = NULL;

    (void)state;
    make_awkward_track(&t);
    placed = calloc(t.count, sizeof *placed);
    texts = calloc(t.count, sizeof *texts);
    assert_non_null(placed);
    assert_non_null(texts);
    for (size_t k = 0; k < t.count; k++) {
        dm_placed *p = &placed[k];
        p->shown = k != 4;
        p->mode = (uint8_t)t.items[k].mode;
        p->w = 100 + (int32_t)k;
        p->h = 52;
        p->y = 10 * (int32_t)k;
        p->start_ms = t.items[k].t_ms + 3;  /* odd ms: not on a centisecond */
        p->end_ms = p->start_ms + (t.items[k].mode == DM_MODE_TOP ? 4000 : 8000) + 7;
        p->x_start = t.items[k].mode == DM_MODE_TOP ? 900 : 1920;
        p->x_end = t.items[k].mode == DM_MODE_TOP ? 900 : -p->w;
        shown += p->shown;
    }
    texts[0] = "merged {x3}";
    assert_non_null(f);
    assert_int_equal(dm_write_ass(&t, placed, texts, &lopts, &aopts, f, &diag), 0);
    buf = file_contents(f, &len);
    fclose(f);
    assert_non_null(strstr(buf, "PlayResX: 1920\nPlayResY: 1080\n"));
    assert_non_null(strstr(buf, "WrapStyle: 2"));
    assert_non_null(strstr(buf, "ScaledBorderAndShadow: yes"));
    assert_non_null(strstr(buf, "Style: Normal,Noto Sans CJK SC,48,&H33FFFFFF"));
    assert_non_null(strstr(buf, "Style: Large,Noto Sans CJK SC,69,"));
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char start[32], end[32];
        const char *text;
        const dm_placed *p;
        int64_t s_cs, e_cs;
        long x1, y1, x2, y2, t1, t2;

        if (strncmp(line, "Dialogue: ", 10))
            continue;
        dialogues++;
        while (i < t.count && !placed[i].shown)
            i++;
        assert_true(i < t.count);
        p = &placed[i];
        assert_int_equal(sscanf(line, "Dialogue: %*d,%31[^,],%31[^,],", start, end), 2);
        s_cs = parse_ass_time(start);
        e_cs = parse_ass_time(end);
        if (p->mode != DM_MODE_POSITIONED) {
            /* the event lies inside the comment's life, so the lane's next one never meets it */
            assert_int_equal(s_cs, (p->start_ms + 9) / 10);
            assert_int_equal(e_cs, p->end_ms / 10);
        } else {
            assert_int_equal(s_cs, p->start_ms / 10);          /* rounded down */
            assert_int_equal(e_cs, (p->end_ms + 9) / 10);      /* rounded up */
        }
        /* the mode is in the Name field; positioned comments on a layer of their own */
        assert_non_null(strstr(line, dm_mode_name((dm_mode)p->mode)));
        assert_int_equal(atoi(line + 10), p->mode == DM_MODE_POSITIONED ? 2 : p->layer);
        text = strchr(line, '}');
        assert_non_null(text);
        text++;
        /* Nothing from the comment text opens or closes an override block. */
        assert_null(strchr(text, '{'));
        assert_null(strchr(text, '}'));
        if (p->mode == DM_MODE_SCROLL || p->mode == DM_MODE_REVERSE) {
            const char *mv = strstr(line, "\\move(");
            double fx1, fx2;
            assert_non_null(mv);
            assert_int_equal(sscanf(mv, "\\move(%lf,%ld,%lf,%ld)", &fx1, &y1, &fx2, &y2), 4);
            /* over the whole event, from where the comment is at its start to where it is at its end */
            assert_true(fabs(fx1 - (dm_placed_x_at(p, s_cs * 10) + aopts.outline_px)) < 0.006);
            assert_true(fabs(fx2 - (dm_placed_x_at(p, e_cs * 10) + aopts.outline_px)) < 0.006);
            assert_int_equal(y1, p->y + aopts.outline_px);
            assert_int_equal(y2, p->y + aopts.outline_px);
        } else if (p->mode == DM_MODE_TOP) {
            const char *ps = strstr(line, "\\pos(");
            assert_non_null(ps);
            assert_int_equal(sscanf(ps, "\\pos(%ld,%ld)", &x1, &y1), 2);
            assert_int_equal(x1, p->x_start + aopts.outline_px);
            assert_int_equal(y1, p->y + aopts.outline_px);
            assert_non_null(strstr(line, "\\c&H563412&"));
            assert_non_null(strstr(text, "two\\Nlines"));
            assert_null(strstr(text, "\\pos"));     /* the typed tag is inert */
            assert_null(strstr(text, "back\\slash")); /* backslash neutralised */
        } else if (p->mode == DM_MODE_POSITIONED) {
            const char *mv = strstr(line, "\\move(");
            assert_non_null(mv);
            assert_int_equal(sscanf(mv, "\\move(%ld,%ld,%ld,%ld,%ld,%ld)", &x1, &y1, &x2, &y2,
                                    &t1, &t2), 6);
            assert_int_equal(x1, 0 + aopts.outline_px);
            assert_int_equal(y1, 1080 + aopts.outline_px);
            assert_int_equal(x2, 2880 + aopts.outline_px);
            assert_int_equal(y2, -270 + aopts.outline_px);
            assert_int_equal(s_cs * 10 + t1, p->start_ms + 100);
            assert_int_equal(t2 - t1, 700);
            assert_non_null(strstr(line, "\\bord0"));
            assert_non_null(strstr(line, "\\t("));
        }
        if (i == 0)
            assert_non_null(strstr(text, "merged \xEF\xBD\x9Bx3\xEF\xBD\x9D"));
        i++;
    }
    assert_int_equal(dialogues, shown);
    free(buf);
    free(placed);
    free(texts);
    dm_track_clear(&t);
}

/* ASS event text: markup from the audience is inert, emoji runs take the emoji font. */
static void test_ass_text(void **state)
{
    char *a;

    (void)state;
    a = dm_ass_text("a{\\pos(1,2)}b\nc", NULL);
    assert_string_equal(a, "a\xEF\xBD\x9B\\\xE2\x81\xA0pos(1,2)\xEF\xBD\x9D" "b\\Nc");
    free(a);
    /* a run of emoji (with its joiners) in the emoji font, then back to the style's */
    a = dm_ass_text("hi \xF0\x9F\x98\x80\xE2\x80\x8D\xF0\x9F\x94\xA5!", "Symbola");
    assert_string_equal(a, "hi {\\fnSymbola}\xF0\x9F\x98\x80\xE2\x80\x8D\xF0\x9F\x94\xA5{\\fn}!");
    free(a);
    a = dm_ass_text("\xE2\x98\x85 star \xF0\x9F\x8E\x89", "Symbola");   /* ★ stays in the text's font */
    assert_string_equal(a, "\xE2\x98\x85 star {\\fnSymbola}\xF0\x9F\x8E\x89{\\fn}");
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        { "round trips (real tracks)", test_round_trips, NULL, NULL, (void *)real_tracks },
        { "round trips (generated tracks)", test_round_trips, NULL, NULL, (void *)gen_tracks },
        cmocka_unit_test(test_round_trip_awkward),
        cmocka_unit_test(test_xml_escaping_and_commas),
        cmocka_unit_test(test_jsonl_line),
        cmocka_unit_test(test_ass),
        cmocka_unit_test(test_ass_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
