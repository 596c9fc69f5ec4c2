/*
 * script.h - `--script FILE`: key presses and screenshots at given film
 * times, for tests and demos of the interactive player without a keyboard.
 *
 * One command a line, run in order; a command waits until the film time
 * reaches its time after the previous command ran (so a seek back replays
 * the times in between):
 *
 *     1.0 key Right          # any SDL key name: Space, Left, d, [ ...
 *     2.0 key Shift+j        # with Shift held (what mpv calls J)
 *     6.5 screenshot a.png
 *     7.0 window-size 960 540   # a window's new size (not headless)
 *     # comments and blank lines are ignored
 */
#ifndef DM_PLAYER_SCRIPT_H
#define DM_PLAYER_SCRIPT_H

#include <SDL.h>

typedef enum dm_script_kind {
    DM_SCRIPT_KEY,                /* SECONDS key [Shift+]NAME */
    DM_SCRIPT_SCREENSHOT,         /* SECONDS screenshot FILE: the frame without the OSD, as the s key */
    DM_SCRIPT_SCREENSHOT_WINDOW,  /* SECONDS screenshot-window FILE: with the OSD, as S */
    DM_SCRIPT_MOUSE,              /* SECONDS mouse X Y: the pointer moves there (output pixels) */
    DM_SCRIPT_CLICK,              /* SECONDS click X Y: a left click there */
    DM_SCRIPT_WINDOW_SIZE,        /* SECONDS window-size W H: the window is resized to W x H (as by its user) */
} dm_script_kind;

typedef struct dm_script_cmd {
    double at;                /* film seconds */
    dm_script_kind kind;      /* what to do */
    SDL_Keycode key;          /* DM_SCRIPT_KEY */
    SDL_Keymod mod;           /* DM_SCRIPT_KEY: KMOD_SHIFT for "Shift+NAME", else KMOD_NONE */
    char *path;               /* the screenshots' file, owned */
    int x, y;                 /* DM_SCRIPT_MOUSE, DM_SCRIPT_CLICK; DM_SCRIPT_WINDOW_SIZE: W, H */
} dm_script_cmd;

typedef struct dm_script {
    dm_script_cmd *cmds;      /* in file order */
    size_t count;
    size_t next;              /* first command not run yet */
} dm_script;

/* Read a script; 0, or -1 with a message naming the file and line on stderr. */
int dm_script_load(dm_script *s, const char *path);
void dm_script_free(dm_script *s);
/* The next command if it is due at film time t, else NULL. */
const dm_script_cmd *dm_script_due(const dm_script *s, double t);
/* Film time of the next command, or a negative value when none is left. */
double dm_script_next_time(const dm_script *s);

#endif
