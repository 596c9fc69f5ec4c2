/*
 * test_programme.c - a night of films: the programme file (every field, and
 * one clear sentence for each kind of mistake), the films of the command
 * line with the tracks beside them, and each film's recording name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "programme.h"

static char dir[256];

static void put(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/dm-programme-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    put("a.mp4", "film");
    put("a.xml", "<i></i>");
    put("a.jsonl", "");
    put("b.mp4", "film");
    put("b.srt", "1\n00:00:01,000 --> 00:00:02,000\nx\n");
    put("extra.json", "[]");
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int load(const char *json, dm_programme *p, char *err, size_t len)
{
    char path[512];

    put("night.json", json);
    snprintf(path, sizeof path, "%s/night.json", dir);
    dm_programme_init(p);
    return dm_programme_load(p, path, err, len);
}

static void test_full(void **state)
{
    dm_programme p;
    char err[512] = "";

    (void)state;
    assert_int_equal(load("{\"title\": \"AI shorts\", \"intermission\": 30, \"card\": \"Back soon\","
                          " \"aigc_label\": \"AI\","
                          " \"films\": [{\"film\": \"a.mp4\", \"title\": \"First\", \"credits\": \"dir. A\","
                          " \"aigc\": true, \"tracks\": [\"a.xml\", {\"file\": \"extra.json\", \"offset\": 2.5}],"
                          " \"subtitles\": [\"b.srt\"], \"record\": \"rec-a.jsonl\", \"start\": 1, \"end\": 9},"
                          " {\"film\": \"b.mp4\"}]}", &p, err, sizeof err), 0);
    assert_int_equal(p.count, 2);
    assert_string_equal(p.title, "AI shorts");
    assert_true(p.intermission_s == 30);
    assert_string_equal(p.card_text, "Back soon");
    assert_string_equal(p.aigc_text, "AI");
    assert_string_equal(p.entries[0].title, "First");
    assert_string_equal(p.entries[0].credits, "dir. A");
    assert_true(p.entries[0].aigc);
    assert_int_equal(p.entries[0].track_count, 2);
    assert_int_equal(p.entries[0].offsets_ms[1], 2500);
    assert_non_null(strstr(p.entries[0].tracks[1], "/extra.json"));
    assert_int_equal(p.entries[0].sub_count, 1);
    assert_non_null(strstr(p.entries[0].record, "/rec-a.jsonl"));
    assert_true(p.entries[0].start == 1 && p.entries[0].end == 9);
    /* defaults: the title is the film's name, no tracks beyond those listed (not the ones beside it) */
    assert_string_equal(p.entries[1].title, "b");
    assert_int_equal(p.entries[1].track_count, 0);
    assert_false(p.entries[1].aigc);
    assert_true(p.entries[1].end < 0);
    dm_programme_free(&p);
}

static void expect_error(const char *json, const char *part1, const char *part2)
{
    dm_programme p;
    char err[512] = "";

    assert_int_equal(load(json, &p, err, sizeof err), -1);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "night.json"));
    assert_non_null(strstr(err, part1));
    if (part2)
        assert_non_null(strstr(err, part2));
    assert_null(strchr(err, '\n'));
    dm_programme_free(&p);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("{\"films\": [{\"film\": \"missing.mp4\"}]}", "films[0]", "missing.mp4 is not there");
    expect_error("{\"films\": [{\"film\": \"a.mp4\"}, {\"film\": \"a.mp4\", \"titel\": \"x\"}]}", "films[1]",
                 "unknown field \"titel\"");
    expect_error("{\"films\": [{\"film\": \"a.mp4\", \"aigc\": \"yes\"}]}", "films[0]", "\"aigc\" must be true or false");
    expect_error("{\"films\": [{\"film\": \"a.mp4\", \"start\": \"10\"}]}", "films[0]", "\"start\" must be a number");
    expect_error("{\"films\": [{\"film\": \"a.mp4\", \"tracks\": \"a.xml\"}]}", "films[0]", "\"tracks\" must be a list");
    expect_error("{\"films\": [{\"film\": \"a.mp4\", \"tracks\": [\"nope.xml\"]}]}", "films[0]", "nope.xml is not there");
    expect_error("{\"films\": [{\"film\": \"a.mp4\", \"start\": 5, \"end\": 2}]}", "films[0]", "\"end\"");
    expect_error("{\"films\": [{\"title\": \"no film\"}]}", "films[0]", "\"film\"");
    expect_error("{\"films\": []}", "no films", NULL);
    expect_error("{}", "no films", NULL);
    expect_error("{\"films\": [{\"film\": \"a.mp4\"}], \"intermision\": 10}", "unknown field \"intermision\"", NULL);
    expect_error("{\"films\": [{\"film\": \"a.mp4\"}], \"intermission\": -3}", "\"intermission\"", NULL);
    expect_error("[1, 2]", "object", NULL);
    expect_error("{\"films\": [{\"film\": \"a.mp4\"}", "not JSON", NULL);
}

static void test_command_line(void **state)
{
    dm_programme p;
    char err[512] = "", a[512], b[512], out[600];

    (void)state;
    snprintf(a, sizeof a, "%s/a.mp4", dir);
    snprintf(b, sizeof b, "%s/b.mp4", dir);
    dm_programme_init(&p);
    assert_int_equal(dm_programme_add_film(&p, a, 1, err, sizeof err), 0);
    /* a.xml and a.jsonl are beside a.mp4, in the order xml, json, jsonl, pb */
    assert_int_equal(p.entries[0].track_count, 2);
    assert_non_null(strstr(p.entries[0].tracks[0], "/a.xml"));
    assert_non_null(strstr(p.entries[0].tracks[1], "/a.jsonl"));
    /* named again after it: read once, with the offset given */
    snprintf(out, sizeof out, "%s/a.xml", dir);
    assert_int_equal(dm_programme_add_track(&p, out, 1500, err, sizeof err), 0);
    assert_int_equal(p.entries[0].track_count, 2);
    assert_int_equal(p.entries[0].offsets_ms[0], 1500);
    assert_int_equal(dm_programme_add_film(&p, b, 1, err, sizeof err), 0);
    assert_int_equal(p.entries[1].track_count, 0);
    assert_int_equal(dm_programme_add_sub(&p, "x.srt", err, sizeof err), 0);
    assert_int_equal(p.entries[1].sub_count, 1);
    /* recordings: derived per film when there are several */
    dm_programme_file_for(&p, 1, "/rec/night.jsonl", NULL, out, sizeof out);
    assert_string_equal(out, "/rec/night-02-b.jsonl");
    dm_programme_file_for(&p, 0, "night", NULL, out, sizeof out);
    assert_string_equal(out, "night-01-a");
    dm_programme_file_for(&p, 0, "/rec/night.jsonl", "/own.jsonl", out, sizeof out);
    assert_string_equal(out, "/own.jsonl");
    dm_programme_file_for(&p, 0, NULL, NULL, out, sizeof out);
    assert_string_equal(out, "");
    dm_programme_free(&p);
    /* one film: the option as given */
    dm_programme_init(&p);
    assert_int_equal(dm_programme_add_film(&p, b, 0, err, sizeof err), 0);
    dm_programme_file_for(&p, 0, "/rec/night.jsonl", NULL, out, sizeof out);
    assert_string_equal(out, "/rec/night.jsonl");
    assert_int_equal(dm_programme_add_track(&p, "t.xml", 0, err, sizeof err), 0);
    dm_programme_free(&p);
    assert_int_equal(dm_programme_add_track(&p, "t.xml", 0, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full), cmocka_unit_test(test_errors), cmocka_unit_test(test_command_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
