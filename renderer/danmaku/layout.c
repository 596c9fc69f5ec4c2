/*
 * layout.c - the layout engine: where on the stage, and from when, each
 * comment is drawn so that no two comments of a kind ever overlap.
 *
 * The stage height is cut into units of font_px/4 pixels. A comment of box
 * height h covers ceil((h + line_gap) / unit) consecutive units starting at
 * its top unit; two comments can only touch vertically if they share a unit.
 * Each unit remembers the last comment of each lane set (scroll, reverse,
 * fixed) that covered it, and a new comment may use a run of units only if it
 * can follow every one of those predecessors.
 *
 * The lane rule for moving comments is exact. With constant duration D, a
 * comment of width w starting at t0 has its left edge at
 *     x(t) = W - (W + w) (t - t0) / D.
 * It may follow a predecessor p (width wp, start tp) in a lane when both hold:
 *   entry:    p's tail has entered the stage, with the gap g, when it starts:
 *             t0 >= tp + D (wp + g) / (W + wp)
 *   catch-up: its head cannot reach p's tail before that tail leaves the
 *             stage at tp + D, i.e. its head is still >= g then:
 *             t0 >= tp + D (w + g) / (W + w)
 * so the earliest start behind p is tp + D * max(f(wp), f(w)) with
 * f(x) = (x + g) / (W + x). Both constraints chain along a lane, so checking
 * the last predecessor of each unit is enough.
 *
 * Rewinds (dm_layout_allow_rewind): a live screening seeked backwards sends
 * comments earlier than ones already placed. Each unit then also keeps every
 * comment that covered it, in start order, and such a comment may take a run
 * of units at its own time when it can follow the comment before it and be
 * followed by the one after it in each unit (the chain argument again, both
 * ways). It is never delayed: no lane free at its time means no lane.
 */
#include "danmaku.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEVER INT64_MIN          /* slot never used */
#define MAX_POSITIONED_LIFE_MS (10 * 60 * 1000)
#define MAX_UNITS 65536

/* The last comment that covered one unit, in one lane set. */
typedef struct slot {
    int64_t start;               /* start of the last comment, NEVER if none */
    int64_t free_entry;          /* moving: start + D f(w); fixed: end time */
} slot;

enum { SET_SCROLL, SET_REVERSE, SET_FIXED, SET_COUNT };

/* Every comment that covered one unit, in start order (rewinds only). */
typedef struct history {
    slot *v;
    uint32_t n, cap;
} history;

struct dm_layout {
    dm_layout_opts o;            /* settings, checked */
    dm_measure_fn measure;       /* text measuring callback */
    void *measure_ud;            /* its user data */
    const dm_filter *filter;     /* borrowed, may be NULL */
    int unit;                    /* px per vertical unit */
    int area_h;                  /* usable height in px */
    int units;                   /* units in the usable height */
    slot *slots[2][SET_COUNT];   /* [layer][set] -> units slots */
    int64_t *earliest;           /* scratch: earliest start per unit */
    int64_t min_free[2][SET_COUNT]; /* earliest start in any unit for no width (lane_possible) */
    uint8_t stale[2][SET_COUNT]; /* min_free needs computing again */
    uint8_t saturated[SET_COUNT]; /* the last comment of the set found no lane */
    int64_t last_t;              /* latest comment time seen */
    int rewinds;                 /* dm_layout_allow_rewind was called (and succeeded) */
    history *hist[2][SET_COUNT]; /* [layer][set] -> units histories, NULL unless rewinds are allowed */
    history shown;               /* rewinds and a density cap: every shown comment's (start, end) */
    int64_t longest;             /* the longest life among them */
    int64_t *heap;               /* density cap: min-heap of end times on screen */
    size_t heap_n, heap_cap;
};

static const char *const overflow_names[] = { "delay", "drop", "overlay" };

const char *dm_overflow_name(dm_overflow o)
{
    return (unsigned)o < 3 ? overflow_names[o] : "?";
}

int dm_overflow_from_name(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (!strcmp(name, overflow_names[i]))
            return i;
    return -1;
}

const char *dm_reason_name(dm_reason r)
{
    switch (r) {
    case DM_REASON_NONE: return "none";
    case DM_REASON_NO_LANE: return "no_lane";
    case DM_REASON_FILTERED: return "filtered";
    case DM_REASON_DUPLICATE: return "duplicate";
    case DM_REASON_DENSITY: return "density";
    case DM_REASON_INVALID: return "invalid";
    case DM_REASON_UNSUPPORTED: return "unsupported";
    case DM_REASON_DELETED: return "deleted";
    }
    return "?";
}

int dm_layout_opts_check(const dm_layout_opts *o, dm_diag *diag)
{
    if (o->stage_w < 16 || o->stage_h < 16 || o->stage_w > 16384 || o->stage_h > 16384) {
        dm_diag_error(diag, "stage %dx%d is out of range (16..16384 each way)", o->stage_w, o->stage_h);
        return DM_EINVAL;
    }
    if (o->font_px < 4 || o->font_px > o->stage_h) {
        dm_diag_error(diag, "font size %d px is out of range (4..stage height)", o->font_px);
        return DM_EINVAL;
    }
    if (o->scroll_ms < 100 || o->scroll_ms > 600000 || o->fixed_ms < 100 || o->fixed_ms > 600000) {
        dm_diag_error(diag, "durations must be between 0.1 s and 600 s (scroll %d ms, fixed %d ms)",
                      o->scroll_ms, o->fixed_ms);
        return DM_EINVAL;
    }
    if (!(o->area > 0.0 && o->area <= 1.0)) {
        dm_diag_error(diag, "display area must be a fraction in (0, 1], got %g", o->area);
        return DM_EINVAL;
    }
    if (o->line_gap_px < 0 || o->line_gap_px > o->stage_h || o->min_gap_px < -1 ||
        o->min_gap_px > o->stage_w) {
        dm_diag_error(diag, "gaps must be between 0 and the stage size");
        return DM_EINVAL;
    }
    if ((unsigned)o->overflow > DM_OVERFLOW_OVERLAY || o->max_delay_ms < 0 || o->max_delay_ms > 600000) {
        dm_diag_error(diag, "overflow policy or max delay out of range");
        return DM_EINVAL;
    }
    if (o->density_cap < 0 || o->merge_window_ms < 0) {
        dm_diag_error(diag, "density cap and merge window must not be negative");
        return DM_EINVAL;
    }
    return 0;
}

int dm_layout_height_px(const dm_layout_opts *o, dm_size size)
{
    return (int)lround(o->font_px * dm_size_scale(size));
}

int dm_layout_gap_px(const dm_layout_opts *o)
{
    return o->min_gap_px >= 0 ? o->min_gap_px : o->font_px / 3;
}

dm_layout *dm_layout_new(const dm_layout_opts *opts, dm_measure_fn measure, void *measure_ud,
                         const dm_filter *filter, dm_diag *diag)
{
    dm_layout *L;

    if (!opts || !measure) {
        dm_diag_error(diag, "layout needs settings and a measuring function");
        return NULL;
    }
    if (dm_layout_opts_check(opts, diag))
        return NULL;
    L = calloc(1, sizeof *L);
    if (!L)
        goto nomem;
    L->o = *opts;
    L->measure = measure;
    L->measure_ud = measure_ud;
    L->filter = filter;
    L->unit = opts->font_px / 4 > 0 ? opts->font_px / 4 : 1;
    L->area_h = (int)floor(opts->area * opts->stage_h);
    L->units = L->area_h / L->unit;
    if (L->units > MAX_UNITS)
        L->units = MAX_UNITS;
    if (L->units < 1)
        L->units = 1;
    L->last_t = INT64_MIN;
    memset(L->stale, 1, sizeof L->stale);
    for (int layer = 0; layer < 2; layer++) {
        for (int s = 0; s < SET_COUNT; s++) {
            L->slots[layer][s] = malloc((size_t)L->units * sizeof(slot));
            if (!L->slots[layer][s])
                goto nomem;
            for (int u = 0; u < L->units; u++)
                L->slots[layer][s][u] = (slot){ NEVER, NEVER };
        }
    }
    L->earliest = malloc((size_t)L->units * sizeof *L->earliest);
    if (!L->earliest)
        goto nomem;
    return L;
nomem:
    dm_diag_error(diag, "out of memory creating the layout");
    dm_layout_free(&L);
    return NULL;
}

void dm_layout_free(dm_layout **layout)
{
    dm_layout *L = layout ? *layout : NULL;

    if (!L)
        return;
    for (int layer = 0; layer < 2; layer++)
        for (int s = 0; s < SET_COUNT; s++) {
            free(L->slots[layer][s]);
            for (int u = 0; L->hist[layer][s] && u < L->units; u++)
                free(L->hist[layer][s][u].v);
            free(L->hist[layer][s]);
        }
    free(L->shown.v);
    free(L->earliest);
    free(L->heap);
    free(L);
    *layout = NULL;
}

int dm_layout_allow_rewind(dm_layout *L)
{
    if (L->last_t != INT64_MIN)
        return DM_EINVAL;   /* the histories must hold every comment */
    for (int layer = 0; layer < 2; layer++)
        for (int s = 0; s < SET_COUNT; s++) {
            if (!L->hist[layer][s])
                L->hist[layer][s] = calloc((size_t)L->units, sizeof(history));
            if (!L->hist[layer][s])
                return DM_ENOMEM;
        }
    L->rewinds = 1;
    return 0;
}

/* ------------------------------------------------------------ density heap */

static void heap_pop_until(dm_layout *L, int64_t t)
{
    while (L->heap_n && L->heap[0] <= t) {
        size_t i = 0;
        int64_t last = L->heap[--L->heap_n];
        for (;;) {
            size_t c = 2 * i + 1;
            if (c >= L->heap_n)
                break;
            if (c + 1 < L->heap_n && L->heap[c + 1] < L->heap[c])
                c++;
            if (L->heap[c] >= last)
                break;
            L->heap[i] = L->heap[c];
            i = c;
        }
        L->heap[i] = last;
    }
}

static int heap_push(dm_layout *L, int64_t end)
{
    size_t i;

    if (L->heap_n == L->heap_cap) {
        size_t cap = L->heap_cap ? L->heap_cap * 2 : 256;
        int64_t *h = realloc(L->heap, cap * sizeof *h);
        if (!h)
            return DM_ENOMEM;
        L->heap = h;
        L->heap_cap = cap;
    }
    i = L->heap_n++;
    while (i > 0 && L->heap[(i - 1) / 2] > end) {
        L->heap[i] = L->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    L->heap[i] = end;
    return 0;
}

/* ------------------------------------------------------------ lane search */

/* f(x) = (x + g) / (W + x) scaled by D: the headway a width needs, in ms. */
static double headway_ms(const dm_layout *L, int w)
{
    return (double)L->o.scroll_ms * (w + dm_layout_gap_px(&L->o)) / ((double)L->o.stage_w + w);
}

/* Earliest start in each unit for a comment of the given set and headway. */
static void fill_earliest(dm_layout *L, const slot *slots, int set, double own_headway)
{
    for (int u = 0; u < L->units; u++) {
        const slot *s = &slots[u];
        int64_t e;
        if (s->start == NEVER) {
            e = INT64_MIN;
        } else if (set == SET_FIXED) {
            e = s->free_entry;
        } else {
            int64_t catchup = s->start + (int64_t)ceil(own_headway);
            e = s->free_entry > catchup ? s->free_entry : catchup;
        }
        L->earliest[u] = e;
    }
}

/*
 * Pick the run of n units, among top units 0..max_k, that frees earliest.
 * from_bottom scans from the lowest position up (bottom comments); ties go
 * to the first position scanned. Returns the top unit and the time the run
 * frees in *when, or -1 when max_k < 0.
 */
static int pick_run(const dm_layout *L, int n, int max_k, int from_bottom, int64_t *when)
{
    int best = -1;
    int64_t best_t = INT64_MAX;

    for (int i = 0; i <= max_k; i++) {
        int k = from_bottom ? max_k - i : i;
        int64_t m = INT64_MIN;
        for (int u = k; u < k + n; u++)
            if (L->earliest[u] > m)
                m = L->earliest[u];
        if (m < best_t) {
            best_t = m;
            best = k;
            if (m == INT64_MIN)
                break;    /* a run that was never used cannot be beaten */
        }
    }
    *when = best_t;
    return best;
}

/*
 * First run (scanning order) that is free at time t: one pass over the
 * units, stopping at the first fit. Returns the top unit or -1.
 */
static int first_free_run(const dm_layout *L, int n, int max_k, int from_bottom, int64_t t)
{
    int run = 0;

    if (!from_bottom) {
        for (int u = 0; u < max_k + n; u++) {
            run = L->earliest[u] <= t ? run + 1 : 0;
            if (run == n)
                return u - n + 1;
        }
    } else {
        for (int u = max_k + n - 1; u >= 0; u--) {
            run = L->earliest[u] <= t ? run + 1 : 0;
            if (run == n)
                return u;
        }
    }
    return -1;
}

/* First entry of a history that starts after t. */
static uint32_t history_after(const history *h, int64_t t)
{
    uint32_t lo = 0, hi = h->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (h->v[mid].start <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int history_insert(history *h, slot s)
{
    uint32_t at = history_after(h, s.start);

    if (h->n == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 8;
        slot *v = cap > h->cap ? realloc(h->v, (size_t)cap * sizeof *v) : NULL;   /* no wrap past 2^32 */
        if (!v)
            return DM_ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    memmove(&h->v[at + 1], &h->v[at], (size_t)(h->n - at) * sizeof *h->v);
    h->v[at] = s;
    h->n++;
    return 0;
}

/*
 * Rewinds and a density cap: the heap only knows what is on screen at the
 * latest time, so a rewound comment is counted against every shown comment
 * whose life holds its own time.
 */
static size_t shown_at(const dm_layout *L, int64_t t)
{
    uint32_t i = history_after(&L->shown, t);
    size_t n = 0;

    while (i-- > 0 && L->shown.v[i].start > t - L->longest)
        n += L->shown.v[i].free_entry > t;
    return n;
}

static int shown_insert(dm_layout *L, int64_t start, int64_t end)
{
    if (end - start > L->longest)
        L->longest = end - start;
    return history_insert(&L->shown, (slot){ start, end });
}

static int occupy(dm_layout *L, int layer, int set, int k, int n, int64_t start, int w)
{
    slot s, *slots = L->slots[layer][set];

    s.start = start;
    if (set == SET_FIXED)
        s.free_entry = start + L->o.fixed_ms;
    else
        s.free_entry = start + (int64_t)ceil(headway_ms(L, w));
    for (int u = k; u < k + n; u++) {
        /* the slot keeps the latest start: what a comment in time order must follow */
        if (slots[u].start == NEVER || start >= slots[u].start)
            slots[u] = s;
        if (L->hist[layer][set] && history_insert(&L->hist[layer][set][u], s))
            return DM_ENOMEM;
    }
    return 0;
}

/*
 * Rewinds: may a comment of this set with headway `own` start at t in unit u,
 * between the comments that covered it before and after t?
 */
static int unit_free_at(const dm_layout *L, const history *h, int set, double own, int64_t t)
{
    uint32_t i = history_after(h, t);
    int64_t own_ms = set == SET_FIXED ? L->o.fixed_ms : (int64_t)ceil(own);

    if (i > 0) {
        const slot *p = &h->v[i - 1];
        int64_t after = set == SET_FIXED ? p->free_entry : p->start + own_ms;
        if (p->free_entry > after)
            after = p->free_entry;
        if (t < after)
            return 0;
    }
    if (i < h->n) {
        const slot *q = &h->v[i];
        int64_t need = own_ms;
        if (set != SET_FIXED && q->free_entry - q->start > need)
            need = q->free_entry - q->start;
        if (q->start < t + need)
            return 0;
    }
    return 1;
}

static int set_of(dm_mode mode)
{
    return mode == DM_MODE_SCROLL ? SET_SCROLL : mode == DM_MODE_REVERSE ? SET_REVERSE : SET_FIXED;
}

/*
 * Rewinds: could a comment of this mode start at t in some unit, whatever
 * its text? The bound of lane_possible for rewound comments (no width: the
 * least headway), so that a flood after a rewind is not measured in vain.
 */
static int rewound_possible(const dm_layout *L, dm_mode mode, int64_t t)
{
    int set = set_of(mode);
    int layers = L->o.overflow == DM_OVERFLOW_OVERLAY ? 2 : 1;
    double own = set == SET_FIXED ? 0 : headway_ms(L, 0);

    for (int layer = 0; layer < layers; layer++)
        for (int u = 0; u < L->units; u++)
            if (unit_free_at(L, &L->hist[layer][set][u], set, own, t))
                return 1;
    return 0;
}

/* Rewinds: the first run of n units (scanning order) free at t, or -1. */
static int rewound_run(dm_layout *L, int layer, int set, double own, int n, int max_k, int from_bottom, int64_t t)
{
    const history *h = L->hist[layer][set];

    for (int u = 0; u < max_k + n; u++)
        L->earliest[u] = unit_free_at(L, &h[u], set, own, t) ? t : INT64_MAX;
    return first_free_run(L, n, max_k, from_bottom, t);
}

/* Place a positioned comment from its own coordinates; no lanes. */
static void place_positioned(const dm_layout *L, const dm_comment *c, int64_t t, dm_placed *out)
{
    const dm_positioned *p = c->pos;
    int64_t life = p ? p->life_ms : L->o.fixed_ms;
    double x0 = p ? p->x0 : 0, y0 = p ? p->y0 : 0, x_end = x0;

    if (life <= 0)
        life = 1;
    if (life > MAX_POSITIONED_LIFE_MS)
        life = MAX_POSITIONED_LIFE_MS;
    if (p && p->move_delay_ms < life)
        x_end = p->move_ms <= 0 || p->move_delay_ms + p->move_ms <= life
                    ? p->x1
                    : x0 + (p->x1 - x0) * (double)(life - p->move_delay_ms) / p->move_ms;
    out->shown = 1;
    out->start_ms = t;
    out->end_ms = t + life;
    out->y = (int32_t)lround(y0 * L->o.stage_h);
    out->x_start = (int32_t)lround(x0 * L->o.stage_w);
    out->x_end = (int32_t)lround(x_end * L->o.stage_w);
}

/*
 * Could a comment of this mode be placed by film time `limit`, whatever its
 * text? A lower bound: no width (the least headway) and a single unit. When
 * even that fails, the comment cannot be placed and its text need not be
 * measured at all, which is most comments in a flood of live ones.
 */
static int lane_possible(dm_layout *L, dm_mode mode, int64_t limit)
{
    int set = set_of(mode);
    int layers = L->o.overflow == DM_OVERFLOW_OVERLAY ? 2 : 1;

    for (int layer = 0; layer < layers; layer++) {
        /* the bound only changes when a comment is placed: cache it */
        if (L->stale[layer][set]) {
            int64_t m = INT64_MAX;
            fill_earliest(L, L->slots[layer][set], set, set == SET_FIXED ? 0 : headway_ms(L, 0));
            for (int u = 0; u < L->units; u++)
                m = L->earliest[u] < m ? L->earliest[u] : m;
            L->min_free[layer][set] = m;
            L->stale[layer][set] = 0;
        }
        if (L->min_free[layer][set] <= limit)
            return 1;
    }
    return 0;
}

static int place_in_lanes(dm_layout *L, dm_mode mode, int64_t t, int rewound, dm_placed *out)
{
    int set = set_of(mode);
    int from_bottom = mode == DM_MODE_BOTTOM;
    int n = (out->h + L->o.line_gap_px + L->unit - 1) / L->unit;
    int max_k = (L->area_h - out->h) / L->unit;   /* last top unit whose box fits */
    double own = set == SET_FIXED ? 0 : headway_ms(L, out->w);
    int layers = L->o.overflow == DM_OVERFLOW_OVERLAY ? 2 : 1;
    int k = -1, layer = 0;
    int64_t start = t;

    if (n > L->units)
        n = L->units;
    if (max_k > L->units - n)
        max_k = L->units - n;
    if (out->h > L->area_h || max_k < 0)
        return 0;
    for (layer = 0; layer < layers && k < 0; layer++) {
        if (rewound) {
            k = rewound_run(L, layer, set, own, n, max_k, from_bottom, t);
            continue;
        }
        fill_earliest(L, L->slots[layer][set], set, own);
        k = first_free_run(L, n, max_k, from_bottom, t);
    }
    layer--;
    if (k < 0 && !rewound && L->o.overflow == DM_OVERFLOW_DELAY) {
        int64_t when;
        /* earliest[] still holds layer 0 (only one layer under this policy) */
        k = pick_run(L, n, max_k, from_bottom, &when);
        if (k >= 0 && when - t <= L->o.max_delay_ms)
            start = when;
        else
            k = -1;
    }
    if (k < 0)
        return 0;
    out->layer = (uint8_t)layer;
    out->y = k * L->unit;
    out->start_ms = start;
    if (set == SET_FIXED) {
        out->end_ms = start + L->o.fixed_ms;
        out->x_start = out->x_end = (L->o.stage_w - out->w) / 2;
    } else {
        out->end_ms = start + L->o.scroll_ms;
        out->x_start = mode == DM_MODE_SCROLL ? L->o.stage_w : -out->w;
        out->x_end = mode == DM_MODE_SCROLL ? -out->w : L->o.stage_w;
    }
    if (occupy(L, layer, set, k, n, start, out->w))
        return DM_ENOMEM;
    L->stale[layer][set] = 1;
    out->shown = 1;
    return 1;
}

static int add(dm_layout *L, const dm_comment *c, const char *text, dm_placed *out)
{
    int64_t t = c->t_ms, now;
    int w = 0, h = 0, rewound, placed;

    if (c->deleted == DM_DELETED_BEFORE) {
        out->reason = DM_REASON_DELETED;
        return 0;
    }
    if (c->bili_mode == 8 || c->bili_mode == 9) {
        out->reason = DM_REASON_UNSUPPORTED;
        return 0;
    }
    if ((unsigned)c->mode >= DM_MODE_COUNT || (unsigned)c->size >= DM_SIZE_COUNT || !text ||
        !text[0] || t < 0) {
        out->reason = DM_REASON_INVALID;
        return 0;
    }
    if (L->filter && dm_filter_match(L->filter, c)) {
        out->reason = DM_REASON_FILTERED;
        return 0;
    }
    /* lanes only move forward in time, unless rewinds are allowed */
    rewound = t < L->last_t && L->rewinds;
    if (t < L->last_t && !rewound)
        t = L->last_t;
    now = t > L->last_t ? t : L->last_t;
    L->last_t = now;
    if (L->o.density_cap > 0) {
        heap_pop_until(L, now);
        if ((rewound ? shown_at(L, t) : L->heap_n) >= (size_t)L->o.density_cap) {
            out->reason = DM_REASON_DENSITY;
            return 0;
        }
    }
    /* while lanes are full, skip measuring comments that cannot fit anyway
     * (the result is the same either way; only the work differs) */
    if (c->mode != DM_MODE_POSITIONED &&
        (rewound ? !rewound_possible(L, c->mode, t)
                 : L->saturated[set_of(c->mode)] &&
                       !lane_possible(L, c->mode, L->o.overflow == DM_OVERFLOW_DELAY ? t + L->o.max_delay_ms : t))) {
        out->reason = DM_REASON_NO_LANE;
        return 0;
    }
    if (L->measure(L->measure_ud, text, dm_layout_height_px(&L->o, c->size), &w, &h) < 0 || w <= 0 ||
        h <= 0) {
        out->reason = DM_REASON_INVALID;
        return 0;
    }
    out->w = w;
    out->h = h;
    if (c->mode == DM_MODE_POSITIONED) {
        place_positioned(L, c, t, out);
    } else {
        placed = place_in_lanes(L, c->mode, t, rewound, out);
        if (placed < 0)
            return placed;
        if (!rewound)
            L->saturated[set_of(c->mode)] = !placed;
        if (!out->shown)
            out->reason = DM_REASON_NO_LANE;
    }
    if (out->shown && L->o.density_cap > 0 && heap_push(L, out->end_ms))
        return DM_ENOMEM;
    if (out->shown && L->o.density_cap > 0 && L->rewinds)
        return shown_insert(L, out->start_ms, out->end_ms);
    return 0;
}

int dm_layout_add(dm_layout *L, const dm_comment *c, const char *text_override, dm_placed *out)
{
    int err;

    memset(out, 0, sizeof *out);
    out->mode = (uint8_t)c->mode;
    err = add(L, c, text_override ? text_override : c->text, out);
    /* a moderator's delete came after the comment was on screen: it keeps
     * whatever it had (lanes included), so the comments after it keep theirs */
    if (c->deleted == DM_DELETED_ON_SCREEN) {
        out->shown = 0;
        out->reason = DM_REASON_DELETED;
    }
    return err;
}

double dm_placed_x_at(const dm_placed *p, int64_t t_ms)
{
    double span = (double)(p->end_ms - p->start_ms);

    if (span <= 0)
        return p->x_start;
    return p->x_start + (double)(p->x_end - p->x_start) * (double)(t_ms - p->start_ms) / span;
}
