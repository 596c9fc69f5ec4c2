/*
 * timeline.c - the renderer's view of a layout: which comments are on screen
 * at film time t and where, in time proportional to what is on screen.
 *
 * Film time is cut into buckets of BUCKET_MS; every shown comment is listed
 * in each bucket its lifetime touches. A query reads one bucket. Lists keep
 * index order (tracks insert in index order, live comments get rising
 * indexes), which is the stable draw order.
 */
#include "danmaku.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BUCKET_MS 1000

typedef struct entry {
    dm_placed p;                /* where it goes */
    dm_positioned pos;          /* positioned comments: their motion */
    uint32_t index;             /* caller's comment index */
    uint8_t has_pos;            /* pos is valid */
    uint8_t alive;              /* 0 once removed */
} entry;

typedef struct bucket {
    uint32_t *ids;              /* entry ids, in comment index order */
    uint32_t count, cap;
} bucket;

struct dm_timeline {
    int stage_w, stage_h;       /* for positioned coordinates */
    entry *entries;             /* every inserted comment */
    size_t entry_count, entry_cap;
    size_t alive;               /* entries not removed */
    bucket *buckets;            /* bucket b covers [b*BUCKET_MS, (b+1)*BUCKET_MS) */
    size_t bucket_count;
    uint32_t *prev;             /* indexes returned by the last query */
    size_t prev_count, prev_cap;
    double prev_t;              /* time of the last query (ms) */
    int prev_moving;            /* last query had a moving or fading comment */
    int queried;                /* a query has been made since the last reset */
};

dm_timeline *dm_timeline_new(const dm_layout_opts *opts)
{
    dm_timeline *tl = calloc(1, sizeof *tl);

    if (!tl)
        return NULL;
    tl->stage_w = opts ? opts->stage_w : 1920;
    tl->stage_h = opts ? opts->stage_h : 1080;
    return tl;
}

void dm_timeline_reset(dm_timeline *tl)
{
    for (size_t b = 0; b < tl->bucket_count; b++)
        free(tl->buckets[b].ids);
    free(tl->buckets);
    free(tl->entries);
    tl->buckets = NULL;
    tl->entries = NULL;
    tl->bucket_count = tl->entry_count = tl->entry_cap = tl->alive = 0;
    tl->prev_count = 0;
    tl->queried = 0;
}

void dm_timeline_free(dm_timeline **ptl)
{
    dm_timeline *tl = ptl ? *ptl : NULL;

    if (!tl)
        return;
    dm_timeline_reset(tl);
    free(tl->prev);
    free(tl);
    *ptl = NULL;
}

size_t dm_timeline_count(const dm_timeline *tl)
{
    return tl->alive;
}

static int bucket_add(dm_timeline *tl, size_t b, uint32_t id)
{
    bucket *bk;
    uint32_t at;

    if (b >= tl->bucket_count) {
        size_t n = tl->bucket_count ? tl->bucket_count : 64;
        bucket *nb;
        while (n <= b)
            n *= 2;
        nb = realloc(tl->buckets, n * sizeof *nb);
        if (!nb)
            return DM_ENOMEM;
        memset(nb + tl->bucket_count, 0, (n - tl->bucket_count) * sizeof *nb);
        tl->buckets = nb;
        tl->bucket_count = n;
    }
    bk = &tl->buckets[b];
    if (bk->count == bk->cap) {
        uint32_t cap = bk->cap ? bk->cap * 2 : 8;
        uint32_t *ids = realloc(bk->ids, cap * sizeof *ids);
        if (!ids)
            return DM_ENOMEM;
        bk->ids = ids;
        bk->cap = cap;
    }
    /* keep index order; inserts almost always land at the end */
    at = bk->count;
    while (at > 0 && tl->entries[bk->ids[at - 1]].index > tl->entries[id].index)
        at--;
    memmove(bk->ids + at + 1, bk->ids + at, (bk->count - at) * sizeof *bk->ids);
    bk->ids[at] = id;
    bk->count++;
    return 0;
}

int dm_timeline_insert(dm_timeline *tl, uint32_t index, const dm_placed *p, const dm_positioned *pos)
{
    entry *e;
    uint32_t id;

    if (!p->shown || p->end_ms <= p->start_ms || p->end_ms <= 0)
        return 0;
    if (tl->entry_count == tl->entry_cap) {
        size_t cap = tl->entry_cap ? tl->entry_cap * 2 : 256;
        entry *ne;
        if (cap > UINT32_MAX)
            return DM_ETOOBIG;
        ne = realloc(tl->entries, cap * sizeof *ne);
        if (!ne)
            return DM_ENOMEM;
        tl->entries = ne;
        tl->entry_cap = cap;
    }
    id = (uint32_t)tl->entry_count++;
    e = &tl->entries[id];
    memset(e, 0, sizeof *e);
    e->p = *p;
    e->index = index;
    e->alive = 1;
    if (pos && p->mode == DM_MODE_POSITIONED) {
        e->pos = *pos;
        e->has_pos = 1;
    }
    tl->alive++;
    for (int64_t b = (p->start_ms < 0 ? 0 : p->start_ms) / BUCKET_MS; b <= (p->end_ms - 1) / BUCKET_MS; b++) {
        int err = bucket_add(tl, (size_t)b, id);
        if (err)
            return err;
    }
    return 0;
}

int dm_timeline_remove(dm_timeline *tl, uint32_t index)
{
    int found = 0;

    for (size_t i = 0; i < tl->entry_count; i++) {
        if (tl->entries[i].index == index && tl->entries[i].alive) {
            tl->entries[i].alive = 0;
            tl->alive--;
            found = 1;
        }
    }
    return found;
}

/* Position and opacity of an entry at t (ms, fractions allowed); returns 1 if it moves or fades. */
static int entry_at(const dm_timeline *tl, const entry *e, double t, dm_visible *v)
{
    const dm_placed *p = &e->p;

    v->index = e->index;
    v->alpha = 1.0f;
    if (e->has_pos) {
        const dm_positioned *q = &e->pos;
        double life = (double)(p->end_ms - p->start_ms);
        double since = (double)(t - p->start_ms);
        double f = 0;
        if (q->move_ms > 0)
            f = (since - q->move_delay_ms) / q->move_ms;
        else if (since >= q->move_delay_ms)
            f = 1;
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        v->x = (float)((q->x0 + (q->x1 - q->x0) * f) * tl->stage_w);
        v->y = (float)((q->y0 + (q->y1 - q->y0) * f) * tl->stage_h);
        v->alpha = (float)(q->alpha0 + (q->alpha1 - q->alpha0) * (life > 0 ? since / life : 0));
        if (v->alpha < 0)
            v->alpha = 0;
        return q->x0 != q->x1 || q->y0 != q->y1 || q->alpha0 != q->alpha1;
    }
    {
        double span = (double)(p->end_ms - p->start_ms);
        v->x = (float)(span <= 0 ? p->x_start : p->x_start + (double)(p->x_end - p->x_start) *
                                                              (t - (double)p->start_ms) / span);
    }
    v->y = (float)p->y;
    return p->x_start != p->x_end;
}

size_t dm_timeline_query(dm_timeline *tl, int64_t t_ms, dm_visible *out, size_t cap, int *changed)
{
    return dm_timeline_query_exact(tl, (double)t_ms, out, cap, changed);
}

size_t dm_timeline_query_exact(dm_timeline *tl, double t_exact, dm_visible *out, size_t cap, int *changed)
{
    int64_t t_ms = (int64_t)floor(t_exact);
    size_t n = 0, same = 1;
    int moving = 0;
    const bucket *bk = NULL;

    if (t_ms >= 0 && (size_t)(t_ms / BUCKET_MS) < tl->bucket_count)
        bk = &tl->buckets[t_ms / BUCKET_MS];
    for (uint32_t i = 0; bk && i < bk->count; i++) {
        const entry *e = &tl->entries[bk->ids[i]];
        dm_visible v;
        if (!e->alive || e->p.start_ms > t_ms || e->p.end_ms <= t_ms)
            continue;
        moving |= entry_at(tl, e, t_exact, &v);
        if (n < cap)
            out[n] = v;
        if (same && (n >= tl->prev_count || tl->prev[n] != e->index))
            same = 0;
        /* remember the set for the next query's change flag */
        if (n >= tl->prev_cap) {
            size_t pc = tl->prev_cap ? tl->prev_cap * 2 : 64;
            uint32_t *np = realloc(tl->prev, pc * sizeof *np);
            if (np) {
                tl->prev = np;
                tl->prev_cap = pc;
            }
        }
        if (n < tl->prev_cap)
            tl->prev[n] = e->index;
        n++;
    }
    if (changed) {
        if (!tl->queried || !same || n != tl->prev_count)
            *changed = DM_CHANGED_CONTENT;
        else if (t_exact != tl->prev_t && (moving || tl->prev_moving))
            *changed = DM_CHANGED_POSITIONS;
        else
            *changed = DM_CHANGED_NONE;
    }
    tl->prev_count = n <= tl->prev_cap ? n : tl->prev_cap;
    if (n > tl->prev_cap)
        tl->queried = 0;   /* could not remember the set: report a change next time */
    else
        tl->queried = 1;
    tl->prev_t = t_exact;
    tl->prev_moving = moving;
    return n;
}

int dm_timeline_query_all(dm_timeline *tl, int64_t t_ms, dm_visible **out, size_t *cap, size_t *n)
{
    *n = dm_timeline_query(tl, t_ms, *out, *cap, NULL);
    if (*n > *cap) {
        size_t grown = *n * 2;
        dm_visible *v = realloc(*out, grown * sizeof *v);
        if (!v) {
            *n = 0;
            return DM_ENOMEM;
        }
        *out = v;
        *cap = grown;
        *n = dm_timeline_query(tl, t_ms, *out, *cap, NULL);
    }
    return 0;
}
