/*
 * test_live_cards.c - live-stream recordings (BililiveRecorder's XML: <d>
 * with the sender's name, <sc> super chats, <gift>, <guard>), written at
 * test time the way its BasicDanmakuWriter writes them, and their cards in
 * the scene: a super chat is a card in its price tier's colours for its
 * duration, stacked at the top left, an obstacle no comment crosses; gift
 * lines join their combos and are hidden unless asked for; everything is
 * accounted for, and a relayout is what a fresh scene at that stage gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "danmaku.h"
#include "testutil.h"

/* The head BililiveRecorder writes: its stylesheet, its comment, the room. */
#define RECORDER_HEAD                                                                                          \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                                                             \
    "<?xml-stylesheet type=\"text/xsl\" href=\"#s\"?>\n"                                                      \
    "<i BililiveRecorder=\"B站录播姬弹幕文件\">\n"                                                             \
    "  <!--\nB站录播姬 1.3.9\nsc 为SuperChat\ngift为礼物\nguard为上船\n-->\n"                                \
    "  <chatserver>chat.bilibili.com</chatserver>\n  <chatid>0</chatid>\n  <mission>0</mission>\n"            \
    "  <maxlimit>1000</maxlimit>\n  <state>0</state>\n  <real_name>0</real_name>\n  <source>0</source>\n"     \
    "  <BililiveRecorder version=\"1.3.9-abcdef\" />\n"                                                        \
    "  <BililiveRecorderRecordInfo roomid=\"21452505\" name=\"主播\" start_time=\"2021-06-01T20:00:00+08:00\" />\n" \
    "<z:stylesheet version=\"1.0\" id=\"s\" xml:id=\"s\" xmlns:z=\"http://www.w3.org/1999/XSL/Transform\">"      \
    "<z:output method=\"html\"/><z:template match=\"/\"><html><table><z:for-each select=\"/i/sc\"><tr><td>"    \
    "<z:value-of select=\"@user\"/></td></tr></z:for-each></table></html></z:template></z:stylesheet>\n"

static const char recording[] = RECORDER_HEAD
    "  <d p=\"1.234,1,25,16777215,1622548801234,0,12345,0\" user=\"观众甲\" "
    "raw=\"[[0,1,25,16777215,1622548801234,0,0,&quot;&quot;,0,0,0,&quot;&quot;,0],&quot;前方高能&quot;]\">前方高能</d>\n"
    "  <sc ts=\"2.5\" user=\"土豪\" uid=\"777\" price=\"30\" time=\"60\">主播加油！</sc>\n"
    "  <sc ts=\"3,25\" user=\"大佬\" price=\"1000\" time=\"20\">谢谢你的直播，每天都来看，请一定要坚持下去，"
    "我们都会一直支持你的，加油加油加油</sc>\n"
    "  <gift ts=\"4\" user=\"观众乙\" uid=\"888\" giftname=\"辣条\" giftcount=\"1\" />\n"
    "  <gift ts=\"6\" user=\"观众乙\" giftname=\"辣条\" giftcount=\"5\" />\n"
    "  <gift ts=\"7\" user=\"观众丙\" giftname=\"辣条\" giftcount=\"2\" />\n"
    "  <gift ts=\"30\" user=\"观众乙\" giftname=\"辣条\" giftcount=\"3\" />\n"
    "  <guard ts=\"8\" user=\"舰长大人\" level=\"3\" count=\"1\" />\n"
    "  <guard ts=\"9\" user=\"总督大人\" level=\"1\" count=\"12\" />\n"
    "  <sc ts=\"10\" user=\"无价\" time=\"60\">no price</sc>\n"
    "  <guard ts=\"11\" user=\"谁\" level=\"5\" count=\"1\" />\n"
    "  <sc user=\"无时\" price=\"50\">no ts</sc>\n"
    "  <sc ts=\"12\" user=\"默认\" price=\"100\"></sc>\n"
    "</i>\n";

static void test_recorder_xml(void **state)
{
    dm_track t;
    dm_diag diag;
    dm_test_warnings log;
    const dm_comment *c;

    (void)state;
    dm_test_diag_init(&diag, &log);
    dm_track_init(&t);
    assert_int_equal(dm_format_sniff(recording, strlen(recording)), DM_FORMAT_BILIBILI_XML);
    assert_int_equal(dm_read_buffer(&t, recording, strlen(recording), DM_FORMAT_UNKNOWN, &diag), 0);
    assert_int_equal(t.count, 13);
    c = t.items;
    assert_int_equal(c[0].kind, DM_KIND_COMMENT);
    assert_string_equal(c[0].sender, "观众甲");
    assert_string_equal(c[0].author, "12345");
    assert_int_equal(c[0].sent, 1622548801);     /* the recorder writes ms */
    assert_null(c[0].id);                        /* and 0 for every row id */
    assert_int_equal(c[1].kind, DM_KIND_SUPERCHAT);
    assert_int_equal(c[1].t_ms, 2500);
    assert_string_equal(c[1].sender, "土豪");
    assert_string_equal(c[1].author, "777");
    assert_int_equal(c[1].price, 30);
    assert_int_equal(c[1].duration_ms, 60000);
    assert_string_equal(c[1].text, "主播加油！");
    assert_int_equal(c[2].t_ms, 3250);           /* a decimal comma, as C# writes it in some locales */
    assert_int_equal(c[3].kind, DM_KIND_GIFT);
    assert_string_equal(c[3].text, "辣条");
    assert_int_equal(c[3].quantity, 1);
    assert_int_equal(c[4].quantity, 5);
    assert_int_equal(c[7].kind, DM_KIND_GUARD);
    assert_string_equal(c[7].text, "舰长");
    assert_string_equal(c[8].text, "总督");
    assert_int_equal(c[8].quantity, 12);
    assert_int_equal(c[9].rejected, DM_REASON_MALFORMED);   /* a super chat without a price */
    assert_string_equal(c[9].text, "no price");
    assert_int_equal(c[10].rejected, DM_REASON_MALFORMED);  /* guard level 5 */
    assert_int_equal(c[11].rejected, DM_REASON_MALFORMED);  /* no time */
    assert_int_equal(c[12].rejected, 0);                    /* no message: still a paid card */
    assert_int_equal(c[12].duration_ms, 0);
    assert_non_null(strstr(log.text, "<sc> without a price"));
    assert_non_null(strstr(log.text, "<guard> level is not 1"));
    assert_non_null(strstr(log.text, "<sc> without a time"));
    dm_track_clear(&t);
}

static void test_tiers(void **state)
{
    static const struct {
        int price;
        uint32_t header, body;
        int32_t ms;
    } want[] = {
        { 30, 0xEDF5FF, 0x2A60B2, 60000 },    { 49, 0xEDF5FF, 0x2A60B2, 60000 },
        { 50, 0xDBFFFD, 0x427D9E, 120000 },   { 100, 0xFFF1C5, 0xE2B52B, 300000 },
        { 500, 0xFFEAD2, 0xE09443, 1800000 }, { 1000, 0xFFE7E4, 0xE54D4D, 3600000 },
        { 2000, 0xFFD8D8, 0xAB1A32, 7200000 }, { 9999, 0xFFD8D8, 0xAB1A32, 7200000 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        dm_card_colors c = dm_card_colors_for(DM_KIND_SUPERCHAT, want[i].price);
        assert_int_equal(c.header, want[i].header);
        assert_int_equal(c.body, want[i].body);
        assert_int_equal(dm_superchat_default_ms(want[i].price), want[i].ms);
    }
}

/* The recording plus a dense crowd of comments around the cards' time. */
static void crowd(dm_track *t, unsigned seed)
{
    for (int i = 0; i < 1500; i++) {
        static const char *const words[] = { "草", "前方高能", "awsl awsl", "好耶！！！", "哈哈哈哈哈哈哈哈", "8888" };
        dm_comment c = { .color = 0xFFFFFF, .weight = -1, .count = 1 };
        c.t_ms = (int64_t)(rand_r(&seed) % 40000);
        c.mode = rand_r(&seed) % 10 == 0 ? DM_MODE_TOP : rand_r(&seed) % 10 == 0 ? DM_MODE_BOTTOM : DM_MODE_SCROLL;
        c.text = (char *)words[rand_r(&seed) % 6];
        assert_int_equal(dm_track_push(t, &c), 0);
    }
}

static dm_scene *scene_of(const dm_track *t, const dm_layout_opts *lo)
{
    dm_scene_opts so = { .layout = *lo, .measure = dm_test_measure };
    dm_scene *sc = dm_scene_new(&so, NULL);

    assert_non_null(sc);
    assert_int_equal(dm_scene_add_track(sc, t), 0);
    assert_int_equal(dm_scene_layout(sc, NULL), 0);
    return sc;
}

static void test_cards_in_the_scene(void **state)
{
    dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
    dm_card_metrics m = dm_card_metrics_for(&lo);
    dm_track t;
    dm_scene *sc;
    const dm_placed *p;
    const dm_obstacle *obs;
    char *const *texts;
    size_t nobs, cards = 0;
    char line[256];
    int w, h;

    (void)state;
    dm_track_init(&t);
    assert_int_equal(dm_read_buffer(&t, recording, strlen(recording), DM_FORMAT_UNKNOWN, NULL), 0);
    crowd(&t, 7);
    sc = scene_of(&t, &lo);
    p = dm_scene_placed(sc);
    texts = dm_scene_texts(sc);
    /* the super chats: cards at the top left, stacked, for their duration */
    assert_true(p[1].shown);
    assert_int_equal(p[1].mode, DM_MODE_POSITIONED);
    assert_int_equal(p[1].x_start, m.x);
    assert_int_equal(p[1].x_end, m.x);
    assert_int_equal(p[1].y, m.y);
    assert_int_equal(p[1].w, m.width);
    assert_int_equal(p[1].start_ms, 2500);
    assert_int_equal(p[1].end_ms, 62500);
    assert_string_equal(texts[1], "土豪  \xC2\xA5" "30\n主播加油！");
    assert_int_equal(dm_card_box(&lo, &t.items[1], texts[1], dm_test_measure, NULL, &w, &h), 0);
    assert_int_equal(w, p[1].w);
    assert_int_equal(h, p[1].h);
    assert_true(p[2].shown);
    assert_true(p[2].y >= p[1].y + p[1].h + m.gap);           /* below the first, both on screen */
    assert_int_equal(p[2].end_ms - p[2].start_ms, 20000);
    assert_non_null(strchr(strchr(texts[2], '\n') + 1, '\n'));   /* a long message wraps */
    assert_true(p[12].shown);
    assert_int_equal(p[12].end_ms - p[12].start_ms, 300000);      /* its tier's default: 5 min for 100 */
    assert_string_equal(texts[12], "默认  \xC2\xA5" "100");
    /* gifts and guards are hidden unless asked for */
    for (int i = 3; i <= 8; i++) {
        assert_false(p[i].shown);
        assert_int_equal(p[i].reason, DM_REASON_HIDDEN);
    }
    /* every shown card is an obstacle, and no comment crosses one */
    obs = dm_scene_obstacles(sc, &nobs);
    for (size_t k = 0; k < nobs; k++)
        cards += !strcmp(obs[k].kind, "superchat");
    assert_int_equal(cards, 3);
    assert_int_equal(dm_test_obstacle_hits(p, dm_scene_count(sc), obs, nobs), 0);
    assert_int_equal(dm_test_count_overlaps(p, dm_scene_count(sc)), 0);
    assert_string_equal(strstr(dm_scene_summary(sc, line, sizeof line), "shown"), line);
    assert_non_null(strstr(line, "of 1513;"));
    assert_non_null(strstr(line, "3 malformed"));
    assert_non_null(strstr(line, "6 hidden"));
    dm_scene_free(&sc);

    /* --gifts: combos of one sender's one gift join one line; --no-superchat hides the cards */
    lo.gifts = 1;
    lo.superchats = 0;
    sc = scene_of(&t, &lo);
    p = dm_scene_placed(sc);
    texts = dm_scene_texts(sc);
    assert_int_equal(p[1].reason, DM_REASON_HIDDEN);
    assert_true(p[3].shown);
    assert_string_equal(texts[3], "观众乙 赠送 辣条 \xC3\x97" "6");   /* 1 + 5, two seconds apart */
    assert_int_equal(p[4].reason, DM_REASON_DUPLICATE);
    assert_string_equal(texts[5], "观众丙 赠送 辣条 \xC3\x97" "2");   /* another sender: its own line */
    assert_true(p[6].shown);                                         /* 24 s later: a new combo */
    assert_string_equal(texts[6], "观众乙 赠送 辣条 \xC3\x97" "3");
    assert_string_equal(texts[8], "总督大人 开通 总督 \xC3\x97" "12");
    assert_int_equal(p[3].end_ms - p[3].start_ms, lo.fixed_ms);
    assert_true(p[3].w < m.width);                                    /* as wide as its text */
    obs = dm_scene_obstacles(sc, &nobs);
    assert_int_equal(dm_test_obstacle_hits(p, dm_scene_count(sc), obs, nobs), 0);
    dm_scene_free(&sc);
    dm_track_clear(&t);
}

/* A stack that is full: the next card waits for room, within its duration. */
static void test_full_stack_waits(void **state)
{
    dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
    dm_card_metrics m = dm_card_metrics_for(&lo);
    dm_track t;
    dm_scene *sc;
    const dm_placed *p;
    int at_once = 0;

    (void)state;
    dm_track_init(&t);
    for (int i = 0; i < 11; i++) {
        dm_comment c = { .kind = DM_KIND_SUPERCHAT, .mode = DM_MODE_POSITIONED, .color = 0xFFFFFF, .weight = -1,
                         .count = 1, .price = 30, .sender = (char *)"某人", .text = (char *)"一样的留言" };
        c.t_ms = 1000 + i;
        c.duration_ms = i == 10 ? 1000 : 30000;   /* the last cannot wait for room */
        assert_int_equal(dm_track_push(&t, &c), 0);
    }
    sc = scene_of(&t, &lo);
    p = dm_scene_placed(sc);
    for (int i = 0; i < 10; i++) {
        assert_true(p[i].shown);
        assert_true(p[i].y >= m.y && p[i].y + p[i].h <= m.bottom);
        if (p[i].start_ms == 1000 + i)
            at_once++;
        else
            assert_true(p[i].start_ms >= 31000 && p[i].start_ms <= 31010);   /* waited for one to leave */
    }
    /* as many as the upper half of the stage holds, the others after them */
    assert_int_equal(at_once, (m.bottom - m.y + m.gap) / (p[0].h + m.gap));
    assert_false(p[10].shown);
    assert_int_equal(p[10].reason, DM_REASON_NO_LANE);
    dm_scene_free(&sc);
    dm_track_clear(&t);
}

/* A resize lays the cards out again: the same as a scene made for that stage. */
static void test_relayout_and_dump(void **state)
{
    dm_layout_opts big = DM_LAYOUT_OPTS_DEFAULT, small = DM_LAYOUT_OPTS_DEFAULT;
    dm_track t;
    dm_scene *a, *b;
    char *da, *db;

    (void)state;
    small.stage_w = 1280, small.stage_h = 720, small.font_px = 32;
    big.gifts = small.gifts = 1;
    dm_track_init(&t);
    assert_int_equal(dm_read_buffer(&t, recording, strlen(recording), DM_FORMAT_UNKNOWN, NULL), 0);
    crowd(&t, 11);
    a = scene_of(&t, &big);
    assert_int_equal(dm_scene_set_layout(a, &small, NULL), 0);
    b = scene_of(&t, &small);
    da = dm_test_scene_dump(a);
    db = dm_test_scene_dump(b);
    assert_non_null(da);
    assert_non_null(db);
    assert_string_equal(da, db);
    /* the dump names the cards and their boxes */
    assert_non_null(strstr(da, "\"type\":\"obstacle\",\"kind\":\"superchat\""));
    assert_non_null(strstr(da, "\"type\":\"obstacle\",\"kind\":\"gift\""));
    assert_non_null(strstr(da, "\"kind\":\"superchat\",\"shown\":true"));
    assert_non_null(strstr(da, "\"input_count\":1513"));
    free(da);
    free(db);
    dm_scene_free(&a);
    dm_scene_free(&b);
    dm_track_clear(&t);
}

/* Cards written and read back: JSONL keeps them, Bilibili XML writes them as the recorder does. */
static void test_cards_round_trip(void **state)
{
    dm_track t, back;
    char *out = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    dm_track_init(&t);
    assert_int_equal(dm_read_buffer(&t, recording, strlen(recording), DM_FORMAT_UNKNOWN, NULL), 0);
    for (int xml = 0; xml < 2; xml++) {
        dm_track_init(&back);
        f = open_memstream(&out, &len);
        assert_int_equal(xml ? dm_write_bilibili_xml(&t, f, NULL) : dm_write_jsonl(&t, f, NULL), 0);
        fclose(f);
        assert_int_equal(dm_read_buffer(&back, out, len, DM_FORMAT_UNKNOWN, NULL), 0);
        assert_int_equal(back.count, 10);   /* the three malformed ones are not passed on */
        for (size_t i = 0, k = 0; i < t.count; i++) {
            const dm_comment *a = &t.items[i], *b;
            if (a->rejected)
                continue;
            b = &back.items[k++];
            assert_int_equal(a->kind, b->kind);
            assert_string_equal(a->text, b->text);
            assert_int_equal(a->t_ms, b->t_ms);
            assert_string_equal(a->sender ? a->sender : "", b->sender ? b->sender : "");
            assert_int_equal(a->price, b->price);
            assert_int_equal(a->quantity, b->quantity);
            /* XML writes the duration (time="60") always, JSONL when it was given */
            if (a->kind == DM_KIND_SUPERCHAT)
                assert_int_equal(b->duration_ms, xml && !a->duration_ms ? dm_superchat_default_ms(a->price)
                                                                        : a->duration_ms);
        }
        dm_track_clear(&back);
        free(out);
        out = NULL;
    }
    /* a card written by hand without a mode is still placed by the stack, not scrolled */
    {
        const char *line = "{\"t_ms\":5,\"text\":\"hi\",\"kind\":\"superchat\",\"price\":50}\n";
        dm_track_init(&back);
        assert_int_equal(dm_read_jsonl(&back, line, strlen(line), NULL), 0);
        assert_int_equal(back.items[0].kind, DM_KIND_SUPERCHAT);
        assert_int_equal(back.items[0].mode, DM_MODE_POSITIONED);
        assert_int_equal(back.items[0].price, 50);
        dm_track_clear(&back);
    }
    dm_track_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorder_xml),
        cmocka_unit_test(test_tiers),
        cmocka_unit_test(test_cards_in_the_scene),
        cmocka_unit_test(test_full_stack_waits),
        cmocka_unit_test(test_relayout_and_dump),
        cmocka_unit_test(test_cards_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
