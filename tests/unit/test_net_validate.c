/*
 * test_net_validate.c - the live feed's message checks: every hostile input
 * of the protocol gets its documented error code, and clean text comes out
 * as documented (controls, bidi, zero-width stripped; marks limited).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dm_net.h"
#include "net_validate.h"

static const dm_net_limits lim = DM_NET_LIMITS_DEFAULT;

static dm_net_err parse(const char *json, dm_net_submission *s)
{
    return dm_net_parse_message(json, strlen(json), &lim, s);
}

/* Parse, expect success, return the cleaned text (caller frees). */
static char *accepted_text(const char *json)
{
    dm_net_submission s;
    dm_net_err e = parse(json, &s);

    assert_int_equal(e, DM_NET_OK);
    assert_int_equal(s.kind, DM_NET_MSG_COMMENT);
    assert_non_null(s.text);
    return s.text;
}

static void test_minimal_comment(void **state)
{
    dm_net_submission s;

    (void)state;
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"hello\"}", &s), DM_NET_OK);
    assert_string_equal(s.text, "hello");
    assert_int_equal(s.mode, DM_MODE_SCROLL);
    assert_int_equal(s.size, DM_SIZE_NORMAL);
    assert_int_equal(s.color, 0xFFFFFF);
    free(s.text);
}

static void test_all_fields(void **state)
{
    dm_net_submission s;

    (void)state;
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"前方高能\",\"color\":\"#fe0302\","
                           "\"mode\":\"top\",\"size\":\"large\"}", &s), DM_NET_OK);
    assert_string_equal(s.text, "前方高能");
    assert_int_equal(s.mode, DM_MODE_TOP);
    assert_int_equal(s.size, DM_SIZE_LARGE);
    assert_int_equal(s.color, 0xFE0302);
    free(s.text);
}

static void test_field_sets(void **state)
{
    dm_net_submission s;

    (void)state;
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\",\"color\":\"#123456\"}", &s), DM_NET_BAD_COLOR);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\",\"color\":\"red\"}", &s), DM_NET_BAD_COLOR);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\",\"color\":16777215}", &s), DM_NET_BAD_COLOR);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\",\"mode\":\"positioned\"}", &s), DM_NET_BAD_MODE);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\",\"mode\":\"reverse\"}", &s), DM_NET_BAD_MODE);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\",\"size\":\"huge\"}", &s), DM_NET_BAD_SIZE);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\",\"size\":1}", &s), DM_NET_BAD_SIZE);
}

static void test_message_shape(void **state)
{
    dm_net_submission s;

    (void)state;
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":", &s), DM_NET_BAD_JSON);
    assert_int_equal(parse("not json", &s), DM_NET_BAD_JSON);
    assert_int_equal(parse("[1,2]", &s), DM_NET_BAD_JSON);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\"} trailing", &s), DM_NET_BAD_JSON);
    assert_int_equal(parse("{\"text\":\"a\"}", &s), DM_NET_BAD_MESSAGE);
    assert_int_equal(parse("{\"type\":7,\"text\":\"a\"}", &s), DM_NET_BAD_MESSAGE);
    assert_int_equal(parse("{\"type\":\"vote\",\"text\":\"a\"}", &s), DM_NET_UNKNOWN_TYPE);
    assert_int_equal(parse("{\"type\":\"comment\"}", &s), DM_NET_BAD_TEXT);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":42}", &s), DM_NET_BAD_TEXT);
    assert_int_equal(parse("{\"type\":\"subscribe\"}", &s), DM_NET_OK);
    assert_int_equal(s.kind, DM_NET_MSG_SUBSCRIBE);
    assert_int_equal(parse("{\"type\":\"ping\"}", &s), DM_NET_OK);
    assert_int_equal(s.kind, DM_NET_MSG_PING);
}

static void test_unknown_fields_ignored(void **state)
{
    char *t;

    (void)state;
    t = accepted_text("{\"type\":\"comment\",\"text\":\"ok\",\"avatar\":{\"x\":[1,2]},\"extra\":null}");
    assert_string_equal(t, "ok");
    free(t);
}

static void test_nul_and_surrogates(void **state)
{
    dm_net_submission s;
    char *t;

    (void)state;
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\\u0000b\"}", &s), DM_NET_BAD_TEXT);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\\ud800b\"}", &s), DM_NET_BAD_TEXT);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"a\\udc00\"}", &s), DM_NET_BAD_TEXT);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"\\ud83d\\ud83d\"}", &s), DM_NET_BAD_TEXT);
    /* a surrogate pair is fine, and an escaped backslash before u0000 is literal text */
    t = accepted_text("{\"type\":\"comment\",\"text\":\"\\ud83d\\ude00\"}");
    assert_string_equal(t, "\xF0\x9F\x98\x80");
    free(t);
    t = accepted_text("{\"type\":\"comment\",\"text\":\"\\\\u0000\"}");
    assert_string_equal(t, "\\u0000");
    free(t);
}

/*
 * A raw NUL byte (not the \u0000 escape) in a message: inside a string it
 * used to be accepted and the text silently cut ("a\0b" recorded as "a");
 * it is refused like the escaped form, bad_text, and elsewhere bad_json.
 */
static void test_raw_nul(void **state)
{
    static const char in_text[] = "{\"type\":\"comment\",\"text\":\"a\0b\"}";
    static const char in_key[] = "{\"type\":\"comment\",\"te\0xt\":\"ab\"}";
    static const char outside[] = "{\"type\":\"comment\",\"text\":\"ab\"}\0";
    static const char escaped_quote[] = "{\"type\":\"comment\",\"text\":\"a\\\"\0\"}";
    dm_net_submission s;

    (void)state;
    assert_int_equal(dm_net_parse_message(in_text, sizeof in_text - 1, &lim, &s), DM_NET_BAD_TEXT);
    assert_null(s.text);
    assert_int_equal(dm_net_parse_message(in_key, sizeof in_key - 1, &lim, &s), DM_NET_BAD_TEXT);
    assert_int_equal(dm_net_parse_message(outside, sizeof outside - 1, &lim, &s), DM_NET_BAD_JSON);
    /* an escaped quote does not end the string: the NUL after it is still inside */
    assert_int_equal(dm_net_parse_message(escaped_quote, sizeof escaped_quote - 1, &lim, &s), DM_NET_BAD_TEXT);
}

static void test_invalid_utf8(void **state)
{
    char *out = NULL;

    (void)state;
    assert_int_equal(dm_net_clean_text("a\xC3(", 3, &lim, &out), DM_NET_BAD_TEXT);
    assert_null(out);
    assert_int_equal(dm_net_clean_text("\xED\xA0\x80", 3, &lim, &out), DM_NET_BAD_TEXT);   /* CESU surrogate */
    assert_int_equal(dm_net_clean_text("\xC0\xAF", 2, &lim, &out), DM_NET_BAD_TEXT);       /* overlong */
}

static void test_controls_stripped(void **state)
{
    char *t;

    (void)state;
    /* C0, DEL, C1 (U+0085 NEL becomes a space like other line breaks; U+0090 goes) */
    t = accepted_text("{\"type\":\"comment\",\"text\":\"a\\u0007b\\u007fc\\u0090d\\te\\n\\nf\"}");
    assert_string_equal(t, "abcd e f");
    free(t);
}

static void test_bidi_and_zero_width_stripped(void **state)
{
    char *t;

    (void)state;
    t = accepted_text("{\"type\":\"comment\",\"text\":\"\\u202Eevil\\u202C \\u2066x\\u2069\\u200By\\u200c\\ufeffz\"}");
    assert_string_equal(t, "evil xyz");
    free(t);
    /* a joiner inside an emoji sequence survives (family: man ZWJ woman) */
    t = accepted_text("{\"type\":\"comment\",\"text\":\"\\ud83d\\udc68\\u200d\\ud83d\\udc69\"}");
    assert_string_equal(t, "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9");
    free(t);
    /* but not between letters */
    t = accepted_text("{\"type\":\"comment\",\"text\":\"a\\u200db\"}");
    assert_string_equal(t, "ab");
    free(t);
}

static void test_nothing_visible(void **state)
{
    dm_net_submission s;

    (void)state;
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"\"}", &s), DM_NET_EMPTY_TEXT);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"   \\n\\t \"}", &s), DM_NET_EMPTY_TEXT);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"\\u200b\\u200c\\u200d\\u2060\\ufeff\"}", &s),
                     DM_NET_EMPTY_TEXT);
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"\\u202e\\u202d\"}", &s), DM_NET_EMPTY_TEXT);
    /* combining marks with no base */
    assert_int_equal(parse("{\"type\":\"comment\",\"text\":\"\\u0301\\u0301\"}", &s), DM_NET_EMPTY_TEXT);
}

static void test_zalgo_limited(void **state)
{
    char json[4096], *t;
    size_t n = 0;

    (void)state;
    n += (size_t)snprintf(json + n, sizeof json - n, "{\"type\":\"comment\",\"text\":\"e");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(json + n, sizeof json - n, "\\u0301");
    snprintf(json + n, sizeof json - n, "!\"}");
    t = accepted_text(json);
    /* e + two acute accents (2 bytes each) + ! */
    assert_string_equal(t, "e\xCC\x81\xCC\x81!");
    free(t);
}

static void test_length_caps(void **state)
{
    dm_net_submission s;
    char *json = malloc(40000), *t;
    size_t n;

    (void)state;
    assert_non_null(json);
    n = (size_t)sprintf(json, "{\"type\":\"comment\",\"text\":\"");
    for (int i = 0; i < 10000; i++)
        json[n++] = 'a';
    strcpy(json + n, "\"}");
    assert_int_equal(parse(json, &s), DM_NET_TOO_LONG);
    /* exactly at the grapheme cap is fine; one over is not */
    n = (size_t)sprintf(json, "{\"type\":\"comment\",\"text\":\"");
    for (int i = 0; i < lim.max_graphemes; i++)
        n += (size_t)sprintf(json + n, "字");
    strcpy(json + n, "\"}");
    t = accepted_text(json);
    free(t);
    n += (size_t)sprintf(json + n, "字");
    strcpy(json + n, "\"}");
    assert_int_equal(parse(json, &s), DM_NET_TOO_LONG);
    /* graphemes, not code points: 40 flags are 80 code points but 40 graphemes */
    n = (size_t)sprintf(json, "{\"type\":\"comment\",\"text\":\"");
    for (int i = 0; i < 40; i++)
        n += (size_t)sprintf(json + n, "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5");
    strcpy(json + n, "\"}");
    t = accepted_text(json);
    free(t);
    free(json);
}

static void test_whitespace_folded(void **state)
{
    char *t;

    (void)state;
    t = accepted_text("{\"type\":\"comment\",\"text\":\"  hello \\u3000\\u2028 world  \"}");
    assert_string_equal(t, "hello world");
    free(t);
}

static void test_error_json(void **state)
{
    char *s;

    (void)state;
    s = dm_net_error_json(DM_NET_RATE_LIMITED, 2500);
    assert_non_null(s);
    assert_non_null(strstr(s, "\"code\":\"rate_limited\""));
    assert_non_null(strstr(s, "wait 3 s"));
    assert_non_null(strstr(s, "\"retry_ms\":2500"));
    free(s);
    /* slow mode's interval as a number too: the pages say the sentence in their own language */
    s = dm_net_error_json_slow("Slow mode: one comment every 60 s.", 60);
    assert_non_null(s);
    assert_non_null(strstr(s, "\"code\":\"slow_mode\""));
    assert_non_null(strstr(s, "\"every_s\":60"));
    assert_non_null(strstr(s, "every 60 s."));
    free(s);
    for (int e = 1; e < DM_NET_ERR_COUNT; e++) {
        assert_true(strlen(dm_net_err_code((dm_net_err)e)) > 2);
        assert_true(strlen(dm_net_err_message((dm_net_err)e)) > 5);
    }
    assert_string_equal(dm_net_err_code(DM_NET_TOO_LONG), "too_long");
}

static void test_qr(void **state)
{
    uint8_t *m = NULL;
    int w = 0, dark = 0;
    char url[128];

    (void)state;
    assert_int_equal(dm_net_lan_url(8080, url, sizeof url), 0);
    assert_int_equal(strncmp(url, "http://", 7), 0);
    assert_non_null(strstr(url, ":8080/"));
    assert_int_equal(dm_net_qr("http://192.168.1.20:8080/", &m, &w), 0);
    assert_true(w >= 21 && (w - 21) % 4 == 0);
    for (int i = 0; i < w * w; i++) {
        assert_true(m[i] == 0 || m[i] == 1);
        dark += m[i];
    }
    /* the three finder patterns: corners dark, the module inside their ring light */
    assert_int_equal(m[0], 1);
    assert_int_equal(m[w - 1], 1);
    assert_int_equal(m[(w - 1) * w], 1);
    assert_int_equal(m[1 * w + 1], 0);
    assert_true(dark > w * w / 4 && dark < w * w * 3 / 4);
    free(m);
    assert_int_equal(dm_net_qr("", &m, &w), DM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_comment),    cmocka_unit_test(test_all_fields),
        cmocka_unit_test(test_field_sets),         cmocka_unit_test(test_message_shape),
        cmocka_unit_test(test_unknown_fields_ignored), cmocka_unit_test(test_nul_and_surrogates),
        cmocka_unit_test(test_invalid_utf8),       cmocka_unit_test(test_controls_stripped),
        cmocka_unit_test(test_bidi_and_zero_width_stripped), cmocka_unit_test(test_nothing_visible),
        cmocka_unit_test(test_zalgo_limited),      cmocka_unit_test(test_length_caps),
        cmocka_unit_test(test_whitespace_folded),  cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_raw_nul),            cmocka_unit_test(test_qr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
