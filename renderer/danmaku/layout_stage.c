/*
 * layout_stage.c - the one rule that turns user settings into layout
 * settings for a stage of a given size, shared by every program that draws
 * comments (player, burn-in), so they lay out the same comments identically.
 */
#include "danmaku.h"

#include <math.h>
#include <stdio.h>

/* Smallest stage and comment height worth laying out: below these the text
 * rasteriser cannot draw an outlined glyph. */
#define STAGE_MIN_PX 16
#define FONT_MIN_PX 12

dm_layout_opts dm_layout_opts_for_stage(const dm_layout_opts *base, int stage_w, int stage_h, int font_px)
{
    dm_layout_opts lo = *base;

    lo.stage_w = stage_w < STAGE_MIN_PX ? STAGE_MIN_PX : stage_w;
    lo.stage_h = stage_h < STAGE_MIN_PX ? STAGE_MIN_PX : stage_h;
    /* 22.5 normal lines per stage height is Bilibili's proportion
     * (25 px comments on its 562 px high player). */
    lo.font_px = font_px > 0 ? font_px : (int)lround(lo.stage_h / DM_STAGE_LINES);
    if (lo.font_px < FONT_MIN_PX)
        lo.font_px = FONT_MIN_PX;
    if (lo.font_px > lo.stage_h)
        lo.font_px = lo.stage_h;
    return lo;
}

/* One coordinate of a keep-off box: px, or a fraction of `extent`. */
static double keep_off_px(double v, int is_fraction, int extent)
{
    return is_fraction ? v * extent : v;
}

dm_obstacle dm_keep_off_box(const dm_keep_off *k, int stage_w, int stage_h, int number)
{
    dm_obstacle o = { 0 };
    double x0 = keep_off_px(k->x, k->fractions & 1, stage_w), y0 = keep_off_px(k->y, k->fractions & 2, stage_h);
    double x1 = x0 + keep_off_px(k->w, k->fractions & 4, stage_w);
    double y1 = y0 + keep_off_px(k->h, k->fractions & 8, stage_h);

    /* the drawn box: whole pixels covering it, inside the stage */
    x0 = floor(x0 < 0 ? 0 : x0);
    y0 = floor(y0 < 0 ? 0 : y0);
    x1 = ceil(x1 > stage_w ? stage_w : x1);
    y1 = ceil(y1 > stage_h ? stage_h : y1);
    o.x = (int32_t)x0;
    o.y = (int32_t)y0;
    o.w = x1 > x0 ? (int32_t)(x1 - x0) : 0;
    o.h = y1 > y0 ? (int32_t)(y1 - y0) : 0;
    o.start_ms = k->start_ms;
    o.end_ms = k->end_ms;
    snprintf(o.kind, sizeof o.kind, "keep-off");
    snprintf(o.id, sizeof o.id, "keep-off-%d", number);
    return o;
}
