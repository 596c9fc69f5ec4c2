/*
 * scene.c - the comments of one film with their settings, obstacles, layout
 * and timeline (see danmaku.h, "scene").
 *
 * Order. The layout takes comments in order of (pass, t_ms, index), the
 * tracks' first (dm_layout_prepare). A scene that is not live lays them all
 * out at once. A live one lays the tracks' comments out only up to the
 * point before which no live comment can come any more (dm_scene_advance),
 * and an appended comment first lays out the tracks' comments before it:
 * live comments arrive in (pass, t_ms) order, so the comments are laid out
 * in the same global order as a scene of the tracks followed by the
 * recording, and both give the same lanes.
 *
 * Every comment laid out is remembered in that order (`seq`): laying the
 * scene out again for a new stage replays it, so the result is what the
 * scene would have been had it had that stage from the start.
 *
 * Live cards (super chats, gift lines) of the tracks are laid out first,
 * all at once, for each stage (cards.c): each shown card becomes an
 * obstacle of the layout, so every comment, live ones included, keeps off
 * it. A card appended live could not become an obstacle any more: it is not
 * shown ("unsupported").
 *
 * Near the playhead (dm_scene_opts.near_playhead). A new stage replays
 * only part of `seq`: from the first comment that can still be on screen a
 * second before the last query's time, on empty lanes, to the comments of
 * the second after it. The whole list stays in `replay`, and queries lay out
 * the rest of it as they reach it (`partial`). Anything that needs the whole
 * layout replays all of `replay`, which gives the exact layout again.
 */
#include "danmaku.h"
#include "cards.h"
#include "layout_order.h"
#include "measure_ahead.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct dm_scene {
    dm_scene_opts o;            /* settings; o.layout is the current stage's */
    dm_track track;             /* every comment: the tracks', then the appended ones */
    size_t base;                /* how many came from tracks */
    dm_placed *placed;          /* where each comment went (cap entries) */
    char **texts;               /* display texts other than the comment's own ("×N"), cap entries */
    uint32_t *seq;              /* the comments laid out, in the order they were (cap entries) */
    size_t seq_n;
    size_t cap;                 /* entries allocated in placed, texts and seq */
    dm_order_key *order;        /* the tracks' comments in layout order (base entries) */
    size_t cursor;              /* order[0..cursor) are laid out */
    int rewinds;                /* the layout allows comments earlier than the latest */
    int started;                /* laid out (no more tracks) */
    dm_layout *layout;          /* the engine, for o.layout and the obstacles */
    dm_timeline *timeline;      /* what is on screen when */
    dm_obstacle *extra;         /* obstacles from outside: the updates' (subtitles), then the labels */
    size_t extra_n;             /* all of them */
    size_t extra_own_n;         /* the updates' part */
    dm_obstacle *labels;        /* dm_scene_set_labels */
    size_t label_n;
    int has_cards;              /* the tracks hold live cards */
    dm_visible *visible;        /* the last query's result */
    size_t visible_cap;
    dm_ahead *ahead;            /* helpers measuring ahead (measure_clone), NULL: none */
    dm_ahead_job *jobs;         /* what they measure in the running bulk (jobs_cap entries) */
    size_t jobs_cap;
    uint32_t measuring;         /* the comment being laid out, for the helpers' results; NO_COMMENT: none */
    int64_t playhead;           /* the last query's time (ms); INT64_MIN before the first */
    int partial;                /* laid out near the playhead only: replay[replay_next..) are not laid out */
    uint32_t *replay;           /* while partial: the whole stage's list, in order (replay_n entries) */
    size_t replay_n, replay_from, replay_next, replay_cap;   /* replay[replay_from..replay_next) are laid out */
    int64_t valid_from;         /* while partial: a query before this lays out the whole */
};

/* Near the playhead: fewer comments are laid out whole; what is laid out around a query. */
#define NEAR_MIN_COMMENTS 512
#define NEAR_BACK_MS 1000
#define NEAR_AHEAD_MS 1000

#define NO_COMMENT UINT32_MAX

dm_scene *dm_scene_new(const dm_scene_opts *opts, dm_diag *diag)
{
    dm_scene *s;

    if (!opts) {
        dm_diag_error(diag, "a scene needs settings");
        return NULL;
    }
    if (dm_layout_opts_check(&opts->layout, diag))
        return NULL;
    s = calloc(1, sizeof *s);
    if (!s) {
        dm_diag_error(diag, "out of memory");
        return NULL;
    }
    s->o = *opts;
    dm_track_init(&s->track);
    s->measuring = NO_COMMENT;
    s->playhead = INT64_MIN;
    if (opts->measure && opts->measure_clone && opts->measure_clone_free && opts->measure_threads >= 0)
        s->ahead = dm_ahead_new(opts->measure, opts->measure_ud, opts->measure_clone, opts->measure_clone_free,
                                opts->measure_threads);   /* NULL: measured here, as without clones */
    return s;
}

void dm_scene_measure_counts(const dm_scene *s, uint64_t *by_helpers, uint64_t *by_scene)
{
    dm_ahead_counts(s ? s->ahead : NULL, by_helpers, by_scene);
}

void dm_scene_free(dm_scene **ps)
{
    dm_scene *s = ps ? *ps : NULL;

    if (!s)
        return;
    dm_texts_free(s->texts, s->cap);
    free(s->placed);
    free(s->seq);
    free(s->replay);
    free(s->order);
    free(s->extra);
    free(s->labels);
    free(s->visible);
    dm_layout_free(&s->layout);
    dm_timeline_free(&s->timeline);
    dm_ahead_free(&s->ahead);
    free(s->jobs);
    dm_track_clear(&s->track);
    free(s);
    *ps = NULL;
}

int dm_scene_read(dm_scene *s, const dm_track_file *file, dm_diag *diag)
{
    if (!s || !file || !file->path) {
        dm_diag_error(diag, "dm_scene_read: no scene or no file");
        return DM_EINVAL;
    }
    if (s->started) {
        dm_diag_error(diag, "%s: tracks must be added before the scene is laid out", file->path);
        return DM_EINVAL;
    }
    return dm_read_track_file(&s->track, file, diag);
}

int dm_scene_read_file(dm_scene *s, const char *path, dm_format fmt, dm_diag *diag)
{
    dm_track_file file = { .path = path, .format = fmt };

    return dm_scene_read(s, &file, diag);
}

int dm_scene_add_track(dm_scene *s, const dm_track *t)
{
    if (s->started)
        return DM_EINVAL;
    for (size_t i = 0; i < t->count; i++)
        if (dm_track_push(&s->track, &t->items[i]))
            return DM_ENOMEM;
    return 0;
}

/* Room for `count` comments in the per-comment arrays (new entries zeroed). */
static int reserve(dm_scene *s, size_t count)
{
    size_t cap = s->cap ? s->cap : 64;
    dm_placed *p;
    char **t;
    uint32_t *q;

    if (count <= s->cap)
        return 0;
    if (count > UINT32_MAX - 1)
        return DM_ETOOBIG;
    while (cap < count)
        cap *= 2;
    p = realloc(s->placed, cap * sizeof *p);
    if (!p)
        return DM_ENOMEM;
    s->placed = p;
    t = realloc(s->texts, cap * sizeof *t);
    if (!t)
        return DM_ENOMEM;
    s->texts = t;
    q = realloc(s->seq, cap * sizeof *q);
    if (!q)
        return DM_ENOMEM;
    s->seq = q;
    memset(s->placed + s->cap, 0, (cap - s->cap) * sizeof *p);
    memset(s->texts + s->cap, 0, (cap - s->cap) * sizeof *t);
    s->cap = cap;
    return 0;
}

/*
 * The tracks' live cards for the current stage (placed[] and texts[] of
 * each card), and the obstacles of the layout: the outside ones, then the
 * shown cards' (*obs, malloc'd; *n). 0 or DM_ENOMEM.
 */
static int lay_out_cards(dm_scene *s, dm_obstacle **obs, size_t *n)
{
    const dm_layout_opts *o = &s->o.layout;
    dm_obstacle *avoid, *cards = NULL, *all;
    size_t navoid = (size_t)o->keep_off_count + s->extra_n, ncards = 0;
    int err;

    *obs = NULL;
    *n = 0;
    if (!s->has_cards)
        return 0;
    avoid = malloc((navoid ? navoid : 1) * sizeof *avoid);
    if (!avoid)
        return DM_ENOMEM;
    for (int k = 0; k < o->keep_off_count; k++)
        avoid[k] = dm_keep_off_box(&o->keep_off[k], o->stage_w, o->stage_h, k);
    if (s->extra_n)
        memcpy(avoid + o->keep_off_count, s->extra, s->extra_n * sizeof *avoid);
    err = dm_cards_layout(&s->track, s->base, s->order, o, s->o.measure, s->o.measure_ud, s->o.filter, avoid,
                          navoid, s->placed, s->texts, &cards, &ncards);
    free(avoid);
    if (err || !ncards)
        return err;
    all = malloc((s->extra_n + ncards) * sizeof *all);
    if (!all) {
        free(cards);
        return DM_ENOMEM;
    }
    if (s->extra_n)
        memcpy(all, s->extra, s->extra_n * sizeof *all);
    memcpy(all + s->extra_n, cards, ncards * sizeof *all);
    free(cards);
    *obs = all;
    *n = s->extra_n + ncards;
    return 0;
}

/* The layout's measurer: the helpers' result for the comment being laid out, when they have one. */
static int scene_measure(void *ud, const char *text, int height_px, int *w, int *h)
{
    dm_scene *s = ud;

    if (s->measuring != NO_COMMENT)
        return dm_ahead_measure(s->ahead, s->measuring, text, height_px, w, h);
    return s->o.measure(s->o.measure_ud, text, height_px, w, h);
}

/* A fresh engine and timeline for the current settings and obstacles. */
static int new_layout(dm_scene *s, dm_layout **layout, dm_timeline **timeline, dm_diag *diag)
{
    dm_obstacle *obs = NULL;
    size_t nobs = 0;
    int err;

    *layout = s->ahead ? dm_layout_new(&s->o.layout, scene_measure, s, s->o.filter, diag)
                       : dm_layout_new(&s->o.layout, s->o.measure, s->o.measure_ud, s->o.filter, diag);
    *timeline = *layout ? dm_timeline_new(&s->o.layout) : NULL;
    if (!*layout || !*timeline) {
        err = *layout ? DM_ENOMEM : DM_EINVAL;
        goto fail;
    }
    err = lay_out_cards(s, &obs, &nobs);
    if (!err)
        err = obs ? dm_layout_add_obstacles(*layout, obs, nobs) : dm_layout_add_obstacles(*layout, s->extra, s->extra_n);
    free(obs);
    if (!err && s->rewinds)
        err = dm_layout_allow_rewind(*layout);
    if (!err)
        return 0;
    dm_diag_error(diag, err == DM_ENOMEM ? "out of memory for the layout" : "an obstacle box is empty");
fail:
    dm_layout_free(layout);
    dm_timeline_free(timeline);
    return err;
}

/*
 * Measuring ahead. A bulk of comments about to be laid out in one go: those
 * with a text and a height become the helpers' jobs, in order. The layout
 * passes over some of them (rejected, deleted, lanes full: its own rules,
 * not repeated here); a helper measuring one of those only wastes its time.
 */
static void ahead_job(dm_scene *s, size_t *n, uint32_t i)
{
    const dm_comment *c = &s->track.items[i];
    const char *text = s->texts[i] ? s->texts[i] : c->text;

    if (c->kind != DM_KIND_COMMENT || s->placed[i].reason == DM_REASON_DUPLICATE || !text || !text[0] ||
        (unsigned)c->size >= DM_SIZE_COUNT)
        return;
    s->jobs[*n].index = i;
    s->jobs[*n].height_px = dm_layout_height_px(&s->o.layout, c->size);
    s->jobs[*n].text = text;
    (*n)++;
}

/* Room for n jobs; 0 when there is none (then the bulk is measured here). */
static int ahead_room(dm_scene *s, size_t n)
{
    if (!s->ahead || n < DM_AHEAD_MIN_JOBS)
        return 0;
    if (n > s->jobs_cap) {
        dm_ahead_job *v = realloc(s->jobs, n * sizeof *v);
        if (!v)
            return 0;
        s->jobs = v;
        s->jobs_cap = n;
    }
    return 1;
}

/* Lay out comment i now and put it on the timeline. */
static int place(dm_scene *s, size_t i)
{
    const dm_comment *c = &s->track.items[i];
    int err = 0;

    if (c->kind == DM_KIND_COMMENT) {
        if (s->ahead)
            s->measuring = (uint32_t)i;
        err = dm_layout_add(s->layout, c, s->texts[i], &s->placed[i]);
        s->measuring = NO_COMMENT;
    } else if (i >= s->base) {
        /* a live card appended after the layout: it can no longer be an obstacle */
        memset(&s->placed[i], 0, sizeof s->placed[i]);
        s->placed[i].mode = DM_MODE_POSITIONED;
        s->placed[i].reason = DM_REASON_UNSUPPORTED;
    }
    /* (a track's card was placed with the others by lay_out_cards) */

    if (!err)
        err = dm_timeline_insert(s->timeline, (uint32_t)i, &s->placed[i], c->kind == DM_KIND_COMMENT ? c->pos : NULL);
    if (!err)
        s->seq[s->seq_n++] = (uint32_t)i;
    return err;
}

/* The tracks' comments up to (pass, t) in layout order. */
static int advance(dm_scene *s, int pass, int64_t t)
{
    size_t end = s->cursor, n = 0;
    int err = 0;

    while (end < s->base && (s->order[end].pass < pass || (s->order[end].pass == pass && s->order[end].t <= t)))
        end++;
    if (ahead_room(s, end - s->cursor)) {
        for (size_t k = s->cursor; k < end; k++)
            ahead_job(s, &n, s->order[k].index);
        dm_ahead_start(s->ahead, s->jobs, n, s->track.count);
    }
    while (s->cursor < end && !err) {
        const dm_order_key *k = &s->order[s->cursor++];
        if (s->placed[k->index].reason != DM_REASON_DUPLICATE)   /* else merged into its leader */
            err = place(s, k->index);
    }
    dm_ahead_stop(s->ahead);
    return err;
}

int dm_scene_layout(dm_scene *s, dm_diag *diag)
{
    int err;

    if (s->started)
        return 0;
    if (!s->o.measure) {
        dm_diag_error(diag, "the scene has no way to measure text");
        return DM_EINVAL;
    }
    s->base = s->track.count;
    for (size_t i = 0; i < s->base && !s->has_cards; i++)
        s->has_cards = s->track.items[i].kind != DM_KIND_COMMENT;
    if ((err = reserve(s, s->base)) != 0 ||
        (err = dm_layout_prepare(&s->track, s->base, s->o.filter, s->o.layout.merge_window_ms, &s->order,
                                 s->placed, s->texts, &s->rewinds)) != 0) {
        dm_diag_error(diag, err == DM_ETOOBIG ? "too many comments (%zu)" : "out of memory laying out %zu comments",
                      s->base);
        return err;
    }
    /* a screening may seek backwards: live comments then come earlier than ones placed */
    s->rewinds |= s->o.live;
    if ((err = new_layout(s, &s->layout, &s->timeline, diag)) != 0)
        return err;
    s->started = 1;
    if (!s->o.live && (err = advance(s, INT32_MAX, INT64_MAX)) != 0)
        dm_diag_error(diag, "out of memory laying out %zu comments", s->base);
    return err;
}

/*
 * The latest comment i can be on screen under the current settings: a
 * bound, for near_playhead, from the comment itself (its placement may be
 * the last stage's). Cards are placed for the stage before the comments
 * (lay_out_cards, which may let one wait for room), so theirs is exact.
 */
static int64_t latest_end(const dm_scene *s, uint32_t i)
{
    const dm_layout_opts *o = &s->o.layout;
    const dm_comment *c = &s->track.items[i];
    int64_t d = o->scroll_ms > o->fixed_ms ? o->scroll_ms : o->fixed_ms;

    if (c->kind != DM_KIND_COMMENT)
        return s->placed[i].shown ? s->placed[i].end_ms : INT64_MIN;
    if (c->pos && c->pos->life_ms > d)
        d = c->pos->life_ms;   /* positioned comments: their own life */
    return c->t_ms + o->max_delay_ms + d;
}

/* Whether a new stage may be laid out near the playhead: list[0..n) goes forward in time. */
static int near_possible(const dm_scene *s, const uint32_t *list, size_t n)
{
    if (!s->o.near_playhead || s->o.live || s->rewinds || s->playhead == INT64_MIN || n < NEAR_MIN_COMMENTS)
        return 0;
    for (size_t k = 1; k < n; k++)
        if (s->track.items[list[k]].t_ms < s->track.items[list[k - 1]].t_ms)
            return 0;
    return 1;
}

/*
 * Lay out again, for new settings, obstacles or filters: replay every
 * comment in its order; those of time up to keep_until keep their placements
 * (pinned), except, with `refilter`, the ones the filter now hides: they
 * leave the screen at once. With `near` (a new stage), only around the
 * playhead when near_possible; see "Near the playhead" above.
 */
static int relayout_keeping(dm_scene *s, int64_t keep_until, int refilter, int near, dm_diag *diag)
{
    dm_layout *layout;
    dm_timeline *timeline;
    const uint32_t *list;
    size_t n, from = 0, until, k;
    int err, keep_part;

    list = s->partial ? s->replay : s->seq;
    n = s->partial ? s->replay_n : s->seq_n;
    /*
     * New obstacles from a time, or a filter, while laid out near the
     * playhead: the part laid out is laid out again, those before keep_until
     * pinned where they are, and the rest still follows the queries (the
     * comments before the part are off screen from valid_from on).
     */
    keep_part = s->partial && (keep_until != INT64_MIN || refilter);
    if (keep_part)
        near = 1;
    else
        near = near && keep_until == INT64_MIN && !refilter && near_possible(s, list, n);
    if (near && !s->partial) {
        if (n > s->replay_cap) {
            uint32_t *v = realloc(s->replay, n * sizeof *v);
            if (!v)
                near = 0;
            else {
                s->replay = v;
                s->replay_cap = n;
            }
        }
        if (near) {
            memcpy(s->replay, s->seq, n * sizeof *s->replay);
            s->replay_n = n;
            list = s->replay;
        }
    }
    if ((err = new_layout(s, &layout, &timeline, diag)) != 0)
        return err;
    dm_layout_free(&s->layout);
    dm_timeline_free(&s->timeline);
    s->layout = layout;
    s->timeline = timeline;
    s->seq_n = 0;
    until = n;
    if (keep_part) {
        from = s->replay_from;
        until = s->replay_next;
    } else if (near) {
        int64_t at = s->playhead - NEAR_BACK_MS;
        while (from < n && latest_end(s, list[from]) < at)
            from++;
        until = from;
        while (until < n && s->track.items[list[until]].t_ms <= s->playhead + NEAR_AHEAD_MS)
            until++;
        s->valid_from = at;
    }
    if (ahead_room(s, until - from)) {
        size_t jobs = 0;
        for (k = from; k < until; k++)
            if (s->track.items[list[k]].t_ms > keep_until)
                ahead_job(s, &jobs, list[k]);
        dm_ahead_start(s->ahead, s->jobs, jobs, s->track.count);
    }
    for (k = from; k < until && !err; k++) {
        size_t i = list[k];
        if (s->track.items[i].t_ms > keep_until) {
            err = place(s, i);
            continue;
        }
        if (refilter && s->placed[i].shown && s->track.items[i].kind == DM_KIND_COMMENT &&
            dm_filter_match(s->o.filter, &s->track.items[i])) {
            s->placed[i].shown = 0;
            s->placed[i].reason = DM_REASON_FILTERED;
        }
        err = dm_layout_pin(s->layout, &s->track.items[i], &s->placed[i]);
        if (!err)
            err = dm_timeline_insert(s->timeline, (uint32_t)i, &s->placed[i], s->track.items[i].pos);
        if (!err)
            s->seq[s->seq_n++] = (uint32_t)i;
    }
    dm_ahead_stop(s->ahead);
    if (err && list == s->replay) {
        /* what is laid out stays, and the whole list for the next try (k - 1 failed) */
        s->partial = 1;
        s->replay_from = from;
        s->replay_next = k - 1;
        if (!near)
            s->valid_from = INT64_MAX;
    } else {
        s->partial = near;
        s->replay_from = from;
        s->replay_next = until;
    }
    if (err)
        dm_diag_error(diag, "out of memory laying out the comments again");
    return err;
}

/* Every comment laid out at the current stage (after a layout near the playhead). */
static int settle(dm_scene *s)
{
    return s->partial ? relayout_keeping(s, INT64_MIN, 0, 0, NULL) : 0;
}

/*
 * Before a query at t of a scene laid out near the playhead: the comments up
 * to a second after t. Back before the part laid out, the whole; far ahead
 * of it (a seek), near t instead.
 */
static int near_query(dm_scene *s, double t)
{
    int64_t now = (int64_t)floor(t);
    int err = 0;

    if (!s->partial)
        return 0;
    if (t < (double)s->valid_from)
        return settle(s);
    if (s->replay_next < s->replay_n && latest_end(s, s->replay[s->replay_next]) < now - NEAR_BACK_MS) {
        s->playhead = now;
        return relayout_keeping(s, INT64_MIN, 0, 1, NULL);
    }
    while (s->replay_next < s->replay_n && !err &&
           s->track.items[s->replay[s->replay_next]].t_ms <= now + NEAR_AHEAD_MS)
        if ((err = place(s, s->replay[s->replay_next])) == 0)
            s->replay_next++;
    return err;
}

static int same_layout_opts(const dm_layout_opts *a, const dm_layout_opts *b)
{
    if (a->stage_w != b->stage_w || a->stage_h != b->stage_h || a->font_px != b->font_px ||
        a->scroll_ms != b->scroll_ms || a->fixed_ms != b->fixed_ms || a->area != b->area ||
        a->line_gap_px != b->line_gap_px || a->min_gap_px != b->min_gap_px || a->overflow != b->overflow ||
        a->max_delay_ms != b->max_delay_ms || a->density_cap != b->density_cap ||
        a->merge_window_ms != b->merge_window_ms || a->strict != b->strict || a->keep_off_count != b->keep_off_count ||
        a->superchats != b->superchats || a->gifts != b->gifts)
        return 0;
    for (int i = 0; i < a->keep_off_count; i++) {
        const dm_keep_off *x = &a->keep_off[i], *y = &b->keep_off[i];
        if (x->x != y->x || x->y != y->y || x->w != y->w || x->h != y->h || x->fractions != y->fractions ||
            x->start_ms != y->start_ms || x->end_ms != y->end_ms)
            return 0;
    }
    return 1;
}

/* Replace the outside obstacles (copied); 0, DM_EINVAL or DM_ENOMEM. */
static int store_obstacles(dm_scene *s, const dm_obstacle *obs, size_t n)
{
    dm_obstacle *v = NULL;

    for (size_t i = 0; i < n; i++)
        if (obs[i].w <= 0 || obs[i].h <= 0 || obs[i].end_ms <= obs[i].start_ms)
            return DM_EINVAL;
    if (n) {
        v = malloc(n * sizeof *v);
        if (!v)
            return DM_ENOMEM;
        memcpy(v, obs, n * sizeof *v);
    }
    if (s->label_n) {
        dm_obstacle *all = realloc(v, (n + s->label_n) * sizeof *all);
        if (!all) {
            free(v);
            return DM_ENOMEM;
        }
        v = all;
        memcpy(v + n, s->labels, s->label_n * sizeof *v);
    }
    free(s->extra);
    s->extra = v;
    s->extra_n = n + s->label_n;
    s->extra_own_n = n;
    return 0;
}

int dm_scene_set_labels(dm_scene *s, const dm_obstacle *obs, size_t n)
{
    dm_obstacle *v = NULL, *own = NULL;
    size_t own_n = s->extra_own_n;
    int err;

    for (size_t i = 0; i < n; i++)
        if (obs[i].w <= 0 || obs[i].h <= 0 || obs[i].end_ms <= obs[i].start_ms)
            return DM_EINVAL;
    if (n && !(v = malloc(n * sizeof *v)))
        return DM_ENOMEM;
    if (n)
        memcpy(v, obs, n * sizeof *v);
    if (own_n && !(own = malloc(own_n * sizeof *own))) {
        free(v);
        return DM_ENOMEM;
    }
    if (own_n)
        memcpy(own, s->extra, own_n * sizeof *own);
    free(s->labels);
    s->labels = v;
    s->label_n = n;
    err = store_obstacles(s, own, own_n);
    free(own);
    if (!err && s->started)
        err = relayout_keeping(s, INT64_MIN, 0, 1, NULL);
    return err;
}

int dm_scene_update(dm_scene *s, const dm_layout_opts *lo, const dm_obstacle *obs, size_t n, int64_t from_ms,
                    dm_diag *diag)
{
    dm_layout_opts old = s->o.layout;
    int err;

    if (dm_layout_opts_check(lo, diag))
        return DM_EINVAL;
    if (lo->merge_window_ms != old.merge_window_ms && s->started) {
        dm_diag_error(diag, "the merge window cannot change once the scene is laid out");
        return DM_EINVAL;
    }
    if ((err = store_obstacles(s, obs, n)) != 0) {
        dm_diag_error(diag, err == DM_ENOMEM ? "out of memory" : "an obstacle box is empty");
        return err;
    }
    s->o.layout = *lo;
    if (!s->started)
        return 0;
    /* a new stage lays everything out again; new obstacles alone keep what came before from_ms */
    err = relayout_keeping(s, same_layout_opts(&old, lo) ? from_ms : INT64_MIN, 0, 1, diag);
    if (err && err != DM_ENOMEM)
        s->o.layout = old;
    return err;
}

int dm_scene_set_layout(dm_scene *s, const dm_layout_opts *lo, dm_diag *diag)
{
    if (same_layout_opts(&s->o.layout, lo))
        return 0;
    return dm_scene_update(s, lo, s->extra, s->extra_own_n, INT64_MIN, diag);
}

int dm_scene_set_obstacles(dm_scene *s, const dm_obstacle *obs, size_t n)
{
    return dm_scene_set_obstacles_from(s, obs, n, INT64_MIN);
}

int dm_scene_set_obstacles_from(dm_scene *s, const dm_obstacle *obs, size_t n, int64_t from_ms)
{
    dm_layout_opts lo = s->o.layout;

    return dm_scene_update(s, &lo, obs, n, from_ms, NULL);
}

int dm_scene_filter_changed(dm_scene *s, int64_t from_ms, dm_diag *diag)
{
    if (!s->started)
        return 0;
    return relayout_keeping(s, from_ms, 1, 0, diag);
}

int dm_scene_advance(dm_scene *s, int pass, int64_t t_ms)
{
    int err = dm_scene_layout(s, NULL);

    if (!err)
        err = settle(s);
    return err ? err : advance(s, pass, t_ms);
}

int dm_scene_append(dm_scene *s, const dm_comment *c, size_t *index)
{
    size_t i = s->track.count;
    int err;

    /* (a scene laid out near the playhead lays out the whole first: the new one joins the list) */
    if ((err = dm_scene_layout(s, NULL)) != 0 || (err = settle(s)) != 0 || (err = reserve(s, i + 1)) != 0 ||
        (err = advance(s, c->pass, c->t_ms)) != 0 || (err = dm_track_push(&s->track, c)) != 0)
        return err;
    if ((err = place(s, i)) != 0)
        return err;
    if (index)
        *index = i;
    return 0;
}

/* Comment i leaves the screen for good (it keeps its lanes, as on replay). */
static void take_off(dm_scene *s, size_t i)
{
    s->track.items[i].deleted = DM_DELETED_ON_SCREEN;
    s->placed[i].shown = 0;
    s->placed[i].reason = DM_REASON_DELETED;
}

long dm_scene_delete(dm_scene *s, const char *id)
{
    for (size_t i = s->track.count; id && i-- > s->base;) {
        const dm_comment *c = &s->track.items[i];
        if (c->id && !strcmp(c->id, id)) {
            take_off(s, i);
            if (s->timeline)
                dm_timeline_remove(s->timeline, (uint32_t)i);
            return (long)i;
        }
    }
    return -1;
}

long dm_scene_clear(dm_scene *s, int64_t t_ms, void (*deleted)(void *ud, const dm_comment *c), void *ud)
{
    size_t n;
    int err;

    /* the whole first: what is cleared must stay cleared when the rest is laid out (nothing on screen moves:
     * whatever is on screen at t_ms leaves it) */
    if ((err = dm_scene_layout(s, NULL)) != 0 || (err = settle(s)) != 0 ||
        dm_timeline_query_all(s->timeline, t_ms, &s->visible, &s->visible_cap, &n))
        return err ? err : DM_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        size_t i = s->visible[k].index;
        dm_timeline_remove(s->timeline, (uint32_t)i);
        /* an appended comment stays off when laid out again, and in the replay */
        if (i >= s->base) {
            take_off(s, i);
            if (deleted)
                deleted(ud, &s->track.items[i]);
        }
    }
    return (long)n;
}

int dm_scene_query(dm_scene *s, int64_t t_ms, const dm_visible **visible, size_t *count, int *changed)
{
    return dm_scene_query_exact(s, (double)t_ms, visible, count, changed);
}

int dm_scene_query_exact(dm_scene *s, double t_ms, const dm_visible **visible, size_t *count, int *changed)
{
    size_t n;
    int err = dm_scene_layout(s, NULL);

    *visible = s->visible;
    *count = 0;
    if (!err)
        err = near_query(s, t_ms);
    if (err)
        return err;
    s->playhead = (int64_t)floor(t_ms);
    n = dm_timeline_query_exact(s->timeline, t_ms, s->visible, s->visible_cap, changed);
    if (n > s->visible_cap) {
        size_t cap = n * 2;
        dm_visible *v = realloc(s->visible, cap * sizeof *v);
        if (!v)
            return DM_ENOMEM;
        s->visible = v;
        s->visible_cap = cap;
        n = dm_timeline_query_exact(s->timeline, t_ms, s->visible, s->visible_cap, NULL);
    }
    *visible = s->visible;
    *count = n;
    return 0;
}

const dm_track *dm_scene_track(const dm_scene *s)
{
    return &s->track;
}

size_t dm_scene_count(const dm_scene *s)
{
    return s->track.count;
}

size_t dm_scene_track_count(const dm_scene *s)
{
    return s->started ? s->base : s->track.count;
}

const dm_comment *dm_scene_comments(const dm_scene *s)
{
    return s->track.items;
}

const dm_placed *dm_scene_placed(const dm_scene *s)
{
    return s->placed;
}

char *const *dm_scene_texts(const dm_scene *s)
{
    return s->texts;
}

void dm_scene_density(const dm_scene *s, int64_t duration_ms, uint32_t *bins, size_t nbins)
{
    memset(bins, 0, nbins * sizeof *bins);
    if (duration_ms <= 0 || !nbins)
        return;
    for (size_t i = 0; i < s->track.count; i++) {
        const dm_comment *c = &s->track.items[i];
        int64_t t = c->t_ms;
        size_t b;
        if (c->rejected || c->deleted || c->kind != DM_KIND_COMMENT || t < 0 || t >= duration_ms)
            continue;
        if (s->placed && i < s->cap &&
            (s->placed[i].reason == DM_REASON_FILTERED || s->placed[i].reason == DM_REASON_DELETED))
            continue;
        b = (size_t)((double)t / (double)duration_ms * (double)nbins);
        bins[b < nbins ? b : nbins - 1]++;
    }
}

const dm_layout_opts *dm_scene_layout_opts(const dm_scene *s)
{
    return &s->o.layout;
}

const dm_obstacle *dm_scene_obstacles(dm_scene *s, size_t *count)
{
    *count = 0;
    if (dm_scene_layout(s, NULL))
        return NULL;
    return dm_layout_obstacles(s->layout, count);
}

int dm_scene_dump(dm_scene *s, FILE *out, const char *font, int outline_px)
{
    size_t nobs = 0;
    const dm_obstacle *obs;
    int err;

    if ((err = dm_scene_advance(s, INT32_MAX, INT64_MAX)) != 0)
        return err;
    obs = dm_layout_obstacles(s->layout, &nobs);
    return dm_layout_dump_write(out, &s->track, s->placed, s->texts, &s->o.layout, font, outline_px, obs, nobs);
}

void dm_scene_tally_get(dm_scene *s, dm_scene_tally *t)
{
    const dm_placed *p;
    char *laid;

    memset(t, 0, sizeof *t);
    t->total = s->track.count;
    if (!s->o.measure) {
        /* no layout: what the readers kept, and why they kept the others only to count them */
        for (size_t i = 0; i < t->total; i++) {
            int r = s->track.items[i].rejected;
            if (r > 0 && r < DM_REASON_COUNT)
                t->reasons[r]++;
            else
                t->shown++;
        }
        return;
    }
    if (dm_scene_layout(s, NULL) || settle(s)) {
        t->total = 0;
        return;
    }
    t->laid_out = 1;
    /* a live scene lays the tracks' comments out as the film reaches them */
    laid = calloc(t->total ? t->total : 1, 1);
    if (!laid)
        return;
    for (size_t k = 0; k < s->seq_n; k++)
        laid[s->seq[k]] = 1;
    for (size_t k = 0; k < s->cursor; k++)
        laid[s->order[k].index] = 1;   /* merged duplicates are never placed, but are counted */
    for (size_t i = s->base; i < t->total; i++)
        laid[i] = 1;
    p = s->placed;
    for (size_t i = 0; i < t->total; i++) {
        if (!laid[i])
            t->pending++;
        else if (p[i].shown)
            t->shown++;
        else if (p[i].reason < DM_REASON_COUNT)
            t->reasons[p[i].reason]++;
    }
    free(laid);
}

const char *dm_scene_summary(dm_scene *s, char *buf, size_t len)
{
    dm_scene_tally t;
    int used[DM_REASON_COUNT] = { 0 };
    size_t o;
    int first = 1;

    if (!buf || !len)
        return buf;
    dm_scene_tally_get(s, &t);
    o = (size_t)snprintf(buf, len, "%s %zu of %zu", t.laid_out ? "shown" : "kept", t.shown, t.total);
    /* reasons by count, most first; equal counts in the order of the enum */
    for (;;) {
        int best = -1;
        for (int r = 0; r < DM_REASON_COUNT; r++)
            if (!used[r] && t.reasons[r] && (best < 0 || t.reasons[r] > t.reasons[best]))
                best = r;
        if (best < 0)
            break;
        used[best] = 1;
        if (o < len)
            o += (size_t)snprintf(buf + o, len - o, "%s%zu %s", !first ? ", " : t.laid_out ? "; not shown: "
                                  : "; not kept: ", t.reasons[best],
                                  dm_reason_name((dm_reason)best));
        first = 0;
    }
    if (t.pending && o < len)
        snprintf(buf + o, len - o, "; %zu not reached yet", t.pending);
    return buf;
}
