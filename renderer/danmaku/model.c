/* model.c - the comment model: tracks, copies, names of modes and sizes. */
#include "danmaku.h"

#include <stdlib.h>
#include <string.h>

static const char *const mode_names[DM_MODE_COUNT] = {
    "scroll", "reverse", "top", "bottom", "positioned",
};
static const char *const size_names[DM_SIZE_COUNT] = { "small", "normal", "large" };
static const char *const kind_names[DM_KIND_COUNT] = { "comment", "superchat", "gift", "guard" };

const char *dm_kind_name(dm_kind kind)
{
    return (unsigned)kind < DM_KIND_COUNT ? kind_names[kind] : "?";
}

int dm_kind_from_name(const char *name)
{
    for (int i = 0; name && i < DM_KIND_COUNT; i++)
        if (!strcmp(name, kind_names[i]))
            return i;
    return -1;
}

const char *dm_mode_name(dm_mode mode)
{
    return (unsigned)mode < DM_MODE_COUNT ? mode_names[mode] : "?";
}

int dm_mode_from_name(const char *name)
{
    for (int i = 0; name && i < DM_MODE_COUNT; i++)
        if (!strcmp(name, mode_names[i]))
            return i;
    return -1;
}

const char *dm_size_name(dm_size size)
{
    return (unsigned)size < DM_SIZE_COUNT ? size_names[size] : "?";
}

int dm_size_from_name(const char *name)
{
    for (int i = 0; name && i < DM_SIZE_COUNT; i++)
        if (!strcmp(name, size_names[i]))
            return i;
    return -1;
}

double dm_size_scale(dm_size size)
{
    switch (size) {
    case DM_SIZE_SMALL: return 18.0 / 25.0;
    case DM_SIZE_LARGE: return 36.0 / 25.0;
    default: return 1.0;
    }
}

void dm_track_init(dm_track *track)
{
    memset(track, 0, sizeof *track);
}

void dm_comment_free(dm_comment *c)
{
    free(c->text);
    free(c->id);
    free(c->author);
    free(c->sender);
    free(c->venue);
    free(c->pos);
    c->text = c->id = c->author = c->sender = c->venue = NULL;
    c->pos = NULL;
}

void dm_track_clear(dm_track *track)
{
    for (size_t i = 0; i < track->count; i++)
        dm_comment_free(&track->items[i]);
    free(track->items);
    dm_track_init(track);
}

static int dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : DM_ENOMEM;
}

int dm_track_push(dm_track *track, const dm_comment *c)
{
    dm_comment copy = *c;

    if (track->count == track->cap) {
        size_t cap = track->cap ? track->cap * 2 : 64;
        dm_comment *items = realloc(track->items, cap * sizeof *items);
        if (!items)
            return DM_ENOMEM;
        track->items = items;
        track->cap = cap;
    }
    /* nothing of the caller's may be freed on error */
    copy.pos = NULL;
    copy.text = copy.id = copy.author = copy.sender = copy.venue = NULL;
    if (dup_str(&copy.text, c->text ? c->text : "") || dup_str(&copy.id, c->id) ||
        dup_str(&copy.author, c->author) || dup_str(&copy.sender, c->sender) || dup_str(&copy.venue, c->venue))
        goto error;
    if (c->pos) {
        copy.pos = malloc(sizeof *copy.pos);
        if (!copy.pos)
            goto error;
        *copy.pos = *c->pos;
    }
    if (copy.count < 1)
        copy.count = 1;
    track->items[track->count++] = copy;
    return 0;
error:
    dm_comment_free(&copy);
    return DM_ENOMEM;
}

uint32_t dm_outline_rgb(const dm_comment *c)
{
    /* black text gets a light edge, or it would vanish into its own outline */
    return (c->color & 0xFFFFFF) == 0 ? 0xFFFFFF : 0x000000;
}
