/*
 * test_scene.c - the scene and obstacles: comments keep off obstacle boxes
 * exactly (checked by the independent clash test of testutil.c, over
 * thousands of random tracks and boxes), a live scene (a track plus comments
 * appended as a screening sends them, with seeks back) gives the very layout
 * of the tracks followed by the recording, relayouts replay it, deletes and
 * clears, the change flag, and the --keep-off syntax.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "danmaku.h"
#include "layout_cli.h"
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

static void random_text(char *buf, size_t cap, int maxlen, unsigned *seed)
{
    static const char *const pieces[] = { "a", "W", "1", " ", "草", "前", "あ", "한", "😀", "!" };
    int len = 1 + (int)(rand_r(seed) % (unsigned)maxlen);
    size_t o = 0;

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

static dm_mode random_mode(unsigned *seed, int positioned)
{
    unsigned r = rand_r(seed) % 100;

    if (positioned && r >= 95)
        return DM_MODE_POSITIONED;
    return r < 62 ? DM_MODE_SCROLL : r < 72 ? DM_MODE_REVERSE : r < 84 ? DM_MODE_TOP : DM_MODE_BOTTOM;
}

/* A random track of n comments from `from` ms on, in bursts and quiet spells. */
static void random_track(dm_track *t, int n, int64_t from, unsigned *seed)
{
    char text[256];
    int64_t ms = from;

    for (int i = 0; i < n; i++) {
        dm_mode mode = random_mode(seed, 1);
        ms += rand_r(seed) % 4 == 0 ? rand_r(seed) % 3000 : rand_r(seed) % 40;
        random_text(text, sizeof text, rand_r(seed) % 5 == 0 ? 50 : 10, seed);
        push(t, ms, mode, (dm_size)(rand_r(seed) % 3), text);
        if (mode == DM_MODE_POSITIONED) {
            dm_positioned *pos = calloc(1, sizeof *pos);
            *pos = (dm_positioned){ .x0 = 0.1, .y0 = 0.3, .x1 = 0.8, .y1 = 0.3, .alpha0 = 1, .alpha1 = 1,
                                    .life_ms = 2000, .outline = 1 };
            t->items[t->count - 1].pos = pos;
        }
    }
}

static dm_layout_opts random_opts(unsigned *seed)
{
    dm_layout_opts o = DM_LAYOUT_OPTS_DEFAULT;

    o.stage_w = 480 + (int)(rand_r(seed) % 1440);
    o.stage_h = 270 + (int)(rand_r(seed) % 810);
    o.font_px = 16 + (int)(rand_r(seed) % 40);
    if (o.font_px * 3 > o.stage_h)
        o.font_px = o.stage_h / 3;
    o.scroll_ms = 3000 + (int)(rand_r(seed) % 9000);
    o.fixed_ms = 1000 + (int)(rand_r(seed) % 4000);
    o.max_delay_ms = (int)(rand_r(seed) % 4000);
    o.overflow = (dm_overflow)(rand_r(seed) % 2);   /* delay or drop: one layer */
    return o;
}

/* Random boxes: subtitle-like ones at the bottom with short lives, signs anywhere, and keep-offs. */
static size_t random_obstacles(dm_obstacle *obs, size_t cap, const dm_layout_opts *o, int64_t span, unsigned *seed)
{
    size_t n = 1 + rand_r(seed) % (unsigned)cap;

    for (size_t i = 0; i < n; i++) {
        dm_obstacle *b = &obs[i];
        memset(b, 0, sizeof *b);
        b->w = 20 + (int)(rand_r(seed) % (unsigned)(o->stage_w / 2));
        b->h = 10 + (int)(rand_r(seed) % (unsigned)(o->stage_h / 4));
        b->x = (int)(rand_r(seed) % (unsigned)(o->stage_w - b->w));
        b->y = rand_r(seed) % 2 ? o->stage_h - b->h - (int)(rand_r(seed) % 20)
                                : (int)(rand_r(seed) % (unsigned)(o->stage_h - b->h));
        b->start_ms = (int64_t)(rand_r(seed) % (unsigned)(span + 1));
        b->end_ms = rand_r(seed) % 8 == 0 ? DM_OBSTACLE_FOREVER_MS
                                          : b->start_ms + 300 + (int64_t)(rand_r(seed) % 6000);
        snprintf(b->kind, sizeof b->kind, "subtitle");
        snprintf(b->id, sizeof b->id, "sub-%zu", i);
    }
    return n;
}

static dm_scene *new_scene(const dm_layout_opts *o, int live)
{
    dm_scene_opts so = { .layout = *o, .measure = dm_test_measure, .live = live };
    dm_scene *s = dm_scene_new(&so, NULL);

    assert_non_null(s);
    return s;
}

/* The scene's layout dump, as a malloc'd string. */
static char *dump_of(dm_scene *s)
{
    char *buf = dm_test_scene_dump(s);

    assert_non_null(buf);
    return buf;
}

/* ---------------------------------------------------------------- obstacles */

static dm_layout_opts plain_opts(void)
{
    dm_layout_opts o = DM_LAYOUT_OPTS_DEFAULT;   /* 1920x1080, 48 px, 8 s / 4 s */
    return o;
}

/* The stage a resize goes to: 1280x720 with a 32 px font. */
static dm_layout_opts small_opts(void)
{
    dm_layout_opts o = plain_opts();

    o.stage_w = 1280;
    o.stage_h = 720;
    o.font_px = 32;
    return o;
}

static void place_one(const dm_obstacle *box, const char *text, dm_mode mode, int64_t t, dm_placed *out)
{
    dm_layout_opts o = plain_opts();
    dm_layout *L = dm_layout_new(&o, dm_test_measure, NULL, NULL, NULL);
    dm_comment c = { .t_ms = t, .mode = mode, .size = DM_SIZE_NORMAL, .color = 0xFFFFFF, .text = (char *)text };

    assert_non_null(L);
    if (box)
        assert_int_equal(dm_layout_add_obstacles(L, box, 1), 0);
    assert_int_equal(dm_layout_add(L, &c, NULL, out), 0);
    assert_int_equal(dm_layout_add_obstacles(L, box, 1), DM_EINVAL);   /* too late */
    dm_layout_free(&L);
}

/*
 * The exact rule, not whole-lane blocking: a scrolling comment keeps its top
 * lane when it reaches a box's columns only after the box went, and moves
 * down when it would meet it; a top comment skips the rows a box holds.
 */
static void test_obstacle_kinematics(void **state)
{
    /* a 60 px wide box at the top, in the middle of a 1920 px stage */
    dm_obstacle early = { .start_ms = 1000, .end_ms = 3000, .x = 930, .y = 0, .w = 60, .h = 60 };
    dm_obstacle late = early;
    dm_placed p;

    (void)state;
    late.start_ms = 3000;
    late.end_ms = 6000;
    /* "aaaa" (4 * 26 + 4 = 110 px) starting at 0 reaches x < 991 after 8000 * 929 / 2030 = 3661 ms */
    place_one(&early, "aaaa", DM_MODE_SCROLL, 0, &p);
    assert_true(p.shown);
    assert_int_equal(p.y, 0);           /* the box has gone before it gets there */
    assert_int_equal(p.start_ms, 0);
    place_one(&late, "aaaa", DM_MODE_SCROLL, 0, &p);
    assert_true(p.shown);
    assert_true(p.y >= 60);             /* it would meet it: the next free rows */
    assert_int_equal(p.start_ms, 0);
    /* a top comment overlapping the box's columns stacks below it while it stays... */
    place_one(&early, "aaaa", DM_MODE_TOP, 2000, &p);
    assert_true(p.y >= 60);
    /* ...and takes the top row once it has gone */
    place_one(&early, "aaaa", DM_MODE_TOP, 3000, &p);
    assert_int_equal(p.y, 0);
    /* a box over every row: delayed until it goes (within the 1 s limit), or not shown */
    {
        dm_obstacle wall = { .start_ms = 0, .end_ms = 500, .x = 0, .y = 0, .w = 1920, .h = 1080 };
        place_one(&wall, "aaaa", DM_MODE_TOP, 0, &p);
        assert_true(p.shown);
        assert_true(p.start_ms >= 500 && p.start_ms <= 502);
        wall.end_ms = 5000;
        place_one(&wall, "aaaa", DM_MODE_TOP, 0, &p);
        assert_false(p.shown);
        assert_int_equal(p.reason, DM_REASON_NO_LANE);
    }
}

/*
 * Property: random tracks, random boxes (short and whole-film), both
 * single-layer policies, in a plain scene and in a live one that rewinds:
 * no comment crosses a box, none overlaps another of its mode, every
 * comment is accounted for and delays keep to the limit.
 */
static void test_obstacle_property(void **state)
{
    unsigned seed = 20261201;
    long total = 0, shown = 0, boxes_total = 0, strict_cases = 0;

    (void)state;
    for (int k = 0; k < 1500; k++) {
        dm_layout_opts o = random_opts(&seed);
        dm_obstacle obs[12];
        dm_track t;
        dm_scene *s;
        const dm_placed *p;
        size_t nobs, n;
        int live = k % 3 == 0;

        o.strict = k % 2;
        dm_track_init(&t);
        random_track(&t, 30 + (int)(rand_r(&seed) % 150), 0, &seed);
        if (live)   /* a second pass back in time, as after a seek */
            for (size_t i = t.count / 2; i < t.count; i++)
                t.items[i].pass = 1, t.items[i].t_ms -= t.items[t.count / 2].t_ms / 2;
        nobs = random_obstacles(obs, 12, &o, t.items[t.count - 1].t_ms, &seed);
        if (rand_r(&seed) % 4 == 0) {
            o.keep_off_count = 1;
            o.keep_off[0] = (dm_keep_off){ .x = 0, .y = 0.8, .w = 1.0, .h = 0.2, .fractions = 14,
                                           .start_ms = 0, .end_ms = DM_OBSTACLE_FOREVER_MS };
        }
        s = new_scene(&o, 0);
        assert_int_equal(dm_scene_add_track(s, &t), 0);
        assert_int_equal(dm_scene_set_obstacles(s, obs, nobs), 0);
        assert_int_equal(dm_scene_layout(s, NULL), 0);
        p = dm_scene_placed(s);
        n = dm_scene_count(s);
        {
            size_t all;
            const dm_obstacle *every = dm_scene_obstacles(s, &all);
            assert_int_equal(all, nobs + (size_t)o.keep_off_count);
            if (dm_test_obstacle_hits(p, n, every, all))
                fail_msg("case %d: a comment crosses an obstacle", k);
            boxes_total += (long)all;
        }
        if (dm_test_count_overlaps(p, n))
            fail_msg("case %d: overlap", k);
        if (o.strict && dm_test_count_cross_mode(p, n))
            fail_msg("case %d: strict, yet %d comments cross one of another mode", k, dm_test_count_cross_mode(p, n));
        strict_cases += o.strict;
        for (size_t i = 0; i < n; i++) {
            if (p[i].shown) {
                int64_t delay = p[i].start_ms - t.items[i].t_ms;
                assert_true(delay >= 0 && delay <= (o.overflow == DM_OVERFLOW_DELAY ? o.max_delay_ms : 0));
                shown++;
            } else {
                assert_int_not_equal(p[i].reason, DM_REASON_NONE);
            }
        }
        total += (long)n;
        dm_scene_free(&s);
        dm_track_clear(&t);
    }
    print_message("obstacles: %ld comments around %ld boxes, %.1f %% shown, none crossed, no overlap "
                  "(%ld strict layouts: no crossing across modes either)\n", total, boxes_total, 100.0 * shown / total,
                  strict_cases);
}

/* ---------------------------------------------------------------- live scenes */

/*
 * A screening: the film's track, then live comments in arrival order (film
 * times only grow within a pass; a seek back starts the next pass; live
 * times often equal track times). The live scene lays the track out up to
 * each stamp floor, as the player does; the tracks followed by the
 * recording, laid out at once, must give the same dump byte for byte.
 */
static void test_live_equals_replay(void **state)
{
    unsigned seed = 424242;
    long appended = 0;

    (void)state;
    for (int k = 0; k < 250; k++) {
        dm_layout_opts o = random_opts(&seed);
        dm_track track, rec;

        o.strict = k % 2;
        dm_scene *live, *replay;
        dm_obstacle obs[4];
        size_t nobs;
        int passes = 1 + (int)(rand_r(&seed) % 3);
        char *a, *b, text[128];

        dm_track_init(&track);
        dm_track_init(&rec);
        random_track(&track, 50 + (int)(rand_r(&seed) % 200), 0, &seed);
        nobs = random_obstacles(obs, 4, &o, track.items[track.count - 1].t_ms, &seed);
        for (int pass = 0; pass < passes; pass++) {
            int64_t ms = (int64_t)(rand_r(&seed) % 30000);
            for (int i = 0, m = 5 + (int)(rand_r(&seed) % 60); i < m; i++) {
                /* sometimes exactly a track comment's time (never earlier: stamps only grow) */
                int64_t at = track.items[rand_r(&seed) % track.count].t_ms;
                if (rand_r(&seed) % 5 == 0)
                    ms = at > ms ? at : ms;
                else
                    ms += rand_r(&seed) % 3 == 0 ? rand_r(&seed) % 1500 : rand_r(&seed) % 30;
                random_text(text, sizeof text, 12, &seed);
                push(&rec, ms, random_mode(&seed, 0), (dm_size)(rand_r(&seed) % 3), text);
                rec.items[rec.count - 1].pass = pass;
            }
        }
        live = new_scene(&o, 1);
        assert_int_equal(dm_scene_add_track(live, &track), 0);
        assert_int_equal(dm_scene_set_obstacles(live, obs, nobs), 0);
        for (size_t i = 0; i < rec.count; i++) {
            const dm_visible *v;
            size_t n;
            assert_int_equal(dm_scene_append(live, &rec.items[i], NULL), 0);
            /* the floor: the next comment's stamp (nothing earlier can come any more) */
            if (i + 1 < rec.count)
                assert_int_equal(dm_scene_advance(live, rec.items[i + 1].pass, rec.items[i + 1].t_ms), 0);
            assert_int_equal(dm_scene_query(live, rec.items[i].t_ms, &v, &n, NULL), 0);
            appended++;
        }
        replay = new_scene(&o, 0);
        assert_int_equal(dm_scene_add_track(replay, &track), 0);
        assert_int_equal(dm_scene_add_track(replay, &rec), 0);
        assert_int_equal(dm_scene_set_obstacles(replay, obs, nobs), 0);
        a = dump_of(live);
        b = dump_of(replay);
        if (strcmp(a, b))
            fail_msg("screening %d: the replay's layout differs from the live one", k);
        /* and nothing crosses: live comments keep off the track's and the boxes */
        if (dm_test_count_overlaps(dm_scene_placed(live), dm_scene_count(live)))
            fail_msg("screening %d: overlap", k);
        if (o.strict && dm_test_count_cross_mode(dm_scene_placed(live), dm_scene_count(live)))
            fail_msg("screening %d: strict, yet comments of different modes cross", k);
        free(a);
        free(b);
        dm_scene_free(&live);
        dm_scene_free(&replay);
        dm_track_clear(&track);
        dm_track_clear(&rec);
    }
    print_message("live scenes: %ld comments appended among their tracks' comments, replays byte-identical\n",
                  appended);
}

/*
 * New obstacles during play (another subtitle track, a new delay): the
 * comments of time up to then keep their placements, the later ones keep
 * off the new boxes, and no two comments overlap.
 */
static void test_obstacles_from_a_time(void **state)
{
    unsigned seed = 31337;

    (void)state;
    for (int k = 0; k < 200; k++) {
        dm_layout_opts o = random_opts(&seed);
        dm_obstacle a[8], b[8];
        dm_track t;
        dm_scene *s;
        dm_placed *before;
        size_t na, nb, n, later = 0;
        int64_t from;

        o.strict = k % 2;
        s = new_scene(&o, 0);
        dm_track_init(&t);
        random_track(&t, 60 + (int)(rand_r(&seed) % 200), 0, &seed);
        from = t.items[t.count / 2].t_ms;
        na = random_obstacles(a, 8, &o, t.items[t.count - 1].t_ms, &seed);
        nb = random_obstacles(b, 8, &o, t.items[t.count - 1].t_ms, &seed);
        assert_int_equal(dm_scene_add_track(s, &t), 0);
        assert_int_equal(dm_scene_set_obstacles(s, a, na), 0);
        assert_int_equal(dm_scene_layout(s, NULL), 0);
        n = dm_scene_count(s);
        before = malloc(n * sizeof *before);
        memcpy(before, dm_scene_placed(s), n * sizeof *before);
        assert_int_equal(dm_scene_set_obstacles_from(s, b, nb, from), 0);
        for (size_t i = 0; i < n; i++) {
            if (t.items[i].t_ms <= from)
                assert_memory_equal(&before[i], &dm_scene_placed(s)[i], sizeof before[i]);
            else
                later++;
        }
        {
            /* the later comments alone against the new boxes */
            dm_placed *after = calloc(n, sizeof *after);
            for (size_t i = 0; i < n; i++)
                if (t.items[i].t_ms > from)
                    after[i] = dm_scene_placed(s)[i];
            if (dm_test_obstacle_hits(after, n, b, nb))
                fail_msg("case %d: a comment laid out after the change crosses a new box", k);
            free(after);
        }
        if (dm_test_count_overlaps(dm_scene_placed(s), n))
            fail_msg("case %d: overlap after the change", k);
        assert_true(later > 0);
        free(before);
        dm_scene_free(&s);
        dm_track_clear(&t);
    }
}

/* A resize lays the scene out again: the same as if it had had that stage from the start. */
static void test_relayout_replays(void **state)
{
    unsigned seed = 777;
    dm_layout_opts small = small_opts(), big = plain_opts();
    dm_track track, rec;
    dm_scene *resized, *fresh;
    char *a, *b;

    (void)state;
    dm_track_init(&track);
    dm_track_init(&rec);
    random_track(&track, 400, 0, &seed);
    random_track(&rec, 200, 1000, &seed);
    for (size_t i = 0; i < rec.count; i++)
        rec.items[i].mode = rec.items[i].mode == DM_MODE_POSITIONED ? DM_MODE_TOP : rec.items[i].mode;
    resized = new_scene(&small, 1);
    fresh = new_scene(&big, 1);
    assert_int_equal(dm_scene_add_track(resized, &track), 0);
    assert_int_equal(dm_scene_add_track(fresh, &track), 0);
    for (size_t i = 0; i < rec.count; i++) {
        if (i == rec.count / 2)
            assert_int_equal(dm_scene_set_layout(resized, &big, NULL), 0);
        assert_int_equal(dm_scene_append(resized, &rec.items[i], NULL), 0);
        assert_int_equal(dm_scene_append(fresh, &rec.items[i], NULL), 0);
    }
    a = dump_of(resized);
    b = dump_of(fresh);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* bad settings are refused and the old layout stays */
    small.stage_w = 3;
    assert_int_equal(dm_scene_set_layout(resized, &small, NULL), DM_EINVAL);
    assert_int_equal(dm_scene_layout_opts(resized)->stage_w, big.stage_w);
    dm_scene_free(&resized);
    dm_scene_free(&fresh);
    dm_track_clear(&track);
    dm_track_clear(&rec);
}

static void count_deleted(void *ud, const dm_comment *c)
{
    (void)c;
    (*(int *)ud)++;
}

/* A host's delete and clear: gone from the screen, marked for the replay, the rest keep their lanes. */
static void test_delete_clear_and_changes(void **state)
{
    dm_layout_opts o = plain_opts();
    dm_scene *s = new_scene(&o, 1);
    dm_track track;
    dm_comment c = { .t_ms = 10000, .mode = DM_MODE_SCROLL, .color = 0xFFFFFF, .text = "live", .id = "L1",
                     .weight = -1 };
    const dm_visible *v;
    size_t n, idx, first_live;
    int changed, deleted = 0;

    (void)state;
    dm_track_init(&track);
    push(&track, 9000, DM_MODE_SCROLL, DM_SIZE_NORMAL, "track comment");
    push(&track, 30000, DM_MODE_TOP, DM_SIZE_NORMAL, "later");
    assert_int_equal(dm_scene_add_track(s, &track), 0);
    assert_int_equal(dm_scene_append(s, &c, &idx), 0);
    first_live = dm_scene_track_count(s);
    assert_int_equal(idx, first_live);
    /* appending laid out the track up to 10 s, and no further */
    assert_true(dm_scene_placed(s)[0].shown);
    assert_false(dm_scene_placed(s)[1].shown);
    c.t_ms = 10500;
    c.id = "L2";
    assert_int_equal(dm_scene_append(s, &c, NULL), 0);
    assert_int_equal(dm_scene_query(s, 11000, &v, &n, &changed), 0);
    assert_int_equal(n, 3);
    assert_int_equal(changed, DM_CHANGED_CONTENT);
    assert_int_equal(dm_scene_query(s, 11000, &v, &n, &changed), 0);
    assert_int_equal(changed, DM_CHANGED_NONE);
    assert_int_equal(dm_scene_query(s, 11016, &v, &n, &changed), 0);
    assert_int_equal(changed, DM_CHANGED_POSITIONS);
    /* delete by id: the newest live comment with it */
    assert_int_equal(dm_scene_delete(s, "L1"), (long)first_live);
    assert_int_equal(dm_scene_delete(s, "nobody"), -1);
    assert_int_equal(dm_scene_comments(s)[first_live].deleted, DM_DELETED_ON_SCREEN);
    assert_int_equal(dm_scene_placed(s)[first_live].reason, DM_REASON_DELETED);
    assert_int_equal(dm_scene_query(s, 11016, &v, &n, &changed), 0);
    assert_int_equal(n, 2);
    assert_int_equal(changed, DM_CHANGED_CONTENT);
    /* clear: both leave the screen; the live one is reported for the recording */
    assert_int_equal(dm_scene_clear(s, 12000, count_deleted, &deleted), 2);
    assert_int_equal(deleted, 1);
    assert_int_equal(dm_scene_query(s, 12000, &v, &n, NULL), 0);
    assert_int_equal(n, 0);
    /* the dump says what the replay says: the cleared live comment "deleted" */
    {
        char *d = dump_of(s);
        assert_non_null(strstr(d, "\"id\":\"L2\",\"t_ms\":10500,\"mode\":\"scroll\",\"text\":\"live\","
                                  "\"shown\":false,\"reason\":\"deleted\""));
        assert_non_null(strstr(d, "\"text\":\"later\",\"shown\":true"));   /* the rest of the track */
        free(d);
    }
    /* no more tracks once laid out */
    assert_int_equal(dm_scene_add_track(s, &track), DM_EINVAL);
    dm_scene_free(&s);
    dm_track_clear(&track);
}

/* ---------------------------------------------------------------- near the playhead */

static long near_measured;

static int near_measure(void *ud, const char *text, int height_px, int *w, int *h)
{
    near_measured++;
    return dm_test_measure(ud, text, height_px, w, h);
}

static dm_scene *near_scene(const dm_layout_opts *o, const dm_track *t, int near)
{
    dm_scene_opts so = { .layout = *o, .measure = near_measure, .near_playhead = near };
    dm_scene *s = dm_scene_new(&so, NULL);

    assert_non_null(s);
    assert_int_equal(dm_scene_add_track(s, t), 0);
    assert_int_equal(dm_scene_layout(s, NULL), 0);
    return s;
}

/* Film time q: the scene's visible comments, each marked in seen[]. */
static void near_look(dm_scene *s, int64_t q, char *seen)
{
    const dm_visible *v;
    size_t n;

    assert_int_equal(dm_scene_query(s, q, &v, &n, NULL), 0);
    for (size_t k = 0; k < n; k++)
        seen[v[k].index] = 1;
}

/*
 * A new stage laid out near the playhead: the resize measures only the
 * comments around the film's time; playing on, what is shown keeps the
 * lane rule at the new stage and as much is shown as in a fresh layout; a
 * forward seek lays out near its time; the dump, or a query back before the
 * playhead, gives exactly a fresh layout of the new stage.
 */
static void test_near_playhead(void **state)
{
    unsigned seed = 9090;
    dm_layout_opts big = plain_opts(), small = small_opts();
    dm_track track;
    dm_scene *s, *fresh;
    dm_placed *got;
    char *seen, *a, *b;
    size_t n, ngot = 0, shown_here = 0, shown_fresh = 0;
    int64_t p, end;
    long before;

    (void)state;
    dm_track_init(&track);
    random_track(&track, 3000, 0, &seed);
    n = track.count;
    end = track.items[n - 1].t_ms;
    p = track.items[n / 2].t_ms;

    /* before any query there is no playhead: all of it, as without the option */
    s = near_scene(&big, &track, 1);
    before = near_measured;
    assert_int_equal(dm_scene_set_layout(s, &small, NULL), 0);
    assert_true(near_measured - before > (long)n * 9 / 10);
    dm_scene_free(&s);

    s = near_scene(&big, &track, 1);
    fresh = near_scene(&small, &track, 0);
    seen = calloc(n, 1);
    got = calloc(n, sizeof *got);
    assert_non_null(seen);
    assert_non_null(got);
    near_look(s, p, seen);
    memset(seen, 0, n);
    before = near_measured;
    assert_int_equal(dm_scene_set_layout(s, &small, NULL), 0);
    print_message("near the playhead: %ld of %zu comments measured for the resize\n", near_measured - before, n);
    assert_true(near_measured - before > 0);
    assert_true(near_measured - before < (long)n / 10);

    /* playing on to the end, a frame at a time */
    for (int64_t q = p; q <= end + 20000; q += 40)
        near_look(s, q, seen);
    for (size_t i = 0; i < n; i++) {
        const dm_placed *pl = &dm_scene_placed(s)[i];
        if (track.items[i].t_ms >= p && dm_scene_placed(fresh)[i].shown)
            shown_fresh++;
        if (!seen[i])
            continue;
        assert_true(pl->shown);
        assert_true(pl->y >= 0 && pl->y + pl->h <= small.stage_h);
        got[ngot++] = *pl;
        shown_here += track.items[i].t_ms >= p;
    }
    print_message("after the playhead: %zu shown, %zu in a fresh layout\n", shown_here, shown_fresh);
    assert_int_equal(dm_test_count_overlaps(got, ngot), 0);
    assert_true(shown_here * 100 >= shown_fresh * 95);

    /* the whole layout asked for: exactly the fresh one */
    a = dump_of(s);
    b = dump_of(fresh);
    assert_string_equal(a, b);
    free(a);

    /* a forward seek after a resize lays out near its time, and a query back before it, the whole */
    assert_int_equal(dm_scene_set_layout(s, &big, NULL), 0);
    near_look(s, p, seen);
    assert_int_equal(dm_scene_set_layout(s, &small, NULL), 0);
    before = near_measured;
    near_look(s, p + (end - p) / 2, seen);
    assert_true(near_measured - before < (long)n / 10);
    before = near_measured;
    near_look(s, p - 5000, seen);
    assert_true(near_measured - before > (long)n * 9 / 10);
    a = dump_of(s);
    assert_string_equal(a, b);
    free(a);
    free(b);

    free(seen);
    free(got);
    dm_scene_free(&s);
    dm_scene_free(&fresh);
    dm_track_clear(&track);
}

/* How many of comments [lo, hi) are on screen at q. */
static size_t near_count(dm_scene *s, int64_t q, size_t lo, size_t hi)
{
    const dm_visible *v;
    size_t n, c = 0;

    assert_int_equal(dm_scene_query(s, q, &v, &n, NULL), 0);
    for (size_t k = 0; k < n; k++)
        c += v[k].index >= lo && v[k].index < hi;
    return c;
}

/* n scrolling comments 50 ms apart from `from` on. */
static void near_fillers(dm_track *t, int64_t from, int n)
{
    char text[16];

    for (int i = 0; i < n; i++) {
        snprintf(text, sizeof text, "f%d", i);
        push(t, from + i * 50, DM_MODE_SCROLL, DM_SIZE_NORMAL, text);
    }
}

/*
 * Near the playhead, what comes before the part laid out: super chats that
 * waited for room and positioned comments not shown at the last stage are
 * still on screen when they should be; a filter change keeps the comments on
 * screen where they are; a clear stays cleared once the whole is laid out;
 * an appended comment is kept.
 */
static void test_near_playhead_edges(void **state)
{
    dm_layout_opts big = plain_opts(), small = small_opts();
    dm_track t;
    dm_scene *s, *fresh;

    (void)state;
    big.max_delay_ms = small.max_delay_ms = 5000;
    big.scroll_ms = small.scroll_ms = 12000;

    /* 11 super chats of 30 s at 1 s: most wait for room, so some are on screen at 45 s */
    dm_track_init(&t);
    for (int i = 0; i < 11; i++) {
        dm_comment c = { .kind = DM_KIND_SUPERCHAT, .mode = DM_MODE_POSITIONED, .color = 0xFFFFFF, .weight = -1,
                         .count = 1, .price = 30, .sender = (char *)"x", .text = (char *)"hello there" };
        c.t_ms = 1000 + i;
        c.duration_ms = 30000;
        assert_int_equal(dm_track_push(&t, &c), 0);
    }
    near_fillers(&t, 50000, 600);
    s = near_scene(&big, &t, 1);
    fresh = near_scene(&small, &t, 0);
    near_count(s, 45000, 0, 11);
    assert_int_equal(dm_scene_set_layout(s, &small, NULL), 0);
    assert_true(near_count(fresh, 45000, 0, 11) > 0);
    assert_int_equal(near_count(s, 45000, 0, 11), near_count(fresh, 45000, 0, 11));
    dm_scene_free(&s);
    dm_scene_free(&fresh);
    dm_track_clear(&t);

    /* a positioned comment of 20 s dropped by the density cap at the first stage, shown at the next */
    {
        dm_layout_opts a = big, b = big;
        dm_positioned *pos = calloc(1, sizeof *pos);
        a.density_cap = b.density_cap = 2;
        a.overflow = b.overflow = DM_OVERFLOW_DROP;
        b.stage_w = 640;
        b.stage_h = 48;
        b.font_px = 40;
        dm_track_init(&t);
        push(&t, 900, DM_MODE_SCROLL, DM_SIZE_NORMAL, "aa");
        push(&t, 900, DM_MODE_SCROLL, DM_SIZE_NORMAL, "bb");
        push(&t, 1000, DM_MODE_POSITIONED, DM_SIZE_NORMAL, "pos");
        assert_non_null(pos);
        *pos = (dm_positioned){ .x0 = 0.1, .y0 = 0.3, .x1 = 0.1, .y1 = 0.3, .alpha0 = 1, .alpha1 = 1,
                                .life_ms = 20000, .outline = 1 };
        t.items[2].pos = pos;
        near_fillers(&t, 30000, 600);
        s = near_scene(&a, &t, 1);
        fresh = near_scene(&b, &t, 0);
        assert_false(dm_scene_placed(s)[2].shown);
        near_count(s, 15000, 0, 1);
        assert_int_equal(dm_scene_set_layout(s, &b, NULL), 0);
        assert_int_equal(near_count(fresh, 15000, 2, 3), 1);
        assert_int_equal(near_count(s, 15000, 2, 3), 1);
        dm_scene_free(&s);
        dm_scene_free(&fresh);
        dm_track_clear(&t);
    }

    /* a dense track resized at 75 s: a filter, a clear, an append */
    {
        dm_scene_opts so = { .layout = big, .measure = dm_test_measure, .near_playhead = 1 };
        dm_filter *f = dm_filter_new();
        const dm_visible *v;
        dm_visible *before;
        size_t n, n2, moved = 0, gone = 0, idx;
        int64_t p = 75000;
        dm_comment late = { .t_ms = 200000, .mode = DM_MODE_SCROLL, .color = 0xFFFFFF, .weight = -1,
                            .text = (char *)"appended" };

        assert_non_null(f);
        so.filter = f;
        dm_track_init(&t);
        near_fillers(&t, 0, 3000);
        s = dm_scene_new(&so, NULL);
        assert_non_null(s);
        assert_int_equal(dm_scene_add_track(s, &t), 0);
        assert_int_equal(dm_scene_layout(s, NULL), 0);
        near_count(s, p, 0, 0);
        assert_int_equal(dm_scene_set_layout(s, &small, NULL), 0);
        assert_int_equal(dm_scene_query(s, p, &v, &n, NULL), 0);
        assert_true(n > 20);
        before = malloc(n * sizeof *before);
        assert_non_null(before);
        memcpy(before, v, n * sizeof *v);
        assert_int_equal(dm_filter_add_keyword(f, "f14"), 0);   /* f14, f140.., f1400..f1499 */
        assert_int_equal(dm_scene_filter_changed(s, p, NULL), 0);
        assert_int_equal(dm_scene_query(s, p, &v, &n2, NULL), 0);
        for (size_t k = 0; k < n; k++) {
            int found = 0;
            for (size_t j = 0; j < n2; j++)
                if (v[j].index == before[k].index) {
                    found = 1;
                    moved += v[j].x != before[k].x || v[j].y != before[k].y;
                }
            gone += !found;
        }
        print_message("a filter after a resize: %zu on screen, %zu hidden, %zu moved\n", n, gone, moved);
        assert_int_equal(moved, 0);
        assert_true(gone > 0 && gone < n);
        free(before);

        assert_true(dm_scene_clear(s, p, NULL, NULL) > 0);
        assert_int_equal(near_count(s, p, 0, t.count), 0);
        near_count(s, p - 5000, 0, 0);   /* back: the whole */
        assert_int_equal(near_count(s, p, 0, t.count), 0);

        assert_int_equal(dm_scene_set_layout(s, &big, NULL), 0);
        near_count(s, p, 0, 0);
        assert_int_equal(dm_scene_set_layout(s, &small, NULL), 0);
        assert_int_equal(dm_scene_append(s, &late, &idx), 0);
        assert_int_equal(near_count(s, late.t_ms + 1000, idx, idx + 1), 1);
        near_count(s, 1000, 0, 0);
        assert_int_equal(near_count(s, late.t_ms + 1000, idx, idx + 1), 1);
        dm_scene_free(&s);
        dm_filter_free(&f);
        dm_track_clear(&t);
    }
}

/* --keep-off: pixels, fractions, percentages, times, and what is refused. */
/* ---------------------------------------------------------------- measuring ahead */

/* A measurer with clones: dm_test_measure's sizes, every call counted; the original slowed down. */
typedef struct counted {
    atomic_long *calls;
    int slow;
} counted;

static int counted_measure(void *ud, const char *text, int height_px, int *w, int *h)
{
    counted *m = ud;
    volatile unsigned spin = 0;

    atomic_fetch_add(m->calls, 1);
    if (m->slow)
        while (spin < 20000)
            spin++;
    return dm_test_measure(NULL, text, height_px, w, h);
}

static void *counted_clone(void *ud)
{
    counted *c = malloc(sizeof *c);

    if (c) {
        c->calls = ((counted *)ud)->calls;
        c->slow = 0;
    }
    return c;
}

static void counted_free(void *clone)
{
    free(clone);
}

/*
 * Helper threads measuring ahead change nothing: the same dump as measuring
 * on the scene's thread, first and after a resize; every measurement the
 * layout asks for is answered once, by a helper or on the scene's thread.
 */
static void test_measuring_ahead(void **state)
{
    unsigned seed = 4242;
    atomic_long calls_one = 0, calls_many = 0;
    counted one_m = { &calls_one, 0 }, many_m = { &calls_many, 1 };
    dm_layout_opts big = plain_opts(), small = small_opts();
    dm_scene_opts one = { .layout = big, .measure = counted_measure, .measure_ud = &one_m };
    dm_scene_opts many = { .layout = big, .measure = counted_measure, .measure_ud = &many_m,
                           .measure_clone = counted_clone, .measure_clone_free = counted_free, .measure_threads = 3 };
    dm_scene *a, *b;
    dm_track track;
    uint64_t ahead = 0, here = 0;
    long asked = 0;
    char *da, *db;

    (void)state;
    dm_track_init(&track);
    random_track(&track, 4000, 0, &seed);
    a = dm_scene_new(&one, NULL);
    b = dm_scene_new(&many, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(dm_scene_add_track(a, &track), 0);
    assert_int_equal(dm_scene_add_track(b, &track), 0);
    for (int round = 0; round < 4; round++) {
        if (round == 0) {
            assert_int_equal(dm_scene_layout(a, NULL), 0);
            assert_int_equal(dm_scene_layout(b, NULL), 0);
        } else {
            assert_int_equal(dm_scene_set_layout(a, round % 2 ? &small : &big, NULL), 0);
            assert_int_equal(dm_scene_set_layout(b, round % 2 ? &small : &big, NULL), 0);
        }
        da = dump_of(a);
        db = dump_of(b);
        assert_string_equal(da, db);
        free(da);
        free(db);
    }
    asked = atomic_load(&calls_one);
    dm_scene_measure_counts(b, &ahead, &here);
    print_message("measuring ahead: %ld measured by the layout; %llu by helpers, %llu on its thread, %ld calls\n",
                  asked, (unsigned long long)ahead, (unsigned long long)here, (long)atomic_load(&calls_many));
    assert_int_equal((long)(ahead + here), asked);
    assert_true(ahead > 0);
    assert_true(atomic_load(&calls_many) >= asked);
    /* without clones, or with none wanted, the scene measures on its own thread */
    many.measure_threads = -1;
    dm_scene_free(&b);
    b = dm_scene_new(&many, NULL);
    assert_int_equal(dm_scene_add_track(b, &track), 0);
    assert_int_equal(dm_scene_layout(b, NULL), 0);
    dm_scene_measure_counts(b, &ahead, &here);
    assert_int_equal(ahead + here, 0);
    dm_scene_free(&a);
    dm_scene_free(&b);
    dm_track_clear(&track);
}

static void test_keep_off_syntax(void **state)
{
    dm_keep_off k;
    dm_obstacle b;
    dm_layout_opts o = plain_opts();
    char err[256];

    (void)state;
    assert_int_equal(dm_keep_off_parse("100,200,300,40", &k), 0);
    assert_int_equal(k.fractions, 0);
    assert_int_equal(k.end_ms, DM_OBSTACLE_FOREVER_MS);
    b = dm_keep_off_box(&k, 1920, 1080, 1);
    assert_int_equal(b.x, 100);
    assert_int_equal(b.y, 200);
    assert_int_equal(b.w, 300);
    assert_int_equal(b.h, 40);
    assert_string_equal(b.kind, "keep-off");
    assert_string_equal(b.id, "keep-off-1");
    assert_int_equal(dm_keep_off_parse("0,0.75,1.0,25%@10-70.5", &k), 0);
    assert_int_equal(k.fractions, 2 | 4 | 8);
    assert_int_equal(k.start_ms, 10000);
    assert_int_equal(k.end_ms, 70500);
    b = dm_keep_off_box(&k, 1280, 720, 2);
    assert_int_equal(b.y, 540);
    assert_int_equal(b.w, 1280);
    assert_int_equal(b.h, 180);
    assert_int_equal(dm_keep_off_parse("0,0,10,10@60-", &k), 0);
    assert_int_equal(k.start_ms, 60000);
    assert_int_equal(k.end_ms, DM_OBSTACLE_FOREVER_MS);
    assert_int_equal(dm_keep_off_parse("0,0,10,10@-5", &k), 0);
    assert_int_equal(k.end_ms, 5000);
    /* clipped to the stage */
    assert_int_equal(dm_keep_off_parse("1800,1000,400,400", &k), 0);
    b = dm_keep_off_box(&k, 1920, 1080, 3);
    assert_int_equal(b.w, 120);
    assert_int_equal(b.h, 80);
    static const char *const bad[] = { "1,2,3", "1,2,3,4,5", "a,b,c,d", "0,0,0,10", "0,0,1.5,0.5",
                                       "0,0,10,10@5-3", "0,0,10,10@5", "-1,0,10,10", "0,0,10,10@x-9", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dm_keep_off_parse(bad[i], &k) == 0)
            fail_msg("'%s' was accepted", bad[i]);
    /* through the shared command line, with a sentence that shows the form */
    {
        struct option *opts = dm_layout_cli_merge(NULL);
        int code = -1;
        assert_non_null(opts);
        for (int i = 0; opts[i].name; i++)
            if (!strcmp(opts[i].name, "keep-off"))
                code = opts[i].val;
        free(opts);
        assert_int_equal(dm_layout_cli_apply(&o, code, "0,0,1.0,0.2", err, sizeof err), 1);
        assert_int_equal(o.keep_off_count, 1);
        assert_int_equal(dm_layout_cli_apply(&o, code, "nope", err, sizeof err), -1);
    }
    assert_non_null(strstr(err, "X,Y,W,H[@START-END]"));
    /* a box that is empty on the stage is refused by the settings check */
    o.keep_off[0] = (dm_keep_off){ .x = 5000, .y = 0, .w = 10, .h = 10, .end_ms = DM_OBSTACLE_FOREVER_MS };
    assert_int_equal(dm_layout_opts_check(&o, NULL), DM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_obstacle_kinematics),
        cmocka_unit_test(test_obstacle_property),
        cmocka_unit_test(test_live_equals_replay),
        cmocka_unit_test(test_relayout_replays),
        cmocka_unit_test(test_obstacles_from_a_time),
        cmocka_unit_test(test_delete_clear_and_changes),
        cmocka_unit_test(test_keep_off_syntax),
        cmocka_unit_test(test_measuring_ahead),
        cmocka_unit_test(test_near_playhead),
        cmocka_unit_test(test_near_playhead_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
