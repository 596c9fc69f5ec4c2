/*
 * live.h - the player's side of a live screening: starts the live feed
 * (dm_net), and each frame moves newly accepted comments from its queue into
 * the player's track, lays them out in arrival order on a layout of their
 * own and puts them on the timeline, so they are on screen in the next
 * frame. Also carries out the host console's deletes and clears, draws the
 * join QR code and dumps the live layout at exit.
 *
 * Live comments are appended to the player's track after the recorded ones
 * (indexes from dm_live_first on); recorded comments keep their own layout.
 *
 * Thread-safety: the main (SDL) thread only; dm_net has its own thread.
 */
#ifndef DM_PLAYER_LIVE_H
#define DM_PLAYER_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "danmaku.h"
#include "options.h"
#include "text.h"

typedef struct dm_live dm_live;

/*
 * Start the live feed described by the --listen family of options. `first`
 * is the index the first live comment will get in the player's track.
 * Prints the port and join URL on stderr. 0, or -1 with a message printed.
 */
int dm_live_start(dm_live **out, const player_options *o, dm_text *text, size_t first);
void dm_live_stop(dm_live **live);

/*
 * Once per frame, before drawing: report the film time, then take every
 * accepted comment, append it to `track` (growing *placed and *texts with
 * it), lay it out with `layout`'s settings and insert it into `timeline`.
 */
int dm_live_drain(dm_live *live, int64_t film_ms, int paused, dm_track *track, dm_placed **placed,
                  char ***texts, dm_timeline *timeline, const dm_layout_opts *layout);

/*
 * Only the comments part of dm_live_drain, for a second helping right before
 * the present: what arrived while the frame was drawn still makes it.
 */
int dm_live_take(dm_live *live, dm_track *track, dm_placed **placed, char ***texts, dm_timeline *timeline,
                 const dm_layout_opts *layout);

/*
 * After a relayout of the recorded comments (new stage size): lay the live
 * ones out again, in arrival order, for `layout`, and insert them.
 */
int dm_live_relayout(dm_live *live, const dm_track *track, dm_placed **placed, char ***texts,
                     dm_timeline *timeline, const dm_layout_opts *layout);

/* Draw the join QR code (first minute, or while toggled on) over the output. */
void dm_live_draw(dm_live *live, SDL_Renderer *renderer, const SDL_Rect *display);

/* The c key. */
void dm_live_toggle_qr(dm_live *live);

/*
 * The x key and the host's clear: every comment on screen at t_ms leaves the
 * timeline; live ones for good: marked deleted (in `placed` too) and a
 * delete line each in the recording, so the replay does not show them
 * either. `live` may be NULL (no live feed). Returns how many went, or -1
 * when out of memory.
 */
int dm_live_clear_screen(dm_live *live, dm_track *track, dm_placed *placed, dm_timeline *timeline, int64_t t_ms);

/* The p key: pause the live feed, or resume it; returns 1 when now pausing. */
int dm_live_toggle_feed(dm_live *live);

/* Every frame: how many comments are on screen, for the host console. */
void dm_live_screen_stats(dm_live *live, size_t on_screen);

/* Right after a present: acceptance-to-screen latency of the comments drawn first in it. */
void dm_live_presented(dm_live *live);

/*
 * At exit: stop taking comments and drain the ones already acked (so the
 * track holds everything the recording holds), then write the live layout in
 * LAYOUT-DUMP.md form (when --dump-layout) and, with --stats, the live feed's
 * figures on stderr. 0 or -1.
 */
int dm_live_finish(dm_live *live, int64_t film_ms, dm_track *track, dm_placed **placed, char ***texts,
                   dm_timeline *timeline, const dm_layout_opts *layout, const char *font_family,
                   int outline_px);

#endif
