/* clock.c - the one monotonic clock of every program (see dm_now), and
 * the calling thread's CPU time for benchmarks (dm_thread_cpu_now). */
#include "danmaku.h"

#include <time.h>

double dm_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double dm_thread_cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
