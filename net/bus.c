/*
 * bus.c - the comment bus on NATS JetStream (bus.h): the connection, the
 * screening's stream, publishing comments with de-duplication and the
 * clock, and reading the stream in order. Everything NATS does (routing,
 * replication, storage, redelivery) is the server's and cnats's; this file
 * only names the screening's subjects and turns results into ours.
 */
#include "bus.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>
#include <cjson/cJSON.h>

#include "danmaku.h"

#define CONNECT_TIMEOUT_MS 2000
#define RECONNECT_WAIT_MS 250
#define PUBLISH_WAIT_MS 3000     /* a batch's acknowledgements: longer, and the comments are refused */
#define DUPLICATE_WINDOW_NS (10LL * 60 * 1000000000LL) /* a republished comment is dropped within it */
#define READ_WAIT_MS 5000        /* the export's wait for the next message */
#define STOP_WAIT_MS 3000        /* at the end, a subscription's last callbacks are waited for this long */
#define ELECTION_MS 30000        /* JetStream requests are tried again this long while a cluster forms */
#define ELECTION_WAIT_MS 500     /* ...or elects new leaders after losing a node, this long apart */
#define PENDING_BYTES (256 << 20) /* a reader's messages not yet taken (the library's default is 64 MB) */
#define RESUME_TRIES 100         /* the export reads on after a slow-consumer drop this often */
#define STALL_MS 3000            /* a reader that has had nothing this long while the stream grew reads it again */

struct dm_bus {
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *clock_sub, *consume_sub, *settings_sub, *author_sub, *ctl_sub;
    kvStore *kv;                 /* the screening's key-value bucket: moderation settings, the address salt */
    char screening[DM_BUS_ID_MAX + 1];
    char stream[DM_BUS_ID_MAX + 16];
    char subj_comments[DM_BUS_ID_MAX + 32];
    char subj_clock[DM_BUS_ID_MAX + 32];
    char subj_all[DM_BUS_ID_MAX + 32];
    char subj_host[DM_BUS_ID_MAX + 32];
    char subj_settings[DM_BUS_ID_MAX + 32];   /* the bucket's "settings" key, as a subject */
    char subj_ctl[DM_BUS_ID_MAX + 32];        /* the gateways' own talk, outside the stream */
    void (*settings_fn)(void *ud, const char *json, size_t len);
    void *settings_ud;
    atomic_int async_failed;     /* a negative acknowledgement came for the batch being published */
    atomic_uint_fast64_t published, failed;
    atomic_uint_fast64_t delivered;   /* the stream sequence number the consumer delivered last */
    /* callbacks */
    void (*clock_fn)(void *ud, int64_t t_ms, int pass, int paused);
    void *clock_ud;
    void (*author_fn)(void *ud, const char *author, const char *id);
    void *author_ud;
    void (*ctl_fn)(void *ud, const char *data, size_t len);
    void *ctl_ud;
    void (*msg_fn)(void *ud, uint64_t seq, dm_bus_kind kind, const char *data, size_t len);
    void *msg_ud;
    /* the reader's watch (dm_bus_consume): a consumer the cluster lost is made again */
    pthread_mutex_t consume_lock;   /* one delivery at a time, from the old consumer or its replacement */
    pthread_t watch;
    int watching;
    atomic_int watch_stop;
    atomic_uint_fast64_t resubscribed;
};

/* A name of A-Z a-z 0-9 _ -, 1 to max characters: 0, or DM_EINVAL with err naming `what`. */
static int check_name(const char *what, const char *why, const char *id, size_t max, char *err, size_t errlen)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n > max) {
        snprintf(err, errlen, "a %s is 1 to %zu characters, got %zu", what, max, n);
        return DM_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-')) {
            snprintf(err, errlen, "%s '%s': character %zu (0x%02X) is not one of A-Z a-z 0-9 _ - (%s)", what, id, i + 1,
                     ch, why);
            return DM_EINVAL;
        }
    }
    return 0;
}

int dm_bus_check_id(const char *id, char *err, size_t errlen)
{
    return check_name("screening id", "NATS subjects and stream names cannot hold it", id, DM_BUS_ID_MAX, err, errlen);
}

int dm_bus_check_venue(const char *name, char *err, size_t errlen)
{
    return check_name("venue name", "a hall's name, the same in every program", name, DM_VENUE_MAX, err, errlen);
}

int dm_bus_split_url(const char *s, char *url, size_t urllen, char *id, size_t idlen, char *err, size_t errlen)
{
    const char *slash;

    if (strncmp(s, "nats://", 7) != 0)
        return 0;
    slash = strchr(s + 7, '/');
    if (!slash || !slash[1]) {
        snprintf(err, errlen, "'%s': a stream's address is nats://HOST:PORT/SCREENING", s);
        return DM_EINVAL;
    }
    if ((size_t)(slash - s) >= urllen || strlen(slash + 1) >= idlen) {
        snprintf(err, errlen, "'%s': too long", s);
        return DM_EINVAL;
    }
    memcpy(url, s, (size_t)(slash - s));
    url[slash - s] = 0;
    snprintf(id, idlen, "%s", slash + 1);
    return dm_bus_check_id(id, err, errlen) ? DM_EINVAL : 1;
}

static void nats_error(char *err, size_t errlen, const char *what, natsStatus s, jsErrCode jerr)
{
    char stack[256] = "";

    nats_GetLastErrorStack(stack, sizeof stack);
    if (jerr)
        snprintf(err, errlen, "%s: %s (JetStream error %d)", what, natsStatus_GetText(s), (int)jerr);
    else
        snprintf(err, errlen, "%s: %s", what, natsStatus_GetText(s));
    (void)stack;
}

/*
 * JetStream's answers while a cluster forms or elects its leaders: a request
 * that timed out, no meta leader yet ("temporarily unavailable"), or a meta
 * leader that does not know enough peers yet for the replicas asked ("no
 * suitable peers"; a cluster with fewer servers than replicas answers the
 * same, so it is told after the wait). Each is tried again,
 * ELECTION_WAIT_MS apart, until ELECTION_MS after the first try, and the
 * first wait is said once on stderr. A key-value call gives no JetStream
 * code: its error text is read instead (code KV_CALL).
 */
#define KV_CALL (-1)

typedef struct {
    int64_t t0;
    int told;
    int peers;           /* the last answer was "no suitable peers" */
    const char *what;
} election;

static election election_start(const char *what)
{
    election e = { nats_Now(), 0, 0, what };
    return e;
}

static int electing(election *e, natsStatus s, int code)
{
    int peers = code == JSClusterNoPeersErr;
    int transient = s == NATS_TIMEOUT || code == JSClusterNotAvailErr || peers;

    if (!transient && code == KV_CALL && s != NATS_OK) {
        natsStatus last;
        const char *text = nats_GetLastError(&last);

        peers = text && strstr(text, "no suitable peers");
        transient = peers || (text && strstr(text, "temporarily unavailable"));
    }
    e->peers = peers;
    if (!transient || nats_Now() - e->t0 >= ELECTION_MS)
        return 0;
    if (!e->told) {
        e->told = 1;
        fprintf(stderr, "danmaku: the comment bus: %s: waiting up to %d s for the JetStream cluster (%s)\n", e->what,
                ELECTION_MS / 1000, s == NATS_TIMEOUT ? "a request timed out" :
                peers ? "no suitable peers for the replicas yet" : "no leader yet");
    }
    nats_Sleep(ELECTION_WAIT_MS);
    return 1;
}

static void async_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    dm_bus *b = closure;

    (void)js;
    (void)pae;
    atomic_store(&b->async_failed, 1);
}

/* The screening's stream's state, waited for while the cluster elects. */
static natsStatus stream_info(dm_bus *b, jsStreamInfo **si, jsErrCode *jerr, election *e)
{
    natsStatus s;

    do {
        *jerr = 0;
        s = js_GetStreamInfo(si, b->js, b->stream, NULL, jerr);
    } while (electing(e, s, (int)*jerr));
    return s;
}

/* The screening's stream: found, or made. */
static int ensure_stream(dm_bus *b, int replicas, char *err, size_t errlen)
{
    jsStreamInfo *si = NULL;
    jsStreamConfig cfg;
    jsErrCode jerr = 0;
    const char *subjects[1] = { b->subj_all };
    election e = election_start("the screening's stream");
    natsStatus s = stream_info(b, &si, &jerr, &e);

    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return 0;
    }
    if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) {
        nats_error(err, errlen, "cannot look up the screening's stream", s, jerr);
        return DM_EIO;
    }
    if (replicas < 0) {
        snprintf(err, errlen, "no screening '%s' on the bus (no stream %s)", b->screening, b->stream);
        return DM_EIO;
    }
    jsStreamConfig_Init(&cfg);
    cfg.Name = b->stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = replicas > 0 ? replicas : 1;
    cfg.Duplicates = DUPLICATE_WINDOW_NS;
    e.t0 = nats_Now();   /* (said once, if it waited before) */
    do {
        jerr = 0;
        s = js_AddStream(&si, b->js, &cfg, NULL, &jerr);
    } while (electing(&e, s, (int)jerr));
    if (s != NATS_OK && jerr != JSStreamNameExistErr) {   /* another gateway made it meanwhile: fine */
        char what[200];
        snprintf(what, sizeof what, "cannot create the stream %s (R%d)%s", b->stream, (int)cfg.Replicas,
                 e.peers ? ", fewer JetStream servers than replicas" : "");
        nats_error(err, errlen, what, s, jerr);
        return DM_EIO;
    }
    jsStreamInfo_Destroy(si);
    return 0;
}

/* The screening's key-value bucket (its stream is KV_DANMAKU_<ID>): found, or made. */
static int ensure_bucket(dm_bus *b, int replicas, char *err, size_t errlen)
{
    kvConfig cfg;
    election e = election_start("the screening's settings bucket");
    natsStatus s;

    kvConfig_Init(&cfg);
    cfg.Bucket = b->stream;
    cfg.History = 1;
    cfg.Replicas = replicas > 0 ? replicas : 1;
    /* (electing reads the create's error text, so it comes before any other call) */
    while ((s = js_KeyValue(&b->kv, b->js, b->stream)) != NATS_OK) {
        s = js_CreateKeyValue(&b->kv, b->js, &cfg);
        if (s == NATS_OK || !electing(&e, s, KV_CALL))
            break;
    }
    if (s != NATS_OK && js_KeyValue(&b->kv, b->js, b->stream) == NATS_OK)
        s = NATS_OK;   /* made by another process meanwhile (with its own replicas, say) */
    if (s != NATS_OK) {
        char what[160];
        snprintf(what, sizeof what, "cannot open the screening's settings bucket (R%d)%s", (int)cfg.Replicas,
                 e.peers ? ", fewer JetStream servers than replicas" : "");
        nats_error(err, errlen, what, s, 0);
        return DM_EIO;
    }
    return 0;
}

/* "nats://a:4222,nats://b:4222": every server of a cluster, tried in turn. */
static natsStatus set_servers(natsOptions *o, const char *url)
{
    char *copy = strdup(url), *save = NULL, *tok;
    const char *list[16];
    int n = 0;
    natsStatus s;

    if (!copy)
        return NATS_NO_MEMORY;
    for (tok = strtok_r(copy, ",", &save); tok && n < 16; tok = strtok_r(NULL, ",", &save))
        if (*tok)
            list[n++] = tok;
    s = n ? natsOptions_SetServers(o, list, n) : NATS_INVALID_ARG;
    free(copy);
    return s;
}

int dm_bus_open(dm_bus **out, const char *url, const char *screening, int replicas, char *err, size_t errlen)
{
    natsOptions *o = NULL;
    jsOptions jo;
    dm_bus *b;
    natsStatus s;
    int e;

    *out = NULL;
    if ((e = dm_bus_check_id(screening, err, errlen)) != 0)
        return e;
    b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return DM_ENOMEM;
    }
    pthread_mutex_init(&b->consume_lock, NULL);
    snprintf(b->screening, sizeof b->screening, "%s", screening);
    snprintf(b->stream, sizeof b->stream, "DANMAKU_%s", screening);
    snprintf(b->subj_comments, sizeof b->subj_comments, "danmaku.%s.comments", screening);
    snprintf(b->subj_clock, sizeof b->subj_clock, "danmaku.%s.clock", screening);
    snprintf(b->subj_all, sizeof b->subj_all, "danmaku.%s.>", screening);
    snprintf(b->subj_ctl, sizeof b->subj_ctl, "danmaku-ctl.%s", screening);
    snprintf(b->subj_host, sizeof b->subj_host, "danmaku.%s.host", screening);
    snprintf(b->subj_settings, sizeof b->subj_settings, "$KV.%s.settings", b->stream);
    s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = set_servers(o, url);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, CONNECT_TIMEOUT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, -1);   /* once connected, for ever */
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(o, RECONNECT_WAIT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, "danmaku");
    if (s != NATS_OK) {
        nats_error(err, errlen, "bad NATS address", s, 0);
        goto fail;
    }
    s = natsConnection_Connect(&b->nc, o);
    if (s != NATS_OK) {
        char what[600];
        snprintf(what, sizeof what, "cannot reach the NATS server at %s", url);
        nats_error(err, errlen, what, s, 0);
        goto fail;
    }
    jsOptions_Init(&jo);
    jo.PublishAsync.ErrHandler = async_error;
    jo.PublishAsync.ErrHandlerClosure = b;
    jo.PublishAsync.MaxPending = 4096;
    s = natsConnection_JetStream(&b->js, b->nc, &jo);
    if (s != NATS_OK) {
        nats_error(err, errlen, "no JetStream on the NATS connection", s, 0);
        goto fail;
    }
    if (ensure_stream(b, replicas, err, errlen))
        goto fail;
    if (replicas >= 0 && ensure_bucket(b, replicas, err, errlen))
        goto fail;
    natsOptions_Destroy(o);
    *out = b;
    return 0;
fail:
    natsOptions_Destroy(o);
    dm_bus_close(&b);
    return DM_EIO;
}

void dm_bus_close(dm_bus **pb)
{
    dm_bus *b = *pb;

    if (!b)
        return;
    dm_bus_stop(b);
    if (b->kv)
        kvStore_Destroy(b->kv);
    jsCtx_Destroy(b->js);
    if (b->nc) {
        natsConnection_Close(b->nc);
        natsConnection_Destroy(b->nc);
    }
    pthread_mutex_destroy(&b->consume_lock);
    free(b);
    *pb = NULL;
}

const char *dm_bus_screening(const dm_bus *b)
{
    return b->screening;
}

/* A comment's message: its line, and its author in a header (slow mode across gateways); NULL out of memory. */
static natsMsg *comment_msg(dm_bus *b, const char *line, size_t len, const char *author)
{
    natsMsg *m = NULL;

    if (natsMsg_Create(&m, b->subj_comments, NULL, line, (int)len) != NATS_OK)
        return NULL;
    if (author && author[0] && natsMsgHeader_Set(m, DM_BUS_AUTHOR_HEADER, author) != NATS_OK) {
        natsMsg_Destroy(m);
        return NULL;
    }
    return m;
}

static int publish_sync(dm_bus *b, const char *line, size_t len, const char *id, const char *author)
{
    jsPubOptions po;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsMsg *m = comment_msg(b, line, len, author);
    natsStatus s;

    if (!m)
        return ENOMEM;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    po.MaxWait = PUBLISH_WAIT_MS;
    s = js_PublishMsg(&pa, b->js, m, &po, &jerr);
    natsMsg_Destroy(m);
    jsPubAck_Destroy(pa);
    return s == NATS_OK ? 0 : s == NATS_TIMEOUT ? ETIMEDOUT : ENOTCONN;
}

size_t dm_bus_publish_comments(dm_bus *b, const char *const *lines, const size_t *lens, const char *const *ids,
                               const char *const *authors, size_t n, int *res)
{
    jsPubOptions po;
    natsStatus s = NATS_OK;
    size_t failed = 0;

    if (natsConnection_Status(b->nc) != NATS_CONN_STATUS_CONNECTED) {
        for (size_t i = 0; i < n; i++)
            res[i] = ENOTCONN;   /* reconnecting: refused at once, not after a wait per comment */
        atomic_fetch_add(&b->failed, n);
        return n;
    }
    /* all at once, acknowledged together: one round trip for a batch of a flood */
    atomic_store(&b->async_failed, 0);
    for (size_t i = 0; i < n && s == NATS_OK; i++) {
        natsMsg *m = comment_msg(b, lines[i], lens[i], authors ? authors[i] : NULL);
        jsPubOptions_Init(&po);
        po.MsgId = ids[i];
        s = m ? js_PublishMsgAsync(b->js, &m, &po) : NATS_NO_MEMORY;
        natsMsg_Destroy(m);   /* NULL once the library took it */
    }
    if (s == NATS_OK) {
        jsPubOptions_Init(&po);
        po.MaxWait = PUBLISH_WAIT_MS;
        s = js_PublishAsyncComplete(b->js, &po);
    }
    if (s == NATS_OK && !atomic_load(&b->async_failed)) {
        for (size_t i = 0; i < n; i++)
            res[i] = 0;
        atomic_fetch_add(&b->published, n);
        return 0;
    }
    /*
     * Something in the batch was not acknowledged: publish each line again,
     * one by one, and take each one's own answer. The stream drops the
     * copies of those already stored (same message id), so none is doubled.
     */
    if (s != NATS_OK) {
        natsMsgList pending = { 0 };
        if (js_PublishAsyncGetPendingList(&pending, b->js) == NATS_OK)
            natsMsgList_Destroy(&pending);   /* given up: they go again below */
    }
    for (size_t i = 0; i < n; i++) {
        /* after one failure the rest would only wait as long each: refused at once */
        res[i] = failed ? ENOTCONN : publish_sync(b, lines[i], lens[i], ids[i], authors ? authors[i] : NULL);
        failed += res[i] != 0;
    }
    atomic_fetch_add(&b->published, n - failed);
    atomic_fetch_add(&b->failed, failed);
    return failed;
}

int dm_bus_publish_clock(dm_bus *b, int64_t t_ms, int pass, int paused)
{
    char msg[96];
    int len = snprintf(msg, sizeof msg, "{\"t_ms\":%lld,\"pass\":%d,\"paused\":%d}", (long long)t_ms, pass,
                       paused ? 1 : 0);

    return natsConnection_Publish(b->nc, b->subj_clock, msg, len) == NATS_OK ? 0 : DM_EIO;
}

int dm_bus_parse_clock(const char *data, size_t len, int64_t *t_ms, int *pass, int *paused)
{
    cJSON *o = cJSON_ParseWithLength(data, len);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t_ms");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pass");
    const cJSON *z = cJSON_GetObjectItemCaseSensitive(o, "paused");
    int ok = cJSON_IsNumber(t) && t->valuedouble >= 0 && t->valuedouble < 1e15 && cJSON_IsNumber(p) &&
             p->valuedouble >= 0 && p->valuedouble < 1e9;

    if (ok) {
        *t_ms = (int64_t)t->valuedouble;
        *pass = (int)p->valuedouble;
        *paused = cJSON_IsNumber(z) && z->valuedouble != 0;
    }
    cJSON_Delete(o);
    return ok ? 0 : DM_EINVAL;
}

static void on_clock(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    dm_bus *b = closure;
    int64_t t_ms;
    int pass, paused;

    (void)nc;
    (void)sub;
    if (dm_bus_parse_clock(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), &t_ms, &pass, &paused) == 0)
        b->clock_fn(b->clock_ud, t_ms, pass, paused);
    natsMsg_Destroy(msg);
}

/* A plain (core NATS) subscription to `subject`: each message as it is published. 0, or DM_EIO with err. */
static int core_subscribe(dm_bus *b, natsSubscription **sub, const char *subject, natsMsgHandler cb, const char *what,
                          char *err, size_t errlen)
{
    natsStatus s = natsConnection_Subscribe(sub, b->nc, subject, cb, b);

    if (s != NATS_OK) {
        nats_error(err, errlen, what, s, 0);
        return DM_EIO;
    }
    return 0;
}

int dm_bus_watch_clock(dm_bus *b, void (*fn)(void *ud, int64_t t_ms, int pass, int paused), void *ud, char *err,
                       size_t errlen)
{
    b->clock_fn = fn;
    b->clock_ud = ud;
    return core_subscribe(b, &b->clock_sub, b->subj_clock, on_clock, "cannot follow the screening's clock", err, errlen);
}

static void on_author(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    dm_bus *b = closure;
    const char *author = NULL, *id = NULL;

    (void)nc;
    (void)sub;
    if (natsMsgHeader_Get(msg, DM_BUS_AUTHOR_HEADER, &author) == NATS_OK && author && author[0] &&
        natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id)
        b->author_fn(b->author_ud, author, id);
    natsMsg_Destroy(msg);
}

int dm_bus_watch_authors(dm_bus *b, void (*fn)(void *ud, const char *author, const char *id), void *ud, char *err,
                         size_t errlen)
{
    if (b->author_sub)
        return 0;
    b->author_fn = fn;
    b->author_ud = ud;
    /* each comment as it is published, not the stream's history */
    return core_subscribe(b, &b->author_sub, b->subj_comments, on_author,
                          "cannot follow the screening's comments for slow mode", err, errlen);
}

static void on_ctl(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    dm_bus *b = closure;

    (void)nc;
    (void)sub;
    b->ctl_fn(b->ctl_ud, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

int dm_bus_watch_ctl(dm_bus *b, void (*fn)(void *ud, const char *data, size_t len), void *ud, char *err,
                     size_t errlen)
{
    b->ctl_fn = fn;
    b->ctl_ud = ud;
    return core_subscribe(b, &b->ctl_sub, b->subj_ctl, on_ctl, "cannot follow the other gateways' approval queue",
                          err, errlen);
}

int dm_bus_publish_ctl(dm_bus *b, const char *json)
{
    return natsConnection_PublishString(b->nc, b->subj_ctl, json) == NATS_OK ? 0 : DM_EIO;
}

static void stop_sub(natsSubscription **sub);

void dm_bus_unwatch_authors(dm_bus *b)
{
    stop_sub(&b->author_sub);
}

static dm_bus_kind kind_of(const dm_bus *b, const char *subject)
{
    if (!strcmp(subject, b->subj_comments))
        return DM_BUS_COMMENT;
    if (!strcmp(subject, b->subj_clock))
        return DM_BUS_CLOCK;
    if (!strcmp(subject, b->subj_host))
        return DM_BUS_HOST;
    return DM_BUS_OTHER;
}

/* A message's sequence number in the stream, 0 when it has none. */
static uint64_t stream_seq(natsMsg *msg)
{
    jsMsgMetaData *meta = NULL;
    uint64_t seq = 0;

    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
    }
    return seq;
}

/* A message of the stream to fn: its sequence number, its kind, its data. */
static void deliver(dm_bus *b, natsMsg *msg, uint64_t seq,
                    void (*fn)(void *ud, uint64_t seq, dm_bus_kind kind, const char *data, size_t len), void *ud)
{
    fn(ud, seq, kind_of(b, natsMsg_GetSubject(msg)), natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
}

static void on_stream(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    dm_bus *b = closure;
    uint64_t seq = stream_seq(msg);

    (void)nc;
    (void)sub;
    pthread_mutex_lock(&b->consume_lock);
    /* after a consumer was made again, what the old one already gave is skipped: nothing twice */
    if (!seq || seq > atomic_load(&b->delivered)) {
        deliver(b, msg, seq, b->msg_fn, b->msg_ud);
        if (seq)
            atomic_store(&b->delivered, seq);
    }
    pthread_mutex_unlock(&b->consume_lock);
    natsMsg_Destroy(msg);
}

/*
 * The reader's watch: the ordered consumer lives on one node; when the
 * cluster loses that node, or a reset of the consumer fails while a new
 * leader is elected, nothing more comes, though the stream grows. Once it
 * has grown for STALL_MS with nothing delivered, the stream is read again
 * from the message after the last one delivered, by a new consumer.
 */
static void *watch_stream(void *arg)
{
    dm_bus *b = arg;
    uint64_t seen = atomic_load(&b->delivered);
    int quiet_ms = 0;

    while (!atomic_load(&b->watch_stop)) {
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        uint64_t now, last;

        nats_Sleep(250);
        now = atomic_load(&b->delivered);
        if (now != seen) {
            seen = now;
            quiet_ms = 0;
            continue;
        }
        if ((quiet_ms += 250) < STALL_MS || atomic_load(&b->watch_stop))
            continue;
        quiet_ms = 0;
        if (js_GetStreamInfo(&si, b->js, b->stream, NULL, &jerr) != NATS_OK)
            continue;   /* the cluster is not answering yet: looked at again later */
        last = si->State.LastSeq;
        jsStreamInfo_Destroy(si);
        if (last > now && !atomic_load(&b->watch_stop)) {
            natsSubscription *fresh = NULL, *old;
            jsSubOptions so;
            jsSubOptions_Init(&so);
            so.Stream = b->stream;
            so.Ordered = true;
            so.Config.DeliverPolicy = js_DeliverByStartSequence;
            so.Config.OptStartSeq = now + 1;
            if (js_Subscribe(&fresh, b->js, b->subj_all, on_stream, b, NULL, &so, &jerr) != NATS_OK)
                continue;
            natsSubscription_SetPendingLimits(fresh, -1, PENDING_BYTES);
            fprintf(stderr, "danmaku: the comment bus: the stream stopped coming at message %llu of %llu; "
                            "reading it again from there\n", (unsigned long long)now, (unsigned long long)last);
            pthread_mutex_lock(&b->consume_lock);
            old = b->consume_sub;
            b->consume_sub = fresh;
            pthread_mutex_unlock(&b->consume_lock);
            natsSubscription_Unsubscribe(old);
            natsSubscription_Destroy(old);
            atomic_fetch_add(&b->resubscribed, 1);
        }
    }
    return NULL;
}

static void ordered_opts(const dm_bus *b, jsSubOptions *so)
{
    jsSubOptions_Init(so);
    so->Stream = b->stream;
    so->Ordered = true;
    so->Config.DeliverPolicy = js_DeliverAll;
}

int dm_bus_consume(dm_bus *b, void (*fn)(void *ud, uint64_t seq, dm_bus_kind kind, const char *data, size_t len),
                   void *ud, char *err, size_t errlen)
{
    jsSubOptions so;
    jsErrCode jerr = 0;
    election e = election_start("the screening's stream");
    natsStatus s;

    b->msg_fn = fn;
    b->msg_ud = ud;
    ordered_opts(b, &so);
    /* a cluster that just lost a node may take seconds to elect the stream's new leader */
    do {
        jerr = 0;
        s = js_Subscribe(&b->consume_sub, b->js, b->subj_all, on_stream, b, NULL, &so, &jerr);
    } while (electing(&e, s, (int)jerr));
    if (s != NATS_OK) {
        nats_error(err, errlen, "cannot read the screening's stream", s, jerr);
        return DM_EIO;
    }
    natsSubscription_SetPendingLimits(b->consume_sub, -1, PENDING_BYTES);
    b->watching = pthread_create(&b->watch, NULL, watch_stream, b) == 0;
    if (!b->watching)
        fprintf(stderr, "danmaku: the comment bus: no watch on the stream's reader (out of threads)\n");
    return 0;
}

int dm_bus_read_all(dm_bus *b, void (*fn)(void *ud, uint64_t seq, dm_bus_kind kind, const char *data, size_t len),
                    void *ud, char *err, size_t errlen)
{
    jsStreamInfo *si = NULL;
    natsSubscription *sub = NULL;
    jsSubOptions so;
    jsErrCode jerr = 0;
    uint64_t last, seq = 0;
    int resumed = 0;
    election e = election_start("the screening's stream");
    natsStatus s = stream_info(b, &si, &jerr, &e);
    if (s != NATS_OK) {
        nats_error(err, errlen, "cannot look up the screening's stream", s, jerr);
        return DM_EIO;
    }
    last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    if (last == 0)
        return 0;
    ordered_opts(b, &so);
    e = election_start("the screening's stream");
    do {
        jerr = 0;
        s = js_SubscribeSync(&sub, b->js, b->subj_all, NULL, &so, &jerr);
    } while (electing(&e, s, (int)jerr));
    if (s != NATS_OK) {
        nats_error(err, errlen, "cannot read the screening's stream", s, jerr);
        return DM_EIO;
    }
    natsSubscription_SetPendingLimits(sub, -1, PENDING_BYTES);
    while (seq < last) {
        natsMsg *msg = NULL;
        uint64_t at;
        s = natsSubscription_NextMsg(&msg, sub, READ_WAIT_MS);
        if (s == NATS_SLOW_CONSUMER && resumed++ < RESUME_TRIES) {
            /* the stream came faster than it was read and the library dropped some: read on after the last */
            natsSubscription_Unsubscribe(sub);
            natsSubscription_Destroy(sub);
            sub = NULL;
            ordered_opts(b, &so);
            so.Config.DeliverPolicy = js_DeliverByStartSequence;
            so.Config.OptStartSeq = seq + 1;
            jerr = 0;
            s = js_SubscribeSync(&sub, b->js, b->subj_all, NULL, &so, &jerr);
            if (s == NATS_OK) {
                natsSubscription_SetPendingLimits(sub, -1, PENDING_BYTES);
                continue;
            }
        }
        if (s != NATS_OK) {
            snprintf(err, errlen, "the stream %s stopped at message %llu of %llu: %s", b->stream,
                     (unsigned long long)seq, (unsigned long long)last, natsStatus_GetText(s));
            if (sub) {
                natsSubscription_Unsubscribe(sub);
                natsSubscription_Destroy(sub);
            }
            return DM_EIO;
        }
        at = stream_seq(msg);
        if (!at || at > seq) {   /* after a resume, nothing twice */
            deliver(b, msg, at, fn, ud);
            seq = at ? at : seq;
        }
        natsMsg_Destroy(msg);
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return 0;
}

int dm_bus_catch_up(dm_bus *b, int timeout_ms)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    uint64_t last;

    if (!b->consume_sub)
        return 0;   /* not reading the stream: nothing to wait for */
    if (js_GetStreamInfo(&si, b->js, b->stream, NULL, &jerr) != NATS_OK)
        return DM_EIO;
    last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    for (int waited = 0; atomic_load(&b->delivered) < last; waited += 10) {
        if (waited >= timeout_ms)
            return DM_EIO;
        nats_Sleep(10);
    }
    return 0;
}

/* No callback of sub runs once this returns: the messages it had are delivered first (drained). */
static void stop_sub(natsSubscription **sub)
{
    if (!*sub)
        return;
    if (natsSubscription_Drain(*sub) == NATS_OK)
        natsSubscription_WaitForDrainCompletion(*sub, STOP_WAIT_MS);
    else
        natsSubscription_Unsubscribe(*sub);
    natsSubscription_Destroy(*sub);
    *sub = NULL;
}

void dm_bus_stop(dm_bus *b)
{
    if (b->watching) {   /* first: it may be making the reader again */
        atomic_store(&b->watch_stop, 1);
        pthread_join(b->watch, NULL);
        b->watching = 0;
    }
    stop_sub(&b->settings_sub);
    stop_sub(&b->author_sub);
    stop_sub(&b->ctl_sub);
    stop_sub(&b->clock_sub);
    stop_sub(&b->consume_sub);
}

void dm_bus_counts(dm_bus *b, uint64_t *published, uint64_t *failed, int *connected)
{
    *published = atomic_load(&b->published);
    *failed = atomic_load(&b->failed);
    *connected = natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED;
}

void dm_bus_order_comment(dm_bus_order *o, int *pass, int64_t *t_ms)
{
    if (*pass < o->pass || (*pass == o->pass && *t_ms < o->t_ms)) {
        *pass = o->pass;
        *t_ms = o->t_ms;
    }
    o->pass = *pass;
    o->t_ms = *t_ms;
}

void dm_bus_order_clock(dm_bus_order *o, int pass, int64_t t_ms)
{
    if (pass > o->pass || (pass == o->pass && t_ms > o->t_ms)) {
        o->pass = pass;
        o->t_ms = t_ms;
    }
}

int dm_bus_comment(dm_bus_order *o, const char *data, size_t len, dm_comment *out)
{
    dm_track t;

    dm_track_init(&t);
    if (dm_read_jsonl(&t, data, len, NULL) != 0 || t.count != 1 || t.items[0].rejected) {
        dm_track_clear(&t);
        return DM_EINVAL;
    }
    *out = t.items[0];
    memset(&t.items[0], 0, sizeof t.items[0]);
    t.count = 0;
    dm_track_clear(&t);
    dm_bus_order_comment(o, &out->pass, &out->t_ms);
    return 0;
}

static int copy_name(char *dst, size_t cap, const cJSON *v)
{
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= cap)
        return -1;
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

int dm_bus_host_parse(dm_bus_order *o, const char *data, size_t len, dm_bus_host *h)
{
    cJSON *doc = cJSON_ParseWithLength(data, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    const cJSON *v;
    int ok = 0;

    memset(h, 0, sizeof *h);
    if (!cJSON_IsString(type))
        ;
    else if (!strcmp(type->valuestring, "delete")) {
        h->kind = DM_BUS_HOST_DELETE;
        ok = copy_name(h->id, sizeof h->id, cJSON_GetObjectItemCaseSensitive(doc, "id")) == 0;
    } else if (!strcmp(type->valuestring, "clear")) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "t_ms");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "pass");
        h->kind = DM_BUS_HOST_CLEAR;
        if (cJSON_IsNumber(t) && t->valuedouble >= 0 && t->valuedouble < 1e12 &&
            cJSON_IsNumber(p) && p->valuedouble >= 0 && p->valuedouble < 1e6) {
            h->t_ms = (int64_t)t->valuedouble;
            h->pass = (int)p->valuedouble;
            dm_bus_order_comment(o, &h->pass, &h->t_ms);   /* in its place: never before what came before it */
            ok = 1;
        }
    } else if (!strcmp(type->valuestring, "cleared")) {
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(doc, "ids");
        int n = cJSON_GetArraySize(ids);
        h->kind = DM_BUS_HOST_CLEARED;
        if (cJSON_IsArray(ids) && n > 0 && (h->ids = calloc((size_t)n, sizeof *h->ids)) != NULL) {
            ok = 1;
            cJSON_ArrayForEach(v, ids) {
                if (!cJSON_IsString(v)) {
                    ok = 0;
                    break;
                }
                h->ids[h->id_count++] = v->valuestring;
            }
        }
    } else if (!strcmp(type->valuestring, "film")) {
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(doc, "value");
        const cJSON *ent = cJSON_GetObjectItemCaseSensitive(doc, "entry");
        h->kind = DM_BUS_HOST_FILM;
        ok = copy_name(h->control, sizeof h->control, cJSON_GetObjectItemCaseSensitive(doc, "control")) == 0 &&
             (!val || (cJSON_IsNumber(val) && val->valuedouble > -1e9 && val->valuedouble < 1e9)) &&
             (!ent || (cJSON_IsNumber(ent) && ent->valuedouble >= 0 && ent->valuedouble < 1e6));
        h->value = cJSON_IsNumber(val) ? val->valuedouble : 0;
        h->entry = cJSON_IsNumber(ent) ? (int)ent->valuedouble : 0;
    }
    h->doc = doc;
    if (!ok) {
        dm_bus_host_free(h);
        return DM_EINVAL;
    }
    return 0;
}

void dm_bus_host_free(dm_bus_host *h)
{
    free(h->ids);
    cJSON_Delete(h->doc);
    h->ids = NULL;
    h->doc = NULL;
    h->id_count = 0;
}

typedef struct export_state {
    dm_track *track;
    size_t first;                /* the track's comments before the stream's */
    dm_bus_order order;
    size_t bad;
    int err;
} export_state;

/* The newest comment of the stream with this id, marked deleted on screen: 0, or -1 when there is none. */
static int mark_deleted(export_state *x, const char *id)
{
    for (size_t i = x->track->count; i-- > x->first;)
        if (x->track->items[i].id && !strcmp(x->track->items[i].id, id)) {
            x->track->items[i].deleted = DM_DELETED_ON_SCREEN;
            return 0;
        }
    return -1;
}

static void export_one(void *ud, uint64_t seq, dm_bus_kind kind, const char *data, size_t len)
{
    export_state *x = ud;
    int64_t t_ms;
    int pass, paused;
    dm_comment c;
    dm_bus_host h;

    (void)seq;
    if (kind == DM_BUS_CLOCK && dm_bus_parse_clock(data, len, &t_ms, &pass, &paused) == 0) {
        dm_bus_order_clock(&x->order, pass, t_ms);
    } else if (kind == DM_BUS_COMMENT && dm_bus_comment(&x->order, data, len, &c) == 0) {
        if (!x->err && dm_track_push(x->track, &c))
            x->err = DM_ENOMEM;
        dm_comment_free(&c);
    } else if (kind == DM_BUS_HOST && dm_bus_host_parse(&x->order, data, len, &h) == 0) {
        /* a host's delete, or what the clock player's clear took off: the comment left the screen,
         * keeping its lanes, as a recording's delete line; a clear and film controls change no comment */
        if (h.kind == DM_BUS_HOST_DELETE && mark_deleted(x, h.id))
            x->bad++;
        for (size_t k = 0; h.kind == DM_BUS_HOST_CLEARED && k < h.id_count; k++)
            mark_deleted(x, h.ids[k]);   /* a comment without an id was taken off too, but cannot be named */
        dm_bus_host_free(&h);
    } else {
        x->bad++;
    }
}

int dm_bus_export(const char *url, const char *screening, dm_track *track, size_t *bad, char *err, size_t errlen)
{
    export_state x = { .track = track, .first = track->count };
    dm_bus *b = NULL;
    int e = dm_bus_open(&b, url, screening, -1, err, errlen);

    if (e)
        return e;
    e = dm_bus_read_all(b, export_one, &x, err, errlen);
    dm_bus_close(&b);
    if (!e && x.err) {
        snprintf(err, errlen, "out of memory reading the stream");
        e = x.err;
    }
    *bad = x.bad;
    return e;
}

int dm_bus_salt(dm_bus *b, uint32_t mine, uint32_t *salt)
{
    char hex[16];
    kvEntry *e = NULL;
    uint64_t rev = 0;

    snprintf(hex, sizeof hex, "%08x", (unsigned)mine);
    if (kvStore_CreateString(&rev, b->kv, "salt", hex) == NATS_OK) {
        *salt = mine;   /* the first gateway's */
        return 0;
    }
    if (kvStore_Get(&e, b->kv, "salt") != NATS_OK)
        return DM_EIO;
    *salt = (uint32_t)strtoul(kvEntry_ValueString(e), NULL, 16);
    kvEntry_Destroy(e);
    return 0;
}

int dm_bus_put_settings(dm_bus *b, const char *json)
{
    jsPubOptions po;

    jsPubOptions_Init(&po);
    /* a key-value put is a publish to its subject; not waited for (the network thread calls it) */
    return js_PublishAsync(b->js, b->subj_settings, json, (int)strlen(json), &po) == NATS_OK ? 0 : DM_EIO;
}

static void on_settings(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    dm_bus *b = closure;

    (void)nc;
    (void)sub;
    if (natsMsg_GetDataLength(msg) > 0)
        b->settings_fn(b->settings_ud, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

int dm_bus_watch_settings(dm_bus *b, void (*fn)(void *ud, const char *json, size_t len), void *ud, char **now,
                          char *err, size_t errlen)
{
    kvEntry *e = NULL;
    natsStatus s;

    *now = NULL;
    b->settings_fn = fn;
    b->settings_ud = ud;
    s = natsConnection_Subscribe(&b->settings_sub, b->nc, b->subj_settings, on_settings, b);
    if (s != NATS_OK) {
        nats_error(err, errlen, "cannot follow the screening's moderation settings", s, 0);
        return DM_EIO;
    }
    if (kvStore_Get(&e, b->kv, "settings") == NATS_OK) {
        *now = strdup(kvEntry_ValueString(e));
        kvEntry_Destroy(e);
    }
    return 0;
}

int dm_bus_publish_host(dm_bus *b, const char *json)
{
    jsPubOptions po;

    jsPubOptions_Init(&po);
    return js_PublishAsync(b->js, b->subj_host, json, (int)strlen(json), &po) == NATS_OK ? 0 : DM_EIO;
}
