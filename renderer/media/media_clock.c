/*
 * media_clock.c - the clocks and the pure frame-timing decisions of dm_media
 * (ffplay's Clock, compute_target_delay and the core of video_refresh), kept
 * free of threads and libav state so they can be unit-tested with made-up
 * times.
 */
#include "media.h"

#include <math.h>

#include "danmaku.h"


void dm_clock_init(dm_clock *c)
{
    c->speed = 1.0;
    c->paused = 0;
    c->serial = -1;
    dm_clock_set(c, NAN, -1, dm_now());
}

double dm_clock_get(const dm_clock *c, int queue_serial, double now)
{
    if (queue_serial != c->serial)
        return NAN;
    if (c->paused)
        return c->pts;
    /* pts_drift + now is the value at speed 1; the last term bends it for
     * other speeds without storing a second origin. */
    return c->pts_drift + now - (now - c->last_updated) * (1.0 - c->speed);
}

void dm_clock_set(dm_clock *c, double pts, int serial, double now)
{
    c->pts = pts;
    c->last_updated = now;
    c->pts_drift = pts - now;
    c->serial = serial;
}

void dm_clock_set_speed(dm_clock *c, double speed, double now)
{
    dm_clock_set(c, dm_clock_get(c, c->serial, now), c->serial, now);
    c->speed = speed;
}

void dm_clock_set_paused(dm_clock *c, int paused, double now)
{
    dm_clock_set(c, dm_clock_get(c, c->serial, now), c->serial, now);
    c->paused = paused;
}

void dm_clock_sync_to_slave(dm_clock *c, int c_queue_serial, const dm_clock *slave,
                            int slave_queue_serial, double now)
{
    double clock = dm_clock_get(c, c_queue_serial, now);
    double slave_clock = dm_clock_get(slave, slave_queue_serial, now);
    if (!isnan(slave_clock) && (isnan(clock) || fabs(clock - slave_clock) > AV_NOSYNC_THRESHOLD))
        dm_clock_set(c, slave_clock, slave->serial, now);
}

double dm_sync_frame_duration(double pts, double duration, int serial, double next_pts,
                              int next_serial, double max_frame_duration)
{
    double d;
    /* Across a seek the old frame has no duration: the first new frame is
     * due at once. */
    if (serial != next_serial)
        return 0.0;
    d = next_pts - pts;
    if (isnan(d) || d <= 0 || d > max_frame_duration)
        return duration;
    return d;
}

double dm_sync_target_delay(double delay, double diff, double max_frame_duration)
{
    /* The tolerance follows the frame duration: at 24 fps a 42 ms error is
     * one frame, at 60 fps the 40 ms floor keeps jitter from causing churn. */
    double sync_threshold = fmax(AV_SYNC_THRESHOLD_MIN, fmin(AV_SYNC_THRESHOLD_MAX, delay));
    if (isnan(diff) || fabs(diff) >= max_frame_duration)
        return delay;
    if (diff <= -sync_threshold)
        return fmax(0.0, delay + diff);
    if (diff >= sync_threshold && delay > AV_SYNC_FRAMEDUP_THRESHOLD)
        return delay + diff;
    if (diff >= sync_threshold)
        return 2.0 * delay;
    return fmax(0.0, delay + DM_SYNC_FINE_GAIN * diff);
}

dm_sync_action dm_sync_decide(double *frame_timer, double now, double delay,
                              double next_duration, int allow_drop, double *remaining)
{
    if (now < *frame_timer + delay) {
        if (remaining)
            *remaining = *frame_timer + delay - now;
        return DM_SYNC_WAIT;
    }
    *frame_timer += delay;
    if (delay > 0 && now - *frame_timer > AV_SYNC_THRESHOLD_MAX)
        *frame_timer = now;
    if (allow_drop && !isnan(next_duration) && now > *frame_timer + next_duration)
        return DM_SYNC_DROP;
    return DM_SYNC_SHOW;
}
