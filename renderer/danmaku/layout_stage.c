/*
 * layout_stage.c - the one rule that turns user settings into layout
 * settings for a stage of a given size, shared by every program that draws
 * comments (player, burn-in), so they lay out the same comments identically.
 */
#include "danmaku.h"

#include <math.h>

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
