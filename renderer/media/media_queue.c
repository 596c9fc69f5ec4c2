/*
 * media_queue.c - serial-tagged packet queue and bounded frame ring used
 * between dm_media's demux, decode and consumer threads.
 */
#include "media_queue.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- packet queue */

int dm_pktq_init(dm_pktq *q)
{
    memset(q, 0, sizeof(*q));
    if (pthread_mutex_init(&q->lock, NULL) != 0)
        return AVERROR(ENOMEM);
    if (pthread_cond_init(&q->cond, NULL) != 0) {
        pthread_mutex_destroy(&q->lock);
        return AVERROR(ENOMEM);
    }
    atomic_init(&q->serial, 0);
    return 0;
}

static void pktq_clear_locked(dm_pktq *q)
{
    dm_pkt_node *n = q->first;
    while (n) {
        dm_pkt_node *next = n->next;
        av_packet_free(&n->pkt);
        free(n);
        n = next;
    }
    q->first = q->last = NULL;
    q->nb_packets = 0;
    q->size = 0;
    q->duration = 0;
}

void dm_pktq_destroy(dm_pktq *q)
{
    pktq_clear_locked(q);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
}

int dm_pktq_put(dm_pktq *q, AVPacket *pkt, int serial)
{
    dm_pkt_node *n = malloc(sizeof(*n));
    if (!n) {
        av_packet_unref(pkt);
        return AVERROR(ENOMEM);
    }
    n->pkt = av_packet_alloc();
    if (!n->pkt) {
        free(n);
        av_packet_unref(pkt);
        return AVERROR(ENOMEM);
    }
    av_packet_move_ref(n->pkt, pkt);
    n->serial = serial;
    n->next = NULL;

    pthread_mutex_lock(&q->lock);
    /* A seek between reading the packet and queueing it makes the packet
     * stale; checking here, under the lock the seek also takes, closes the
     * window without the demuxer having to coordinate with the seeker. */
    if (q->abort || serial != atomic_load(&q->serial)) {
        int aborted = q->abort;
        pthread_mutex_unlock(&q->lock);
        av_packet_free(&n->pkt);
        free(n);
        return aborted ? AVERROR_EXIT : 0;
    }
    if (q->last)
        q->last->next = n;
    else
        q->first = n;
    q->last = n;
    q->nb_packets++;
    q->size += n->pkt->size + (int64_t)sizeof(*n);
    q->duration += n->pkt->duration;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int dm_pktq_put_eof(dm_pktq *q, int stream_index, int serial)
{
    AVPacket *pkt = av_packet_alloc();
    int ret;
    if (!pkt)
        return AVERROR(ENOMEM);
    pkt->stream_index = stream_index;
    ret = dm_pktq_put(q, pkt, serial);
    av_packet_free(&pkt);
    return ret;
}

void dm_pktq_flush(dm_pktq *q, int serial)
{
    pthread_mutex_lock(&q->lock);
    pktq_clear_locked(q);
    atomic_store(&q->serial, serial);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

void dm_pktq_abort(dm_pktq *q)
{
    pthread_mutex_lock(&q->lock);
    q->abort = 1;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

int dm_pktq_get(dm_pktq *q, AVPacket *pkt, int block, int *serial)
{
    int ret;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        dm_pkt_node *n = q->first;
        if (q->abort) {
            ret = -1;
            break;
        }
        if (n) {
            q->first = n->next;
            if (!q->first)
                q->last = NULL;
            q->nb_packets--;
            q->size -= n->pkt->size + (int64_t)sizeof(*n);
            q->duration -= n->pkt->duration;
            av_packet_move_ref(pkt, n->pkt);
            if (serial)
                *serial = n->serial;
            av_packet_free(&n->pkt);
            free(n);
            ret = 1;
            break;
        }
        if (!block) {
            ret = 0;
            break;
        }
        pthread_cond_wait(&q->cond, &q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return ret;
}

void dm_pktq_stats(dm_pktq *q, int *nb_packets, int64_t *size, int64_t *duration)
{
    pthread_mutex_lock(&q->lock);
    if (nb_packets)
        *nb_packets = q->nb_packets;
    if (size)
        *size = q->size;
    if (duration)
        *duration = q->duration;
    pthread_mutex_unlock(&q->lock);
}

/* ----------------------------------------------------------- frame queue */

int dm_frameq_init(dm_frameq *f, int max_size)
{
    memset(f, 0, sizeof(*f));
    if (max_size < 1 || max_size > DM_FRAMEQ_MAX)
        return AVERROR(EINVAL);
    f->max_size = max_size;
    for (int i = 0; i < max_size; i++) {
        f->slots[i].frame = av_frame_alloc();
        if (!f->slots[i].frame)
            goto fail;
    }
    if (pthread_mutex_init(&f->lock, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&f->cond, NULL) != 0) {
        pthread_mutex_destroy(&f->lock);
        goto fail;
    }
    return 0;
fail:
    for (int i = 0; i < max_size; i++)
        av_frame_free(&f->slots[i].frame);
    return AVERROR(ENOMEM);
}

void dm_frameq_destroy(dm_frameq *f)
{
    for (int i = 0; i < f->max_size; i++)
        av_frame_free(&f->slots[i].frame);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
}

void dm_frameq_abort(dm_frameq *f)
{
    pthread_mutex_lock(&f->lock);
    f->abort = 1;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

void dm_frameq_wake(dm_frameq *f)
{
    pthread_mutex_lock(&f->lock);
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

dm_frame_slot *dm_frameq_peek_writable(dm_frameq *f)
{
    int aborted;
    pthread_mutex_lock(&f->lock);
    while (f->size >= f->max_size && !f->abort)
        pthread_cond_wait(&f->cond, &f->lock);
    aborted = f->abort;
    pthread_mutex_unlock(&f->lock);
    return aborted ? NULL : &f->slots[f->windex];
}

void dm_frameq_push(dm_frameq *f)
{
    f->windex = (f->windex + 1) % f->max_size;
    pthread_mutex_lock(&f->lock);
    f->size++;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

dm_frame_slot *dm_frameq_peek(dm_frameq *f)
{
    int n = dm_frameq_remaining(f);
    return n > 0 ? &f->slots[f->rindex] : NULL;
}

dm_frame_slot *dm_frameq_peek_next(dm_frameq *f)
{
    int n = dm_frameq_remaining(f);
    return n > 1 ? &f->slots[(f->rindex + 1) % f->max_size] : NULL;
}

void dm_frameq_next(dm_frameq *f)
{
    av_frame_unref(f->slots[f->rindex].frame);
    f->rindex = (f->rindex + 1) % f->max_size;
    pthread_mutex_lock(&f->lock);
    f->size--;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

int dm_frameq_remaining(dm_frameq *f)
{
    int n;
    pthread_mutex_lock(&f->lock);
    n = f->size;
    pthread_mutex_unlock(&f->lock);
    return n;
}

int dm_frameq_wait(dm_frameq *f, int (*stop)(void *ud), void *ud)
{
    int ret;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        if (f->abort) {
            ret = -1;
            break;
        }
        if (f->size > 0) {
            ret = 1;
            break;
        }
        if (stop && stop(ud)) {
            ret = 0;
            break;
        }
        pthread_cond_wait(&f->cond, &f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return ret;
}
