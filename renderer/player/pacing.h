/*
 * pacing.h - presenting in step with the display.
 *
 * A frame is drawn for the moment it will be shown: the display's next
 * vertical blank after the drawing ends, not the moment drawing starts. The
 * pacer keeps the display's refresh period and the phase of its blanks
 * (measured from when presents return under vsync, which block until a
 * blank; or kept by the pacer's own timer without vsync), and says for each
 * frame the blank it is aimed at and how long to wait before drawing it.
 *
 * Pure logic on a clock the caller passes in (seconds), so tests drive it
 * with a simulated display.
 */
#ifndef DM_PACING_H
#define DM_PACING_H

typedef struct dm_pacer {
    double period;      /* seconds per refresh */
    double phase;       /* the time of one blank: blanks are phase + k * period */
    double draw;        /* how long drawing and presenting a frame takes (smoothed, seconds) */
    int vsync;          /* presents block until a blank */
    int locked;         /* phase measured */
    double last_target; /* the blank the last frame was aimed at */
    double last_shown;  /* vsync: the blank the last present returned at */
    unsigned long long presents, missed, doubled;
} dm_pacer;

/* hz <= 0 or unknown: 60. */
void dm_pacer_init(dm_pacer *p, double hz, int vsync, double now);
/* The display changed (the window moved to another one): new rate, phase measured again. */
void dm_pacer_set_rate(dm_pacer *p, double hz, double now);
double dm_pacer_hz(const dm_pacer *p);

/*
 * The time the frame about to be drawn at `now` will be shown. Under vsync:
 * the first blank at least one drawing time ahead, and never the blank the
 * previous frame was shown at (two frames for one blank would waste one).
 * Without: when it will be presented, one drawing time from now (frames are
 * started on the pacer's ticks; one drawn between ticks, for a live comment
 * that should not wait, is aimed at its own present).
 */
double dm_pacer_target(dm_pacer *p, double now);

/*
 * The frame aimed at `target` was begun at `began`, drawn by `drawn` (just
 * before the present) and the present returned at `now`. Under vsync the
 * return is the blank it was shown at: the phase follows it (a slow phase
 * lock that rides out jitter, a jump after a stall), a blank later than the
 * target counts as missed, a second present in one blank as doubled.
 */
void dm_pacer_presented(dm_pacer *p, double target, double began, double drawn, double now);

/* Seconds to wait from `now` before drawing the next frame (0: draw now). */
double dm_pacer_wait(const dm_pacer *p, double now);

#endif
