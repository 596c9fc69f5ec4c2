/*
 * test_feed.c - the live feed's hand-over between threads (net/feed.c) and
 * the recording's writer (net/recorder.c), without sockets:
 *
 * - a recording whose disk stalls (a FIFO whose reader reads nothing for a
 *   while) never holds up the render thread: it goes on taking comments,
 *   host requests and film times, and queueing deletes, while no line can
 *   be written; and no comment is reported written (so acked) before its
 *   line is out of the writer;
 * - the queue's order is the stamps' order and the recording's order;
 * - reservations bound what waits for the disk;
 * - a write cut part-way (the disk fills) leaves no half line behind: the
 *   file is truncated back to its last whole line, the comment is refused,
 *   and once writing works again the file is still a valid track (a file
 *   size limit, RLIMIT_FSIZE, stands for the full disk).
 */
#define _GNU_SOURCE   /* F_SETPIPE_SZ */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "feed.h"
#include "recorder.h"

#define COMMENTS 40
#define RENDER_ROUNDS 150

static atomic_int wakes;

/* The whole file, NUL-terminated; NULL on failure. */
static char *slurp_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;

    if (!fp)
        return NULL;
    buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, (1 << 20) - 1, fp) : 0;
    fclose(fp);
    if (buf)
        buf[*len] = 0;
    return buf;
}

static void count_wake(void *ud)
{
    (void)ud;
    atomic_fetch_add(&wakes, 1);
}

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dm-test-feed.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A reserved, stamped comment and its line, as the network thread hands them over (now: its fast way). */
static int submit_how(dm_recorder *r, dm_feed *f, int i, int now)
{
    dm_net_comment nc = { 0 };
    char text[32], id[32];
    int64_t t_ms;
    int pass;

    assert_int_equal(dm_feed_reserve(f, &t_ms, &pass), 0);
    snprintf(text, sizeof text, "stalled %d", i);
    snprintf(id, sizeof id, "t-%d", i);
    nc.c.t_ms = t_ms;
    nc.c.pass = pass;
    nc.c.text = strdup(text);
    nc.c.id = strdup(id);
    nc.c.author = strdup("abcd0123");
    nc.c.color = 0xFFFFFF;
    nc.c.weight = -1;
    nc.c.count = 1;
    assert_non_null(nc.c.text);
    if (now)
        return dm_recorder_comment_now(r, dm_jsonl_comment_line(&nc.c), &nc);
    assert_int_equal(dm_recorder_comment(r, dm_jsonl_comment_line(&nc.c), &nc), 0);
    return 0;
}

static void submit(dm_recorder *r, dm_feed *f, int i)
{
    submit_how(r, f, i, 0);
}

/* Read what the FIFO holds now (non-blocking) onto *buf. */
static void read_fifo(int fd, char **buf, size_t *len, size_t *cap)
{
    for (;;) {
        ssize_t got;
        if (*cap - *len < 65536) {
            *cap = *cap * 2 + 65536;
            *buf = realloc(*buf, *cap);
            assert_non_null(*buf);
        }
        got = read(fd, *buf + *len, *cap - *len - 1);
        if (got <= 0)
            break;
        *len += (size_t)got;
    }
    (*buf)[*len] = 0;
}

static void test_stalled_disk(void **state)
{
    char fifo[128], filler[512];
    dm_feed *f = dm_feed_new(1000, count_wake, NULL);
    dm_recorder *r = NULL;
    char err[256] = "", *seen = NULL;
    size_t seen_len = 0, seen_cap = 0, results = 0, drained = 0;
    int rfd, wfd, res[COMMENTS];
    double worst = 0;

    (void)state;
    assert_non_null(f);
    snprintf(fifo, sizeof fifo, "%s/rec.fifo", tmpdir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    /* a reader that holds the FIFO open and reads nothing: the writer's disk */
    rfd = open(fifo, O_RDONLY | O_NONBLOCK);
    assert_true(rfd >= 0);
    (void)fcntl(rfd, F_SETPIPE_SZ, 4096);
    assert_int_equal(dm_recorder_open(&r, fifo, 1234, f, count_wake, NULL, err, sizeof err), 0);
    /* fill the pipe, so the writer's next write blocks until the reader reads */
    wfd = open(fifo, O_WRONLY | O_NONBLOCK);
    assert_true(wfd >= 0);
    memset(filler, 'x', sizeof filler - 1);
    filler[sizeof filler - 1] = '\n';
    while (write(wfd, filler, sizeof filler) > 0)
        ;
    while (write(wfd, "\n", 1) > 0)   /* to the last byte: a short line would still fit otherwise */
        ;
    assert_int_equal(errno, EAGAIN);
    /* the fast way finds the pipe full: handed over, not written, not waited for */
    assert_int_equal(submit_how(r, f, 0, 1), 0);
    for (int i = 1; i < COMMENTS; i++)
        submit(r, f, i);

    /* the render thread's frames: every call returns at once, with the disk stalled throughout */
    for (int round = 0; round < RENDER_ROUNDS; round++) {
        dm_net_comment got[8];
        dm_net_control ctl[8];
        char id[32];
        const char *ids[1] = { id };
        double t0 = dm_now(), dt;
        snprintf(id, sizeof id, "cleared-%d", round);
        dm_feed_set_film_time(f, 1000 + round * 16);
        drained += dm_feed_drain(f, got, 8);
        (void)dm_feed_drain_control(f, ctl, 8);
        (void)dm_feed_control_barrier(f);
        dm_feed_set_screen_stats(f, 3, 0);
        assert_int_equal(dm_recorder_deletes(r, ids, 1), 0);   /* what dm_net_record_deletes does */
        dt = dm_now() - t0;
        if (dt > worst)
            worst = dt;
        usleep(2000);
    }
    /* nothing got through meanwhile: the disk was stalled the whole time, and nothing was reported written */
    assert_int_equal(drained, 0);
    assert_int_equal(dm_recorder_results(r, res, COMMENTS), 0);
    print_message("# %d render rounds while the recording was stalled; slowest %.3f ms\n", RENDER_ROUNDS,
                  worst * 1000);
    /* generous: a round is a few lock operations; waiting on the disk would take the whole stall */
    assert_true(worst < 0.1);

    /* the disk frees up: every result comes once its line has left the writer, never before */
    while (results < COMMENTS) {
        size_t k = dm_recorder_results(r, res, COMMENTS);
        read_fifo(rfd, &seen, &seen_len, &seen_cap);
        for (size_t i = 0; i < k; i++) {
            char want[64];
            assert_int_equal(res[i], 0);
            snprintf(want, sizeof want, "\"text\":\"stalled %zu\"", results + i);
            assert_non_null(strstr(seen, want));
        }
        results += k;
        usleep(1000);
    }
    /* ...and the comments are in the queue in that order */
    {
        dm_net_comment got[COMMENTS];
        size_t n = dm_feed_drain(f, got, COMMENTS);
        assert_int_equal(n, COMMENTS);
        for (size_t i = 0; i < n; i++) {
            char want[32];
            snprintf(want, sizeof want, "stalled %zu", i);
            assert_string_equal(got[i].c.text, want);
            dm_comment_free(&got[i].c);
        }
    }
    dm_recorder_sync(r);
    assert_int_equal(dm_recorder_close(&r, err, sizeof err), 0);
    assert_null(r);
    read_fifo(rfd, &seen, &seen_len, &seen_cap);
    /* the deletes queued during the stall are all written too, after the comments queued before them */
    assert_non_null(strstr(seen, "{\"type\":\"delete\",\"id\":\"cleared-0\"}\n"));
    assert_non_null(strstr(seen, "{\"type\":\"delete\",\"id\":\"cleared-149\"}\n"));
    assert_true(strstr(seen, "cleared-0") > strstr(seen, "\"stalled 39\""));
    free(seen);
    close(wfd);
    close(rfd);
    dm_feed_free(&f);
}

/* The next result, waiting for it (the writer thread reports it). */
static int next_result(dm_recorder *r)
{
    int res;

    for (int i = 0; i < 5000; i++) {
        if (dm_recorder_results(r, &res, 1) == 1)
            return res;
        usleep(1000);
    }
    fail_msg("no result from the recorder");
    return -1;
}

static void test_cut_line_truncated(void **state)
{
    char path[128], err[256] = "", *text;
    dm_feed *f = dm_feed_new(100, NULL, NULL);
    dm_recorder *r = NULL;
    struct rlimit old, lim;
    struct stat st;
    dm_net_comment got[4];
    dm_record_status rs;
    size_t len, lines = 0;
    const char *del[] = { "t-0" };

    (void)state;
    snprintf(path, sizeof path, "%s/cut.jsonl", tmpdir);
    assert_int_equal(dm_recorder_open(&r, path, 77, f, NULL, NULL, err, sizeof err), 0);
    /* the fast way: written at once, no result to wait for */
    assert_int_equal(submit_how(r, f, 0, 1), 1);
    {
        size_t l0;
        char *t0 = slurp_file(path, &l0);
        assert_non_null(t0);
        assert_non_null(strstr(t0, "\"text\":\"stalled 0\""));
        free(t0);
    }
    assert_int_equal(stat(path, &st), 0);
    /* the disk fills: room for part of the next line only */
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)st.st_size + 60;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    submit(r, f, 1);
    assert_int_equal(next_result(r), EFBIG);   /* refused: never acked */
    dm_recorder_status(r, &rs);
    assert_int_equal(rs.error, EFBIG);
    assert_int_equal(rs.refused, 1);
    {
        struct stat now;
        assert_int_equal(stat(path, &now), 0);
        assert_int_equal(now.st_size, st.st_size);   /* the cut line is gone */
    }
    /* the fast way leaves a failing disk to the writer: handed over, refused the same way */
    assert_int_equal(submit_how(r, f, 1, 1), 0);
    assert_int_equal(next_result(r), EFBIG);
    assert_int_equal(dm_recorder_deletes(r, del, 1), 0);   /* small enough to fit the room left */
    /* space is back */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    submit(r, f, 2);
    assert_int_equal(next_result(r), 0);
    dm_recorder_status(r, &rs);
    assert_int_equal(rs.error, 0);
    assert_int_equal(dm_recorder_close(&r, err, sizeof err), 0);
    signal(SIGXFSZ, SIG_DFL);
    /* a valid track: every line whole JSON, the acked comments and the delete, not the refused one */
    text = slurp_file(path, &len);
    assert_non_null(text);
    assert_true(len > 0 && text[len - 1] == '\n');
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        cJSON *j;
        *nl = 0;
        j = cJSON_Parse(line);
        assert_non_null(j);
        cJSON_Delete(j);
        lines++;
    }
    assert_int_equal(lines, 4);   /* header, stalled 0, stalled 2, the delete */
    free(text);
    text = slurp_file(path, &len);
    assert_non_null(strstr(text, "\"text\":\"stalled 0\""));
    assert_null(strstr(text, "\"text\":\"stalled 1\""));
    assert_non_null(strstr(text, "\"text\":\"stalled 2\""));
    assert_non_null(strstr(text, "{\"type\":\"delete\",\"id\":\"t-0\"}"));
    free(text);
    assert_int_equal(dm_feed_drain(f, got, 4), 2);
    dm_comment_free(&got[0].c);
    dm_comment_free(&got[1].c);
    dm_feed_free(&f);
}

/* Reservations count against the queue's cap, whether recorded yet or not; a refused write gives the place back. */
static void test_reservations(void **state)
{
    dm_feed *f = dm_feed_new(3, NULL, NULL);
    dm_net_comment nc = { 0 }, got[4];
    int64_t t;
    int pass;

    (void)state;
    dm_feed_set_film_time(f, 5000);
    assert_int_equal(dm_feed_reserve(f, &t, &pass), 0);
    assert_int_equal(t, 5000);
    assert_int_equal(dm_feed_reserve(f, &t, &pass), 0);
    assert_int_equal(dm_feed_reserve(f, &t, &pass), 0);
    assert_int_equal(dm_feed_reserve(f, &t, &pass), -1);   /* full, though nothing is queued yet */
    dm_feed_unreserve(f);
    assert_int_equal(dm_feed_reserve(f, &t, &pass), 0);
    nc.c.text = strdup("a");
    dm_feed_commit(f, &nc);
    assert_int_equal(dm_feed_drain(f, got, 4), 1);
    dm_comment_free(&got[0].c);
    assert_int_equal(dm_feed_reserve(f, &t, &pass), 0);   /* the drained one's place is free again */
    /* a host request counts the comments committed before it */
    assert_int_equal(dm_feed_push_control(f, DM_NET_CLEAR, NULL), 0);
    assert_int_equal(dm_feed_control_barrier(f), 1);
    /* a backward seek starts a pass; a small step back is held */
    dm_feed_set_film_time(f, 4800);
    assert_int_equal(dm_feed_reserve(f, &t, &pass), -1);
    dm_feed_unreserve(f);
    assert_int_equal(dm_feed_reserve(f, &t, &pass), 0);
    assert_int_equal(t, 5000);
    assert_int_equal(pass, 0);
    dm_feed_unreserve(f);
    dm_feed_set_film_time(f, 1000);
    assert_int_equal(dm_feed_reserve(f, &t, &pass), 0);
    assert_int_equal(t, 1000);
    assert_int_equal(pass, 1);
    dm_feed_free(&f);
}

/* A comment reserved and committed, as the service thread queues one. */
static void queue_text(dm_feed *f, const char *text)
{
    dm_net_comment nc = { 0 };
    int64_t t;
    int pass;

    assert_int_equal(dm_feed_reserve(f, &t, &pass), 0);
    nc.c.text = strdup(text);
    dm_feed_commit(f, &nc);
}

/* Host requests run in their place: a comment queued after a clear is never drained before it,
 * even by a render thread that read the barrier before the clear came (it drains afterwards). */
static void test_drain_stops_at_request(void **state)
{
    dm_feed *f = dm_feed_new(8, NULL, NULL);
    dm_net_comment got[4];
    dm_net_control ctl[2];

    (void)state;
    dm_feed_set_film_time(f, 1000);
    assert_int_equal(dm_feed_control_barrier(f), UINT64_MAX);   /* what the render thread read first */
    queue_text(f, "before");
    assert_int_equal(dm_feed_push_control(f, DM_NET_CLEAR, NULL), 0);
    queue_text(f, "after");
    queue_text(f, "after");
    assert_int_equal(dm_feed_drain(f, got, 4), 1);   /* the comment before the clear, and no further */
    assert_string_equal(got[0].c.text, "before");
    dm_comment_free(&got[0].c);
    assert_int_equal(dm_feed_drain(f, got, 4), 0);
    assert_int_equal(dm_feed_drain_control(f, ctl, 2), 1);
    assert_int_equal(ctl[0].kind, DM_NET_CLEAR);
    assert_int_equal(ctl[0].after, 1);
    assert_int_equal(dm_feed_drain(f, got, 4), 2);   /* the clear carried out: the rest */
    assert_string_equal(got[0].c.text, "after");
    dm_comment_free(&got[0].c);
    dm_comment_free(&got[1].c);
    dm_feed_free(&f);
}

/* A recording that cannot be written at all is refused at start, naming the file and the reason. */
static void test_unwritable(void **state)
{
    dm_feed *f = dm_feed_new(3, NULL, NULL);
    dm_recorder *r = NULL;
    char err[256] = "";

    (void)state;
    assert_int_equal(dm_recorder_open(&r, "/dev/full", 1, f, NULL, NULL, err, sizeof err), DM_EIO);
    assert_null(r);
    assert_non_null(strstr(err, "/dev/full"));
    assert_non_null(strstr(err, strerror(ENOSPC)));
    assert_int_equal(dm_recorder_open(&r, "/nonexistent-dir/rec.jsonl", 1, f, NULL, NULL, err, sizeof err), DM_EIO);
    assert_non_null(strstr(err, "/nonexistent-dir/rec.jsonl"));
    dm_feed_free(&f);
}

/* A night: the intake closes (no place for a comment), settles once the places taken are given back or committed,
 * and a new film stamps from 0 again, in the first pass; the film controls keep their value and entry. */
static void test_intake_and_new_film(void **state)
{
    dm_feed *f = dm_feed_new(8, NULL, NULL);
    dm_net_comment nc = { 0 }, got[4];
    dm_net_control ctl[2];
    int64_t t;
    int pass;

    (void)state;
    dm_feed_set_film_time(f, 9000);
    dm_feed_set_film_time(f, 1000);   /* a rewind: pass 1 */
    assert_int_equal(dm_feed_reserve(f, &t, &pass), 0);
    assert_int_equal(dm_feed_new_film(f), -1);   /* the intake is open */
    dm_feed_set_intake(f, 0);
    assert_false(dm_feed_intake_open(f));
    assert_int_equal(dm_feed_reserve(f, &t, &pass), -2);
    assert_false(dm_feed_intake_settled(f));   /* one comment still holds its place */
    assert_int_equal(dm_feed_new_film(f), -1);
    nc.c.text = strdup("last of film one");
    dm_feed_commit(f, &nc);
    assert_true(dm_feed_intake_settled(f));
    assert_int_equal(dm_feed_drain(f, got, 4), 1);
    assert_int_equal(got[0].c.pass, 0);   /* (committed as given) */
    dm_comment_free(&got[0].c);
    assert_int_equal(dm_feed_new_film(f), 0);
    dm_feed_set_intake(f, 1);
    assert_true(dm_feed_intake_open(f));
    assert_int_equal(dm_feed_reserve(f, &t, &pass), 0);
    assert_int_equal(t, 0);
    assert_int_equal(pass, 0);
    dm_feed_unreserve(f);
    assert_int_equal(dm_feed_push_film(f, DM_NET_FILM_SEEK_BY, -10, 0), 0);
    assert_int_equal(dm_feed_push_film(f, DM_NET_FILM_JUMP, 0, 2), 0);
    assert_int_equal(dm_feed_drain_control(f, ctl, 2), 2);
    assert_int_equal(ctl[0].kind, DM_NET_FILM_SEEK_BY);
    assert_true(ctl[0].value == -10);
    assert_int_equal(ctl[1].kind, DM_NET_FILM_JUMP);
    assert_int_equal(ctl[1].entry, 2);
    assert_int_equal(ctl[1].after, 1);
    dm_feed_free(&f);
}

/* The recording of a night: each film's file closed whole, the next one a new track; a film without a file
 * commits its comments unrecorded. */
static void test_reopen(void **state)
{
    dm_feed *f = dm_feed_new(64, NULL, NULL);
    dm_recorder *r = NULL;
    char one[128], two[128], err[256] = "", *buf;
    dm_net_comment got[8];
    size_t len;

    (void)state;
    snprintf(one, sizeof one, "%s/one.jsonl", tmpdir);
    snprintf(two, sizeof two, "%s/two.jsonl", tmpdir);
    assert_int_equal(dm_recorder_open(&r, one, 7, f, NULL, NULL, err, sizeof err), 0);
    submit(r, f, 1);
    submit(r, f, 2);
    dm_recorder_sync(r);
    assert_int_equal(dm_recorder_reopen(r, two, 7, err, sizeof err), 0);
    submit(r, f, 3);
    submit_how(r, f, 4, 1);
    dm_recorder_sync(r);
    assert_int_equal(dm_recorder_reopen(r, NULL, 7, err, sizeof err), 0);
    assert_int_equal(submit_how(r, f, 5, 1), 1);   /* no file: straight to the queue */
    assert_int_equal(dm_recorder_reopen(r, "/nonexistent-dir/x.jsonl", 7, err, sizeof err), DM_EIO);
    assert_non_null(strstr(err, "/nonexistent-dir/x.jsonl"));
    assert_int_equal(submit_how(r, f, 6, 1), 0);   /* handed to the writer, which cannot write it */
    dm_recorder_sync(r);
    assert_int_equal(dm_recorder_close(&r, err, sizeof err), 0);
    assert_int_equal(dm_feed_drain(f, got, 8), 5);   /* 1-5; 6 was refused */
    for (int i = 0; i < 5; i++)
        dm_comment_free(&got[i].c);
    buf = slurp_file(one, &len);
    assert_non_null(buf);
    assert_non_null(strstr(buf, "\"type\":\"track\""));
    assert_non_null(strstr(buf, "stalled 1") && strstr(buf, "stalled 2"));
    assert_null(strstr(buf, "stalled 3"));
    assert_int_equal(buf[len - 1], '\n');
    free(buf);
    buf = slurp_file(two, &len);
    assert_non_null(buf);
    assert_true(!strncmp(buf, "{\"type\":\"track\"", 15));
    assert_non_null(strstr(buf, "stalled 3") && strstr(buf, "stalled 4"));
    assert_null(strstr(buf, "stalled 2"));
    assert_null(strstr(buf, "stalled 5"));
    free(buf);
    dm_feed_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stalled_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_line_truncated, setup, teardown),
        cmocka_unit_test(test_reservations),
        cmocka_unit_test(test_drain_stops_at_request),
        cmocka_unit_test(test_unwritable),
        cmocka_unit_test(test_intake_and_new_film),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
