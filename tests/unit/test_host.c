/*
 * test_host.c - the host console's pieces without sockets: the token in
 * the Authorization header, login sessions and the cookie parser, the
 * login form's body, the console's commands, the comment log and the
 * comments-per-minute counter.
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
    assert_true(dm_host_auth_login(a, right, strlen(right), sid));
    assert_int_equal(strlen(sid), DM_HOST_SID_LEN);
    snprintf(cookie, sizeof cookie, "theme=dark; dm_host=%s; x=1", sid);
    assert_true(dm_host_auth_cookie(a, cookie));
    snprintf(cookie, sizeof cookie, "dm_host=%s", sid);
    assert_true(dm_host_auth_cookie(a, cookie));
    /* another run (a restart) never issued it */
    assert_false(dm_host_auth_cookie(other, cookie));
    /* the token itself is not a session, nor a near miss */
    assert_false(dm_host_auth_cookie(a, "dm_host=tok+en/1%"));
    cookie[strlen(cookie) - 1] ^= 1;
    assert_false(dm_host_auth_cookie(a, cookie));
    snprintf(cookie, sizeof cookie, "xdm_host=%s", sid);
    assert_false(dm_host_auth_cookie(a, cookie));
    assert_false(dm_host_auth_cookie(a, ""));
    assert_false(dm_host_auth_cookie(a, NULL));
    /* the oldest session makes room: 32 more logins forget the first */
    for (int i = 0; i < 32; i++) {
        char s2[DM_HOST_SID_LEN + 1];
        assert_true(dm_host_auth_login(a, right, strlen(right), s2));
    }
    snprintf(cookie, sizeof cookie, "dm_host=%s", sid);
    assert_false(dm_host_auth_cookie(a, cookie));
    dm_host_auth_free(&a);
    dm_host_auth_free(&other);
}

static int parse(const char *json, dm_host_cmd *cmd, const char **code, const char **msg)
{
    return dm_host_parse(json, strlen(json), cmd, code, msg);
}

static void test_commands(void **state)
{
    dm_host_cmd cmd;
    const char *code, *msg;

    (void)state;
    assert_int_equal(parse("{\"type\":\"approval\",\"on\":true}", &cmd, &code, &msg), 0);
    assert_int_equal(cmd.kind, DM_HOST_APPROVAL);
    assert_int_equal(cmd.on, 1);
    assert_int_equal(parse("{\"type\":\"delete\",\"id\":\"6b-17\"}", &cmd, &code, &msg), 0);
    assert_string_equal(cmd.id, "6b-17");
    assert_int_equal(parse("{\"type\":\"add_rule\",\"kind\":\"regex\",\"pattern\":\"a+b\"}", &cmd, &code, &msg),
                     0);
    assert_int_equal(cmd.is_regex, 1);
    assert_string_equal(cmd.pattern, "a+b");
    free(cmd.pattern);
    assert_int_equal(parse("{\"type\":\"slow_mode\",\"seconds\":5}", &cmd, &code, &msg), 0);
    assert_true(cmd.value == 5.0);
    /* refusals, each with its code */
    assert_int_equal(parse("nope", &cmd, &code, &msg), -1);
    assert_string_equal(code, "bad_json");
    assert_int_equal(parse("{\"type\":\"reboot\"}", &cmd, &code, &msg), -1);
    assert_string_equal(code, "unknown_type");
    assert_int_equal(parse("{\"type\":\"slow_mode\",\"seconds\":-1}", &cmd, &code, &msg), -1);
    assert_string_equal(code, "bad_message");
    assert_int_equal(parse("{\"type\":\"delete\"}", &cmd, &code, &msg), -1);
    assert_int_equal(parse("{\"type\":\"ban\",\"who\":\"01234567890123456789\"}", &cmd, &code, &msg), -1);
    assert_int_equal(parse("{\"type\":\"add_rule\",\"kind\":\"glob\",\"pattern\":\"a\"}", &cmd, &code, &msg),
                     -1);
    assert_null(cmd.pattern);
}

static void test_log_and_rate(void **state)
{
    dm_host_log *l = dm_host_log_new(3);
    dm_host_entry e = { .status = DM_HOST_SHOWN, .reason = -1, .text = "hi" };
    dm_host_pending p = { 0 };
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
    dm_host_log_find(l, "c-3")->status = DM_HOST_REJECTED;
    dm_host_log_find(l, "c-3")->reason = DM_MOD_SLOW;
    js = dm_host_entry_json(dm_host_log_find(l, "c-3"), 0);
    assert_non_null(strstr(js, "\"status\":\"rejected\""));
    assert_non_null(strstr(js, "\"reason\":\"slow_mode\""));
    free(js);
    dm_host_log_free(&l);
    assert_int_equal(dm_host_pending_push(&p, "a"), 0);
    assert_int_equal(dm_host_pending_push(&p, "b"), 0);
    assert_int_equal(dm_host_pending_remove(&p, "a"), 1);
    assert_int_equal(dm_host_pending_remove(&p, "a"), 0);
    assert_string_equal(p.ids[0], "b");
    dm_host_pending_free(&p);
    /* per minute: the last 60 seconds only */
    dm_host_rate_add(&r, 100.2);
    dm_host_rate_add(&r, 100.7);
    dm_host_rate_add(&r, 130.0);
    assert_int_equal(dm_host_rate_per_minute(&r, 131.0), 3);
    assert_int_equal(dm_host_rate_per_minute(&r, 161.0), 1);
    assert_int_equal(dm_host_rate_per_minute(&r, 500.0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_login_and_cookie),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_log_and_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
