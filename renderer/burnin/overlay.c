/*
 * overlay.c - converting comment sprites to premultiplied YUV once, and
 * blending them into YUV 4:2:0 pictures (see overlay.h).
 */
#include "overlay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "danmaku.h"

/* Larger sprites than this are not comments but mistakes. */
#define SPRITE_MAX_SIDE 16384

/* x / 255 rounded, for x in 0..65535. */
static inline unsigned div255(unsigned x)
{
    x += 128;
    return (x + (x >> 8)) >> 8;
}

static int floor_div2(int v)
{
    return v >= 0 ? v / 2 : -((1 - v) / 2);
}

static void plane_release(dm_overlay_plane *p)
{
    free(p->pre);
    free(p->pre2);
    free(p->inv);
    free(p->x0);
    free(p->x1);
    memset(p, 0, sizeof *p);
}

static int plane_alloc(dm_overlay_plane *p, int w, int h, int two)
{
    size_t n = (size_t)w * (size_t)h;

    memset(p, 0, sizeof *p);
    p->w = w;
    p->h = h;
    p->pre = malloc(n);
    p->pre2 = two ? malloc(n) : NULL;
    p->inv = malloc(n);
    p->x0 = malloc((size_t)h * sizeof *p->x0);
    p->x1 = malloc((size_t)h * sizeof *p->x1);
    if (!p->pre || (two && !p->pre2) || !p->inv || !p->x0 || !p->x1) {
        plane_release(p);
        return DM_ENOMEM;
    }
    return 0;
}

/* Per row, the columns that carry any alpha: the blend loops skip the rest. */
static void plane_spans(dm_overlay_plane *p)
{
    for (int r = 0; r < p->h; r++) {
        const uint8_t *inv = p->inv + (size_t)r * p->w;
        int a = 0, b = p->w;

        while (a < b && inv[a] == 255)
            a++;
        while (b > a && inv[b - 1] == 255)
            b--;
        p->x0[r] = (int16_t)a;
        p->x1[r] = (int16_t)b;
    }
}

typedef struct coeffs {
    double kr, kb;             /* luma weights of R and B */
    double yoff, yscale;       /* Y = yoff + yscale * Y' */
    double cscale;             /* C = 128 + cscale * (colour difference) */
} coeffs;

static coeffs coeffs_for(dm_yuv_space sp)
{
    coeffs c;

    c.kr = sp.matrix == DM_YUV_BT709 ? 0.2126 : 0.299;
    c.kb = sp.matrix == DM_YUV_BT709 ? 0.0722 : 0.114;
    c.yoff = sp.full_range ? 0.0 : 16.0;
    c.yscale = sp.full_range ? 255.0 : 219.0;
    c.cscale = sp.full_range ? 255.0 : 224.0;
    return c;
}

static uint8_t clamp_u8(double v)
{
    long r = lround(v);
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

int dm_overlay_sprite_init(dm_overlay_sprite *s, const uint32_t *argb, int w, int h, int pitch,
                           dm_yuv_space space)
{
    coeffs c = coeffs_for(space);
    size_t n;

    memset(s, 0, sizeof *s);
    if (!argb || w <= 0 || h <= 0 || w > SPRITE_MAX_SIDE || h > SPRITE_MAX_SIDE || pitch < w * 4)
        return DM_EINVAL;
    n = (size_t)w * (size_t)h;
    s->w = w;
    s->h = h;
    s->space = space;
    s->argb_alpha = malloc(n);
    s->argb_u = malloc(n);
    s->argb_v = malloc(n);
    if (!s->argb_alpha || !s->argb_u || !s->argb_v || plane_alloc(&s->luma, w, h, 0)) {
        dm_overlay_sprite_release(s);
        return DM_ENOMEM;
    }
    for (int y = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)((const uint8_t *)argb + (size_t)y * pitch);
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            uint32_t px = row[x];
            unsigned a = px >> 24;
            double r = ((px >> 16) & 255) / 255.0, g = ((px >> 8) & 255) / 255.0, b = (px & 255) / 255.0;
            double yl = c.kr * r + (1.0 - c.kr - c.kb) * g + c.kb * b;
            uint8_t Y = clamp_u8(c.yoff + c.yscale * yl);

            s->argb_alpha[i] = (uint8_t)a;
            s->argb_u[i] = clamp_u8(128.0 + c.cscale * (b - yl) / (2.0 * (1.0 - c.kb)));
            s->argb_v[i] = clamp_u8(128.0 + c.cscale * (r - yl) / (2.0 * (1.0 - c.kr)));
            s->luma.pre[i] = (uint8_t)div255(Y * a);
            s->luma.inv[i] = (uint8_t)(255 - a);
        }
    }
    plane_spans(&s->luma);
    return 0;
}

/* The chroma plane for a sprite whose top-left luma sample sits at an odd
 * column (ox) and/or row (oy) of the picture: each chroma sample averages
 * the 2x2 luma block it covers, with the parts outside the sprite clear. */
static int make_chroma(dm_overlay_sprite *s, int ox, int oy)
{
    dm_overlay_plane *p = &s->chroma[ox | oy << 1];
    int cw = (s->w + ox + 1) / 2, ch = (s->h + oy + 1) / 2;

    if (plane_alloc(p, cw, ch, 1))
        return DM_ENOMEM;
    for (int cy = 0; cy < ch; cy++) {
        for (int cx = 0; cx < cw; cx++) {
            unsigned sa = 0, su = 0, sv = 0;
            for (int dy = 0; dy < 2; dy++) {
                int y = 2 * cy - oy + dy;
                if (y < 0 || y >= s->h)
                    continue;
                for (int dx = 0; dx < 2; dx++) {
                    int x = 2 * cx - ox + dx;
                    size_t i;
                    if (x < 0 || x >= s->w)
                        continue;
                    i = (size_t)y * s->w + x;
                    sa += s->argb_alpha[i];
                    su += (unsigned)s->argb_u[i] * s->argb_alpha[i];
                    sv += (unsigned)s->argb_v[i] * s->argb_alpha[i];
                }
            }
            size_t o = (size_t)cy * cw + cx;
            p->inv[o] = (uint8_t)(255 - (sa + 2) / 4);
            p->pre[o] = (uint8_t)((su + 510) / 1020);
            p->pre2[o] = (uint8_t)((sv + 510) / 1020);
        }
    }
    plane_spans(p);
    return 0;
}

void dm_overlay_sprite_release(dm_overlay_sprite *s)
{
    if (!s)
        return;
    plane_release(&s->luma);
    for (int i = 0; i < 4; i++)
        plane_release(&s->chroma[i]);
    free(s->argb_alpha);
    free(s->argb_u);
    free(s->argb_v);
    memset(s, 0, sizeof *s);
}

size_t dm_overlay_sprite_bytes(const dm_overlay_sprite *s)
{
    size_t n = (size_t)s->w * s->h * 5;

    for (int i = 0; i < 4; i++)
        n += (size_t)s->chroma[i].w * s->chroma[i].h * 3;
    return n;
}

/* d = pre + d * inv / 255 over n samples; the hot loop of the burn-in. */
static void blend_row(uint8_t *d, const uint8_t *pre, const uint8_t *inv, int n)
{
    int i = 0;
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128(), half = _mm_set1_epi16(128);
    for (; i + 16 <= n; i += 16) {
        __m128i dv = _mm_loadu_si128((const __m128i *)(const void *)(d + i));
        __m128i iv = _mm_loadu_si128((const __m128i *)(const void *)(inv + i));
        __m128i pv = _mm_loadu_si128((const __m128i *)(const void *)(pre + i));
        __m128i lo = _mm_add_epi16(_mm_mullo_epi16(_mm_unpacklo_epi8(dv, zero), _mm_unpacklo_epi8(iv, zero)), half);
        __m128i hi = _mm_add_epi16(_mm_mullo_epi16(_mm_unpackhi_epi8(dv, zero), _mm_unpackhi_epi8(iv, zero)), half);
        lo = _mm_srli_epi16(_mm_add_epi16(lo, _mm_srli_epi16(lo, 8)), 8);
        hi = _mm_srli_epi16(_mm_add_epi16(hi, _mm_srli_epi16(hi, 8)), 8);
        _mm_storeu_si128((__m128i *)(void *)(d + i), _mm_adds_epu8(_mm_packus_epi16(lo, hi), pv));
    }
#endif
    for (; i < n; i++) {
        unsigned v = pre[i] + div255((unsigned)d[i] * inv[i]);
        d[i] = (uint8_t)(v > 255 ? 255 : v);
    }
}

/* As blend_row with the sprite's alpha scaled by k/255 (fading comments). */
static void blend_row_scaled(uint8_t *d, const uint8_t *pre, const uint8_t *inv, int n, unsigned k)
{
    for (int i = 0; i < n; i++) {
        unsigned a = div255((255u - inv[i]) * k);
        unsigned v = div255(pre[i] * k) + div255((unsigned)d[i] * (255u - a));
        d[i] = (uint8_t)(v > 255 ? 255 : v);
    }
}

/* Blend plane p with its top-left at (x, y) of a dst plane of pw x ph. */
static void blend_plane(const dm_overlay_plane *p, const uint8_t *pre, uint8_t *dst, int pitch, int pw, int ph,
                        int x, int y, int k)
{
    int r0 = y < 0 ? -y : 0, r1 = y + p->h > ph ? ph - y : p->h;

    for (int r = r0; r < r1; r++) {
        int a = p->x0[r], b = p->x1[r];
        size_t o = (size_t)r * p->w;
        uint8_t *row = dst + (size_t)(y + r) * pitch;

        if (a < -x)
            a = -x;
        if (b > pw - x)
            b = pw - x;
        if (a >= b)
            continue;
        if (k >= 255)
            blend_row(row + x + a, pre + o + a, p->inv + o + a, b - a);
        else
            blend_row_scaled(row + x + a, pre + o + a, p->inv + o + a, b - a, (unsigned)k);
    }
}

int dm_overlay_blend(dm_overlay_sprite *s, const dm_overlay_target *t, int x, int y, int alpha255)
{
    int cx = floor_div2(x), cy = floor_div2(y), ox = x - 2 * cx, oy = y - 2 * cy;
    int cw = (t->width + 1) / 2, ch = (t->height + 1) / 2;
    dm_overlay_plane *c;

    if (alpha255 <= 0 || x >= t->width || y >= t->height || x + s->w <= 0 || y + s->h <= 0)
        return 0;
    c = &s->chroma[ox | oy << 1];
    if (!c->inv && make_chroma(s, ox, oy))
        return DM_ENOMEM;
    blend_plane(&s->luma, s->luma.pre, t->plane[0], t->pitch[0], t->width, t->height, x, y, alpha255);
    blend_plane(c, c->pre, t->plane[1], t->pitch[1], cw, ch, cx, cy, alpha255);
    blend_plane(c, c->pre2, t->plane[2], t->pitch[2], cw, ch, cx, cy, alpha255);
    return 0;
}
