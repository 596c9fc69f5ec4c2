/* test_readers.c - track readers on the real tracks and on broken input:
 * counts, modes, sanitising, and the messages that name the bad line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "danmaku.h"
#include "testutil.h"

/* Warnings collected by a test, one per line. */
static size_t count_mode(const dm_track *t, dm_mode mode)
{
    size_t n = 0;

    for (size_t i = 0; i < t->count; i++)
        n += t->items[i].mode == mode;
    return n;
}

static size_t count_size(const dm_track *t, dm_size size)
{
    size_t n = 0;

    for (size_t i = 0; i < t->count; i++)
        n += t->items[i].size == size;
    return n;
}

/* Comments the reader kept for the accounting only, with this reason. */
static size_t count_rejected(const dm_track *t, int reason)
{
    size_t n = 0;

    for (size_t i = 0; i < t->count; i++)
        n += t->items[i].rejected == reason;
    return n;
}

/* Every comment text is valid for the renderer: no C0 control but '\n'. */
static void assert_texts_clean(const dm_track *t)
{
    for (size_t i = 0; i < t->count; i++) {
        const unsigned char *s = (const unsigned char *)t->items[i].text;
        assert_non_null(s);
        if (!t->items[i].rejected)
            assert_true(s[0] != 0);
        for (; *s; s++) {
            assert_true(*s >= 0x20 || *s == '\n');
            assert_false(s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F);   /* no C1 control */
        }
    }
}

/* Read a real track (skipping the test when ../shared is not there). */
static int read_track_file(const char *name, dm_track *t, dm_diag *diag)
{
    char spec[256];
    const char *path;

    snprintf(spec, sizeof spec, "real:%s", name);
    path = dm_test_suite_track(spec);
    if (!path)
        skip();
    dm_track_init(t);
    return dm_read_file(t, path, DM_FORMAT_UNKNOWN, diag);
}

static int read_xml(dm_track *t, const char *xml, dm_diag *diag)
{
    dm_track_init(t);
    return dm_read_bilibili_xml(t, xml, strlen(xml), diag);
}

/* ---------------------------------------------------------------- real tracks */

static void test_real_dense(void **state)
{
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_track_file("bilibili-dense-180s.xml", &t, &diag), 0);
    assert_int_equal(t.count, 1200);
    assert_int_equal(count_mode(&t, DM_MODE_SCROLL), 979);
    assert_int_equal(count_mode(&t, DM_MODE_TOP), 151);
    assert_int_equal(count_mode(&t, DM_MODE_BOTTOM), 70);
    /* 9-field p: the weight is known for every comment. */
    for (size_t i = 0; i < t.count; i++) {
        assert_in_range(t.items[i].weight, 0, 10);
        assert_non_null(t.items[i].id);
        assert_non_null(t.items[i].author);
        assert_in_range(t.items[i].bili_mode, 1, 5);
    }
    /* First comment of the file: p="0.47900,4,25,15138834,1626077354,0,5bd04b14,...,10" */
    assert_int_equal(t.items[0].t_ms, 479);
    assert_int_equal(t.items[0].mode, DM_MODE_BOTTOM);
    assert_int_equal(t.items[0].color, 15138834);
    assert_int_equal(t.items[0].sent, 1626077354);
    assert_string_equal(t.items[0].author, "5bd04b14");
    assert_string_equal(t.items[0].id, "51870527213010951");
    assert_int_equal(t.items[0].weight, 10);
    assert_string_equal(t.items[0].text, "才发现歌是喵酱自己唱的啊啊太棒了");
    assert_texts_clean(&t);
    assert_int_equal(diag.error[0], 0);
    dm_track_clear(&t);
}

static void test_real_comment(void **state)
{
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_track_file("bilibili-comment-506s.xml", &t, &diag), 0);
    assert_int_equal(t.count, 1386);
    assert_int_equal(count_mode(&t, DM_MODE_SCROLL), 1202);
    assert_int_equal(count_size(&t, DM_SIZE_LARGE), 45);
    assert_int_equal(count_size(&t, DM_SIZE_SMALL), 125);
    for (size_t i = 0; i < t.count; i++)
        assert_int_equal(t.items[i].weight, -1);  /* 8-field p: unknown */
    assert_texts_clean(&t);
    dm_track_clear(&t);
}

static void test_real_boss_positioned(void **state)
{
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    int found_fraction = 0, found_pixels = 0;

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_track_file("bilibili-boss-258s.xml", &t, &diag), 0);
    assert_int_equal(t.count, 1000);
    assert_int_equal(count_mode(&t, DM_MODE_SCROLL), 770);
    assert_int_equal(count_mode(&t, DM_MODE_POSITIONED), 63);
    for (size_t i = 0; i < t.count; i++) {
        const dm_comment *c = &t.items[i];
        if (c->mode != DM_MODE_POSITIONED) {
            assert_null(c->pos);
            continue;
        }
        assert_non_null(c->pos);
        assert_int_equal(c->bili_mode, 7);
        assert_true(c->pos->life_ms > 0);
        /* The displayed text is element 4, never the JSON array itself. */
        assert_true(c->text[0] != '[');
        if (!strcmp(c->text, "嘴上说不要，身体却很老实嘛")) {
            /* [0.3,0.55,"1-1",2,...]: fractions of the stage */
            assert_true(c->pos->x0 > 0.2999 && c->pos->x0 < 0.3001);
            assert_true(c->pos->y0 > 0.5499 && c->pos->y0 < 0.5501);
            assert_int_equal(c->pos->life_ms, 2000);
            found_fraction = 1;
        }
        if (!strcmp(c->text, "下属蓝")) {
            /* [37,73,"1-1",7,"下属蓝",0,0,217,189,500,...]: pixels of 672x438 */
            assert_true(c->pos->x0 > 37 / 672.0 - 1e-9 && c->pos->x0 < 37 / 672.0 + 1e-9);
            assert_true(c->pos->y1 > 189 / 438.0 - 1e-9 && c->pos->y1 < 189 / 438.0 + 1e-9);
            assert_int_equal(c->pos->move_ms, 500);
            assert_int_equal(c->pos->life_ms, 7000);
            found_pixels = 1;
        }
    }
    assert_true(found_fraction);
    assert_true(found_pixels);
    assert_texts_clean(&t);
    dm_track_clear(&t);
}

static void test_real_burst_controls(void **state)
{
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    /* This file holds raw 0x08 and 0x1D bytes, which XML forbids. */
    assert_int_equal(read_track_file("bilibili-burst-111s.xml", &t, &diag), 0);
    assert_int_equal(t.count, 1783);
    assert_non_null(strstr(log.text, "removed 2 control characters"));
    assert_texts_clean(&t);
    dm_track_clear(&t);
}

static void test_real_niconico(void **state)
{
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    size_t red = 0;

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_track_file("niconico-410s.json", &t, &diag), 0);
    assert_int_equal(t.count, 4630);
    /* Expected figures counted from the file's `mail` commands (last wins). */
    assert_int_equal(count_mode(&t, DM_MODE_TOP), 162);
    assert_int_equal(count_mode(&t, DM_MODE_BOTTOM), 358);
    assert_int_equal(count_mode(&t, DM_MODE_SCROLL), 4110);
    assert_int_equal(count_size(&t, DM_SIZE_LARGE), 2489);
    assert_int_equal(count_size(&t, DM_SIZE_SMALL), 81);
    for (size_t i = 0; i < t.count; i++)
        red += t.items[i].color == 0xFF0000;
    assert_int_equal(red, 707);
    assert_string_equal(t.items[0].text, "うぽつ");
    assert_string_equal(t.items[0].id, "38538");
    assert_int_equal(t.items[0].sent, 1637314561);
    for (size_t i = 0; i < t.count; i++)
        assert_in_range(t.items[i].t_ms, 0, 410500);
    dm_track_clear(&t);
}

/*
 * The generated tracks: every comment the generator wrote is read, with the
 * mode it wrote (its manifest says how many of each), and the texts are clean.
 */
static void test_generated_tracks(void **state)
{
    char path[4096];
    size_t len;
    char *buf;
    cJSON *manifest, *entry;
    int files = 0;

    (void)state;
    snprintf(path, sizeof path, "%s", dm_test_suite_track("gen:manifest.json"));
    buf = dm_test_slurp(path, &len);
    assert_non_null(buf);
    manifest = cJSON_Parse(buf);
    assert_non_null(manifest);
    cJSON_ArrayForEach(entry, manifest) {
        static const char *const modes[] = { "scroll", "reverse", "top", "bottom", "positioned" };
        char spec[512];
        const cJSON *m = cJSON_GetObjectItem(entry, "modes"), *unsupported = cJSON_GetObjectItem(m, "unsupported");
        dm_track t;
        dm_diag diag;
        dm_test_warnings log;
        size_t bili8 = 0;

        snprintf(spec, sizeof spec, "gen:%s", entry->string);
        dm_test_diag_init(&diag, &log);
        dm_track_init(&t);
        assert_int_equal(dm_read_file(&t, dm_test_suite_track(spec), DM_FORMAT_UNKNOWN, &diag), 0);
        assert_int_equal(t.count, cJSON_GetObjectItem(entry, "count")->valueint);
        for (size_t i = 0; i < t.count; i++)
            bili8 += t.items[i].bili_mode == 8;
        for (int k = 0; k < DM_MODE_COUNT; k++) {
            const cJSON *want = cJSON_GetObjectItem(m, modes[k]);
            /* script comments (Bilibili mode 8) come as scrolling ones the layout does not show */
            size_t extra = k == DM_MODE_SCROLL ? bili8 : 0;
            assert_int_equal(count_mode(&t, (dm_mode)k), (want ? (size_t)want->valueint : 0) + extra);
        }
        assert_int_equal(bili8, unsupported ? (size_t)unsupported->valueint : 0);
        assert_texts_clean(&t);
        assert_int_equal(diag.warnings, 0);
        dm_track_clear(&t);
        files++;
    }
    assert_true(files >= 4);
    cJSON_Delete(manifest);
    free(buf);
}

/* ---------------------------------------------------------------- Bilibili XML */

static void test_xml_fields_entities_cdata(void **state)
{
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<i>\n"
        "<d p=\"1.5,1,25,16777215,100,0,abc,11\">a &amp; b &lt;c&gt; &#x4E2D;</d>\n"
        "<d p=\"2,6,18,255,0,1,u2,12,3\"><![CDATA[<raw> & text]]></d>\n"
        "<d p=\"3,8,30,0,0,2,u3,13\">Player.seek(0)</d>\n"
        "<d p=\"4,9,35,0,0,2,u4,14\">def text</d>\n"
        "<d p=\"5,2,50,0,0,0,,\">line1\r\nline2\rline3 /n kept</d>\n"
        "</i>\n";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, xml, &diag), 0);
    assert_int_equal(t.count, 5);
    assert_string_equal(t.items[0].text, "a & b <c> 中");
    assert_int_equal(t.items[0].t_ms, 1500);
    assert_int_equal(t.items[0].size, DM_SIZE_NORMAL);
    assert_int_equal(t.items[0].weight, -1);
    assert_string_equal(t.items[1].text, "<raw> & text");
    assert_int_equal(t.items[1].mode, DM_MODE_REVERSE);
    assert_int_equal(t.items[1].size, DM_SIZE_SMALL);
    assert_int_equal(t.items[1].color, 255);
    assert_int_equal(t.items[1].pool, 1);
    assert_int_equal(t.items[1].weight, 3);
    assert_int_equal(t.items[2].bili_mode, 8);
    assert_int_equal(t.items[2].size, DM_SIZE_NORMAL);  /* 30: nearest is 25 */
    assert_int_equal(t.items[3].bili_mode, 9);
    assert_int_equal(t.items[3].size, DM_SIZE_LARGE);   /* 35: nearest is 36 */
    assert_int_equal(t.items[4].bili_mode, 2);
    assert_int_equal(t.items[4].mode, DM_MODE_SCROLL);
    assert_null(t.items[4].author);
    assert_null(t.items[4].id);
    assert_string_equal(t.items[4].text, "line1\nline2\nline3 /n kept");
    assert_int_equal(diag.warnings, 0);
    dm_track_clear(&t);
}

static void test_xml_positioned_forms(void **state)
{
    const char *xml =
        "<i>\n"
        "<d p=\"1,7,25,0,0,2,u,1\">[\"0.5\",\"0.25\",\"0.8-0.2\",\"3.5\",\"hi\",0,10,\"0.75\",\"0.25\","
        "1200,300,false]</d>\n"
        "<d p=\"2,7,25,0,0,2,u,2\">[336,219,\"1-1\",2,\"px\"]</d>\n"
        "<d p=\"3,7,25,0,0,2,u,3\">[\"1\",1.0,\"1-1\",2,\"one\"]</d>\n"
        "<d p=\"4,7,25,0,0,2,u,4\">not json</d>\n"
        "<d p=\"5,7,25,0,0,2,u,5\">[1,2,\"1-1\",2]</d>\n"
        "</i>";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, xml, &diag), 0);
    /* every <d> is a comment of the track; the two that cannot be read are malformed */
    assert_int_equal(t.count, 5);
    assert_int_equal(count_rejected(&t, DM_REASON_MALFORMED), 2);
    assert_int_equal(t.items[3].rejected, DM_REASON_MALFORMED);
    assert_string_equal(t.items[3].text, "not json");
    assert_null(t.items[3].pos);
    assert_string_equal(t.items[3].id, "4");
    assert_int_equal(t.items[3].t_ms, 4000);
    assert_int_equal(t.items[4].rejected, DM_REASON_MALFORMED);
    assert_string_equal(t.items[0].text, "hi");
    assert_true(t.items[0].pos->x0 == 0.5 && t.items[0].pos->y0 == 0.25);
    assert_true(t.items[0].pos->x1 == 0.75 && t.items[0].pos->y1 == 0.25);
    assert_true(t.items[0].pos->alpha0 == 0.8 && t.items[0].pos->alpha1 == 0.2);
    assert_int_equal(t.items[0].pos->life_ms, 3500);
    assert_int_equal(t.items[0].pos->move_ms, 1200);
    assert_int_equal(t.items[0].pos->move_delay_ms, 300);
    assert_int_equal(t.items[0].pos->outline, 0);
    assert_true(t.items[0].pos->rotate_y == 10);
    /* pixels on the 672x438 stage: the centre */
    assert_true(t.items[1].pos->x0 == 0.5 && t.items[1].pos->y0 == 0.5);
    assert_true(t.items[1].pos->x1 == 0.5 && t.items[1].pos->y1 == 0.5);
    /* "1" (no point) and the integer 1 are pixels */
    assert_true(t.items[2].pos->x0 == 1 / 672.0);
    assert_true(t.items[2].pos->y0 == 1 / 438.0);
    assert_int_equal(diag.warnings, 2);
    assert_non_null(strstr(log.text, "line 5:"));
    assert_non_null(strstr(log.text, "line 6:"));
    dm_track_clear(&t);
}

static void test_xml_malformed_p(void **state)
{
    const char *xml =
        "<i>\n"
        "<d p=\"1,1,25,0,0,0,u,1\">ok</d>\n"        /* line 2 */
        "<d p=\"1,1,25\">few</d>\n"                 /* line 3 */
        "<d p=\"abc,1,25,0,0,0,u,1\">nan</d>\n"     /* line 4 */
        "<d p=\"-1,1,25,0,0,0,u,1\">neg</d>\n"      /* line 5 */
        "<d p=\"NaN,1,25,0,0,0,u,1\">NaN</d>\n"     /* line 6 */
        "<d p=\"inf,1,25,0,0,0,u,1\">inf</d>\n"     /* line 7 */
        "<d p=\"1e300,1,25,0,0,0,u,1\">big</d>\n"   /* line 8 */
        "<d p=\"1,12,25,0,0,0,u,1\">mode</d>\n"     /* line 9 */
        "<d p=\"1,1,25,undefined,0,0,u,1\">c</d>\n" /* line 10: kept, white */
        "<d>no p</d>\n"                             /* line 11 */
        "<d p=\"1,1,25,0,0,0,u,1\"></d>\n"          /* line 12: empty text */
        "<d p=\"2,1,25,0,0,0,u,2\">ok2</d>\n"       /* line 13 */
        "</i>";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    char needle[32];

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, xml, &diag), 0);
    /* all 12 <d> are accounted for: 8 malformed, one with an empty text (the layout's "invalid") */
    assert_int_equal(t.count, 12);
    assert_int_equal(count_rejected(&t, DM_REASON_MALFORMED), 8);
    assert_string_equal(t.items[0].text, "ok");
    assert_int_equal(t.items[0].rejected, 0);
    assert_string_equal(t.items[1].text, "few");
    assert_int_equal(t.items[1].rejected, DM_REASON_MALFORMED);
    assert_null(t.items[1].id);                      /* 3 fields: no id to keep */
    assert_string_equal(t.items[2].id, "1");         /* 8 fields: the id is kept */
    assert_int_equal(t.items[3].t_ms, 0);            /* a negative time is not kept */
    assert_string_equal(t.items[8].text, "c");
    assert_int_equal(t.items[8].rejected, 0);
    assert_int_equal(t.items[8].color, 0xFFFFFF);
    assert_string_equal(t.items[9].text, "no p");
    assert_int_equal(t.items[9].rejected, DM_REASON_MALFORMED);
    assert_string_equal(t.items[10].text, "");
    assert_int_equal(t.items[10].rejected, 0);
    assert_string_equal(t.items[11].text, "ok2");
    assert_int_equal(diag.warnings, 10);
    assert_non_null(strstr(log.text, "1 comment had no valid colour"));
    for (int line = 3; line <= 12; line++) {
        if (line == 10)
            continue;
        snprintf(needle, sizeof needle, "line %d:", line);
        assert_non_null(strstr(log.text, needle));
    }
    assert_non_null(strstr(log.text, "line 3: malformed p attribute: 3 fields"));
    assert_non_null(strstr(log.text, "line 12: empty text"));
    dm_track_clear(&t);
}

static void test_xml_truncated(void **state)
{
    size_t len, cut, lines = 1;
    char *buf = dm_test_slurp(dm_test_suite_track("gen:gen-bilibili-long-600s.xml"), &len);
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    char needle[64];

    (void)state;
    assert_non_null(buf);
    cut = len / 2;
    for (size_t i = 0; i < cut; i++)
        lines += buf[i] == '\n';
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_bilibili_xml(&t, buf, cut, &diag), 0);
    assert_true(t.count > 500 && t.count < 2307);
    snprintf(needle, sizeof needle, "truncated at line %zu", lines);
    assert_non_null(strstr(log.text, needle));
    assert_int_equal(diag.error[0], 0);
    dm_track_clear(&t);
    free(buf);
}

static void test_xml_syntax_error(void **state)
{
    const char *xml = "<i>\n<d p=\"1,1,25,0,0,0,u,1\">ok</d>\n  <d p=\"2,1,25,0,0,0,u,2\">x</b>\n</i>";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, xml, &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "line 3, column 30: mismatched tag"));
    assert_int_equal(t.count, 1);  /* what came before the error stays */
    dm_track_clear(&t);
}

static void test_xml_empty(void **state)
{
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, "", &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "empty"));
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, "<?xml version=\"1.0\"?>\n", &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "line 2"));
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, "<i></i>", &diag), 0);
    assert_int_equal(t.count, 0);
    dm_track_clear(&t);
}

static void test_xml_controls_and_bad_utf8(void **state)
{
    /* C1 controls (U+0085 NEL, U+009F) reach the text as UTF-8 and as references: removed too */
    const char *xml = "<i><d p=\"1,1,25,0,0,0,u,1\">a\x01" "b&#1;c&#x1F;d\x7f\xc2\x85&#x9F;</d>"
                      "<d p=\"2,1,25,0,0,0,u,2\">bad \xff\xfe utf8 \xe4\xb8</d>"
                      "<d p=\"3,1,25,0,0,0,u,3\">&#0;</d></i>";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, xml, &diag), 0);
    assert_int_equal(t.count, 3);
    assert_string_equal(t.items[2].text, "");   /* kept, empty: the layout's "invalid" */
    assert_string_equal(t.items[0].text, "abcd\x7f");
    assert_string_equal(t.items[1].text, "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8 \xEF\xBF\xBD\xEF\xBF\xBD");
    assert_non_null(strstr(log.text, "removed 4 control characters"));
    assert_non_null(strstr(log.text, "invalid UTF-8"));
    assert_non_null(strstr(log.text, "line 1: empty text"));
    dm_track_clear(&t);
}

/* Older tools saved GBK or Shift_JIS and said so in the declaration. */
static void test_xml_declared_encodings(void **state)
{
    /* 前方高能 in GBK; ここ好き in Shift_JIS; a byte GBK does not allow (0xFF) */
    const char *gbk = "<?xml version=\"1.0\" encoding=\"GBK\"?><i><d p=\"1,1,25,16777215,0,0,u,1\">"
                      "\xC7\xB0\xB7\xBD\xB8\xDF\xC4\xDC</d><d p=\"2,1,25,16777215,0,0,u,2\">a\xFF" "b</d></i>";
    const char *sjis = "<?xml version='1.0' encoding='shift_jis' ?>\n<i><d p=\"1,1,25,16777215,0,0,u,1\">"
                       "\x82\xB1\x82\xB1\x8D\x44\x82\xAB</d></i>";
    const char *unknown = "<?xml version=\"1.0\" encoding=\"x-no-such-charset\"?><i><d p=\"1,1,25,0,0,0,u,1\">ok</d></i>";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, gbk, &diag), 0);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.items[0].text, "前方高能");
    assert_string_equal(t.items[1].text, "a\xEF\xBF\xBD" "b");
    assert_non_null(strstr(log.text, "not valid in GBK"));
    dm_track_clear(&t);

    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, sjis, &diag), 0);
    assert_int_equal(t.count, 1);
    assert_string_equal(t.items[0].text, "ここ好き");
    assert_int_equal(diag.warnings, 0);
    dm_track_clear(&t);

    /* what the declaration says loses to the bytes: a UTF-8 byte order mark,
     * UTF-8 text under a GBK declaration, "utf-16" on a file read byte by byte */
    const char *says_wrong[] = {
        "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"GBK\"?><i><d p=\"1,1,25,0,0,0,u,1\">前方</d></i>",
        "<?xml version=\"1.0\" encoding=\"gb2312\"?><i><d p=\"1,1,25,0,0,0,u,1\">前方</d></i>",
        "<?xml version=\"1.0\" encoding=\"utf-16\"?><i><d p=\"1,1,25,0,0,0,u,1\">前方</d></i>",
    };
    for (size_t k = 0; k < sizeof says_wrong / sizeof says_wrong[0]; k++) {
        dm_test_diag_init(&diag, &log);
        assert_int_equal(read_xml(&t, says_wrong[k], &diag), 0);
        assert_int_equal(t.count, 1);
        assert_string_equal(t.items[0].text, "前方");
        if (k == 1)
            assert_non_null(strstr(log.text, "declares encoding \"gb2312\" but is UTF-8"));
        dm_track_clear(&t);
    }

    dm_test_diag_init(&diag, &log);
    assert_int_equal(read_xml(&t, unknown, &diag), 0);
    assert_int_equal(t.count, 1);
    assert_string_equal(t.items[0].text, "ok");
    assert_non_null(strstr(log.text, "unknown encoding \"x-no-such-charset\""));
    dm_track_clear(&t);
}

static void test_xml_huge_attribute(void **state)
{
    const size_t big = 1u << 20;
    const char *head = "<i><d p=\"1,1,25,0,0,0,u,";
    const char *mid = "\">";
    const char *tail = "</d><d p=\"";
    const char *end = "\">x</d></i>";
    size_t hl = strlen(head), ml = strlen(mid), tl = strlen(tail), el = strlen(end);
    size_t len = hl + big + ml + big + tl + big + el;
    char *xml = malloc(len + 1);
    char *p = xml;
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    assert_non_null(xml);
    memcpy(p, head, hl), p += hl;
    memset(p, '7', big), p += big;   /* a 1 MiB id */
    memcpy(p, mid, ml), p += ml;
    memset(p, 'w', big), p += big;   /* a 1 MiB text */
    memcpy(p, tail, tl), p += tl;
    memset(p, '1', big), p += big;   /* a 1 MiB p of one field */
    memcpy(p, end, el), p += el;
    *p = 0;
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_bilibili_xml(&t, xml, len, &diag), 0);
    assert_int_equal(t.count, 2);
    assert_int_equal(t.items[1].rejected, DM_REASON_MALFORMED);
    assert_string_equal(t.items[1].text, "x");
    assert_int_equal(strlen(t.items[0].id), big);
    assert_int_equal(strlen(t.items[0].text), big);
    assert_non_null(strstr(log.text, "line 1: malformed p attribute: 1 fields"));
    dm_track_clear(&t);
    free(xml);
}

/* ---------------------------------------------------------------- JSON */

static void test_dandanplay(void **state)
{
    const char *json =
        "{\"count\":5,\"comments\":["
        "{\"cid\":1,\"p\":\"1.25,1,16777215,[BiliBili]abc\",\"m\":\"hello\"},"
        "{\"cid\":2,\"p\":\"2.5,5,255,u2\",\"m\":\"top\"},"
        "{\"cid\":3,\"p\":\"3,4,65280,u3\",\"m\":\"bottom\"},"
        "{\"cid\":4,\"p\":\"4,6,0,u4\",\"m\":\"reverse\"},"
        "{\"cid\":5,\"p\":\"-1,1,0,u5\",\"m\":\"negative\"},"
        "{\"cid\":6,\"p\":\"1,1\",\"m\":\"short\"},"
        "{\"cid\":7,\"p\":\"1,1,0,u\"}"
        "]}";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_dandanplay_json(&t, json, strlen(json), &diag), 0);
    assert_int_equal(t.count, 7);
    assert_int_equal(count_rejected(&t, DM_REASON_MALFORMED), 3);
    assert_string_equal(t.items[4].text, "negative");
    assert_string_equal(t.items[4].id, "5");
    assert_int_equal(t.items[6].rejected, DM_REASON_MALFORMED);   /* no "m": no text */
    assert_int_equal(t.items[0].t_ms, 1250);
    assert_string_equal(t.items[0].author, "[BiliBili]abc");
    assert_string_equal(t.items[0].id, "1");
    assert_int_equal(t.items[1].mode, DM_MODE_TOP);
    assert_int_equal(t.items[1].color, 255);
    assert_int_equal(t.items[2].mode, DM_MODE_BOTTOM);
    assert_int_equal(t.items[3].mode, DM_MODE_REVERSE);
    assert_int_equal(t.items[3].bili_mode, 0);
    assert_int_equal(diag.warnings, 3);
    assert_non_null(strstr(log.text, "comment 4 (cid 5)"));
    assert_non_null(strstr(log.text, "comment 5 (cid 6)"));
    assert_non_null(strstr(log.text, "comment 6 (cid 7)"));
    dm_track_clear(&t);
}

static void test_json_not_object_and_truncated(void **state)
{
    const char *trunc = "{\"comments\":[\n{\"cid\":1,\n\"p\":\"1,1,0,u\",\"m\":\"a\"},\n{\"cid\":";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_dandanplay_json(&t, "[1,2]", 5, &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "expected an object"));
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_dandanplay_json(&t, "\"str\"", 5, &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "expected an object"));
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_dandanplay_json(&t, trunc, strlen(trunc), &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "line 4"));
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_niconico_json(&t, "{\"a\":1}", 7, &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "expected an array"));
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_niconico_json(&t, "[{\"vpos\":1,", 11, &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "line 1"));
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_niconico_json(&t, "", 0, &diag), DM_EPARSE);
    assert_int_equal(t.count, 0);
    dm_track_clear(&t);
}

static void test_niconico_forms(void **state)
{
    const char *arr =
        "[{\"thread\":{\"resultcode\":0}},"
        "{\"chat\":{\"no\":7,\"vpos\":150,\"mail\":\"184 shita small #00ff80\",\"content\":\"a\"}},"
        "{\"id\":8,\"vpos\":200,\"mail\":[\"ue\",\"big\",\"niconicowhite\"],\"content\":\"b\"},"
        "{\"id\":9,\"vpos\":-5,\"mail\":[],\"content\":\"neg\"},"
        "{\"id\":10,\"vpos\":300,\"mail\":[\"purple2\"],\"content\":\"c\",\"deleted\":1}]";
    const char *v1 =
        "{\"meta\":{\"status\":200},\"data\":{\"threads\":[{\"id\":\"1\",\"comments\":["
        "{\"id\":\"x\",\"no\":1,\"vposMs\":1234,\"body\":\"v1\",\"commands\":[\"naka\",\"red\"],"
        "\"userId\":\"abc\"}]}]}}";
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_niconico_json(&t, arr, strlen(arr), &diag), 0);
    assert_int_equal(t.count, 4);
    /* the thread header is no comment; the negative vpos is a malformed one, text and id kept */
    assert_int_equal(t.items[2].rejected, DM_REASON_MALFORMED);
    assert_string_equal(t.items[2].text, "neg");
    assert_string_equal(t.items[2].id, "9");
    dm_comment_free(&t.items[2]);
    memmove(&t.items[2], &t.items[3], sizeof t.items[2]);   /* the checks below: the readable ones */
    t.count--;
    assert_string_equal(t.items[0].id, "7");
    assert_int_equal(t.items[0].t_ms, 1500);
    assert_int_equal(t.items[0].mode, DM_MODE_BOTTOM);
    assert_int_equal(t.items[0].size, DM_SIZE_SMALL);
    assert_int_equal(t.items[0].color, 0x00FF80);
    assert_int_equal(t.items[1].mode, DM_MODE_TOP);
    assert_int_equal(t.items[1].size, DM_SIZE_LARGE);
    assert_int_equal(t.items[1].color, 0xCCCC99);
    assert_int_equal(t.items[2].color, 0x6633CC);
    assert_int_equal(t.items[2].deleted, DM_DELETED_BEFORE);   /* never shown on niconico */
    assert_int_equal(diag.warnings, 1);
    assert_non_null(strstr(log.text, "comment 2 (id 9)"));
    assert_int_equal(dm_read_niconico_json(&t, v1, strlen(v1), &diag), 0);
    assert_int_equal(t.count, 4);
    assert_int_equal(t.items[3].t_ms, 1234);
    assert_string_equal(t.items[3].text, "v1");
    assert_string_equal(t.items[3].author, "abc");
    assert_int_equal(t.items[3].color, 0xFF0000);
    dm_track_clear(&t);
}

/* ---------------------------------------------------------------- JSONL */

static void test_jsonl(void **state)
{
    const char *jl =
        "{\"type\":\"track\",\"format\":\"danmaku\",\"version\":1}\n"            /* 1 */
        "{\"type\":\"comment\",\"t_ms\":100,\"text\":\"a\",\"id\":\"c1\"}\n"      /* 2 */
        "{\"t_ms\":200,\"text\":\"b\",\"mode\":\"top\",\"size\":\"large\","
        "\"color\":\"#FF8000\",\"id\":\"c2\",\"author\":\"u\",\"sent\":5,\"pool\":1,"
        "\"weight\":7,\"future_key\":[1,2]}\r\n"                                  /* 3 */
        "\n"                                                                      /* 4 */
        "{\"t_ms\":300,\"text\":\"pos\",\"mode\":\"positioned\",\"pos\":{\"x0\":0.1,"
        "\"y0\":0.2,\"x1\":0.3,\"life_ms\":2500,\"move_ms\":400,\"outline\":false}}\n" /* 5 */
        "{\"t_ms\":400,\"text\":\"x\",\"mode\":\"sideways\"}\n"                  /* 6 */
        "{\"t_ms\":\"soon\",\"text\":\"x\"}\n"                                    /* 7 */
        "{\"t_ms\":1,\"text\":\"x\"} trailing\n"                                  /* 8 */
        "{\"type\":\"delete\",\"id\":\"c1\"}\n"                                   /* 9 */
        "{\"type\":\"delete\",\"id\":\"nope\"}\n"                                 /* 10 */
        "{\"type\":\"reaction\",\"emoji\":\"+1\"}\n"                              /* 11 */
        "[1,2,3]\n"                                                               /* 12 */
        "{\"t_ms\":-5,\"text\":\"x\"}\n"                                          /* 13 */
        "{\"t_ms\":500,\"text\":\"tail\",\"id\":\"c";                            /* 14 */
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    char needle[32];

    (void)state;
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_jsonl(&t, jl, strlen(jl), &diag), 0);
    /* three comments, and six lines of comments that cannot be read (6, 7, 8, 12, 13, 14); the
     * header, the deletes and the unknown line type are no comments */
    assert_int_equal(t.count, 9);
    assert_int_equal(count_rejected(&t, DM_REASON_MALFORMED), 6);
    for (size_t i = 3; i < 9; i++)
        assert_int_equal(t.items[i].rejected, DM_REASON_MALFORMED);
    assert_int_equal(t.items[3].t_ms, 400);            /* line 6: what was read of it is kept */
    assert_string_equal(t.items[3].text, "x");
    assert_int_equal(t.items[0].deleted, DM_DELETED_ON_SCREEN);   /* a host's delete keeps its lanes */
    assert_int_equal(t.items[1].deleted, 0);
    assert_int_equal(t.items[1].mode, DM_MODE_TOP);
    assert_int_equal(t.items[1].size, DM_SIZE_LARGE);
    assert_int_equal(t.items[1].color, 0xFF8000);
    assert_string_equal(t.items[1].author, "u");
    assert_int_equal(t.items[1].sent, 5);
    assert_int_equal(t.items[1].pool, 1);
    assert_int_equal(t.items[1].weight, 7);
    assert_int_equal(t.items[0].weight, -1);
    assert_int_equal(t.items[0].color, 0xFFFFFF);
    assert_non_null(t.items[2].pos);
    assert_true(t.items[2].pos->x0 == 0.1 && t.items[2].pos->x1 == 0.3);
    assert_true(t.items[2].pos->y1 == 0.2);  /* y1 defaults to y0 */
    assert_int_equal(t.items[2].pos->life_ms, 2500);
    assert_int_equal(t.items[2].pos->outline, 0);
    assert_int_equal(diag.warnings, 8);
    for (int line = 6; line <= 14; line++) {
        if (line == 9)
            continue;
        snprintf(needle, sizeof needle, "line %d", line);
        assert_non_null(strstr(log.text, needle));
    }
    assert_non_null(strstr(log.text, "line 14: truncated last line"));
    assert_non_null(strstr(log.text, "line 8, column"));
    assert_int_equal(diag.error[0], 0);
    dm_track_clear(&t);
}

static void test_jsonl_every_prefix(void **state)
{
    const char *jl = "{\"type\":\"track\",\"format\":\"danmaku\",\"version\":1}\n"
                     "{\"t_ms\":1,\"text\":\"a\",\"id\":\"1\"}\n"
                     "{\"t_ms\":2,\"text\":\"b\",\"id\":\"2\"}\n"
                     "{\"type\":\"delete\",\"id\":\"1\"}\n";
    size_t len = strlen(jl);

    (void)state;
    /* A recording cut at any byte is a valid track: never an error. */
    for (size_t cut = 0; cut <= len; cut++) {
        dm_track t;
        dm_diag diag;
        dm_test_warnings log;
        dm_test_diag_init(&diag, &log);
        dm_track_init(&t);
        assert_int_equal(dm_read_jsonl(&t, jl, cut, &diag), 0);
        /* the two comments, and the line cut short as a malformed one */
        assert_true(t.count <= 3);
        assert_true(count_rejected(&t, DM_REASON_MALFORMED) <= 1);
        assert_true(t.count - count_rejected(&t, DM_REASON_MALFORMED) <= 2);
        dm_track_clear(&t);
    }
}

/* ---------------------------------------------------------------- formats */

static void test_format_detection(void **state)
{
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    int err;

    (void)state;
    assert_int_equal(dm_format_from_name("bilibili"), DM_FORMAT_BILIBILI_XML);
    assert_int_equal(dm_format_from_name("JSONL"), DM_FORMAT_JSONL);
    assert_int_equal(dm_format_from_name("niconico"), DM_FORMAT_NICONICO_JSON);
    assert_int_equal(dm_format_from_name("ass"), DM_FORMAT_ASS);
    assert_int_equal(dm_format_from_name("srt"), DM_FORMAT_UNKNOWN);
    assert_int_equal(dm_format_from_path("/a.b/track.XML"), DM_FORMAT_BILIBILI_XML);
    assert_int_equal(dm_format_from_path("rec.jsonl"), DM_FORMAT_JSONL);
    assert_int_equal(dm_format_from_path("x.json"), DM_FORMAT_UNKNOWN);
    assert_int_equal(dm_format_from_path("dir.xml/noext"), DM_FORMAT_UNKNOWN);
    assert_int_equal(dm_format_sniff("\xEF\xBB\xBF  <?xml", 10), DM_FORMAT_BILIBILI_XML);
    assert_int_equal(dm_format_sniff("[{\"vpos\":1}]", 12), DM_FORMAT_NICONICO_JSON);
    assert_int_equal(dm_format_sniff("{\"count\":1,\"comments\":[]}", 25),
                     DM_FORMAT_DANDANPLAY_JSON);
    assert_int_equal(dm_format_sniff("{\"type\":\"track\"}\n{}", 19), DM_FORMAT_JSONL);
    assert_int_equal(dm_format_sniff("{\"t_ms\":1,\"text\":\"a\"}", 21), DM_FORMAT_JSONL);
    assert_int_equal(dm_format_sniff("hello", 5), DM_FORMAT_UNKNOWN);
    assert_string_equal(dm_format_name(DM_FORMAT_JSONL), "jsonl");

    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    err = dm_read_file(&t, "/nonexistent/dir/track.xml", DM_FORMAT_UNKNOWN, &diag);
    assert_int_equal(err, DM_EIO);
    assert_non_null(strstr(diag.error, "/nonexistent/dir/track.xml"));
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_buffer(&t, "", 0, DM_FORMAT_UNKNOWN, &diag), DM_EFORMAT);
    assert_non_null(strstr(diag.error, "empty"));
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_buffer(&t, "x", 1, DM_FORMAT_ASS, &diag), DM_EFORMAT);
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_buffer(&t, "{\"t_ms\":5,\"text\":\"z\"}\n", 22, DM_FORMAT_UNKNOWN,
                                    &diag), 0);
    assert_int_equal(t.count, 1);
    assert_int_equal(t.items[0].t_ms, 5);
    dm_track_clear(&t);
}

static void test_read_file_errors_name_path(void **state)
{
    char path[] = "/tmp/dm-test-readers-XXXXXX.xml";
    int fd = mkstemps(path, 4);
    FILE *f;
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("<i><d p=\"1,1,25,0,0,0,u,1\">a</d>\n<d p=\"x\"></e></i>", f);
    fclose(f);
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_file(&t, path, DM_FORMAT_UNKNOWN, &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, path));
    assert_non_null(strstr(diag.error, "line 2, column"));
    assert_int_equal(t.count, 1);
    dm_track_clear(&t);
    /* An empty recording is a valid, empty track. */
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_file(&t, path, DM_FORMAT_JSONL, &diag), 0);
    assert_int_equal(t.count, 0);
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_file(&t, path, DM_FORMAT_UNKNOWN, &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "empty"));
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_dense),
        cmocka_unit_test(test_real_comment),
        cmocka_unit_test(test_real_boss_positioned),
        cmocka_unit_test(test_real_burst_controls),
        cmocka_unit_test(test_real_niconico),
        cmocka_unit_test(test_generated_tracks),
        cmocka_unit_test(test_xml_fields_entities_cdata),
        cmocka_unit_test(test_xml_positioned_forms),
        cmocka_unit_test(test_xml_malformed_p),
        cmocka_unit_test(test_xml_truncated),
        cmocka_unit_test(test_xml_syntax_error),
        cmocka_unit_test(test_xml_empty),
        cmocka_unit_test(test_xml_controls_and_bad_utf8),
        cmocka_unit_test(test_xml_declared_encodings),
        cmocka_unit_test(test_xml_huge_attribute),
        cmocka_unit_test(test_dandanplay),
        cmocka_unit_test(test_json_not_object_and_truncated),
        cmocka_unit_test(test_niconico_forms),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_jsonl_every_prefix),
        cmocka_unit_test(test_format_detection),
        cmocka_unit_test(test_read_file_errors_name_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
