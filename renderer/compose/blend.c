/*
 * blend.c - premultiplied alpha blending of comment sprites (see blend.h).
 */
#include "blend.h"

#include <stdlib.h>
#include <string.h>

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

/* Pixels x .. n - 1 one at a time (the end of a run the wide loops leave). */
static inline void blend_tail(uint32_t *d, const uint32_t *s, int x, int n)
{
    for (; x < n; x++) {
        uint32_t p = s[x];
        if (p >> 24 == 255)
            d[x] = p;
        else if (p)
            d[x] = over(p, d[x]);
    }
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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define DM_HAVE_AVX2_PATH 1

/* Eight pixels at once, the same arithmetic as over4 (so the same result). */
__attribute__((target("avx2"))) static inline void over8(const uint32_t *s, uint32_t *d, __m256i sv)
{
    const __m256i zero = _mm256_setzero_si256();
    const __m256i c255 = _mm256_set1_epi16(255);
    const __m256i c128 = _mm256_set1_epi16(128);
    __m256i dv = _mm256_loadu_si256((const __m256i *)(void *)d);
    __m256i a = _mm256_srli_epi32(sv, 24);
    __m256i lo, hi, t;

    (void)s;
    a = _mm256_or_si256(a, _mm256_slli_epi32(a, 16));
    a = _mm256_or_si256(a, _mm256_slli_epi32(a, 8));
    t = _mm256_add_epi16(_mm256_mullo_epi16(_mm256_unpacklo_epi8(dv, zero),
                                            _mm256_sub_epi16(c255, _mm256_unpacklo_epi8(a, zero))), c128);
    lo = _mm256_srli_epi16(_mm256_add_epi16(t, _mm256_srli_epi16(t, 8)), 8);
    t = _mm256_add_epi16(_mm256_mullo_epi16(_mm256_unpackhi_epi8(dv, zero),
                                            _mm256_sub_epi16(c255, _mm256_unpackhi_epi8(a, zero))), c128);
    hi = _mm256_srli_epi16(_mm256_add_epi16(t, _mm256_srli_epi16(t, 8)), 8);
    _mm256_storeu_si256((__m256i *)(void *)d, _mm256_add_epi8(sv, _mm256_packus_epi16(lo, hi)));
}

/* blend_row on eight pixels at a time; the rest as blend_row does it. */
__attribute__((target("avx2"))) static void blend_row_avx2(uint32_t *d, const uint32_t *s, int n)
{
    const __m256i amask = _mm256_set1_epi32((int)0xFF000000u);
    int x = 0;

    for (; x + 8 <= n; x += 8) {
        __m256i sv = _mm256_loadu_si256((const __m256i *)(const void *)(s + x));
        if (_mm256_testz_si256(sv, sv))
            continue;                                     /* transparent */
        if (_mm256_testc_si256(sv, amask)) {
            _mm256_storeu_si256((__m256i *)(void *)(d + x), sv);   /* opaque: copy */
            continue;
        }
        over8(s + x, d + x, sv);
    }
    blend_tail(d, s, x, n);
}
#endif

static void blend_row_sse2(uint32_t *d, const uint32_t *s, int n)
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
    blend_tail(d, s, x, n);
}

#if defined(DM_HAVE_AVX2_PATH)
#define DM_HAVE_AVX512_PATH 1

/* Sixteen pixels at once with AVX-512BW, the run's end under a mask (no
 * pixel-at-a-time tail); `alpha` below 255 scales the sprite first. The
 * same arithmetic as over() and scale(), with the division by 255 done as
 * a multiply-high by 257 (equal for every value it meets), so the same
 * pixels as the other paths. */
__attribute__((target("avx512f,avx512bw"))) static void blend_run_avx512(uint32_t *d, const uint32_t *s, int n,
                                                                         uint8_t alpha)
{
    const __m512i zero = _mm512_setzero_si512();
    const __m512i ones = _mm512_set1_epi8((char)0xFF);
    const __m512i c128 = _mm512_set1_epi16(128);
    const __m512i c257 = _mm512_set1_epi16(257);
    const __m512i al = _mm512_set1_epi16(alpha);
    /* byte 3 of each pixel into its four bytes */
    const __m512i bcast = _mm512_set4_epi32(0x0F0F0F0F, 0x0B0B0B0B, 0x07070707, 0x03030303);

    for (int x = 0; x < n; x += 16) {
        __mmask16 m = n - x >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - x)) - 1);
        __m512i sv = _mm512_maskz_loadu_epi32(m, s + x), dv, ia, lo, hi;

        if (alpha != 255) {
            lo = _mm512_add_epi16(_mm512_mullo_epi16(_mm512_unpacklo_epi8(sv, zero), al), c128);
            hi = _mm512_add_epi16(_mm512_mullo_epi16(_mm512_unpackhi_epi8(sv, zero), al), c128);
            sv = _mm512_packus_epi16(_mm512_mulhi_epu16(lo, c257), _mm512_mulhi_epu16(hi, c257));
        }
        if (!_mm512_test_epi32_mask(sv, sv))
            continue;                                     /* transparent */
        dv = _mm512_maskz_loadu_epi32(m, d + x);
        ia = _mm512_xor_si512(_mm512_shuffle_epi8(sv, bcast), ones);   /* 255 - alpha */
        lo = _mm512_add_epi16(_mm512_mullo_epi16(_mm512_unpacklo_epi8(dv, zero), _mm512_unpacklo_epi8(ia, zero)), c128);
        hi = _mm512_add_epi16(_mm512_mullo_epi16(_mm512_unpackhi_epi8(dv, zero), _mm512_unpackhi_epi8(ia, zero)), c128);
        dv = _mm512_packus_epi16(_mm512_mulhi_epu16(lo, c257), _mm512_mulhi_epu16(hi, c257));
        _mm512_mask_storeu_epi32(d + x, m, _mm512_add_epi8(sv, dv));
    }
}
#endif

/* The paths in use: DM_BLEND_BEST until chosen. */
static int simd_level = DM_BLEND_BEST;

static int simd_supported(int level)
{
#ifdef DM_HAVE_AVX2_PATH
    __builtin_cpu_init();
    if (level >= DM_BLEND_AVX512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        return DM_BLEND_AVX512;
    if (level >= DM_BLEND_AVX2 && __builtin_cpu_supports("avx2"))
        return DM_BLEND_AVX2;
#else
    (void)level;
#endif
    return DM_BLEND_SSE2;
}

static int simd(void)
{
    int l = __atomic_load_n(&simd_level, __ATOMIC_RELAXED);

    if (l == DM_BLEND_BEST) {
        l = simd_supported(DM_BLEND_BEST);
        __atomic_store_n(&simd_level, l, __ATOMIC_RELAXED);
    }
    return l;
}

dm_blend_simd dm_blend_use_simd(dm_blend_simd level)
{
    int l = simd_supported(level);

    __atomic_store_n(&simd_level, l, __ATOMIC_RELAXED);
    return (dm_blend_simd)l;
}

/* One run of pixels at `alpha` on the widest path the processor runs. */
static void blend_run(int level, uint32_t *d, const uint32_t *s, int n, uint8_t alpha)
{
#ifdef DM_HAVE_AVX512_PATH
    if (level == DM_BLEND_AVX512) {
        blend_run_avx512(d, s, n, alpha);
        return;
    }
#endif
    if (alpha == 255) {
#ifdef DM_HAVE_AVX2_PATH
        if (level == DM_BLEND_AVX2) {
            blend_row_avx2(d, s, n);
            return;
        }
#endif
        (void)level;
        blend_row_sse2(d, s, n);
    } else {
        for (int i = 0; i < n; i++)
            if (s[i])
                d[i] = over(scale(s[i], alpha), d[i]);
    }
}

void dm_blend_sprite(uint32_t *dst, int dw, int dh, int dst_pitch_px, const uint32_t *src, int sw, int sh,
                     int src_pitch_px, int x, int y, uint8_t alpha, int row_from, int row_to)
{
    int level = simd();
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
        blend_run(level, d, s, x1 - x0, alpha);
    }
}

/* Whether the 4-pixel block at x (fewer at the row's end) holds any pixel. */
static int block_used(const uint32_t *row, int x, int w)
{
    for (int i = x; i < x + 4 && i < w; i++)
        if (row[i])
            return 1;
    return 0;
}

/* Empty blocks between two used ones that are kept in the span: reading
 * eight transparent pixels costs less than starting another span. */
#define GAP_BLOCKS 2

/* kept[b] for the row's nb blocks: used, or in a gap of at most GAP_BLOCKS
 * empty blocks between used ones. */
static void row_blocks(const uint32_t *row, int w, int nb, uint8_t *kept)
{
    int last_used = -1;

    for (int b = 0; b < nb; b++) {
        kept[b] = (uint8_t)block_used(row, b * 4, w);
        if (!kept[b])
            continue;
        if (last_used >= 0 && b - last_used - 1 <= GAP_BLOCKS)
            memset(kept + last_used + 1, 1, (size_t)(b - last_used - 1));
        last_used = b;
    }
}

dm_packed *dm_packed_new(const uint32_t *px, int w, int h, int pitch_px)
{
    dm_packed *p;
    size_t nspans = 0, npx = 0, si = 0, pi = 0;
    int nb = (w + 3) / 4;
    uint8_t *kept;

    if (w <= 0 || h <= 0 || w > 65535)
        return NULL;
    kept = malloc((size_t)nb * h);
    if (!kept)
        return NULL;
    /* which blocks each row keeps, and so how much to allocate */
    for (int y = 0; y < h; y++) {
        uint8_t *k = kept + (size_t)y * nb;
        row_blocks(px + (size_t)y * pitch_px, w, nb, k);
        for (int b = 0; b < nb; b++) {
            nspans += k[b] && (b == 0 || !k[b - 1]);
            npx += k[b] ? (size_t)(b * 4 + 4 <= w ? 4 : w - b * 4) : 0;
        }
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        free(kept);
        return NULL;
    }
    p->row = malloc(((size_t)h + 1) * sizeof *p->row);
    p->span = malloc((nspans ? nspans : 1) * sizeof *p->span);
    p->px = malloc((npx ? npx : 1) * sizeof *p->px);
    p->refs = 1;
    if (!p->row || !p->span || !p->px) {
        free(kept);
        dm_packed_unref(p);
        return NULL;
    }
    p->w = w;
    p->h = h;
    for (int y = 0; y < h; y++) {
        const uint32_t *row = px + (size_t)y * pitch_px;
        const uint8_t *k = kept + (size_t)y * nb;
        p->row[y] = (uint32_t)si;
        for (int b = 0; b < nb;) {
            int e = b, x, n;
            if (!k[b]) {
                b++;
                continue;
            }
            while (e < nb && k[e])
                e++;
            x = b * 4;
            n = (e * 4 < w ? e * 4 : w) - x;
            p->span[si].x = (uint16_t)x;
            p->span[si].n = (uint16_t)n;
            p->span[si].off = (uint32_t)pi;
            memcpy(p->px + pi, row + x, (size_t)n * sizeof *row);
            pi += (size_t)n;
            si++;
            b = e;
        }
    }
    p->row[h] = (uint32_t)si;
    p->bytes = sizeof *p + ((size_t)h + 1) * sizeof *p->row + nspans * sizeof *p->span + npx * sizeof *p->px;
    free(kept);
    return p;
}

dm_packed *dm_packed_ref(dm_packed *p)
{
    if (p)
        p->refs++;
    return p;
}

void dm_packed_unref(dm_packed *p)
{
    if (!p || --p->refs > 0)
        return;
    free(p->row);
    free(p->span);
    free(p->px);
    free(p);
}

void dm_blend_packed(uint32_t *dst, int dw, int dh, int dst_pitch_px, const dm_packed *p, int x, int y,
                     uint8_t alpha, int row_from, int row_to)
{
    int level = simd();
    int y0 = y < row_from ? row_from : y, y1 = y + p->h < row_to ? y + p->h : row_to;

    if (y0 < 0)
        y0 = 0;
    if (y1 > dh)
        y1 = dh;
    if (alpha == 0 || x >= dw || x + p->w <= 0)
        return;
    for (int r = y0; r < y1; r++) {
        uint32_t *drow = dst + (size_t)r * dst_pitch_px;
        for (uint32_t k = p->row[r - y]; k < p->row[r - y + 1]; k++) {
            const dm_packed_span *sp = &p->span[k];
            int a = x + sp->x, b = a + sp->n, skip = a < 0 ? -a : 0;
            if (b > dw)
                b = dw;
            if (a + skip >= b)
                continue;
            blend_run(level, drow + a + skip, p->px + sp->off + skip, b - a - skip, alpha);
        }
    }
}
