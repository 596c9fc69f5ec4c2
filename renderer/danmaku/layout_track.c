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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct order_key {
    int pass;                   /* screening pass (live recordings) */
    int64_t t;                  /* comment time */
    uint32_t index;             /* input index, the tie-break */
} order_key;

static int cmp_order(const void *a, const void *b)
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
    return !c->deleted && c->mode != DM_MODE_POSITIONED && c->bili_mode != 8 && c->bili_mode != 9 &&
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

int dm_layout_track(const dm_track *track, const dm_layout_opts *opts, dm_measure_fn measure,
                    void *measure_ud, const dm_filter *filter, dm_placed **placed_out, char ***texts_out,
                    dm_diag *diag)
{
    dm_layout *L = NULL;
    order_key *order = NULL;
    dm_placed *placed = NULL;
    int *counts = NULL;
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
    order = malloc((n ? n : 1) * sizeof *order);
    placed = calloc(n ? n : 1, sizeof *placed);
    counts = malloc((n ? n : 1) * sizeof *counts);
    texts = calloc(n ? n : 1, sizeof *texts);
    if (!order || !placed || !counts || !texts)
        goto out;
    for (size_t i = 0; i < n; i++) {
        /* a later pass goes back in film time: the layout must allow it */
        if (track->items[i].pass > 0 && !rewinds) {
            rewinds = 1;
            if ((err = dm_layout_allow_rewind(L)) != 0)
                goto out;
        }
        order[i].pass = track->items[i].pass;
        order[i].t = track->items[i].t_ms;
        order[i].index = (uint32_t)i;
        counts[i] = track->items[i].count > 0 ? track->items[i].count : 1;
    }
    qsort(order, n, sizeof *order, cmp_order);
    if (opts->merge_window_ms > 0) {
        err = merge_duplicates(track, order, filter, opts->merge_window_ms, placed, counts);
        if (err)
            goto out;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t idx = order[i].index;
        const dm_comment *c = &track->items[idx];

        if (placed[idx].reason == DM_REASON_DUPLICATE) {
            placed[idx].mode = (uint8_t)c->mode;
            continue;
        }
        if (counts[idx] > 1) {
            size_t len = strlen(c->text) + 24;
            texts[idx] = malloc(len);
            if (!texts[idx])
                goto out;
            snprintf(texts[idx], len, "%s \xC3\x97%d", c->text, counts[idx]);
        }
        err = dm_layout_add(L, c, texts[idx], &placed[idx]);
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
    free(counts);
    free(order);
    dm_layout_free(&L);
    return err;
}
