/*
 * feed.h - the live feed's hand-over to the render thread (dm_net
 * internal): the film time comments are stamped with, the bounded queue of
 * accepted comments, the ring of host requests (deletes, clears) with their
 * place among the comments, and the counters both sides read. This is the
 * only state of dm_net that more than one thread touches, all of it under
 * one lock that is never held across I/O: the render thread's calls
 * (dm_net_set_film_time, dm_net_drain...) wait for nothing but a few
 * stores.
 *
 * A comment goes through three steps: the service thread reserves a place
 * and takes its stamp (dm_feed_reserve), the recording is written outside
 * the lock (recorder.h), and then the comment is committed into the queue
 * (dm_feed_commit) or its place given back (dm_feed_unreserve). Reserving
 * and committing happen in the same order, so the queue's order is the
 * stamps' order and the recording's order.
 *
 * Thread-safety: every function takes the feed's lock; any thread.
 */
#ifndef DM_NET_FEED_H
#define DM_NET_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "dm_net.h"

#define DM_FEED_CONTROL_CAP 1024     /* host requests waiting for the render thread */

typedef struct dm_feed dm_feed;

/* queue_cap comments at most, queued or reserved. `wake` (may be NULL) is called after a commit or a request. */
dm_feed *dm_feed_new(size_t queue_cap, void (*wake)(void *ud), void *wake_ud);
/* Frees the comments still queued; nulls *f. */
void dm_feed_free(dm_feed **f);

/* Reserve a place for one comment and stamp it: 0 with *t_ms and *pass, -1 when the queue is full,
 * -2 when the intake is closed (an intermission). */
int dm_feed_reserve(dm_feed *f, int64_t *t_ms, int *pass);

/* A night of films (dm_net.h): the intake, closed in intermissions; 1 once closed with no place reserved. */
void dm_feed_set_intake(dm_feed *f, int open);
int dm_feed_intake_open(dm_feed *f);
int dm_feed_intake_settled(dm_feed *f);
/* A new film: stamps from film time 0 again, first pass. -1 unless the intake is closed and settled. */
int dm_feed_new_film(dm_feed *f);
/* Give a reserved place back (the comment could not be recorded). */
void dm_feed_unreserve(dm_feed *f);
/* Queue a comment whose place was reserved; the queue owns its strings from now on. */
void dm_feed_commit(dm_feed *f, const dm_net_comment *c);

/* A host request after the comments committed so far: 0, or -1 when DM_FEED_CONTROL_CAP are waiting. */
int dm_feed_push_control(dm_feed *f, dm_net_control_kind kind, const char *id);
/* The same for the film controls, with their value and entry. */
int dm_feed_push_film(dm_feed *f, dm_net_control_kind kind, double value, int entry);

/*
 * The comment bus's player (bus.h): comments come from the stream already
 * stamped, in stream order (dm_bus_order made their stamps grow), and the
 * floor of dm_feed_stamp_floor is the stream's: the last comment's or clock
 * message's stamp, never this machine's film time, so every venue lays out
 * the same. dm_feed_push_stamped: 0, or -1 when the queue is full (wait for
 * the render thread and try again).
 */
void dm_feed_set_external(dm_feed *f);
int dm_feed_push_stamped(dm_feed *f, const dm_net_comment *c);
void dm_feed_advance_floor(dm_feed *f, int pass, int64_t t_ms);

/* A gateway (no film of its own): the film time follows the bus's clock, run on between its messages. */
void dm_feed_follow_clock(dm_feed *f, int64_t t_ms, int paused);
/* The stamp a comment would get now: the clock player publishes it. */
void dm_feed_film_stamp(dm_feed *f, int *pass, int64_t *t_ms);

/* Render thread's side (dm_net.h describes them). */
void dm_feed_set_film_time(dm_feed *f, int64_t t_ms);
void dm_feed_stamp_floor(dm_feed *f, int *pass, int64_t *t_ms);
size_t dm_feed_drain(dm_feed *f, dm_net_comment *out, size_t cap);
size_t dm_feed_drain_control(dm_feed *f, dm_net_control *out, size_t cap);
uint64_t dm_feed_control_barrier(dm_feed *f);
void dm_feed_set_screen_stats(dm_feed *f, uint64_t on_screen, uint64_t dropped);

/* Counters the service thread keeps for dm_net_get_stats. */
void dm_feed_count_rejected(dm_feed *f);
void dm_feed_count_connection(dm_feed *f, uint64_t open_now, int opened, int refused);

/* What the console's statistics show. */
typedef struct dm_feed_view {
    dm_net_stats stats;
    int64_t film_ms;
    uint64_t on_screen, dropped;
} dm_feed_view;
void dm_feed_get(dm_feed *f, dm_feed_view *v);

#endif
