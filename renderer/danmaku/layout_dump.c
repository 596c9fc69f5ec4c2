/*
 * layout_dump.c - the layout dump (../shared/LAYOUT-DUMP.md): one JSON line
 * for the stage, then one per comment saying where and when it is drawn.
 * Obstacle lines (boxes comments keep off) follow the stage line. Written
 * for a scene by danmaku-convert --layout and by the player (a live
 * screening, or a replay), so both must produce the very same lines.
 */
#include "danmaku.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

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

char *dm_layout_dump_comment(const dm_comment *c, size_t index, const dm_placed *p, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    char idbuf[32];

    if (!o)
        return NULL;
    snprintf(idbuf, sizeof idbuf, "%zu", index);
    cJSON_AddStringToObject(o, "type", "comment");
    cJSON_AddStringToObject(o, "id", c->id ? c->id : idbuf);
    cJSON_AddNumberToObject(o, "t_ms", (double)c->t_ms);
    cJSON_AddStringToObject(o, "mode", dm_mode_name(c->mode));
    cJSON_AddStringToObject(o, "text", text ? text : c->text ? c->text : "");
    if (c->kind != DM_KIND_COMMENT)   /* a live card: a super chat, a gift or guard line */
        cJSON_AddStringToObject(o, "kind", dm_kind_name(c->kind));
    cJSON_AddBoolToObject(o, "shown", p->shown);
    if (p->shown) {
        cJSON_AddNumberToObject(o, "start_ms", (double)p->start_ms);
        cJSON_AddNumberToObject(o, "end_ms", (double)p->end_ms);
        cJSON_AddNumberToObject(o, "y", p->y);
        cJSON_AddNumberToObject(o, "w", p->w);
        cJSON_AddNumberToObject(o, "h", p->h);
        cJSON_AddNumberToObject(o, "x_start", p->x_start);
        cJSON_AddNumberToObject(o, "x_end", p->x_end);
        cJSON_AddStringToObject(o, "size", dm_size_name(c->size));
        if (p->layer)
            cJSON_AddNumberToObject(o, "layer", p->layer);
    } else {
        cJSON_AddStringToObject(o, "reason", dm_reason_name((dm_reason)p->reason));
    }
    return print_and_free(o);
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
