/*
 * blend.c - premultiplied alpha blending of comment sprites (see blend.h).
 */
#include "blend.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* (x * a) / 255 for 0 <= x, a <= 255, exact with rounding. */
static inline uint32_t mul255(uint32_t x, uint32_t a)
{
    uint32_t t = x * a + 128;
    return (t + (t >> 8)) >> 8;
}

void dm_blend_premultiply(uint32_t *px, int w, int h, int pitch_px)
{
    for (int y = 0; y < h; y++) {
        uint32_t *row = px + (size_t)y * pitch_px;
        for (int x = 0; x < w; x++) {
            uint32_t p = row[x], a = p >> 24;
            if (a == 255 || a == 0) {
                row[x] = a ? p : 0;
                continue;
            }
            row[x] = (a << 24) | (mul255((p >> 16) & 0xFF, a) << 16) | (mul255((p >> 8) & 0xFF, a) << 8) |
                     mul255(p & 0xFF, a);
        }
    }
}

/* dst = src + dst * (255 - src.a) / 255, per channel, one pixel. */
static inline uint32_t over(uint32_t s, uint32_t d)
{
    uint32_t ia = 255 - (s >> 24);
    uint32_t rb = (d & 0x00FF00FF) * ia + 0x00800080;
    uint32_t ag = ((d >> 8) & 0x00FF00FF) * ia + 0x00800080;

    rb = ((rb + ((rb >> 8) & 0x00FF00FF)) >> 8) & 0x00FF00FF;
    ag = (ag + ((ag >> 8) & 0x00FF00FF)) & 0xFF00FF00;
    return s + (rb | ag);
}

/* Scale a premultiplied pixel by a (all four channels). */
static inline uint32_t scale(uint32_t s, uint32_t a)
{
    uint32_t rb = (s & 0x00FF00FF) * a + 0x00800080;
    uint32_t ag = ((s >> 8) & 0x00FF00FF) * a + 0x00800080;

    rb = ((rb + ((rb >> 8) & 0x00FF00FF)) >> 8) & 0x00FF00FF;
    ag = (ag + ((ag >> 8) & 0x00FF00FF)) & 0xFF00FF00;
    return rb | ag;
}

#if defined(__SSE2__)
/* Four pixels at once; returns nothing, writes d[0..3]. */
static inline void over4(const uint32_t *s, uint32_t *d)
{
    const __m128i zero = _mm_setzero_si128();
    const __m128i c255 = _mm_set1_epi16(255);
    const __m128i c128 = _mm_set1_epi16(128);
    __m128i sv = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i dv = _mm_loadu_si128((const __m128i *)(void *)d);
    /* alpha of each pixel broadcast to its four channels */
    __m128i a = _mm_srli_epi32(sv, 24);
    __m128i res[2];

    a = _mm_or_si128(a, _mm_slli_epi32(a, 16));
    a = _mm_or_si128(a, _mm_slli_epi32(a, 8));
    for (int half = 0; half < 2; half++) {
        __m128i d16 = half ? _mm_unpackhi_epi8(dv, zero) : _mm_unpacklo_epi8(dv, zero);
        __m128i a16 = half ? _mm_unpackhi_epi8(a, zero) : _mm_unpacklo_epi8(a, zero);
        __m128i t = _mm_add_epi16(_mm_mullo_epi16(d16, _mm_sub_epi16(c255, a16)), c128);
        res[half] = _mm_srli_epi16(_mm_add_epi16(t, _mm_srli_epi16(t, 8)), 8);
    }
    _mm_storeu_si128((__m128i *)(void *)d, _mm_add_epi8(sv, _mm_packus_epi16(res[0], res[1])));
}
#endif

static void blend_row(uint32_t *d, const uint32_t *s, int n)
{
    int x = 0;

#if defined(__SSE2__)
    for (; x + 4 <= n; x += 4) {
        uint64_t lo, hi;
        __builtin_memcpy(&lo, s + x, 8);
        __builtin_memcpy(&hi, s + x + 2, 8);
        if ((lo | hi) == 0)
            continue;                        /* transparent run: nothing to do */
        if ((lo & hi & 0xFF000000FF000000ull) == 0xFF000000FF000000ull) {
            __builtin_memcpy(d + x, s + x, 16);   /* opaque run: copy */
            continue;
        }
        over4(s + x, d + x);
    }
#endif
    for (; x < n; x++) {
        uint32_t p = s[x];
        if (p >> 24 == 255)
            d[x] = p;
        else if (p)
            d[x] = over(p, d[x]);
    }
}

void dm_blend_sprite(uint32_t *dst, int dw, int dh, int dst_pitch_px, const uint32_t *src, int sw, int sh,
                     int src_pitch_px, int x, int y, uint8_t alpha, int row_from, int row_to)
{
    int x0 = x < 0 ? 0 : x, x1 = x + sw > dw ? dw : x + sw;
    int y0 = y < row_from ? row_from : y, y1 = y + sh < row_to ? y + sh : row_to;

    if (row_from < 0)
        y0 = y0 < 0 ? 0 : y0;
    if (y1 > dh)
        y1 = dh;
    if (x0 >= x1 || y0 >= y1 || alpha == 0)
        return;
    for (int r = y0; r < y1; r++) {
        uint32_t *d = dst + (size_t)r * dst_pitch_px + x0;
        const uint32_t *s = src + (size_t)(r - y) * src_pitch_px + (x0 - x);
        int n = x1 - x0;
        if (alpha == 255) {
            blend_row(d, s, n);
        } else {
            for (int i = 0; i < n; i++)
                if (s[i])
                    d[i] = over(scale(s[i], alpha), d[i]);
        }
    }
}
