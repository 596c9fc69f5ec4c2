/*
 * read_protobuf.c - reader of Bilibili's protobuf comment segments
 * (DmSegMobileReply, what the web API's seg.so serves), unpacked by
 * protobuf-c with the code protoc-c generates from bilibili_dm.proto. Each
 * DanmakuElem becomes a comment the way a <d> of Bilibili XML does
 * (bili_common.c: modes, sizes, positioned comments, newlines).
 */
#include "danmaku.h"
#include "bili_common.h"
#include "internal_text.h"
#include "read_protobuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bilibili_dm.pb-c.h"

typedef Bilibili__Community__Service__Dm__V1__DmSegMobileReply seg_reply;
typedef Bilibili__Community__Service__Dm__V1__DanmakuElem seg_elem;

/* Times past this (about 115 days) are corrupt, not film times. */
#define MAX_TIME_MS 1e10

static seg_reply *unpack(const char *buf, size_t len)
{
    return bilibili__community__service__dm__v1__dm_seg_mobile_reply__unpack(NULL, len, (const uint8_t *)buf);
}

static void free_reply(seg_reply *r)
{
    if (r)
        bilibili__community__service__dm__v1__dm_seg_mobile_reply__free_unpacked(r, NULL);
}

/* One comment a segment can hold: its mode, or its text, is there. */
static int plausible(const seg_elem *e)
{
    return (e->mode >= 1 && e->mode <= 9) || (e->content && e->content[0]);
}

int dm_protobuf_sniff(const char *buf, size_t len)
{
    seg_reply *r;
    int yes;

    /* every segment with comments opens with field 1 (elems), length-delimited */
    if (!buf || len < 2 || (unsigned char)buf[0] != 0x0A || len > DM_TRACK_MAX_BYTES)
        return 0;
    r = unpack(buf, len);
    yes = r && r->n_elems > 0 && plausible(r->elems[0]);
    free_reply(r);
    return yes;
}

/* One DanmakuElem as a comment (or a malformed one, with a warning). */
static int read_elem(dm_track *track, const seg_elem *e, size_t index, dm_diag *diag, dm_bili_state *st,
                     size_t *no_mode)
{
    char where[64], idbuf[24], why[64];
    dm_comment c = { .weight = -1, .count = 1, .size = DM_SIZE_NORMAL };
    const char *content = e->content ? e->content : "";

    if (e->idstr && e->idstr[0]) {
        c.id = e->idstr;
    } else if (e->id) {
        snprintf(idbuf, sizeof idbuf, "%" PRId64, e->id);
        c.id = idbuf;
    }
    snprintf(where, sizeof where, "comment %zu%s%.24s%s", index, c.id ? " (id " : "", c.id ? c.id : "",
             c.id ? ")" : "");
    c.author = e->midhash && e->midhash[0] ? e->midhash : NULL;
    c.sent = e->ctime > 0 ? e->ctime : 0;
    c.color = e->color & 0xFFFFFF;
    c.pool = e->pool >= 0 && e->pool <= 1000 ? e->pool : 0;
    c.weight = e->weight >= 0 && e->weight <= 100 ? e->weight : -1;
    /* proto3 leaves out fields at their default: no fontsize is the normal size */
    c.size = e->fontsize > 0 ? dm_bili_size_class(e->fontsize) : DM_SIZE_NORMAL;
    if (e->progress < 0 || e->progress > MAX_TIME_MS)
        return dm_push_rejected(track, &c, DM_REASON_MALFORMED, content, strlen(content), diag, where,
                                "negative progress (film time)");
    c.t_ms = e->progress;
    if (e->mode == 0) {
        /* left out: proto3's default; Bilibili's own players scroll it */
        (*no_mode)++;
        c.bili_mode = 1;
    } else if (e->mode < 1 || e->mode > 9) {
        snprintf(why, sizeof why, "mode %d is not 1-9", (int)e->mode);
        return dm_push_rejected(track, &c, DM_REASON_MALFORMED, content, strlen(content), diag, where, why);
    } else {
        c.bili_mode = e->mode;
    }
    return dm_bili_push(track, &c, content, strlen(content), diag, where, st);
}

int dm_read_bilibili_protobuf(dm_track *track, const char *buf, size_t len, dm_diag *diag)
{
    dm_bili_state st = { 0 };
    seg_reply *r;
    size_t no_mode = 0;
    int err = 0;

    if (!track || (!buf && len)) {
        dm_diag_error(diag, "dm_read_bilibili_protobuf: no track or no buffer");
        return DM_EINVAL;
    }
    if (len > DM_TRACK_MAX_BYTES) {
        dm_diag_error(diag, "input of %zu bytes is over the track size limit", len);
        return DM_ETOOBIG;
    }
    if (len == 0) {
        dm_diag_warn(diag, "an empty protobuf segment: no comments in it");
        return 0;
    }
    r = unpack(buf, len);
    if (!r) {
        dm_diag_error(diag, "Bilibili protobuf: protobuf-c cannot unpack the %zu bytes as a DmSegMobileReply "
                      "(the segment is cut short or damaged, or it is not a segment)", len);
        return DM_EPARSE;
    }
    if (r->n_elems == 0)
        dm_diag_warn(diag, "the protobuf segment holds no comments%s", r->state == 1 ? " (comments are closed)" : "");
    for (size_t i = 0; i < r->n_elems && !err; i++)
        err = read_elem(track, r->elems[i], i, diag, &st, &no_mode);
    if (err)
        dm_diag_error(diag, "Bilibili protobuf: %s", dm_strerror(err));
    if (no_mode)
        dm_diag_warn(diag, "%zu comment%s had no mode; read as scrolling", no_mode, no_mode == 1 ? "" : "s");
    dm_bili_finish(&st, diag);
    free_reply(r);
    return err;
}
