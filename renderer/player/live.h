/*
 * live.h - the player's side of a live screening: starts the live feed
 * (dm_net), and each frame moves newly accepted comments from its queue into
 * the film's scene, where they take their lanes among the track's comments
 * and are on screen in the next frame. Also carries out the host console's
 * deletes and clears, draws the join QR code and dumps the scene at exit.
 *
 * Thread-safety: the main (SDL) thread only; dm_net has its own thread.
 */
#ifndef DM_PLAYER_LIVE_H
#define DM_PLAYER_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "danmaku.h"
#include "dm_net.h"
#include "options.h"
#include "text.h"

typedef struct dm_live dm_live;

/*
 * Start the live feed described by the --listen family of options
 * (dm_live_announce then prints the port and join URL on stderr). 0, or -1
 * with a message printed.
 */
int dm_live_start(dm_live **out, const player_options *o, dm_text *text);
/*
 * Print where the audience joins and the host console's address and token,
 * ending with the "live on port N" line scripts wait for: call once what a
 * client is sent on connecting (a night's programme) is in place.
 */
void dm_live_announce(dm_live *live);
void dm_live_stop(dm_live **live);

/*
 * Once per frame, before drawing: report the film time, carry out the
 * host's requests and append every accepted comment to `scene` (a live
 * scene), then let the scene lay out its track up to where no live comment
 * can come before any more.
 */
int dm_live_drain(dm_live *live, dm_scene *scene, int64_t film_ms, int paused);

/*
 * Only the comments part of dm_live_drain, for a second helping right before
 * the present: what arrived while the frame was drawn still makes it.
 * Returns how many were appended, or -1.
 */
long dm_live_take(dm_live *live, dm_scene *scene);

/* Draw the join QR code (first minute, or while toggled on) over the output. */
void dm_live_draw(dm_live *live, SDL_Renderer *renderer, const SDL_Rect *display);

/* The join QR code and URL in the lower right of `display`, whatever the c key says (the intermission card). */
void dm_live_draw_qr(dm_live *live, SDL_Renderer *renderer, const SDL_Rect *display);

/*
 * The host console's film controls (DM_NET_FILM_PLAY .. DM_NET_BREAK_ADD):
 * dm_live_drain and dm_live_controls hand each to `fn`, in its place among
 * the comments. Without a handler they are ignored.
 */
void dm_live_set_film_handler(dm_live *live, void (*fn)(void *ud, const dm_net_control *c), void *ud);

/* ------------------------------------------------------------ a night of films */

/*
 * A film of the night ends: close the intake (comments are refused with
 * "intermission" from now on) and take every comment accepted before into
 * `scene`, with the host's requests among them, so the scene (its dump) holds
 * everything the film's recording holds. 0 or -1.
 */
int dm_live_end_film(dm_live *live, dm_scene *scene, int64_t film_ms);

/*
 * The next film begins: the last recording is closed, comments go to
 * `record_path` ("" or NULL: not recorded) and are stamped from film time 0;
 * the intake opens again. Call after dm_live_end_film. 0, or -1 with the
 * reason on stderr (the film still plays; its comments are refused).
 */
int dm_live_new_film(dm_live *live, const char *record_path);

/* In an intermission (no scene): carry out the host's requests; film controls go to the handler. */
void dm_live_controls(dm_live *live);

/* What is playing, for the audience page and the console (dm_net_set_programme). */
void dm_live_programme(dm_live *live, const dm_net_programme *p);

/* The c key. */
void dm_live_toggle_qr(dm_live *live);

/*
 * The x key and the host's clear: every comment on screen at t_ms leaves the
 * screen; live ones for good, with a delete line each in the recording, so
 * the replay does not show them either. Returns how many went, or -1 when
 * out of memory.
 */
long dm_live_clear_screen(dm_live *live, dm_scene *scene, int64_t t_ms);

/* The p key: pause the live feed, or resume it; returns 1 when now pausing. */
int dm_live_toggle_feed(dm_live *live);

/* Every frame: how many comments are on screen, for the host console. */
void dm_live_screen_stats(dm_live *live, size_t on_screen);

/* Right after a present: acceptance-to-screen latency of the comments drawn first in it; a present
 * more than 1.5 refresh periods (seconds) after the last one counts as late. */
void dm_live_presented(dm_live *live, double period);

/*
 * At exit: stop taking comments and carry out every request and comment
 * already acked (so the scene holds everything the recording holds), then,
 * with --stats, print the live feed's figures on stderr. 0 or -1.
 */
int dm_live_finish(dm_live *live, dm_scene *scene, int64_t film_ms);

#endif
