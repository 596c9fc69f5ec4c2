/*
 * test_track_formats.c - the readers of other players' tracks, on files
 * written at test time from the formats' published definitions: ArtPlayer's
 * danmuku plugin (README: {text, time, color, border, mode}; v5 modes 0/1/2,
 * v3 "scroll"/"static"), DPlayer's API ({code, data: [[time, type, color,
 * author, text]]}, the first API's {code, danmaku: [{...}]}), ASS as
 * danmaku2ass and DanmakuFactory write it (their published output), and
 * ours; detection by content and the one error for input no reader knows;
 * positioned comments whose array is cut short; Bilibili's newlines and C1
 * controls; track offsets; the summary line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "danmaku.h"
#include "testutil.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dm-test-formats-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write `len` bytes to a file of the temporary folder; its path (static buffer). */
static const char *write_file(const char *name, const char *data, size_t len)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static size_t count_rejected(const dm_track *t)
{
    size_t n = 0;

    for (size_t i = 0; i < t->count; i++)
        n += t->items[i].rejected != 0;
    return n;
}

/* ---------------------------------------------------------------- ArtPlayer */

static void test_artplayer(void **state)
{
    /* the plugin's README and its v5 options (mode 0 scroll, 1 top, 2 bottom), v3's strings */
    const char *json =
        "[\n"
        "  {\"text\": \"666\", \"time\": 5, \"color\": \"#fff\", \"border\": false, \"mode\": 0},\n"
        "  {\"text\": \"top\", \"time\": 6.25, \"color\": \"#FF0000\", \"mode\": 1},\n"
        "  {\"text\": \"bottom\", \"time\": \"7\", \"mode\": 2, \"style\": {\"color\": \"red\"}},\n"
        "  {\"text\": \"static\", \"time\": 8, \"mode\": \"static\", \"color\": \"rgb(0, 255, 0)\"},\n"
        "  {\"text\": \"scroll\", \"time\": 9, \"mode\": \"scroll\", \"color\": 255},\n"
        "  {\"text\": \"default mode\", \"time\": 10, \"border\": true},\n"
        "  {\"text\": \"bad colour\", \"time\": 11, \"color\": \"#12345\"},\n"
        "  {\"text\": \"no time\", \"mode\": 0},\n"
        "  {\"text\": \"negative\", \"time\": -1},\n"
        "  {\"text\": \"mode 9\", \"time\": 12, \"mode\": 9},\n"
        "  {\"time\": 13, \"mode\": 0},\n"
        "  \"not an object\"\n"
        "]\n";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    assert_int_equal(dm_format_sniff(json, strlen(json)), DM_FORMAT_ARTPLAYER_JSON);
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    /* by content: a .json file is one of several formats */
    assert_int_equal(dm_read_file(&t, write_file("art.json", json, strlen(json)), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 12);   /* every item, the ones that cannot be read included */
    assert_int_equal(count_rejected(&t), 5);
    assert_string_equal(t.items[0].text, "666");
    assert_int_equal(t.items[0].t_ms, 5000);
    assert_int_equal(t.items[0].mode, DM_MODE_SCROLL);
    assert_int_equal(t.items[0].color, 0xFFFFFF);
    assert_int_equal(t.items[1].mode, DM_MODE_TOP);
    assert_int_equal(t.items[1].t_ms, 6250);
    assert_int_equal(t.items[1].color, 0xFF0000);
    assert_int_equal(t.items[2].mode, DM_MODE_BOTTOM);
    assert_int_equal(t.items[2].t_ms, 7000);
    assert_int_equal(t.items[3].mode, DM_MODE_TOP);
    assert_int_equal(t.items[3].color, 0x00FF00);
    assert_int_equal(t.items[4].color, 0x0000FF);
    assert_int_equal(t.items[5].mode, DM_MODE_SCROLL);
    assert_int_equal(t.items[6].color, 0xFFFFFF);      /* not a colour: white, counted */
    assert_int_equal(t.items[6].rejected, 0);
    for (int i = 7; i < 12; i++)
        assert_int_equal(t.items[i].rejected, DM_REASON_MALFORMED);
    assert_string_equal(t.items[7].text, "no time");   /* kept: what it says is in the dump */
    assert_non_null(strstr(log.text, "comment 7: missing or bad \"time\""));
    assert_non_null(strstr(log.text, "comment 9: unknown \"mode\""));
    assert_non_null(strstr(log.text, "comment 10: no text"));
    assert_non_null(strstr(log.text, "1 comment had no valid colour"));
    dm_track_clear(&t);

    /* an empty list is an empty track, said so */
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_buffer(&t, "[ ]", 3, DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 0);
    assert_non_null(strstr(log.text, "empty JSON array"));
    /* cut short: the error names where */
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_artplayer_json(&t, "[{\"text\":\"a\",\"time\":1},\n{\"te", 28, &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "line 2"));
    dm_track_clear(&t);
}

/* ---------------------------------------------------------------- DPlayer */

static void test_dplayer(void **state)
{
    /* DPlayer's api.js reads data.data as [time, type, color, author, text] */
    const char *v3 = "{\"code\":0,\"data\":["
                     "[1.5,0,16777215,\"DIYgod\",\"hello\"],"
                     "[2,1,255,\"a\",\"top\"],"
                     "[\"3.25\",2,\"#00ff00\",\"b\",\"bottom\"],"
                     "[4,\"top\",\"16711680\",\"c\",\"word type\"],"
                     "[5,7,0,\"d\",\"type 7\"],"
                     "[\"soon\",0,0,\"e\",\"bad time\"],"
                     "[6,0,0,\"f\"]]}";
    /* the first API: {"code": 1, "danmaku": [{author, time, text, color, type}]} */
    const char *v1 = "{\"code\":1,\"danmaku\":[{\"_id\":\"x1\",\"author\":\"u\",\"time\":0.5,\"text\":\"old\","
                     "\"color\":\"#fff\",\"type\":\"right\"},{\"author\":\"u\",\"time\":1,\"text\":\"b\","
                     "\"color\":\"#ff0000\",\"type\":\"bottom\"}]}";
    const char *bare = "[[7,0,16777215,\"x\",\"bare\"]]";
    const char *failed = "{\"code\":-1,\"msg\":\"no such video\"}";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    assert_int_equal(dm_format_sniff(v3, strlen(v3)), DM_FORMAT_DPLAYER_JSON);
    assert_int_equal(dm_format_sniff(v1, strlen(v1)), DM_FORMAT_DPLAYER_JSON);
    assert_int_equal(dm_format_sniff(bare, strlen(bare)), DM_FORMAT_DPLAYER_JSON);
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_file(&t, write_file("dplayer.json", v3, strlen(v3)), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 7);
    assert_int_equal(count_rejected(&t), 3);
    assert_int_equal(t.items[0].t_ms, 1500);
    assert_string_equal(t.items[0].author, "DIYgod");
    assert_string_equal(t.items[0].text, "hello");
    assert_int_equal(t.items[1].mode, DM_MODE_TOP);
    assert_int_equal(t.items[1].color, 255);
    assert_int_equal(t.items[2].mode, DM_MODE_BOTTOM);
    assert_int_equal(t.items[2].t_ms, 3250);
    assert_int_equal(t.items[2].color, 0x00FF00);
    assert_int_equal(t.items[3].mode, DM_MODE_TOP);
    assert_int_equal(t.items[3].color, 0xFF0000);
    assert_int_equal(t.items[4].rejected, DM_REASON_MALFORMED);
    assert_string_equal(t.items[4].text, "type 7");
    assert_int_equal(t.items[5].rejected, DM_REASON_MALFORMED);
    assert_int_equal(t.items[6].rejected, DM_REASON_MALFORMED);   /* no text */
    assert_non_null(strstr(log.text, "comment 4: unknown type"));
    assert_int_equal(dm_read_buffer(&t, v1, strlen(v1), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 9);
    assert_string_equal(t.items[7].id, "x1");
    assert_string_equal(t.items[7].text, "old");
    assert_int_equal(t.items[7].mode, DM_MODE_SCROLL);
    assert_int_equal(t.items[8].mode, DM_MODE_BOTTOM);
    assert_int_equal(t.items[8].color, 0xFF0000);
    assert_int_equal(dm_read_buffer(&t, bare, strlen(bare), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 10);
    assert_string_equal(t.items[9].text, "bare");
    /* an API error is one sentence with the API's message */
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_dplayer_json(&t, failed, strlen(failed), &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "no such video"));
    assert_int_equal(t.count, 10);
    dm_track_clear(&t);
}

/* ---------------------------------------------------------------- detection */

static void test_detection_and_unknown_input(void **state)
{
    static const struct {
        const char *text;
        dm_format fmt;
    } known[] = {
        { "<?xml version=\"1.0\"?><i></i>", DM_FORMAT_BILIBILI_XML },
        { "\xEF\xBB\xBF\n[Script Info]\nScriptType: v4.00+\n", DM_FORMAT_ASS },
        { "[script info]\n", DM_FORMAT_ASS },
        { "{\"count\":1,\"comments\":[{\"cid\":1,\"p\":\"1,1,0,u\",\"m\":\"a\"}]}", DM_FORMAT_DANDANPLAY_JSON },
        { "[{\"ping\":{\"content\":\"rs:0\"}},{\"chat\":{\"vpos\":1,\"content\":\"a\"}}]", DM_FORMAT_NICONICO_JSON },
        { "{\"meta\":{\"status\":200},\"data\":{\"globalComments\":[],\"threads\":[]}}", DM_FORMAT_NICONICO_JSON },
        { "[{\"text\":\"a\",\"time\":1}]", DM_FORMAT_ARTPLAYER_JSON },
        { "{\"code\":0,\"data\":[[1,0,0,\"a\",\"b\"]]}", DM_FORMAT_DPLAYER_JSON },
        { "{\"type\":\"track\",\"format\":\"danmaku\",\"version\":1}\n", DM_FORMAT_JSONL },
    };
    static const char *const unknown[] = {
        "hello, world\n",
        "[1, 2, 3]",
        "{\"name\": \"not a track\", \"list\": [1, 2]}",
        "[{\"title\": \"a song\", \"artist\": \"someone\"}]",
        "\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    };
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    char name[32];

    (void)state;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        assert_int_equal(dm_format_sniff(known[i].text, strlen(known[i].text)), known[i].fmt);
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        size_t len = i == 4 ? 16 : strlen(unknown[i]);
        assert_int_equal(dm_format_sniff(unknown[i], len), DM_FORMAT_UNKNOWN);
        snprintf(name, sizeof name, "unknown-%zu.json", i);
        dm_test_diag_init(&diag, &log);
        dm_track_init(&t);
        /* one clear error naming what was tried, never an empty success */
        assert_int_equal(dm_read_file(&t, write_file(name, unknown[i], len), DM_FORMAT_UNKNOWN, &diag), DM_EFORMAT);
        assert_non_null(strstr(diag.error, name));
        assert_non_null(strstr(diag.error, "is not a comment track: tried Bilibili XML"));
        assert_non_null(strstr(diag.error, "ArtPlayer JSON"));
        assert_non_null(strstr(diag.error, "Bilibili protobuf"));
        assert_int_equal(t.count, 0);
        dm_track_clear(&t);
    }
    /* XML, but not a comment track */
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_buffer(&t, "<svg><rect/></svg>", 18, DM_FORMAT_UNKNOWN, &diag), DM_EFORMAT);
    assert_non_null(strstr(diag.error, "root element is <svg>"));
    /* the content wins over a misleading name, with a word about it */
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_file(&t, write_file("mislabelled.xml", known[6].text, strlen(known[6].text)),
                                  DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 1);
    assert_non_null(strstr(log.text, "named like bilibili but holds artplayer"));
    /* an empty file */
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_file(&t, write_file("empty.json", "", 0), DM_FORMAT_UNKNOWN, &diag), DM_EFORMAT);
    assert_non_null(strstr(diag.error, "is empty"));
    dm_track_clear(&t);
}

/* ---------------------------------------------------------------- mode 7 cut short */

/* A Bilibili file like the real ones whose database cut the positioned arrays. */
static void test_positioned_cut_short(void **state)
{
    char *xml = malloc(65536);
    size_t o = 0;
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
    dm_scene_opts so = { .measure = dm_test_measure };
    dm_scene *sc;
    char *dump = NULL;
    size_t dump_len = 0, lines = 0, malformed = 0;
    FILE *f;

    (void)state;
    assert_non_null(xml);
    o += (size_t)sprintf(xml + o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><i>\n");
    for (int i = 0; i < 20; i++)   /* whole arrays */
        o += (size_t)sprintf(xml + o, "<d p=\"%d,1,25,16777215,0,0,u,%d\">plain %d</d>\n", i, 100 + i, i);
    for (int i = 0; i < 50; i++) {
        /* cut after the text (the usual cut), in the middle of a later element, or right after the text */
        static const char *const tails[] = { ",0,", ",0,0,0.5,0.", "" };
        o += (size_t)sprintf(xml + o, "<d p=\"%d.5,7,25,16777215,0,2,u,%d\">[0.%d,0.2,\"1-0.5\",4.5,\"cut %d\"%s</d>\n",
                             i, 200 + i, i % 10, i, tails[i % 3]);
    }
    /* cut inside the text: nothing to show */
    o += (size_t)sprintf(xml + o, "<d p=\"60,7,25,0,0,2,u,300\">[0.1,0.2,\"1-1\",3,\"cut in the te</d>\n");
    o += (size_t)sprintf(xml + o, "</i>\n");
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_bilibili_xml(&t, xml, o, &diag), 0);
    assert_int_equal(t.count, 71);
    for (int i = 0; i < 50; i++) {
        const dm_comment *c = &t.items[20 + i];
        char want[32];
        snprintf(want, sizeof want, "cut %d", i);
        assert_int_equal(c->rejected, 0);
        assert_int_equal(c->mode, DM_MODE_POSITIONED);
        assert_non_null(c->pos);
        assert_string_equal(c->text, want);
        assert_true(c->pos->x0 > (i % 10) / 10.0 - 1e-9 && c->pos->x0 < (i % 10) / 10.0 + 1e-9);
        assert_true(c->pos->y0 > 0.2 - 1e-9 && c->pos->y0 < 0.2 + 1e-9);
        assert_true(c->pos->alpha0 == 1.0 && c->pos->alpha1 == 0.5);
        assert_int_equal(c->pos->life_ms, 4500);
    }
    assert_int_equal(t.items[70].rejected, DM_REASON_MALFORMED);
    /* told once, not 50 times */
    assert_non_null(strstr(log.text, "50 positioned comments had a JSON array cut short"));
    assert_non_null(strstr(log.text, "line 72:"));

    /* every comment of the file has its dump line, input_count is the file's count */
    so.layout = lo;
    sc = dm_scene_new(&so, &diag);
    assert_non_null(sc);
    assert_int_equal(dm_scene_add_track(sc, &t), 0);
    f = open_memstream(&dump, &dump_len);
    assert_non_null(f);
    assert_int_equal(dm_scene_dump(sc, f, "test", 2), 0);
    fclose(f);
    assert_non_null(strstr(dump, "\"input_count\":71"));
    for (char *p = dump; (p = strstr(p, "\"type\":\"comment\"")) != NULL; p++)
        lines++;
    for (char *p = dump; (p = strstr(p, "\"reason\":\"malformed\"")) != NULL; p++)
        malformed++;
    assert_int_equal(lines, 71);
    assert_int_equal(malformed, 1);
    {
        char line[256];
        assert_string_equal(dm_scene_summary(sc, line, sizeof line), "shown 70 of 71; not shown: 1 malformed");
    }
    free(dump);
    dm_scene_free(&sc);
    dm_track_clear(&t);
    free(xml);
}

/* ---------------------------------------------------------------- newlines and controls */

static void test_newlines_and_c1(void **state)
{
    const char *xml =
        "<i>\n"
        "<d p=\"1,7,25,0,0,2,u,1\">[0.1,0.1,\"1-1\",3,\"line1/nline2/n/nline4\"]</d>\n"
        "<d p=\"2,1,25,0,0,0,u,2\">a\\nb</d>\n"
        "<d p=\"3,1,25,0,0,0,u,3\">http://n.example/n</d>\n"
        "<d p=\"4,5,25,0,0,0,u,4\">c1\xC2\x85here\xC2\x9F</d>\n"
        "<d p=\"5,7,25,0,0,2,u,5\">[0.1,0.1,\"1-1\",3,\"json \\\\n too\"]</d>\n"
        "</i>";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
    dm_placed *placed = NULL;
    dm_ass_opts ao = { .font_name = "sans", .font_size = { 30, 44, 63 }, .outline_px = 2, .opacity = 1 };
    char *ass = NULL, *jsonl = NULL;
    size_t ass_len = 0, jsonl_len = 0;
    FILE *f;

    (void)state;
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_bilibili_xml(&t, xml, strlen(xml), &diag), 0);
    assert_int_equal(t.count, 5);
    assert_string_equal(t.items[0].text, "line1\nline2\n\nline4");   /* mode 7: "/n" */
    assert_string_equal(t.items[1].text, "a\nb");                    /* a literal backslash-n */
    assert_string_equal(t.items[2].text, "http://n.example/n");      /* "/n" elsewhere is text */
    assert_string_equal(t.items[3].text, "c1here");                  /* C1 controls removed */
    assert_string_equal(t.items[4].text, "json \n too");
    /* every output carries the same text: ASS as \N, JSONL as a newline, nothing of the C1 */
    assert_int_equal(dm_layout_track(&t, &lo, dm_test_measure, NULL, NULL, &placed, NULL, &diag), 0);
    f = open_memstream(&ass, &ass_len);
    assert_int_equal(dm_write_ass(&t, placed, NULL, &lo, &ao, f, &diag), 0);
    fclose(f);
    assert_non_null(strstr(ass, "line1\\Nline2\\N\\Nline4"));
    assert_non_null(strstr(ass, "}a\\Nb"));
    assert_null(strstr(ass, "/n/n"));
    assert_null(strstr(ass, "\xC2\x85"));
    assert_non_null(strstr(ass, "}c1here"));
    f = open_memstream(&jsonl, &jsonl_len);
    assert_int_equal(dm_write_jsonl(&t, f, &diag), 0);
    fclose(f);
    assert_non_null(strstr(jsonl, "\"line1\\nline2\\n\\nline4\""));
    /* multi-line art takes the lines it has */
    assert_int_equal(placed[1].h, 2 * dm_layout_height_px(&lo, DM_SIZE_NORMAL));
    free(ass);
    free(jsonl);
    free(placed);
    dm_track_clear(&t);
}

/* ---------------------------------------------------------------- ASS read back */

/* danmaku2ass's head and lines, as its WriteASSHead and WriteComment print them. */
static const char d2a_ass[] =
    "\xEF\xBB\xBF\n"
    "[Script Info]\n"
    "; Script generated by Danmaku2ASS\n"
    "; https://github.com/m13253/danmaku2ass\n"
    "Script Updated By: Danmaku2ASS (https://github.com/m13253/danmaku2ass)\n"
    "ScriptType: v4.00+\n"
    "PlayResX: 1920\n"
    "PlayResY: 1080\n"
    "Aspect Ratio: 1920:1080\n"
    "Collisions: Normal\n"
    "WrapStyle: 2\n"
    "ScaledBorderAndShadow: yes\n"
    "YCbCr Matrix: TV.601\n"
    "\n"
    "[V4+ Styles]\n"
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
    "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
    "MarginR, MarginV, Encoding\n"
    "Style: Danmaku2ASS_8c3e, sans-serif, 48, &H33FFFFFF, &H33FFFFFF, &H33000000, &H33000000, 0, 0, 0, 0, 100, "
    "100, 0.00, 0.00, 1, 2, 0, 7, 0, 0, 0, 0\n"
    "\n"
    "[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    "Dialogue: 2,0:00:01.50,0:00:09.50,Danmaku2ASS_8c3e,,0000,0000,0000,,{\\move(1920, 0, -144, 0)}scroll\n"
    "Dialogue: 2,0:00:02.00,0:00:10.00,Danmaku2ASS_8c3e,,0000,0000,0000,,{\\move(-96, 48, 1920, 48)}reverse\n"
    "Dialogue: 2,0:00:03.00,0:00:07.00,Danmaku2ASS_8c3e,,0000,0000,0000,,{\\an8\\pos(960, 0)\\fs69}big top\n"
    "Dialogue: 2,0:00:04.00,0:00:08.00,Danmaku2ASS_8c3e,,0000,0000,0000,,"
    "{\\an2\\pos(960, 1080)\\fs35\\c&H000000&\\3c&HFFFFFF&}small black bottom\n"
    "Dialogue: 2,0:01:05.25,0:01:13.25,Danmaku2ASS_8c3e,,0000,0000,0000,,"
    "{\\move(1920, 96, -300, 96)\\c&H%s&}red \\{braces\\} and \\\\ two\\Nlines\n"
    "Dialogue: 2,0:00:bad,0:00:07.00,Danmaku2ASS_8c3e,,0000,0000,0000,,{\\move(1920, 0, -10, 0)}broken time\n";

/* DanmakuFactory's head and lines, as its writeAss and writeAssDanmakuPart print them. */
static const char df_ass[] =
    "[Script Info]\n"
    "; Script generated by DanmakuFactory v1.70\n"
    "; https://github.com/hihkm/DanmakuFactory/\n"
    "ScriptType: v4.00+\n"
    "Collisions: Normal\n"
    "PlayResX: 1920\n"
    "PlayResY: 1080\n"
    "Timer: 100.0000\n"
    "WrapStyle: 2\n"
    "ScaledBorderAndShadow: yes\n\n"
    "[V4+ Styles]\n"
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
    "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
    "MarginR, MarginV, Encoding\n"
    "Style: R2L,Microsoft YaHei,38,&H00FFFFFF,&H00FFFFFF,&H00000000,&H1E6A5149,0,0,0,0,100.00,100.00,0.00,0.00,1,"
    "0.0,1.0,8,0,0,0,1\n"
    "Style: L2R,Microsoft YaHei,38,&H00FFFFFF,&H00FFFFFF,&H00000000,&H1E6A5149,0,0,0,0,100.00,100.00,0.00,0.00,1,"
    "0.0,1.0,8,0,0,0,1\n"
    "Style: TOP,Microsoft YaHei,38,&H00FFFFFF,&H00FFFFFF,&H00000000,&H1E6A5149,0,0,0,0,100.00,100.00,0.00,0.00,1,"
    "0.0,1.0,8,0,0,0,1\n"
    "Style: BTM,Microsoft YaHei,38,&H00FFFFFF,&H00FFFFFF,&H00000000,&H1E6A5149,0,0,0,0,100.00,100.00,0.00,0.00,1,"
    "0.0,1.0,8,0,0,0,1\n"
    "Style: SP,Microsoft YaHei,38,&H00FFFFFF,&H00FFFFFF,&H00000000,&H1E6A5149,0,0,0,0,100.00,100.00,0.00,0.00,1,"
    "0.0,1.0,7,0,0,0,1\n"
    "Style: MSG,Microsoft YaHei,38,&H00FFFFFF,&H00FFFFFF,&H00000000,&H1E6A5149,0,0,0,0,100.00,100.00,0.00,0.00,1,"
    "0.0,1.0,7,0,0,0,1\n\n"
    "[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    "Dialogue: 0,0:00:03.02,0:00:15.02,R2L,,0000,0000,0000,,{\\move(2010,0,-90,0)}r2l\n"
    "Dialogue: 0,0:00:04.00,0:00:16.00,L2R,,0000,0000,0000,,{\\move(-90,38,2010,38)}{\\c&H00FF00}l2r green\n"
    "Dialogue: 1,0:00:05.00,0:00:10.00,TOP,,0000,0000,0000,,{\\pos(960,0)}top\n"
    "Dialogue: 1,0:00:06.00,0:00:11.00,BTM,,0000,0000,0000,,{\\pos(960,1004)\\fs27}{\\c&H0000FF}bottom small red\n"
    "Dialogue: 0,0:00:07.00,0:00:12.00,SP,,0000,0000,0000,,{\\move(192,108,960,540,0,2000)\\alpha&H80}special\n"
    "Comment: 0,0:00:08.00,0:00:20.00,R2L,,0000,0000,0000,,{\\move(2010,0,-90,0)}blocked one\n"
    "Dialogue: 0,0:00:09.00,0:00:14.00,MSG,,0000,0000,0000,,{\\pos(0,900)}a gift box\n";

static void test_ass_from_danmaku2ass(void **state)
{
    char *text = malloc(sizeof d2a_ass + 16);
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    char hex[8];
    double r = 200, g = 100, b = 50;

    (void)state;
    /* danmaku2ass converts colours to BT.709 at 1920x1080 (its ConvertColor, as published): #C86432 */
    {
        double bb = r * 0.00956384088080656 + g * 0.03217254540203729 + b * 0.95826361371715607;
        double gg = r * -0.10493933142075390 + g * 1.17231478191855154 + b * -0.06737545049779757;
        double rr = r * 0.91348912373987645 + g * 0.07858536372532510 + b * 0.00792551253479842;
        long vb = lround(bb), vg = lround(gg < 0 ? 0 : gg), vr = lround(rr);
        snprintf(hex, sizeof hex, "%02lX%02lX%02lX", vb, vg, vr);
    }
    snprintf(text, sizeof d2a_ass + 16, d2a_ass, hex);
    assert_int_equal(dm_format_sniff(text, strlen(text)), DM_FORMAT_ASS);
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_file(&t, write_file("d2a.ass", text, strlen(text)), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 6);
    assert_int_equal(t.items[0].mode, DM_MODE_SCROLL);
    assert_int_equal(t.items[0].t_ms, 1500);
    assert_string_equal(t.items[0].text, "scroll");
    assert_int_equal(t.items[0].color, 0xFFFFFF);
    assert_int_equal(t.items[0].size, DM_SIZE_NORMAL);
    assert_int_equal(t.items[1].mode, DM_MODE_REVERSE);
    assert_int_equal(t.items[2].mode, DM_MODE_TOP);
    assert_int_equal(t.items[2].size, DM_SIZE_LARGE);     /* \fs69 against 48: Bilibili's 36 */
    assert_int_equal(t.items[3].mode, DM_MODE_BOTTOM);
    assert_int_equal(t.items[3].size, DM_SIZE_SMALL);     /* \fs35: Bilibili's 18 */
    assert_int_equal(t.items[3].color, 0x000000);
    assert_int_equal(t.items[4].t_ms, 65250);
    assert_string_equal(t.items[4].text, "red {braces} and \\ two\nlines");
    /* the BT.709 conversion undone, within rounding */
    assert_in_range((t.items[4].color >> 16) & 0xFF, 199, 201);
    assert_in_range((t.items[4].color >> 8) & 0xFF, 99, 101);
    assert_in_range(t.items[4].color & 0xFF, 49, 51);
    assert_int_equal(t.items[5].rejected, DM_REASON_MALFORMED);
    assert_non_null(strstr(log.text, "line 26: a Dialogue line without a start, end and text"));
    dm_track_clear(&t);
    free(text);
}

static void test_ass_from_danmakufactory(void **state)
{
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_file(&t, write_file("df.ass", df_ass, strlen(df_ass)), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 5);
    assert_int_equal(t.items[0].mode, DM_MODE_SCROLL);
    assert_int_equal(t.items[0].t_ms, 3020);
    assert_int_equal(t.items[1].mode, DM_MODE_REVERSE);
    assert_int_equal(t.items[1].color, 0x00FF00);
    assert_string_equal(t.items[1].text, "l2r green");
    assert_int_equal(t.items[2].mode, DM_MODE_TOP);
    assert_int_equal(t.items[3].mode, DM_MODE_BOTTOM);    /* BTM, though alignment 8 */
    assert_int_equal(t.items[3].color, 0xFF0000);         /* {\c&H0000FF}: BGR */
    assert_int_equal(t.items[3].size, DM_SIZE_SMALL);     /* \fs27 against 38 */
    assert_int_equal(t.items[4].mode, DM_MODE_POSITIONED);
    assert_non_null(t.items[4].pos);
    assert_true(t.items[4].pos->x0 > 0.0999 && t.items[4].pos->x0 < 0.1001);
    assert_true(t.items[4].pos->y1 > 0.4999 && t.items[4].pos->y1 < 0.5001);
    assert_int_equal(t.items[4].pos->move_ms, 2000);
    assert_int_equal(t.items[4].pos->life_ms, 5000);
    assert_true(t.items[4].pos->alpha0 > 0.49 && t.items[4].pos->alpha0 < 0.5);
    assert_non_null(strstr(log.text, "1 event that are no comments"));
    assert_non_null(strstr(log.text, "1 Comment: event"));
    dm_track_clear(&t);
}

/* Our own ASS reads back as the track it was written from. */
static void test_ass_round_trip(void **state)
{
    const char *path = dm_test_suite_track("gen:gen-bilibili-dense-180s.xml");
    dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
    dm_ass_opts ao = { .font_name = "sans", .font_size = { 30, 44, 63 }, .outline_px = 2, .opacity = 1 };
    dm_track t, back;
    dm_diag diag;
    dm_test_warnings log;
    dm_placed *placed = NULL;
    char *ass = NULL;
    size_t len = 0, shown = 0, k = 0;
    FILE *f;

    (void)state;
    assert_non_null(path);
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    dm_track_init(&back);
    assert_int_equal(dm_read_file(&t, path, DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(dm_layout_track(&t, &lo, dm_test_measure, NULL, NULL, &placed, NULL, &diag), 0);
    f = open_memstream(&ass, &len);
    assert_int_equal(dm_write_ass(&t, placed, NULL, &lo, &ao, f, &diag), 0);
    fclose(f);
    assert_int_equal(dm_read_buffer(&back, ass, len, DM_FORMAT_UNKNOWN, &diag), 0);
    for (size_t i = 0; i < t.count; i++)
        shown += placed[i].shown;
    assert_int_equal(back.count, shown);
    for (size_t i = 0; i < t.count; i++) {
        const dm_comment *a = &t.items[i], *b;
        if (!placed[i].shown)
            continue;
        b = &back.items[k++];
        assert_string_equal(a->text, b->text);
        assert_int_equal(a->color, b->color);
        assert_int_equal(a->size, b->size);
        /* start times are written in centiseconds: a lane's comment rounded into its life, a
         * positioned one down */
        if (a->mode == DM_MODE_POSITIONED)
            assert_true(b->t_ms <= placed[i].start_ms && placed[i].start_ms - b->t_ms < 10);
        else
            assert_true(b->t_ms >= placed[i].start_ms && b->t_ms - placed[i].start_ms < 10);
        /* every event names its mode */
        assert_int_equal(a->mode, b->mode);
    }
    free(ass);
    free(placed);
    dm_track_clear(&t);
    dm_track_clear(&back);
}

/* ---------------------------------------------------------------- offsets and the summary */

static void test_offsets(void **state)
{
    const char *a = "<i><d p=\"1,1,25,0,0,0,u,a1\">a</d><d p=\"2,1,25,0,0,0,u,a2\">b</d></i>";
    const char *b = "[{\"text\":\"late\",\"time\":1},{\"text\":\"early\",\"time\":0.5}]";
    dm_track_file fa = { .path = NULL }, fb = { .path = NULL };
    dm_scene_opts so = { .layout = DM_LAYOUT_OPTS_DEFAULT, .measure = dm_test_measure };
    dm_diag diag;
    dm_test_warnings log;
    dm_scene *sc;
    const dm_comment *c;
    const dm_placed *p;
    char pa[512], line[256];

    (void)state;
    snprintf(pa, sizeof pa, "%s", write_file("a.xml", a, strlen(a)));
    fa.path = pa;
    fa.offset_ms = 12500;
    fb.path = write_file("b.json", b, strlen(b));
    fb.offset_ms = -800;
    dm_test_diag_init(&diag, &log);
    sc = dm_scene_new(&so, &diag);
    assert_non_null(sc);
    assert_int_equal(dm_scene_read(sc, &fa, &diag), 0);
    assert_int_equal(dm_scene_read(sc, &fb, &diag), 0);
    assert_int_equal(dm_scene_count(sc), 4);
    c = dm_scene_comments(sc);
    /* each offset belongs to its own file */
    assert_int_equal(c[0].t_ms, 13500);
    assert_int_equal(c[1].t_ms, 14500);
    assert_int_equal(c[2].t_ms, 200);
    assert_int_equal(c[3].t_ms, -300);
    assert_int_equal(dm_scene_layout(sc, &diag), 0);
    p = dm_scene_placed(sc);
    assert_true(p[0].shown && p[0].start_ms == 13500);
    assert_false(p[3].shown);   /* before the film starts */
    assert_int_equal(p[3].reason, DM_REASON_INVALID);
    assert_string_equal(dm_scene_summary(sc, line, sizeof line), "shown 3 of 4; not shown: 1 invalid");
    dm_scene_free(&sc);
}

static void test_summary_order_and_live(void **state)
{
    dm_scene_opts so = { .layout = DM_LAYOUT_OPTS_DEFAULT, .measure = dm_test_measure };
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    dm_scene *sc;
    char line[256];
    dm_comment c = { .color = 0xFFFFFF, .weight = -1, .count = 1 };
    dm_scene_tally tally;

    (void)state;
    dm_track_init(&t);
    for (int i = 0; i < 6; i++) {
        c.t_ms = 1000 * i;
        c.text = (char *)"x";
        c.rejected = i < 3 ? DM_REASON_MALFORMED : 0;
        c.deleted = i == 3 ? DM_DELETED_BEFORE : 0;
        assert_int_equal(dm_track_push(&t, &c), 0);
    }
    c.rejected = DM_REASON_UNSUPPORTED;
    c.deleted = 0;
    assert_int_equal(dm_track_push(&t, &c), 0);
    dm_test_diag_init(&diag, &log);
    sc = dm_scene_new(&so, &diag);
    assert_int_equal(dm_scene_add_track(sc, &t), 0);
    /* reasons by count, most first */
    assert_string_equal(dm_scene_summary(sc, line, sizeof line),
                        "shown 2 of 7; not shown: 3 malformed, 1 unsupported, 1 deleted");
    dm_scene_tally_get(sc, &tally);
    assert_int_equal(tally.total, 7);
    assert_int_equal(tally.reasons[DM_REASON_MALFORMED], 3);
    assert_int_equal(tally.pending, 0);
    dm_scene_free(&sc);
    /* a live scene: what the film has not reached is not counted as shown or lost */
    so.live = 1;
    sc = dm_scene_new(&so, &diag);
    assert_int_equal(dm_scene_add_track(sc, &t), 0);
    assert_int_equal(dm_scene_advance(sc, 0, 2500), 0);
    assert_string_equal(dm_scene_summary(sc, line, sizeof line),
                        "shown 0 of 7; not shown: 3 malformed; 4 not reached yet");
    dm_scene_free(&sc);
    /* a conversion without a layout counts what the readers kept */
    so.live = 0;
    so.measure = NULL;
    sc = dm_scene_new(&so, &diag);
    assert_int_equal(dm_scene_add_track(sc, &t), 0);
    assert_string_equal(dm_scene_summary(sc, line, sizeof line), "kept 3 of 7; not kept: 3 malformed, 1 unsupported");
    dm_scene_free(&sc);
    dm_track_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_artplayer),
        cmocka_unit_test(test_dplayer),
        cmocka_unit_test(test_detection_and_unknown_input),
        cmocka_unit_test(test_positioned_cut_short),
        cmocka_unit_test(test_newlines_and_c1),
        cmocka_unit_test(test_ass_from_danmaku2ass),
        cmocka_unit_test(test_ass_from_danmakufactory),
        cmocka_unit_test(test_ass_round_trip),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_summary_order_and_live),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
