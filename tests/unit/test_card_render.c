/*
 * test_card_render.c - the one drawing of a live card (dm_text_render_card),
 * which the player's stage and burn-in both use: exactly the box the layout
 * gave it (dm_card_box with the real fonts), the price tier's colours in its
 * bands, its lines inside them, and rounded corners.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "danmaku.h"
#include "text.h"

static dm_text *text;

static int setup(void **state)
{
    char err[256];

    (void)state;
    text = dm_text_new(NULL, 2, err, sizeof err);
    if (!text)
        fprintf(stderr, "dm_text_new: %s\n", err);
    return text ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    dm_text_free(&text);
    return 0;
}

static uint32_t pixel(SDL_Surface *s, int x, int y)
{
    return ((uint32_t *)((uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch))[x];
}

/* How many pixels of the row [x0, x1) differ from the band's colour: text drawn there. */
static int inked(SDL_Surface *s, int y, int x0, int x1, uint32_t band)
{
    int n = 0;

    for (int x = x0; x < x1; x++)
        n += (pixel(s, x, y) & 0xFFFFFF) != band;
    return n;
}

static void test_superchat_card(void **state)
{
    dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
    dm_card_metrics m = dm_card_metrics_for(&lo);
    dm_comment c = { .kind = DM_KIND_SUPERCHAT, .mode = DM_MODE_POSITIONED, .price = 100,
                     .sender = (char *)"土豪", .text = (char *)"加油" };
    const char *shown = "土豪  \xC2\xA5" "100\n加油\n第二行";
    dm_card_colors col = dm_card_colors_for(DM_KIND_SUPERCHAT, 100);
    SDL_Surface *s;
    int w, h, band = m.line_px + 2 * m.pad_y, header_ink = 0, body_ink = 0;

    (void)state;
    assert_int_equal(dm_card_box(&lo, &c, shown, dm_text_measure, text, &w, &h), 0);
    assert_int_equal(w, m.width);
    assert_int_equal(h, band + 2 * m.line_px + 2 * m.pad_y);
    s = dm_text_render_card(text, &c, shown, &lo, 1.0);
    assert_non_null(s);
    assert_int_equal(s->w, w);
    assert_int_equal(s->h, h);
    assert_int_equal(SDL_LockSurface(s), 0);
    /* the bands: the tier's header colour, then its message colour, opaque */
    assert_int_equal(pixel(s, w - 2, band / 2), 0xFF000000u | col.header);
    assert_int_equal(pixel(s, w - 2, band + m.pad_y / 2 + 1), 0xFF000000u | col.body);
    assert_int_equal(pixel(s, w / 2, h - 2), 0xFF000000u | col.body);
    /* a rounded corner is transparent */
    assert_int_equal(pixel(s, 0, 0) >> 24, 0);
    assert_int_equal(pixel(s, w - 1, h - 1) >> 24, 0);
    /* the text is drawn in its bands, left, inside the padding */
    for (int y = m.pad_y; y < band - m.pad_y; y++)
        header_ink += inked(s, y, m.pad_x, w / 2, col.header);
    for (int y = band + m.pad_y; y < h - m.pad_y; y++)
        body_ink += inked(s, y, m.pad_x, w / 2, col.body);
    assert_true(header_ink > 50);
    assert_true(body_ink > 50);
    assert_int_equal(inked(s, band / 2, w - m.pad_x, w, col.header), 0);   /* short text: the right stays clear */
    SDL_UnlockSurface(s);
    SDL_FreeSurface(s);
    /* half opacity halves every pixel's alpha */
    s = dm_text_render_card(text, &c, shown, &lo, 0.5);
    assert_non_null(s);
    SDL_LockSurface(s);
    assert_in_range(pixel(s, w - 2, band / 2) >> 24, 126, 129);
    SDL_UnlockSurface(s);
    SDL_FreeSurface(s);
}

static void test_gift_line(void **state)
{
    dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
    dm_card_metrics m = dm_card_metrics_for(&lo);
    dm_comment c = { .kind = DM_KIND_GIFT, .mode = DM_MODE_POSITIONED, .quantity = 5, .sender = (char *)"某人",
                     .text = (char *)"辣条" };
    const char *shown = "某人 赠送 辣条 \xC3\x97" "5";
    SDL_Surface *s;
    int w, h, tw, th;

    (void)state;
    assert_int_equal(dm_text_measure(text, shown, m.line_px, &tw, &th), 0);
    assert_int_equal(dm_card_box(&lo, &c, shown, dm_text_measure, text, &w, &h), 0);
    assert_int_equal(w, tw + 2 * m.pad_x);   /* as wide as its text */
    assert_int_equal(h, m.line_px + 2 * m.pad_y);
    s = dm_text_render_card(text, &c, shown, &lo, 1.0);
    assert_non_null(s);
    assert_int_equal(s->w, w);
    assert_int_equal(s->h, h);
    SDL_FreeSurface(s);
    /* an empty gift line cannot be drawn: an error, not a crash */
    c.text = (char *)"";
    assert_null(dm_text_render_card(text, &c, "", &lo, 1.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_superchat_card),
        cmocka_unit_test(test_gift_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
