/* write.c - writers of the project's JSONL track format and of Bilibili XML,
 * so that tracks convert between players and read back unchanged. */
#include "danmaku.h"
#include "internal_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define JSONL_VERSION 1
/* Bilibili's reference stage for positioned pixel coordinates. */
#define BILI_STAGE_W 672.0
#define BILI_STAGE_H 438.0

/* ---------------------------------------------------------------- JSONL */

static int add_number(cJSON *obj, const char *key, double v)
{
    return cJSON_AddNumberToObject(obj, key, v) ? 0 : DM_ENOMEM;
}

static int add_pos(cJSON *obj, const dm_positioned *p)
{
    cJSON *jp = cJSON_AddObjectToObject(obj, "pos");

    if (!jp)
        return DM_ENOMEM;
    if (add_number(jp, "x0", p->x0) || add_number(jp, "y0", p->y0) ||
        add_number(jp, "x1", p->x1) || add_number(jp, "y1", p->y1) ||
        add_number(jp, "alpha0", p->alpha0) || add_number(jp, "alpha1", p->alpha1) ||
        add_number(jp, "life_ms", p->life_ms) || add_number(jp, "move_ms", p->move_ms) ||
        add_number(jp, "move_delay_ms", p->move_delay_ms) ||
        add_number(jp, "rotate_z", p->rotate_z) || add_number(jp, "rotate_y", p->rotate_y) ||
        !cJSON_AddBoolToObject(jp, "outline", p->outline != 0))
        return DM_ENOMEM;
    return 0;
}

/* Keys with their default value are left out to keep recordings small. */
static cJSON *comment_object(const dm_comment *c)
{
    cJSON *obj = cJSON_CreateObject();
    char color[8];

    if (!obj)
        return NULL;
    snprintf(color, sizeof color, "#%06X", (unsigned)(c->color & 0xFFFFFF));
    if (!cJSON_AddStringToObject(obj, "type", "comment") ||
        add_number(obj, "t_ms", (double)c->t_ms) ||
        !cJSON_AddStringToObject(obj, "mode", dm_mode_name(c->mode)) ||
        !cJSON_AddStringToObject(obj, "size", dm_size_name(c->size)) ||
        !cJSON_AddStringToObject(obj, "color", color) ||
        !cJSON_AddStringToObject(obj, "text", c->text ? c->text : ""))
        goto error;
    if (c->id && !cJSON_AddStringToObject(obj, "id", c->id))
        goto error;
    if (c->author && !cJSON_AddStringToObject(obj, "author", c->author))
        goto error;
    if ((c->sent && add_number(obj, "sent", (double)c->sent)) ||
        (c->pool && add_number(obj, "pool", c->pool)) ||
        (c->weight >= 0 && add_number(obj, "weight", c->weight)) ||
        (c->bili_mode && add_number(obj, "bili_mode", c->bili_mode)) ||
        (c->count > 1 && add_number(obj, "count", c->count)) ||
        (c->pass > 0 && add_number(obj, "pass", c->pass)))
        goto error;
    /* true: a host's delete (the comment keeps its lanes); "before": never shown */
    if (c->deleted == DM_DELETED_ON_SCREEN && !cJSON_AddTrueToObject(obj, "deleted"))
        goto error;
    if (c->deleted == DM_DELETED_BEFORE && !cJSON_AddStringToObject(obj, "deleted", "before"))
        goto error;
    if (c->mode == DM_MODE_POSITIONED && c->pos && add_pos(obj, c->pos))
        goto error;
    if (c->kind != DM_KIND_COMMENT && !cJSON_AddStringToObject(obj, "kind", dm_kind_name(c->kind)))
        goto error;
    if ((c->venue && !cJSON_AddStringToObject(obj, "venue", c->venue)) ||
        (c->sender && !cJSON_AddStringToObject(obj, "sender", c->sender)) ||
        (c->price > 0 && add_number(obj, "price", c->price)) ||
        (c->quantity > 0 && add_number(obj, "quantity", c->quantity)) ||
        (c->duration_ms > 0 && add_number(obj, "duration_ms", c->duration_ms)))
        goto error;
    return obj;
error:
    cJSON_Delete(obj);
    return NULL;
}

/* Print obj on one line with a newline; malloc'd. */
static char *print_line(cJSON *obj)
{
    char *json = cJSON_PrintUnformatted(obj);
    char *line;
    size_t n;

    if (!json)
        return NULL;
    n = strlen(json);
    line = malloc(n + 2);
    if (line) {
        memcpy(line, json, n);
        line[n] = '\n';
        line[n + 1] = 0;
    }
    cJSON_free(json);
    return line;
}

char *dm_jsonl_comment_line(const dm_comment *c)
{
    cJSON *obj;
    char *line;

    if (!c)
        return NULL;
    obj = comment_object(c);
    if (!obj)
        return NULL;
    line = print_line(obj);
    cJSON_Delete(obj);
    return line;
}

int dm_write_jsonl(const dm_track *track, FILE *out, dm_diag *diag)
{
    cJSON *header;
    char *line;
    size_t written = 0;

    if (!track || !out) {
        dm_diag_error(diag, "dm_write_jsonl: no track or no output");
        return DM_EINVAL;
    }
    for (size_t i = 0; i < track->count; i++)
        written += !dm_comment_unwritable(&track->items[i]);
    header = cJSON_CreateObject();
    if (!header || !cJSON_AddStringToObject(header, "type", "track") ||
        !cJSON_AddStringToObject(header, "format", "danmaku") ||
        add_number(header, "version", JSONL_VERSION) ||
        add_number(header, "count", (double)written)) {
        cJSON_Delete(header);
        dm_diag_error(diag, "out of memory writing JSONL");
        return DM_ENOMEM;
    }
    line = print_line(header);
    cJSON_Delete(header);
    if (!line) {
        dm_diag_error(diag, "out of memory writing JSONL");
        return DM_ENOMEM;
    }
    if (fputs(line, out) == EOF) {
        free(line);
        dm_diag_error(diag, "write error while writing JSONL");
        return DM_EIO;
    }
    free(line);
    for (size_t i = 0; i < track->count; i++) {
        /* what a reader could not read, or nothing to show, is not a comment to pass on */
        if (dm_comment_unwritable(&track->items[i]))
            continue;
        line = dm_jsonl_comment_line(&track->items[i]);
        if (!line) {
            dm_diag_error(diag, "out of memory writing JSONL (comment %zu)", i);
            return DM_ENOMEM;
        }
        if (fputs(line, out) == EOF) {
            free(line);
            dm_diag_error(diag, "write error while writing JSONL (comment %zu)", i);
            return DM_EIO;
        }
        free(line);
    }
    if (fflush(out) == EOF || ferror(out)) {
        dm_diag_error(diag, "write error while writing JSONL");
        return DM_EIO;
    }
    return 0;
}

/* ---------------------------------------------------------------- Bilibili XML */

/* Write s escaped for XML text or attribute values. Characters XML cannot
 * carry are left out; `in_p` also replaces the commas that would split the
 * p attribute into wrong fields. Returns how many characters were changed. */
static unsigned put_escaped(FILE *out, const char *s, int in_p)
{
    unsigned changed = 0;

    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        case ',':
            if (in_p) {
                fputc('_', out);
                changed++;
            } else {
                fputc(',', out);
            }
            break;
        default:
            if (ch < 0x20 && ch != '\n' && ch != '\t')
                changed++;
            else
                fputc(ch, out);
        }
    }
    return changed;
}

static int bili_mode_of(const dm_comment *c)
{
    static const dm_mode from_bili[10] = {
        DM_MODE_SCROLL, DM_MODE_SCROLL, DM_MODE_SCROLL, DM_MODE_SCROLL, DM_MODE_BOTTOM,
        DM_MODE_TOP, DM_MODE_REVERSE, DM_MODE_POSITIONED, DM_MODE_SCROLL, DM_MODE_SCROLL,
    };
    int b = c->bili_mode;

    /* Keep the original mode (2, 3, 8, 9...) when it still means the same. */
    if (b >= 8 && b <= 9 && c->mode != DM_MODE_POSITIONED)
        return b;
    if (b >= 1 && b <= 7 && from_bili[b] == c->mode)
        return b;
    switch (c->mode) {
    case DM_MODE_REVERSE: return 6;
    case DM_MODE_TOP: return 5;
    case DM_MODE_BOTTOM: return 4;
    case DM_MODE_POSITIONED: return 7;
    default: return 1;
    }
}

/* A positioned coordinate as Bilibili reads it back: a fraction written
 * with a decimal point, or pixels of the reference stage when over 1. */
static cJSON *coord_item(double v, double ref)
{
    char buf[48];

    if (!isfinite(v))
        v = 0;
    if (v > 1.0)
        return cJSON_CreateNumber(v * ref);
    snprintf(buf, sizeof buf, "%.10f", v);
    return cJSON_CreateString(buf);
}

/* The JSON array text of a positioned comment. malloc'd (cJSON_free). */
static char *positioned_json(const dm_comment *c)
{
    static const dm_positioned dflt = { .alpha0 = 1, .alpha1 = 1, .life_ms = 4500, .outline = 1 };
    const dm_positioned *p = c->pos ? c->pos : &dflt;
    cJSON *a = cJSON_CreateArray();
    char alpha[64];
    char *json = NULL;

    snprintf(alpha, sizeof alpha, "%.6g-%.6g", p->alpha0, p->alpha1);
    if (a && cJSON_AddItemToArray(a, coord_item(p->x0, BILI_STAGE_W)) &&
        cJSON_AddItemToArray(a, coord_item(p->y0, BILI_STAGE_H)) &&
        cJSON_AddItemToArray(a, cJSON_CreateString(alpha)) &&
        cJSON_AddItemToArray(a, cJSON_CreateNumber(p->life_ms / 1000.0)) &&
        cJSON_AddItemToArray(a, cJSON_CreateString(c->text ? c->text : "")) &&
        cJSON_AddItemToArray(a, cJSON_CreateNumber(p->rotate_z)) &&
        cJSON_AddItemToArray(a, cJSON_CreateNumber(p->rotate_y)) &&
        cJSON_AddItemToArray(a, coord_item(p->x1, BILI_STAGE_W)) &&
        cJSON_AddItemToArray(a, coord_item(p->y1, BILI_STAGE_H)) &&
        cJSON_AddItemToArray(a, cJSON_CreateNumber(p->move_ms)) &&
        cJSON_AddItemToArray(a, cJSON_CreateNumber(p->move_delay_ms)) &&
        cJSON_AddItemToArray(a, cJSON_CreateBool(p->outline != 0)))
        json = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return json;
}

static const int bili_sizes[DM_SIZE_COUNT] = { 18, 25, 36 };

/* A guard level's number in BililiveRecorder's XML (1 总督, 2 提督, 3 舰长). */
static int guard_level(const char *name)
{
    static const char *const names[] = { "总督", "提督", "舰长" };

    for (int i = 0; i < 3; i++)
        if (name && !strcmp(name, names[i]))
            return i + 1;
    return 3;
}

/* A super chat, gift or guard as BililiveRecorder writes it. */
static unsigned put_live_card(FILE *out, const dm_comment *c)
{
    int64_t t = c->t_ms > 0 ? c->t_ms : 0;
    unsigned changed = 0;

    fprintf(out, "<%s ts=\"%lld.%03lld\" user=\"", c->kind == DM_KIND_SUPERCHAT ? "sc" :
            c->kind == DM_KIND_GIFT ? "gift" : "guard", (long long)(t / 1000), (long long)(t % 1000));
    changed += put_escaped(out, c->sender, 0);
    fputc('"', out);
    if (c->kind == DM_KIND_SUPERCHAT) {
        fprintf(out, " price=\"%d\" time=\"%d\">", c->price,
                (int)((c->duration_ms > 0 ? c->duration_ms : dm_superchat_default_ms(c->price)) / 1000));
        changed += put_escaped(out, c->text, 0);
        fputs("</sc>\n", out);
    } else if (c->kind == DM_KIND_GIFT) {
        fputs(" giftname=\"", out);
        changed += put_escaped(out, c->text, 0);
        fprintf(out, "\" giftcount=\"%d\"/>\n", c->quantity > 0 ? c->quantity : 1);
    } else {
        fprintf(out, " level=\"%d\" count=\"%d\"/>\n", guard_level(c->text), c->quantity > 0 ? c->quantity : 1);
    }
    return changed;
}

int dm_write_bilibili_xml(const dm_track *track, FILE *out, dm_diag *diag)
{
    unsigned changed = 0;

    if (!track || !out) {
        dm_diag_error(diag, "dm_write_bilibili_xml: no track or no output");
        return DM_EINVAL;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<i>\n", out);
    for (size_t i = 0; i < track->count; i++) {
        const dm_comment *c = &track->items[i];
        int64_t t = c->t_ms > 0 ? c->t_ms : 0;
        int mode = bili_mode_of(c);

        if (c->deleted || dm_comment_unwritable(c))
            continue;  /* Bilibili XML has no way to say "removed" */
        if (c->kind != DM_KIND_COMMENT) {
            changed += put_live_card(out, c);
            continue;
        }
        fprintf(out, "<d p=\"%lld.%03lld,%d,%d,%u,%lld,%d,", (long long)(t / 1000),
                (long long)(t % 1000), mode,
                bili_sizes[(unsigned)c->size < DM_SIZE_COUNT ? c->size : DM_SIZE_NORMAL],
                (unsigned)(c->color & 0xFFFFFF), (long long)(c->sent > 0 ? c->sent : 0),
                c->pool >= 0 ? c->pool : 0);
        changed += put_escaped(out, c->author, 1);
        fputc(',', out);
        changed += put_escaped(out, c->id, 1);
        if (c->weight >= 0)
            fprintf(out, ",%d", c->weight);
        fputc('"', out);
        if (c->sender) {   /* live recordings name the sender, as BililiveRecorder does */
            fputs(" user=\"", out);
            changed += put_escaped(out, c->sender, 0);
            fputc('"', out);
        }
        fputc('>', out);
        if (mode == 7) {
            char *json = positioned_json(c);
            if (!json) {
                dm_diag_error(diag, "out of memory writing Bilibili XML (comment %zu)", i);
                return DM_ENOMEM;
            }
            changed += put_escaped(out, json, 0);
            cJSON_free(json);
        } else {
            changed += put_escaped(out, c->text, 0);
        }
        fputs("</d>\n", out);
    }
    fputs("</i>\n", out);
    if (changed)
        dm_diag_warn(diag, "%u character%s that Bilibili XML cannot carry were replaced or left "
                     "out (control characters, commas in ids)", changed, changed == 1 ? "" : "s");
    if (fflush(out) == EOF || ferror(out)) {
        dm_diag_error(diag, "write error while writing Bilibili XML");
        return DM_EIO;
    }
    return 0;
}
