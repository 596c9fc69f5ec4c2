/*
 * subs_render.c - drawing the selected track at a film time: libass for text
 * (with the placement replay that makes the result independent of what was
 * drawn before), scaled pictures for bitmap tracks; the frame's change
 * report.
 *
 * Why a replay: when events collide libass keeps the one already on screen
 * where it is and moves the newcomer (ASS_Event.render_priv). So what is
 * drawn at t depends on which frames were drawn before: after a seek two
 * overlapping lines could swap places. dm_subs defines the placement at t as
 * the one reached by drawing, in order, the start of every colliding event
 * of the run of overlapping events that contains t; it draws those starts
 * it skipped (after a jump) or, going back, rebuilds the track and replays
 * the run from its beginning.
 */
#include "subs_internal.h"

#include <stdlib.h>
#include <string.h>

/* A run longer than this is replayed from its last SUBS_MAX_REPLAY starts
 * only (a sign on screen for the whole film would otherwise make every seek
 * replay the film). */
#define SUBS_MAX_REPLAY 2000

typedef struct span {
    int64_t start, end;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

int subs_collider_index(const subs_source *src, int64_t **start, int64_t **run, int64_t **maxend,
                        size_t *n)
{
    span *sp;
    size_t k = 0;
    int64_t me = INT64_MIN, rs = 0;

    *start = *run = *maxend = NULL;
    *n = 0;
    if (!src || src->info.kind != DM_SUBS_TEXT || !src->n_ev)
        return 0;
    sp = malloc(src->n_ev * sizeof *sp);
    *start = malloc(src->n_ev * sizeof **start);
    *run = malloc(src->n_ev * sizeof **run);
    *maxend = malloc(src->n_ev * sizeof **maxend);
    if (!sp || !*start || !*run || !*maxend) {
        free(sp);
        free(*start);
        free(*run);
        free(*maxend);
        *start = *run = *maxend = NULL;
        return DM_ENOMEM;
    }
    for (size_t i = 0; i < src->n_ev; i++)
        if (src->ev[i].collides) {
            sp[k].start = src->ev[i].start;
            sp[k].end = src->ev[i].start + src->ev[i].dur;
            k++;
        }
    qsort(sp, k, sizeof *sp, cmp_span);
    for (size_t i = 0; i < k; i++) {
        if (sp[i].start >= me)
            rs = sp[i].start;  /* nothing colliding on screen just before: a new run */
        if (sp[i].end > me)
            me = sp[i].end;
        (*start)[i] = sp[i].start;
        (*run)[i] = rs;
        (*maxend)[i] = me;
    }
    free(sp);
    *n = k;
    return 0;
}

/* Index of the last entry with start < tau, or -1. */
static ptrdiff_t last_before(const int64_t *start, size_t n, int64_t tau)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (start[mid] < tau)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

void subs_replay(ASS_Renderer *rend, ASS_Track *track, const int64_t *coll_start, size_t n_coll,
                 int64_t from, int64_t tau)
{
    ptrdiff_t k = last_before(coll_start, n_coll, tau);
    ptrdiff_t first;
    int64_t prev = INT64_MIN;

    if (k < 0)
        return;
    first = last_before(coll_start, n_coll, from) + 1;  /* first entry with start >= from */
    if (k - first + 1 > SUBS_MAX_REPLAY)
        first = k - SUBS_MAX_REPLAY + 1;
    for (ptrdiff_t i = first; i <= k; i++) {
        int ch;
        if (coll_start[i] == prev)
            continue;
        prev = coll_start[i];
        ass_render_frame(rend, track, coll_start[i], &ch);
    }
}

/* Where the replay for tau must start after a reset: the start of the run of
 * colliding events on screen at tau (tau itself when none is). */
static int64_t run_start(const dm_subs *s, int64_t tau)
{
    ptrdiff_t k = last_before(s->coll_start, s->n_coll, tau);
    if (k < 0 || s->coll_maxend[k] <= tau)
        return tau;
    return s->coll_run[k];
}

void subs_render_reset(dm_subs *s)
{
    if (s->track) {
        ass_free_track(s->track);
        s->track = NULL;
    }
    free(s->coll_start);
    free(s->coll_run);
    free(s->coll_maxend);
    s->coll_start = s->coll_run = s->coll_maxend = NULL;
    s->n_coll = 0;
    s->have_last = 0;
    for (size_t i = 0; i < s->n_scaled; i++)
        free(s->scaled[i].argb);
    s->n_scaled = 0;
    s->n_pic_active = 0;
    s->canvas_current = 0;
    s->dirty = 1;
}

/* The frame as *out. */
static void describe(const dm_subs *s, dm_subs_frame *out)
{
    const subs_canvas *c = &s->canvas[s->cur];
    out->t_ms = s->out_t;
    out->stage_w = s->out_w;
    out->stage_h = s->out_h;
    out->count = s->have_frame ? c->n : 0;
    out->rects = out->count ? c->rects : NULL;
    out->serial = s->serial;
}

/* Compare the new canvas with the previous frame's. */
static int compare_canvas(const subs_canvas *a, const subs_canvas *b)
{
    int moved = 0;
    if (a->n != b->n)
        return DM_SUBS_NEW;
    for (size_t i = 0; i < a->n; i++) {
        const dm_subs_rect *x = &a->rects[i], *y = &b->rects[i];
        if (x->w != y->w || x->h != y->h ||
            memcmp(x->argb, y->argb, (size_t)x->w * (size_t)x->h * 4) != 0)
            return DM_SUBS_NEW;
        if (x->x != y->x || x->y != y->y)
            moved = 1;
    }
    return moved ? DM_SUBS_MOVED : DM_SUBS_SAME;
}

/* Composite imgs into the spare canvas and make it current if it differs.
 * `reuse`: the current canvas was made from images that are still alive. */
static int publish(dm_subs *s, const subs_img *imgs, size_t n, int reuse, int *changed)
{
    int spare = !s->cur, ret, diff;

    ret = subs_composite(&s->canvas[spare], reuse && s->have_frame && !s->dirty ? &s->canvas[s->cur] : NULL,
                         imgs, n);
    if (ret < 0)
        return ret;
    diff = s->have_frame && !s->dirty ? compare_canvas(&s->canvas[spare], &s->canvas[s->cur])
                                      : DM_SUBS_NEW;
    if (diff != DM_SUBS_SAME) {
        s->cur = spare;
        if (diff == DM_SUBS_NEW)
            s->serial++;
    }
    s->have_frame = 1;
    *changed = diff;
    return 0;
}

/* ASS_Image list -> images clipped to the stage (libass clips already). */
static int collect_ass(const ASS_Image *img, subs_img **out, size_t *n, size_t *cap)
{
    *n = 0;
    for (; img; img = img->next) {
        subs_img *im;
        if (img->w <= 0 || img->h <= 0)
            continue;
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 64;
            subs_img *p = realloc(*out, ncap * sizeof *p);
            if (!p)
                return DM_ENOMEM;
            *out = p;
            *cap = ncap;
        }
        im = &(*out)[(*n)++];
        im->x = img->dst_x;
        im->y = img->dst_y;
        im->w = img->w;
        im->h = img->h;
        im->stride = img->stride;
        im->alpha = img->bitmap;
        im->color = img->color;
        im->argb = NULL;
    }
    return 0;
}

/* The stretch around tau with no event starting or ending, and whether
 * everything on screen in it is timeless (then libass draws it the same at
 * every moment of it). */
static void still_stretch(const subs_source *src, int64_t tau, int64_t *from, int64_t *to, int *still)
{
    *from = INT64_MIN;
    *to = INT64_MAX;
    *still = 1;
    for (size_t i = 0; i < src->n_ev; i++) {
        const subs_text_event *ev = &src->ev[i];
        int64_t end = ev->start + ev->dur;
        if (ev->start <= tau && ev->start > *from)
            *from = ev->start;
        if (ev->start > tau && ev->start < *to)
            *to = ev->start;
        if (end <= tau && end > *from)
            *from = end;
        if (end > tau && end < *to)
            *to = end;
        if (ev->start <= tau && tau < end && !ev->timeless)
            *still = 0;
    }
}

static int render_text(dm_subs *s, subs_source *src, int64_t tau, int stage_w, int stage_h,
                       int *changed)
{
    ASS_Image *img;
    int ch = 0, ret, replayed = 0;
    subs_img *imgs = NULL;
    size_t n = 0, cap = 0;

    if (!s->rend) {
        s->rend = subs_ass_renderer(s, stage_w, stage_h, s->scale);
        if (!s->rend)
            return DM_ENOMEM;
        s->rend_w = stage_w;
        s->rend_h = stage_h;
        s->rend_scale = s->scale;
    }
    if (s->rend_w != stage_w || s->rend_h != stage_h || s->rend_scale != s->scale) {
        ass_set_frame_size(s->rend, stage_w, stage_h);
        ass_set_font_scale(s->rend, s->scale);
        s->rend_w = stage_w;
        s->rend_h = stage_h;
        s->rend_scale = s->scale;
        if (s->track) {
            ass_free_track(s->track);
            s->track = NULL;
        }
        s->have_last = 0;
    }
    if (!s->coll_start && (ret = subs_collider_index(src, &s->coll_start, &s->coll_run,
                                                     &s->coll_maxend, &s->n_coll)) < 0)
        return ret;
    /* nothing starts, ends or changes since the last call: no need to ask libass */
    if (s->have_last && s->still && s->have_frame && s->canvas_current && !s->dirty && s->track &&
        tau >= s->still_from && tau < s->still_to && s->last_tau >= s->still_from &&
        s->last_tau < s->still_to) {
        s->last_tau = tau;
        *changed = DM_SUBS_SAME;
        return 0;
    }
    if (s->have_last && tau >= s->last_tau) {
        /* going on: draw the colliding starts skipped since the last call,
         * unless replaying the run from its start is shorter */
        ptrdiff_t a = last_before(s->coll_start, s->n_coll, s->last_tau + 1);
        ptrdiff_t b = last_before(s->coll_start, s->n_coll, tau);
        int64_t rs = run_start(s, tau);
        ptrdiff_t r = last_before(s->coll_start, s->n_coll, rs);
        if (b > a) {
            replayed = 1;
            if (b - a > b - r) {
                ass_free_track(s->track);
                s->track = NULL;
            } else {
                subs_replay(s->rend, s->track, s->coll_start, s->n_coll, s->last_tau + 1, tau);
            }
        }
    } else if (s->track) {
        ass_free_track(s->track);  /* back in time: placements start again */
        s->track = NULL;
    }
    if (!s->track) {
        s->track = subs_ass_track(s, src, -1);
        if (!s->track)
            return DM_ENOMEM;
        subs_replay(s->rend, s->track, s->coll_start, s->n_coll, run_start(s, tau), tau);
        replayed = 1;
    }
    img = ass_render_frame(s->rend, s->track, tau, &ch);
    s->have_last = 1;
    s->last_tau = tau;
    still_stretch(src, tau, &s->still_from, &s->still_to, &s->still);
    if (ch == 0 && !replayed && !s->dirty && s->have_frame && s->canvas_current) {
        *changed = DM_SUBS_SAME;  /* the same images: the canvas stays made of live ones */
        return 0;
    }
    ret = collect_ass(img, &imgs, &n, &cap);
    /* libass keeps the previous call's images alive until this one returned:
     * the current canvas's images are alive if it came from that call */
    if (ret == 0)
        ret = publish(s, imgs, n, !replayed && s->canvas_current, changed);
    s->canvas_current = ret == 0;
    free(imgs);
    return ret;
}

/* Active picture events at tau, as indices; 0 or DM_ENOMEM. */
static int active_pictures(const subs_source *src, int64_t tau, size_t **idx, size_t *n)
{
    size_t count = 0, cap = 0;
    size_t *list = NULL;

    *idx = NULL;
    *n = 0;
    for (size_t i = 0; i < src->n_pics && src->pics[i].start <= tau; i++) {
        if (tau >= src->pics[i].end)
            continue;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            size_t *p = realloc(list, ncap * sizeof *p);
            if (!p) {
                free(list);
                return DM_ENOMEM;
            }
            list = p;
            cap = ncap;
        }
        list[count++] = i;
    }
    *idx = list;
    *n = count;
    return 0;
}

static int render_pictures(dm_subs *s, subs_source *src, int64_t tau, int stage_w, int stage_h,
                           int *changed)
{
    size_t *idx, n, nimg = 0, nrects = 0;
    subs_img *imgs;
    int ret;

    if ((ret = active_pictures(src, tau, &idx, &n)) < 0)
        return ret;
    if (!s->dirty && s->have_frame && stage_w == s->out_w && stage_h == s->out_h &&
        n == s->n_pic_active && (n == 0 || memcmp(idx, s->pic_active, n * sizeof *idx) == 0)) {
        free(idx);
        *changed = DM_SUBS_SAME;
        return 0;
    }
    for (size_t i = 0; i < s->n_scaled; i++)
        free(s->scaled[i].argb);
    s->n_scaled = 0;
    for (size_t i = 0; i < n; i++)
        nrects += (size_t)src->pics[idx[i]].n;
    if (nrects > s->cap_scaled) {
        subs_scaled *p = realloc(s->scaled, nrects * sizeof *p);
        if (!p) {
            free(idx);
            return DM_ENOMEM;
        }
        s->scaled = p;
        s->cap_scaled = nrects;
    }
    imgs = calloc(nrects ? nrects : 1, sizeof *imgs);
    if (!imgs) {
        free(idx);
        return DM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const subs_pic_event *ev = &src->pics[idx[i]];
        for (int j = 0; j < ev->n; j++) {
            subs_scaled *sc = &s->scaled[s->n_scaled];
            int x0, y0, x1, y1;
            ret = subs_pic_scale(&ev->rects[j], src->canvas_w, src->canvas_h, stage_w, stage_h, s->scale,
                                 sc);
            if (ret < 0) {
                free(idx);
                free(imgs);
                return ret;
            }
            if (!sc->argb)
                continue;
            s->n_scaled++;
            /* clip to the stage */
            x0 = sc->x < 0 ? 0 : sc->x;
            y0 = sc->y < 0 ? 0 : sc->y;
            x1 = sc->x + sc->w > stage_w ? stage_w : sc->x + sc->w;
            y1 = sc->y + sc->h > stage_h ? stage_h : sc->y + sc->h;
            if (x1 <= x0 || y1 <= y0)
                continue;
            imgs[nimg].x = x0;
            imgs[nimg].y = y0;
            imgs[nimg].w = x1 - x0;
            imgs[nimg].h = y1 - y0;
            imgs[nimg].stride = sc->w * 4;
            imgs[nimg].argb = sc->argb + (size_t)(y0 - sc->y) * (size_t)sc->w + (size_t)(x0 - sc->x);
            imgs[nimg].alpha = NULL;
            nimg++;
        }
    }
    ret = publish(s, imgs, nimg, 0, changed);
    s->canvas_current = 0;
    free(imgs);
    if (ret == 0) {
        free(s->pic_active);
        s->pic_active = idx;
        s->n_pic_active = n;
        s->cap_pic_active = n;
    } else {
        free(idx);
    }
    return ret;
}

int dm_subs_render(dm_subs *s, int64_t t_ms, int stage_w, int stage_h, dm_subs_frame *out,
                   int *changed)
{
    subs_source *src;
    int64_t tau;
    int ch = DM_SUBS_SAME, ret = 0;

    if (!s || !out || stage_w < 1 || stage_h < 1 || stage_w > 16384 || stage_h > 16384)
        return DM_EINVAL;
    if (stage_w != s->out_w || stage_h != s->out_h)
        s->dirty = 1;
    src = subs_selected(s);
    tau = t_ms - s->delay_ms;
    if (!src) {
        int had = s->have_frame && s->canvas[s->cur].n;
        s->canvas[s->cur].n = 0;
        s->have_frame = 1;
        ch = had || s->dirty ? DM_SUBS_NEW : DM_SUBS_SAME;
        if (ch == DM_SUBS_NEW)
            s->serial++;
    } else if (src->info.kind == DM_SUBS_TEXT) {
        ret = render_text(s, src, tau, stage_w, stage_h, &ch);
    } else {
        ret = render_pictures(s, src, tau, stage_w, stage_h, &ch);
    }
    if (ret < 0) {
        s->have_frame = 0;
        memset(out, 0, sizeof *out);
        if (changed)
            *changed = DM_SUBS_NEW;
        return ret;
    }
    s->dirty = 0;
    s->out_w = stage_w;
    s->out_h = stage_h;
    s->out_t = t_ms;
    describe(s, out);
    if (changed)
        *changed = ch;
    return 0;
}
