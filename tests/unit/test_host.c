/*
 * test_host.c - the host console's pieces without sockets: the token in
 * the Authorization header, login sessions and the cookie parser, the
 * login form's body, logging out, the limit on wrong tokens, the console's
 * commands, the comment log and the comments-per-minute counter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

static void test_bearer(void **state)
{
    dm_host_auth *a = dm_host_auth_new("secret-token-1");

    (void)state;
    assert_non_null(a);
    assert_true(dm_host_auth_bearer(a, "Bearer secret-token-1"));
    assert_false(dm_host_auth_bearer(a, "Bearer secret-token-12"));
    assert_false(dm_host_auth_bearer(a, "Bearer secret-token-"));
    assert_false(dm_host_auth_bearer(a, "bearer secret-token-1"));
    assert_false(dm_host_auth_bearer(a, "secret-token-1"));
    assert_false(dm_host_auth_bearer(a, "Basic c2VjcmV0LXRva2VuLTE="));
    assert_false(dm_host_auth_bearer(a, NULL));
    dm_host_auth_free(&a);
    assert_null(a);
    /* no token given: a random one of DM_HOST_TOKEN_LEN characters, different each run */
    a = dm_host_auth_new(NULL);
    {
        dm_host_auth *b = dm_host_auth_new("");
        assert_int_equal(strlen(dm_host_auth_token(a)), DM_HOST_TOKEN_LEN);
        assert_string_not_equal(dm_host_auth_token(a), dm_host_auth_token(b));
        dm_host_auth_free(&b);
    }
    dm_host_auth_free(&a);
}

static void test_login_and_cookie(void **state)
{
    dm_host_auth *a = dm_host_auth_new("tok+en/1%");
    dm_host_auth *other = dm_host_auth_new("tok+en/1%");
    char sid[DM_HOST_SID_LEN + 1], cookie[128];
    const char *right = "token=tok%2Ben%2F1%25";

    (void)state;
    assert_false(dm_host_auth_login(a, "token=wrong", 11, sid));
    assert_false(dm_host_auth_login(a, "tok=tok%2Ben%2F1%25", 19, sid));
    assert_false(dm_host_auth_login(a, "token=tok+en/1%", 15, sid));   /* '+' is a space in a form */
    /* the form ends where its length says: its last "%2" is not completed by the byte after it */
    assert_false(dm_host_auth_login(a, right, strlen(right) - 1, sid));
    assert_true(dm_host_auth_login(a, right, strlen(right), sid));
    assert_int_equal(strlen(sid), DM_HOST_SID_LEN);
    snprintf(cookie, sizeof cookie, "theme=dark; dm_host=%s; x=1", sid);
    assert_true(dm_host_auth_cookie_session(a, cookie, NULL));
    snprintf(cookie, sizeof cookie, "dm_host=%s", sid);
    assert_true(dm_host_auth_cookie_session(a, cookie, NULL));
    /* another run (a restart) never issued it */
    assert_false(dm_host_auth_cookie_session(other, cookie, NULL));
    /* the token itself is not a session, nor a near miss */
    assert_false(dm_host_auth_cookie_session(a, "dm_host=tok+en/1%", NULL));
    cookie[strlen(cookie) - 1] ^= 1;
    assert_false(dm_host_auth_cookie_session(a, cookie, NULL));
    snprintf(cookie, sizeof cookie, "xdm_host=%s", sid);
    assert_false(dm_host_auth_cookie_session(a, cookie, NULL));
    assert_false(dm_host_auth_cookie_session(a, "", NULL));
    assert_false(dm_host_auth_cookie_session(a, NULL, NULL));
    /* the oldest session makes room: 32 more logins forget the first */
    for (int i = 0; i < 32; i++) {
        char s2[DM_HOST_SID_LEN + 1];
        assert_true(dm_host_auth_login(a, right, strlen(right), s2));
    }
    snprintf(cookie, sizeof cookie, "dm_host=%s", sid);
    assert_false(dm_host_auth_cookie_session(a, cookie, NULL));
    dm_host_auth_free(&a);
    dm_host_auth_free(&other);
}

static void test_logout(void **state)
{
    dm_host_auth *a = dm_host_auth_new("screening-token");
    const char *right = "token=screening-token";
    char s1[DM_HOST_SID_LEN + 1], s2[DM_HOST_SID_LEN + 1], got[DM_HOST_SID_LEN + 1], c1[128], c2[128];

    (void)state;
    assert_true(dm_host_auth_login(a, right, strlen(right), s1));
    assert_true(dm_host_auth_login(a, right, strlen(right), s2));
    snprintf(c1, sizeof c1, "theme=dark; dm_host=%s", s1);
    snprintf(c2, sizeof c2, "dm_host=%s", s2);
    /* the session a cookie carries, as a console keeps it */
    assert_true(dm_host_auth_cookie_session(a, c1, got));
    assert_string_equal(got, s1);
    assert_true(dm_host_auth_session_live(a, s1));
    assert_false(dm_host_auth_cookie_session(a, "dm_host=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", got));
    assert_string_equal(got, "");
    assert_false(dm_host_auth_session_live(a, "screening-token"));
    assert_false(dm_host_auth_session_live(a, ""));
    /* logging out ends that session only */
    assert_true(dm_host_auth_logout(a, c1));
    assert_false(dm_host_auth_cookie_session(a, c1, NULL));
    assert_false(dm_host_auth_session_live(a, s1));
    assert_true(dm_host_auth_cookie_session(a, c2, NULL));
    assert_true(dm_host_auth_session_live(a, s2));
    /* again, or without a session: nothing to end */
    assert_false(dm_host_auth_logout(a, c1));
    assert_false(dm_host_auth_logout(a, "dm_host=screening-token"));
    assert_false(dm_host_auth_logout(a, NULL));
    assert_true(dm_host_auth_session_live(a, s2));
    /* the token still opens a new session; the freed slot is reused before the oldest live one goes */
    for (int i = 0; i < 31; i++)
        assert_true(dm_host_auth_login(a, right, strlen(right), s1));
    assert_true(dm_host_auth_session_live(a, s2));
    assert_true(dm_host_auth_login(a, right, strlen(right), s1));
    assert_false(dm_host_auth_session_live(a, s2));
    dm_host_auth_free(&a);
}

static void fail_n(dm_host_login_limit *l, const char *addr, int n, double t, double step)
{
    for (int i = 0; i < n; i++)
        dm_host_login_failed(l, addr, t + i * step);
}

static void test_login_limit(void **state)
{
    dm_host_login_limit *l = calloc(1, sizeof *l);

    (void)state;
    assert_non_null(l);
    /* four wrong tokens: the fifth may still be tried */
    fail_n(l, "10.0.0.1", 4, 1000.0, 1.0);
    assert_int_equal(dm_host_login_wait(l, "10.0.0.1", 1003.5), 0);
    /* the fifth: the sixth is refused until the first of the five is 60 s old */
    dm_host_login_failed(l, "10.0.0.1", 1004.0);
    assert_int_equal(dm_host_login_wait(l, "10.0.0.1", 1004.0), 56);
    assert_int_equal(dm_host_login_wait(l, "10.0.0.1", 1059.5), 1);   /* rounded up */
    assert_int_equal(dm_host_login_wait(l, "10.0.0.2", 1004.0), 0);   /* per address */
    assert_int_equal(dm_host_login_wait(l, "10.0.0.10", 1004.0), 0);
    /* the window passed: one more try; wrong again, it waits for the next of the five to age */
    assert_int_equal(dm_host_login_wait(l, "10.0.0.1", 1060.0), 0);
    dm_host_login_failed(l, "10.0.0.1", 1060.0);
    assert_int_equal(dm_host_login_wait(l, "10.0.0.1", 1060.0), 1);
    assert_int_equal(dm_host_login_wait(l, "10.0.0.1", 1064.0), 0);
    /* the right token forgets the wrong ones: five more before a refusal */
    fail_n(l, "10.0.0.3", 5, 2000.0, 0.1);
    assert_true(dm_host_login_wait(l, "10.0.0.3", 2001.0) > 0);
    assert_int_equal(dm_host_login_tracked(l), 2);
    dm_host_login_succeeded(l, "10.0.0.3");
    assert_int_equal(dm_host_login_tracked(l), 1);
    assert_int_equal(dm_host_login_wait(l, "10.0.0.3", 2001.0), 0);
    fail_n(l, "10.0.0.3", 4, 2001.0, 0.1);
    assert_int_equal(dm_host_login_wait(l, "10.0.0.3", 2002.0), 0);
    dm_host_login_failed(l, "10.0.0.3", 2002.0);
    assert_int_equal(dm_host_login_wait(l, "10.0.0.3", 2002.0), 59);
    dm_host_login_succeeded(l, "10.0.0.99");   /* never seen: nothing happens */
    assert_int_equal(dm_host_login_tracked(l), 2);
    free(l);
}

static void test_login_limit_bounded(void **state)
{
    dm_host_login_limit *l = calloc(1, sizeof *l);
    char addr[32];

    (void)state;
    assert_non_null(l);
    /* a full table of refused addresses, a0 the stalest, a1 next */
    for (int i = 0; i < DM_HOST_LOGIN_ADDRS; i++) {
        snprintf(addr, sizeof addr, "10.1.%d.%d", i / 256, i % 256);
        fail_n(l, addr, 5, i * 0.1, 0.01);
    }
    assert_int_equal(dm_host_login_tracked(l), DM_HOST_LOGIN_ADDRS);
    /* a0 keeps guessing, so a1 is now the stalest: a new address takes its place */
    fail_n(l, "10.1.0.0", 5, 30.0, 0.01);
    dm_host_login_failed(l, "192.0.2.1", 31.0);
    assert_int_equal(dm_host_login_tracked(l), DM_HOST_LOGIN_ADDRS);
    assert_true(dm_host_login_wait(l, "10.1.0.0", 31.0) > 0);
    assert_int_equal(dm_host_login_wait(l, "10.1.0.1", 31.0), 0);   /* forgotten */
    assert_true(dm_host_login_wait(l, "10.1.0.2", 31.0) > 0);
    /* a flood of new addresses never grows the table; the latest are the ones kept */
    for (int i = 0; i < 10000; i++) {
        snprintf(addr, sizeof addr, "172.16.%d.%d", i / 256, i % 256);
        fail_n(l, addr, 5, 40.0 + i * 0.001, 0.0001);
    }
    assert_int_equal(dm_host_login_tracked(l), DM_HOST_LOGIN_ADDRS);
    assert_true(dm_host_login_wait(l, "172.16.39.15", 50.5) > 0);     /* the 10,000th */
    assert_int_equal(dm_host_login_wait(l, "10.1.0.0", 50.5), 0);     /* pushed out */
    free(l);
}

static const char *parse(const char *json, dm_host_cmd *cmd)
{
    return dm_net_err_code(dm_host_parse(json, strlen(json), cmd));
}

static void test_commands(void **state)
{
    dm_host_cmd cmd;

    (void)state;
    assert_string_equal(parse("{\"type\":\"approval\",\"on\":true}", &cmd), "ok");
    assert_int_equal(cmd.kind, DM_HOST_APPROVAL);
    assert_int_equal(cmd.on, 1);
    assert_string_equal(parse("{\"type\":\"delete\",\"id\":\"6b-17\"}", &cmd), "ok");
    assert_string_equal(cmd.id, "6b-17");
    assert_string_equal(parse("{\"type\":\"add_rule\",\"kind\":\"regex\",\"pattern\":\"a+b\"}", &cmd), "ok");
    assert_int_equal(cmd.is_regex, 1);
    assert_string_equal(cmd.pattern, "a+b");
    free(cmd.pattern);
    assert_string_equal(parse("{\"type\":\"slow_mode\",\"seconds\":5}", &cmd), "ok");
    assert_true(cmd.value == 5.0);
    /* refusals, each with its code from the one registry */
    assert_string_equal(parse("nope", &cmd), "bad_json");
    assert_string_equal(parse("{\"type\":\"reboot\"}", &cmd), "unknown_type");
    assert_string_equal(parse("{\"type\":\"slow_mode\",\"seconds\":-1}", &cmd), "bad_message");
    assert_string_equal(parse("{\"type\":\"delete\"}", &cmd), "bad_message");
    assert_string_equal(parse("{\"type\":\"ban\",\"who\":\"01234567890123456789\"}", &cmd), "bad_message");
    assert_string_equal(parse("{\"type\":\"add_rule\",\"kind\":\"glob\",\"pattern\":\"a\"}", &cmd), "bad_message");
    assert_null(cmd.pattern);
    /* the film controls: their numbers checked here, the entry against the programme by the console */
    assert_string_equal(parse("{\"type\":\"film_pause\"}", &cmd), "ok");
    assert_int_equal(cmd.kind, DM_HOST_FILM_PAUSE);
    assert_string_equal(parse("{\"type\":\"film_seek_by\",\"seconds\":-10}", &cmd), "ok");
    assert_true(cmd.value == -10.0);
    assert_string_equal(parse("{\"type\":\"film_jump\",\"entry\":2}", &cmd), "ok");
    assert_true(cmd.value == 2.0);
    assert_string_equal(parse("{\"type\":\"film_volume\",\"volume\":35.5}", &cmd), "ok");
    assert_string_equal(parse("{\"type\":\"break_add\",\"seconds\":300}", &cmd), "ok");
    assert_int_equal(cmd.kind, DM_HOST_BREAK_ADD);
    assert_string_equal(parse("{\"type\":\"film_seek\",\"seconds\":-1}", &cmd), "bad_message");
    assert_string_equal(parse("{\"type\":\"film_seek\",\"seconds\":1e400}", &cmd), "bad_message");
    assert_string_equal(parse("{\"type\":\"film_seek_by\",\"seconds\":\"10\"}", &cmd), "bad_message");
    assert_string_equal(parse("{\"type\":\"film_jump\",\"entry\":0.5}", &cmd), "bad_message");
    assert_string_equal(parse("{\"type\":\"film_jump\",\"entry\":-1}", &cmd), "bad_message");
    assert_string_equal(parse("{\"type\":\"film_volume\",\"volume\":100.5}", &cmd), "bad_message");
    assert_string_equal(parse("{\"type\":\"break_add\",\"seconds\":0}", &cmd), "bad_message");
    assert_string_equal(parse("{\"type\":\"break_add\",\"seconds\":3601}", &cmd), "bad_message");
}

static void test_log_and_rate(void **state)
{
    dm_host_log *l = dm_host_log_new(3);
    dm_host_entry e = { .status = DM_HOST_SHOWN, .reason = -1, .text = "hi" };
    dm_host_rate r = { { 0 }, { 0 } };
    char *js;
    int owner;

    (void)state;
    for (int i = 0; i < 5; i++) {
        snprintf(e.id, sizeof e.id, "c-%d", i);
        e.owner = i == 4 ? &owner : NULL;
        assert_non_null(dm_host_log_add(l, &e));
    }
    assert_int_equal(dm_host_log_count(l), 3);          /* the oldest went */
    assert_null(dm_host_log_find(l, "c-1"));
    assert_string_equal(dm_host_log_at(l, 0)->id, "c-2");
    dm_host_log_forget_owner(l, &owner);
    assert_null(dm_host_log_find(l, "c-4")->owner);
    dm_host_log_set_status(l, dm_host_log_find(l, "c-3"), DM_HOST_REJECTED, DM_NET_SLOW_MODE);
    js = dm_host_entry_json(dm_host_log_find(l, "c-3"), 0);
    assert_non_null(strstr(js, "\"status\":\"rejected\""));
    assert_non_null(strstr(js, "\"reason\":\"slow_mode\""));
    free(js);
    dm_host_log_free(&l);
    /* per minute: the last 60 seconds only */
    dm_host_rate_add(&r, 100.2);
    dm_host_rate_add(&r, 100.7);
    dm_host_rate_add(&r, 130.0);
    assert_int_equal(dm_host_rate_per_minute(&r, 131.0), 3);
    assert_int_equal(dm_host_rate_per_minute(&r, 161.0), 1);
    assert_int_equal(dm_host_rate_per_minute(&r, 500.0), 0);
}

/*
 * The list's index and counts: every entry is found by id after the ring
 * has wrapped many times (and the ones pushed out are not), and the held and
 * waiting counts follow status changes and evictions, with no scan.
 */
static void test_log_index_and_counts(void **state)
{
    dm_host_log *l = dm_host_log_new(1000);
    dm_host_entry e = { .reason = -1, .text = "t" };
    char id[32];

    (void)state;
    for (int i = 0; i < 5000; i++) {
        snprintf(e.id, sizeof e.id, "6b04-%d", i);
        e.status = i % 3 == 0 ? DM_HOST_HELD : i % 3 == 1 ? DM_HOST_WAITING : DM_HOST_SHOWN;
        assert_non_null(dm_host_log_add(l, &e));
    }
    for (int i = 0; i < 5000; i++) {
        dm_host_entry *f;
        snprintf(id, sizeof id, "6b04-%d", i);
        f = dm_host_log_find(l, id);
        if (i < 4000) {
            assert_null(f);
        } else {
            assert_non_null(f);
            assert_string_equal(f->id, id);
        }
    }
    /* ids 4000..4999: 4002, 4005... held (i % 3 == 0), 4000, 4003... waiting */
    assert_int_equal(dm_host_log_held(l), 333);
    assert_int_equal(dm_host_log_waiting(l), 334);
    dm_host_log_set_status(l, dm_host_log_find(l, "6b04-4002"), DM_HOST_SHOWN, -1);
    dm_host_log_set_status(l, dm_host_log_find(l, "6b04-4000"), DM_HOST_HELD, -1);
    assert_int_equal(dm_host_log_held(l), 333);
    assert_int_equal(dm_host_log_waiting(l), 333);
    /* pushing out 1,000 shown ones takes the held and waiting with them */
    e.status = DM_HOST_SHOWN;
    for (int i = 0; i < 1000; i++) {
        snprintf(e.id, sizeof e.id, "7c-%d", i);
        assert_non_null(dm_host_log_add(l, &e));
    }
    assert_int_equal(dm_host_log_held(l), 0);
    assert_int_equal(dm_host_log_waiting(l), 0);
    assert_null(dm_host_log_find(l, "6b04-4999"));
    assert_non_null(dm_host_log_find(l, "7c-0"));
    dm_host_log_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_login_and_cookie),
        cmocka_unit_test(test_logout),
        cmocka_unit_test(test_login_limit),
        cmocka_unit_test(test_login_limit_bounded),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_log_and_rate),
        cmocka_unit_test(test_log_index_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
