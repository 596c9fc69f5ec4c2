/*
 * test_moderation.c - the moderation decisions: blocklist after Unicode
 * normalisation (CJK, full-width and half-width forms, case variants),
 * previews, bans, slow mode, the global cap, approval and pause, the
 * settings file, and the token comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moderation.h"

static dm_mod_verdict check(dm_moderation *m, const char *author, const char *text, double now,
                            dm_mod_reason *r)
{
    return dm_mod_check(m, author, "addr-1", text, now, r);
}

static void test_blocklist_normalised(void **state)
{
    dm_moderation *m = dm_mod_new();
    dm_mod_reason r = DM_MOD_REASON_COUNT;
    char err[200];
    int id;

    (void)state;
    assert_non_null(m);
    id = dm_mod_add_rule(m, 0, "spam", err, sizeof err);
    assert_true(id > 0);
    assert_true(dm_mod_add_rule(m, 0, "剧透", err, sizeof err) > 0);           /* "spoiler" */
    assert_true(dm_mod_add_rule(m, 0, "ｶﾞｲｼﾞﾝ", err, sizeof err) > 0);       /* half-width katakana */
    assert_true(dm_mod_add_rule(m, 1, "buy\\s*now", err, sizeof err) > 0);
    /* full-width, case variants and spacing meet the same keyword */
    assert_int_equal(check(m, "a", "ＳＰＡＭ here", 0, &r), DM_MOD_REJECT);
    assert_int_equal(r, DM_MOD_BLOCKED);
    assert_int_equal(check(m, "a", "SpAm", 1, &r), DM_MOD_REJECT);
    assert_int_equal(check(m, "a", "s p a m", 2, &r), DM_MOD_REJECT);
    /* CJK keyword inside a sentence */
    assert_int_equal(check(m, "a", "不要剧透啊", 3, &r), DM_MOD_REJECT);
    /* half-width rule matches the full-width form, and the other way round */
    assert_int_equal(check(m, "a", "ガイジンだ", 4, &r), DM_MOD_REJECT);
    assert_int_equal(check(m, "a", "ＢＵＹ ＮＯＷ", 5, &r), DM_MOD_REJECT);
    /* innocent texts pass */
    /* (white space is ignored, so "s p a m" is caught; "spa music" would be too) */
    assert_int_equal(check(m, "a", "sparkling music", 6, &r), DM_MOD_ACCEPT);
    assert_int_equal(check(m, "a", "剧情很好", 7, &r), DM_MOD_ACCEPT);
    assert_int_equal(dm_mod_rule_at(m, 0)->hits, 3);
    /* removing the rule lets it through */
    assert_int_equal(dm_mod_remove_rule(m, (uint32_t)id), 0);
    assert_int_equal(dm_mod_remove_rule(m, (uint32_t)id), DM_EINVAL);
    assert_int_equal(check(m, "a", "ＳＰＡＭ", 8, &r), DM_MOD_ACCEPT);
    /* bad rules are refused with a reason */
    assert_true(dm_mod_add_rule(m, 1, "([unclosed", err, sizeof err) < 0);
    assert_non_null(strstr(err, "offset"));
    assert_true(dm_mod_add_rule(m, 0, "   ", err, sizeof err) < 0);
    dm_mod_free(&m);
    assert_null(m);
}

static void test_preview(void **state)
{
    dm_moderation *m = dm_mod_new();
    const char *hits[8];
    char err[200];
    dm_mod_reason r;

    (void)state;
    check(m, "a", "first ＬＯＬ", 0, &r);
    check(m, "b", "nothing here", 0, &r);
    check(m, "c", "lol again", 0, &r);
    assert_int_equal(dm_mod_preview(m, 0, "lol", hits, 8, err, sizeof err), 2);
    assert_string_equal(hits[0], "lol again");       /* newest first */
    assert_string_equal(hits[1], "first ＬＯＬ");
    assert_int_equal(dm_mod_preview(m, 1, "^noth", hits, 8, err, sizeof err), 1);
    assert_true(dm_mod_preview(m, 1, "(", hits, 8, err, sizeof err) < 0);
    /* a preview adds no rule */
    assert_int_equal(dm_mod_rule_count(m), 0);
    dm_mod_free(&m);
}

static void test_bans_slow_mode_and_cap(void **state)
{
    dm_moderation *m = dm_mod_new();
    dm_mod_reason r;
    dm_mod_stats st;
    int accepted = 0;

    (void)state;
    assert_int_equal(dm_mod_ban(m, "troll"), 0);
    assert_int_equal(dm_mod_check(m, "troll", "x", "hi", 0, &r), DM_MOD_REJECT);
    assert_int_equal(r, DM_MOD_BANNED);
    assert_int_equal(dm_mod_ban(m, "addr-bad"), 0);
    assert_int_equal(dm_mod_check(m, "new-identity", "addr-bad", "hi", 0, &r), DM_MOD_REJECT);
    assert_int_equal(dm_mod_unban(m, "troll"), 0);
    assert_int_equal(dm_mod_check(m, "troll", "x", "hi", 0, &r), DM_MOD_ACCEPT);
    /* slow mode: 5 s between one author's comments, others unaffected */
    dm_mod_set_slow_mode(m, 5);
    assert_int_equal(check(m, "alice", "one", 100, &r), DM_MOD_ACCEPT);
    assert_int_equal(check(m, "alice", "two", 103, &r), DM_MOD_REJECT);
    assert_int_equal(r, DM_MOD_SLOW);
    assert_non_null(strstr(dm_mod_message(m, r), "5 s"));
    assert_int_equal(check(m, "bob", "hey", 103, &r), DM_MOD_ACCEPT);
    assert_int_equal(check(m, "alice", "three", 105.5, &r), DM_MOD_ACCEPT);
    /* another gateway's comment counts as this one's (the comment bus), never moving time back */
    dm_mod_note_author(m, "carol", 110);
    assert_int_equal(check(m, "carol", "here too", 112, &r), DM_MOD_REJECT);
    assert_int_equal(r, DM_MOD_SLOW);
    dm_mod_note_author(m, "carol", 100);
    assert_int_equal(check(m, "carol", "now", 115.5, &r), DM_MOD_ACCEPT);
    /* global cap: 60 a minute with a 5 s burst -> 5 at once, then one a second */
    dm_mod_set_slow_mode(m, 0);
    dm_mod_set_rate_cap(m, 60);
    for (int i = 0; i < 20; i++)
        accepted += check(m, "crowd", "x", 200, &r) == DM_MOD_ACCEPT;
    assert_int_equal(accepted, 5);
    assert_int_equal(r, DM_MOD_BUSY);
    assert_int_equal(check(m, "crowd", "x", 201.01, &r), DM_MOD_ACCEPT);
    assert_int_equal(check(m, "crowd", "x", 201.02, &r), DM_MOD_REJECT);
    dm_mod_note_author(m, "dave", 300);   /* slow mode off: nothing is remembered */
    assert_int_equal(check(m, "dave", "x", 300.1, &r) == DM_MOD_REJECT && r == DM_MOD_SLOW, 0);
    dm_mod_get_stats(m, &st);
    assert_int_equal(st.rejected[DM_MOD_BUSY], 16);
    assert_int_equal(st.rejected[DM_MOD_SLOW], 2);
    assert_int_equal(st.rejected[DM_MOD_BANNED], 2);
    dm_mod_free(&m);
}

static void test_approval_and_pause(void **state)
{
    dm_moderation *m = dm_mod_new();
    dm_mod_reason r;

    (void)state;
    dm_mod_set_approval(m, 1);
    assert_int_equal(check(m, "a", "hello", 0, &r), DM_MOD_HOLD);
    dm_mod_set_approval(m, 0);
    dm_mod_set_paused(m, 1);
    assert_int_equal(check(m, "a", "hello", 1, &r), DM_MOD_WAIT);
    dm_mod_set_paused(m, 0);
    assert_int_equal(check(m, "a", "hello", 2, &r), DM_MOD_ACCEPT);
    dm_mod_free(&m);
}

static const char *write_file(const char *body)
{
    static char path[] = "/tmp/dm-moderation-XXXXXX";
    int fd;

    strcpy(path, "/tmp/dm-moderation-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    close(fd);
    return path;
}

static void test_settings_file(void **state)
{
    dm_moderation *m = dm_mod_new();
    char err[300] = "";
    dm_mod_reason r;
    const char *p;

    (void)state;
    p = write_file("{\"approval\": false, \"slow_mode_s\": 2, \"global_rate_per_min\": 600,"
                   " \"blocklist\": [{\"keyword\": \"spam\"}, {\"regex\": \"buy\\\\s+now\"}],"
                   " \"banned\": [\"3f2a9c\"]}");
    assert_int_equal(dm_mod_load_file(m, p, err, sizeof err), 0);
    unlink(p);
    assert_int_equal(dm_mod_rule_count(m), 2);
    assert_float_equal(dm_mod_slow_mode(m), 2, 1e-9);
    assert_float_equal(dm_mod_rate_cap(m), 600, 1e-9);
    assert_int_equal(check(m, "x", "Buy  NOW", 0, &r), DM_MOD_REJECT);
    assert_int_equal(dm_mod_check(m, "3f2a9c", "y", "hello", 0, &r), DM_MOD_REJECT);
    dm_mod_free(&m);

    /* a typo is an error naming the key, not a silently missing rule */
    m = dm_mod_new();
    p = write_file("{\"blocklst\": []}");
    assert_int_not_equal(dm_mod_load_file(m, p, err, sizeof err), 0);
    unlink(p);
    assert_non_null(strstr(err, "blocklst"));
    p = write_file("{\"blocklist\": [{\"regex\": \"(\"}]}");
    assert_int_not_equal(dm_mod_load_file(m, p, err, sizeof err), 0);
    unlink(p);
    assert_non_null(strstr(err, "entry 1"));
    p = write_file("not json");
    assert_int_equal(dm_mod_load_file(m, p, err, sizeof err), DM_EPARSE);
    unlink(p);
    assert_int_equal(dm_mod_load_file(m, "/nonexistent/mod.json", err, sizeof err), DM_EIO);
    assert_non_null(strstr(err, "/nonexistent/mod.json"));
    dm_mod_free(&m);
}

/*
 * Slow mode remembers an author only while it can hold them back: a long
 * screening's passing audience (a new identity per connection) does not
 * pile up in memory.
 */
static void test_slow_mode_forgets(void **state)
{
    dm_moderation *m = dm_mod_new();
    dm_mod_reason r;
    char who[32];

    (void)state;
    dm_mod_set_slow_mode(m, 5);
    for (int i = 0; i < 100000; i++) {
        snprintf(who, sizeof who, "author-%d", i);
        assert_int_equal(check(m, who, "hello", i * 0.01, &r), DM_MOD_ACCEPT);   /* 100 new authors a second */
    }
    /* those of the last 5 s (500), give or take the table's sweep, never the 100,000 */
    assert_true(dm_mod_author_count(m) >= 500);
    assert_true(dm_mod_author_count(m) < 2048);
    /* and the rule still holds for a recent one */
    assert_int_equal(check(m, "author-99999", "again", 1000.0, &r), DM_MOD_REJECT);
    assert_int_equal(r, DM_MOD_SLOW);
    dm_mod_free(&m);
}

/*
 * Regular expressions are bounded: a pathological one is refused when added
 * or previewed; one the probes miss reaches the match limit on the comment
 * that triggers it, which then counts as no match, on the rule and in
 * dm_mod_limit_rule. (Without limits pcre2 would take ~10 million steps on
 * each such comment.)
 */
static void test_regex_limits(void **state)
{
    dm_moderation *m = dm_mod_new();
    dm_mod_reason r = DM_MOD_REASON_COUNT;
    const char *hits[4];
    char err[300], evil[400] = "";
    int id;

    (void)state;
    for (int i = 0; i < 59; i++)
        strcat(evil, "\xE5\xAD\x97");   /* 字 */
    strcat(evil, "b");
    assert_true(dm_mod_add_rule(m, 1, "^(a|aa)+$", err, sizeof err) < 0);
    assert_non_null(strstr(err, "too long"));
    assert_true(dm_mod_preview(m, 1, "^(a|aa)+$", hits, 4, err, sizeof err) < 0);
    assert_true(dm_mod_add_rule(m, 1, "(\\w+\\s?)*$", err, sizeof err) < 0);
    assert_int_equal(dm_mod_rule_count(m), 0);
    /* ordinary patterns pass the probes */
    assert_true(dm_mod_add_rule(m, 1, "buy\\s+now", err, sizeof err) > 0);
    assert_true(dm_mod_add_rule(m, 1, "^\\d{3}-\\d{4}$", err, sizeof err) > 0);
    assert_true(dm_mod_add_rule(m, 1, "(foo|bar)+baz", err, sizeof err) > 0);
    id = dm_mod_add_rule(m, 1, "^(\\p{Han}|\\p{Han}\\p{Han})+$", err, sizeof err);
    assert_true(id > 0);
    assert_int_equal(check(m, "a", evil, 0, &r), DM_MOD_ACCEPT);   /* the limit: no match */
    assert_int_equal(dm_mod_limit_rule(m), id);
    assert_int_equal(dm_mod_rule_at(m, 3)->limit_hits, 1);
    assert_int_equal(dm_mod_rule_at(m, 3)->hits, 0);
    assert_true(dm_mod_limit_hits(m) == 1);
    assert_int_equal(check(m, "a", "\xE5\xAD\x97\xE5\xAD\x97", 1, &r), DM_MOD_REJECT);   /* 字字: a quick match blocks */
    assert_int_equal(r, DM_MOD_BLOCKED);
    assert_int_equal(dm_mod_limit_rule(m), 0);   /* per check */
    assert_int_equal(check(m, "a", "BUY  now", 2, &r), DM_MOD_REJECT);
    /* a preview meeting the limit does not count on the blocklist */
    assert_true(dm_mod_preview(m, 1, "^(\\p{Han}|\\p{Han}\\p{Han})+$", hits, 4, err, sizeof err) >= 1);
    assert_true(dm_mod_limit_hits(m) == 1);
    dm_mod_free(&m);
}

static void test_tokens(void **state)
{
    char a[25], b[25];

    (void)state;
    assert_int_equal(dm_mod_token_new(a, sizeof a), 0);
    assert_int_equal(dm_mod_token_new(b, sizeof b), 0);
    assert_int_equal(strlen(a), 24);
    assert_string_not_equal(a, b);
    assert_true(dm_mod_token_equal(a, a));
    assert_false(dm_mod_token_equal(b, a));
    assert_false(dm_mod_token_equal("", a));
    assert_false(dm_mod_token_equal(NULL, a));
    memcpy(b, a, 23);
    b[23] = 0;
    assert_false(dm_mod_token_equal(b, a));            /* a prefix is not enough */
    strcpy(b, a);
    b[23] ^= 1;
    assert_false(dm_mod_token_equal(b, a));            /* nor all but the last character */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocklist_normalised),
        cmocka_unit_test(test_preview),
        cmocka_unit_test(test_bans_slow_mode_and_cap),
        cmocka_unit_test(test_approval_and_pause),
        cmocka_unit_test(test_settings_file),
        cmocka_unit_test(test_slow_mode_forgets),
        cmocka_unit_test(test_regex_limits),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
