/*
 * layout_track.c - laying out a whole track: time order, duplicate merging,
 * then the layout engine comment by comment.
 *
 * Comments are taken in order of (pass, t_ms, input index), so the result
 * does not depend on the order of the file and a recording (in that order
 * already: film time only grows within a pass, and each backward seek of the
 * screening starts a new pass) replays with the lanes it had live.
 */
#include "danmaku.h"
#include "layout_order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef dm_order_key order_key;

int dm_order_cmp(const void *a, const void *b)
{
    const order_key *x = a, *y = b;

    if (x->pass != y->pass)
        return x->pass < y->pass ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Open-addressing map from normalised text to the leader of its group. */
typedef struct merge_entry {
    char *key;                  /* normalised text, owned; NULL = empty */
    uint32_t leader;            /* index of the first comment of the group */
} merge_entry;

typedef struct merge_map {
    merge_entry *e;             /* cap entries */
    size_t cap;                 /* power of two */
} merge_map;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

/* Slot for key (existing or empty); cap is at least twice the entry count. */
static merge_entry *merge_find(merge_map *m, const char *key)
{
    size_t i = (size_t)hash_str(key) & (m->cap - 1);

    while (m->e[i].key && strcmp(m->e[i].key, key))
        i = (i + 1) & (m->cap - 1);
    return &m->e[i];
}

static int is_mergeable(const dm_comment *c)
{
    return !c->deleted && !c->rejected && c->kind == DM_KIND_COMMENT && c->mode != DM_MODE_POSITIONED && c->bili_mode != 8 && c->bili_mode != 9 &&
           c->text && c->text[0];
}

/*
 * Mark duplicates: a comment whose normalised text equals that of a group
 * leader less than `window` ms earlier joins the group. Leaders get their
 * count in counts[]; members get DM_REASON_DUPLICATE in placed[].
 */
static int merge_duplicates(const dm_track *track, const order_key *order, const dm_filter *filter,
                            int window, dm_placed *placed, int *counts)
{
    merge_map m = { 0 };
    int err = 0;

    m.cap = 16;
    while (m.cap < track->count * 2)
        m.cap *= 2;
    m.e = calloc(m.cap, sizeof *m.e);
    if (!m.e)
        return DM_ENOMEM;
    for (size_t i = 0; i < track->count; i++) {
        uint32_t idx = order[i].index;
        const dm_comment *c = &track->items[idx];
        merge_entry *slot;
        char *key;

        if (!is_mergeable(c) || (filter && dm_filter_match(filter, c)))
            continue;
        key = dm_text_normalize(c->text);
        if (!key) {
            continue;   /* cannot normalise: lay it out on its own */
        }
        slot = merge_find(&m, key);
        if (slot->key && c->pass == track->items[slot->leader].pass &&
            c->t_ms - track->items[slot->leader].t_ms < window) {
            counts[slot->leader] += c->count > 0 ? c->count : 1;
            placed[idx].reason = DM_REASON_DUPLICATE;
            free(key);
            continue;
        }
        if (slot->key)
            free(slot->key);
        slot->key = key;
        slot->leader = idx;
    }
    for (size_t i = 0; i < m.cap; i++)
        free(m.e[i].key);
    free(m.e);
    return err;
}

void dm_texts_free(char **texts, size_t count)
{
    if (!texts)
        return;
    for (size_t i = 0; i < count; i++)
        free(texts[i]);
    free(texts);
}

int dm_layout_prepare(const dm_track *track, size_t n, const dm_filter *filter, int merge_window_ms,
                      dm_order_key **order_out, dm_placed *placed, char **texts, int *rewinds)
{
    order_key *order;
    int *counts = NULL;
    int err = DM_ENOMEM;

    *order_out = NULL;
    *rewinds = 0;
    if (n > UINT32_MAX - 1)
        return DM_ETOOBIG;
    order = malloc((n ? n : 1) * sizeof *order);
    counts = malloc((n ? n : 1) * sizeof *counts);
    if (!order || !counts)
        goto out;
    for (size_t i = 0; i < n; i++) {
        /* a later pass goes back in film time: the layout must allow it */
        *rewinds |= track->items[i].pass > 0;
        order[i].pass = track->items[i].pass;
        order[i].t = track->items[i].t_ms;
        order[i].index = (uint32_t)i;
        counts[i] = track->items[i].count > 0 ? track->items[i].count : 1;
    }
    qsort(order, n, sizeof *order, dm_order_cmp);
    if (merge_window_ms > 0 && (err = merge_duplicates(track, order, filter, merge_window_ms, placed, counts)) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const dm_comment *c = &track->items[i];
        if (placed[i].reason == DM_REASON_DUPLICATE) {
            placed[i].mode = (uint8_t)c->mode;
        } else if (counts[i] > 1) {
            size_t len = strlen(c->text) + 24;
            texts[i] = malloc(len);
            if (!texts[i])
                goto out;
            snprintf(texts[i], len, "%s \xC3\x97%d", c->text, counts[i]);
        }
    }
    err = 0;
    *order_out = order;
    order = NULL;
out:
    free(order);
    free(counts);
    return err;
}

int dm_layout_track(const dm_track *track, const dm_layout_opts *opts, dm_measure_fn measure,
                    void *measure_ud, const dm_filter *filter, dm_placed **placed_out, char ***texts_out,
                    dm_diag *diag)
{
    dm_layout *L = NULL;
    order_key *order = NULL;
    dm_placed *placed = NULL;
    char **texts = NULL;
    size_t n = track->count;
    int err = DM_ENOMEM, rewinds = 0;

    *placed_out = NULL;
    if (texts_out)
        *texts_out = NULL;
    if (n > UINT32_MAX - 1) {
        dm_diag_error(diag, "track too large (%zu comments)", n);
        return DM_ETOOBIG;
    }
    L = dm_layout_new(opts, measure, measure_ud, filter, diag);
    if (!L)
        return diag && diag->error[0] && strstr(diag->error, "memory") ? DM_ENOMEM : DM_EINVAL;
    placed = calloc(n ? n : 1, sizeof *placed);
    texts = calloc(n ? n : 1, sizeof *texts);
    if (!placed || !texts)
        goto out;
    if ((err = dm_layout_prepare(track, n, filter, opts->merge_window_ms, &order, placed, texts, &rewinds)) != 0)
        goto out;
    if (rewinds && (err = dm_layout_allow_rewind(L)) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint32_t idx = order[i].index;
        if (placed[idx].reason == DM_REASON_DUPLICATE)
            continue;
        if (track->items[idx].kind != DM_KIND_COMMENT) {
            /* live cards need a scene: it makes them obstacles of the layout */
            placed[idx].mode = DM_MODE_POSITIONED;
            placed[idx].reason = DM_REASON_UNSUPPORTED;
            continue;
        }
        err = dm_layout_add(L, &track->items[idx], texts[idx], &placed[idx]);
        if (err)
            goto out;
    }
    err = 0;
    *placed_out = placed;
    placed = NULL;
    if (texts_out) {
        *texts_out = texts;
        texts = NULL;
    }
out:
    if (err == DM_ENOMEM)
        dm_diag_error(diag, "out of memory laying out %zu comments", n);
    dm_texts_free(texts, n);
    free(placed);
    free(order);
    dm_layout_free(&L);
    return err;
}
