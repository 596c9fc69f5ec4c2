/*
 * recorder.c - the recording's writer thread (see recorder.h): lines queued
 * by the network thread (comments) and by any thread (deletes) are written
 * in batches with write(2), outside every lock but its own queue's, which
 * no write is made under.
 *
 * A write that fails part-way (the disk fills: ENOSPC) leaves a cut line.
 * The file is truncated back to the end of its last whole line, so it stays
 * a valid track holding every acked comment and nothing else; where it
 * cannot be (a FIFO, a failed truncate) the fragment is ended with a newline
 * before anything else is written, so it is one invalid line a reader skips
 * and the next line is whole. The comments of the failed batch are refused
 * (never acked); its deletes are kept and written once the disk takes them.
 * The failure goes to stderr once, then as a count at most every
 * RECORD_LOG_S, and once more when writing works again.
 */
#define _GNU_SOURCE   /* pthread_setname_np */
#include "recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RECORD_LOG_S 5.0          /* while writing fails, one line on stderr at most this often */
#define RETRY_CAP 65536           /* delete lines kept for a disk that is full; more are lost */
#define RETRY_WAIT_S 1            /* with only those to write, try again this often */

typedef struct rec_job {
    struct rec_job *next;
    char *line;               /* one JSON line with its '\n', owned */
    size_t len;
    size_t off;               /* bytes of it the network thread already wrote (dm_recorder_comment_now) */
    int is_comment;           /* else a delete line */
    dm_net_comment c;         /* a comment's, owned until committed to the feed */
} rec_job;

struct dm_recorder {
    /* set by open (and by reopen while nothing is written), read-only otherwise */
    dm_bus *bus;              /* publishing to the comment bus instead of writing a file (bus.h), NULL: a file */
    char *path;               /* NULL: no file (a night's film that is not recorded) */
    int fd;                   /* -1 with a path: it could not be opened (writes fail with open_errno) */
    int open_errno;
    dm_feed *feed;
    void (*done)(void *ud);
    void *done_ud;
    pthread_t thread;
    /* protected by lock */
    pthread_mutex_t lock;
    pthread_cond_t wake;      /* jobs queued, or closing */
    pthread_cond_t idle;      /* a batch finished (dm_recorder_sync) */
    rec_job *head, *tail;     /* queued, oldest first */
    uint64_t queued_seq;      /* comments ever handed over */
    uint64_t done_seq;        /* comments ever settled (written or refused) */
    size_t inflight;          /* comments handed over and not yet taken by dm_recorder_results */
    int results[DM_RECORDER_INFLIGHT_CAP]; /* ring of finished comments' results */
    size_t r_head, r_count;
    int closing;
    int waiting;              /* the writer waits for jobs: a new one must signal it (else it finds it anyway) */
    int writing;              /* a write is under way (the writer's batch, or the network thread's line) */
    int failing;              /* the last write failed: the network thread leaves writing to the writer */
    int announced;            /* `done` was called for results not yet all taken: no need to call it again */
    atomic_int ready;         /* results are waiting (read without the lock by dm_recorder_has_results) */
    int retry_tries;          /* closing: tries left for kept deletes */
    dm_record_status status;
    /* writer thread only */
    char *buf;                /* a batch's lines, end to end */
    size_t buf_cap;
    int regular;              /* a regular file: a cut line can be truncated away */
    off_t size;               /* its length: the end of its last whole line */
    int need_newline;         /* a cut line could not be removed: end it before writing again */
    size_t partial;           /* bytes of a line the network thread began (not counted in size) */
    rec_job *retry;           /* delete lines a failed write could not take, oldest first */
    size_t retry_count;
    double failing_since;     /* when writing started failing (0: it works) */
    double logged_at;         /* the last stderr line about it */
    uint64_t refused_unlogged;/* comments refused since that line */
};

static void job_free(rec_job *j)
{
    if (j->is_comment)
        dm_comment_free(&j->c.c);
    free(j->line);
    free(j);
}

/* Queue a job (lock held). */
static void enqueue(dm_recorder *r, rec_job *j)
{
    j->next = NULL;
    if (r->tail)
        r->tail->next = j;
    else
        r->head = j;
    r->tail = j;
    r->queued_seq += j->is_comment;
    if (r->waiting)
        pthread_cond_signal(&r->wake);   /* a busy writer takes it with its next batch: no wake-up per line */
}

/* The batch end to end in r->buf; its length, or (size_t)-1 when out of memory. */
static size_t gather(dm_recorder *r, const rec_job *batch)
{
    size_t total = 0, at = 0;

    for (const rec_job *j = batch; j; j = j->next)
        total += j->len - j->off;
    if (total > r->buf_cap) {
        char *b = realloc(r->buf, total);
        if (!b)
            return (size_t)-1;
        r->buf = b;
        r->buf_cap = total;
    }
    for (const rec_job *j = batch; j; j = j->next) {
        memcpy(r->buf + at, j->line + j->off, j->len - j->off);
        at += j->len - j->off;
    }
    return total;
}

/*
 * Write len bytes of buf: 0, or the errno of the write that failed; *done
 * gets the bytes written. The descriptor is non-blocking (for the network
 * thread's attempt, dm_recorder_comment_now): here a full pipe is waited for.
 */
static int write_all(int fd, const char *buf, size_t len, size_t *done)
{
    *done = 0;
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                (void)poll(&pfd, 1, -1);
                continue;
            }
            return errno;
        }
        buf += w;
        len -= (size_t)w;
        *done += (size_t)w;
    }
    return 0;
}

/*
 * Write the batch (after a newline that ends a fragment, if one is owed).
 * 0, or the errno; on failure the file is back at its last whole line, or
 * a newline is owed.
 */
static int write_lines(dm_recorder *r, size_t len)
{
    size_t done = 0;
    int e;

    if (!r->path) {
        r->partial = 0;
        return 0;   /* a film that is not recorded */
    }
    if (r->fd < 0)
        return r->open_errno ? r->open_errno : EBADF;   /* its file could not be opened */
    if (r->need_newline) {
        e = write_all(r->fd, "\n", 1, &done);
        if (e)
            return e;
        r->need_newline = 0;
        r->size += 1;
    }
    e = write_all(r->fd, r->buf, len, &done);
    if (!e) {
        r->size += (off_t)(len + r->partial);
        r->partial = 0;
        return 0;
    }
    if ((done || r->partial) && !(r->regular && ftruncate(r->fd, r->size) == 0))
        r->need_newline = 1;
    r->partial = 0;
    return e;
}

/* stderr: the first failure, a count every RECORD_LOG_S while it lasts, the recovery. */
static void report(dm_recorder *r, int e, size_t refused)
{
    double now = dm_now();

    if (e && !r->failing_since) {
        r->failing_since = r->logged_at = now;
        r->refused_unlogged = 0;
        fprintf(stderr, "danmaku: recording stopped: cannot write %s: %s; comments are refused until it can be "
                        "written again\n", r->path, strerror(e));
    }
    r->refused_unlogged += refused;
    if (e && now - r->logged_at >= RECORD_LOG_S) {
        fprintf(stderr, "danmaku: recording still stopped (%s): %llu comment%s refused in the last %.0f s\n",
                strerror(e), (unsigned long long)r->refused_unlogged, r->refused_unlogged == 1 ? "" : "s",
                now - r->logged_at);
        r->logged_at = now;
        r->refused_unlogged = 0;
    }
    if (!e && r->failing_since) {
        fprintf(stderr, "danmaku: recording resumed after %.0f s: %s is written again\n", now - r->failing_since,
                r->path);
        r->failing_since = 0;
    }
}

/* Results of a settled batch's comments, in order, for the network thread (lock held). */
static int post_result(dm_recorder *r, int e)
{
    r->results[(r->r_head + r->r_count) % DM_RECORDER_INFLIGHT_CAP] = e;
    r->r_count++;
    return e;
}

/* The network thread is told once until it has taken the results (lock held): 1 when `done` is due. */
static int announce_results(dm_recorder *r, size_t comments)
{
    if (!comments)
        return 0;
    atomic_store(&r->ready, 1);
    if (r->announced)
        return 0;
    r->announced = 1;
    return 1;
}

/*
 * The bus's batch: every comment line published with its id and
 * acknowledged by JetStream, or refused (ENOTCONN). A published comment
 * gives its place in the feed back: it reaches this process's screen, if
 * any, through the stream like everyone else's (bus.h). Delete lines are
 * the screen's own business here: the stream keeps the comments.
 */
static void publish_batch(dm_recorder *r, rec_job *batch)
{
    size_t n = 0, k = 0, refused = 0;
    const char **lines;
    const char **ids, **authors;
    size_t *lens;
    int *res, e = 0, announce;

    for (rec_job *j = batch; j; j = j->next)
        n += j->is_comment;
    lines = calloc(n ? n : 1, sizeof *lines);
    ids = calloc(n ? n : 1, sizeof *ids);
    authors = calloc(n ? n : 1, sizeof *authors);
    lens = calloc(n ? n : 1, sizeof *lens);
    res = calloc(n ? n : 1, sizeof *res);
    if (lines && ids && authors && lens && res) {
        for (rec_job *j = batch; j; j = j->next)
            if (j->is_comment) {
                lines[k] = j->line;
                lens[k] = j->len;
                authors[k] = j->c.who;
                ids[k++] = j->c.c.id ? j->c.c.id : "";
            }
        dm_bus_publish_comments(r->bus, lines, lens, ids, authors, n, res);
    } else {
        for (size_t i = 0; res && i < n; i++)
            res[i] = ENOMEM;
    }
    k = 0;
    pthread_mutex_lock(&r->lock);
    for (rec_job *j = batch; j;) {
        rec_job *next = j->next;
        if (j->is_comment) {
            int je = post_result(r, res ? res[k++] : ENOMEM);
            dm_feed_unreserve(r->feed);
            if (je) {
                refused++;
                e = je;
            } else {
                r->status.written++;
            }
        }
        job_free(j);
        j = next;
    }
    r->status.refused += refused;
    r->status.error = e;
    r->done_seq += n;
    announce = announce_results(r, n);
    pthread_cond_broadcast(&r->idle);
    pthread_mutex_unlock(&r->lock);
    free(lines);
    free(ids);
    free(authors);
    free(lens);
    free(res);
    if (announce && r->done)
        r->done(r->done_ud);
}

/* Write one batch (retried deletes first) and settle each of its jobs. */
static void write_batch(dm_recorder *r, rec_job *batch)
{
    size_t len, comments = 0, refused = 0, lines = 0;
    rec_job *keep = NULL, **keep_tail = &keep;
    int e, announce;

    if (r->retry) {
        rec_job *t = r->retry;
        while (t->next)
            t = t->next;
        t->next = batch;
        batch = r->retry;
        r->retry = NULL;
        r->retry_count = 0;
    }
    if (r->bus) {
        publish_batch(r, batch);
        return;
    }
    len = gather(r, batch);
    e = len == (size_t)-1 ? ENOMEM : write_lines(r, len);
    /* the feed first, under its own lock only: the render thread may take them at once */
    for (rec_job *j = batch; j; j = j->next) {
        lines++;
        if (!j->is_comment)
            continue;
        comments++;
        if (e) {
            dm_feed_unreserve(r->feed);
            refused++;
            continue;
        }
        dm_feed_commit(r->feed, &j->c);   /* the feed owns the strings now */
        memset(&j->c, 0, sizeof j->c);
    }
    pthread_mutex_lock(&r->lock);
    for (rec_job *j = batch; j;) {
        rec_job *next = j->next;
        if (j->is_comment)
            post_result(r, e);
        if (e && !j->is_comment && r->retry_count < RETRY_CAP) {
            /* a delete already happened on screen: it waits for the disk instead of being refused */
            j->next = NULL;
            *keep_tail = j;
            keep_tail = &j->next;
            r->retry_count++;
            lines--;   /* not done yet */
        } else {
            if (e && !j->is_comment)
                r->status.lost_deletes++;
            job_free(j);
        }
        j = next;
    }
    r->retry = keep;
    if (!e)
        r->status.written += lines;
    r->status.refused += refused;
    r->status.error = e;
    r->failing = e != 0;
    r->done_seq += comments;
    /* one wake-up of the network thread until it has taken the results, however many batches come meanwhile */
    announce = announce_results(r, comments);
    pthread_cond_broadcast(&r->idle);
    pthread_mutex_unlock(&r->lock);
    report(r, e, refused);
    if (announce && r->done)
        r->done(r->done_ud);
}

static void *writer_main(void *ud)
{
    dm_recorder *r = ud;
    int e;

    pthread_mutex_lock(&r->lock);
    for (;;) {
        rec_job *batch;
        /* and while the service thread writes a line of its own (dm_recorder_comment_now): what
         * is queued meanwhile goes after it, and the file's size is one thread's at a time */
        while (r->writing || (!r->head && !r->closing)) {
            if (r->retry && !r->writing) {
                /* deletes wait for the disk: try again a moment later, or with the next line queued */
                struct timespec until;
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += RETRY_WAIT_S;
                r->waiting = 1;
                e = pthread_cond_timedwait(&r->wake, &r->lock, &until);
                r->waiting = 0;
                if (e && !r->head)
                    break;
            } else {
                r->waiting = 1;
                pthread_cond_wait(&r->wake, &r->lock);
                r->waiting = 0;
            }
        }
        if (!r->head && !r->retry)
            break;   /* closing, and everything is written */
        if (!r->head && r->closing && r->retry_tries++ >= 1)
            break;   /* closing: the kept deletes had one more try */
        batch = r->head;
        r->head = r->tail = NULL;
        r->writing = 1;
        pthread_mutex_unlock(&r->lock);
        write_batch(r, batch);
        pthread_mutex_lock(&r->lock);
        r->writing = 0;
        pthread_cond_broadcast(&r->idle);   /* dm_recorder_reopen waits for the batch's end */
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Open `path` for appending into r (fd, regular, size), the track header in a new file. 0 or DM_EIO with err. */
static int open_file(dm_recorder *r, const char *path, long long session, char *err, size_t errlen)
{
    struct stat st;
    char header[160];
    int e;

    r->open_errno = 0;
    r->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0666);
    if (r->fd < 0 || fstat(r->fd, &st)) {
        r->open_errno = errno;
        snprintf(err, errlen, "cannot write the recording %s: %s", path, strerror(errno));
        goto fail;
    }
    r->regular = S_ISREG(st.st_mode);
    r->size = r->regular ? st.st_size : 0;
    r->need_newline = 0;
    r->partial = 0;
    if (!S_ISREG(st.st_mode) || st.st_size == 0) {
        int n = snprintf(header, sizeof header,
                         "{\"type\":\"track\",\"format\":\"danmaku\",\"version\":1,\"live\":true,\"started_at\":%lld}\n",
                         session);
        size_t wrote;
        e = write_all(r->fd, header, (size_t)n, &wrote);
        if (e) {
            r->open_errno = e;
            snprintf(err, errlen, "cannot write the recording %s: %s", path, strerror(e));
            goto fail;
        }
        r->size += n;
    } else {
        /* appending is right after a crash or a restart of the same screening */
        fprintf(stderr, "danmaku: %s is not empty: this screening's comments are appended to it "
                        "(a new screening wants a new file)\n", path);
    }
    return 0;
fail:
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    return DM_EIO;
}

int dm_recorder_open(dm_recorder **out, const char *path, long long session, dm_feed *feed,
                     void (*done)(void *ud), void *done_ud, char *err, size_t errlen)
{
    dm_recorder *r;

    *out = NULL;
    r = calloc(1, sizeof *r);
    if (!r || (path && !(r->path = strdup(path)))) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return DM_ENOMEM;
    }
    r->feed = feed;
    r->done = done;
    r->done_ud = done_ud;
    r->fd = -1;
    if (path && open_file(r, path, session, err, errlen))
        goto fail;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    pthread_cond_init(&r->idle, NULL);
    if (pthread_create(&r->thread, NULL, writer_main, r)) {
        pthread_cond_destroy(&r->idle);
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        snprintf(err, errlen, "cannot start the recording's thread");
        goto fail;
    }
    pthread_setname_np(r->thread, "dm-record");
    *out = r;
    return 0;
fail:
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free(r);
    return DM_EIO;
}

int dm_recorder_open_bus(dm_recorder **out, dm_bus *bus, dm_feed *feed, void (*done)(void *ud), void *done_ud,
                         char *err, size_t errlen)
{
    int e = dm_recorder_open(out, NULL, 0, feed, done, done_ud, err, errlen);

    if (!e)
        (*out)->bus = bus;   /* before any comment: the writer reads it only with a batch */
    return e;
}

int dm_recorder_reopen(dm_recorder *r, const char *path, long long session, char *err, size_t errlen)
{
    char *copy = path ? strdup(path) : NULL;
    int rc = 0, old;

    if (path && !copy) {
        snprintf(err, errlen, "out of memory");
        return DM_ENOMEM;
    }
    pthread_mutex_lock(&r->lock);
    /* the last film's lines are all written first */
    while (r->head || r->writing)
        pthread_cond_wait(&r->idle, &r->lock);
    for (rec_job *j = r->retry; j;) {
        rec_job *next = j->next;
        r->status.lost_deletes++;
        job_free(j);
        j = next;
    }
    r->retry = NULL;
    r->retry_count = 0;
    old = r->fd;
    if (old >= 0 && close(old)) {
        snprintf(err, errlen, "cannot close the recording %s: %s", r->path, strerror(errno));
        rc = DM_EIO;
    }
    free(r->path);
    r->path = copy;
    r->fd = -1;
    r->need_newline = 0;
    r->partial = 0;
    r->status.error = 0;
    r->failing = 0;
    if (copy) {
        char e2[512];
        if (open_file(r, copy, session, e2, sizeof e2)) {
            snprintf(err, errlen, "%s", e2);
            r->status.error = r->open_errno ? r->open_errno : EBADF;
            r->failing = 1;
            rc = DM_EIO;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int dm_recorder_comment(dm_recorder *r, char *line, const dm_net_comment *c)
{
    rec_job *j = calloc(1, sizeof *j);

    if (!j)
        return -1;
    pthread_mutex_lock(&r->lock);
    if (r->inflight >= DM_RECORDER_INFLIGHT_CAP) {
        pthread_mutex_unlock(&r->lock);
        free(j);
        return -1;
    }
    j->line = line;
    j->len = strlen(line);
    j->is_comment = 1;
    j->c = *c;
    r->inflight++;
    enqueue(r, j);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

/* The service thread's own write is over (lock held): the writer may go on, a reopen too. */
static void end_own_write(dm_recorder *r)
{
    r->writing = 0;
    if (r->waiting)
        pthread_cond_signal(&r->wake);   /* lines queued meanwhile, or a close waiting for the write */
    pthread_cond_broadcast(&r->idle);    /* dm_recorder_reopen waits for no write under way */
}

int dm_recorder_comment_now(dm_recorder *r, char *line, const dm_net_comment *c)
{
    size_t len = strlen(line);
    ssize_t w;
    rec_job *j;

    pthread_mutex_lock(&r->lock);
    if (r->bus) {
        /* the bus: published (and acknowledged) on the writer's thread, a batch at a time */
        pthread_mutex_unlock(&r->lock);
        return dm_recorder_comment(r, line, c) ? -1 : 0;
    }
    if (!r->path && !r->head && !r->writing) {
        /* a night's film that is not recorded: straight to the screen */
        pthread_mutex_unlock(&r->lock);
        dm_feed_commit(r->feed, c);
        free(line);
        return 1;
    }
    if (r->head || r->writing || r->retry || r->failing || r->need_newline || r->closing || r->fd < 0 ||
        r->inflight >= DM_RECORDER_INFLIGHT_CAP) {
        pthread_mutex_unlock(&r->lock);
        return dm_recorder_comment(r, line, c) ? -1 : 0;
    }
    r->writing = 1;   /* the writer waits, and nothing is queued: this line is next */
    pthread_mutex_unlock(&r->lock);
    do
        w = write(r->fd, line, len);
    while (w < 0 && errno == EINTR);
    if (w == (ssize_t)len) {
        r->size += (off_t)len;
        dm_feed_commit(r->feed, c);
        free(line);
        pthread_mutex_lock(&r->lock);
        r->status.written++;
        end_own_write(r);
        pthread_mutex_unlock(&r->lock);
        return 1;
    }
    /* not all of it now (a full pipe, a full disk): the writer finishes it first, or fails it */
    j = calloc(1, sizeof *j);
    if (!j) {
        /* a started line cannot be left cut: write the rest from here, still the one writing
         * (rare: out of memory) */
        size_t done = 0, off = w > 0 ? (size_t)w : 0;
        int e = write_all(r->fd, line + off, len - off, &done), cut = 0;
        if (!e)
            r->size += (off_t)len;
        else
            cut = (off || done) && !(r->regular && ftruncate(r->fd, r->size) == 0);
        pthread_mutex_lock(&r->lock);
        if (!e)
            r->status.written++;
        if (cut)
            r->need_newline = 1;
        end_own_write(r);
        pthread_mutex_unlock(&r->lock);
        if (!e) {
            dm_feed_commit(r->feed, c);
            free(line);
            return 1;
        }
        dm_feed_unreserve(r->feed);
        free(line);
        return -2;
    }
    pthread_mutex_lock(&r->lock);
    end_own_write(r);
    j->line = line;
    j->len = len;
    j->off = w > 0 ? (size_t)w : 0;
    j->is_comment = 1;
    j->c = *c;
    r->partial = j->off;
    r->inflight++;
    j->next = r->head;   /* before anything queued meanwhile */
    r->head = j;
    if (!r->tail)
        r->tail = j;
    r->queued_seq++;
    if (r->waiting)
        pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

/* {"type":"delete","id":"..."}\n; ids are the server's own ("hex-seq"), JSON-safe, but escaped anyway. */
static char *delete_line(const char *id)
{
    size_t n = strlen(id), k = 0;
    char *s = malloc(32 + 2 * n);

    if (!s)
        return NULL;
    k = (size_t)sprintf(s, "{\"type\":\"delete\",\"id\":\"");
    for (size_t i = 0; i < n; i++) {
        if (id[i] == '"' || id[i] == '\\')
            s[k++] = '\\';
        if ((unsigned char)id[i] >= 0x20)
            s[k++] = id[i];
    }
    memcpy(s + k, "\"}\n", 4);
    return s;
}

int dm_recorder_deletes(dm_recorder *r, const char *const *ids, size_t count)
{
    rec_job *first = NULL, **tail = &first;
    size_t made = 0;

    for (size_t i = 0; i < count; i++) {
        rec_job *j = calloc(1, sizeof *j);
        if (j)
            j->line = delete_line(ids[i]);
        if (!j || !j->line) {
            free(j);
            break;
        }
        j->len = strlen(j->line);
        *tail = j;
        tail = &j->next;
        made++;
    }
    pthread_mutex_lock(&r->lock);
    for (rec_job *j = first; j;) {
        rec_job *next = j->next;
        enqueue(r, j);
        j = next;
    }
    r->status.lost_deletes += count - made;
    pthread_mutex_unlock(&r->lock);
    if (made < count) {
        fprintf(stderr, "danmaku: out of memory: %zu deletion%s not in the recording\n", count - made,
                count - made == 1 ? "" : "s");
        return DM_ENOMEM;
    }
    return 0;
}

size_t dm_recorder_results(dm_recorder *r, int *out, size_t cap)
{
    size_t k = 0;

    pthread_mutex_lock(&r->lock);
    while (k < cap && r->r_count) {
        out[k++] = r->results[r->r_head];
        r->r_head = (r->r_head + 1) % DM_RECORDER_INFLIGHT_CAP;
        r->r_count--;
        r->inflight--;
    }
    if (!r->r_count) {
        r->r_head = 0;
        r->announced = 0;   /* all taken: the next result calls `done` again */
        atomic_store(&r->ready, 0);
    }
    pthread_mutex_unlock(&r->lock);
    return k;
}

int dm_recorder_has_results(dm_recorder *r)
{
    return atomic_load(&r->ready);
}

void dm_recorder_sync(dm_recorder *r)
{
    uint64_t want;

    pthread_mutex_lock(&r->lock);
    want = r->queued_seq;
    while (r->done_seq < want)
        pthread_cond_wait(&r->idle, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

void dm_recorder_status(dm_recorder *r, dm_record_status *st)
{
    pthread_mutex_lock(&r->lock);
    *st = r->status;
    pthread_mutex_unlock(&r->lock);
}

int dm_recorder_close(dm_recorder **pr, char *err, size_t errlen)
{
    dm_recorder *r = *pr;
    int rc = 0;

    if (!r)
        return 0;
    pthread_mutex_lock(&r->lock);
    r->closing = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    for (rec_job *j = r->retry; j;) {
        rec_job *next = j->next;
        r->status.lost_deletes++;
        job_free(j);
        j = next;
    }
    /* refused comments were never acked: the file still holds every acked one; lost deletes are what is wrong */
    if (r->fd >= 0 && close(r->fd)) {
        snprintf(err, errlen, "cannot close the recording %s: %s", r->path ? r->path : "", strerror(errno));
        rc = DM_EIO;
    } else if (r->status.lost_deletes) {
        snprintf(err, errlen, "%llu deletion%s could not be written to the recording %s (%s)",
                 (unsigned long long)r->status.lost_deletes, r->status.lost_deletes == 1 ? "" : "s",
                 r->path ? r->path : "(none)",
                 r->status.error ? strerror(r->status.error) : "out of memory");
        rc = DM_EIO;
    }
    pthread_cond_destroy(&r->idle);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r->buf);
    free(r->path);
    free(r);
    *pr = NULL;
    return rc;
}
