/*
 * subs_obstacles.c - the boxes a track's subtitles occupy, for the whole
 * film, computed ahead by walking the track in time order with a renderer of
 * its own.
 *
 * Text: at every moment the set of events on screen changes (each start and
 * end), and every anim_step_ms inside stretches where an event moves or
 * transforms, the whole frame is drawn (so collisions place events as
 * dm_subs_render does), and each event is also drawn alone: libass lists a
 * frame's images event by event, in (Layer, ReadOrder) order, and an event's
 * images do not depend on the others except for the vertical shift that
 * collisions apply, so the lone drawing says how many of the frame's images
 * are the event's (the last event on screen needs no lone drawing: it has
 * the rest). Sampling is dense (every anim_step_ms) only while the tags say
 * something moves (the times of \move and \t). Its box is the tight box of the pixels those images
 * cover (outline and shadow are images too), whatever their colour or
 * opacity: a fading line keeps its box. Between two samples of a moving
 * event the box is the union of both (a linear \move stays inside it);
 * consecutive equal boxes are merged.
 *
 * Pictures: each picture's covered pixels once scaled to the stage.
 */
#include "subs_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many samples of one stretch of motion: a longer stretch is
 * sampled more coarsely (its boxes, unions of neighbouring samples, still
 * cover a linear motion). */
#define SUBS_MAX_SAMPLES 10000
/* At most this many samples of motion in a whole walk; past it a stretch is
 * sampled at its ends only (the union still covers a linear motion), with a
 * warning. Only absurd files get there. */
#define SUBS_MAX_SAMPLES_TOTAL 200000

typedef struct obox {
    int x0, y0, x1, y1;          /* half-open; empty when x1 <= x0 */
} obox;

static int obox_empty(const obox *b)
{
    return b->x1 <= b->x0 || b->y1 <= b->y0;
}

static int obox_eq(const obox *a, const obox *b)
{
    if (obox_empty(a) || obox_empty(b))
        return obox_empty(a) && obox_empty(b);
    return a->x0 == b->x0 && a->y0 == b->y0 && a->x1 == b->x1 && a->y1 == b->y1;
}

static obox obox_union(obox a, const obox *b)
{
    if (obox_empty(b))
        return a;
    if (obox_empty(&a))
        return *b;
    if (b->x0 < a.x0)
        a.x0 = b->x0;
    if (b->y0 < a.y0)
        a.y0 = b->y0;
    if (b->x1 > a.x1)
        a.x1 = b->x1;
    if (b->y1 > a.y1)
        a.y1 = b->y1;
    return a;
}

/* What one obstacle list holds while it is built. */
typedef struct olist {
    dm_obstacle *v;
    size_t *event;               /* per obstacle: its event (for sorting) */
    size_t n, cap;
    int64_t delay;
} olist;

static int olist_push(olist *l, size_t event, int64_t start, int64_t end, const obox *b)
{
    dm_obstacle *o;

    start += l->delay;
    end += l->delay;
    if (end <= 0 || end <= start || obox_empty(b))
        return 0;
    if (start < 0)
        start = 0;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        dm_obstacle *v = realloc(l->v, ncap * sizeof *v);
        size_t *e;
        if (!v)
            return DM_ENOMEM;
        l->v = v;
        e = realloc(l->event, ncap * sizeof *e);
        if (!e)
            return DM_ENOMEM;
        l->event = e;
        l->cap = ncap;
    }
    o = &l->v[l->n];
    memset(o, 0, sizeof *o);
    o->start_ms = start;
    o->end_ms = end;
    o->x = b->x0;
    o->y = b->y0;
    o->w = b->x1 - b->x0;
    o->h = b->y1 - b->y0;
    snprintf(o->kind, sizeof o->kind, "subtitle");
    snprintf(o->id, sizeof o->id, "sub-%zu", event + 1);
    l->event[l->n] = event;
    l->n++;
    return 0;
}

/* Sort obstacles by start, then event, then position (a permutation sort,
 * since qsort has no context pointer). */
typedef struct okey {
    int64_t start;
    size_t event;
    int32_t y, x;
    size_t index;
} okey;

static int cmp_okey(const void *a, const void *b)
{
    const okey *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->event != y->event)
        return x->event < y->event ? -1 : 1;
    if (x->y != y->y)
        return x->y < y->y ? -1 : 1;
    if (x->x != y->x)
        return x->x < y->x ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int olist_finish(olist *l, dm_obstacle **out, size_t *n)
{
    okey *k;
    dm_obstacle *v;

    *out = NULL;
    *n = 0;
    if (!l->n)
        return 0;
    k = malloc(l->n * sizeof *k);
    v = malloc(l->n * sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return DM_ENOMEM;
    }
    for (size_t i = 0; i < l->n; i++)
        k[i] = (okey){l->v[i].start_ms, l->event[i], l->v[i].y, l->v[i].x, i};
    qsort(k, l->n, sizeof *k, cmp_okey);
    for (size_t i = 0; i < l->n; i++)
        v[i] = l->v[k[i].index];
    free(k);
    *out = v;
    *n = l->n;
    return 0;
}

/* ------------------------------------------------------------ text */

/* One event's walk state. */
typedef struct ewalk {
    ASS_Track *solo;             /* the event alone (while on screen) */
    int have_prev;               /* prev_tau / prev_box hold the last sample */
    int64_t prev_tau;
    obox prev_box;
    int pending;                 /* an obstacle being extended */
    int64_t p_start, p_end;
    obox p_box;
} ewalk;

/* One image of the full frame, as needed after libass frees it. */
typedef struct fimg {
    int dst_x, w, stride;
    uint32_t color;
    obox ink;
} fimg;

typedef struct walk {
    dm_subs *s;
    subs_source *src;
    ASS_Renderer *rend;
    ASS_Track *track;
    ewalk *ew;
    size_t *active;              /* events on screen, by (Layer, ReadOrder) */
    size_t n_active;
    fimg *fi;
    size_t n_fi, cap_fi;
    olist out;
    unsigned fallbacks;          /* frames whose images could not be split by event */
    size_t motion_samples;       /* samples taken inside stretches of motion */
} walk;

static int flush_pending(walk *w, size_t e)
{
    ewalk *ew = &w->ew[e];
    int ret = 0;
    if (ew->pending)
        ret = olist_push(&w->out, e, ew->p_start, ew->p_end, &ew->p_box);
    ew->pending = 0;
    return ret;
}

/* The event covers box X during [t0, t1). */
static int emit(walk *w, size_t e, int64_t t0, int64_t t1, const obox *x)
{
    ewalk *ew = &w->ew[e];
    if (t1 <= t0)
        return 0;
    if (ew->pending && ew->p_end == t0 && obox_eq(&ew->p_box, x)) {
        ew->p_end = t1;
        return 0;
    }
    if (flush_pending(w, e) < 0)
        return DM_ENOMEM;
    if (obox_empty(x))
        return 0;
    ew->pending = 1;
    ew->p_start = t0;
    ew->p_end = t1;
    ew->p_box = *x;
    return 0;
}

static int sample_event(walk *w, size_t e, int64_t tau, const obox *b)
{
    ewalk *ew = &w->ew[e];
    int ret = 0;
    if (ew->have_prev) {
        obox x = ew->prev_box;
        if (w->src->ev[e].animated && !obox_eq(&ew->prev_box, b))
            x = obox_union(x, b);
        ret = emit(w, e, ew->prev_tau, tau, &x);
    }
    ew->have_prev = 1;
    ew->prev_tau = tau;
    ew->prev_box = *b;
    return ret;
}

static int end_event(walk *w, size_t e, int64_t end)
{
    ewalk *ew = &w->ew[e];
    int ret = 0;
    if (ew->have_prev)
        ret = emit(w, e, ew->prev_tau, end, &ew->prev_box);
    if (ret == 0)
        ret = flush_pending(w, e);
    if (ew->solo) {
        ass_free_track(ew->solo);
        ew->solo = NULL;
    }
    ew->have_prev = 0;
    return ret;
}

static int cmp_draw_order(const subs_text_event *a, const subs_text_event *b)
{
    if (a->layer != b->layer)
        return a->layer < b->layer ? -1 : 1;
    return a->read_order < b->read_order ? -1 : a->read_order > b->read_order;
}

/* Draw the frame at tau and give every event on screen its box. */
static int sample(walk *w, int64_t tau)
{
    ASS_Image *img;
    int ch;
    size_t pos = 0;
    int split_ok = 1;
    obox *boxes;
    int ret = 0;

    img = ass_render_frame(w->rend, w->track, tau, &ch);
    w->n_fi = 0;
    for (; img; img = img->next) {
        subs_img si;
        fimg *f;
        int x0, y0, x1, y1;
        if (w->n_fi == w->cap_fi) {
            size_t ncap = w->cap_fi ? w->cap_fi * 2 : 64;
            fimg *p = realloc(w->fi, ncap * sizeof *p);
            if (!p)
                return DM_ENOMEM;
            w->fi = p;
            w->cap_fi = ncap;
        }
        f = &w->fi[w->n_fi++];
        f->dst_x = img->dst_x;
        f->w = img->w;
        f->stride = img->stride;
        f->color = img->color;
        f->ink = (obox){0, 0, 0, 0};
        si = (subs_img){img->dst_x, img->dst_y, img->w, img->h, img->stride, img->bitmap, img->color, NULL};
        if (img->w > 0 && img->h > 0 && subs_img_ink(&si, &x0, &y0, &x1, &y1))
            f->ink = (obox){x0, y0, x1, y1};
    }
    boxes = calloc(w->n_active ? w->n_active : 1, sizeof *boxes);
    if (!boxes)
        return DM_ENOMEM;
    /* split the frame's images by event, in libass's order; the last event
     * on screen has what is left (alone, it has them all) */
    for (size_t a = 0; a + 1 < w->n_active && split_ok; a++) {
        size_t e = w->active[a];
        ewalk *ew = &w->ew[e];
        ASS_Image *solo;
        if (!ew->solo) {
            ew->solo = subs_ass_track(w->s, w->src, (ptrdiff_t)e);
            if (!ew->solo) {
                free(boxes);
                return DM_ENOMEM;
            }
        }
        solo = ass_render_frame(w->rend, ew->solo, tau, &ch);
        for (; solo && split_ok; solo = solo->next, pos++) {
            if (pos >= w->n_fi || w->fi[pos].w != solo->w || w->fi[pos].stride != solo->stride ||
                w->fi[pos].color != solo->color || w->fi[pos].dst_x != solo->dst_x)
                split_ok = 0;
            else
                boxes[a] = obox_union(boxes[a], &w->fi[pos].ink);
        }
    }
    if (split_ok && w->n_active) {
        for (; pos < w->n_fi; pos++)
            boxes[w->n_active - 1] = obox_union(boxes[w->n_active - 1], &w->fi[pos].ink);
    }
    if (!split_ok || pos != w->n_fi) {
        /* never seen with libass 0.17; should it happen, every event on
         * screen gets the box of the whole frame: larger, never smaller */
        obox all = {0, 0, 0, 0};
        for (size_t i = 0; i < w->n_fi; i++)
            all = obox_union(all, &w->fi[i].ink);
        for (size_t a = 0; a < w->n_active; a++)
            boxes[a] = all;
        if (!w->fallbacks++)
            subs_log(w->s, DM_SUBS_LOG_WARN,
                     "subtitle boxes at %lld ms: libass's images could not be told apart by event; "
                     "using the frame's box", (long long)tau);
    }
    for (size_t a = 0; a < w->n_active && ret == 0; a++)
        ret = sample_event(w, w->active[a], tau, &boxes[a]);
    free(boxes);
    return ret;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int walk_text(walk *w)
{
    subs_source *src = w->src;
    size_t n = src->n_ev, np = 0, next = 0;
    int64_t *pts;
    int ret = 0;

    if (!n)
        return 0;
    pts = malloc(2 * n * sizeof *pts);
    w->ew = calloc(n, sizeof *w->ew);
    w->active = malloc(n * sizeof *w->active);
    if (!pts || !w->ew || !w->active) {
        free(pts);
        return DM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (src->ev[i].dur <= 0)
            continue;
        pts[np++] = src->ev[i].start;
        pts[np++] = src->ev[i].start + src->ev[i].dur;
    }
    qsort(pts, np, sizeof *pts, cmp_i64);
    for (size_t k = 0; k < np && ret == 0; k++) {
        int64_t a = pts[k], b, lo, hi;
        if (k + 1 < np && pts[k + 1] == a)
            continue;  /* duplicates: act on the last */
        /* events that end here */
        for (size_t i = 0; i < w->n_active;) {
            const subs_text_event *ev = &src->ev[w->active[i]];
            if (ev->start + ev->dur <= a) {
                if ((ret = end_event(w, w->active[i], ev->start + ev->dur)) < 0)
                    break;
                memmove(&w->active[i], &w->active[i + 1], (w->n_active - i - 1) * sizeof *w->active);
                w->n_active--;
            } else {
                i++;
            }
        }
        /* events that start here, kept in libass's draw order */
        while (ret == 0 && next < n && src->ev[next].start <= a) {
            size_t e = next++, i;
            if (src->ev[e].dur <= 0 || src->ev[e].start + src->ev[e].dur <= a)
                continue;
            for (i = w->n_active; i > 0 && cmp_draw_order(&src->ev[w->active[i - 1]], &src->ev[e]) > 0; i--)
                w->active[i] = w->active[i - 1];
            w->active[i] = e;
            w->n_active++;
        }
        if (ret < 0 || !w->n_active)
            continue;
        b = k + 1 < np ? pts[k + 1] : a + 1;
        /* the stretch of [a, b) where something on screen moves */
        lo = INT64_MAX;
        hi = INT64_MIN;
        for (size_t i = 0; i < w->n_active; i++) {
            const subs_text_event *ev = &src->ev[w->active[i]];
            int64_t ra = ev->start + ev->anim_from, rb = ev->start + ev->anim_to;
            if (!ev->animated || rb <= a || ra >= b || rb <= ra)
                continue;
            if (ra < a)
                ra = a;
            if (rb > b)
                rb = b;
            if (ra < lo)
                lo = ra;
            if (rb > hi)
                hi = rb;
        }
        ret = sample(w, a);
        if (ret == 0 && lo < hi) {
            int64_t step = w->s->anim_step_ms, t = a;
            if ((hi - lo) / step > SUBS_MAX_SAMPLES)
                step = (hi - lo) / SUBS_MAX_SAMPLES;  /* coarser, still covering */
            if (w->motion_samples + (size_t)((hi - lo) / step) > SUBS_MAX_SAMPLES_TOTAL) {
                if (w->motion_samples <= SUBS_MAX_SAMPLES_TOTAL)
                    subs_log(w->s, DM_SUBS_LOG_WARN, "subtitle boxes: more than %d samples of motion; "
                             "the rest is sampled at the ends of each move", SUBS_MAX_SAMPLES_TOTAL);
                step = hi - lo;
                w->motion_samples = SUBS_MAX_SAMPLES_TOTAL + 1;
            } else {
                w->motion_samples += (size_t)((hi - lo) / step);
            }
            if (lo > t)
                ret = sample(w, t = lo);
            while (ret == 0 && t + step < hi) {
                t += step;
                ret = sample(w, t);
            }
            /* the first still moment after the motion, or the segment's last */
            if (ret == 0 && (hi < b ? hi : b - 1) > t)
                ret = sample(w, hi < b ? hi : b - 1);
        }
    }
    for (size_t i = 0; ret == 0 && i < w->n_active; i++) {
        const subs_text_event *ev = &src->ev[w->active[i]];
        ret = end_event(w, w->active[i], ev->start + ev->dur);
    }
    for (size_t i = 0; i < n; i++)
        if (w->ew[i].solo)
            ass_free_track(w->ew[i].solo);
    free(pts);
    return ret;
}

/* ------------------------------------------------------------ pictures */

static int walk_pictures(walk *w, int stage_w, int stage_h)
{
    subs_source *src = w->src;

    for (size_t i = 0; i < src->n_pics; i++) {
        const subs_pic_event *ev = &src->pics[i];
        obox b = {0, 0, 0, 0};
        for (int j = 0; j < ev->n; j++) {
            subs_scaled sc;
            subs_img si;
            int x0, y0, x1, y1;
            int ret = subs_pic_scale(&ev->rects[j], src->canvas_w, src->canvas_h, stage_w, stage_h,
                                     w->s->scale, &sc);
            if (ret < 0)
                return ret;
            if (!sc.argb)
                continue;
            si = (subs_img){sc.x, sc.y, sc.w, sc.h, sc.w * 4, NULL, 0, sc.argb};
            if (subs_img_ink(&si, &x0, &y0, &x1, &y1)) {
                /* what lands on the stage */
                obox ink = {x0 < 0 ? 0 : x0, y0 < 0 ? 0 : y0, x1 > stage_w ? stage_w : x1,
                            y1 > stage_h ? stage_h : y1};
                b = obox_union(b, &ink);
            }
            free(sc.argb);
        }
        if (olist_push(&w->out, i, ev->start, ev->end, &b) < 0)
            return DM_ENOMEM;
    }
    return 0;
}

int dm_subs_obstacles(dm_subs *s, int stage_w, int stage_h, dm_obstacle **out, size_t *n,
                      char *err, size_t errlen)
{
    walk w;
    int ret = 0;

    if (!out || !n)
        return DM_EINVAL;
    *out = NULL;
    *n = 0;
    if (!s || stage_w < 1 || stage_h < 1 || stage_w > 16384 || stage_h > 16384) {
        dm_set_err(err, errlen, "stage %dx%d is not a valid size", stage_w, stage_h);
        return DM_EINVAL;
    }
    memset(&w, 0, sizeof w);
    w.s = s;
    w.src = subs_selected(s);
    w.out.delay = s->delay_ms;
    if (!w.src)
        return 0;
    if (w.src->info.kind == DM_SUBS_BITMAP) {
        ret = walk_pictures(&w, stage_w, stage_h);
    } else {
        w.rend = subs_ass_renderer(s, stage_w, stage_h, s->scale);
        w.track = w.rend ? subs_ass_track(s, w.src, -1) : NULL;
        ret = w.track ? walk_text(&w) : DM_ENOMEM;
        if (w.track)
            ass_free_track(w.track);
        if (w.rend)
            ass_renderer_done(w.rend);
    }
    if (ret == 0)
        ret = olist_finish(&w.out, out, n);
    if (ret < 0)
        dm_set_err(err, errlen, "out of memory computing the subtitle boxes");
    free(w.out.v);
    free(w.out.event);
    free(w.ew);
    free(w.active);
    free(w.fi);
    return ret;
}
