/* test_text.c - dm_text: measured size equals rendered size, box heights,
 * per-code-point fallback (CJK, hangul, kana, emoji), outline and pixels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fontconfig/fontconfig.h>

#include "danmaku.h"
#include "testutil.h"
#include "text.h"

#define MIXED "前方高能🎉 test 한국어 カタカナ 😀"

static const char *const samples[] = {
    "hello, world",
    "W",
    " ",
    "前方高能预警",
    "ひらがな カタカナ",
    "한국어 텍스트",
    "😀",
    "🎉🎉🎉",
    MIXED,
    "e\xCC\x8A s\xCC\x82\xCC\x83 x\xCC\x8C",               /* combining marks */
    "👨\u200D👩\u200D👧 🇨🇳 1\uFE0F\u20E3 👍🏽",          /* ZWJ, flag, keycap, skin tone */
    "第一行\nsecond line",
    "a\n\nb\n",
    "♪☆★→∀ ⚠ ⚠\uFE0F ❤",
    "مرحبا abc",
    "Ǹ ÅÉ ǅ gjpqy",                                        /* above ascent, below baseline */
    "x\xF4\x8F\xBF\xBDy\xCD\xB8z",                         /* private use, unassigned */
    "bad \xFF\xFE utf8 \xE4\xB8",                          /* malformed bytes */
    "2333333333333333333333333333333333333333333333333",
};

static const int heights[] = {34, 48, 69};

typedef struct fixture {
    dm_text *text;     /* default fonts, 2 px outline */
    dm_text *flat;     /* default fonts, no outline */
} fixture;

static int setup(void **state)
{
    char err[256];
    fixture *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    f->text = dm_text_new(NULL, 2, err, sizeof err);
    if (!f->text) {
        fprintf(stderr, "dm_text_new: %s\n", err);
        free(f);
        return -1;
    }
    f->flat = dm_text_new(NULL, 0, err, sizeof err);
    if (!f->flat) {
        fprintf(stderr, "dm_text_new: %s\n", err);
        dm_text_free(&f->text);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    dm_text_free(&f->text);
    dm_text_free(&f->flat);
    free(f);
    return 0;
}

static uint32_t pixel(const SDL_Surface *s, int x, int y)
{
    return ((const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch))[x];
}

static int count_lines(const char *s)
{
    int n = 1;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Colourful: far from any grey, which white fill over a black outline never is. */
static int is_colourful(uint32_t p)
{
    int r = (p >> 16) & 0xFF, g = (p >> 8) & 0xFF, b = p & 0xFF;
    int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
    int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);

    return (p >> 24) > 200 && mx - mn > 80;
}

static void test_measure_equals_render(void **state)
{
    fixture *f = *state;

    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        for (size_t k = 0; k < sizeof heights / sizeof heights[0]; k++) {
            dm_text *texts[2] = {f->text, f->flat};
            for (int j = 0; j < 2; j++) {
                int w = -1, h = -1;
                SDL_Surface *s;
                assert_int_equal(dm_text_measure(texts[j], samples[i], heights[k], &w, &h), 0);
                s = dm_text_render(texts[j], samples[i], heights[k], 0xFFFFFF, 0x000000, 1.0);
                assert_non_null(s);
                if (s->w != w || s->h != h)
                    fail_msg("\"%s\" at %d px: measured %dx%d, rendered %dx%d", samples[i], heights[k], w,
                             h, s->w, s->h);
                assert_int_equal(h, count_lines(samples[i]) * heights[k]);
                assert_int_equal(s->format->format, SDL_PIXELFORMAT_ARGB8888);
                SDL_FreeSurface(s);
            }
        }
    }
}

static void test_height_is_box_height(void **state)
{
    fixture *f = *state;
    int prev_pt = 0;

    for (size_t k = 0; k < sizeof heights / sizeof heights[0]; k++) {
        int w, h, pt = dm_text_point_size(f->text, heights[k]);
        assert_int_equal(dm_text_measure(f->text, "中文 Text", heights[k], &w, &h), 0);
        assert_int_equal(h, heights[k]);
        assert_true(pt > prev_pt);
        /* The glyphs must be big enough to use the box: a CJK line's ink is
         * at least half the box height. */
        assert_true(pt * 2 >= heights[k]);
        prev_pt = pt;
    }
}

static void test_errors(void **state)
{
    fixture *f = *state;
    char err[256];
    int w = 7, h = 7;

    assert_true(dm_text_measure(f->text, "", 48, &w, &h) < 0);
    assert_null(dm_text_render(f->text, "", 48, 0xFFFFFF, 0, 1.0));
    assert_true(dm_text_measure(f->text, NULL, 48, &w, &h) < 0);
    assert_true(dm_text_measure(f->text, "abc", 0, &w, &h) < 0);
    assert_true(dm_text_measure(f->text, "abc", 6, &w, &h) < 0);      /* outline eats it all */
    assert_true(dm_text_measure(f->text, "abc", DM_TEXT_MAX_HEIGHT_PX + 1, &w, &h) < 0);
    /* Only control characters: nothing to draw. */
    assert_true(dm_text_measure(f->text, "\x01\x02", 48, &w, &h) < 0);
    assert_int_equal(w, 7);

    assert_null(dm_text_new("No Such Family 12345", 2, err, sizeof err));
    assert_non_null(strstr(err, "No Such Family 12345"));
    assert_null(dm_text_new("/nonexistent/font.ttf", 2, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/font.ttf"));
    assert_null(dm_text_new(NULL, -1, err, sizeof err));
}

static void test_family_and_path(void **state)
{
    fixture *f = *state;
    char err[256];
    const char *dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    dm_text *t;
    int w, h;
    FILE *probe;

    assert_non_null(strstr(dm_text_family(f->text), "CJK"));
    t = dm_text_new(dm_text_family(f->text), 2, err, sizeof err);
    assert_non_null(t);
    assert_string_equal(dm_text_family(t), dm_text_family(f->text));
    dm_text_free(&t);
    assert_null(t);

    probe = fopen(dejavu, "rb");
    if (!probe)
        skip();
    fclose(probe);
    t = dm_text_new(dejavu, 2, err, sizeof err);
    assert_non_null(t);
    assert_string_equal(dm_text_family(t), "DejaVu Sans");
    /* DejaVu has no CJK: those code points come from a fallback font. */
    assert_int_equal(dm_text_measure(t, "DejaVu 中文", 48, &w, &h), 0);
    {
        dm_text_run_info runs[4];
        int n = dm_text_runs(t, "DejaVu 中文", 48, 0, runs, 4);
        assert_int_equal(n, 2);
        assert_string_equal(runs[0].family, "DejaVu Sans");
        assert_string_not_equal(runs[1].family, "DejaVu Sans");
    }
    dm_text_free(&t);
}

static void test_coverage(void **state)
{
    fixture *f = *state;
    size_t missing = 99;

    assert_int_equal(dm_text_coverage(f->text, MIXED, &missing), 0);
    assert_int_equal(missing, 0);
    assert_int_equal(dm_text_coverage(f->text, "e\xCC\x8A \U0001F468\u200D\U0001F469\u200D\U0001F467", &missing), 0);
    assert_int_equal(missing, 0);
    /* A private-use code point no installed font has: reported, not drawn. */
    assert_int_equal(dm_text_coverage(f->text, "a\xF4\x8F\xBF\xBD", &missing), 0);
    assert_int_equal(missing, 1);
}

static void test_mixed_runs_and_pixels(void **state)
{
    fixture *f = *state;
    dm_text_run_info runs[16];
    int n, emoji_runs = 0;
    SDL_Surface *s;

    n = dm_text_runs(f->text, MIXED, 48, 0, runs, 16);
    assert_true(n >= 3 && n <= 16);
    s = dm_text_render(f->text, MIXED, 48, 0xFFFFFF, 0x000000, 1.0);
    assert_non_null(s);
    assert_int_equal(SDL_LockSurface(s), 0);
    for (int i = 0; i < n; i++) {
        int fill = 0, colour = 0;
        assert_true(runs[i].x >= 0 && runs[i].x + runs[i].w <= s->w);
        if (i > 0)
            assert_int_equal(runs[i].x, runs[i - 1].x + runs[i - 1].w);
        for (int y = 0; y < s->h; y++) {
            for (int x = runs[i].x; x < runs[i].x + runs[i].w; x++) {
                uint32_t p = pixel(s, x, y);
                fill += p == 0xFFFFFFFFu;
                colour += is_colourful(p);
            }
        }
        if (runs[i].colour) {
            emoji_runs++;
            assert_string_equal(runs[i].family, "Noto Color Emoji");
            if (colour < 20)
                fail_msg("emoji run %d has %d colour pixels", i, colour);
        } else {
            if (fill < 20)
                fail_msg("text run %d (%s) has %d opaque fill pixels", i, runs[i].family, fill);
            assert_int_equal(colour, 0);
        }
    }
    assert_int_equal(emoji_runs, 2);
    /* Emoji are scaled to the line: as tall as a CJK glyph, give or take. */
    for (int i = 0; i < n; i++)
        if (runs[i].colour)
            assert_true(runs[i].w >= 24 && runs[i].w <= 48);
    SDL_UnlockSurface(s);
    SDL_FreeSurface(s);
}

static void test_clusters_stay_together(void **state)
{
    fixture *f = *state;
    dm_text_run_info runs[8];
    int w_man, h, w_family;

    assert_int_equal(dm_text_runs(f->text, "e\xCC\x8A", 48, 0, runs, 8), 1);
    assert_int_equal(dm_text_runs(f->text, "\U0001F468\u200D\U0001F469\u200D\U0001F467", 48, 0, runs, 8), 1);
    assert_int_equal(runs[0].colour, 1);
    /* The ZWJ sequence shapes to one glyph, not three side by side. */
    assert_int_equal(dm_text_measure(f->text, "\U0001F468", 48, &w_man, &h), 0);
    assert_int_equal(dm_text_measure(f->text, "\U0001F468\u200D\U0001F469\u200D\U0001F467", 48, &w_family, &h), 0);
    assert_true(w_family < w_man * 3 / 2);
}

/* Count pixels of outline colour (blue) and check that no opaque fill pixel
 * touches a transparent one. */
static int outline_pixels(SDL_Surface *s, int *fill_touching_transparent)
{
    int outline = 0;

    *fill_touching_transparent = 0;
    assert_int_equal(SDL_LockSurface(s), 0);
    for (int y = 0; y < s->h; y++) {
        for (int x = 0; x < s->w; x++) {
            uint32_t p = pixel(s, x, y);
            if ((p >> 24) > 128 && (p & 0xFF) > 200 && ((p >> 16) & 0xFF) < 60)
                outline++;
            if (p == 0xFFFFFFFFu) {
                static const int d[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
                for (int k = 0; k < 4; k++) {
                    int nx = x + d[k][0], ny = y + d[k][1];
                    if (nx >= 0 && ny >= 0 && nx < s->w && ny < s->h && (pixel(s, nx, ny) >> 24) == 0)
                        (*fill_touching_transparent)++;
                }
            }
        }
    }
    SDL_UnlockSurface(s);
    return outline;
}

static void test_outline(void **state)
{
    fixture *f = *state;
    SDL_Surface *s;
    int touching, outline;

    s = dm_text_render(f->text, "中文 Outline", 48, 0xFFFFFF, 0x0000FF, 1.0);
    assert_non_null(s);
    outline = outline_pixels(s, &touching);
    assert_true(outline > 100);
    assert_int_equal(touching, 0);
    SDL_FreeSurface(s);

    s = dm_text_render(f->flat, "中文 Outline", 48, 0xFFFFFF, 0x0000FF, 1.0);
    assert_non_null(s);
    outline = outline_pixels(s, &touching);
    assert_int_equal(outline, 0);
    assert_true(touching > 0);
    SDL_FreeSurface(s);
}

static void test_wider_text_measures_wider(void **state)
{
    fixture *f = *state;
    const char *grow[] = {"哈", "哈哈", "哈哈哈", "哈哈哈😀", "哈哈哈😀 ok"};
    int prev = 0, w, h, w_in, w_m;

    for (size_t i = 0; i < sizeof grow / sizeof grow[0]; i++) {
        assert_int_equal(dm_text_measure(f->text, grow[i], 48, &w, &h), 0);
        assert_true(w > prev);
        prev = w;
    }
    assert_int_equal(dm_text_measure(f->text, "iiii", 48, &w_in, &h), 0);
    assert_int_equal(dm_text_measure(f->text, "MMMM", 48, &w_m, &h), 0);
    assert_true(w_m > w_in);
    /* Bigger box, bigger text. */
    assert_int_equal(dm_text_measure(f->text, "哈哈", 69, &w, &h), 0);
    assert_true(w > 0);
    assert_int_equal(dm_text_measure(f->text, "哈哈", 34, &w_in, &h), 0);
    assert_true(w > w_in);
}

static void test_colour_and_opacity(void **state)
{
    fixture *f = *state;
    SDL_Surface *a = dm_text_render(f->text, "颜色 colour", 48, 0xFFFFFF, 0x000000, 1.0);
    SDL_Surface *b = dm_text_render(f->text, "颜色 colour", 48, 0xFF3300, 0x000000, 1.0);
    SDL_Surface *c = dm_text_render(f->text, "颜色 colour", 48, 0xFFFFFF, 0x000000, 0.5);
    int differ = 0, max_a = 0, max_c = 0;

    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(a->w, b->w);
    assert_int_equal(a->h, b->h);
    assert_int_equal(SDL_LockSurface(a), 0);
    assert_int_equal(SDL_LockSurface(b), 0);
    assert_int_equal(SDL_LockSurface(c), 0);
    for (int y = 0; y < a->h; y++) {
        for (int x = 0; x < a->w; x++) {
            uint32_t pa = pixel(a, x, y), pb = pixel(b, x, y), pc = pixel(c, x, y);
            /* Coverage does not depend on colour; the colour itself does. */
            assert_int_equal(pa >> 24, pb >> 24);
            differ += (pa & 0xFFFFFF) != (pb & 0xFFFFFF);
            if ((int)(pa >> 24) > max_a)
                max_a = (int)(pa >> 24);
            if ((int)(pc >> 24) > max_c)
                max_c = (int)(pc >> 24);
        }
    }
    assert_true(differ > 50);
    assert_int_equal(max_a, 255);
    assert_in_range(max_c, 126, 129);
    SDL_UnlockSurface(a);
    SDL_UnlockSurface(b);
    SDL_UnlockSurface(c);
    SDL_FreeSurface(a);
    SDL_FreeSurface(b);
    SDL_FreeSurface(c);
}

static void test_multiline_bands(void **state)
{
    fixture *f = *state;
    SDL_Surface *s = dm_text_render(f->text, "第一行\n\n3", 34, 0xFFFFFF, 0, 1.0);
    int band[3] = {0, 0, 0};

    assert_non_null(s);
    assert_int_equal(s->h, 3 * 34);
    assert_int_equal(SDL_LockSurface(s), 0);
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++)
            band[y / 34] += (pixel(s, x, y) >> 24) > 0;
    SDL_UnlockSurface(s);
    SDL_FreeSurface(s);
    assert_true(band[0] > 50);
    assert_int_equal(band[1], 0);
    assert_true(band[2] > 10);
}

static void test_deterministic(void **state)
{
    fixture *f = *state;
    SDL_Surface *a = dm_text_render(f->text, MIXED, 48, 0xFFFFFF, 0, 1.0);
    SDL_Surface *b;
    int w, h;

    /* Other sizes and texts in between must not change the result. */
    assert_int_equal(dm_text_measure(f->text, "別の文字列 다른", 69, &w, &h), 0);
    b = dm_text_render(f->text, MIXED, 48, 0xFFFFFF, 0, 1.0);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->w, b->w);
    assert_int_equal(a->h, b->h);
    for (int y = 0; y < a->h; y++)
        assert_memory_equal((uint8_t *)a->pixels + (size_t)y * (size_t)a->pitch,
                            (uint8_t *)b->pixels + (size_t)y * (size_t)b->pitch, (size_t)a->w * 4);
    SDL_FreeSurface(a);
    SDL_FreeSurface(b);
}

/*
 * Widths computed without SDL_ttf's glyph cache are SDL_ttf's own: over
 * thousands of random texts in many scripts (CJK, kana, Hangul, Latin with
 * kerning pairs, Cyrillic, Arabic and Hebrew right to left, Devanagari and
 * Thai, combining marks, an ideographic variation sequence, joiners, emoji),
 * at every size class and odd sizes, every run's width equals
 * TTF_SizeUTF8's, the second time (remembered runs and pieces) too.
 */
static void test_fast_widths_are_sdl_ttf_widths(void **state)
{
    static const char *const pieces[] = {
        "前", "方", "高", "能", "弹", "幕", "あ", "カ", "ー", "한", "국", "A", "V", "W", "a", "y", "f", "i",
        "To", "AV", "Ty", " ", "1", ".", "!", "?", "Ж", "я", "مرحبا", "שלום", "नमस्ते", "สวัสดี", "e\xCC\x81",
        "\xE2\x80\x94", "\xEF\xBC\x81", "\xF0\x9F\x98\x80", "\xE2\x99\xAA", "\xE3\x80\x8C",
        /* longer words, which runs measured in pieces split between the glyphs no lookup looks at */
        "この場面の演出", "が本当に素晴らしい、", "ここ好き", "かわいい", "The light", " lol", "Кто здесь?", "이 장면은",
        "全体起立！！！", "前方高能", "8888", "ｗｗｗ", "「神回」", "A\xCC\x8A", "\xE8\x91\x9B\xF3\xA0\x84\x80",
        "\xE2\x80\x8D", "\xE3\x80\x80",
    };
    static const int odd_heights[] = { 20, 34, 48, 69, 96, 157 };
    fixture *f = *state;
    unsigned seed = 99;
    uint64_t checks = 0, mismatches = 0;
    char text[512];

    dm_text_check_widths(f->text, 1);
    /* twice over: the second pass answers shaped runs from the run memo */
    for (int k = 0; k < 6000; k++) {
        int len, w, h;
        size_t o = 0;
        if (k == 3000)
            seed = 99;
        len = 1 + (int)(rand_r(&seed) % 24);
        for (int i = 0; i < len; i++) {
            const char *p = pieces[rand_r(&seed) % (sizeof pieces / sizeof pieces[0])];
            size_t l = strlen(p);
            if (o + l + 1 >= sizeof text)
                break;
            memcpy(text + o, p, l);
            o += l;
        }
        text[o] = 0;
        if (dm_text_measure(f->text, text, odd_heights[rand_r(&seed) % 6], &w, &h) < 0)
            continue;   /* nothing drawable (a lone combining mark) */
    }
    dm_text_check_widths(f->text, 0);
    dm_text_width_checks(f->text, &checks, &mismatches);
    print_message("widths: %llu runs measured both ways, %llu differ\n", (unsigned long long)checks,
                  (unsigned long long)mismatches);
    assert_true(checks > 6000);
    assert_int_equal(mismatches, 0);
}

/*
 * Remembered run widths (shaped runs, and the emoji runs SDL_ttf measures)
 * are the widths measured afresh: texts sharing runs measured on one
 * dm_text, the same texts on another that checks every width against
 * TTF_SizeUTF8 and remembers none of SDL_ttf's.
 */
static void test_remembered_widths_are_measured_widths(void **state)
{
    static const char *const pieces[] = {
        "\xF0\x9F\x98\x82", "\xF0\x9F\x8E\x89", "\xF0\x9F\x91\x8D", "مرحبا", "สวัสดี", "あり", "がと", "AV", "To",
        "草", "w", "6", " ", "Привет", "ㅋ",
    };
    static const int height_px[] = { 34, 48, 69 };
    fixture *f = *state;
    char err[256], text[256];
    dm_text *fresh = dm_text_new(NULL, 2, err, sizeof err);
    unsigned seed = 7;
    int compared = 0;

    assert_non_null(fresh);
    dm_text_check_widths(fresh, 1);
    for (int k = 0; k < 1500; k++) {
        int len = 1 + (int)(rand_r(&seed) % 5), w1, h1, w2, h2, r1, r2, height;
        size_t o = 0;
        for (int i = 0; i < len; i++) {
            const char *p = pieces[rand_r(&seed) % (sizeof pieces / sizeof pieces[0])];
            size_t l = strlen(p);
            memcpy(text + o, p, l);
            o += l;
        }
        text[o] = 0;
        height = height_px[rand_r(&seed) % 3];
        r1 = dm_text_measure(f->text, text, height, &w1, &h1);
        r2 = dm_text_measure(fresh, text, height, &w2, &h2);
        assert_int_equal(r1, r2);
        if (r1 < 0)
            continue;
        assert_int_equal(w1, w2);
        assert_int_equal(h1, h2);
        compared++;
    }
    dm_text_free(&fresh);
    assert_true(compared > 1000);
}

/* The family fontconfig's sorted list for a pattern of just `cp` gives first among the fonts that have it. */
static int sorted_family(uint32_t cp, char *out, size_t cap)
{
    FcPattern *pat = FcPatternCreate();
    FcCharSet *cs = FcCharSetCreate();
    FcFontSet *set = NULL;
    FcResult res;
    int found = 0;

    assert_non_null(pat);
    assert_non_null(cs);
    assert_true(FcCharSetAddChar(cs, cp) && FcPatternAddCharSet(pat, FC_CHARSET, cs));
    FcCharSetDestroy(cs);
    assert_true(FcConfigSubstitute(NULL, pat, FcMatchPattern));
    FcDefaultSubstitute(pat);
    set = FcFontSort(NULL, pat, FcTrue, NULL, &res);
    for (int i = 0; set && i < set->nfont && !found; i++) {
        FcCharSet *fcs = NULL;
        FcPattern *full;
        FcChar8 *family = NULL;
        if (FcPatternGetCharSet(set->fonts[i], FC_CHARSET, 0, &fcs) != FcResultMatch || !FcCharSetHasChar(fcs, cp))
            continue;
        full = FcFontRenderPrepare(NULL, pat, set->fonts[i]);
        assert_non_null(full);
        if (FcPatternGetString(full, FC_FAMILY, 0, &family) == FcResultMatch) {
            snprintf(out, cap, "%s", (const char *)family);
            found = 1;
        }
        FcPatternDestroy(full);
    }
    if (set)
        FcFontSetDestroy(set);
    FcPatternDestroy(pat);
    return found;
}

/*
 * A code point the primary font lacks is drawn with the first font of
 * fontconfig's sorted list that has it (what the fallback asks fontconfig's
 * best match for first), over scripts and symbol blocks that need other
 * fonts.
 */
static void test_fallback_is_fontconfigs_first(void **state)
{
    static const uint32_t cps[] = {
        0x0E01, 0x0915, 0x05D0, 0x0628, 0x0531, 0x10D0, 0x1200, 0x0B85, 0x0985, 0x1780, 0x0D85, 0x1000, 0x0F40,
        0x13A0, 0x222E, 0x2386, 0x26D9, 0x27D6, 0x2801, 0x16A0, 0x1681, 0x10330, 0x10000, 0x13000,
        0x12000, 0x1D11E, 0x1D400, 0x1F063, 0x2654, 0x1F701, 0x0A85, 0x0C05, 0x0C85, 0x0D05, 0x0B05, 0x0A05,
    };
    fixture *f = *state;
    int compared = 0;

    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        char utf8[8] = { 0 }, want[256];
        dm_text_run_info run;
        int w, h;
        uint32_t cp = cps[i];
        if (cp < 0x800) {
            utf8[0] = (char)(0xC0 | cp >> 6);
            utf8[1] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            utf8[0] = (char)(0xE0 | cp >> 12);
            utf8[1] = (char)(0x80 | (cp >> 6 & 0x3F));
            utf8[2] = (char)(0x80 | (cp & 0x3F));
        } else {
            utf8[0] = (char)(0xF0 | cp >> 18);
            utf8[1] = (char)(0x80 | (cp >> 12 & 0x3F));
            utf8[2] = (char)(0x80 | (cp >> 6 & 0x3F));
            utf8[3] = (char)(0x80 | (cp & 0x3F));
        }
        if (dm_text_measure(f->text, utf8, 48, &w, &h) < 0 || dm_text_runs(f->text, utf8, 48, 0, &run, 1) != 1)
            continue;   /* no installed font has it */
        if (!strcmp(run.family, dm_text_family(f->text)))
            continue;   /* the primary font has it */
        assert_true(sorted_family(cp, want, sizeof want));
        if (strcmp(run.family, want))
            fail_msg("U+%04X: drawn with %s, fontconfig's sorted list starts with %s", (unsigned)cp, run.family, want);
        compared++;
    }
    print_message("fallbacks: %d code points, each with fontconfig's first font that has it\n", compared);
    assert_true(compared >= 15);
}

static void count_warning(void *ud, const char *msg)
{
    (void)msg;
    (*(int *)ud)++;
}


/*
 * A clone measures as its original, and a scene that measures ahead on
 * helper threads with clones lays a track in many scripts out exactly as
 * one that measures everything on its own thread, first and on each resize
 * (until the helpers have measured some of it). A clone's warnings are its
 * original's, said once among them, and its width checks count there.
 */
static void test_clones_measure_as_the_original(void **state)
{
    static const char *const pieces[] = {
        "前", "方", "高", "能", "弹", "幕", "あ", "カ", "한", "국", "A", "V", "W", "a", "y", " ", "1", "!", "Ж",
        "مرحبا", "שלום", "नमस्ते", "สวัสดี", "😀", "🎉", "ここ好き", "The light", "8888",
    };
    static const struct { int w, h, font_px; } stages[] = { { 1280, 720, 32 }, { 1920, 1080, 48 }, { 960, 540, 0 } };
    fixture *f = *state;
    char err[256], text[256];
    dm_text *t2 = dm_text_new(NULL, 2, err, sizeof err), *clone;
    dm_scene_opts one = { .layout = DM_LAYOUT_OPTS_DEFAULT, .measure = dm_text_measure, .measure_ud = f->text };
    dm_scene_opts many = one;
    dm_scene *a, *b;
    dm_track track;
    unsigned seed = 5;
    uint64_t ahead = 0, here = 0, checks = 0, mismatches = 0;
    int warnings = 0, w, h, w2, h2, rounds = 0;
    char *da, *db;

    assert_non_null(t2);
    many.measure_ud = t2;
    many.measure_clone = dm_text_measure_clone;
    many.measure_clone_free = dm_text_measure_clone_free;
    many.measure_threads = 2;   /* even on one processor */
    dm_track_init(&track);
    for (int i = 0; i < 3000; i++) {
        dm_comment c = { .t_ms = i * 40, .mode = i % 7 == 0 ? DM_MODE_TOP : DM_MODE_SCROLL,
                         .size = (dm_size)(i % 3), .color = 0xFFFFFF, .weight = -1, .text = text };
        int len = 1 + (int)(rand_r(&seed) % (i % 20 == 0 ? 60 : 12));
        size_t o = 0;
        for (int k = 0; k < len; k++) {
            const char *p = pieces[rand_r(&seed) % (sizeof pieces / sizeof pieces[0])];
            if (o + strlen(p) + 1 >= sizeof text)
                break;
            memcpy(text + o, p, strlen(p));
            o += strlen(p);
        }
        text[o] = 0;
        assert_int_equal(dm_track_push(&track, &c), 0);
    }
    a = dm_scene_new(&one, NULL);
    b = dm_scene_new(&many, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(dm_scene_add_track(a, &track), 0);
    assert_int_equal(dm_scene_add_track(b, &track), 0);
    assert_int_equal(dm_scene_layout(a, NULL), 0);
    assert_int_equal(dm_scene_layout(b, NULL), 0);
    for (;;) {
        da = dm_test_scene_dump(a);
        db = dm_test_scene_dump(b);
        assert_non_null(da);
        assert_non_null(db);
        assert_string_equal(da, db);
        free(da);
        free(db);
        dm_scene_measure_counts(b, &ahead, &here);
        if ((ahead > 0 && rounds >= 2) || rounds == 12)
            break;
        {
            dm_layout_opts lo = dm_layout_opts_for_stage(&one.layout, stages[rounds % 3].w, stages[rounds % 3].h,
                                                         stages[rounds % 3].font_px);
            assert_int_equal(dm_scene_set_layout(a, &lo, NULL), 0);
            assert_int_equal(dm_scene_set_layout(b, &lo, NULL), 0);
        }
        rounds++;
    }
    print_message("clones: %llu comments measured ahead, %llu on the scene's thread, %d resizes\n",
                  (unsigned long long)ahead, (unsigned long long)here, rounds);
    assert_true(ahead > 0);
    dm_scene_free(&a);
    dm_scene_free(&b);
    dm_track_clear(&track);

    /* warnings and width checks */
    dm_text_set_warn(t2, count_warning, &warnings);
    dm_text_check_widths(t2, 1);
    clone = dm_text_clone(t2, err, sizeof err);
    assert_non_null(clone);
    assert_int_equal(dm_text_measure(clone, "x\xF4\x8F\xBF\xBDy " MIXED, 48, &w, &h), 0);
    assert_int_equal(dm_text_measure(t2, "x\xF4\x8F\xBF\xBDy " MIXED, 48, &w2, &h2), 0);
    assert_int_equal(w, w2);
    assert_int_equal(h, h2);
    assert_int_equal(warnings, 1);
    (void)dm_text_measure(clone, "\xF4\x8F\xBF\xBC", 48, &w, &h);   /* another code point: one more */
    assert_int_equal(warnings, 2);
    dm_text_width_checks(t2, &checks, &mismatches);
    assert_true(checks > 0);
    assert_int_equal(mismatches, 0);
    dm_text_free(&clone);
    dm_text_free(&t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measure_equals_render),
        cmocka_unit_test(test_fallback_is_fontconfigs_first),
        cmocka_unit_test(test_height_is_box_height),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_family_and_path),
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_mixed_runs_and_pixels),
        cmocka_unit_test(test_clusters_stay_together),
        cmocka_unit_test(test_outline),
        cmocka_unit_test(test_wider_text_measures_wider),
        cmocka_unit_test(test_colour_and_opacity),
        cmocka_unit_test(test_multiline_bands),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_fast_widths_are_sdl_ttf_widths),
        cmocka_unit_test(test_remembered_widths_are_measured_widths),
        cmocka_unit_test(test_clones_measure_as_the_original),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
