/*
 * bench-net-soak.c - the live feed alone under a long flood, for its memory:
 * dm_net on a loopback port, this program's main thread playing the render
 * thread (every 16 ms: the film time, host requests, comments taken and
 * freed, the screen's figures), and once a second a line of CSV with the
 * process's resident memory. danmaku-flood plays the audience
 * (tools/soak-live.sh runs both and tools/plot-rss.py draws the curve).
 *
 *     bench-net-soak --seconds 600 --csv rss.csv [--record rec.jsonl] [--web assets/web]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm_net.h"

#define PROG "bench-net-soak"
#define FRAME_US 16000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Resident memory in KiB (/proc/self/statm), or -1. */
static long rss_kib(void)
{
    long pages_total, pages_rss;
    FILE *f = fopen("/proc/self/statm", "r");
    int ok;

    if (!f)
        return -1;
    ok = fscanf(f, "%ld %ld", &pages_total, &pages_rss) == 2;
    fclose(f);
    return ok ? pages_rss * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: " PROG " --seconds S --csv FILE [--record FILE] [--web DIR]\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "seconds", required_argument, NULL, 's' }, { "csv", required_argument, NULL, 'c' },
        { "record", required_argument, NULL, 'r' }, { "web", required_argument, NULL, 'w' },
        { NULL, 0, NULL, 0 },
    };
    dm_net_opts o = DM_NET_OPTS_DEFAULT;
    const char *csv_path = NULL;
    double seconds = 0, start, next_sample;
    char err[512] = "";
    dm_net *net = NULL;
    dm_net_comment batch[512];
    dm_net_control ctl[64];
    uint64_t taken = 0;
    FILE *csv;
    int opt;

    o.addr = "127.0.0.1";
    o.port = 0;
    o.web_dir = "assets/web";
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': seconds = atof(optarg); break;
        case 'c': csv_path = optarg; break;
        case 'r': o.record_path = optarg; break;
        case 'w': o.web_dir = optarg; break;
        default: usage(); return 2;
        }
    }
    if (seconds <= 0 || !csv_path) {
        usage();
        return 2;
    }
    csv = fopen(csv_path, "w");
    if (!csv) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", csv_path, strerror(errno));
        return 1;
    }
    /* an audience well within the limits: the memory, not the refusals, is measured */
    o.rate_per_s = 1000;
    o.burst = 1000;
    o.max_per_address = 4096;
    o.max_connections = 4096;
    if (dm_net_start(&net, &o, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        fclose(csv);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fprintf(stderr, PROG ": live on port %d\n", dm_net_port(net));
    fprintf(csv, "seconds,rss_kib,accepted\n");
    start = next_sample = dm_now();
    while (!stop && dm_now() - start < seconds) {
        double now = dm_now();
        size_t k;
        dm_net_set_film_time(net, (int64_t)((now - start) * 1000), 0);
        (void)dm_net_drain_control(net, ctl, sizeof ctl / sizeof ctl[0]);
        while ((k = dm_net_drain(net, batch, sizeof batch / sizeof batch[0])) > 0) {
            for (size_t i = 0; i < k; i++)
                dm_comment_free(&batch[i].c);
            taken += k;
        }
        dm_net_set_screen_stats(net, 0, 0);
        if (now >= next_sample) {
            dm_net_stats st;
            dm_net_get_stats(net, &st);
            fprintf(csv, "%.0f,%ld,%llu\n", now - start, rss_kib(), (unsigned long long)st.accepted);
            fflush(csv);
            next_sample += 1.0;
        }
        usleep(FRAME_US);
    }
    dm_net_halt(net);
    {
        size_t k;
        do {   /* a drain stops at a request still queued: both, until neither has more */
            k = dm_net_drain(net, batch, sizeof batch / sizeof batch[0]);
            for (size_t i = 0; i < k; i++)
                dm_comment_free(&batch[i].c);
            k += dm_net_drain_control(net, ctl, sizeof ctl / sizeof ctl[0]);
        } while (k > 0);
    }
    fprintf(stderr, PROG ": %llu comments taken\n", (unsigned long long)taken);
    dm_net_stop(&net);
    fclose(csv);
    return 0;
}
