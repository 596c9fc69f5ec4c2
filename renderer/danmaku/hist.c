/*
 * hist.c - the one histogram of durations (danmaku.h, dm_hist): frame times,
 * subtitle costs, live latencies. 0.01 ms buckets up to 1 s with the exact
 * smallest and largest value and the sum beside them, so a percentile is
 * never reported above the largest value seen (a bucket's upper bound alone
 * can be) nor below the smallest, whatever the run's length.
 */
#include "danmaku.h"

#include <math.h>
#include <stdlib.h>

#define BUCKET_MS 0.01         /* resolution */
#define BUCKETS 100000         /* up to 1 s; slower ones land in the last bucket */

struct dm_hist {
    uint32_t hist[BUCKETS];
    uint64_t count;
    double min, max, sum;
};

dm_hist *dm_hist_new(void)
{
    return calloc(1, sizeof(dm_hist));
}

void dm_hist_free(dm_hist **l)
{
    free(*l);
    *l = NULL;
}

void dm_hist_add(dm_hist *l, double ms)
{
    size_t b;

    if (!isfinite(ms))
        return;
    if (ms < 0)
        ms = 0;
    b = (size_t)(ms / BUCKET_MS);
    l->hist[b < BUCKETS ? b : BUCKETS - 1]++;
    if (!l->count || ms < l->min)
        l->min = ms;
    if (!l->count || ms > l->max)
        l->max = ms;
    l->sum += ms;
    l->count++;
}

double dm_hist_percentile(const dm_hist *l, double q)
{
    uint64_t want, seen = 0;

    if (!l->count)
        return 0;
    want = (uint64_t)ceil(q * (double)l->count);
    if (want < 1)
        want = 1;
    for (size_t b = 0; b < BUCKETS; b++) {
        seen += l->hist[b];
        if (seen >= want) {
            /* the value is in this bucket, and within what was seen */
            double hi = b == BUCKETS - 1 ? l->max : (double)(b + 1) * BUCKET_MS;
            return hi > l->max ? l->max : hi < l->min ? l->min : hi;
        }
    }
    return l->max;
}

double dm_hist_max(const dm_hist *l)
{
    return l->count ? l->max : 0;
}

uint64_t dm_hist_count(const dm_hist *l)
{
    return l->count;
}

double dm_hist_mean(const dm_hist *l)
{
    return l->count ? l->sum / (double)l->count : 0;
}
