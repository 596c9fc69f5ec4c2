/*
 * accept.c - a checked comment's way onto the screen, on the service
 * thread: a place in the feed and the film-time stamp (feed.h), the
 * recording (recorder.h: written on its own thread, so this thread goes on
 * answering everyone else meanwhile), the queue, and only then the ack, the
 * stream to subscribers and the console's list. Without --record the
 * comment goes straight into the queue.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

char *dm_simple_json(const char *type, const char *key, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    char *s;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "type", type);
    if (key)
        cJSON_AddStringToObject(o, key, value);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static char *ack_json(const char *id, int64_t t_ms)
{
    cJSON *o = cJSON_CreateObject();
    char *s;

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "type", "ack");
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddNumberToObject(o, "t_ms", (double)t_ms);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static char *stream_json(const dm_host_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    char color[8], *s;

    if (!o)
        return NULL;
    snprintf(color, sizeof color, "#%06X", (unsigned)e->color);
    cJSON_AddStringToObject(o, "type", "comment");
    cJSON_AddStringToObject(o, "id", e->id);
    cJSON_AddNumberToObject(o, "t_ms", (double)e->t_ms);
    cJSON_AddStringToObject(o, "text", e->text);
    cJSON_AddStringToObject(o, "color", color);
    cJSON_AddStringToObject(o, "mode", dm_mode_name(e->mode));
    cJSON_AddStringToObject(o, "size", dm_size_name(e->size));
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* The comment is in the queue (and the recording): tell its sender, the subscribers and the consoles. */
static int shown(dm_net *n, conn *owner, const dm_host_entry *e, int released)
{
    int rc = owner ? dm_conn_reply(owner, ack_json(e->id, e->t_ms)) : 0;

    if (n->subs)
        dm_ws_audience_broadcast(n, stream_json(e));
    dm_console_shown(n, e, released);
    return rc;
}

/* 0, or -1 when the owner's backlog is full (it is being closed). */
static int refused(dm_net *n, conn *owner, const dm_host_entry *e, int released, dm_net_err why)
{
    int rc = 0;

    if (owner && why == DM_NET_INTERMISSION)
        rc = dm_conn_reply_intermission(n, owner);
    else if (owner)
        rc = dm_conn_reply_error(n, owner, why, 0);
    else
        dm_feed_count_rejected(n->feed);
    dm_console_refused(n, e, released, why);
    return rc;
}

/* The queue's copy of the comment: its own strings, which the render thread frees. 0 or -1. */
static int queue_copy(dm_net_comment *nc, const dm_net *n, const dm_host_entry *e, int64_t t_ms, int pass)
{
    memset(nc, 0, sizeof *nc);
    nc->c.t_ms = t_ms;
    nc->c.pass = pass;
    nc->c.mode = e->mode;
    nc->c.size = e->size;
    nc->c.color = e->color;
    nc->c.sent = (int64_t)time(NULL);
    nc->c.weight = -1;
    nc->c.count = 1;
    nc->c.text = strdup(e->text);
    nc->c.id = strdup(e->id);
    nc->c.author = strdup(e->address);   /* the recording keeps the address hash */
    nc->c.venue = n->opts.venue ? strdup(n->opts.venue) : NULL;   /* the hall this audience is in */
    snprintf(nc->who, sizeof nc->who, "%s", e->author);
    nc->accepted_wall = dm_now();
    if (!nc->c.text || !nc->c.id || !nc->c.author || (n->opts.venue && !nc->c.venue)) {
        dm_comment_free(&nc->c);
        return -1;
    }
    return 0;
}

/*
 * Accept a comment that passed every check: `e` is the console's entry
 * (fresh: its id is given here; released: the held or waiting one of the
 * list). It is stamped now. Returns 0 once it is on its way (the ack, and
 * the console's update, come when it is recorded) or refused at once (the
 * sender, if any, and the console were told), or -1 when the sender's
 * backlog is full (its connection is being closed).
 */
int dm_accept_comment(dm_net *n, conn *c, dm_host_entry *e, int released)
{
    dm_net_comment nc;
    awaiting *aw;
    char *line;
    int64_t t_ms;
    int pass;

    switch (dm_feed_reserve(n->feed, &t_ms, &pass)) {
    case 0: break;
    case -2: return refused(n, c, e, released, DM_NET_INTERMISSION);   /* closed since the check in ws.c */
    default: return refused(n, c, e, released, DM_NET_BUSY);
    }
    if (!e->id[0])
        snprintf(e->id, sizeof e->id, "%llx-%llu", n->session, (unsigned long long)++n->seq);
    e->t_ms = t_ms;
    if (queue_copy(&nc, n, e, t_ms, pass)) {
        dm_feed_unreserve(n->feed);
        return refused(n, c, e, released, DM_NET_INTERNAL);
    }
    if (!n->rec) {
        dm_feed_commit(n->feed, &nc);
        return shown(n, c, e, released);
    }
    line = dm_jsonl_comment_line(&nc.c);
    dm_accept_results(n);   /* earlier comments first: their acks go before this one's */
    if (line && !n->aw_count) {
        int now = dm_recorder_comment_now(n->rec, line, &nc);
        if (now == 1)
            return shown(n, c, e, released);
        if (now == -2) {
            dm_comment_free(&nc.c);
            return refused(n, c, e, released, DM_NET_NOT_RECORDED);
        }
        if (now == 0) {
            aw = &n->awaiting[n->aw_head];
            memset(aw, 0, sizeof *aw);
            aw->e = *e;
            aw->e.text = strdup(e->text);
            if (!aw->e.text)
                aw->e.text = strdup("");   /* the comment is on its way: its ack must still come */
            aw->owner = c;
            aw->released = released;
            n->aw_count++;
            e->in_flight = released;
            return 0;
        }
        /* -1: the in-flight cap, below */
    }
    aw = n->aw_count < DM_RECORDER_INFLIGHT_CAP ? &n->awaiting[(n->aw_head + n->aw_count) % DM_RECORDER_INFLIGHT_CAP]
                                                : NULL;
    if (aw) {
        memset(aw, 0, sizeof *aw);
        aw->e = *e;
        aw->e.text = strdup(e->text);
    }
    if (!line || !aw || !aw->e.text || dm_recorder_comment(n->rec, line, &nc)) {
        dm_net_err why = line && aw && aw->e.text ? DM_NET_BUSY : DM_NET_INTERNAL;
        free(line);
        if (aw)
            free(aw->e.text);
        dm_comment_free(&nc.c);
        dm_feed_unreserve(n->feed);
        return refused(n, c, e, released, why);
    }
    aw->owner = c;
    aw->released = released;
    n->aw_count++;
    e->in_flight = released;
    return 0;
}

/*
 * The recorder wrote (or could not write) comments: carry each out, in
 * order. Called when the recorder wakes the service thread, and also after
 * each message it handles: under a flood the wake-up would wait for the end
 * of the loop's round over a thousand sockets, and the acks with it.
 */
void dm_accept_results(dm_net *n)
{
    int res[256];
    size_t k;

    if (!n->rec || !dm_recorder_has_results(n->rec))
        return;
    while ((k = dm_recorder_results(n->rec, res, sizeof res / sizeof res[0])) > 0) {
        for (size_t i = 0; i < k && n->aw_count; i++) {
            awaiting *aw = &n->awaiting[n->aw_head];
            n->aw_head = (n->aw_head + 1) % DM_RECORDER_INFLIGHT_CAP;
            n->aw_count--;
            if (res[i] == 0)
                shown(n, aw->owner, &aw->e, aw->released);
            else
                refused(n, aw->owner, &aw->e, aw->released, n->bus ? DM_NET_UNAVAILABLE : DM_NET_NOT_RECORDED);
            free(aw->e.text);
            aw->e.text = NULL;
        }
        if (!n->aw_count)
            n->aw_head = 0;   /* only as much of the ring as the deepest backlog is touched */
    }
}

/* A connection left: comments of its still being recorded get no ack. */
void dm_accept_forget_owner(dm_net *n, const conn *c)
{
    for (size_t i = 0; i < n->aw_count; i++) {
        awaiting *aw = &n->awaiting[(n->aw_head + i) % DM_RECORDER_INFLIGHT_CAP];
        if (aw->owner == c)
            aw->owner = NULL;
    }
}

void dm_accept_free(dm_net *n)
{
    for (size_t i = 0; n->awaiting && i < n->aw_count; i++)
        free(n->awaiting[(n->aw_head + i) % DM_RECORDER_INFLIGHT_CAP].e.text);
    free(n->awaiting);
    n->awaiting = NULL;
    n->aw_count = 0;
}
