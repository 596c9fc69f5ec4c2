/*
 * layout_dump.c - the layout dump (../shared/LAYOUT-DUMP.md): one JSON line
 * for the stage, then one per comment saying where and when it is drawn.
 * Obstacle lines (boxes comments keep off) follow the stage line. Written
 * for a scene by danmaku-convert --layout and by the player (a live
 * screening, or a replay), so both must produce the very same lines.
 */
#include "danmaku.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *print_and_free(cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;

    cJSON_Delete(o);
    return s;
}

char *dm_layout_dump_stage(const dm_layout_opts *o, const char *font, size_t input_count, int outline_px)
{
    cJSON *s = cJSON_CreateObject();

    if (!s)
        return NULL;
    cJSON_AddStringToObject(s, "type", "stage");
    cJSON_AddNumberToObject(s, "width", o->stage_w);
    cJSON_AddNumberToObject(s, "height", o->stage_h);
    cJSON_AddNumberToObject(s, "scroll_ms", o->scroll_ms);
    cJSON_AddNumberToObject(s, "fixed_ms", o->fixed_ms);
    cJSON_AddStringToObject(s, "font", font ? font : "");
    cJSON_AddNumberToObject(s, "input_count", (double)input_count);
    cJSON_AddNumberToObject(s, "font_px", o->font_px);
    cJSON_AddNumberToObject(s, "outline_px", outline_px);
    cJSON_AddNumberToObject(s, "area", o->area);
    cJSON_AddNumberToObject(s, "gap_px", dm_layout_gap_px(o));
    cJSON_AddStringToObject(s, "overflow", dm_overflow_name(o->overflow));
    cJSON_AddNumberToObject(s, "max_delay_ms", o->max_delay_ms);
    cJSON_AddBoolToObject(s, "strict", o->strict);
    return print_and_free(s);
}

/* A growing line for the comment lines, which are written by hand: building
 * a cJSON tree for each of them took most of the dump's time. The output is
 * byte for byte what cJSON_PrintUnformatted gives for the same object
 * (tests/unit/test_layout_dump.c compares them). */
typedef struct line_buf {
    char *s;
    size_t n, cap;
    int failed;
} line_buf;

static void put(line_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *ns;
        while (cap < b->n + n + 1)
            cap *= 2;
        ns = realloc(b->s, cap);
        if (!ns) {
            b->failed = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void put_str(line_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A JSON string as cJSON's print_string_ptr escapes it. */
static void put_json_string(line_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;

    put(b, "\"", 1);
    for (; *p; p++) {
        char esc[8];
        if (*p >= 32 && *p != '"' && *p != '\\')
            continue;
        put(b, (const char *)run, (size_t)(p - run));
        switch (*p) {
        case '"': put(b, "\\\"", 2); break;
        case '\\': put(b, "\\\\", 2); break;
        case '\b': put(b, "\\b", 2); break;
        case '\f': put(b, "\\f", 2); break;
        case '\n': put(b, "\\n", 2); break;
        case '\r': put(b, "\\r", 2); break;
        case '\t': put(b, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            put(b, esc, 6);
        }
        run = p + 1;
    }
    put(b, (const char *)run, (size_t)(p - run));
    put(b, "\"", 1);
}

/* "," "key": and the value, a number as cJSON's print_number writes it. */
static void put_number(line_buf *b, const char *key, double d)
{
    char num[32];
    int n;

    put(b, ",\"", 2);
    put_str(b, key);
    put(b, "\":", 2);
    if (d != d || d - d != 0) {   /* NaN, infinities */
        put(b, "null", 4);
        return;
    }
    if (d >= INT_MIN && d <= INT_MAX && d == (double)(int)d) {
        /* what "%d" prints, without printf's cost on the dump's thousands of numbers */
        long long v = (long long)d;
        unsigned long long u = v < 0 ? (unsigned long long)-v : (unsigned long long)v;
        char digits[24];
        int k = 0;
        do {
            digits[k++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        n = 0;
        if (v < 0)
            num[n++] = '-';
        while (k)
            num[n++] = digits[--k];
    } else {
        double back;
        n = snprintf(num, sizeof num, "%1.15g", d);
        if (sscanf(num, "%lg", &back) != 1 || back != d)
            n = snprintf(num, sizeof num, "%1.17g", d);
    }
    put(b, num, (size_t)n);
}

static void put_string_field(line_buf *b, const char *key, const char *value)
{
    put(b, ",\"", 2);
    put_str(b, key);
    put(b, "\":", 2);
    put_json_string(b, value);
}

char *dm_layout_dump_comment(const dm_comment *c, size_t index, const dm_placed *p, const char *text)
{
    line_buf b = { 0 };
    char idbuf[32];

    snprintf(idbuf, sizeof idbuf, "%zu", index);
    put_str(&b, "{\"type\":\"comment\"");
    put_string_field(&b, "id", c->id ? c->id : idbuf);
    put_number(&b, "t_ms", (double)c->t_ms);
    put_string_field(&b, "mode", dm_mode_name(c->mode));
    put_string_field(&b, "text", text ? text : c->text ? c->text : "");
    if (c->kind != DM_KIND_COMMENT)   /* a live card: a super chat, a gift or guard line */
        put_string_field(&b, "kind", dm_kind_name(c->kind));
    put_str(&b, p->shown ? ",\"shown\":true" : ",\"shown\":false");
    if (p->shown) {
        put_number(&b, "start_ms", (double)p->start_ms);
        put_number(&b, "end_ms", (double)p->end_ms);
        put_number(&b, "y", p->y);
        put_number(&b, "w", p->w);
        put_number(&b, "h", p->h);
        put_number(&b, "x_start", p->x_start);
        put_number(&b, "x_end", p->x_end);
        put_string_field(&b, "size", dm_size_name(c->size));
        if (p->layer)
            put_number(&b, "layer", p->layer);
    } else {
        put_string_field(&b, "reason", dm_reason_name((dm_reason)p->reason));
    }
    put(&b, "}", 1);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *dm_layout_dump_obstacle(const dm_obstacle *ob)
{
    cJSON *o = cJSON_CreateObject();

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "type", "obstacle");
    cJSON_AddStringToObject(o, "kind", ob->kind[0] ? ob->kind : "obstacle");
    if (ob->id[0])
        cJSON_AddStringToObject(o, "id", ob->id);
    cJSON_AddNumberToObject(o, "start_ms", (double)ob->start_ms);
    cJSON_AddNumberToObject(o, "end_ms", (double)ob->end_ms);
    cJSON_AddNumberToObject(o, "x", ob->x);
    cJSON_AddNumberToObject(o, "y", ob->y);
    cJSON_AddNumberToObject(o, "w", ob->w);
    cJSON_AddNumberToObject(o, "h", ob->h);
    return print_and_free(o);
}

int dm_layout_dump_write(FILE *out, const dm_track *track, const dm_placed *placed, char *const *texts,
                         const dm_layout_opts *opts, const char *font, int outline_px,
                         const dm_obstacle *obstacles, size_t obstacle_count)
{
    char *line = dm_layout_dump_stage(opts, font, track->count, outline_px);
    int err = 0;

    if (!line || fprintf(out, "%s\n", line) < 0)
        err = line ? DM_EIO : DM_ENOMEM;
    free(line);
    for (size_t i = 0; i < obstacle_count && !err; i++) {
        line = dm_layout_dump_obstacle(&obstacles[i]);
        if (!line || fprintf(out, "%s\n", line) < 0)
            err = line ? DM_EIO : DM_ENOMEM;
        free(line);
    }
    for (size_t i = 0; i < track->count && !err; i++) {
        line = dm_layout_dump_comment(&track->items[i], i, &placed[i], texts ? texts[i] : NULL);
        if (!line || fprintf(out, "%s\n", line) < 0)
            err = line ? DM_EIO : DM_ENOMEM;
        free(line);
    }
    return err;
}
