/*
 * film_clock.c - the overlay's film clock and mpv follower (film_clock.h).
 */
#include "film_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

void dm_film_clock_init(dm_film_clock *c, double t, double now)
{
    c->base_t = t > 0 ? t : 0;
    c->base_wall = now;
    c->paused = 1;
}

double dm_film_clock_at(const dm_film_clock *c, double now)
{
    return c->paused ? c->base_t : c->base_t + (now - c->base_wall);
}

void dm_film_clock_set_paused(dm_film_clock *c, int paused, double now)
{
    c->base_t = dm_film_clock_at(c, now);
    c->base_wall = now;
    c->paused = paused != 0;
}

void dm_film_clock_seek(dm_film_clock *c, double t, double now)
{
    c->base_t = t > 0 ? t : 0;
    c->base_wall = now;
}

/* ------------------------------------------------------------ mpv */

#define MPV_LINE_MAX (1 << 16)

struct dm_mpv {
    int fd;
    char *in;              /* bytes read, not yet a whole line */
    size_t in_len;
    double pos, pos_at;    /* the last time-pos and when it came */
    int pos_known;
    int seeking;           /* a seek began: hold the time until mpv says where it is */
    int paused;
    double duration, speed;
    uint64_t seeks;
    uint64_t request_id;
};

static int send_line(dm_mpv *m, const char *json)
{
    size_t len = strlen(json), off = 0;

    while (off < len) {
        ssize_t n = send(m->fd, json + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;   /* (a full socket: mpv reads its commands as they come; a few bytes never fill it) */
        off += (size_t)n;
    }
    return send(m->fd, "\n", 1, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* A command: {"command": [...], "request_id": N} from a cJSON array (consumed). */
static int command(dm_mpv *m, cJSON *args)
{
    cJSON *o = cJSON_CreateObject();
    char *s;
    int rc = -1;

    if (!o || !args) {
        cJSON_Delete(o);
        cJSON_Delete(args);
        return -1;
    }
    cJSON_AddItemToObject(o, "command", args);
    cJSON_AddNumberToObject(o, "request_id", (double)++m->request_id);
    s = cJSON_PrintUnformatted(o);
    if (s)
        rc = send_line(m, s);
    free(s);
    cJSON_Delete(o);
    return rc;
}

static cJSON *words(const char *a, const char *b)
{
    cJSON *v = cJSON_CreateArray();

    if (v && a)
        cJSON_AddItemToArray(v, cJSON_CreateString(a));
    if (v && b)
        cJSON_AddItemToArray(v, cJSON_CreateString(b));
    return v;
}

static int observe(dm_mpv *m, int id, const char *property)
{
    cJSON *v = cJSON_CreateArray();

    if (!v)
        return -1;
    cJSON_AddItemToArray(v, cJSON_CreateString("observe_property"));
    cJSON_AddItemToArray(v, cJSON_CreateNumber(id));
    cJSON_AddItemToArray(v, cJSON_CreateString(property));
    return command(m, v);
}

int dm_mpv_connect(dm_mpv **out, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    dm_mpv *m;

    *out = NULL;
    if (strlen(path) >= sizeof a.sun_path) {
        snprintf(err, errlen, "--follow-mpv %s: the socket's path is too long", path);
        return -1;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->speed = 1.0;
    m->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m->fd < 0 || connect(m->fd, (struct sockaddr *)&a, sizeof a)) {
        snprintf(err, errlen, "--follow-mpv %s: cannot connect (%s): is mpv running with --input-ipc-server=%s?", path,
                 strerror(errno), path);
        dm_mpv_free(&m);
        return -1;
    }
    if (observe(m, 1, "time-pos") || observe(m, 2, "pause") || observe(m, 3, "duration") || observe(m, 4, "speed")) {
        snprintf(err, errlen, "--follow-mpv %s: cannot talk to mpv (%s)", path, strerror(errno));
        dm_mpv_free(&m);
        return -1;
    }
    fcntl(m->fd, F_SETFL, fcntl(m->fd, F_GETFL) | O_NONBLOCK);
    *out = m;
    return 0;
}

void dm_mpv_free(dm_mpv **pm)
{
    dm_mpv *m = *pm;

    if (!m)
        return;
    if (m->fd >= 0)
        close(m->fd);
    free(m->in);
    free(m);
    *pm = NULL;
}

/* One line from mpv: an event or a reply. */
static void handle(dm_mpv *m, const char *line, double now)
{
    cJSON *o = cJSON_Parse(line);
    const cJSON *ev, *name, *data;

    if (!o)
        return;
    ev = cJSON_GetObjectItemCaseSensitive(o, "event");
    if (cJSON_IsString(ev)) {
        if (!strcmp(ev->valuestring, "seek")) {
            m->seeking = 1;
            m->seeks++;
        } else if (!strcmp(ev->valuestring, "playback-restart")) {
            m->seeking = 0;
            m->pos_at = now;   /* it starts from where it landed, now */
        } else if (!strcmp(ev->valuestring, "property-change")) {
            name = cJSON_GetObjectItemCaseSensitive(o, "name");
            data = cJSON_GetObjectItemCaseSensitive(o, "data");
            if (cJSON_IsString(name) && !strcmp(name->valuestring, "time-pos") && cJSON_IsNumber(data)) {
                m->pos = data->valuedouble;
                m->pos_at = now;
                m->pos_known = 1;
            } else if (cJSON_IsString(name) && !strcmp(name->valuestring, "pause") && cJSON_IsBool(data)) {
                if (m->pos_known)
                    m->pos = dm_mpv_time(m, now);
                m->pos_at = now;
                m->paused = cJSON_IsTrue(data);
            } else if (cJSON_IsString(name) && !strcmp(name->valuestring, "duration") && cJSON_IsNumber(data)) {
                m->duration = data->valuedouble;
            } else if (cJSON_IsString(name) && !strcmp(name->valuestring, "speed") && cJSON_IsNumber(data) &&
                       data->valuedouble > 0) {
                if (m->pos_known)
                    m->pos = dm_mpv_time(m, now);
                m->pos_at = now;
                m->speed = data->valuedouble;
            }
        } else if (!strcmp(ev->valuestring, "end-file") || !strcmp(ev->valuestring, "idle")) {
            m->pos_known = 0;
        }
    }
    cJSON_Delete(o);
}

int dm_mpv_poll(dm_mpv *m, double now, char *err, size_t errlen)
{
    char buf[8192];

    for (;;) {
        ssize_t n = recv(m->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0) {
            snprintf(err, errlen, "mpv closed its IPC socket%s%s", n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
            return -1;
        }
        {
            char *grown = realloc(m->in, m->in_len + (size_t)n + 1);
            size_t start = 0;
            if (!grown) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            m->in = grown;
            memcpy(m->in + m->in_len, buf, (size_t)n);
            m->in_len += (size_t)n;
            m->in[m->in_len] = 0;
            for (size_t i = 0; i < m->in_len; i++)
                if (m->in[i] == '\n') {
                    m->in[i] = 0;
                    handle(m, m->in + start, now);
                    start = i + 1;
                }
            memmove(m->in, m->in + start, m->in_len - start);
            m->in_len -= start;
            if (m->in_len > MPV_LINE_MAX) {
                snprintf(err, errlen, "mpv sent a line of over 64 KiB: not mpv's IPC?");
                return -1;
            }
        }
    }
}

double dm_mpv_time(const dm_mpv *m, double now)
{
    if (!m->pos_known)
        return 0;
    if (m->paused || m->seeking)
        return m->pos;
    return m->pos + (now - m->pos_at) * m->speed;
}

int dm_mpv_time_known(const dm_mpv *m)
{
    return m->pos_known;
}

int dm_mpv_paused(const dm_mpv *m)
{
    return m->paused;
}

double dm_mpv_duration(const dm_mpv *m)
{
    return m->duration;
}

uint64_t dm_mpv_seeks(const dm_mpv *m)
{
    return m->seeks;
}

int dm_mpv_set_paused(dm_mpv *m, int paused)
{
    cJSON *v = words("set_property", "pause");

    if (v)
        cJSON_AddItemToArray(v, cJSON_CreateBool(paused));
    return command(m, v);
}

int dm_mpv_seek(dm_mpv *m, double t, int relative)
{
    cJSON *v = words("seek", NULL);

    if (v) {
        cJSON_AddItemToArray(v, cJSON_CreateNumber(t));
        cJSON_AddItemToArray(v, cJSON_CreateString(relative ? "relative+exact" : "absolute+exact"));
    }
    return command(m, v);
}

int dm_mpv_set_volume(dm_mpv *m, double volume)
{
    cJSON *v = words("set_property", "volume");

    if (v)
        cJSON_AddItemToArray(v, cJSON_CreateNumber(volume));
    return command(m, v);
}

int dm_mpv_fd(const dm_mpv *m)
{
    return m->fd;
}
