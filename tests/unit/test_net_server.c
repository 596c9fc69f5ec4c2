/*
 * test_net_server.c - dm_net's lifecycle through its public API (a real
 * server on a loopback port, no client): what the player does at the end of
 * a screening. The deletes of a clear carried out in the last drain, after
 * dm_net_halt, still reach the recording (they used to be lost: halt closed
 * the file before the queue was drained), and dm_net_close_recording says
 * whether everything was written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm_net.h"
#include "testutil.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dm-test-net.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int start(dm_net **net, const char *record)
{
    dm_net_opts o = DM_NET_OPTS_DEFAULT;
    const char *src = getenv("DM_SOURCE_DIR");
    char web[4096], err[512] = "";
    int rc;

    snprintf(web, sizeof web, "%s/assets/web", src ? src : ".");
    o.addr = "127.0.0.1";
    o.port = 0;
    o.web_dir = web;
    o.record_path = record;
    o.host_token = "test-token-123";
    rc = dm_net_start(net, &o, err, sizeof err);
    if (rc)
        print_message("dm_net_start: %s\n", err);
    return rc;
}

static void test_deletes_after_halt(void **state)
{
    char rec[128], err[256] = "";
    const char *ids[] = { "6b04-1", "6b04-2" };
    dm_net *net = NULL;
    dm_net_comment c[4];
    char *text;
    size_t len;

    (void)state;
    snprintf(rec, sizeof rec, "%s/rec.jsonl", tmpdir);
    assert_int_equal(start(&net, rec), 0);
    assert_true(dm_net_port(net) > 0);
    dm_net_halt(net);
    /* the player's final drain: nothing came in, and its clear takes two comments off */
    assert_int_equal(dm_net_drain(net, c, 4), 0);
    assert_true(dm_net_control_barrier(net) == UINT64_MAX);
    dm_net_record_deletes(net, ids, 2);
    assert_int_equal(dm_net_close_recording(net, err, sizeof err), 0);
    assert_int_equal(dm_net_close_recording(net, err, sizeof err), 0);   /* twice: nothing more to do */
    dm_net_record_deletes(net, ids, 1);   /* after the close: ignored, no crash */
    dm_net_stop(&net);
    assert_null(net);
    text = dm_test_slurp(rec, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "{\"type\":\"track\""));
    assert_non_null(strstr(text, "{\"type\":\"delete\",\"id\":\"6b04-1\"}\n{\"type\":\"delete\",\"id\":\"6b04-2\"}\n"));
    free(text);
}

/* dm_net_stop alone (no dm_net_close_recording) still writes what was queued. */
static void test_stop_writes_queued(void **state)
{
    char rec[128];
    const char *ids[] = { "7c-9" };
    dm_net *net = NULL;
    char *text;
    size_t len;

    (void)state;
    snprintf(rec, sizeof rec, "%s/rec2.jsonl", tmpdir);
    assert_int_equal(start(&net, rec), 0);
    dm_net_halt(net);
    dm_net_record_deletes(net, ids, 1);
    dm_net_stop(&net);
    text = dm_test_slurp(rec, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "{\"type\":\"delete\",\"id\":\"7c-9\"}\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deletes_after_halt),
        cmocka_unit_test(test_stop_writes_queued),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
