/*
 * bus_link.c - dm_net's side of the comment bus (bus.h, docs/scale.md).
 *
 *   a gateway (danmaku-gate)  stamps comments with the film time run on from
 *                             the bus's clock messages and publishes them:
 *                             the recorder's writer publishes instead of
 *                             writing a file, and the ack waits for JetStream;
 *   a player (--bus)          publishes what its own --listen accepts the
 *                             same way, and takes the screen's comments from
 *                             the stream, in stream order, into the feed the
 *                             render thread drains; with --clock it publishes
 *                             its film time.
 *
 * The stream's callbacks run on cnats's threads and touch only the feed
 * (its lock) and this file's order state (theirs alone).
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CATCH_UP_MS 5000   /* at the end, how long a player waits for the stream's last messages */

/* A player: a comment of the stream, in order, into the feed (waiting while the render thread is behind). */
static void take_comment(dm_net *n, const char *data, size_t len)
{
    dm_net_comment nc;

    memset(&nc, 0, sizeof nc);
    if (dm_bus_comment(&n->bus_order, data, len, &nc.c)) {
        atomic_fetch_add(&n->bus_bad, 1);   /* not a comment line: counted, never shown */
        return;
    }
    nc.accepted_wall = dm_now();
    while (dm_feed_push_stamped(n->feed, &nc) != 0) {
        struct timespec ms = { 0, 1000000 };
        if (atomic_load(&n->bus_stopping)) {
            atomic_fetch_add(&n->bus_bad, 1);
            dm_comment_free(&nc.c);
            return;
        }
        nanosleep(&ms, NULL);   /* the queue is full: the render thread takes it every frame */
    }
}

static void on_stream(void *ud, uint64_t seq, dm_bus_kind kind, const char *data, size_t len)
{
    dm_net *n = ud;
    int64_t t_ms;
    int pass, paused;

    (void)seq;
    if (kind == DM_BUS_COMMENT)
        take_comment(n, data, len);
    else if (kind == DM_BUS_CLOCK && dm_bus_parse_clock(data, len, &t_ms, &pass, &paused) == 0) {
        dm_bus_order_clock(&n->bus_order, pass, t_ms);
        dm_feed_advance_floor(n->feed, n->bus_order.pass, n->bus_order.t_ms);
    }
}

/* A gateway: the clock player's film time. */
static void on_clock(void *ud, int64_t t_ms, int pass, int paused)
{
    dm_net *n = ud;

    (void)pass;   /* the feed counts the passes from the times, as the clock player's does */
    dm_feed_follow_clock(n->feed, t_ms, paused);
}

int dm_net_bus_start(dm_net *n, const dm_net_opts *o, char *err, size_t errlen)
{
    int e;

    if (!o->bus_url)
        return 0;
    if (o->record_path) {
        snprintf(err, errlen, "--record with --bus: the screening's stream is its recording "
                              "(export it with danmaku-convert nats://HOST:PORT/%s -o FILE.jsonl)",
                 o->screening ? o->screening : "ID");
        return DM_EINVAL;
    }
    if (!o->screening) {
        snprintf(err, errlen, "--bus needs --screening ID");
        return DM_EINVAL;
    }
    e = dm_bus_open(&n->bus, o->bus_url, o->screening, o->bus_replicas, err, errlen);
    if (e)
        return e;
    if (o->bus_role == DM_NET_BUS_GATEWAY)
        e = dm_bus_watch_clock(n->bus, on_clock, n, err, errlen);
    else {
        dm_feed_set_external(n->feed);
        e = dm_bus_consume(n->bus, on_stream, n, err, errlen);
    }
    if (!e)
        e = dm_recorder_open_bus(&n->rec, n->bus, n->feed, dm_net_recorded, n, err, errlen);
    return e;
}

void dm_net_bus_halt(dm_net *n)
{
    if (!n->bus || atomic_load(&n->bus_stopping))
        return;   /* (dm_net_stop halts again) */
    if (n->opts.bus_role == DM_NET_BUS_PLAYER && dm_bus_catch_up(n->bus, CATCH_UP_MS))
        fprintf(stderr, "danmaku: the comment bus: the last messages of the stream did not come within %d s\n",
                CATCH_UP_MS / 1000);
    atomic_store(&n->bus_stopping, 1);
    dm_bus_stop(n->bus);
}

void dm_net_bus_close(dm_net *n)
{
    dm_bus_close(&n->bus);
}

void dm_net_bus_clock(dm_net *n)
{
    int64_t t_ms;
    int pass;
    double now;

    if (!n->bus || !n->opts.bus_clock)
        return;
    now = dm_now();
    if (now - n->bus_clock_sent < 1.0 / DM_BUS_CLOCK_HZ)
        return;
    n->bus_clock_sent = now;
    dm_feed_film_stamp(n->feed, &pass, &t_ms);
    if (dm_bus_publish_clock(n->bus, t_ms, pass, atomic_load(&n->bus_paused))) {
        if (!n->bus_clock_failing)
            fprintf(stderr, "danmaku: the comment bus is unreachable: the film clock is not published\n");
        n->bus_clock_failing = 1;
    } else {
        n->bus_clock_failing = 0;
    }
}
