/* read_jsonl.c - reader of the project's own track format, JSON Lines
 * (docs/formats.md): a header, comment lines and moderator deletes. Every
 * prefix of lines is a valid track, so a recording cut off mid-write loses at
 * most its last line. */
#include "danmaku.h"
#include "internal_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define JSONL_VERSION 1
/* Times past this (about 115 days) are corrupt, not film times. */
#define MAX_TIME_MS 1e10
#define DEFAULT_POS_LIFE_MS 4500
#define MAX_POS_MS 3600000.0
#define NO_SLOT ((size_t)-1)

/* Index from comment id to the latest comment of the track with that id,
 * built on the first delete line so that plain tracks pay nothing. */
typedef struct id_index {
    size_t *slots;     /* indexes into track->items, NO_SLOT when empty */
    size_t cap;        /* power of two, 0 when not built */
    size_t used;
    size_t indexed;    /* track->items[0..indexed) are in the index */
} id_index;

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u & SIZE_MAX;

    while (*s)
        h = (h ^ (unsigned char)*s++) * (size_t)1099511628211u;
    return h;
}

static int index_put(id_index *ix, const dm_track *track, size_t item);

static int index_grow(id_index *ix, const dm_track *track)
{
    size_t *old = ix->slots, old_cap = ix->cap;
    size_t cap = old_cap ? old_cap * 2 : 256;

    ix->slots = malloc(cap * sizeof *ix->slots);
    if (!ix->slots) {
        ix->slots = old;
        return DM_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++)
        ix->slots[i] = NO_SLOT;
    ix->cap = cap;
    ix->used = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i] != NO_SLOT)
            index_put(ix, track, old[i]);  /* cannot fail: cap only grew */
    free(old);
    return 0;
}

/* Record item (which has an id) as the latest comment with its id. */
static int index_put(id_index *ix, const dm_track *track, size_t item)
{
    const char *id = track->items[item].id;
    size_t i;

    if (!id)
        return 0;
    if ((ix->used + 1) * 2 > ix->cap) {
        int err = index_grow(ix, track);
        if (err)
            return err;
    }
    for (i = hash_str(id) & (ix->cap - 1); ix->slots[i] != NO_SLOT; i = (i + 1) & (ix->cap - 1)) {
        if (!strcmp(track->items[ix->slots[i]].id, id)) {
            ix->slots[i] = item;
            return 0;
        }
    }
    ix->slots[i] = item;
    ix->used++;
    return 0;
}

/* Bring the index up to date with the track. */
static int index_sync(id_index *ix, const dm_track *track)
{
    for (; ix->indexed < track->count; ix->indexed++) {
        int err = index_put(ix, track, ix->indexed);
        if (err)
            return err;
    }
    return 0;
}

static size_t index_find(const id_index *ix, const dm_track *track, const char *id)
{
    if (!ix->cap)
        return NO_SLOT;
    for (size_t i = hash_str(id) & (ix->cap - 1); ix->slots[i] != NO_SLOT;
         i = (i + 1) & (ix->cap - 1))
        if (!strcmp(track->items[ix->slots[i]].id, id))
            return ix->slots[i];
    return NO_SLOT;
}

/* ---------------------------------------------------------------- fields */

static int get_number(const cJSON *obj, const char *key, double lo, double hi, double *v)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!item)
        return 1;  /* absent: keep the default */
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) || item->valuedouble < lo ||
        item->valuedouble > hi)
        return -1;
    *v = item->valuedouble;
    return 0;
}

/* "#RRGGBB" (or a 0xRRGGBB number). */
static int parse_color(const cJSON *item, uint32_t *rgb)
{
    if (cJSON_IsNumber(item) && item->valuedouble >= 0 && item->valuedouble <= 0xFFFFFF &&
        item->valuedouble == floor(item->valuedouble)) {
        *rgb = (uint32_t)item->valuedouble;
        return 0;
    }
    if (cJSON_IsString(item) && item->valuestring[0] == '#' && strlen(item->valuestring) == 7) {
        char *end;
        unsigned long v = strtoul(item->valuestring + 1, &end, 16);
        if (!*end && item->valuestring[1] != '-' && item->valuestring[1] != '+') {
            *rgb = (uint32_t)v;
            return 0;
        }
    }
    return -1;
}

/* An id as a string; numbers are accepted and printed as integers. */
static const char *get_id(const cJSON *obj, const char *key, char *buf, size_t size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (cJSON_IsString(item))
        return item->valuestring;
    if (cJSON_IsNumber(item) && isfinite(item->valuedouble) && fabs(item->valuedouble) < 1e18) {
        snprintf(buf, size, "%.0f", item->valuedouble);
        return buf;
    }
    return NULL;
}

static const char *parse_pos(const cJSON *jpos, dm_positioned *pos)
{
    static const struct {
        const char *key;
        size_t offset;
    } coords[] = {
        { "x0", offsetof(dm_positioned, x0) },         { "y0", offsetof(dm_positioned, y0) },
        { "x1", offsetof(dm_positioned, x1) },         { "y1", offsetof(dm_positioned, y1) },
        { "alpha0", offsetof(dm_positioned, alpha0) }, { "alpha1", offsetof(dm_positioned, alpha1) },
        { "rotate_z", offsetof(dm_positioned, rotate_z) },
        { "rotate_y", offsetof(dm_positioned, rotate_y) },
    };
    static const struct {
        const char *key;
        size_t offset;
    } times[] = {
        { "life_ms", offsetof(dm_positioned, life_ms) },
        { "move_ms", offsetof(dm_positioned, move_ms) },
        { "move_delay_ms", offsetof(dm_positioned, move_delay_ms) },
    };
    int has_x1, has_y1;
    const cJSON *outline;
    double v;

    memset(pos, 0, sizeof *pos);
    pos->alpha0 = pos->alpha1 = 1;
    pos->life_ms = DEFAULT_POS_LIFE_MS;
    pos->outline = 1;
    if (!jpos)
        return NULL;
    if (!cJSON_IsObject(jpos))
        return "\"pos\" is not an object";
    has_x1 = cJSON_HasObjectItem(jpos, "x1");
    has_y1 = cJSON_HasObjectItem(jpos, "y1");
    for (size_t i = 0; i < sizeof coords / sizeof coords[0]; i++) {
        double *dst = (double *)((char *)pos + coords[i].offset);
        int lim = i >= 4 && i < 6;  /* alphas */
        if (get_number(jpos, coords[i].key, lim ? 0 : -1e6, lim ? 1 : 1e6, dst) < 0)
            return "a \"pos\" field is not a number in range";
    }
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        int32_t *dst = (int32_t *)((char *)pos + times[i].offset);
        int r = get_number(jpos, times[i].key, 0, MAX_POS_MS, &v);
        if (r < 0)
            return "a \"pos\" time is not a number of milliseconds in range";
        if (!r)
            *dst = (int32_t)llround(v);
    }
    if (pos->life_ms < 1)
        pos->life_ms = 1;
    if (!has_x1)
        pos->x1 = pos->x0;
    if (!has_y1)
        pos->y1 = pos->y0;
    outline = cJSON_GetObjectItemCaseSensitive(jpos, "outline");
    if (outline)
        pos->outline = cJSON_IsTrue(outline) || (cJSON_IsNumber(outline) && outline->valuedouble);
    return NULL;
}

/* Fill c from a comment object; NULL, or why the line is skipped. */
static const char *parse_comment(const cJSON *obj, dm_comment *c, dm_positioned *pos,
                                 char *idbuf, size_t idsize)
{
    const cJSON *item;
    const char *why;
    double v;

    if (get_number(obj, "t_ms", 0, MAX_TIME_MS, &v))
        return "\"t_ms\" is missing or not a time in milliseconds";
    c->t_ms = llround(v);
    item = cJSON_GetObjectItemCaseSensitive(obj, "text");
    if (!cJSON_IsString(item))
        return "\"text\" is missing or not a string";
    item = cJSON_GetObjectItemCaseSensitive(obj, "mode");
    if (item) {
        int m = cJSON_IsString(item) ? dm_mode_from_name(item->valuestring) : -1;
        if (m < 0)
            return "unknown \"mode\"";
        c->mode = (dm_mode)m;
    }
    item = cJSON_GetObjectItemCaseSensitive(obj, "size");
    if (item) {
        int s = cJSON_IsString(item) ? dm_size_from_name(item->valuestring) : -1;
        if (s < 0)
            return "unknown \"size\"";
        c->size = (dm_size)s;
    }
    item = cJSON_GetObjectItemCaseSensitive(obj, "color");
    if (item && parse_color(item, &c->color))
        return "\"color\" is not \"#RRGGBB\"";
    c->id = (char *)get_id(obj, "id", idbuf, idsize);
    item = cJSON_GetObjectItemCaseSensitive(obj, "author");
    c->author = cJSON_IsString(item) ? item->valuestring : NULL;
    if (!get_number(obj, "sent", 0, 1e15, &v))
        c->sent = (int64_t)v;
    if (!get_number(obj, "pool", 0, 1000, &v))
        c->pool = (int)v;
    if (!get_number(obj, "weight", -1, 100, &v))
        c->weight = (int)v;
    if (!get_number(obj, "bili_mode", 0, 9, &v))
        c->bili_mode = (int)v;
    if (!get_number(obj, "count", 1, 1e9, &v))
        c->count = (int)v;
    if (!get_number(obj, "pass", 0, 1e9, &v))
        c->pass = (int)v;
    /* true: a screening host's delete, the comment was on screen; "before": it never was */
    item = cJSON_GetObjectItemCaseSensitive(obj, "deleted");
    if (cJSON_IsTrue(item))
        c->deleted = DM_DELETED_ON_SCREEN;
    else if (cJSON_IsString(item) && !strcmp(item->valuestring, "before"))
        c->deleted = DM_DELETED_BEFORE;
    if (c->mode == DM_MODE_POSITIONED) {
        why = parse_pos(cJSON_GetObjectItemCaseSensitive(obj, "pos"), pos);
        if (why)
            return why;
        c->pos = pos;
    }
    /* live cards (docs/formats.md) */
    item = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    if (item) {
        int k = cJSON_IsString(item) ? dm_kind_from_name(item->valuestring) : -1;
        if (k < 0)
            return "unknown \"kind\"";
        c->kind = (dm_kind)k;
        if (c->kind != DM_KIND_COMMENT)
            c->mode = DM_MODE_POSITIONED;   /* a card goes where the scene's stack puts it */
    }
    item = cJSON_GetObjectItemCaseSensitive(obj, "sender");
    c->sender = cJSON_IsString(item) ? item->valuestring : NULL;
    item = cJSON_GetObjectItemCaseSensitive(obj, "venue");
    if (item && (!cJSON_IsString(item) || !item->valuestring[0] || strlen(item->valuestring) > DM_VENUE_MAX))
        return "\"venue\" is not a hall's name (1 to 32 bytes)";
    c->venue = item ? item->valuestring : NULL;
    if (get_number(obj, "price", 0, 1e9, &v) < 0 || get_number(obj, "quantity", 0, 1e9, &v) < 0 ||
        get_number(obj, "duration_ms", 0, MAX_POS_MS * 24, &v) < 0)
        return "\"price\", \"quantity\" or \"duration_ms\" is not a number in range";
    if (!get_number(obj, "price", 0, 1e9, &v))
        c->price = (int)v;
    if (!get_number(obj, "quantity", 0, 1e9, &v))
        c->quantity = (int)v;
    if (!get_number(obj, "duration_ms", 0, MAX_POS_MS * 24, &v))
        c->duration_ms = (int32_t)v;
    return NULL;
}

/* ---------------------------------------------------------------- lines */

typedef struct jsonl_reader {
    dm_track *track;
    dm_diag *diag;
    id_index ids;
} jsonl_reader;

static int handle_delete(jsonl_reader *r, const cJSON *obj, const char *where)
{
    char idbuf[32];
    const char *id = get_id(obj, "id", idbuf, sizeof idbuf);
    size_t item;
    int err;

    if (!id) {
        dm_diag_warn(r->diag, "%s: delete without an \"id\", skipped", where);
        return 0;
    }
    err = index_sync(&r->ids, r->track);
    if (err)
        return err;
    item = index_find(&r->ids, r->track, id);
    if (item == NO_SLOT) {
        dm_diag_warn(r->diag, "%s: delete of unknown comment id \"%.40s\", skipped", where, id);
        return 0;
    }
    r->track->items[item].deleted = DM_DELETED_ON_SCREEN;
    return 0;
}

static int handle_line(jsonl_reader *r, const char *line, size_t n, unsigned long line_no,
                       int last_unterminated)
{
    char where[40], idbuf[32];
    const char *end = NULL, *why;
    const cJSON *type, *text;
    cJSON *obj;
    dm_comment c = { .size = DM_SIZE_NORMAL, .color = 0xFFFFFF, .weight = -1, .count = 1 };
    dm_positioned pos;
    int err = 0;

    snprintf(where, sizeof where, "line %lu", line_no);
    obj = cJSON_ParseWithLengthOpts(line, n, &end, 0);
    if (obj && end) {
        while (end < line + n && (*end == ' ' || *end == '\t'))
            end++;
        if (end < line + n) {
            cJSON_Delete(obj);
            obj = NULL;
        }
    }
    /* A line that is not a JSON object is a broken comment line (a recording
     * is made of them): it is kept as a malformed comment, so it is counted. */
    if (!obj) {
        size_t col = end && end >= line ? (size_t)(end - line) + 1 : 1;
        char at[96];
        if (last_unterminated)
            return dm_push_rejected(r->track, &c, DM_REASON_MALFORMED, NULL, 0, r->diag, where,
                                    "truncated last line (no newline at the end and not complete JSON)");
        snprintf(at, sizeof at, "%s, column %zu", where, col);
        return dm_push_rejected(r->track, &c, DM_REASON_MALFORMED, NULL, 0, r->diag, at, "not valid JSON");
    }
    if (!cJSON_IsObject(obj)) {
        err = dm_push_rejected(r->track, &c, DM_REASON_MALFORMED, NULL, 0, r->diag, where, "not a JSON object");
        goto done;
    }
    type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    if (!type || (cJSON_IsString(type) && !strcmp(type->valuestring, "comment"))) {
        why = parse_comment(obj, &c, &pos, idbuf, sizeof idbuf);
        if (why) {
            /* keep what identifies it: its id, and its text when it has one */
            dm_comment bad = { .t_ms = c.t_ms, .size = DM_SIZE_NORMAL, .color = 0xFFFFFF, .weight = -1,
                               .count = 1 };
            text = cJSON_GetObjectItemCaseSensitive(obj, "text");
            bad.id = (char *)get_id(obj, "id", idbuf, sizeof idbuf);
            err = dm_push_rejected(r->track, &bad, DM_REASON_MALFORMED, cJSON_IsString(text) ? text->valuestring : NULL,
                                   cJSON_IsString(text) ? strlen(text->valuestring) : 0, r->diag, where, why);
            goto done;
        }
        text = cJSON_GetObjectItemCaseSensitive(obj, "text");
        err = dm_push_comment(r->track, &c, text->valuestring, strlen(text->valuestring),
                              r->diag, where);
    } else if (cJSON_IsString(type) && !strcmp(type->valuestring, "delete")) {
        err = handle_delete(r, obj, where);
    } else if (cJSON_IsString(type) && !strcmp(type->valuestring, "track")) {
        double version = 0;
        if (get_number(obj, "version", 0, 1e9, &version) == 0 && version > JSONL_VERSION)
            dm_diag_warn(r->diag, "%s: track format version %.0f is newer than %d; reading "
                         "what this version knows", where, version, JSONL_VERSION);
    } else {
        dm_diag_warn(r->diag, "%s: unknown line type \"%.30s\", skipped", where,
                     cJSON_IsString(type) ? type->valuestring : "(not a string)");
    }
done:
    cJSON_Delete(obj);
    return err;
}

int dm_read_jsonl(dm_track *track, const char *buf, size_t len, dm_diag *diag)
{
    jsonl_reader r = { .track = track, .diag = diag };
    unsigned long line_no = 0;
    size_t at = 0;
    int err = 0;

    if (!track || (!buf && len)) {
        dm_diag_error(diag, "dm_read_jsonl: no track or no buffer");
        return DM_EINVAL;
    }
    if (len > DM_TRACK_MAX_BYTES) {
        dm_diag_error(diag, "input of %zu bytes is over the track size limit", len);
        return DM_ETOOBIG;
    }
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        at = 3;
    while (at < len && !err) {
        const char *line = buf + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        size_t blank = 0;

        at += n + (nl ? 1 : 0);
        line_no++;
        if (n && line[n - 1] == '\r')
            n--;
        while (blank < n && (line[blank] == ' ' || line[blank] == '\t'))
            blank++;
        if (blank == n)
            continue;
        err = handle_line(&r, line, n, line_no, !nl);
    }
    if (err)
        dm_diag_error(diag, "line %lu: %s", line_no, dm_strerror(err));
    free(r.ids.slots);
    return err;
}
