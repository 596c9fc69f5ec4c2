/* test_sprite_cache.c - the sprite cache: hits and misses, LRU eviction
 * under the byte budget, texture destroy hook, text keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "danmaku.h"
#include "sprite_cache.h"

static SDL_Surface *make(int w, int h)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);

    assert_non_null(s);
    return s;
}

static dm_sprite_key id_key(uint64_t id)
{
    dm_sprite_key k = {.id = id, .text = NULL, .height_px = 48, .rgb = 0xFFFFFF, .opacity = 255};
    return k;
}

static void count_destroy(void *ud, void *texture)
{
    int *n = ud;

    assert_non_null(texture);
    (*n)++;
}

static void test_hits_and_misses(void **state)
{
    dm_sprite_cache *c = dm_sprite_cache_new(0, NULL, NULL);
    dm_sprite_cache_stats st;
    dm_sprite_key k = id_key(7);
    dm_sprite *sp = NULL;
    SDL_Surface *s = make(10, 4);

    (void)state;
    assert_non_null(c);
    assert_null(dm_sprite_cache_get(c, &k));
    assert_int_equal(dm_sprite_cache_put(c, &k, s, &sp), 0);
    assert_ptr_equal(sp->surface, s);
    assert_ptr_equal(dm_sprite_cache_get(c, &k), sp);
    k.rgb = 0xFF0000;
    assert_null(dm_sprite_cache_get(c, &k));
    dm_sprite_cache_stats_get(c, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.bytes, 10 * 4 * 4);
    assert_int_equal(st.budget, DM_SPRITE_CACHE_DEFAULT_BUDGET);
    dm_sprite_cache_free(&c);
    assert_null(c);
}

static void test_evicts_under_budget(void **state)
{
    /* Room for exactly ten 10x10 sprites. */
    const size_t one = 10 * 10 * 4;
    int destroyed = 0;
    dm_sprite_cache *c = dm_sprite_cache_new(10 * one, count_destroy, &destroyed);
    dm_sprite_cache_stats st;
    int texture_token;

    (void)state;
    assert_non_null(c);
    for (uint64_t i = 0; i < 10; i++) {
        dm_sprite_key k = id_key(i);
        dm_sprite *sp;
        assert_int_equal(dm_sprite_cache_put(c, &k, make(10, 10), &sp), 0);
        sp->texture = &texture_token;
    }
    dm_sprite_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 10);
    assert_int_equal(st.evictions, 0);
    /* Touch 0 so that 1 is now the least recently used. */
    {
        dm_sprite_key k0 = id_key(0);
        assert_non_null(dm_sprite_cache_get(c, &k0));
    }
    for (uint64_t i = 10; i < 15; i++) {
        dm_sprite_key k = id_key(i);
        assert_int_equal(dm_sprite_cache_put(c, &k, make(10, 10), NULL), 0);
        dm_sprite_cache_stats_get(c, &st);
        assert_true(st.bytes <= st.budget);
    }
    dm_sprite_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 10);
    assert_int_equal(st.bytes, 10 * one);
    assert_int_equal(st.evictions, 5);
    assert_int_equal(destroyed, 5);
    {
        dm_sprite_key k0 = id_key(0), k1 = id_key(1), k5 = id_key(5), k6 = id_key(6), k14 = id_key(14);
        assert_non_null(dm_sprite_cache_get(c, &k0));
        assert_null(dm_sprite_cache_get(c, &k1));
        assert_null(dm_sprite_cache_get(c, &k5));
        assert_non_null(dm_sprite_cache_get(c, &k6));
        assert_non_null(dm_sprite_cache_get(c, &k14));
    }
    /* A big sprite pushes out as many as it needs, never itself. */
    {
        dm_sprite_key big = id_key(100);
        assert_int_equal(dm_sprite_cache_put(c, &big, make(10, 60), NULL), 0);
        dm_sprite_cache_stats_get(c, &st);
        assert_true(st.bytes <= st.budget);
        assert_non_null(dm_sprite_cache_get(c, &big));
        assert_int_equal(st.entries, 5);
    }
    /* Shrinking the budget evicts at once. */
    dm_sprite_cache_set_budget(c, 7 * one);
    dm_sprite_cache_stats_get(c, &st);
    assert_true(st.bytes <= 7 * one);
    dm_sprite_cache_clear(c);
    dm_sprite_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.bytes, 0);
    dm_sprite_cache_free(&c);
    /* Every sprite that had a texture had it destroyed exactly once (0, 6..9
     * had textures; 0..9 were all given one). */
    assert_int_equal(destroyed, 10);
}

static void test_too_big_and_replace(void **state)
{
    dm_sprite_cache *c = dm_sprite_cache_new(1000, NULL, NULL);
    dm_sprite_cache_stats st;
    dm_sprite_key k = id_key(1);
    SDL_Surface *huge = make(100, 100);

    (void)state;
    assert_int_equal(dm_sprite_cache_put(c, &k, huge, NULL), DM_ETOOBIG);
    SDL_FreeSurface(huge);   /* still ours after a failed put */
    assert_int_equal(dm_sprite_cache_put(c, &k, NULL, NULL), DM_EINVAL);
    assert_int_equal(dm_sprite_cache_put(c, &k, make(5, 5), NULL), 0);
    assert_int_equal(dm_sprite_cache_put(c, &k, make(6, 6), NULL), 0);
    dm_sprite_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.bytes, 6 * 6 * 4);
    assert_int_equal(dm_sprite_cache_get(c, &k)->surface->w, 6);
    assert_int_equal(dm_sprite_cache_remove(c, &k), 0);
    assert_int_equal(dm_sprite_cache_remove(c, &k), DM_EINVAL);
    dm_sprite_cache_free(&c);
}

static void test_text_keys(void **state)
{
    dm_sprite_cache *c = dm_sprite_cache_new(0, NULL, NULL);
    char text[32];
    dm_sprite_key k = {.id = DM_SPRITE_NO_ID, .text = text, .height_px = 48, .rgb = 0xFFFFFF, .opacity = 255};
    dm_sprite_key other;
    dm_sprite_cache_stats st;

    (void)state;
    strcpy(text, "前方高能");
    assert_int_equal(dm_sprite_cache_put(c, &k, make(4, 4), NULL), 0);
    /* The key text was copied: changing the caller's buffer changes the key. */
    strcpy(text, "前方高能!");
    assert_null(dm_sprite_cache_get(c, &k));
    strcpy(text, "前方高能");
    assert_non_null(dm_sprite_cache_get(c, &k));
    other = k;
    other.opacity = 128;
    assert_null(dm_sprite_cache_get(c, &other));
    other = k;
    other.height_px = 34;
    assert_null(dm_sprite_cache_get(c, &other));
    other = k;
    other.text = NULL;
    assert_null(dm_sprite_cache_get(c, &other));
    dm_sprite_cache_stats_get(c, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 3);   /* the NULL-text key is invalid, not a miss */
    dm_sprite_cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hits_and_misses),
        cmocka_unit_test(test_evicts_under_budget),
        cmocka_unit_test(test_too_big_and_replace),
        cmocka_unit_test(test_text_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
