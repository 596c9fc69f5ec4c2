/*
 * measure_ahead.c - helpers measuring a scene's comments ahead of its
 * layout (see measure_ahead.h).
 *
 * Each comment of a start has a slot with a state: free, taken by the
 * layout's thread, taken by a helper, or measured. The helpers share one
 * cursor going down from the last job and take a slot only while it is
 * free; the layout's thread takes its comments going up. A helper that
 * finds its slot taken, or the cursor at or below where the layout is,
 * stops: everything below is the layout's, measured or passed over.
 */
#define _GNU_SOURCE   /* sched_getaffinity, CPU_COUNT */
#include "measure_ahead.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { SLOT_IDLE, SLOT_FREE, SLOT_CALLER, SLOT_HELPER, SLOT_DONE };

typedef struct slot {
    _Atomic unsigned char state;
    int w, h, rc;               /* a helper's result, once SLOT_DONE */
    long pos;                   /* its job's place in the start's order */
} slot;

typedef struct helper {
    dm_ahead *a;
    void *clone;                /* this helper's measurer, kept from start to start */
    pthread_t thread;
    int running;
} helper;

struct dm_ahead {
    dm_measure_fn measure;
    void *ud;
    void *(*clone)(void *ud);
    void (*clone_free)(void *clone);
    int nthreads;
    helper helpers[DM_AHEAD_MAX_THREADS];
    slot *slots;                /* per comment index */
    size_t nslots;
    const dm_ahead_job *jobs;   /* the running start's, NULL when none runs */
    size_t njobs;
    atomic_long back;           /* the helpers' cursor: jobs below it are taken or not theirs */
    atomic_long front;          /* the last job the layout's thread measured */
    uint64_t by_helpers, by_caller;
};

static int threads_for(int threads)
{
    cpu_set_t set;
    int n = 1;

    if (threads < 0)
        return 0;
    if (threads == 0) {
        if (sched_getaffinity(0, sizeof set, &set) == 0)
            n = CPU_COUNT(&set);
        threads = n - 1;
    }
    return threads < DM_AHEAD_MAX_THREADS ? threads : DM_AHEAD_MAX_THREADS;
}

/*
 * A helper's allocations (the fonts its measurer opens, the glyphs and
 * shaped text it remembers) grow its thread's malloc arena a few pages at
 * a time, and each growth is an mprotect, after which the kernel interrupts
 * the process's other threads to flush their TLBs. In a virtual machine
 * each interruption costs tens of microseconds: the 500-odd of a first
 * layout made it slower with a helper than without (42-48 ms against 33 ms
 * for a 10,000-comment track; 22 ms with this). glibc is asked to grow a
 * heap 16 MB at a time (address space, not memory); setting that turns off
 * its sliding mmap and trim thresholds, so they are fixed where the sliding
 * ones end up (32 MB, and twice that), and large blocks keep coming from
 * the heap as before.
 */
static void malloc_for_helpers(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
#endif
}

dm_ahead *dm_ahead_new(dm_measure_fn measure, void *ud, void *(*clone)(void *ud), void (*clone_free)(void *clone),
                       int threads)
{
    static pthread_once_t tuned = PTHREAD_ONCE_INIT;
    dm_ahead *a;

    if (!measure || !clone || !clone_free)
        return NULL;
    a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->measure = measure;
    a->ud = ud;
    a->clone = clone;
    a->clone_free = clone_free;
    a->nthreads = threads_for(threads);
    if (a->nthreads)
        pthread_once(&tuned, malloc_for_helpers);
    for (int k = 0; k < a->nthreads; k++)
        a->helpers[k].a = a;
    return a;
}

void dm_ahead_free(dm_ahead **pa)
{
    dm_ahead *a = pa ? *pa : NULL;

    if (!a)
        return;
    dm_ahead_stop(a);
    for (int k = 0; k < a->nthreads; k++)
        if (a->helpers[k].clone)
            a->clone_free(a->helpers[k].clone);
    free(a->slots);
    free(a);
    *pa = NULL;
}

static void *helper_main(void *arg)
{
    helper *hp = arg;
    dm_ahead *a = hp->a;

    if (!hp->clone)
        hp->clone = a->clone(a->ud);   /* here, while the layout has begun */
    if (!hp->clone)
        return NULL;
    for (;;) {
        long k = atomic_fetch_sub(&a->back, 1) - 1;
        const dm_ahead_job *job;
        unsigned char free_state = SLOT_FREE;
        slot *sl;

        if (k < 0 || k <= atomic_load_explicit(&a->front, memory_order_relaxed))
            break;
        job = &a->jobs[k];
        sl = &a->slots[job->index];
        if (!atomic_compare_exchange_strong(&sl->state, &free_state, SLOT_HELPER))
            break;
        sl->rc = a->measure(hp->clone, job->text, job->height_px, &sl->w, &sl->h);
        atomic_store_explicit(&sl->state, SLOT_DONE, memory_order_release);
    }
    return NULL;
}

void dm_ahead_start(dm_ahead *a, const dm_ahead_job *jobs, size_t n, size_t count)
{
    sigset_t all, old;
    int started = 0;

    if (!a || a->jobs || !a->nthreads || n < DM_AHEAD_MIN_JOBS)
        return;
    if (count > a->nslots) {
        slot *v = realloc(a->slots, count * sizeof *v);
        if (!v)
            return;
        memset(v + a->nslots, 0, (count - a->nslots) * sizeof *v);
        a->slots = v;
        a->nslots = count;
    }
    for (size_t k = 0; k < n; k++)
        if (jobs[k].index >= count)
            return;
    for (size_t k = 0; k < n; k++) {
        a->slots[jobs[k].index].pos = (long)k;
        atomic_store_explicit(&a->slots[jobs[k].index].state, SLOT_FREE, memory_order_relaxed);
    }
    a->jobs = jobs;
    a->njobs = n;
    atomic_store(&a->front, -1);
    atomic_store(&a->back, (long)n);
    /* the helpers take no signals: those are the program's threads' to handle */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int k = 0; k < a->nthreads; k++) {
        helper *hp = &a->helpers[k];
        hp->running = pthread_create(&hp->thread, NULL, helper_main, hp) == 0;
        started += hp->running;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started)
        dm_ahead_stop(a);
}

int dm_ahead_measure(dm_ahead *a, uint32_t i, const char *text, int height_px, int *w, int *h)
{
    const dm_ahead_job *job;
    unsigned char state = SLOT_FREE;
    slot *sl;

    if (!a)
        return DM_EINVAL;
    if (!a->jobs || i >= a->nslots || atomic_load_explicit(&a->slots[i].state, memory_order_relaxed) == SLOT_IDLE)
        goto here;
    sl = &a->slots[i];
    job = &a->jobs[sl->pos];
    if (job->index != i || job->text != text || job->height_px != height_px)
        goto here;
    atomic_store_explicit(&a->front, sl->pos, memory_order_relaxed);
    if (atomic_compare_exchange_strong(&sl->state, &state, SLOT_CALLER))
        goto here;
    /* a helper has it: done, or about to be */
    while ((state = atomic_load_explicit(&sl->state, memory_order_acquire)) == SLOT_HELPER)
        sched_yield();
    if (state == SLOT_DONE) {
        a->by_helpers++;
        *w = sl->w;
        *h = sl->h;
        return sl->rc;
    }
here:
    a->by_caller++;
    return a->measure(a->ud, text, height_px, w, h);
}

void dm_ahead_stop(dm_ahead *a)
{
    if (!a || !a->jobs)
        return;
    atomic_store(&a->back, -1);
    for (int k = 0; k < a->nthreads; k++)
        if (a->helpers[k].running) {
            pthread_join(a->helpers[k].thread, NULL);
            a->helpers[k].running = 0;
        }
    for (size_t k = 0; k < a->njobs; k++)
        atomic_store_explicit(&a->slots[a->jobs[k].index].state, SLOT_IDLE, memory_order_relaxed);
    a->jobs = NULL;
    a->njobs = 0;
}

void dm_ahead_counts(const dm_ahead *a, uint64_t *by_helpers, uint64_t *by_caller)
{
    *by_helpers = a ? a->by_helpers : 0;
    *by_caller = a ? a->by_caller : 0;
}
