/*
 * film_clock.h - the film clock of overlay mode (`--overlay`), when the
 * cinema plays the film from its own server: a wall clock that the host
 * starts, pauses, seeks and nudges (keys, console), or mpv's own time,
 * followed through its JSON IPC socket (`--follow-mpv SOCKET`), so the
 * comments are drawn for the moment the film is at.
 *
 * Pure logic on a clock the caller passes in (seconds), except dm_mpv's
 * socket. Thread-safety: the main thread only.
 */
#ifndef DM_FILM_CLOCK_H
#define DM_FILM_CLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct dm_film_clock {
    double base_t;      /* film time at base_wall */
    double base_wall;   /* when */
    int paused;         /* it stands at base_t */
} dm_film_clock;

/* Standing (paused) at film time t. */
void dm_film_clock_init(dm_film_clock *c, double t, double now);
double dm_film_clock_at(const dm_film_clock *c, double now);
void dm_film_clock_set_paused(dm_film_clock *c, int paused, double now);
/* To film time t (0 at least), running or standing as it was. */
void dm_film_clock_seek(dm_film_clock *c, double t, double now);

/*
 * A running mpv, followed through its IPC socket (mpv --input-ipc-server=
 * SOCKET): its time-pos, pause, duration and speed, observed; the time in
 * between two reports extrapolated at its speed; a seek holds the time
 * until mpv reports where it landed. Commands go the other way: the host's
 * pause, seek and volume are mpv's.
 */
typedef struct dm_mpv dm_mpv;

/* Connect and observe. 0, or -1 with err (no such socket, not mpv's). */
int dm_mpv_connect(dm_mpv **out, const char *socket_path, char *err, size_t errlen);
void dm_mpv_free(dm_mpv **m);
/* Read what mpv said since (never waits). 0, or -1 once the connection is gone (err says why). */
int dm_mpv_poll(dm_mpv *m, double now, char *err, size_t errlen);
/* Its film time now (extrapolated), and whether it is known yet. */
double dm_mpv_time(const dm_mpv *m, double now);
int dm_mpv_time_known(const dm_mpv *m);
int dm_mpv_paused(const dm_mpv *m);
double dm_mpv_duration(const dm_mpv *m);   /* 0: unknown */
uint64_t dm_mpv_seeks(const dm_mpv *m);    /* seeks seen (a jump the comments must follow) */
/* Ask mpv: pause (1) / play (0); seek to t (absolute) or by t (relative); volume 0..100. 0, or -1. */
int dm_mpv_set_paused(dm_mpv *m, int paused);
int dm_mpv_seek(dm_mpv *m, double t, int relative);
int dm_mpv_set_volume(dm_mpv *m, double volume);
/* The descriptor to wait on (poll/select), for callers that sleep between frames. */
int dm_mpv_fd(const dm_mpv *m);

#endif
