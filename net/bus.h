/*
 * bus.h - the comment bus (dm_bus): one screening's comments, film clock
 * and host actions on NATS JetStream (the C client, cnats), so that any
 * number of audience gateways (danmaku-gate) and players (one per hall or
 * venue) share one screening. docs/scale.md has the design and a picture.
 *
 * One stream per screening, named DANMAKU_<ID>, holds every subject of the
 * screening (danmaku.<ID>.>):
 *   danmaku.<ID>.comments  a comment's JSON line, exactly as the recording
 *                          writes it, published with its id as the message
 *                          id (JetStream drops a duplicate publish);
 *   danmaku.<ID>.clock     the clock player's film time, 20 times a second:
 *                          {"t_ms":N,"pass":N,"paused":0|1};
 *   danmaku.<ID>.host      the host's actions on the screens, in their place
 *                          among the comments: {"type":"delete","id":"..."}.
 * and one key-value bucket, DANMAKU_<ID> (its stream KV_DANMAKU_<ID>):
 *   settings               the host's moderation settings (docs/moderation.md's
 *                          format) that every gateway applies;
 *   salt                   the salt of address hashes, the first gateway's, so
 *                          a banned address is the same hash at every gateway.
 * The stream's order is the screening's total order: every player reads it
 * in that order and lays out the same comments the same way. The stream is
 * the recording: danmaku-convert exports it as a JSONL track.
 *
 * Threads: cnats runs callbacks (dm_bus_watch_clock, dm_bus_consume) on its
 * own threads; dm_bus_publish_* may be called from any one thread at a time.
 *
 * Errors: 0 or a negative DM_E* code, with a sentence in err.
 */
#ifndef DM_NET_BUS_H
#define DM_NET_BUS_H

#include <stddef.h>
#include <stdint.h>

#define DM_BUS_ID_MAX 64        /* a screening id: 1 to 64 of A-Z a-z 0-9 _ - */
#define DM_BUS_CLOCK_HZ 20      /* clock messages a second from the clock player */

typedef struct dm_bus dm_bus;

/* What a message of the stream is. */
typedef enum dm_bus_kind {
    DM_BUS_COMMENT = 0,
    DM_BUS_CLOCK = 1,
    DM_BUS_HOST = 2,
    DM_BUS_OTHER = 3,
} dm_bus_kind;

/* 0 when `id` can name a screening (a NATS subject token and a stream name), else DM_EINVAL with err. */
int dm_bus_check_id(const char *id, char *err, size_t errlen);

/* 0 when `name` can name a hall (--venue: 1 to DM_VENUE_MAX of A-Z a-z 0-9 _ -), else DM_EINVAL with err. */
int dm_bus_check_venue(const char *name, char *err, size_t errlen);

/*
 * Split "nats://HOST:PORT/ID" into the server URL and the screening id
 * (the converter's export source). 1 when `s` is such a URL, 0 when it is
 * not a nats:// URL at all, DM_EINVAL with err when it is one without an id.
 */
int dm_bus_split_url(const char *s, char *url, size_t urllen, char *id, size_t idlen, char *err, size_t errlen);

/*
 * Connect to the NATS server(s) at `url` (a comma-separated list is a
 * cluster) and make sure the screening's stream exists (created with
 * `replicas` copies, 1 on a single server, 3 on a three-node cluster). Once
 * connected, a lost connection is retried for ever, and publishing fails
 * meanwhile. Not reachable at start: DM_EIO with err. replicas -1: the
 * stream must exist already (reading a screening, not running one).
 */
int dm_bus_open(dm_bus **out, const char *url, const char *screening, int replicas, char *err, size_t errlen);
void dm_bus_close(dm_bus **b);

/* The screening id and its stream's name. */
const char *dm_bus_screening(const dm_bus *b);

/*
 * Publish `n` comment lines to the stream, each with its comment id as the
 * message id and its author (authors may be NULL) in DM_BUS_AUTHOR_HEADER, and wait for JetStream to acknowledge them (a few seconds at
 * most). res[i] is 0 when line i is in the stream (stored now, or stored
 * before: a duplicate), else an errno (ENOTCONN: the bus is unreachable).
 * Returns how many failed.
 */
size_t dm_bus_publish_comments(dm_bus *b, const char *const *lines, const size_t *lens, const char *const *ids,
                               const char *const *authors, size_t n, int *res);

/* The header that names a comment's author (the console's author hash) for slow mode across gateways. */
#define DM_BUS_AUTHOR_HEADER "Danmaku-Author"

/*
 * Follow who comments at the screening's other gateways: fn on a cnats
 * thread with each comment's author hash and id, as it is published (this
 * gateway's own too: tell them by the id). 0 or DM_EIO with err.
 */
int dm_bus_watch_authors(dm_bus *b, void (*fn)(void *ud, const char *author, const char *id), void *ud, char *err,
                         size_t errlen);
void dm_bus_unwatch_authors(dm_bus *b);   /* no more fn once this returns */

/* Publish the clock (the clock player, DM_BUS_CLOCK_HZ times a second). 0, or DM_EIO when the bus is down. */
int dm_bus_publish_clock(dm_bus *b, int64_t t_ms, int pass, int paused);

/* Parse a clock message: 0, or DM_EINVAL when it is not one. */
int dm_bus_parse_clock(const char *data, size_t len, int64_t *t_ms, int *pass, int *paused);

/* Call fn on a cnats thread for each clock message published from now on. 0 or DM_E*. */
int dm_bus_watch_clock(dm_bus *b, void (*fn)(void *ud, int64_t t_ms, int pass, int paused), void *ud, char *err,
                       size_t errlen);

/*
 * Read the stream from its start, in stream order, and go on with what is
 * published later: fn is called on a cnats thread for each message with its
 * stream sequence number. After a lost connection it resumes after the last
 * message it delivered (an ordered consumer): nothing twice, nothing
 * skipped. 0 or DM_E*.
 */
int dm_bus_consume(dm_bus *b, void (*fn)(void *ud, uint64_t seq, dm_bus_kind kind, const char *data, size_t len),
                   void *ud, char *err, size_t errlen);

/*
 * Read every message in the stream now, in order, then return (the
 * converter's export): fn as for dm_bus_consume, on the calling thread.
 * 0, or DM_EIO with err.
 */
int dm_bus_read_all(dm_bus *b, void (*fn)(void *ud, uint64_t seq, dm_bus_kind kind, const char *data, size_t len),
                    void *ud, char *err, size_t errlen);

/*
 * The end of a screening: wait (at most timeout_ms) until the consumer has
 * delivered every message the stream holds now. 0, or DM_EIO (not caught up).
 */
int dm_bus_catch_up(dm_bus *b, int timeout_ms);

/* No more callbacks: the clock and the stream are no longer followed once this returns. */
void dm_bus_stop(dm_bus *b);

/* A comment's stamp in stream order (players and the export do the same,
 * so they lay out the same): never before the last comment's or clock's.
 * Two gateways' stamps may cross by a few milliseconds; the later one in
 * the stream is held at the earlier one. */
typedef struct dm_bus_order {
    int pass;
    int64_t t_ms;
} dm_bus_order;
void dm_bus_order_comment(dm_bus_order *o, int *pass, int64_t *t_ms);
void dm_bus_order_clock(dm_bus_order *o, int pass, int64_t t_ms);

/*
 * One comment message of the stream as a comment (its strings owned by
 * *out), its stamp put in stream order: 0, or DM_EINVAL when it is not a
 * comment line we can show (count it).
 */
struct dm_comment;
int dm_bus_comment(dm_bus_order *o, const char *data, size_t len, struct dm_comment *out);

/*
 * The export: every comment of the screening's stream, in stream order, with
 * the stamps the players laid out (dm_bus_order), appended to `track`. *bad
 * gets the messages that are neither comments nor clock messages. 0, or DM_E*
 * with err. It creates no stream: a screening that never ran is an error.
 */
struct dm_track;
int dm_bus_export(const char *url, const char *screening, struct dm_track *track, size_t *bad, char *err,
                  size_t errlen);

/* The address salt every gateway of the screening uses (`mine` if this is the first). 0 or DM_EIO. */
int dm_bus_salt(dm_bus *b, uint32_t mine, uint32_t *salt);

/* Publish the moderation settings (not waited for: any thread). 0 or DM_EIO. */
int dm_bus_put_settings(dm_bus *b, const char *json);

/*
 * Follow the settings: fn on a cnats thread with each new value; *now gets
 * the value at the call (malloc'd), NULL when none was ever put. 0 or DM_EIO.
 */
int dm_bus_watch_settings(dm_bus *b, void (*fn)(void *ud, const char *json, size_t len), void *ud, char **now,
                          char *err, size_t errlen);

/*
 * A host action of the stream (docs/scale.md, "The host console on the
 * bus"), read the same way by players and the export:
 *   {"type":"delete","id":ID}                take one comment off the screens
 *   {"type":"clear","t_ms":T,"pass":P}       take everything on screen at T
 *                                            off (T put in stream order)
 *   {"type":"cleared","ids":[ID...]}         what the clock player's clear
 *                                            took off: for the export only
 *   {"type":"film","control":NAME,"value":V,"entry":E}
 *                                            a film control for every player
 * 0, or DM_EINVAL when it is none of these (count it). CLEARED points into
 * h->doc: dm_bus_host_free it after use.
 */
typedef enum dm_bus_host_kind {
    DM_BUS_HOST_DELETE, DM_BUS_HOST_CLEAR, DM_BUS_HOST_CLEARED, DM_BUS_HOST_FILM
} dm_bus_host_kind;
typedef struct dm_bus_host {
    dm_bus_host_kind kind;
    char id[48];                  /* DELETE */
    int pass;                     /* CLEAR: its moment, in stream order */
    int64_t t_ms;
    char control[16];             /* FILM: play, pause, seek, seek_by, next, prev, jump, volume, break_now, break_add */
    double value;
    int entry;
    size_t id_count;              /* CLEARED: ids[0..id_count) */
    const char **ids;
    void *doc;
} dm_bus_host;
int dm_bus_host_parse(dm_bus_order *o, const char *data, size_t len, dm_bus_host *h);
void dm_bus_host_free(dm_bus_host *h);

/*
 * The gateways' own messages (the approval queue across gateways), on the
 * core subject danmaku-ctl.ID: not in the stream, so a gateway that starts
 * later does not see what was said before. fn on a cnats thread, with this
 * process's own messages too. Publishing waits for nothing. 0 or DM_EIO.
 */
int dm_bus_watch_ctl(dm_bus *b, void (*fn)(void *ud, const char *data, size_t len), void *ud, char *err,
                     size_t errlen);
int dm_bus_publish_ctl(dm_bus *b, const char *json);

/* Publish a host action on the screens (not waited for). 0 or DM_EIO. */
int dm_bus_publish_host(dm_bus *b, const char *json);

/* Messages published and failed since open, for the statistics. */
void dm_bus_counts(dm_bus *b, uint64_t *published, uint64_t *failed, int *connected);

#endif
