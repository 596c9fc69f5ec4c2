/*
 * recorder.h - the recording's writer (dm_net internal): a thread of its
 * own appends the JSON Lines of accepted comments and of deletes to the
 * --record file, so a slow or blocked disk holds up no other thread: not the
 * render thread (the feed's lock is never held across a write), not the
 * network thread (other clients are still answered).
 *
 * A comment is handed over with its line; once the line is written (write(2)
 * returned: in the kernel, as fflush did) the recorder commits the comment
 * into the feed (feed.h) and reports the result to the network thread
 * (dm_recorder_results, in submission order, after calling `done`), which
 * only then acks it. A comment that cannot be written gives its place in the
 * feed back and is reported with its errno: it is never acked. Lines
 * queued together are written together (one write, one wake-up for many
 * comments at 10,000 a second).
 *
 * Thread-safety: dm_recorder_comment and dm_recorder_results from one thread
 * (the network thread); dm_recorder_deletes, dm_recorder_sync and
 * dm_recorder_status from any thread; open and close from the owner.
 */
#ifndef DM_NET_RECORDER_H
#define DM_NET_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "dm_net.h"
#include "bus.h"
#include "feed.h"

#define DM_RECORDER_INFLIGHT_CAP 4096  /* comments handed over and not yet reported */

typedef struct dm_recorder dm_recorder;

typedef struct dm_record_status {
    int error;                /* errno of the last write while writing fails (ENOSPC: disk full); 0: it works */
    uint64_t written;         /* lines written */
    uint64_t refused;         /* comments refused because their line could not be written */
    uint64_t lost_deletes;    /* delete lines given up (more than 65,536 waiting for a full disk, or at close) */
} dm_record_status;

/*
 * Open `path` for appending (created if missing; a new file gets the track
 * header with `session` as started_at) and start the writer thread; path
 * NULL: no file for now (comments go to the feed unrecorded) until
 * dm_recorder_reopen gives one.
 * Comments are committed into `feed`; `done` (may be NULL) is called on the
 * writer thread after results are posted. 0, or DM_EIO/DM_ENOMEM with err.
 */
int dm_recorder_open(dm_recorder **out, const char *path, long long session, dm_feed *feed,
                     void (*done)(void *ud), void *done_ud, char *err, size_t errlen);

/*
 * The same, publishing to the comment bus instead of writing a file: a
 * comment's result is 0 once JetStream has stored it, else the errno
 * (ENOTCONN), and its place in the feed is given back either way (it comes
 * back through the stream). Deletes are not published.
 */
int dm_recorder_open_bus(dm_recorder **out, dm_bus *bus, dm_feed *feed, void (*done)(void *ud), void *done_ud,
                         char *err, size_t errlen);

/*
 * Hand over one comment (its place already reserved in the feed) and its
 * line (ending in '\n'). On 0 the recorder owns `line` and the comment's
 * strings; -1 when DM_RECORDER_INFLIGHT_CAP comments are in flight (the
 * caller keeps both and says busy).
 */
int dm_recorder_comment(dm_recorder *r, char *line, const dm_net_comment *c);

/*
 * The network thread's fast way: when nothing is queued or being written,
 * write the line now (the descriptor does not block) and commit the comment:
 * 1, the comment is written and queued for the screen, ack it at once (no
 * result will come). When the line does not go out whole at once (a full
 * pipe, a full disk), or the writer is busy, it is handed over as
 * dm_recorder_comment does: 0, its result comes later; -1, the in-flight cap
 * (the caller keeps both); -2, refused (out of memory; its place given back,
 * the line freed). Without this, each comment cost two thread switches, and
 * under a flood on two cores the ack waited for both (p99 from 9 to 100-300
 * ms at 10,000 comments/s).
 */
int dm_recorder_comment_now(dm_recorder *r, char *line, const dm_net_comment *c);

/* Queue a delete line per id; never waits for the disk. 0, or DM_ENOMEM (counted as lost). */
int dm_recorder_deletes(dm_recorder *r, const char *const *ids, size_t count);

/* Whether results are waiting: a cheap check (no lock) the network thread makes as it goes. */
int dm_recorder_has_results(dm_recorder *r);

/* Results of handed-over comments, oldest first: 0 written, else the errno. Returns how many. */
size_t dm_recorder_results(dm_recorder *r, int *out, size_t cap);

/* Wait until every comment handed over before the call is settled: written (and committed) or refused. */
void dm_recorder_sync(dm_recorder *r);

void dm_recorder_status(dm_recorder *r, dm_record_status *st);

/*
 * A night's next film (dm_net_new_film): once nothing is queued or being
 * written, close the file (what was written stays: every line is whole) and
 * go on in `path` (opened as dm_recorder_open does, a new file with the
 * track header), or, with path NULL, write nothing: comments are then
 * committed at once, unrecorded. Deletes still waiting for a full disk
 * belong to the last film's file and are counted lost. Called by the owner
 * while no comment is being handed over (the intake is closed and settled).
 * 0, or DM_EIO with err: the new file cannot be opened, and comments are
 * refused (not_recorded) until the next reopen.
 */
int dm_recorder_reopen(dm_recorder *r, const char *path, long long session, char *err, size_t errlen);

/*
 * Write what is still queued, stop the thread and close the file; nulls
 * *r. 0, or DM_EIO with err naming what could not be written.
 */
int dm_recorder_close(dm_recorder **r, char *err, size_t errlen);

#endif
