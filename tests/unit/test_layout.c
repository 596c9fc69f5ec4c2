/*
 * test_layout.c - the layout engine: the exact lane rule, stacking, policies,
 * determinism, filters, merging, and a property test over thousands of
 * random tracks checked by an overlap test written here independently of the
 * engine's own arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "danmaku.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

static void push(dm_track *t, int64_t ms, dm_mode mode, dm_size size, const char *text)
{
    dm_comment c = { 0 };

    c.t_ms = ms;
    c.mode = mode;
    c.size = size;
    c.color = 0xFFFFFF;
    c.text = (char *)text;
    c.weight = -1;
    assert_int_equal(dm_track_push(t, &c), 0);
}

static dm_layout_opts opts_default(void)
{
    dm_layout_opts o = DM_LAYOUT_OPTS_DEFAULT;
    return o;
}

/* ---------------------------------------------------------------- tests */

static void test_two_at_once_take_two_lanes(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *p = NULL;

    (void)state;
    dm_track_init(&t);
    push(&t, 1000, DM_MODE_SCROLL, DM_SIZE_NORMAL, "first comment");
    push(&t, 1000, DM_MODE_SCROLL, DM_SIZE_NORMAL, "second comment");
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
    assert_true(p[0].shown && p[1].shown);
    assert_int_equal(p[0].y, 0);
    assert_true(p[1].y >= p[0].y + p[0].h);
    assert_int_equal(p[0].start_ms, 1000);
    assert_int_equal(p[0].x_start, 1920);
    assert_int_equal(p[0].x_end, -p[0].w);
    assert_int_equal(p[0].end_ms - p[0].start_ms, o.scroll_ms);
    free(p);
    dm_track_clear(&t);
}

/*
 * A short comment followed by a long (faster) one: the exact catch-up rule
 * must hold the long one back until its head can no longer reach the short
 * one's tail, and not one millisecond longer than needed (+1 for rounding).
 */
static void test_catch_up_is_exact(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *p = NULL;
    const char *longtext = "this is a much much longer comment that moves fast across the stage";
    int ws, wl, h;
    double need;

    (void)state;
    o.stage_h = 48;   /* one lane only */
    o.max_delay_ms = 20000;
    dm_track_init(&t);
    push(&t, 0, DM_MODE_SCROLL, DM_SIZE_NORMAL, "hi");
    push(&t, 100, DM_MODE_SCROLL, DM_SIZE_NORMAL, longtext);
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
    dm_test_measure(NULL, "hi", 48, &ws, &h);
    dm_test_measure(NULL, longtext, 48, &wl, &h);
    /* head of the long one at t = scroll_ms must still be >= gap */
    need = o.scroll_ms * (double)(wl + dm_layout_gap_px(&o)) / (o.stage_w + wl);
    assert_true(p[1].shown);
    assert_int_equal(p[1].y, 0);
    assert_true(p[1].start_ms >= need);
    assert_true(p[1].start_ms <= need + 2);
    assert_int_equal(dm_test_count_overlaps(p, 2), 0);
    free(p);
    dm_track_clear(&t);
}

static void test_top_and_bottom_stack(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *p = NULL;

    (void)state;
    dm_track_init(&t);
    push(&t, 0, DM_MODE_TOP, DM_SIZE_NORMAL, "top one");
    push(&t, 0, DM_MODE_TOP, DM_SIZE_NORMAL, "top two");
    push(&t, 0, DM_MODE_BOTTOM, DM_SIZE_NORMAL, "bottom one");
    push(&t, 0, DM_MODE_BOTTOM, DM_SIZE_NORMAL, "bottom two");
    push(&t, 5000, DM_MODE_TOP, DM_SIZE_NORMAL, "top again");
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
    assert_int_equal(p[0].y, 0);
    assert_true(p[1].y >= p[0].h);
    assert_int_equal(p[2].y + p[2].h, o.stage_h);
    assert_true(p[3].y + p[3].h <= p[2].y);
    assert_int_equal(p[4].y, 0);               /* the top freed after fixed_ms */
    assert_int_equal(p[0].x_start, p[0].x_end);
    assert_int_equal(p[0].x_start, (o.stage_w - p[0].w) / 2);
    assert_int_equal(p[0].end_ms, o.fixed_ms);
    free(p);
    dm_track_clear(&t);
}

static void test_reverse_moves_left_to_right(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *p = NULL;

    (void)state;
    dm_track_init(&t);
    push(&t, 0, DM_MODE_REVERSE, DM_SIZE_NORMAL, "reverse");
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
    assert_true(p[0].shown);
    assert_int_equal(p[0].x_start, -p[0].w);
    assert_int_equal(p[0].x_end, o.stage_w);
    free(p);
    dm_track_clear(&t);
}

static void test_policies_on_a_full_stage(void **state)
{
    dm_layout_opts o = opts_default();
    dm_track t;

    (void)state;
    o.stage_h = 96;   /* two lanes */
    dm_track_init(&t);
    for (int i = 0; i < 6; i++)
        push(&t, 0, DM_MODE_SCROLL, DM_SIZE_NORMAL, "same time");
    for (int policy = 0; policy < 3; policy++) {
        dm_placed *p = NULL;
        int shown = 0, delayed = 0, layer1 = 0;
        o.overflow = (dm_overflow)policy;
        assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
        for (int i = 0; i < 6; i++) {
            shown += p[i].shown;
            delayed += p[i].shown && p[i].start_ms > 0;
            layer1 += p[i].shown && p[i].layer == 1;
            if (!p[i].shown)
                assert_int_equal(p[i].reason, DM_REASON_NO_LANE);
            else
                assert_true(p[i].start_ms - t.items[i].t_ms <= o.max_delay_ms);
        }
        if (o.overflow == DM_OVERFLOW_DROP) {
            assert_int_equal(shown, 2);
            assert_int_equal(delayed, 0);
        } else if (o.overflow == DM_OVERFLOW_OVERLAY) {
            assert_int_equal(shown, 4);
            assert_int_equal(layer1, 2);
            assert_int_equal(delayed, 0);
        } else {
            assert_true(shown > 2);
            assert_int_equal(delayed, shown - 2);
        }
        assert_int_equal(dm_test_count_overlaps(p, 6), 0);
        free(p);
    }
    dm_track_clear(&t);
}

static void test_filters_and_invalid(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *p = NULL;
    dm_filter *f = dm_filter_new();
    dm_diag diag = { 0 };

    (void)state;
    assert_non_null(f);
    assert_int_equal(dm_filter_add_keyword(f, "spam"), 0);
    assert_int_equal(dm_filter_add_regex(f, "^buy\\s+now", &diag), 0);
    assert_int_equal(dm_filter_add_user(f, "troll42"), 0);
    assert_int_not_equal(dm_filter_add_regex(f, "(unclosed", &diag), 0);
    assert_non_null(strstr(diag.error, "offset"));
    dm_track_init(&t);
    push(&t, 0, DM_MODE_SCROLL, DM_SIZE_NORMAL, "ＳＰＡＭ here");      /* full-width */
    push(&t, 0, DM_MODE_SCROLL, DM_SIZE_NORMAL, "Buy   now cheap");
    push(&t, 0, DM_MODE_SCROLL, DM_SIZE_NORMAL, "fine comment");
    push(&t, 0, DM_MODE_SCROLL, DM_SIZE_NORMAL, "also fine");
    t.items[3].author = strdup("troll42");
    push(&t, -5, DM_MODE_SCROLL, DM_SIZE_NORMAL, "negative time");
    push(&t, 0, DM_MODE_SCROLL, DM_SIZE_NORMAL, "s p a m with spaces");
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, f, &p, NULL, NULL), 0);
    assert_int_equal(p[0].reason, DM_REASON_FILTERED);
    assert_int_equal(p[1].reason, DM_REASON_FILTERED);
    assert_true(p[2].shown);
    assert_int_equal(p[3].reason, DM_REASON_FILTERED);
    assert_int_equal(p[4].reason, DM_REASON_INVALID);
    assert_int_equal(p[5].reason, DM_REASON_FILTERED);
    free(p);
    dm_track_clear(&t);
    dm_filter_free(&f);
    assert_null(f);
}

static void test_merge_duplicates(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *p = NULL;
    char **texts = NULL;

    (void)state;
    o.merge_window_ms = 5000;
    dm_track_init(&t);
    push(&t, 0, DM_MODE_SCROLL, DM_SIZE_NORMAL, "233");
    push(&t, 100, DM_MODE_SCROLL, DM_SIZE_NORMAL, "２３３");   /* full-width digits */
    push(&t, 200, DM_MODE_SCROLL, DM_SIZE_NORMAL, "233 ");
    push(&t, 6000, DM_MODE_SCROLL, DM_SIZE_NORMAL, "233");     /* outside the window */
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, &texts, NULL), 0);
    assert_true(p[0].shown);
    assert_string_equal(texts[0], "233 \xC3\x97" "3");
    assert_int_equal(p[1].reason, DM_REASON_DUPLICATE);
    assert_int_equal(p[2].reason, DM_REASON_DUPLICATE);
    assert_true(p[3].shown);
    assert_null(texts[3]);
    dm_texts_free(texts, t.count);
    free(p);
    dm_track_clear(&t);
}

static void test_density_cap(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *p = NULL;
    int shown = 0;

    (void)state;
    o.density_cap = 3;
    dm_track_init(&t);
    for (int i = 0; i < 10; i++)
        push(&t, i * 10, DM_MODE_SCROLL, DM_SIZE_SMALL, "x");
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
    for (int i = 0; i < 10; i++) {
        shown += p[i].shown;
        if (!p[i].shown)
            assert_int_equal(p[i].reason, DM_REASON_DENSITY);
    }
    assert_int_equal(shown, 3);
    free(p);
    dm_track_clear(&t);
}

static void test_positioned_and_unsupported(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *p = NULL;
    dm_positioned pos = { .x0 = 0.5, .y0 = 0.25, .x1 = 0.1, .y1 = 0.25, .alpha0 = 1, .alpha1 = 0,
                          .life_ms = 3000, .move_ms = 1000, .move_delay_ms = 500 };
    dm_timeline *tl;
    dm_visible v[4];
    size_t n;

    (void)state;
    dm_track_init(&t);
    push(&t, 1000, DM_MODE_POSITIONED, DM_SIZE_NORMAL, "placed");
    t.items[0].pos = malloc(sizeof pos);
    *t.items[0].pos = pos;
    push(&t, 1000, DM_MODE_SCROLL, DM_SIZE_NORMAL, "script");
    t.items[1].bili_mode = 8;
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
    assert_true(p[0].shown);
    assert_int_equal(p[0].x_start, 960);
    assert_int_equal(p[0].y, 270);
    assert_int_equal(p[0].end_ms, 4000);
    assert_int_equal(p[0].x_end, 192);
    assert_int_equal(p[1].reason, DM_REASON_UNSUPPORTED);
    tl = dm_timeline_new(&o);
    assert_int_equal(dm_timeline_insert(tl, 0, &p[0], t.items[0].pos), 0);
    n = dm_timeline_query(tl, 1000 + 500 + 500, v, 4, NULL);   /* half way through the motion */
    assert_int_equal(n, 1);
    assert_float_equal(v[0].x, (0.5 + (0.1 - 0.5) * 0.5) * 1920, 0.01);
    assert_float_equal(v[0].alpha, 1.0 - 1000.0 / 3000.0, 0.001);
    dm_timeline_free(&tl);
    free(p);
    dm_track_clear(&t);
}

/* Random text of 1..maxlen code points mixing scripts. */
static void random_text(char *buf, size_t cap, int maxlen, unsigned *seed)
{
    static const char *const pieces[] = { "a", "W", "1", " ", "草", "前", "あ", "한", "😀", "!" };
    int len = 1 + (int)(rand_r(seed) % (unsigned)maxlen);
    size_t o = 0;

    buf[0] = 0;
    for (int i = 0; i < len; i++) {
        const char *s = pieces[rand_r(seed) % 10];
        size_t l = strlen(s);
        if (o + l + 1 >= cap)
            break;
        memcpy(buf + o, s, l);
        o += l;
    }
    if (o == 0 || buf[0] == ' ')
        buf[o++] = 'x';
    buf[o] = 0;
}

/*
 * Property: thousands of random tracks (bursts, quiet spells, long and short
 * texts, every mode and size), under every policy: no overlap within a layer,
 * every comment accounted for (shown, or not shown with a reason), delays
 * within the limit, and drop never delays.
 */
static void test_property_random_tracks(void **state)
{
    unsigned seed = 20261123;
    const int tracks = 2000;
    long total = 0, shown_total = 0;

    (void)state;
    for (int k = 0; k < tracks; k++) {
        dm_track t;
        dm_layout_opts o = opts_default();
        int n = 20 + (int)(rand_r(&seed) % 120);
        int64_t ms = 0;
        char text[256];

        o.stage_w = 320 + (int)(rand_r(&seed) % 1600);
        o.stage_h = 120 + (int)(rand_r(&seed) % 960);
        o.font_px = 16 + (int)(rand_r(&seed) % 48);
        if (o.font_px * 2 > o.stage_h)
            o.font_px = o.stage_h / 2;
        o.scroll_ms = 2000 + (int)(rand_r(&seed) % 10000);
        o.fixed_ms = 1000 + (int)(rand_r(&seed) % 5000);
        o.min_gap_px = (int)(rand_r(&seed) % 21) - 1;   /* -1: the default, font_px / 3 */
        o.line_gap_px = (int)(rand_r(&seed) % 4);
        o.area = 0.25 + (rand_r(&seed) % 76) / 100.0;
        o.max_delay_ms = (int)(rand_r(&seed) % 6000);
        dm_track_init(&t);
        for (int i = 0; i < n; i++) {
            unsigned r = rand_r(&seed) % 100;
            dm_mode mode = r < 60 ? DM_MODE_SCROLL : r < 70 ? DM_MODE_REVERSE : r < 82 ? DM_MODE_TOP
                                                    : r < 94 ? DM_MODE_BOTTOM : DM_MODE_POSITIONED;
            /* bursts: often many comments within a few ms */
            ms += rand_r(&seed) % 4 == 0 ? rand_r(&seed) % 3000 : rand_r(&seed) % 40;
            random_text(text, sizeof text, rand_r(&seed) % 5 == 0 ? 60 : 12, &seed);
            push(&t, ms, mode, (dm_size)(rand_r(&seed) % 3), text);
            if (mode == DM_MODE_POSITIONED) {
                dm_positioned *pos = calloc(1, sizeof *pos);
                pos->x0 = 0.1;
                pos->y0 = 0.2;
                pos->x1 = 0.9;
                pos->y1 = 0.2;
                pos->alpha0 = pos->alpha1 = 1;
                pos->life_ms = 2000;
                t.items[t.count - 1].pos = pos;
            }
        }
        for (int policy = 0; policy < 3; policy++) {
            dm_placed *p = NULL;
            o.overflow = (dm_overflow)policy;
            assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
            for (int i = 0; i < n; i++) {
                if (p[i].shown) {
                    int64_t delay = p[i].start_ms - t.items[i].t_ms;
                    assert_true(delay >= 0);
                    assert_true(delay <= (policy == DM_OVERFLOW_DELAY ? o.max_delay_ms : 0));
                    assert_true(p[i].end_ms > p[i].start_ms);
                    if (p[i].mode != DM_MODE_POSITIONED) {
                        assert_true(p[i].y >= 0);
                        assert_true(p[i].y + p[i].h <= (int)floor(o.area * o.stage_h));
                    }
                    shown_total++;
                } else {
                    assert_int_not_equal(p[i].reason, DM_REASON_NONE);
                }
                assert_int_equal(p[i].mode, t.items[i].mode);
            }
            total += n;
            if (dm_test_count_overlaps(p, (size_t)n) != 0) {
                fail_msg("track %d policy %s: overlap", k, dm_overflow_name(o.overflow));
            }
            free(p);
        }
        dm_track_clear(&t);
    }
    print_message("property: %ld comments laid out, %.1f %% shown, no overlap\n", total,
                  100.0 * shown_total / total);
}

/* The track this test case runs on (its state: "real:FILE" or "gen:FILE"); skips when it is not there. */
static void load_case_track(void **state, dm_track *t)
{
    const char *path = dm_test_suite_track(*state);
    dm_diag diag = { 0 };

    if (!path)
        skip();
    dm_track_init(t);
    assert_int_equal(dm_read_file(t, path, DM_FORMAT_UNKNOWN, &diag), 0);
    assert_true(t->count > 500);
}

/* Same input and settings: the same placements, byte for byte. */
static void test_deterministic_on_a_track(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *a = NULL, *b = NULL;

    load_case_track(state, &t);
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &a, NULL, NULL), 0);
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &b, NULL, NULL), 0);
    assert_memory_equal(a, b, t.count * sizeof *a);
    assert_int_equal(dm_test_count_overlaps(a, t.count), 0);
    free(a);
    free(b);
    dm_track_clear(&t);
}

/* The timeline answers exactly what a full scan would, whatever was asked before. */
static void test_timeline_matches_full_scan(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *p = NULL;
    dm_timeline *tl = dm_timeline_new(&o), *fresh;
    dm_visible *v = malloc(4096 * sizeof *v), *w = malloc(4096 * sizeof *w);
    int changed;

    load_case_track(state, &t);
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
    for (size_t i = 0; i < t.count; i++)
        assert_int_equal(dm_timeline_insert(tl, (uint32_t)i, &p[i], t.items[i].pos), 0);
    for (int64_t ms = 0; ms < 200000; ms += 777) {
        size_t n = dm_timeline_query(tl, ms, v, 4096, &changed), k = 0;
        for (size_t i = 0; i < t.count; i++) {
            if (!p[i].shown || p[i].start_ms > ms || p[i].end_ms <= ms)
                continue;
            assert_true(k < n);
            assert_int_equal(v[k].index, i);
            if (p[i].mode != DM_MODE_POSITIONED) {
                assert_float_equal(v[k].x, dm_placed_x_at(&p[i], ms), 0.01);
                assert_float_equal(v[k].y, p[i].y, 0.01);
            }
            k++;
        }
        assert_int_equal(k, n);
    }
    /* seek consistency: a fresh timeline asked once gives the same answer */
    fresh = dm_timeline_new(&o);
    for (size_t i = 0; i < t.count; i++)
        assert_int_equal(dm_timeline_insert(fresh, (uint32_t)i, &p[i], t.items[i].pos), 0);
    for (int64_t ms = 90000; ms > 0; ms -= 13001) {
        size_t n1 = dm_timeline_query(tl, ms, v, 4096, NULL);
        size_t n2 = dm_timeline_query(fresh, ms, w, 4096, NULL);
        assert_int_equal(n1, n2);
        assert_memory_equal(v, w, n1 * sizeof *v);
    }
    /* change flags: the same instant twice is no change; deleting is a content change */
    dm_timeline_query(tl, 50000, v, 4096, &changed);
    dm_timeline_query(tl, 50000, v, 4096, &changed);
    assert_int_equal(changed, DM_CHANGED_NONE);
    dm_timeline_query(tl, 50001, v, 4096, &changed);
    assert_int_equal(changed, DM_CHANGED_POSITIONS);
    assert_int_equal(dm_timeline_remove(tl, v[0].index), 1);
    dm_timeline_query(tl, 50001, w, 4096, &changed);
    assert_int_equal(changed, DM_CHANGED_CONTENT);
    assert_int_not_equal(w[0].index, v[0].index);
    dm_timeline_free(&tl);
    dm_timeline_free(&fresh);
    free(v);
    free(w);
    free(p);
    dm_track_clear(&t);
}

/* Live: adding comments one by one gives the same layout as the whole track. */
static void test_incremental_equals_batch(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *batch = NULL, one;
    dm_layout *L;

    load_case_track(state, &t);
    /* a recording is in time order: sort a copy so the batch order is the input order */
    for (size_t i = 1; i < t.count; i++) {
        for (size_t j = i; j > 0 && t.items[j - 1].t_ms > t.items[j].t_ms; j--) {
            dm_comment tmp = t.items[j];
            t.items[j] = t.items[j - 1];
            t.items[j - 1] = tmp;
        }
    }
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &batch, NULL, NULL), 0);
    L = dm_layout_new(&o, dm_test_measure, NULL, NULL, NULL);
    assert_non_null(L);
    /* the live layout allows rewinds; in time order that changes nothing */
    assert_int_equal(dm_layout_allow_rewind(L), 0);
    for (size_t i = 0; i < t.count; i++) {
        assert_int_equal(dm_layout_add(L, &t.items[i], NULL, &one), 0);
        assert_memory_equal(&one, &batch[i], sizeof one);
    }
    dm_layout_free(&L);
    free(batch);
    dm_track_clear(&t);
}

/*
 * A screening seeked backwards: comments come in arrival order, each pass
 * going back in film time. With rewinds allowed, a rewound comment is shown
 * at its own time, never over any comment of any pass, and laying out the
 * recording (any file order) gives the live placements.
 */
static void test_rewinds(void **state)
{
    unsigned seed = 20261124;
    long rewound_total = 0, rewound_shown = 0;

    (void)state;
    for (int k = 0; k < 300; k++) {
        dm_track t, reversed;
        dm_layout_opts o = opts_default();
        dm_layout *L;
        dm_placed *live, *replay = NULL;
        int passes = 2 + (int)(rand_r(&seed) % 3), per = 10 + (int)(rand_r(&seed) % 60);
        int64_t latest = INT64_MIN;
        char text[256];

        o.stage_w = 320 + (int)(rand_r(&seed) % 1600);
        o.stage_h = 200 + (int)(rand_r(&seed) % 880);
        o.font_px = 16 + (int)(rand_r(&seed) % 40);
        o.scroll_ms = 2000 + (int)(rand_r(&seed) % 8000);
        o.overflow = (dm_overflow)(rand_r(&seed) % 3);
        o.density_cap = rand_r(&seed) % 4 == 0 ? 5 + (int)(rand_r(&seed) % 20) : 0;
        dm_track_init(&t);
        for (int pass = 0; pass < passes; pass++) {
            int64_t ms = (int64_t)(rand_r(&seed) % 20000);   /* where the seek landed */
            for (int i = 0; i < per; i++) {
                unsigned r = rand_r(&seed) % 100;
                dm_mode mode = r < 70 ? DM_MODE_SCROLL : r < 80 ? DM_MODE_REVERSE : r < 90 ? DM_MODE_TOP
                                                                                  : DM_MODE_BOTTOM;
                /* strictly later: ties would replay in file order, which reversing changes */
                ms += 1 + (rand_r(&seed) % 3 == 0 ? rand_r(&seed) % 2000 : rand_r(&seed) % 100);
                random_text(text, sizeof text, 16, &seed);
                push(&t, ms, mode, (dm_size)(rand_r(&seed) % 3), text);
                t.items[t.count - 1].pass = pass;
            }
        }
        live = calloc(t.count, sizeof *live);
        assert_non_null(live);
        L = dm_layout_new(&o, dm_test_measure, NULL, NULL, NULL);
        assert_non_null(L);
        assert_int_equal(dm_layout_allow_rewind(L), 0);
        for (size_t i = 0; i < t.count; i++) {
            int rewound = t.items[i].t_ms < latest;
            assert_int_equal(dm_layout_add(L, &t.items[i], NULL, &live[i]), 0);
            if (rewound) {
                rewound_total++;
                if (live[i].shown) {
                    rewound_shown++;
                    assert_int_equal(live[i].start_ms, t.items[i].t_ms);   /* at its own time */
                }
            }
            if (t.items[i].t_ms > latest)
                latest = t.items[i].t_ms;
        }
        assert_int_equal(dm_layout_allow_rewind(L), DM_EINVAL);   /* too late once comments are in */
        dm_layout_free(&L);
        if (dm_test_count_overlaps(live, t.count) != 0)
            fail_msg("screening %d (%s): overlap", k, dm_overflow_name(o.overflow));

        /* the recording, in file order and reversed, replays the same lanes */
        assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &replay, NULL, NULL), 0);
        assert_memory_equal(replay, live, t.count * sizeof *live);
        free(replay);
        dm_track_init(&reversed);
        for (size_t i = t.count; i-- > 0;) {
            assert_int_equal(dm_track_push(&reversed, &t.items[i]), 0);
        }
        assert_int_equal(dm_layout_track(&reversed, &o, dm_test_measure, NULL, NULL, &replay, NULL, NULL), 0);
        for (size_t i = 0; i < t.count; i++)
            assert_memory_equal(&replay[t.count - 1 - i], &live[i], sizeof *live);
        free(replay);
        dm_track_clear(&reversed);
        free(live);
        dm_track_clear(&t);
    }
    print_message("rewinds: %ld comments earlier than the latest one, %.1f %% shown at their time, no overlap\n",
                  rewound_total, 100.0 * rewound_shown / (rewound_total ? rewound_total : 1));
    assert_true(rewound_total > 1000);
    assert_true(rewound_shown > rewound_total / 4);
}

/* A density cap after a rewind counts what is on screen at the comment's own time. */
static void test_rewinds_density(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_layout *L;
    dm_placed *p;
    char text[32];
    size_t shown_late = 0;

    (void)state;
    o.density_cap = 3;
    dm_track_init(&t);
    for (int i = 0; i < 10; i++)
        push(&t, 100000, DM_MODE_SCROLL, DM_SIZE_SMALL, "busy later");
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "after the seek %d", i);
        push(&t, 50000 + i, DM_MODE_SCROLL, DM_SIZE_SMALL, text);
        t.items[t.count - 1].pass = 1;
    }
    p = calloc(t.count, sizeof *p);
    assert_non_null(p);
    L = dm_layout_new(&o, dm_test_measure, NULL, NULL, NULL);
    assert_non_null(L);
    assert_int_equal(dm_layout_allow_rewind(L), 0);
    for (size_t i = 0; i < t.count; i++)
        assert_int_equal(dm_layout_add(L, &t.items[i], NULL, &p[i]), 0);
    for (size_t i = 10; i < t.count; i++)
        shown_late += p[i].shown;
    /* not all refused because of what is on screen at 100 s, nor all let through */
    assert_int_equal(shown_late, 3);
    assert_true(p[10].shown && p[11].shown && p[12].shown);
    assert_int_equal(p[13].reason, DM_REASON_DENSITY);
    dm_layout_free(&L);
    free(p);
    dm_track_clear(&t);
}

/* Without rewinds an earlier comment is held at the latest time, as before. */
static void test_without_rewinds_earlier_is_held(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_layout *L;
    dm_placed p[2];

    (void)state;
    dm_track_init(&t);
    push(&t, 60000, DM_MODE_SCROLL, DM_SIZE_NORMAL, "later");
    push(&t, 1000, DM_MODE_SCROLL, DM_SIZE_NORMAL, "earlier");
    for (int allow = 0; allow < 2; allow++) {
        L = dm_layout_new(&o, dm_test_measure, NULL, NULL, NULL);
        assert_non_null(L);
        if (allow)
            assert_int_equal(dm_layout_allow_rewind(L), 0);
        assert_int_equal(dm_layout_add(L, &t.items[0], NULL, &p[0]), 0);
        assert_int_equal(dm_layout_add(L, &t.items[1], NULL, &p[1]), 0);
        assert_true(p[1].shown);
        assert_int_equal(p[1].start_ms, allow ? 1000 : 60000);
        dm_layout_free(&L);
    }
    dm_track_clear(&t);
}

/*
 * A host's delete comes while the comment is on screen: on replay it keeps
 * the lane it had, so the next comment keeps its own; a comment deleted
 * before it was shown (imported tracks) takes no lane.
 */
static void test_deleted_keeps_its_lane(void **state)
{
    dm_track t;
    dm_layout_opts o = opts_default();
    dm_placed *p = NULL;

    (void)state;
    dm_track_init(&t);
    push(&t, 1000, DM_MODE_SCROLL, DM_SIZE_NORMAL, "deleted by the host");
    push(&t, 1000, DM_MODE_SCROLL, DM_SIZE_NORMAL, "next one");
    t.items[0].deleted = DM_DELETED_ON_SCREEN;
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
    assert_false(p[0].shown);
    assert_int_equal(p[0].reason, DM_REASON_DELETED);
    assert_true(p[1].shown);
    assert_true(p[1].y > 0);   /* the lane below the deleted one, as live */
    free(p);
    /* a deleted comment that had found no lane says "deleted" too, as live */
    o.area = 0.01;
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
    assert_int_equal(p[0].reason, DM_REASON_DELETED);
    assert_int_equal(p[1].reason, DM_REASON_NO_LANE);
    free(p);
    o.area = 1.0;
    t.items[0].deleted = DM_DELETED_BEFORE;
    assert_int_equal(dm_layout_track(&t, &o, dm_test_measure, NULL, NULL, &p, NULL, NULL), 0);
    assert_false(p[0].shown);
    assert_int_equal(p[0].reason, DM_REASON_DELETED);
    assert_int_equal(p[1].y, 0);
    free(p);
    dm_track_clear(&t);
}

static void test_bad_settings(void **state)
{
    dm_layout_opts o = opts_default();
    dm_diag diag = { 0 };

    (void)state;
    o.area = 0;
    assert_null(dm_layout_new(&o, dm_test_measure, NULL, NULL, &diag));
    assert_non_null(strstr(diag.error, "area"));
    o = opts_default();
    o.stage_w = 0;
    memset(&diag, 0, sizeof diag);
    assert_int_equal(dm_layout_opts_check(&o, &diag), DM_EINVAL);
    assert_non_null(strstr(diag.error, "stage"));
}

/* The comment line as a cJSON tree prints it (the dump's format before its
 * lines were written by hand): the hand-written line must be the same bytes. */
static char *comment_line_by_cjson(const dm_comment *c, size_t index, const dm_placed *p)
{
    cJSON *o = cJSON_CreateObject();
    char idbuf[32], *s;

    snprintf(idbuf, sizeof idbuf, "%zu", index);
    cJSON_AddStringToObject(o, "type", "comment");
    cJSON_AddStringToObject(o, "id", c->id ? c->id : idbuf);
    cJSON_AddNumberToObject(o, "t_ms", (double)c->t_ms);
    cJSON_AddStringToObject(o, "mode", dm_mode_name(c->mode));
    cJSON_AddStringToObject(o, "text", c->text ? c->text : "");
    if (c->kind != DM_KIND_COMMENT)
        cJSON_AddStringToObject(o, "kind", dm_kind_name(c->kind));
    cJSON_AddBoolToObject(o, "shown", p->shown);
    if (p->shown) {
        cJSON_AddNumberToObject(o, "start_ms", (double)p->start_ms);
        cJSON_AddNumberToObject(o, "end_ms", (double)p->end_ms);
        cJSON_AddNumberToObject(o, "y", p->y);
        cJSON_AddNumberToObject(o, "w", p->w);
        cJSON_AddNumberToObject(o, "h", p->h);
        cJSON_AddNumberToObject(o, "x_start", p->x_start);
        cJSON_AddNumberToObject(o, "x_end", p->x_end);
        cJSON_AddStringToObject(o, "size", dm_size_name(c->size));
        if (p->layer)
            cJSON_AddNumberToObject(o, "layer", p->layer);
    } else {
        cJSON_AddStringToObject(o, "reason", dm_reason_name((dm_reason)p->reason));
    }
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static void test_dump_line_matches_cjson(void **state)
{
    static const char *const texts[] = {
        "plain", "", "quote \" and backslash \\ and slash /", "tab\there\nnew line\r\b\f",
        "\x01\x1f\x7f control", "弹幕 😂 مرحبا", "</script>", "\xc2\x85 C1",
    };
    static const int64_t times[] = { 0, 1, -5, 8230, 2147483647, 2147483648LL, -2147483649LL, 3000000000LL,
                                     123456789012345LL, 1234567890123456789LL };
    size_t lines = 0;

    (void)state;
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
        for (size_t k = 0; k < sizeof times / sizeof times[0]; k++)
            for (int variant = 0; variant < 4; variant++) {
                dm_comment c = { 0 };
                dm_placed p = { 0 };
                char *mine, *ref;
                cJSON *parsed;
                c.t_ms = times[k];
                c.text = (char *)texts[t];
                c.mode = (dm_mode)(variant % 3);
                c.size = (dm_size)(k % DM_SIZE_COUNT);
                c.kind = variant == 3 ? DM_KIND_SUPERCHAT : DM_KIND_COMMENT;
                c.id = variant == 1 ? (char *)"id \"7\"" : NULL;
                p.shown = variant != 2;
                p.reason = variant == 2 ? DM_REASON_NO_LANE : DM_REASON_NONE;
                p.start_ms = times[k] + 17;
                p.end_ms = times[k] * 2;
                p.y = -3 * (int)k;
                p.w = 1000 + (int)t;
                p.h = 48;
                p.x_start = 1920;
                p.x_end = -(int)(t * 100);
                p.layer = variant == 3 ? 2 : 0;
                mine = dm_layout_dump_comment(&c, t * 100 + k, &p, NULL);
                ref = comment_line_by_cjson(&c, t * 100 + k, &p);
                assert_non_null(mine);
                assert_non_null(ref);
                assert_string_equal(mine, ref);
                parsed = cJSON_Parse(mine);
                assert_non_null(parsed);
                assert_string_equal(cJSON_GetObjectItem(parsed, "text")->valuestring, texts[t]);
                cJSON_Delete(parsed);
                free(mine);
                cJSON_free(ref);
                lines++;
            }
    assert_int_equal(lines, 8 * 10 * 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_at_once_take_two_lanes),
        cmocka_unit_test(test_catch_up_is_exact),
        cmocka_unit_test(test_top_and_bottom_stack),
        cmocka_unit_test(test_reverse_moves_left_to_right),
        cmocka_unit_test(test_policies_on_a_full_stage),
        cmocka_unit_test(test_filters_and_invalid),
        cmocka_unit_test(test_merge_duplicates),
        cmocka_unit_test(test_density_cap),
        cmocka_unit_test(test_positioned_and_unsupported),
        cmocka_unit_test(test_property_random_tracks),
        { "deterministic (real burst track)", test_deterministic_on_a_track, NULL, NULL,
          "real:bilibili-burst-111s.xml" },
        { "deterministic (generated dense track)", test_deterministic_on_a_track, NULL, NULL,
          "gen:gen-bilibili-dense-180s.xml" },
        { "timeline matches a full scan (real dense track)", test_timeline_matches_full_scan, NULL, NULL,
          "real:bilibili-dense-180s.xml" },
        { "timeline matches a full scan (generated long track)", test_timeline_matches_full_scan, NULL, NULL,
          "gen:gen-bilibili-long-600s.xml" },
        { "incremental equals batch (real 506 s track)", test_incremental_equals_batch, NULL, NULL,
          "real:bilibili-comment-506s.xml" },
        { "incremental equals batch (generated niconico track)", test_incremental_equals_batch, NULL, NULL,
          "gen:gen-niconico-240s.json" },
        cmocka_unit_test(test_rewinds),
        cmocka_unit_test(test_rewinds_density),
        cmocka_unit_test(test_without_rewinds_earlier_is_held),
        cmocka_unit_test(test_deleted_keeps_its_lane),
        cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_dump_line_matches_cjson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
