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
 *
 * Obstacles (subtitles, labels, keep-off boxes) are boxes with a time span.
 * A comment of box w x h at top y, starting at s, crosses one (ox..ox+ow,
 * oy..oy+oh, on screen os..oe) when the rows meet and, for a scrolling
 * comment, its box covers the columns ox..ox+ow during (s + a, s + b) with
 *     a = D (W - ox - ow) / (W + w),  b = D (W + w - ox) / (W + w)
 * (reverse: a = D ox / (W + w), b = D (ox + ow + w) / (W + w)), clamped to
 * its life [0, D]; a fixed comment covers its columns for (s, s + F) when
 * they meet the box's. It crosses the box exactly when (s + a, s + b) meets
 * (os, oe), so the starts it may not take are the open interval
 * (os - b, oe - a), computed with a pixel and a millisecond to spare. A
 * position is free at s when its lanes are and s is outside every such
 * interval of the obstacles that share its rows; the delay policy takes the
 * earliest such s.
 *
 * Strict layouts (no comment crosses any other, across modes too): every
 * placed comment is also remembered in each unit it covers, and a comment
 * may not take a start at which its box would meet, while both are on
 * screen, the box of a comment of another lane set in the same rows. For two
 * linear motions the starts that do so are again one open interval: the
 * projection on s of the convex polygon of (s, u) (u the time since s) where
 * both are on screen and their boxes overlap, found from its vertices.
 */
#include "danmaku.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEVER INT64_MIN          /* slot never used */
#define MAX_POSITIONED_LIFE_MS (10 * 60 * 1000)
#define MAX_UNITS 65536
#define OBSTACLE_MARGIN_PX 1.0   /* kept between a comment and an obstacle: rounding never touches */
#define OBSTACLE_MARGIN_MS 1.0
#define LONG_OBSTACLE_MS 60000   /* obstacles longer than this are checked for every comment */

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

/* A placed comment, for the strict rule (no crossing across lane sets). */
typedef struct mover {
    int64_t start, end;          /* on screen */
    int32_t x_start, x_end;      /* left edge at start and at end */
    int32_t y, w, h;             /* the box */
    int32_t top;                 /* its top unit: a scan of its units meets it once */
} mover;

/* The comments of one lane set that covered one unit, in start order. */
typedef struct mover_list {
    mover *v;
    uint32_t n, cap;
} mover_list;

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
    int64_t *win_pre, *win_suf;  /* scratch of pick_run: window maxima per block */
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
    dm_obstacle *obs;            /* every obstacle: keep-off boxes, then the others in start order */
    size_t obs_n, obs_cap;
    size_t obs_sorted;           /* obs[obs_sorted..] are the short ones, sorted by start */
    int64_t obs_longest;         /* longest life among the short ones */
    const dm_obstacle **near;    /* scratch: obstacles that may meet the comment being placed */
    size_t near_n, near_cap;
    mover_list *movers[2][SET_COUNT]; /* strict: [layer][set] -> units lists */
    int64_t mover_life;          /* strict: the longest life among them */
    int started;                 /* a comment has been added */
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
    case DM_REASON_MALFORMED: return "malformed";
    case DM_REASON_HIDDEN: return "hidden";
    case DM_REASON_COUNT: break;
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
    if (o->keep_off_count < 0 || o->keep_off_count > DM_LAYOUT_MAX_KEEP_OFF) {
        dm_diag_error(diag, "at most %d keep-off boxes", DM_LAYOUT_MAX_KEEP_OFF);
        return DM_EINVAL;
    }
    for (int i = 0; i < o->keep_off_count; i++) {
        dm_obstacle b = dm_keep_off_box(&o->keep_off[i], o->stage_w, o->stage_h, i + 1);
        if (b.w <= 0 || b.h <= 0 || b.end_ms <= b.start_ms) {
            dm_diag_error(diag, "keep-off box %d is empty on a %dx%d stage", i + 1, o->stage_w, o->stage_h);
            return DM_EINVAL;
        }
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
    L->win_pre = malloc((size_t)L->units * sizeof *L->win_pre);
    L->win_suf = malloc((size_t)L->units * sizeof *L->win_suf);
    if (!L->earliest || !L->win_pre || !L->win_suf)
        goto nomem;
    for (int layer = 0; opts->strict && layer < 2; layer++)
        for (int set = 0; set < SET_COUNT; set++)
            if (!(L->movers[layer][set] = calloc((size_t)L->units, sizeof(mover_list))))
                goto nomem;
    for (int i = 0; i < opts->keep_off_count && i < DM_LAYOUT_MAX_KEEP_OFF; i++) {
        dm_obstacle o = dm_keep_off_box(&opts->keep_off[i], opts->stage_w, opts->stage_h, i + 1);
        int e = o.w > 0 && o.h > 0 && o.end_ms > o.start_ms ? dm_layout_add_obstacles(L, &o, 1) : 0;
        if (e == DM_ENOMEM)
            goto nomem;
    }
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
    free(L->win_pre);
    free(L->win_suf);
    free(L->heap);
    free(L->obs);
    free(L->near);
    for (int layer = 0; layer < 2; layer++)
        for (int set = 0; set < SET_COUNT; set++) {
            for (int u = 0; L->movers[layer][set] && u < L->units; u++)
                free(L->movers[layer][set][u].v);
            free(L->movers[layer][set]);
        }
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

/* ------------------------------------------------------------ obstacles */

static int64_t obstacle_life(const dm_obstacle *o)
{
    return o->end_ms - o->start_ms;
}

int dm_layout_add_obstacles(dm_layout *L, const dm_obstacle *obs, size_t count)
{
    if (L->started)
        return DM_EINVAL;
    for (size_t i = 0; i < count; i++)
        if (obs[i].w <= 0 || obs[i].h <= 0 || obs[i].end_ms <= obs[i].start_ms)
            return DM_EINVAL;
    if (L->obs_n + count > L->obs_cap) {
        size_t cap = L->obs_cap ? L->obs_cap : 16;
        dm_obstacle *v;
        while (cap < L->obs_n + count)
            cap *= 2;
        v = realloc(L->obs, cap * sizeof *v);
        if (!v)
            return DM_ENOMEM;
        L->obs = v;
        L->obs_cap = cap;
    }
    for (size_t i = 0; i < count; i++) {
        const dm_obstacle *o = &obs[i];
        size_t at;
        if (obstacle_life(o) > LONG_OBSTACLE_MS) {
            /* long ones (keep-off boxes, labels) first, checked for every comment */
            at = L->obs_sorted++;
        } else {
            /* short ones in start order (insertion: obstacles come sorted, or nearly) */
            at = L->obs_n;
            while (at > L->obs_sorted && L->obs[at - 1].start_ms > o->start_ms)
                at--;
            if (obstacle_life(o) > L->obs_longest)
                L->obs_longest = obstacle_life(o);
        }
        memmove(&L->obs[at + 1], &L->obs[at], (L->obs_n - at) * sizeof *L->obs);
        L->obs[at] = *o;
        L->obs_n++;
    }
    if (L->obs_n > L->near_cap) {
        const dm_obstacle **nv = realloc(L->near, L->obs_n * sizeof *nv);
        if (!nv)
            return DM_ENOMEM;
        L->near = nv;
        L->near_cap = L->obs_n;
    }
    return 0;
}

const dm_obstacle *dm_layout_obstacles(const dm_layout *L, size_t *count)
{
    *count = L->obs_n;
    return L->obs;
}

/* The obstacles that may meet a comment living `life` ms from a start in [from, to]. */
static void find_near_obstacles(dm_layout *L, int64_t from, int64_t to, int64_t life)
{
    size_t lo = L->obs_sorted, hi = L->obs_n;

    L->near_n = 0;
    for (size_t i = 0; i < L->obs_sorted; i++)
        if (L->obs[i].start_ms < to + life && L->obs[i].end_ms > from)
            L->near[L->near_n++] = &L->obs[i];
    /* short ones: those starting before to + life, and not more than the longest life before from */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (L->obs[mid].start_ms < to + life)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo-- > L->obs_sorted && L->obs[lo].start_ms > from - L->obs_longest)
        if (L->obs[lo].end_ms > from)
            L->near[L->near_n++] = &L->obs[lo];
}

/*
 * The starts (*lo, *hi), open, at which a comment of `mode` and width w
 * would cross obstacle o if their rows meet (see the top of the file).
 * 0 when no start ever does (its path never meets the box's columns).
 */
static int obstacle_window(const dm_layout *L, const dm_obstacle *o, dm_mode mode, int w, double *lo, double *hi)
{
    double W = L->o.stage_w, x1 = o->x - OBSTACLE_MARGIN_PX, x2 = (double)o->x + o->w + OBSTACLE_MARGIN_PX;
    double a, b;

    if (mode == DM_MODE_TOP || mode == DM_MODE_BOTTOM) {
        double x = (L->o.stage_w - w) / 2;   /* where place_in_lanes puts it */
        if (!(x < x2 && x1 < x + w))
            return 0;
        a = 0;
        b = L->o.fixed_ms;
    } else {
        double D = L->o.scroll_ms, span = W + w;
        if (mode == DM_MODE_SCROLL) {
            a = D * (W - x2) / span;
            b = D * (W + w - x1) / span;
        } else {
            a = D * x1 / span;
            b = D * (x2 + w) / span;
        }
        a = a < 0 ? 0 : a;
        b = b > D ? D : b;
        if (a >= b)
            return 0;
    }
    *lo = (double)o->start_ms - b - OBSTACLE_MARGIN_MS;
    *hi = (double)o->end_ms - a + OBSTACLE_MARGIN_MS;
    return 1;
}

/*
 * The earliest start in [s, limit] at which a comment of `mode`, box w x h
 * with its top at y, crosses none of the near obstacles; INT64_MAX when
 * there is none.
 */
static int64_t clear_of_obstacles(const dm_layout *L, dm_mode mode, int y, int w, int h, int64_t s, int64_t limit)
{
    int moved = 1;

    while (moved && s <= limit) {
        moved = 0;
        for (size_t i = 0; i < L->near_n; i++) {
            const dm_obstacle *o = L->near[i];
            double lo, hi;
            if (!(y < o->y + o->h && o->y < y + h) || !obstacle_window(L, o, mode, w, &lo, &hi))
                continue;
            if ((double)s > lo && (double)s < hi) {
                s = (int64_t)ceil(hi);
                moved = 1;
            }
        }
    }
    return s <= limit ? s : INT64_MAX;
}

/* ------------------------------------------------------------ strict: no crossing */

/* Linear kinematics of a box: left edge x0 + v (t - start) during [start, start + life]. */
typedef struct motion {
    double x0, v, life, w;
} motion;

/* How a comment of `mode` and width w moves from its start (as place_in_lanes puts it). */
static motion motion_of(const dm_layout *L, dm_mode mode, int w)
{
    motion m = { 0, 0, L->o.fixed_ms, w };
    double W = L->o.stage_w, speed = (W + w) / L->o.scroll_ms;

    if (mode == DM_MODE_SCROLL)
        m = (motion){ W, -speed, L->o.scroll_ms, w };
    else if (mode == DM_MODE_REVERSE)
        m = (motion){ -w, speed, L->o.scroll_ms, w };
    else
        m.x0 = (L->o.stage_w - w) / 2;
    return m;
}

/*
 * The starts s, open interval (*lo, *hi), at which a box moving as `m` from s
 * would overlap placed comment e while both are on screen (the rows are the
 * caller's). 0 when no start does. With u = t - s, both lives and both
 * horizontal overlaps are half-planes a s + b u + c > 0; their intersection
 * is a bounded convex polygon and the interval is its extent in s.
 */
static int crossing_window(const motion *m, const mover *e, double *lo, double *hi)
{
    double ve = e->end > e->start ? (double)(e->x_end - e->x_start) / (double)(e->end - e->start) : 0;
    double se = (double)e->start, le = (double)(e->end - e->start), px = OBSTACLE_MARGIN_PX;
    double tm = OBSTACLE_MARGIN_MS;
    /* a s + b u + c > 0 */
    const double h[6][3] = {
        { 0, 1, tm },                                   /* u > 0: it has started */
        { 0, -1, m->life + tm },                        /* u < life */
        { 1, 1, -se + tm },                             /* t > e's start */
        { -1, -1, se + le + tm },                       /* t < e's end */
        { ve, ve - m->v, e->x_start - ve * se + e->w + px - m->x0 },   /* its left < e's right */
        { -ve, m->v - ve, m->x0 + m->w + px - e->x_start + ve * se },  /* e's left < its right */
    };
    double smin = INFINITY, smax = -INFINITY;

    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++) {
            double det = h[i][0] * h[j][1] - h[i][1] * h[j][0], sv, uv;
            int inside = 1;
            if (fabs(det) < 1e-12)
                continue;
            sv = (-h[i][2] * h[j][1] + h[i][1] * h[j][2]) / det;
            uv = (-h[i][0] * h[j][2] + h[i][2] * h[j][0]) / det;
            for (int k = 0; k < 6 && inside; k++)
                inside = h[k][0] * sv + h[k][1] * uv + h[k][2] >= -1e-6 * (1 + fabs(sv));
            if (inside) {
                smin = sv < smin ? sv : smin;
                smax = sv > smax ? sv : smax;
            }
        }
    if (!(smax - smin > 1e-6))
        return 0;
    *lo = smin;
    *hi = smax;
    return 1;
}

/* First entry of a mover list that starts after t. */
static uint32_t movers_after(const mover_list *ml, int64_t t)
{
    uint32_t lo = 0, hi = ml->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ml->v[mid].start <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Strict: the earliest start in [s, limit] at which a comment of `mode` in
 * layer `layer`, box w x h at top unit k (n units), meets no comment of the
 * other lane sets; INT64_MAX when there is none.
 */
static int64_t clear_of_crossing(const dm_layout *L, int layer, dm_mode mode, int k, int n, int w, int h,
                                 int64_t s, int64_t limit)
{
    int set = mode == DM_MODE_SCROLL ? SET_SCROLL : mode == DM_MODE_REVERSE ? SET_REVERSE : SET_FIXED;
    motion m = motion_of(L, mode, w);
    int y = k * L->unit, moved = 1;

    while (moved && s <= limit) {
        moved = 0;
        for (int other = 0; other < SET_COUNT; other++) {
            if (other == set)
                continue;
            for (int u = k; u < k + n; u++) {
                const mover_list *ml = &L->movers[layer][other][u];
                /* those on screen at some time of [s, s + life] */
                uint32_t i = movers_after(ml, s - L->mover_life);
                for (; i < ml->n && ml->v[i].start < s + (int64_t)m.life + 1; i++) {
                    const mover *e = &ml->v[i];
                    double lo, hi;
                    if (e->end <= s || (u != k && e->top != u) ||
                        !(e->y < y + h && y < e->y + e->h) || !crossing_window(&m, e, &lo, &hi))
                        continue;
                    if ((double)s > lo && (double)s < hi) {
                        s = (int64_t)ceil(hi);
                        moved = 1;
                    }
                }
            }
        }
    }
    return s <= limit ? s : INT64_MAX;
}

/* Strict: remember a placed comment in the units it covers. */
static int add_mover(dm_layout *L, int layer, int set, int k, int n, const dm_placed *p)
{
    mover e = { p->start_ms, p->end_ms, p->x_start, p->x_end, p->y, p->w, p->h, k };

    if (e.end - e.start > L->mover_life)
        L->mover_life = e.end - e.start;
    for (int u = k; u < k + n; u++) {
        mover_list *ml = &L->movers[layer][set][u];
        uint32_t at;
        /* in time order, the comments that left the screen are never met again */
        if (!L->rewinds && ml->n >= 64 && ml->v[ml->n / 2].end <= L->last_t) {
            uint32_t gone = 0;   /* ends grow with starts in one set's unit */
            while (gone < ml->n && ml->v[gone].end <= L->last_t)
                gone++;
            memmove(ml->v, ml->v + gone, (ml->n - gone) * sizeof *ml->v);
            ml->n -= gone;
        }
        if (ml->n == ml->cap) {
            uint32_t cap = ml->cap ? ml->cap * 2 : 8;
            mover *v = cap > ml->cap ? realloc(ml->v, (size_t)cap * sizeof *v) : NULL;
            if (!v)
                return DM_ENOMEM;
            ml->v = v;
            ml->cap = cap;
        }
        at = movers_after(ml, e.start);
        memmove(&ml->v[at + 1], &ml->v[at], (ml->n - at) * sizeof *ml->v);
        ml->v[at] = e;
        ml->n++;
    }
    return 0;
}

/*
 * With obstacles near: among top units 0..max_k (scanning order), the first
 * run of n units free at t, lanes and obstacles both, else the one that
 * frees earliest by `limit` (ties to the first scanned). Returns its top
 * unit and the start in *start, or -1.
 */
/* The earliest start in [m, limit] clear of the obstacles and, when strict, of the other sets. */
static int64_t clear_start(const dm_layout *L, int layer, dm_mode mode, int k, int n, int w, int h, int64_t m,
                           int64_t limit)
{
    int64_t s = m;

    for (int64_t before = -1; s != before && s <= limit;) {
        before = s;
        s = clear_of_obstacles(L, mode, k * L->unit, w, h, s, limit);
        if (L->o.strict && s <= limit)
            s = clear_of_crossing(L, layer, mode, k, n, w, h, s, limit);
    }
    return s;
}

/*
 * Strict: the rows a top or bottom comment would take next. Moving comments
 * crossing the middle of the stage in the rows of the fixed stacks would
 * leave no room for the next top or bottom comment, so they keep off the
 * stacks on screen and one more line when they can (units [0, *top_end) and
 * [*bottom_start, units)).
 */
static void fixed_bands(const dm_layout *L, int layer, int64_t t, int *top_end, int *bottom_start)
{
    const slot *f = L->slots[layer][SET_FIXED];
    int line = (L->o.font_px + L->o.line_gap_px + L->unit - 1) / L->unit, u = 0;

    while (u < L->units && f[u].start != NEVER && f[u].free_entry > t)
        u++;
    *top_end = u + line;
    u = L->units;
    while (u > 0 && f[u - 1].start != NEVER && f[u - 1].free_entry > t)
        u--;
    *bottom_start = u - line;
}

/*
 * With obstacles near, or strict: among top units 0..max_k (scanning order),
 * the first run of n units free at t, lanes and obstacles both, else the one
 * that frees earliest by `limit` (ties to the first scanned). Returns its
 * top unit and the start in *start, or -1.
 */
static int run_around_obstacles(const dm_layout *L, int layer, dm_mode mode, int n, int max_k, int from_bottom,
                                int64_t t, int64_t limit, int w, int h, int64_t *start)
{
    int best = -1, pass = L->o.strict && (mode == DM_MODE_SCROLL || mode == DM_MODE_REVERSE) ? 0 : 1;
    int top_end = 0, bottom_start = L->units;
    int64_t best_s = INT64_MAX;

    if (pass == 0)
        fixed_bands(L, layer, t, &top_end, &bottom_start);
    for (; pass < 2; pass++) {
        for (int i = 0; i <= max_k; i++) {
            int k = from_bottom ? max_k - i : i;
            int64_t m = t, s;
            if (pass == 0 && (k < top_end || k + n > bottom_start))
                continue;   /* first, off the rows of the fixed stacks */
            for (int u = k; u < k + n; u++)
                if (L->earliest[u] > m)
                    m = L->earliest[u];
            if (m > limit)
                continue;
            s = clear_start(L, layer, mode, k, n, w, h, m, limit);
            if (s == t) {
                *start = t;
                return k;
            }
            if (s < best_s) {
                best_s = s;
                best = k;
            }
        }
        if (best >= 0)
            break;
    }
    *start = best_s;
    return best;
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

/* Earliest start in one unit's slot for a comment of the given set and headway (ms, rounded up). */
static inline int64_t slot_earliest(const slot *s, int set, int64_t own_ms)
{
    int64_t catchup;

    if (s->start == NEVER)
        return INT64_MIN;
    if (set == SET_FIXED)
        return s->free_entry;
    catchup = s->start + own_ms;
    return s->free_entry > catchup ? s->free_entry : catchup;
}

/* Earliest start in each unit for a comment of the given set and headway. */
static void fill_earliest(dm_layout *L, const slot *slots, int set, double own_headway)
{
    int64_t own_ms = (int64_t)ceil(own_headway);

    for (int u = 0; u < L->units; u++)
        L->earliest[u] = slot_earliest(&slots[u], set, own_ms);
}

/*
 * first_free_run straight from the slots, stopping at the first fit: a
 * comment that finds room at once (most of them) looks at the units above
 * it only. When there is none, earliest[] holds units [0, max_k + n) and
 * *soonest the earliest of them.
 */
static int first_free_slots(dm_layout *L, const slot *slots, int set, double own_headway, int n, int max_k,
                            int from_bottom, int64_t t, int64_t *soonest)
{
    int64_t own_ms = set == SET_FIXED ? 0 : (int64_t)ceil(own_headway), low = INT64_MAX;
    int64_t *e = L->earliest;
    int run = 0, end = max_k + n;

    /* slot_earliest inlined: a fixed comment waits for the unit's last one to go; a moving one also
     * keeps the catch-up headway behind its start; a unit never used is free at once */
    if (!from_bottom) {
        for (int u = 0; u < end; u++) {
            const slot *sl = &slots[u];
            int64_t c = sl->start + own_ms, x = sl->start == NEVER ? INT64_MIN : sl->free_entry > c ? sl->free_entry : c;
            e[u] = x;
            low = x < low ? x : low;
            run = x <= t ? run + 1 : 0;
            if (run == n)
                return u - n + 1;
        }
    } else {
        for (int u = end - 1; u >= 0; u--) {
            const slot *sl = &slots[u];
            int64_t c = sl->start + own_ms, x = sl->start == NEVER ? INT64_MIN : sl->free_entry > c ? sl->free_entry : c;
            e[u] = x;
            low = x < low ? x : low;
            run = x <= t ? run + 1 : 0;
            if (run == n)
                return u;
        }
    }
    *soonest = low;
    return -1;
}

/*
 * Pick the run of n units, among top units 0..max_k, that frees earliest.
 * from_bottom scans from the lowest position up (bottom comments); ties go
 * to the first position scanned. Returns the top unit and the time the run
 * frees in *when, or -1 when max_k < 0.
 */
static int pick_run(dm_layout *L, int n, int max_k, int from_bottom, int64_t *when)
{
    const int64_t *e = L->earliest;
    int64_t *pre = L->win_pre, *suf = L->win_suf;
    int best = -1, last = max_k + n - 1;
    int64_t best_t = INT64_MAX;

    /* the maximum of every window of n units in three comparisons each
     * (van Herk / Gil-Werman): maxima from the start of each block of n,
     * and to its end; a window [k, k + n) spans at most two blocks */
    for (int b = 0; b <= last; b += n) {   /* block by block: no division per unit */
        int end = b + n - 1 < last ? b + n - 1 : last;
        int64_t p = e[b], q;
        pre[b] = p;
        for (int u = b + 1; u <= end; u++)
            pre[u] = p = e[u] > p ? e[u] : p;
        suf[end] = q = e[end];
        for (int u = end - 1; u >= b; u--)
            suf[u] = q = e[u] > q ? e[u] : q;
    }
    for (int i = 0; i <= max_k; i++) {
        int k = from_bottom ? max_k - i : i;
        int64_t m = suf[k] > pre[k + n - 1] ? suf[k] : pre[k + n - 1];
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

/* Rewinds: earliest[u] is t where unit u is free at t among its history, else never. */
static void fill_rewound(dm_layout *L, int layer, int set, double own, int units, int64_t t)
{
    const history *h = L->hist[layer][set];

    for (int u = 0; u < units; u++)
        L->earliest[u] = unit_free_at(L, &h[u], set, own, t) ? t : INT64_MAX;
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
    /* the latest start the policy allows (one layer under the delay policy) */
    int64_t start = t, limit = !rewound && L->o.overflow == DM_OVERFLOW_DELAY ? t + L->o.max_delay_ms : t;

    if (n > L->units)
        n = L->units;
    if (max_k > L->units - n)
        max_k = L->units - n;
    if (out->h > L->area_h || max_k < 0)
        return 0;
    if (L->obs_n)
        find_near_obstacles(L, t, limit, set == SET_FIXED ? L->o.fixed_ms : L->o.scroll_ms);
    for (layer = 0; layer < layers && k < 0; layer++) {
        int around = (L->obs_n && L->near_n) || L->o.strict;
        if (!rewound && !around) {
            /* the common case: room at once, from the slots; else earliest[] is filled */
            int64_t soonest = INT64_MAX;
            k = first_free_slots(L, L->slots[layer][set], set, own, n, max_k, from_bottom, t, &soonest);
            if (k >= 0 || limit <= t || soonest > limit)
                continue;   /* placed, no delay allowed, or no unit frees in time */
        } else if (rewound) {
            fill_rewound(L, layer, set, own, max_k + n, t);
        } else {
            fill_earliest(L, L->slots[layer][set], set, own);
        }
        if (around) {
            k = run_around_obstacles(L, layer, mode, n, max_k, from_bottom, t, limit, out->w, out->h, &start);
            continue;
        }
        if (rewound)
            k = first_free_run(L, n, max_k, from_bottom, t);
        if (k < 0 && limit > t) {
            int64_t when;
            k = pick_run(L, n, max_k, from_bottom, &when);
            if (k >= 0 && when <= limit)
                start = when;
            else
                k = -1;
        }
    }
    layer--;
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
    if (L->o.strict && add_mover(L, layer, set, k, n, out))
        return DM_ENOMEM;
    L->stale[layer][set] = 1;
    out->shown = 1;
    return 1;
}

static int add(dm_layout *L, const dm_comment *c, const char *text, dm_placed *out)
{
    int64_t t = c->t_ms, now;
    int w = 0, h = 0, rewound, placed;

    L->started = 1;
    if (c->rejected) {
        out->reason = (uint8_t)c->rejected;
        return 0;
    }
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

int dm_layout_pin(dm_layout *L, const dm_comment *c, const dm_placed *p)
{
    int lanes = p->end_ms > p->start_ms && p->w > 0 && p->h > 0 &&
                (p->shown || (c->deleted == DM_DELETED_ON_SCREEN && p->reason == DM_REASON_DELETED));

    L->started = 1;
    if (c->t_ms > L->last_t)
        L->last_t = c->t_ms;
    if (!lanes)
        return 0;
    if (p->mode != DM_MODE_POSITIONED) {
        int set = set_of((dm_mode)p->mode);
        int n = (p->h + L->o.line_gap_px + L->unit - 1) / L->unit, k = p->y / L->unit, layer = p->layer ? 1 : 0;
        if (k < 0 || k >= L->units)
            return 0;
        if (n > L->units - k)
            n = L->units - k;
        if (occupy(L, layer, set, k, n, p->start_ms, p->w) || (L->o.strict && add_mover(L, layer, set, k, n, p)))
            return DM_ENOMEM;
        L->stale[layer][set] = 1;
    }
    if (p->shown && L->o.density_cap > 0) {
        heap_pop_until(L, L->last_t);
        if (heap_push(L, p->end_ms) || (L->rewinds && shown_insert(L, p->start_ms, p->end_ms)))
            return DM_ENOMEM;
    }
    return 0;
}

double dm_placed_x_at(const dm_placed *p, int64_t t_ms)
{
    double span = (double)(p->end_ms - p->start_ms);

    if (span <= 0)
        return p->x_start;
    return p->x_start + (double)(p->x_end - p->x_start) * (double)(t_ms - p->start_ms) / span;
}
