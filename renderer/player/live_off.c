/*
 * live_off.c - the player's live side in a build without the live feed
 * (cmake -DDM_LIVE=OFF: no libwebsockets, no libqrencode). The --listen
 * family of options is not there, so no live feed is ever started; the rest
 * of live.h does nothing.
 */
#include "live.h"

#include <stdio.h>

int dm_live_start(dm_live **out, const player_options *o, dm_text *text)
{
    *out = NULL;
    fprintf(stderr, "danmaku: this danmaku was built without live screenings (DM_LIVE=OFF)\n");
    return -1;
}

void dm_live_announce(dm_live *live) {}

void dm_live_stop(dm_live **live) { *live = NULL; }

int dm_live_drain(dm_live *live, dm_scene *scene, int64_t film_ms, int paused) { return 0; }

long dm_live_take(dm_live *live, dm_scene *scene) { return 0; }

void dm_live_draw(dm_live *live, SDL_Renderer *renderer, const SDL_Rect *display) {}

void dm_live_draw_qr(dm_live *live, SDL_Renderer *renderer, const SDL_Rect *display) {}

void dm_live_toggle_qr(dm_live *live) {}

long dm_live_clear_screen(dm_live *live, dm_scene *scene, int64_t t_ms) { return dm_scene_clear(scene, t_ms, NULL, NULL); }

int dm_live_toggle_feed(dm_live *live) { return 0; }

void dm_live_screen_stats(dm_live *live, size_t on_screen) {}

void dm_live_presented(dm_live *live, double period) {}

int dm_live_finish(dm_live *live, dm_scene *scene, int64_t film_ms) { return 0; }

void dm_live_set_film_handler(dm_live *live, void (*fn)(void *ud, const dm_net_control *c), void *ud) {}

int dm_live_end_film(dm_live *live, dm_scene *scene, int64_t film_ms) { return 0; }

int dm_live_new_film(dm_live *live, const char *record_path) { return 0; }

void dm_live_controls(dm_live *live) {}

void dm_live_programme(dm_live *live, const dm_net_programme *p) {}
