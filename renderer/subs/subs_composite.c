/*
 * subs_composite.c - turning libass's images (coverage masks with a colour,
 * several a line: shadow, outline, fill) and decoded pictures into the few
 * disjoint straight-alpha ARGB rectangles callers upload; the tight box of
 * what an image covers; scaling pictures to the stage; blending a frame
 * over an ARGB picture.
 */
#include "subs_internal.h"

#include <stdlib.h>
#include <string.h>

/* Above this many images a frame becomes one rectangle (their bounding box)
 * instead of being grouped: grouping is quadratic. */
#define SUBS_MAX_GROUPED_IMAGES 512

/* x / 255 rounded, exact for 0 <= x <= 255 * 255 + 254. */
static inline uint32_t div255(uint32_t x)
{
    x += 128;
    return (x + (x >> 8)) >> 8;
}

typedef struct box {
    int x0, y0, x1, y1;   /* half-open */
} box;

static int box_meets(const box *a, const box *b)
{
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

static void box_grow(box *a, const box *b)
{
    if (b->x0 < a->x0)
        a->x0 = b->x0;
    if (b->y0 < a->y0)
        a->y0 = b->y0;
    if (b->x1 > a->x1)
        a->x1 = b->x1;
    if (b->y1 > a->y1)
        a->y1 = b->y1;
}

static int cmp_box(const void *a, const void *b)
{
    const box *x = a, *y = b;
    if (x->y0 != y->y0)
        return x->y0 < y->y0 ? -1 : 1;
    return x->x0 < y->x0 ? -1 : x->x0 > y->x0;
}

void subs_canvas_free(subs_canvas *c)
{
    free(c->rects);
    free(c->pix);
    free(c->sigs);
    free(c->sig_first);
    free(c->sig_count);
    memset(c, 0, sizeof *c);
}

/* Blend one image into a premultiplied ARGB buffer whose top-left corner is
 * at (bx, by) on the stage. */
static void blend_image(uint32_t *buf, int bw, int bx, int by, const subs_img *im)
{
    for (int y = 0; y < im->h; y++) {
        uint32_t *dst = buf + (size_t)(im->y - by + y) * (size_t)bw + (im->x - bx);
        if (im->alpha) {
            const uint8_t *cov = im->alpha + (size_t)y * (size_t)im->stride;
            uint32_t r = im->color >> 24, g = (im->color >> 16) & 0xFF, b = (im->color >> 8) & 0xFF;
            uint32_t op = 255 - (im->color & 0xFF);
            uint32_t solid = 0xFFu << 24 | r << 16 | g << 8 | b;
            for (int x = 0; x < im->w; x++) {
                uint32_t a, d, inv;
                if (!cov[x])
                    continue;
                if (cov[x] == 255 && op == 255) {
                    dst[x] = solid;  /* most covered pixels: opaque over anything */
                    continue;
                }
                a = div255(cov[x] * op);
                if (!a)
                    continue;
                d = dst[x];
                inv = 255 - a;
                dst[x] = (a + div255((d >> 24) * inv)) << 24 |
                         (div255(r * a) + div255(((d >> 16) & 0xFF) * inv)) << 16 |
                         (div255(g * a) + div255(((d >> 8) & 0xFF) * inv)) << 8 |
                         (div255(b * a) + div255((d & 0xFF) * inv));
            }
        } else {
            const uint32_t *src = (const uint32_t *)((const uint8_t *)im->argb + (size_t)y * (size_t)im->stride);
            for (int x = 0; x < im->w; x++) {
                uint32_t s = src[x], a = s >> 24, d, inv;
                if (!a)
                    continue;
                d = dst[x];
                inv = 255 - a;
                dst[x] = (a + div255((d >> 24) * inv)) << 24 |
                         (div255(((s >> 16) & 0xFF) * a) + div255(((d >> 16) & 0xFF) * inv)) << 16 |
                         (div255(((s >> 8) & 0xFF) * a) + div255(((d >> 8) & 0xFF) * inv)) << 8 |
                         (div255((s & 0xFF) * a) + div255((d & 0xFF) * inv));
            }
        }
    }
}

/* Premultiplied to straight alpha, in place: c * 255 / a, rounded, through
 * a table of 255 * 2^16 / a. */
static void unpremultiply(uint32_t *px, size_t n)
{
    uint32_t recip[256];

    recip[0] = 0;
    for (uint32_t a = 1; a < 256; a++)
        recip[a] = (255u * 65536u + a / 2) / a;
    for (size_t i = 0; i < n; i++) {
        uint32_t p = px[i], a = p >> 24, r, g, b;
        if (a == 0 || a == 255)
            continue;
        r = (((p >> 16) & 0xFF) * recip[a] + 32768) >> 16;
        g = (((p >> 8) & 0xFF) * recip[a] + 32768) >> 16;
        b = ((p & 0xFF) * recip[a] + 32768) >> 16;
        px[i] = a << 24 | (r > 255 ? 255 : r) << 16 | (g > 255 ? 255 : g) << 8 | (b > 255 ? 255 : b);
    }
}

static int sig_eq(const subs_sig *a, const subs_sig *b)
{
    return a->data == b->data && a->stride == b->stride && a->w == b->w && a->h == b->h &&
           a->color == b->color && a->dx == b->dx && a->dy == b->dy;
}

/* A rectangle of prev with the same size and images as sigs[0..n), or -1. */
static ptrdiff_t find_same(const subs_canvas *prev, int w, int h, const subs_sig *sigs, size_t n)
{
    for (size_t r = 0; prev && r < prev->n; r++) {
        const subs_sig *ps = prev->sigs + prev->sig_first[r];
        size_t k = 0;
        if (prev->rects[r].w != w || prev->rects[r].h != h || prev->sig_count[r] != n)
            continue;
        while (k < n && sig_eq(&ps[k], &sigs[k]))
            k++;
        if (k == n)
            return (ptrdiff_t)r;
    }
    return -1;
}

int subs_composite(subs_canvas *c, const subs_canvas *prev, const subs_img *imgs, size_t n)
{
    box *groups = NULL;
    size_t *group_of = NULL;
    size_t ng = 0, total = 0;
    uint32_t *pix;

    c->n = 0;
    c->n_sigs = 0;
    if (n == 0)
        return 0;
    groups = malloc(n * sizeof *groups);
    group_of = malloc(n * sizeof *group_of);
    if (!groups || !group_of) {
        free(groups);
        free(group_of);
        return DM_ENOMEM;
    }
    if (n > SUBS_MAX_GROUPED_IMAGES) {
        groups[0] = (box){imgs[0].x, imgs[0].y, imgs[0].x + imgs[0].w, imgs[0].y + imgs[0].h};
        for (size_t i = 1; i < n; i++) {
            box b = {imgs[i].x, imgs[i].y, imgs[i].x + imgs[i].w, imgs[i].y + imgs[i].h};
            box_grow(&groups[0], &b);
        }
        ng = 1;
    } else {
        /* grow groups until no two meet: the result is a set of disjoint boxes */
        for (size_t i = 0; i < n; i++) {
            box b = {imgs[i].x, imgs[i].y, imgs[i].x + imgs[i].w, imgs[i].y + imgs[i].h};
            int merged;
            do {
                merged = 0;
                for (size_t g = 0; g < ng; g++)
                    if (box_meets(&groups[g], &b)) {
                        box_grow(&b, &groups[g]);
                        groups[g] = groups[--ng];
                        merged = 1;
                        break;
                    }
            } while (merged);
            groups[ng++] = b;
        }
        qsort(groups, ng, sizeof *groups, cmp_box);
    }
    for (size_t i = 0; i < n; i++) {
        box b = {imgs[i].x, imgs[i].y, imgs[i].x + imgs[i].w, imgs[i].y + imgs[i].h};
        group_of[i] = 0;
        for (size_t g = 0; g < ng; g++)
            if (box_meets(&groups[g], &b)) {
                group_of[i] = g;
                break;
            }
    }
    for (size_t g = 0; g < ng; g++)
        total += (size_t)(groups[g].x1 - groups[g].x0) * (size_t)(groups[g].y1 - groups[g].y0);
    if (ng > c->cap) {
        dm_subs_rect *r = realloc(c->rects, ng * sizeof *r);
        size_t *f = r ? realloc(c->sig_first, ng * sizeof *f) : NULL;
        size_t *k = f ? realloc(c->sig_count, ng * sizeof *k) : NULL;
        if (r)
            c->rects = r;
        if (f)
            c->sig_first = f;
        if (k)
            c->sig_count = k;
        if (!k) {
            free(groups);
            free(group_of);
            return DM_ENOMEM;
        }
        c->cap = ng;
    }
    if (n > c->cap_sigs) {
        subs_sig *sg = realloc(c->sigs, n * sizeof *sg);
        if (!sg) {
            free(groups);
            free(group_of);
            return DM_ENOMEM;
        }
        c->sigs = sg;
        c->cap_sigs = n;
    }
    if (total > c->pix_cap) {
        uint32_t *p = malloc(total * sizeof *p);
        if (!p) {
            free(groups);
            free(group_of);
            return DM_ENOMEM;
        }
        free(c->pix);
        c->pix = p;
        c->pix_cap = total;
    }
    pix = c->pix;
    for (size_t g = 0; g < ng; g++) {
        dm_subs_rect *r = &c->rects[g];
        r->x = groups[g].x0;
        r->y = groups[g].y0;
        r->w = groups[g].x1 - groups[g].x0;
        r->h = groups[g].y1 - groups[g].y0;
        r->pitch = r->w * 4;
        r->argb = pix;
        pix += (size_t)r->w * (size_t)r->h;
        /* its images, in libass's order (images of different rectangles never overlap) */
        c->sig_first[g] = c->n_sigs;
        for (size_t i = 0; i < n; i++)
            if (group_of[i] == g)
                c->sigs[c->n_sigs++] = (subs_sig){imgs[i].alpha ? (const void *)imgs[i].alpha
                                                                : (const void *)imgs[i].argb,
                                                  imgs[i].stride, imgs[i].w, imgs[i].h, imgs[i].color,
                                                  imgs[i].x - r->x, imgs[i].y - r->y};
        c->sig_count[g] = c->n_sigs - c->sig_first[g];
    }
    for (size_t g = 0; g < ng; g++) {
        dm_subs_rect *r = &c->rects[g];
        size_t npx = (size_t)r->w * (size_t)r->h;
        ptrdiff_t same = find_same(prev, r->w, r->h, c->sigs + c->sig_first[g], c->sig_count[g]);
        if (same >= 0) {
            memcpy((uint32_t *)r->argb, prev->rects[same].argb, npx * sizeof(uint32_t));
            continue;
        }
        memset((uint32_t *)r->argb, 0, npx * sizeof(uint32_t));
        for (size_t i = 0; i < n; i++)
            if (group_of[i] == g)
                blend_image((uint32_t *)r->argb, r->w, r->x, r->y, &imgs[i]);
        unpremultiply((uint32_t *)r->argb, npx);
    }
    c->n = ng;
    free(groups);
    free(group_of);
    return 0;
}

/* Is pixel x of row `row` covered? */
static inline int covered(const subs_img *img, const uint8_t *row, int x)
{
    return img->alpha ? row[x] != 0 : (((const uint32_t *)row)[x] >> 24) != 0;
}

int subs_img_ink(const subs_img *img, int *x0, int *y0, int *x1, int *y1)
{
    int bx0 = img->w, bx1 = -1, by0 = -1, by1 = -1;
    const uint8_t *base = img->alpha ? img->alpha : (const uint8_t *)img->argb;

    /* columns only need looking at left of the box found so far and right
     * of it: most rows stop early */
    for (int y = 0; y < img->h; y++) {
        const uint8_t *row = base + (size_t)y * (size_t)img->stride;
        int x, hit = 0;
        for (x = 0; x < bx0; x++)
            if (covered(img, row, x)) {
                bx0 = x;
                hit = 1;
                break;
            }
        for (x = img->w - 1; x > bx1; x--)
            if (covered(img, row, x)) {
                bx1 = x;
                hit = 1;
                break;
            }
        if (!hit && bx1 >= bx0) {
            /* inside the columns already known: is anything covered? */
            for (x = bx0; x <= bx1 && !hit; x++)
                hit = covered(img, row, x);
        }
        if (hit) {
            if (by0 < 0)
                by0 = y;
            by1 = y;
        }
    }
    if (bx1 < 0)
        return 0;
    *x0 = img->x + bx0;
    *y0 = img->y + by0;
    *x1 = img->x + bx1 + 1;
    *y1 = img->y + by1 + 1;
    return 1;
}

/* ------------------------------------------------------------ pictures */

/* floor(a * b / c) and ceil(a * b / c) for non-negative values. */
static int64_t mul_div_floor(int64_t a, int64_t b, int64_t c)
{
    return a * b / c;
}

static int64_t mul_div_ceil(int64_t a, int64_t b, int64_t c)
{
    return (a * b + c - 1) / c;
}

int subs_pic_scale(const subs_pic_rect *r, int canvas_w, int canvas_h, int stage_w, int stage_h,
                   double scale, subs_scaled *out)
{
    int64_t x0, y0, x1, y1, w, h, nw, nh;
    uint32_t *pal_pre;
    int sw = r->w, sh = r->h;

    memset(out, 0, sizeof *out);
    if (canvas_w <= 0 || canvas_h <= 0)
        return 0;
    /* where the picture lands at the stage size, in whole pixels */
    x0 = mul_div_floor(r->x, stage_w, canvas_w);
    y0 = mul_div_floor(r->y, stage_h, canvas_h);
    x1 = mul_div_ceil(r->x + r->w, stage_w, canvas_w);
    y1 = mul_div_ceil(r->y + r->h, stage_h, canvas_h);
    w = x1 - x0;
    h = y1 - y0;
    if (scale != 1.0) {
        /* scaled about its horizontal centre, and about the edge of the
         * stage it is nearer to (bottom subtitles grow upwards) */
        int64_t cx2 = x0 + x1;
        nw = (int64_t)(w * scale + 0.5);
        nh = (int64_t)(h * scale + 0.5);
        x0 = (cx2 - nw) / 2;
        x1 = x0 + nw;
        if (y0 + y1 > stage_h) {
            y0 = y1 - nh;
        } else {
            y1 = y0 + nh;
        }
        w = nw;
        h = nh;
    }
    if (w <= 0 || h <= 0)
        return 0;
    out->x = (int)x0;
    out->y = (int)y0;
    out->w = (int)w;
    out->h = (int)h;
    out->argb = malloc((size_t)w * (size_t)h * sizeof *out->argb);
    pal_pre = malloc(256 * sizeof *pal_pre);
    if (!out->argb || !pal_pre) {
        free(out->argb);
        free(pal_pre);
        memset(out, 0, sizeof *out);
        return DM_ENOMEM;
    }
    for (int i = 0; i < 256; i++) {
        uint32_t p = r->palette[i], a = p >> 24;
        pal_pre[i] = a << 24 | div255(((p >> 16) & 0xFF) * a) << 16 | div255(((p >> 8) & 0xFF) * a) << 8 |
                     div255((p & 0xFF) * a);
    }
    /* bilinear in 16.16 fixed point on premultiplied colour: the same
     * result on every machine */
    for (int64_t y = 0; y < h; y++) {
        int64_t fy = ((2 * y + 1) * sh * 65536) / (2 * h) - 32768;
        int iy, iy1;
        uint32_t wy;
        if (fy < 0)
            fy = 0;
        iy = (int)(fy >> 16);
        wy = (uint32_t)(fy & 0xFFFF) >> 8;
        if (iy >= sh - 1) {
            iy = sh - 1;
            wy = 0;
        }
        iy1 = iy + 1 < sh ? iy + 1 : iy;
        for (int64_t x = 0; x < w; x++) {
            int64_t fx = ((2 * x + 1) * sw * 65536) / (2 * w) - 32768;
            int ix, ix1;
            uint32_t wx, acc[4] = {0, 0, 0, 0}, p[4], wgt[4];
            if (fx < 0)
                fx = 0;
            ix = (int)(fx >> 16);
            wx = (uint32_t)(fx & 0xFFFF) >> 8;
            if (ix >= sw - 1) {
                ix = sw - 1;
                wx = 0;
            }
            ix1 = ix + 1 < sw ? ix + 1 : ix;
            p[0] = pal_pre[r->index[(size_t)iy * (size_t)sw + (size_t)ix]];
            p[1] = pal_pre[r->index[(size_t)iy * (size_t)sw + (size_t)ix1]];
            p[2] = pal_pre[r->index[(size_t)iy1 * (size_t)sw + (size_t)ix]];
            p[3] = pal_pre[r->index[(size_t)iy1 * (size_t)sw + (size_t)ix1]];
            wgt[0] = (256 - wx) * (256 - wy);
            wgt[1] = wx * (256 - wy);
            wgt[2] = (256 - wx) * wy;
            wgt[3] = wx * wy;
            for (int k = 0; k < 4; k++)
                for (int ch = 0; ch < 4; ch++)
                    acc[ch] += ((p[k] >> (24 - 8 * ch)) & 0xFF) * wgt[k];
            {
                uint32_t a = (acc[0] + 32768) >> 16, rr = (acc[1] + 32768) >> 16,
                         gg = (acc[2] + 32768) >> 16, bb = (acc[3] + 32768) >> 16;
                out->argb[(size_t)y * (size_t)w + (size_t)x] = a << 24 | rr << 16 | gg << 8 | bb;
            }
        }
    }
    free(pal_pre);
    unpremultiply(out->argb, (size_t)w * (size_t)h);
    return 0;
}

/* ------------------------------------------------------------ blending */

void dm_subs_frame_blend(const dm_subs_frame *f, uint32_t *argb, int w, int h, int pitch, int x,
                         int y)
{
    if (!f || !argb)
        return;
    for (size_t i = 0; i < f->count; i++) {
        const dm_subs_rect *r = &f->rects[i];
        int cx0 = x + r->x < 0 ? -(x + r->x) : 0;           /* first column of r to draw */
        int cx1 = x + r->x + r->w > w ? w - (x + r->x) : r->w; /* one past the last */
        for (int ry = 0; ry < r->h; ry++) {
            int dy = y + r->y + ry;
            const uint32_t *src;
            uint32_t *dst;
            if (dy < 0 || dy >= h)
                continue;
            src = (const uint32_t *)((const uint8_t *)r->argb + (size_t)ry * (size_t)r->pitch);
            dst = (uint32_t *)((uint8_t *)argb + (size_t)dy * (size_t)pitch) + x + r->x;
            for (int rx = cx0; rx < cx1; rx++) {
                uint32_t s = src[rx], sa = s >> 24, d, da, oa, dw, c[3];
                if (sa == 0)
                    continue;
                if (sa == 255) {
                    dst[rx] = s;
                    continue;
                }
                d = dst[rx];
                da = d >> 24;
                if (da == 255) {
                    /* over an opaque picture (a film frame) */
                    uint32_t inv = 255 - sa;
                    dst[rx] = 0xFFu << 24 |
                              div255(((s >> 16) & 0xFF) * sa + ((d >> 16) & 0xFF) * inv) << 16 |
                              div255(((s >> 8) & 0xFF) * sa + ((d >> 8) & 0xFF) * inv) << 8 |
                              div255((s & 0xFF) * sa + (d & 0xFF) * inv);
                    continue;
                }
                /* straight-alpha "over": out = (s*sa + d*da*(1-sa)) / oa */
                dw = div255(da * (255 - sa));
                oa = sa + dw;
                for (int k = 0; k < 3; k++) {
                    uint32_t sc = (s >> (16 - 8 * k)) & 0xFF, dc = (d >> (16 - 8 * k)) & 0xFF;
                    c[k] = (sc * sa + dc * dw + oa / 2) / oa;
                    if (c[k] > 255)
                        c[k] = 255;
                }
                dst[rx] = oa << 24 | c[0] << 16 | c[1] << 8 | c[2];
            }
        }
    }
}
