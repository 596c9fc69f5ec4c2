/*
 * media_queue.h - the bounded, serial-tagged packet and frame queues that join
 * dm_media's threads (ffplay's PacketQueue and FrameQueue). Private to
 * renderer/media.
 */
#ifndef DM_MEDIA_QUEUE_H
#define DM_MEDIA_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>

/* ---------------------------------------------------------- packet queue */

typedef struct dm_pkt_node {
    AVPacket *pkt;              /* owned by the queue */
    int serial;                 /* generation the packet was read in */
    struct dm_pkt_node *next;
} dm_pkt_node;

/*
 * Packets from the demux thread to one decode thread. Unbounded by itself;
 * the demux thread stops reading when the queues hold enough (see media.c).
 */
typedef struct dm_pktq {
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* signalled on put and abort */
    /* protected by lock: */
    dm_pkt_node *first, *last;
    int nb_packets;
    int64_t size;               /* bytes, node overhead included */
    int64_t duration;           /* sum of packet durations (stream time base) */
    int abort;
    /* written under lock, read anywhere: */
    atomic_int serial;          /* current generation; bumped by a seek */
} dm_pktq;

int dm_pktq_init(dm_pktq *q);
void dm_pktq_destroy(dm_pktq *q);
/* Queue `pkt` (its reference is moved, pkt is left blank) if `serial` is
 * still current; a packet read before a seek is unreferenced instead.
 * Returns 0, or AVERROR(ENOMEM)/AVERROR_EXIT. */
int dm_pktq_put(dm_pktq *q, AVPacket *pkt, int serial);
/* Queue an empty packet: tells the decoder to drain (end of stream). */
int dm_pktq_put_eof(dm_pktq *q, int stream_index, int serial);
/* Drop every packet and start generation `serial`. */
void dm_pktq_flush(dm_pktq *q, int serial);
void dm_pktq_abort(dm_pktq *q);
/* Take the first packet into `pkt`. Returns 1 got one, 0 empty (only when
 * !block), -1 aborted. *serial gets the packet's generation. */
int dm_pktq_get(dm_pktq *q, AVPacket *pkt, int block, int *serial);
/* Snapshot of nb_packets / size / duration. */
void dm_pktq_stats(dm_pktq *q, int *nb_packets, int64_t *size, int64_t *duration);

/* ----------------------------------------------------------- frame queue */

typedef struct dm_frame_slot {
    AVFrame *frame;             /* decoded frame (video) or source samples (audio) */
    double pts;                 /* film seconds; NAN unknown */
    double duration;            /* seconds */
    int serial;                 /* generation of the packet it came from */
} dm_frame_slot;

#define DM_FRAMEQ_MAX 16

/*
 * Ring of decoded frames from one decode thread (writer) to one consumer
 * (reader). The writer owns the slot at windex between peek_writable and
 * push; the reader owns the slot at rindex until next. Only `size` and
 * `abort` are shared, under lock.
 */
typedef struct dm_frameq {
    dm_frame_slot slots[DM_FRAMEQ_MAX];
    int max_size;               /* capacity in use, <= DM_FRAMEQ_MAX */
    int rindex;                 /* reader only */
    int windex;                 /* writer only */
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* signalled on push, next, abort and wake */
    /* protected by lock: */
    int size;
    int abort;
} dm_frameq;

int dm_frameq_init(dm_frameq *f, int max_size);
void dm_frameq_destroy(dm_frameq *f);
void dm_frameq_abort(dm_frameq *f);
/* Wake waiters so they re-check their condition (EOF, serial change). */
void dm_frameq_wake(dm_frameq *f);
/* Writer: a free slot, waiting while full; NULL once aborted. */
dm_frame_slot *dm_frameq_peek_writable(dm_frameq *f);
void dm_frameq_push(dm_frameq *f);
/* Reader: the oldest frame or NULL when empty (never blocks). */
dm_frame_slot *dm_frameq_peek(dm_frameq *f);
/* Reader: the frame after the oldest, or NULL. */
dm_frame_slot *dm_frameq_peek_next(dm_frameq *f);
/* Reader: release the oldest frame. */
void dm_frameq_next(dm_frameq *f);
int dm_frameq_remaining(dm_frameq *f);
/* Reader: wait until a frame is queued, stop(ud) returns non-zero (checked
 * under the queue lock, so a writer that changes the condition and then calls
 * dm_frameq_wake() is never missed), or abort.
 * Returns 1 when a frame is there, 0 when stopped, -1 aborted. */
int dm_frameq_wait(dm_frameq *f, int (*stop)(void *ud), void *ud);

#endif
