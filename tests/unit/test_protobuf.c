/*
 * test_protobuf.c - Bilibili's protobuf segments (DmSegMobileReply), packed
 * at test time with the very code protoc-c generates from the repository's
 * bilibili_dm.proto, and with a later schema (bilibili_dm_future.proto) for
 * the fields the reader does not know; then read back from files, found by
 * their content. The odd cases real segments have: fields left out (proto3
 * defaults), no text, a huge or negative time, unknown modes, invalid UTF-8,
 * positioned comments cut short, an empty segment, cut-off bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bilibili_dm.pb-c.h"
#include "bilibili_dm_future.pb-c.h"
#include "danmaku.h"
#include "testutil.h"

typedef Bilibili__Community__Service__Dm__V1__DanmakuElem elem;
typedef Bilibili__Community__Service__Dm__V1__DmSegMobileReply reply;
#define ELEM_INIT BILIBILI__COMMUNITY__SERVICE__DM__V1__DANMAKU_ELEM__INIT
#define REPLY_INIT BILIBILI__COMMUNITY__SERVICE__DM__V1__DM_SEG_MOBILE_REPLY__INIT

static char dir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/dm-test-protobuf-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const uint8_t *data, size_t len)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Pack a segment of n comments with the generated code; malloc'd bytes. */
static uint8_t *pack(elem **elems, size_t n, int state, size_t *len)
{
    reply r = REPLY_INIT;
    uint8_t *buf;

    r.elems = elems;
    r.n_elems = n;
    r.state = state;
    *len = bilibili__community__service__dm__v1__dm_seg_mobile_reply__get_packed_size(&r);
    buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    assert_int_equal(bilibili__community__service__dm__v1__dm_seg_mobile_reply__pack(&r, buf), *len);
    return buf;
}

/* The comments of a segment as Bilibili's web API serves them, every mode and the odd cases. */
static void test_segment(void **state)
{
    elem e[14];
    elem *ptr[14];
    uint8_t *buf;
    size_t len;
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    for (int i = 0; i < 14; i++) {
        elem init = ELEM_INIT;
        e[i] = init;
        ptr[i] = &e[i];
        e[i].id = 1000 + i;
        e[i].progress = 1000 * i;
        e[i].mode = 1;
        e[i].fontsize = 25;
        e[i].color = 0xFFFFFF;
        e[i].midhash = "9f3a2c1b";
        e[i].content = "弹幕";
        e[i].ctime = 1700000000 + i;
        e[i].weight = 5;
    }
    e[0].idstr = "7331234567890123456";           /* idStr wins over id */
    e[1].mode = 4, e[1].fontsize = 18, e[1].color = 0xFF0000, e[1].content = "bottom";
    e[2].mode = 5, e[2].fontsize = 36, e[2].content = "top";
    e[3].mode = 6, e[3].content = "reverse", e[3].pool = 1;
    e[4].mode = 7, e[4].pool = 2, e[4].content = "[0.5,0.25,\"1-0\",3.5,\"pos/nline\",0,0,0.75,0.25,1000,0]";
    e[5].mode = 7, e[5].pool = 2, e[5].content = "[\"0.1\",\"0.2\",\"1-1\",\"4\",\"cut\",0,";   /* cut short */
    e[6].mode = 8, e[6].content = "Player.seek(0);";  /* a script: read, not shown */
    e[7].content = "";                                /* no text: left out of the message */
    e[8].progress = INT32_MAX;                        /* 24 days: far, but a time */
    e[9].progress = -5;                               /* before the film: malformed */
    e[10].mode = 0, e[10].fontsize = 0, e[10].color = 0, e[10].content = "defaults";   /* all left out */
    e[11].mode = 12;                                  /* no such mode */
    e[12].content = "bad \xff utf8";
    e[13].content = "a\\nb";                          /* a literal backslash-n */
    buf = pack(ptr, 14, 0, &len);
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    /* "seg.so", as the API names it: found by its content */
    assert_int_equal(dm_format_sniff((const char *)buf, len), DM_FORMAT_BILIBILI_PROTOBUF);
    assert_int_equal(dm_read_file(&t, write_file("seg.so", buf, len), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 14);
    assert_string_equal(t.items[0].id, "7331234567890123456");
    assert_string_equal(t.items[0].author, "9f3a2c1b");
    assert_int_equal(t.items[0].sent, 1700000000);
    assert_int_equal(t.items[0].weight, 5);
    assert_int_equal(t.items[0].bili_mode, 1);
    assert_string_equal(t.items[1].id, "1001");
    assert_int_equal(t.items[1].mode, DM_MODE_BOTTOM);
    assert_int_equal(t.items[1].size, DM_SIZE_SMALL);
    assert_int_equal(t.items[1].color, 0xFF0000);
    assert_int_equal(t.items[1].t_ms, 1000);
    assert_int_equal(t.items[2].mode, DM_MODE_TOP);
    assert_int_equal(t.items[2].size, DM_SIZE_LARGE);
    assert_int_equal(t.items[3].mode, DM_MODE_REVERSE);
    assert_int_equal(t.items[3].pool, 1);
    assert_int_equal(t.items[4].mode, DM_MODE_POSITIONED);
    assert_non_null(t.items[4].pos);
    assert_string_equal(t.items[4].text, "pos\nline");
    assert_true(t.items[4].pos->x1 == 0.75 && t.items[4].pos->move_ms == 1000);
    assert_int_equal(t.items[5].rejected, 0);     /* cut short, read leniently */
    assert_string_equal(t.items[5].text, "cut");
    assert_int_equal(t.items[5].pos->life_ms, 4000);
    assert_int_equal(t.items[6].bili_mode, 8);
    assert_string_equal(t.items[7].text, "");     /* kept: the layout calls it invalid */
    assert_int_equal(t.items[8].t_ms, INT32_MAX);
    assert_int_equal(t.items[9].rejected, DM_REASON_MALFORMED);
    assert_int_equal(t.items[10].mode, DM_MODE_SCROLL);
    assert_int_equal(t.items[10].size, DM_SIZE_NORMAL);
    assert_int_equal(t.items[10].color, 0);
    assert_int_equal(t.items[11].rejected, DM_REASON_MALFORMED);
    assert_string_equal(t.items[12].text, "bad \xEF\xBF\xBD utf8");
    assert_string_equal(t.items[13].text, "a\nb");
    assert_non_null(strstr(log.text, "comment 9 (id 1009): negative progress"));
    assert_non_null(strstr(log.text, "comment 11 (id 1011): mode 12 is not 1-9"));
    assert_non_null(strstr(log.text, "1 comment had no mode"));
    assert_non_null(strstr(log.text, "1 positioned comment had a JSON array cut short"));

    /* every comment is accounted for in the layout */
    {
        dm_scene_opts so = { .layout = DM_LAYOUT_OPTS_DEFAULT, .measure = dm_test_measure };
        dm_scene *sc = dm_scene_new(&so, &diag);
        char line[256];
        assert_int_equal(dm_scene_add_track(sc, &t), 0);
        assert_string_equal(dm_scene_summary(sc, line, sizeof line),
                            "shown 10 of 14; not shown: 2 malformed, 1 invalid, 1 unsupported");
        dm_scene_free(&sc);
    }
    dm_track_clear(&t);
    free(buf);
}

/* A segment from a later API: fields the reader's schema has not heard of are passed over. */
static void test_unknown_fields(void **state)
{
    Future__Dm__DanmakuElem a = FUTURE__DM__DANMAKU_ELEM__INIT, b = FUTURE__DM__DANMAKU_ELEM__INIT;
    Future__Dm__DanmakuElem *elems[2] = { &a, &b };
    Future__Dm__DmSegMobileReply r = FUTURE__DM__DM_SEG_MOBILE_REPLY__INIT;
    int64_t rules[3] = { 1, 2, 3 };
    uint8_t *buf;
    size_t len;
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    a.id = 42, a.progress = 1234, a.mode = 1, a.fontsize = 25, a.color = 0x00FF00, a.content = "new api";
    a.like_count = 99, a.test20 = "twenty", a.extra = "{\"k\":1}", a.type = 3, a.oid = 123456789, a.dm_from = 2;
    b.id = 43, b.progress = 2000, b.mode = 5, b.content = "second", b.oid = 123456789;
    r.elems = elems;
    r.n_elems = 2;
    r.segment_rules = rules;
    r.n_segment_rules = 3;
    r.context_src = "context";
    len = future__dm__dm_seg_mobile_reply__get_packed_size(&r);
    buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(future__dm__dm_seg_mobile_reply__pack(&r, buf), len);
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_read_file(&t, write_file("future.bin", buf, len), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.items[0].text, "new api");
    assert_string_equal(t.items[0].id, "42");
    assert_int_equal(t.items[0].t_ms, 1234);
    assert_int_equal(t.items[0].color, 0x00FF00);
    assert_int_equal(t.items[1].mode, DM_MODE_TOP);
    assert_int_equal(diag.warnings, 0);
    dm_track_clear(&t);
    free(buf);
}

static void test_empty_and_cut(void **state)
{
    elem e[40];
    elem *ptr[40];
    uint8_t *buf;
    size_t len;
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;

    (void)state;
    dm_track_init(&t);
    /* an empty segment, named as one: no comments, said so */
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_file(&t, write_file("empty.pb", NULL, 0), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 0);
    assert_non_null(strstr(log.text, "empty protobuf segment"));
    /* nameless, it cannot be told from any empty file */
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_file(&t, write_file("empty", NULL, 0), DM_FORMAT_UNKNOWN, &diag), DM_EFORMAT);
    assert_non_null(strstr(diag.error, "is empty"));
    /* comments closed: a segment with no comments but its state */
    buf = pack(NULL, 0, 1, &len);
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_file(&t, write_file("closed.pb", buf, len), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 0);
    assert_non_null(strstr(log.text, "comments are closed"));
    free(buf);
    /* bytes cut off (a download that stopped): a clear error, nothing half read */
    for (int i = 0; i < 40; i++) {
        elem init = ELEM_INIT;
        e[i] = init;
        ptr[i] = &e[i];
        e[i].progress = 100 * i;
        e[i].mode = 1;
        e[i].content = "一条弹幕";
    }
    buf = pack(ptr, 40, 0, &len);
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_file(&t, write_file("cut.pb", buf, len / 2), DM_FORMAT_UNKNOWN, &diag), DM_EPARSE);
    assert_non_null(strstr(diag.error, "cut.pb"));
    assert_non_null(strstr(diag.error, "cut short or damaged"));
    assert_int_equal(t.count, 0);
    /* and named nothing, it is no track the readers know */
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_file(&t, write_file("cut", buf, len / 2), DM_FORMAT_UNKNOWN, &diag), DM_EFORMAT);
    assert_non_null(strstr(diag.error, "is not a comment track"));
    /* told explicitly what it is, the whole of it reads */
    dm_test_diag_init(&diag, &log);
    assert_int_equal(dm_read_file(&t, write_file("whole", buf, len), DM_FORMAT_BILIBILI_PROTOBUF, &diag), 0);
    assert_int_equal(t.count, 40);
    free(buf);
    dm_track_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segment),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_empty_and_cut),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
