/*
 * test_bus.c - the comment bus's parts that need no server (net/bus.c,
 * net/feed.c): screening ids NATS can take, nats:// export addresses, clock
 * messages, the stream order every venue applies to stamps (so venues and
 * the export lay out the same), a stream message read as a comment, and the
 * feed's two bus modes: a player's (stamped comments, the stream's floor) and
 * a gateway's (the film time run on from the clock). The servers themselves
 * are exercised end to end by tests/e2e/live/bus.js.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "danmaku.h"
#include "feed.h"

static void ids(void **state)
{
    char err[256];
    char long_id[DM_BUS_ID_MAX + 2];

    (void)state;
    assert_int_equal(dm_bus_check_id("premiere-2026_hall1", err, sizeof err), 0);
    assert_int_equal(dm_bus_check_id("", err, sizeof err), DM_EINVAL);
    assert_int_equal(dm_bus_check_id(NULL, err, sizeof err), DM_EINVAL);
    assert_int_equal(dm_bus_check_id("hall.1", err, sizeof err), DM_EINVAL);
    assert_non_null(strstr(err, "character 5 (0x2E)"));
    assert_int_equal(dm_bus_check_id("a>", err, sizeof err), DM_EINVAL);
    assert_int_equal(dm_bus_check_id("a b", err, sizeof err), DM_EINVAL);
    assert_int_equal(dm_bus_check_id("a*", err, sizeof err), DM_EINVAL);
    assert_int_equal(dm_bus_check_id("放映", err, sizeof err), DM_EINVAL);
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    assert_int_equal(dm_bus_check_id(long_id, err, sizeof err), DM_EINVAL);
    long_id[DM_BUS_ID_MAX] = 0;
    assert_int_equal(dm_bus_check_id(long_id, err, sizeof err), 0);
}

static void urls(void **state)
{
    char url[128], id[DM_BUS_ID_MAX + 1], err[256];

    (void)state;
    assert_int_equal(dm_bus_split_url("nats://127.0.0.1:4222/premiere", url, sizeof url, id, sizeof id, err,
                                      sizeof err), 1);
    assert_string_equal(url, "nats://127.0.0.1:4222");
    assert_string_equal(id, "premiere");
    assert_int_equal(dm_bus_split_url("screening.jsonl", url, sizeof url, id, sizeof id, err, sizeof err), 0);
    assert_int_equal(dm_bus_split_url("nats://127.0.0.1:4222", url, sizeof url, id, sizeof id, err, sizeof err),
                     DM_EINVAL);
    assert_int_equal(dm_bus_split_url("nats://127.0.0.1:4222/", url, sizeof url, id, sizeof id, err, sizeof err),
                     DM_EINVAL);
    assert_int_equal(dm_bus_split_url("nats://h:1/a.b", url, sizeof url, id, sizeof id, err, sizeof err), DM_EINVAL);
}

static void clock_messages(void **state)
{
    int64_t t;
    int pass, paused;
    const char *ok = "{\"t_ms\":61250,\"pass\":2,\"paused\":1}";

    (void)state;
    assert_int_equal(dm_bus_parse_clock(ok, strlen(ok), &t, &pass, &paused), 0);
    assert_true(t == 61250 && pass == 2 && paused == 1);
    assert_int_equal(dm_bus_parse_clock("{\"t_ms\":-5,\"pass\":0}", 20, &t, &pass, &paused), DM_EINVAL);
    assert_int_equal(dm_bus_parse_clock("{\"t_ms\":\"5\",\"pass\":0}", 21, &t, &pass, &paused), DM_EINVAL);
    assert_int_equal(dm_bus_parse_clock("not json", 8, &t, &pass, &paused), DM_EINVAL);
    assert_int_equal(dm_bus_parse_clock("{\"pass\":0}", 10, &t, &pass, &paused), DM_EINVAL);
}

/* Stamps in stream order never go back: a later message's earlier stamp is held at the last one. */
static void order(void **state)
{
    dm_bus_order o = { 0 };
    int pass;
    int64_t t;

    (void)state;
    pass = 0, t = 1000;
    dm_bus_order_comment(&o, &pass, &t);
    assert_true(pass == 0 && t == 1000);
    pass = 0, t = 990;   /* another gateway's clock, 10 ms behind */
    dm_bus_order_comment(&o, &pass, &t);
    assert_true(pass == 0 && t == 1000);
    dm_bus_order_clock(&o, 0, 1500);
    pass = 0, t = 1400;
    dm_bus_order_comment(&o, &pass, &t);
    assert_true(pass == 0 && t == 1500);
    dm_bus_order_clock(&o, 0, 1200);   /* a clock behind the floor moves nothing */
    assert_true(o.pass == 0 && o.t_ms == 1500);
    pass = 1, t = 200;   /* a backward seek: the next pass */
    dm_bus_order_comment(&o, &pass, &t);
    assert_true(pass == 1 && t == 200);
    pass = 0, t = 5000;  /* a late comment of the last pass comes after the seek */
    dm_bus_order_comment(&o, &pass, &t);
    assert_true(pass == 1 && t == 200);
}

static void comment_messages(void **state)
{
    dm_bus_order o = { 0 };
    dm_comment c;
    dm_comment src = { .t_ms = 4200, .mode = DM_MODE_TOP, .size = DM_SIZE_LARGE, .color = 0xFE0302,
                       .weight = -1, .count = 1, .text = "弹幕 on the bus", .id = "6b1-7", .author = "a1b2" };
    char *line = dm_jsonl_comment_line(&src);

    (void)state;
    assert_non_null(line);
    assert_int_equal(dm_bus_comment(&o, line, strlen(line), &c), 0);
    assert_string_equal(c.text, "弹幕 on the bus");
    assert_string_equal(c.id, "6b1-7");
    assert_true(c.t_ms == 4200 && c.mode == DM_MODE_TOP && c.size == DM_SIZE_LARGE && c.color == 0xFE0302);
    dm_comment_free(&c);
    src.t_ms = 4100;   /* behind the last: held */
    free(line);
    line = dm_jsonl_comment_line(&src);
    assert_int_equal(dm_bus_comment(&o, line, strlen(line), &c), 0);
    assert_true(c.t_ms == 4200);
    dm_comment_free(&c);
    free(line);
    assert_int_equal(dm_bus_comment(&o, "{\"type\":\"comment\",\"t_ms\":1}", 27, &c), DM_EINVAL);   /* no text */
    assert_int_equal(dm_bus_comment(&o, "{\"type\":\"delete\",\"id\":\"x\"}", 26, &c), DM_EINVAL);
    assert_int_equal(dm_bus_comment(&o, "\x01\x02garbage", 9, &c), DM_EINVAL);
    assert_int_equal(dm_bus_comment(&o, "{\"text\":\"a\",\"t_ms\":1}\n{\"text\":\"b\",\"t_ms\":2}", 42, &c),
                     DM_EINVAL);   /* one message is one comment */
}

/* A player's feed: comments come stamped; the floor is the stream's, not the film's. */
/* Host actions of the stream: what players and the export read, and what they refuse. */
static void host_messages(void **state)
{
    dm_bus_order o = { .pass = 0, .t_ms = 5000 };
    dm_bus_host h;
    const char *clear = "{\"type\":\"clear\",\"t_ms\":4000,\"pass\":0}";
    const char *cleared = "{\"type\":\"cleared\",\"ids\":[\"a-1\",\"b-2\"]}";
    const char *film = "{\"type\":\"film\",\"control\":\"seek\",\"value\":12.5,\"entry\":0}";
    const char *bad[] = {
        "{\"type\":\"delete\"}", "{\"type\":\"delete\",\"id\":\"\"}", "{\"type\":\"clear\",\"t_ms\":-1,\"pass\":0}",
        "{\"type\":\"clear\"}", "{\"type\":\"cleared\",\"ids\":[]}", "{\"type\":\"cleared\",\"ids\":[1]}",
        "{\"type\":\"film\",\"control\":\"play\",\"entry\":-3}", "{\"type\":\"ban\"}", "not json", "[]",
        "{\"type\":\"delete\",\"id\":\"0123456789012345678901234567890123456789012345678\"}",
    };

    (void)state;
    assert_int_equal(dm_bus_host_parse(&o, "{\"type\":\"delete\",\"id\":\"x-1\"}", 28, &h), 0);
    assert_int_equal(h.kind, DM_BUS_HOST_DELETE);
    assert_string_equal(h.id, "x-1");
    dm_bus_host_free(&h);
    /* a clear stamped before the last comment is held at it, and moves the order on */
    assert_int_equal(dm_bus_host_parse(&o, clear, strlen(clear), &h), 0);
    assert_int_equal(h.kind, DM_BUS_HOST_CLEAR);
    assert_int_equal(h.t_ms, 5000);
    dm_bus_host_free(&h);
    o.t_ms = 3000;
    assert_int_equal(dm_bus_host_parse(&o, clear, strlen(clear), &h), 0);
    assert_int_equal(h.t_ms, 4000);
    assert_int_equal(o.t_ms, 4000);
    dm_bus_host_free(&h);
    assert_int_equal(dm_bus_host_parse(&o, cleared, strlen(cleared), &h), 0);
    assert_int_equal(h.kind, DM_BUS_HOST_CLEARED);
    assert_int_equal(h.id_count, 2);
    assert_string_equal(h.ids[1], "b-2");
    dm_bus_host_free(&h);
    assert_int_equal(dm_bus_host_parse(&o, film, strlen(film), &h), 0);
    assert_int_equal(h.kind, DM_BUS_HOST_FILM);
    assert_string_equal(h.control, "seek");
    assert_true(h.value == 12.5);
    dm_bus_host_free(&h);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dm_bus_host_parse(&o, bad[i], strlen(bad[i]), &h), DM_EINVAL);
    assert_int_equal(o.t_ms, 4000);   /* a refused clear moves nothing */
}

static void feed_player(void **state)
{
    dm_feed *f = dm_feed_new(4, NULL, NULL);
    dm_net_comment nc = { 0 }, out[4];
    int pass;
    int64_t t;

    (void)state;
    assert_non_null(f);
    dm_feed_set_external(f);
    dm_feed_set_film_time(f, 90000);   /* this venue's film: not the floor */
    dm_feed_stamp_floor(f, &pass, &t);
    assert_true(pass == 0 && t == 0);
    dm_feed_advance_floor(f, 0, 3000);
    dm_feed_stamp_floor(f, &pass, &t);
    assert_true(pass == 0 && t == 3000);
    for (int i = 0; i < 4; i++) {
        nc.c.t_ms = 3000 + i;
        nc.c.text = strdup("x");
        assert_int_equal(dm_feed_push_stamped(f, &nc), 0);
    }
    nc.c.text = NULL;
    assert_int_equal(dm_feed_push_stamped(f, &nc), -1);   /* full: the consumer waits */
    dm_feed_stamp_floor(f, &pass, &t);
    assert_true(t == 3000);   /* the oldest queued */
    assert_int_equal(dm_feed_drain(f, out, 4), 4);
    for (int i = 0; i < 4; i++)
        dm_comment_free(&out[i].c);
    dm_feed_stamp_floor(f, &pass, &t);
    assert_true(t == 3003);
    dm_feed_free(&f);
}

/* A gateway's feed: stamps run on from the last clock message, and stand still while it says paused. */
static void feed_gateway(void **state)
{
    dm_feed *f = dm_feed_new(8, NULL, NULL);
    struct timespec wait = { 0, 120 * 1000000L };
    int64_t t1, t2;
    int pass;

    (void)state;
    assert_non_null(f);
    dm_feed_follow_clock(f, 10000, 0);
    dm_feed_set_film_time(f, 99999);   /* a gateway has no film of its own: ignored */
    assert_int_equal(dm_feed_reserve(f, &t1, &pass), 0);
    assert_true(t1 >= 10000 && t1 < 10100);
    nanosleep(&wait, NULL);
    assert_int_equal(dm_feed_reserve(f, &t2, &pass), 0);
    assert_true(t2 >= t1 + 100);   /* ran on about 120 ms */
    dm_feed_follow_clock(f, 20000, 1);
    nanosleep(&wait, NULL);
    assert_int_equal(dm_feed_reserve(f, &t1, &pass), 0);
    assert_true(t1 == 20000 && pass == 0);
    dm_feed_follow_clock(f, 1000, 0);   /* the clock player seeked back: the next pass */
    assert_int_equal(dm_feed_reserve(f, &t1, &pass), 0);
    assert_true(pass == 1 && t1 >= 1000 && t1 < 1100);
    dm_feed_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids), cmocka_unit_test(urls), cmocka_unit_test(clock_messages), cmocka_unit_test(order),
        cmocka_unit_test(comment_messages), cmocka_unit_test(host_messages), cmocka_unit_test(feed_player), cmocka_unit_test(feed_gateway),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
