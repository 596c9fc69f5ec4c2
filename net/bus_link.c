/*
 * bus_link.c - dm_net's side of the comment bus (bus.h, docs/scale.md).
 *
 *   a gateway (danmaku-gate)  stamps comments with the film time run on from
 *                             the bus's clock messages and publishes them:
 *                             the recorder's writer publishes instead of
 *                             writing a file, and the ack waits for JetStream;
 *   a player (--bus)          publishes what its own --listen accepts the
 *                             same way, and takes the screen's comments from
 *                             the stream, in stream order, into the feed the
 *                             render thread drains; with --clock it publishes
 *                             its film time.
 *
 * The stream's callbacks run on cnats's threads and touch only the feed
 * (its lock) and this file's order state (theirs alone).
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#define CATCH_UP_MS 5000   /* at the end, how long a player waits for the stream's last messages */

/* A player: a comment into the feed as it is, waiting while the render thread is behind. */
static void show_comment(dm_net *n, dm_net_comment *nc)
{
    while (dm_feed_push_stamped(n->feed, nc) != 0) {
        struct timespec ms = { 0, 1000000 };
        if (atomic_load(&n->bus_stopping)) {
            atomic_fetch_add(&n->bus_bad, 1);
            dm_comment_free(&nc->c);
            return;
        }
        nanosleep(&ms, NULL);   /* the queue is full: the render thread takes it every frame */
    }
}

/*
 * --record beside the bus: the comment's line is written and the recorder
 * commits the comment into the feed, before the next message of the stream
 * is looked at, so the screen takes the stream in the same order as without
 * a recording. Usually the line is written at once on this thread
 * (dm_recorder_comment_now); only when the writer has it is it waited for.
 * A line that is not written (a full disk: the recorder says why on stderr)
 * is counted, and the comment is shown anyway: it is in the stream.
 * 0: recorded and queued (or given up at the stop); 1: not recorded, *nc
 * still the caller's; 2: not recorded, and the recorder freed *nc.
 */
static int record_comment(dm_net *n, dm_net_comment *nc)
{
    char *line = dm_jsonl_comment_line(&nc->c);
    int64_t t;
    int pass, res[64], r, refused = 0;

    while (dm_feed_reserve(n->feed, &t, &pass) != 0) {
        struct timespec ms = { 0, 1000000 };
        if (atomic_load(&n->bus_stopping)) {
            atomic_fetch_add(&n->bus_bad, 1);
            dm_comment_free(&nc->c);
            free(line);
            return 0;
        }
        nanosleep(&ms, NULL);
    }
    r = line ? dm_recorder_comment_now(n->bus_rec, line, nc) : -1;
    if (r == 1)
        return 0;
    if (r < 0) {   /* -1: the line and the place are still ours; -2: both given back already */
        if (r == -1) {
            free(line);
            dm_feed_unreserve(n->feed);
        }
        atomic_fetch_add(&n->bus_unrecorded, 1);
        return 1;
    }
    dm_recorder_sync(n->bus_rec);
    for (size_t k, i; (k = dm_recorder_results(n->bus_rec, res, sizeof res / sizeof res[0])) > 0;)
        for (i = 0; i < k; i++)
            refused |= res[i] != 0;
    if (!refused)
        return 0;
    atomic_fetch_add(&n->bus_unrecorded, 1);
    return 2;
}

/* A player: a comment of the stream, in order, into the feed (and the recording with --record). */
static void take_comment(dm_net *n, const char *data, size_t len)
{
    dm_bus_order before = n->bus_order;
    dm_net_comment nc;

    memset(&nc, 0, sizeof nc);
    if (dm_bus_comment(&n->bus_order, data, len, &nc.c)) {
        atomic_fetch_add(&n->bus_bad, 1);   /* not a comment line: counted, never shown */
        return;
    }
    if (n->opts.venue_only && (!nc.c.venue || strcmp(nc.c.venue, n->opts.venue))) {
        /* another hall's: not on this screen (nor in its --record), counted and said at the end */
        atomic_fetch_add(&n->bus_other_venue, 1);
        dm_feed_advance_floor(n->feed, nc.c.pass, nc.c.t_ms);
        dm_comment_free(&nc.c);
        return;
    }
    nc.accepted_wall = dm_now();
    switch (n->bus_rec ? record_comment(n, &nc) : 1) {
    case 0:
        return;
    case 2:   /* refused by the writer, which freed it: decoded again, with the same stamp */
        n->bus_order = before;
        memset(&nc, 0, sizeof nc);
        if (dm_bus_comment(&n->bus_order, data, len, &nc.c))
            return;
        nc.accepted_wall = dm_now();
        break;
    }
    show_comment(n, &nc);
}

/* The film controls' names on the host subject, by dm_net_control_kind. */
static const char *const film_names[] = {
    [DM_NET_FILM_PLAY] = "play", [DM_NET_FILM_PAUSE] = "pause", [DM_NET_FILM_SEEK] = "seek",
    [DM_NET_FILM_SEEK_BY] = "seek_by", [DM_NET_FILM_NEXT] = "next", [DM_NET_FILM_PREV] = "prev",
    [DM_NET_FILM_JUMP] = "jump", [DM_NET_FILM_VOLUME] = "volume", [DM_NET_BREAK_NOW] = "break_now",
    [DM_NET_BREAK_ADD] = "break_add",
};

static int film_kind(const char *name)
{
    for (size_t k = 0; k < sizeof film_names / sizeof film_names[0]; k++)
        if (film_names[k] && !strcmp(film_names[k], name))
            return (int)k;
    return -1;
}

/* A control for the render thread, waiting while its queue is full (it is taken every frame). */
static void push_control(dm_net *n, dm_net_control_kind kind, const char *id, double value, int entry)
{
    while ((id ? dm_feed_push_control(n->feed, kind, id) : dm_feed_push_film(n->feed, kind, value, entry)) != 0 &&
           !atomic_load(&n->bus_stopping)) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
}

/* A player: a host action of the stream, in its place among the comments. */
static void take_host(dm_net *n, const char *data, size_t len)
{
    dm_bus_host h;
    int kind;

    if (dm_bus_host_parse(&n->bus_order, data, len, &h)) {
        atomic_fetch_add(&n->bus_bad, 1);
        return;
    }
    switch (h.kind) {
    case DM_BUS_HOST_DELETE: {
        const char *ids[1] = { h.id };
        if (n->bus_rec)
            dm_recorder_deletes(n->bus_rec, ids, 1);
        push_control(n, DM_NET_DELETE, h.id, 0, 0);
        break;
    }
    case DM_BUS_HOST_CLEAR:   /* at the clear's own moment: every screen takes off the same comments */
        push_control(n, DM_NET_CLEAR, NULL, (double)h.t_ms, 1);
        break;
    case DM_BUS_HOST_CLEARED:   /* this screen did the clear itself */
        break;
    case DM_BUS_HOST_FILM:
        if ((kind = film_kind(h.control)) >= 0)
            push_control(n, (dm_net_control_kind)kind, NULL, h.value, h.entry);
        else
            atomic_fetch_add(&n->bus_bad, 1);
        break;
    }
    dm_bus_host_free(&h);
}

static void on_stream(void *ud, uint64_t seq, dm_bus_kind kind, const char *data, size_t len)
{
    dm_net *n = ud;
    int64_t t_ms;
    int pass, paused;

    (void)seq;
    if (kind == DM_BUS_COMMENT)
        take_comment(n, data, len);
    else if (kind == DM_BUS_HOST)
        take_host(n, data, len);
    else if (kind == DM_BUS_CLOCK && dm_bus_parse_clock(data, len, &t_ms, &pass, &paused) == 0) {
        dm_bus_order_clock(&n->bus_order, pass, t_ms);
        dm_feed_advance_floor(n->feed, n->bus_order.pass, n->bus_order.t_ms);
    }
}

/* A gateway: the clock player's film time. */
static void on_clock(void *ud, int64_t t_ms, int pass, int paused)
{
    dm_net *n = ud;

    (void)pass;   /* the feed counts the passes from the times, as the clock player's does */
    dm_feed_follow_clock(n->feed, t_ms, paused);
}

/* cnats thread: another gateway (or this one) put the settings; the service thread applies them. */
static void on_settings(void *ud, const char *json, size_t len)
{
    dm_net *n = ud;
    char *copy = strndup(json, len);

    if (!copy)
        return;
    pthread_mutex_lock(&n->bus_lock);
    free(n->bus_settings_pending);
    n->bus_settings_pending = copy;
    pthread_mutex_unlock(&n->bus_lock);
    pthread_mutex_lock(&n->wake_lock);
    if (n->ctx_live)
        lws_cancel_service(n->ctx);
    pthread_mutex_unlock(&n->wake_lock);
}

/* Apply settings that came from the bus, unless they are what this process has. 0 or DM_E*. */
/*
 * Whether `json` is the echo of settings this process put: the bucket gives
 * every put back in order, so an echo of an older put (the host changed two
 * settings in a row) would undo the newer one here. It is skipped, with the
 * puts before it (their echoes are past).
 */
static int own_echo(dm_net *n, const char *json)
{
    for (int k = 0; k < n->bus_put_count; k++)
        if (!strcmp(n->bus_settings_put[(n->bus_put_head + k) % 16], json)) {
            for (int i = 0; i <= k; i++) {
                free(n->bus_settings_put[n->bus_put_head]);
                n->bus_put_head = (n->bus_put_head + 1) % 16;
                n->bus_put_count--;
            }
            return 1;
        }
    return 0;
}

static int apply_settings(dm_net *n, char *json, char *err, size_t errlen)
{
    int was_paused = dm_mod_paused(n->mod), e;

    if (own_echo(n, json) || (n->bus_settings_seen && !strcmp(n->bus_settings_seen, json))) {
        free(json);
        return 0;
    }
    e = dm_mod_apply_settings(n->mod, json, strlen(json), err, errlen);
    if (e) {
        free(json);
        return e;
    }
    free(n->bus_settings_seen);
    n->bus_settings_seen = json;
    if (dm_mod_paused(n->mod) != was_paused) {
        int now = dm_mod_paused(n->mod);
        dm_mod_set_paused(n->mod, was_paused);
        if (n->thread_started)
            dm_console_set_feed_paused(n, now);   /* held comments go out (or wait) as on this console */
        else
            dm_mod_set_paused(n->mod, now);
        atomic_store(&n->feed_paused, now);
    }
    return 0;
}

#define AUTHOR_RING 4096   /* authors of other gateways waiting for the service thread */

/*
 * A comment published at any gateway of the screening (a cnats thread):
 * while slow mode is on, its author is noted for the service thread, which
 * counts it in this gateway's slow mode. This process's own are skipped
 * (their ids start with its session).
 */
static void on_author(void *ud, const char *author, const char *id)
{
    dm_net *n = ud;
    char own[32];
    int wake = 0;

    if (!atomic_load(&n->bus_slow_on))
        return;
    snprintf(own, sizeof own, "%llx-", n->session);
    if (!strncmp(id, own, strlen(own)))
        return;
    pthread_mutex_lock(&n->bus_lock);
    if (n->bus_authors && n->bus_authors_count < AUTHOR_RING) {
        snprintf(n->bus_authors[(n->bus_authors_head + n->bus_authors_count) % AUTHOR_RING], sizeof n->bus_authors[0],
                 "%s", author);
        wake = n->bus_authors_count++ == 0;   /* the service thread takes them all at once */
    } else {
        atomic_fetch_add(&n->bus_authors_lost, 1);
    }
    pthread_mutex_unlock(&n->bus_lock);
    if (wake) {
        pthread_mutex_lock(&n->wake_lock);
        if (n->ctx_live)
            lws_cancel_service(n->ctx);
        pthread_mutex_unlock(&n->wake_lock);
    }
}

/*
 * Slow mode on or off (service thread): the other gateways' comments are
 * followed only while it is on, so a screening without slow mode costs no
 * gateway a copy of every comment.
 */
static void slow_mode_changed(dm_net *n)
{
    int on = dm_mod_slow_mode(n->mod) > 0;
    char err[256];

    if (on == atomic_load(&n->bus_slow_on))
        return;
    if (on && dm_bus_watch_authors(n->bus, on_author, n, err, sizeof err)) {
        fprintf(stderr, "danmaku: the comment bus: %s: slow mode holds at this gateway only\n", err);
        return;
    }
    if (!on)
        dm_bus_unwatch_authors(n->bus);
    atomic_store(&n->bus_slow_on, on);
}

static void take_authors(dm_net *n)
{
    double now = dm_now();

    pthread_mutex_lock(&n->bus_lock);
    for (; n->bus_authors_count; n->bus_authors_count--) {
        dm_mod_note_author(n->mod, n->bus_authors[n->bus_authors_head], now);
        n->bus_authors_head = (n->bus_authors_head + 1) % AUTHOR_RING;
    }
    pthread_mutex_unlock(&n->bus_lock);
}

/* ------------------------------------------------ the approval queue across gateways */

#define CTL_CAP 4096   /* approval messages waiting for the service thread */

struct bus_ctl {
    struct bus_ctl *next;
    size_t len;
    char data[];
};

static void on_ctl(void *ud, const char *data, size_t len)
{
    dm_net *n = ud;
    struct bus_ctl *m = malloc(sizeof *m + len + 1);
    int wake = 0;

    if (!m) {
        atomic_fetch_add(&n->bus_ctl_lost, 1);
        return;
    }
    m->next = NULL;
    m->len = len;
    memcpy(m->data, data, len);
    m->data[len] = 0;
    pthread_mutex_lock(&n->bus_lock);
    if (n->bus_ctl_count < CTL_CAP) {
        if (n->bus_ctl_tail)
            n->bus_ctl_tail->next = m;
        else
            n->bus_ctl_head = m;
        n->bus_ctl_tail = m;
        wake = n->bus_ctl_count++ == 0;
        m = NULL;
    }
    pthread_mutex_unlock(&n->bus_lock);
    if (m) {
        free(m);
        atomic_fetch_add(&n->bus_ctl_lost, 1);
    }
    if (wake) {
        pthread_mutex_lock(&n->wake_lock);
        if (n->ctx_live)
            lws_cancel_service(n->ctx);
        pthread_mutex_unlock(&n->wake_lock);
    }
}

static void publish_ctl(dm_net *n, cJSON *o)
{
    char from[24], *s;

    snprintf(from, sizeof from, "%llx", n->session);
    cJSON_AddStringToObject(o, "from", from);
    s = cJSON_PrintUnformatted(o);
    if (!s || dm_bus_publish_ctl(n->bus, s))
        fprintf(stderr, "danmaku: the comment bus: the other gateways' consoles are not told of a held comment "
                        "or a decision\n");
    free(s);
    cJSON_Delete(o);
}

void dm_net_bus_held(dm_net *n, const dm_host_entry *e)
{
    char *js;
    cJSON *o;

    if (!n->bus || e->remote || !(js = dm_host_entry_json(e, 1)))
        return;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "held");
    cJSON_AddItemToObject(o, "entry", cJSON_Parse(js));
    free(js);
    publish_ctl(n, o);
}

int dm_net_bus_decide(dm_net *n, const char *id, int approve)
{
    cJSON *o;

    if (!n->bus)
        return 0;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "decide");
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddBoolToObject(o, "approve", approve);
    publish_ctl(n, o);
    return 1;
}

void dm_net_bus_decided(dm_net *n, const dm_host_entry *e)
{
    cJSON *o;

    if (!n->bus || e->remote)
        return;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "decided");
    cJSON_AddStringToObject(o, "id", e->id);
    cJSON_AddStringToObject(o, "status", dm_host_status_name(e->status));
    if (e->reason >= 0)
        cJSON_AddNumberToObject(o, "reason", e->reason);
    publish_ctl(n, o);
}

static const char *text_of(const cJSON *o, const char *key, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && strlen(v->valuestring) < cap ? v->valuestring : NULL;
}

/* Another gateway's held comment, as this console's list keeps it. 0, or -1 when it is not one. */
static int remote_entry(const cJSON *j, dm_host_entry *e)
{
    const char *id = text_of(j, "id", sizeof e->id), *author = text_of(j, "author", sizeof e->author);
    const char *address = text_of(j, "address", sizeof e->address), *text = text_of(j, "text", 4096);
    const char *color = text_of(j, "color", 8), *mode = text_of(j, "mode", 16), *size = text_of(j, "size", 16);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "t_ms");
    int m = mode ? dm_mode_from_name(mode) : -1, z = size ? dm_size_from_name(size) : -1;
    char *end;
    unsigned long rgb;

    if (!id || !id[0] || !author || !address || !text || !color || color[0] != '#' || m < 0 || z < 0 ||
        !cJSON_IsNumber(t))
        return -1;
    rgb = strtoul(color + 1, &end, 16);
    if (*end || strlen(color) != 7)
        return -1;
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->author, sizeof e->author, "%s", author);
    snprintf(e->address, sizeof e->address, "%s", address);
    e->text = (char *)text;
    e->color = (uint32_t)rgb;
    e->mode = (dm_mode)m;
    e->size = (dm_size)z;
    e->t_ms = (int64_t)t->valuedouble;
    e->status = DM_HOST_HELD;
    e->reason = -1;
    e->remote = 1;
    return 0;
}

static void take_ctl_one(dm_net *n, const char *data, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(data, len);
    const char *type = text_of(o, "type", 16), *from = text_of(o, "from", 24), *id = text_of(o, "id", DM_HOST_ID_LEN);
    char own[24];
    dm_host_entry e;

    snprintf(own, sizeof own, "%llx", n->session);
    if (!type || !from)
        atomic_fetch_add(&n->bus_ctl_lost, 1);
    else if (!strcmp(type, "held") && strcmp(from, own)) {
        if (remote_entry(cJSON_GetObjectItemCaseSensitive(o, "entry"), &e) == 0)
            dm_console_bus_held(n, &e);
        else
            atomic_fetch_add(&n->bus_ctl_lost, 1);
    } else if (!strcmp(type, "decide") && id) {
        dm_console_bus_decide(n, id, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "approve")));
    } else if (!strcmp(type, "decided") && id && strcmp(from, own)) {
        const char *st = text_of(o, "status", 16);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "reason");
        for (int s = DM_HOST_SHOWN; st && s <= DM_HOST_DELETED; s++)
            if (!strcmp(st, dm_host_status_name((dm_host_status)s)))
                dm_console_bus_decided(n, id, (dm_host_status)s, cJSON_IsNumber(r) ? (int)r->valuedouble : -1);
    }
    cJSON_Delete(o);
}

static void take_ctl(dm_net *n)
{
    for (;;) {
        struct bus_ctl *m;
        pthread_mutex_lock(&n->bus_lock);
        m = n->bus_ctl_head;
        if (m) {
            n->bus_ctl_head = m->next;
            if (!n->bus_ctl_head)
                n->bus_ctl_tail = NULL;
            n->bus_ctl_count--;
        }
        pthread_mutex_unlock(&n->bus_lock);
        if (!m)
            return;
        take_ctl_one(n, m->data, m->len);
        free(m);
    }
}

void dm_net_bus_service(dm_net *n)
{
    char *json, err[512];

    if (!n->bus)
        return;
    take_authors(n);
    take_ctl(n);
    pthread_mutex_lock(&n->bus_lock);
    json = n->bus_settings_pending;
    n->bus_settings_pending = NULL;
    pthread_mutex_unlock(&n->bus_lock);
    if (!json)
        return;
    if (apply_settings(n, json, err, sizeof err))
        fprintf(stderr, "danmaku: the comment bus: the screening's moderation settings are not applied: %s\n", err);
    else
        dm_console_settings_changed(n);   /* the consoles here show them (and nothing is put again) */
    slow_mode_changed(n);
}

void dm_net_bus_settings_changed(dm_net *n)
{
    char *json;

    if (!n->bus)
        return;
    slow_mode_changed(n);
    if (!(json = dm_mod_settings_json(n->mod)))
        return;
    if (n->bus_settings_seen && !strcmp(n->bus_settings_seen, json)) {
        free(json);
        return;
    }
    if (dm_bus_put_settings(n->bus, json)) {
        fprintf(stderr, "danmaku: the comment bus is unreachable: the moderation settings reach only this gateway\n");
    } else {
        char *copy = strdup(json);
        if (copy && n->bus_put_count == 16) {   /* echoes that never came: the oldest forgotten */
            free(n->bus_settings_put[n->bus_put_head]);
            n->bus_put_head = (n->bus_put_head + 1) % 16;
            n->bus_put_count--;
        }
        if (copy)
            n->bus_settings_put[(n->bus_put_head + n->bus_put_count++) % 16] = copy;
    }
    free(n->bus_settings_seen);
    n->bus_settings_seen = json;
}

/* A host action to the screening's host subject (it takes `o`): 1 published, -1 not. */
static int publish_host(dm_net *n, cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    int e = s ? dm_bus_publish_host(n->bus, s) : DM_ENOMEM;

    cJSON_Delete(o);
    free(s);
    return e ? -1 : 1;
}

int dm_net_bus_delete(dm_net *n, const char *id)
{
    cJSON *o;

    if (!n->bus)
        return 0;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "delete");
    cJSON_AddStringToObject(o, "id", id);
    return publish_host(n, o);
}

int dm_net_bus_clear(dm_net *n)
{
    cJSON *o;
    int64_t t_ms;
    int pass;

    if (!n->bus)
        return 0;
    dm_feed_film_stamp(n->feed, &pass, &t_ms);   /* now, as a comment sent now would be stamped */
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "clear");
    cJSON_AddNumberToObject(o, "t_ms", (double)t_ms);
    cJSON_AddNumberToObject(o, "pass", pass);
    return publish_host(n, o);
}

int dm_net_bus_film(dm_net *n, dm_net_control_kind kind, double value, int entry)
{
    cJSON *o;

    if (!n->bus)
        return 0;
    if ((unsigned)kind >= sizeof film_names / sizeof film_names[0] || !film_names[kind])
        return -1;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "film");
    cJSON_AddStringToObject(o, "control", film_names[kind]);
    cJSON_AddNumberToObject(o, "value", value);
    cJSON_AddNumberToObject(o, "entry", entry);
    return publish_host(n, o);
}

#define CLEARED_PER_MESSAGE 500   /* ids per "cleared" message: well under NATS's 1 MB payload */

void dm_net_stream_cleared(dm_net *n, const char *const *ids, size_t count)
{
    if (!n || !n->bus || !n->opts.bus_clock)
        return;
    for (size_t from = 0; from < count; from += CLEARED_PER_MESSAGE) {
        cJSON *o = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(o, "ids");
        cJSON_AddStringToObject(o, "type", "cleared");
        for (size_t k = from; arr && k < count && k < from + CLEARED_PER_MESSAGE; k++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(ids[k]));
        if (publish_host(n, o) < 0)
            fprintf(stderr, "danmaku: the comment bus: a clear's comments could not be marked in the stream; "
                            "its export shows them\n");
    }
}

/* Settings and address salt shared by the screening's gateways: at start, before any connection. */
static int share_moderation(dm_net *n, const dm_net_opts *o, char *err, size_t errlen)
{
    char *now = NULL;
    uint32_t salt;
    int e;

    if (dm_bus_salt(n->bus, n->salt, &salt) == 0)
        n->salt = salt;
    else
        fprintf(stderr, "danmaku: the comment bus: no shared address salt; a banned address holds at this "
                        "gateway only\n");
    e = dm_bus_watch_settings(n->bus, on_settings, n, &now, err, errlen);
    if (!e && (n->bus_authors = calloc(AUTHOR_RING, sizeof *n->bus_authors)) == NULL) {
        snprintf(err, errlen, "out of memory");
        e = DM_ENOMEM;
    }
    if (!e)
        e = dm_bus_watch_ctl(n->bus, on_ctl, n, err, errlen);          /* the approval queue across gateways */
    if (e)
        return e;
    if (o->moderation_path) {
        free(now);   /* the host's file, given to this one: it becomes the screening's */
        dm_net_bus_settings_changed(n);
        return 0;
    }
    if (now && apply_settings(n, now, err, errlen))
        fprintf(stderr, "danmaku: the comment bus: the screening's moderation settings are not applied: %s\n", err);
    slow_mode_changed(n);
    return 0;
}

int dm_net_bus_start(dm_net *n, const dm_net_opts *o, char *err, size_t errlen)
{
    int e;

    if (!o->bus_url)
        return 0;
    if (o->record_path && o->bus_role == DM_NET_BUS_GATEWAY) {
        snprintf(err, errlen, "a gateway keeps no recording: the screening's stream is its recording "
                              "(export it with danmaku-convert nats://HOST:PORT/%s -o FILE.jsonl)",
                 o->screening ? o->screening : "ID");
        return DM_EINVAL;
    }
    if (!o->screening) {
        snprintf(err, errlen, "--bus needs --screening ID");
        return DM_EINVAL;
    }
    if (o->venue && dm_bus_check_venue(o->venue, err, errlen))
        return DM_EINVAL;
    if (o->venue_only && !o->venue) {
        snprintf(err, errlen, "--venue-only needs --venue NAME (the hall whose comments this screen shows)");
        return DM_EINVAL;
    }
    e = dm_bus_open(&n->bus, o->bus_url, o->screening, o->bus_replicas, err, errlen);
    if (e)
        return e;
    if (o->bus_role == DM_NET_BUS_GATEWAY)
        e = dm_bus_watch_clock(n->bus, on_clock, n, err, errlen);
    else {
        dm_feed_set_external(n->feed);
        /* a local copy of what this screen takes from the stream, as a recording */
        if (o->record_path)
            e = dm_recorder_open(&n->bus_rec, o->record_path, n->session, n->feed, NULL, NULL, err, errlen);
        if (!e)
            e = dm_bus_consume(n->bus, on_stream, n, err, errlen);
    }
    if (!e)
        e = share_moderation(n, o, err, errlen);
    if (!e)
        e = dm_recorder_open_bus(&n->rec, n->bus, n->feed, dm_net_recorded, n, err, errlen);
    return e;
}

void dm_net_bus_halt(dm_net *n)
{
    if (!n->bus || atomic_load(&n->bus_stopping))
        return;   /* (dm_net_stop halts again) */
    if (n->opts.bus_role == DM_NET_BUS_PLAYER && dm_bus_catch_up(n->bus, CATCH_UP_MS))
        fprintf(stderr, "danmaku: the comment bus: the last messages of the stream did not come within %d s\n",
                CATCH_UP_MS / 1000);
    atomic_store(&n->bus_stopping, 1);
    dm_bus_stop(n->bus);
}

int dm_net_bus_close_recording(dm_net *n, char *err, size_t errlen)
{
    uint64_t lost = atomic_exchange(&n->bus_unrecorded, 0);   /* said once */
    int e = n->bus_rec ? dm_recorder_close(&n->bus_rec, err, errlen) : 0;

    if (!e && lost) {
        snprintf(err, errlen, "%llu comment%s of the stream could not be written to the recording (they were "
                              "shown; the stream has them)", (unsigned long long)lost, lost == 1 ? "" : "s");
        e = DM_EIO;
    }
    return e;
}

void dm_net_bus_close(dm_net *n)
{
    char err[512];

    if (dm_net_bus_close_recording(n, err, sizeof err))
        fprintf(stderr, "danmaku: %s\n", err);
    dm_bus_close(&n->bus);   /* no callback after this: what they left for the service thread goes */
    free(n->bus_authors);
    n->bus_authors = NULL;
    while (n->bus_ctl_head) {
        struct bus_ctl *next = n->bus_ctl_head->next;
        free(n->bus_ctl_head);
        n->bus_ctl_head = next;
    }
    n->bus_ctl_tail = NULL;
    n->bus_ctl_count = 0;
}

void dm_net_bus_clock(dm_net *n)
{
    int64_t t_ms;
    int pass, paused;
    double now;

    if (!n->bus || !n->opts.bus_clock)
        return;
    now = dm_now();
    paused = atomic_load(&n->bus_paused);
    /* a pause or a play goes out at once: the gateways' stamps run on until they hear of it */
    if (now - n->bus_clock_sent < 1.0 / DM_BUS_CLOCK_HZ && paused == n->bus_clock_sent_paused)
        return;
    n->bus_clock_sent = now;
    n->bus_clock_sent_paused = paused;
    dm_feed_film_stamp(n->feed, &pass, &t_ms);
    if (dm_bus_publish_clock(n->bus, t_ms, pass, paused)) {
        if (!n->bus_clock_failing)
            fprintf(stderr, "danmaku: the comment bus is unreachable: the film clock is not published\n");
        n->bus_clock_failing = 1;
    } else {
        n->bus_clock_failing = 0;
    }
}
