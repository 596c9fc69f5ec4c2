/*
 * feed.c - the queue of accepted comments and host requests between the
 * service thread and the render thread, and the film clock comments are
 * stamped with (see feed.h). Nothing here waits for anything but the lock,
 * and nothing holds the lock for more than a few stores.
 */
#include "feed.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLLOW_CAP_S 10.0               /* a gateway runs the clock on this long past its last message */

struct dm_feed {
    void (*wake)(void *ud);          /* set at creation, read-only after */
    void *wake_ud;
    pthread_mutex_t lock;
    /* protected by lock */
    int64_t film_ms;                 /* film time comments are stamped with: never goes back within a pass */
    int pass;                        /* backward seeks of the film so far */
    dm_net_comment *queue;           /* ring of comments for the render thread */
    size_t q_head, q_count, q_cap;
    uint64_t drained;                /* comments taken from the queue, ever (stats.accepted counts those queued) */
    size_t reserved;                 /* places taken by comments being recorded */
    struct stamp { int64_t t_ms; int pass; } *stamps; /* ring of their stamps, oldest first (q_cap) */
    size_t s_head;                   /* (reserved of them are held) */
    dm_net_control controls[DM_FEED_CONTROL_CAP]; /* ring of host requests */
    size_t c_head, c_count;
    int intake_closed;               /* an intermission: no comment is reserved a place */
    int external;                    /* the comment bus: comments come stamped, the floor from the stream */
    int ext_pass;                    /* ...the stream's floor so far (the last comment's or clock's stamp) */
    int64_t ext_ms;
    int following;                   /* a gateway: the film time follows the bus's clock messages */
    int64_t clock_ms;                /* ...the last one's film time, */
    int clock_paused;                /*    whether the film was paused, */
    double clock_at;                 /*    and when it came (dm_now) */
    uint64_t on_screen, dropped;     /* reported by the render thread */
    dm_net_stats stats;
};

static void follow(dm_feed *f);

dm_feed *dm_feed_new(size_t queue_cap, void (*wake)(void *ud), void *wake_ud)
{
    dm_feed *f = calloc(1, sizeof *f);

    if (!f)
        return NULL;
    f->queue = calloc(queue_cap ? queue_cap : 1, sizeof *f->queue);
    f->stamps = calloc(queue_cap ? queue_cap : 1, sizeof *f->stamps);
    if (!f->queue || !f->stamps) {
        free(f->queue);
        free(f->stamps);
        free(f);
        return NULL;
    }
    f->q_cap = queue_cap ? queue_cap : 1;
    f->wake = wake;
    f->wake_ud = wake_ud;
    pthread_mutex_init(&f->lock, NULL);
    return f;
}

void dm_feed_free(dm_feed **pf)
{
    dm_feed *f = *pf;

    if (!f)
        return;
    for (size_t i = 0; i < f->q_count; i++)
        dm_comment_free(&f->queue[(f->q_head + i) % f->q_cap].c);
    free(f->queue);
    free(f->stamps);
    pthread_mutex_destroy(&f->lock);
    free(f);
    *pf = NULL;
}

int dm_feed_reserve(dm_feed *f, int64_t *t_ms, int *pass)
{
    int rc = -1;

    pthread_mutex_lock(&f->lock);
    if (f->intake_closed)
        rc = -2;
    else if (f->q_count + f->reserved < f->q_cap) {
        struct stamp *st;
        follow(f);
        st = &f->stamps[(f->s_head + f->reserved) % f->q_cap];
        f->reserved++;
        *t_ms = st->t_ms = f->film_ms;
        *pass = st->pass = f->pass;
        rc = 0;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

/*
 * The stamps of the reservations: reserving and committing go in the same
 * order, so a commit takes the oldest; a place given back may be any of them,
 * and dropping the newest keeps every stamp left no later than the one it
 * stands for (the stamps only grow), which is all dm_feed_stamp_floor needs.
 */
void dm_feed_unreserve(dm_feed *f)
{
    pthread_mutex_lock(&f->lock);
    if (f->reserved)
        f->reserved--;
    pthread_mutex_unlock(&f->lock);
}

void dm_feed_commit(dm_feed *f, const dm_net_comment *c)
{
    pthread_mutex_lock(&f->lock);
    /* the reservation guarantees the room */
    f->queue[(f->q_head + f->q_count) % f->q_cap] = *c;
    f->q_count++;
    if (f->reserved) {
        f->reserved--;
        f->s_head = (f->s_head + 1) % f->q_cap;
    }
    if (f->external) {   /* a comment of the stream, recorded here first */
        f->ext_pass = c->c.pass;
        f->ext_ms = c->c.t_ms;
    }
    f->stats.accepted++;
    pthread_mutex_unlock(&f->lock);
    if (f->wake)
        f->wake(f->wake_ud);
}

void dm_feed_set_intake(dm_feed *f, int open)
{
    pthread_mutex_lock(&f->lock);
    f->intake_closed = !open;
    pthread_mutex_unlock(&f->lock);
}

int dm_feed_intake_open(dm_feed *f)
{
    int open;

    pthread_mutex_lock(&f->lock);
    open = !f->intake_closed;
    pthread_mutex_unlock(&f->lock);
    return open;
}

/* Closed, and every comment that got a place before is committed or gave it back. */
int dm_feed_intake_settled(dm_feed *f)
{
    int settled;

    pthread_mutex_lock(&f->lock);
    settled = f->intake_closed && f->reserved == 0;
    pthread_mutex_unlock(&f->lock);
    return settled;
}

int dm_feed_new_film(dm_feed *f)
{
    int rc = -1;

    pthread_mutex_lock(&f->lock);
    if (f->intake_closed && f->reserved == 0) {
        f->film_ms = 0;
        f->pass = 0;
        rc = 0;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static int push(dm_feed *f, dm_net_control_kind kind, const char *id, double value, int entry)
{
    dm_net_control *ctl;

    pthread_mutex_lock(&f->lock);
    if (f->c_count == DM_FEED_CONTROL_CAP) {
        pthread_mutex_unlock(&f->lock);
        return -1;
    }
    ctl = &f->controls[(f->c_head + f->c_count) % DM_FEED_CONTROL_CAP];
    memset(ctl, 0, sizeof *ctl);
    ctl->kind = kind;
    /* it applies after the comments queued so far, not to later ones */
    ctl->after = f->stats.accepted;
    snprintf(ctl->id, sizeof ctl->id, "%s", id ? id : "");
    ctl->value = value;
    ctl->entry = entry;
    f->c_count++;
    pthread_mutex_unlock(&f->lock);
    if (f->wake)
        f->wake(f->wake_ud);
    return 0;
}

int dm_feed_push_control(dm_feed *f, dm_net_control_kind kind, const char *id)
{
    return push(f, kind, id, 0, 0);
}

int dm_feed_push_film(dm_feed *f, dm_net_control_kind kind, double value, int entry)
{
    return push(f, kind, NULL, value, entry);
}

void dm_feed_set_external(dm_feed *f)
{
    pthread_mutex_lock(&f->lock);
    f->external = 1;
    pthread_mutex_unlock(&f->lock);
}

int dm_feed_push_stamped(dm_feed *f, const dm_net_comment *c)
{
    pthread_mutex_lock(&f->lock);
    if (f->q_count + f->reserved >= f->q_cap) {
        pthread_mutex_unlock(&f->lock);
        return -1;
    }
    f->queue[(f->q_head + f->q_count) % f->q_cap] = *c;
    f->q_count++;
    f->ext_pass = c->c.pass;
    f->ext_ms = c->c.t_ms;
    f->stats.accepted++;
    pthread_mutex_unlock(&f->lock);
    if (f->wake)
        f->wake(f->wake_ud);
    return 0;
}

void dm_feed_advance_floor(dm_feed *f, int pass, int64_t t_ms)
{
    pthread_mutex_lock(&f->lock);
    if (pass > f->ext_pass || (pass == f->ext_pass && t_ms > f->ext_ms)) {
        f->ext_pass = pass;
        f->ext_ms = t_ms;
    }
    pthread_mutex_unlock(&f->lock);
    if (f->wake)
        f->wake(f->wake_ud);
}

void dm_feed_stamp_floor(dm_feed *f, int *pass, int64_t *t_ms)
{
    pthread_mutex_lock(&f->lock);
    if (f->external && f->q_count) {
        *pass = f->queue[f->q_head].c.pass;
        *t_ms = f->queue[f->q_head].c.t_ms;
    } else if (f->external) {
        *pass = f->ext_pass;
        *t_ms = f->ext_ms;
    } else if (f->q_count) {
        *pass = f->queue[f->q_head].c.pass;
        *t_ms = f->queue[f->q_head].c.t_ms;
    } else if (f->reserved) {
        *pass = f->stamps[f->s_head].pass;
        *t_ms = f->stamps[f->s_head].t_ms;
    } else {
        *pass = f->pass;
        *t_ms = f->film_ms;
    }
    pthread_mutex_unlock(&f->lock);
}

/*
 * Stamps never go back within a pass, so arrival order is time order and
 * a recording replays with the live lanes. A clock that steps back a
 * little is held; a backward seek starts the next pass. Lock held.
 */
static void set_time(dm_feed *f, int64_t t_ms)
{
    if (t_ms < 0)
        t_ms = 0;
    if (t_ms < f->film_ms - DM_NET_REWIND_MS)
        f->pass++;
    if (t_ms >= f->film_ms || t_ms < f->film_ms - DM_NET_REWIND_MS)
        f->film_ms = t_ms;
}

void dm_feed_set_film_time(dm_feed *f, int64_t t_ms)
{
    pthread_mutex_lock(&f->lock);
    if (!f->following)
        set_time(f, t_ms);
    pthread_mutex_unlock(&f->lock);
}

void dm_feed_follow_clock(dm_feed *f, int64_t t_ms, int paused)
{
    pthread_mutex_lock(&f->lock);
    f->following = 1;
    f->clock_ms = t_ms;
    f->clock_paused = paused;
    f->clock_at = dm_now();
    set_time(f, t_ms);
    pthread_mutex_unlock(&f->lock);
}

void dm_feed_film_stamp(dm_feed *f, int *pass, int64_t *t_ms)
{
    pthread_mutex_lock(&f->lock);
    follow(f);
    *pass = f->pass;
    *t_ms = f->film_ms;
    pthread_mutex_unlock(&f->lock);
}

/* A gateway's stamp: the clock's last film time, run on since it came (at most FOLLOW_CAP_S). Lock held. */
static void follow(dm_feed *f)
{
    double since = dm_now() - f->clock_at;

    if (!f->following || f->clock_paused)
        return;
    if (since > FOLLOW_CAP_S)
        since = FOLLOW_CAP_S;   /* the clock player is gone: the time stands where it would be by now */
    set_time(f, f->clock_ms + (int64_t)(since * 1000.0));
}

size_t dm_feed_drain(dm_feed *f, dm_net_comment *out, size_t cap)
{
    size_t k = 0;
    uint64_t barrier;

    pthread_mutex_lock(&f->lock);
    /* never past the oldest host request still queued: the comments after it wait until it is
     * carried out (read under the lock the request is queued with, so a comment sent after a
     * clear is never taken before the clear, however long the render thread took between
     * reading dm_feed_control_barrier and draining) */
    barrier = f->c_count ? f->controls[f->c_head].after : UINT64_MAX;
    while (k < cap && f->q_count && f->drained < barrier) {
        out[k++] = f->queue[f->q_head];
        memset(&f->queue[f->q_head], 0, sizeof f->queue[0]);
        f->q_head = (f->q_head + 1) % f->q_cap;
        f->q_count--;
        f->drained++;
    }
    /*
     * Empty: start again at the front. The ring is big (65,536 comments) and
     * taken every frame, so this way only as much of it as the largest
     * backlog is ever touched: its pages are not all brought in one by one
     * over the screening's first minutes.
     */
    if (!f->q_count)
        f->q_head = 0;
    pthread_mutex_unlock(&f->lock);
    return k;
}

size_t dm_feed_drain_control(dm_feed *f, dm_net_control *out, size_t cap)
{
    size_t k = 0;

    pthread_mutex_lock(&f->lock);
    while (k < cap && f->c_count) {
        out[k++] = f->controls[f->c_head];
        f->c_head = (f->c_head + 1) % DM_FEED_CONTROL_CAP;
        f->c_count--;
    }
    pthread_mutex_unlock(&f->lock);
    return k;
}

uint64_t dm_feed_control_barrier(dm_feed *f)
{
    uint64_t after;

    pthread_mutex_lock(&f->lock);
    after = f->c_count ? f->controls[f->c_head].after : UINT64_MAX;
    pthread_mutex_unlock(&f->lock);
    return after;
}

void dm_feed_set_screen_stats(dm_feed *f, uint64_t on_screen, uint64_t dropped)
{
    pthread_mutex_lock(&f->lock);
    f->on_screen = on_screen;
    f->dropped = dropped;
    pthread_mutex_unlock(&f->lock);
}

void dm_feed_count_rejected(dm_feed *f)
{
    pthread_mutex_lock(&f->lock);
    f->stats.rejected++;
    pthread_mutex_unlock(&f->lock);
}

void dm_feed_count_connection(dm_feed *f, uint64_t open_now, int opened, int refused)
{
    pthread_mutex_lock(&f->lock);
    f->stats.connections = open_now;
    f->stats.connections_total += opened ? 1 : 0;
    f->stats.refused += refused ? 1 : 0;
    pthread_mutex_unlock(&f->lock);
}

void dm_feed_get(dm_feed *f, dm_feed_view *v)
{
    pthread_mutex_lock(&f->lock);
    v->stats = f->stats;
    v->film_ms = f->film_ms;
    v->on_screen = f->on_screen;
    v->dropped = f->dropped;
    pthread_mutex_unlock(&f->lock);
}
