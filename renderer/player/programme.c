/*
 * programme.c - a night of films (programme.h): the programme file, the
 * films of the command line with the tracks beside them, and the names of
 * each film's recording.
 */
#include "programme.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#define MAX_PROGRAMME_BYTES (4 << 20)

void dm_programme_init(dm_programme *p)
{
    memset(p, 0, sizeof *p);
}

static void entry_free(dm_prog_entry *e)
{
    free(e->film);
    for (int i = 0; i < e->track_count; i++)
        free(e->tracks[i]);
    for (int i = 0; i < e->sub_count; i++)
        free(e->subs[i]);
    free(e->title);
    free(e->credits);
    free(e->record);
}

void dm_programme_free(dm_programme *p)
{
    for (size_t i = 0; i < p->count; i++)
        entry_free(&p->entries[i]);
    free(p->entries);
    free(p->title);
    free(p->card_text);
    free(p->aigc_text);
    memset(p, 0, sizeof *p);
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static dm_prog_entry *new_entry(dm_programme *p)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        dm_prog_entry *v = realloc(p->entries, cap * sizeof *v);
        if (!v)
            return NULL;
        p->entries = v;
        p->cap = cap;
    }
    memset(&p->entries[p->count], 0, sizeof p->entries[0]);
    p->entries[p->count].end = -1;
    return &p->entries[p->count++];
}

/* The film's file name without folder and extension ("night/the-first.mp4" -> "the-first"). */
static void stem(const char *path, char *out, size_t len)
{
    const char *base = strrchr(path, '/'), *dot;
    size_t n;

    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), base);
}

static int push_track(dm_prog_entry *e, const char *path, int64_t offset_ms, char *err, size_t errlen)
{
    if (e->track_count == DM_PROG_MAX_TRACKS)
        return fail(err, errlen, "%s: at most %d comment tracks a film", e->film, DM_PROG_MAX_TRACKS);
    if (!(e->tracks[e->track_count] = strdup(path)))
        return fail(err, errlen, "out of memory");
    e->offsets_ms[e->track_count++] = offset_ms;
    return 0;
}

static int push_sub(dm_prog_entry *e, const char *path, char *err, size_t errlen)
{
    if (e->sub_count == DM_PROG_MAX_SUBS)
        return fail(err, errlen, "%s: at most %d subtitle files a film", e->film, DM_PROG_MAX_SUBS);
    if (!(e->subs[e->sub_count++] = strdup(path)))
        return fail(err, errlen, "out of memory");
    return 0;
}

/* Put n tracks in front of the entry's (skipping those it has). */
static int prepend(dm_prog_entry *e, const char *const *tracks, const int64_t *offsets, int n, char *err,
                   size_t errlen)
{
    char *keep[DM_PROG_MAX_TRACKS];
    int64_t keep_off[DM_PROG_MAX_TRACKS];
    int kept = e->track_count;

    memcpy(keep, e->tracks, sizeof keep);
    memcpy(keep_off, e->offsets_ms, sizeof keep_off);
    e->track_count = 0;
    for (int i = 0; i < n; i++) {
        int dup = 0;
        for (int k = 0; k < kept; k++)
            dup |= !strcmp(keep[k], tracks[i]);
        for (int k = 0; k < e->track_count; k++)
            dup |= !strcmp(e->tracks[k], tracks[i]);
        if (!dup && push_track(e, tracks[i], offsets ? offsets[i] : 0, err, errlen)) {
            for (int k = 0; k < kept; k++)
                free(keep[k]);
            return -1;
        }
    }
    for (int k = 0; k < kept; k++) {
        if (e->track_count == DM_PROG_MAX_TRACKS) {
            for (; k < kept; k++)
                free(keep[k]);
            return fail(err, errlen, "%s: at most %d comment tracks a film", e->film, DM_PROG_MAX_TRACKS);
        }
        e->tracks[e->track_count] = keep[k];
        e->offsets_ms[e->track_count++] = keep_off[k];
    }
    return 0;
}

/* The comment tracks beside the film with its base name, in a fixed order of extensions. */
static int add_tracks_beside(dm_prog_entry *e, char *err, size_t errlen)
{
    static const char *const ext[] = { "xml", "json", "jsonl", "pb" };
    const char *dot = strrchr(e->film, '.'), *slash = strrchr(e->film, '/'), *found[4];
    size_t base = dot && (!slash || dot > slash) ? (size_t)(dot - e->film) : strlen(e->film);
    char path[4][PATH_MAX];
    int n = 0;

    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(path[n], sizeof path[n], "%.*s.%s", (int)base, e->film, ext[i]);
        if (strcmp(path[n], e->film) && is_file(path[n])) {
            found[n] = path[n];
            n++;
        }
    }
    return prepend(e, found, NULL, n, err, errlen);
}

int dm_programme_prepend_tracks(dm_programme *p, size_t i, const char *const *tracks, const int64_t *offsets, int n,
                                char *err, size_t errlen)
{
    return i < p->count ? prepend(&p->entries[i], tracks, offsets, n, err, errlen) : 0;
}

int dm_programme_tracks_beside(dm_programme *p, size_t i, char *err, size_t errlen)
{
    return i < p->count ? add_tracks_beside(&p->entries[i], err, errlen) : 0;
}

int dm_programme_add_film(dm_programme *p, const char *film, int auto_tracks, char *err, size_t errlen)
{
    dm_prog_entry *e = new_entry(p);
    char name[256];

    if (!e)
        return fail(err, errlen, "out of memory");
    stem(film, name, sizeof name);
    if (!(e->film = strdup(film)) || !(e->title = strdup(name)))
        return fail(err, errlen, "out of memory");
    e->title_from_name = 1;
    return auto_tracks ? add_tracks_beside(e, err, errlen) : 0;
}

int dm_programme_add_track(dm_programme *p, const char *track, int64_t offset_ms, char *err, size_t errlen)
{
    if (!p->count)
        return fail(err, errlen, "--track %s: no film to give it to", track);
    /* the same file beside the film and named again is read once */
    for (int i = 0; i < p->entries[p->count - 1].track_count; i++)
        if (!strcmp(p->entries[p->count - 1].tracks[i], track)) {
            p->entries[p->count - 1].offsets_ms[i] = offset_ms;
            return 0;
        }
    return push_track(&p->entries[p->count - 1], track, offset_ms, err, errlen);
}

int dm_programme_add_sub(dm_programme *p, const char *sub, char *err, size_t errlen)
{
    if (!p->count)
        return fail(err, errlen, "--sub %s: no film to give it to", sub);
    return push_sub(&p->entries[p->count - 1], sub, err, errlen);
}

void dm_programme_file_for(const dm_programme *p, size_t i, const char *given, const char *own, char *out,
                           size_t len)
{
    const char *dot, *slash;
    char name[256];
    size_t base;

    out[0] = 0;
    if (own) {
        snprintf(out, len, "%s", own);
        return;
    }
    if (!given || !*given)
        return;
    if (p->count <= 1) {
        snprintf(out, len, "%s", given);
        return;
    }
    dot = strrchr(given, '.');
    slash = strrchr(given, '/');
    base = dot && (!slash || dot > slash) ? (size_t)(dot - given) : strlen(given);
    stem(p->entries[i].film, name, sizeof name);
    snprintf(out, len, "%.*s-%02zu-%s%s", (int)base, given, i + 1, name, dot && (!slash || dot > slash) ? dot : "");
}

/* ------------------------------------------------------------ the programme file */

typedef struct reader {
    const char *file;     /* the programme file, for messages */
    char dir[PATH_MAX];   /* its folder, for relative paths */
    char *err;
    size_t errlen;
} reader;

/* A path of the file relative to its folder, made absolute-ish (as given when it is absolute). */
static char *resolve(const reader *r, const char *path)
{
    size_t n = strlen(r->dir) + strlen(path) + 2;
    char *buf;

    if (path[0] == '/' || !r->dir[0])
        return strdup(path);
    if ((buf = malloc(n)))
        snprintf(buf, n, "%s/%s", r->dir, path);
    return buf;
}

static int want_string(const reader *r, const char *where, const cJSON *v, const char *field, char **out)
{
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return fail(r->err, r->errlen, "%s: %s: \"%s\" must be a text (a non-empty string)", r->file, where, field);
    free(*out);
    if (!(*out = strdup(v->valuestring)))
        return fail(r->err, r->errlen, "out of memory");
    return 0;
}

static int want_seconds(const reader *r, const char *where, const cJSON *v, const char *field, double *out)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1e7)
        return fail(r->err, r->errlen, "%s: %s: \"%s\" must be a number of seconds (0 or more)", r->file, where,
                    field);
    *out = v->valuedouble;
    return 0;
}

static int read_track(const reader *r, const char *where, dm_prog_entry *e, const cJSON *t, size_t k)
{
    const cJSON *f;
    double offset = 0;
    char *path;
    int rc;

    if (cJSON_IsString(t)) {
        f = t;
    } else if (cJSON_IsObject(t)) {
        f = NULL;
        for (const cJSON *c = t->child; c; c = c->next) {
            if (!strcmp(c->string, "file"))
                f = c;
            else if (!strcmp(c->string, "offset")) {
                if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble) || fabs(c->valuedouble) > 86400)
                    return fail(r->err, r->errlen, "%s: %s: tracks[%zu]: \"offset\" must be seconds (negative: "
                                "earlier), within a day", r->file, where, k);
                offset = c->valuedouble;
            } else
                return fail(r->err, r->errlen, "%s: %s: tracks[%zu]: unknown field \"%s\" (file, offset)", r->file,
                            where, k, c->string);
        }
    } else
        f = NULL;
    if (!f || !cJSON_IsString(f) || !f->valuestring[0])
        return fail(r->err, r->errlen, "%s: %s: tracks[%zu] must be a file name or {\"file\": ..., \"offset\": "
                    "seconds}", r->file, where, k);
    if (!(path = resolve(r, f->valuestring)))
        return fail(r->err, r->errlen, "out of memory");
    if (!is_file(path)) {
        fail(r->err, r->errlen, "%s: %s: the track %s is not there", r->file, where, path);
        free(path);
        return -1;
    }
    rc = push_track(e, path, (int64_t)llround(offset * 1000.0), r->err, r->errlen);
    free(path);
    return rc;
}

static int read_entry(const reader *r, dm_programme *p, const cJSON *o, size_t i)
{
    char where[64], name[256];
    dm_prog_entry *e;
    const cJSON *film = NULL;

    snprintf(where, sizeof where, "films[%zu]", i);
    if (!cJSON_IsObject(o))
        return fail(r->err, r->errlen, "%s: %s must be an object ({\"film\": ...})", r->file, where);
    if (!(e = new_entry(p)))
        return fail(r->err, r->errlen, "out of memory");
    for (const cJSON *c = o->child; c; c = c->next)
        if (!strcmp(c->string, "film"))
            film = c;
    if (!film || !cJSON_IsString(film) || !film->valuestring[0])
        return fail(r->err, r->errlen, "%s: %s: \"film\" (the film's file) is missing", r->file, where);
    if (!(e->film = resolve(r, film->valuestring)))
        return fail(r->err, r->errlen, "out of memory");
    if (!is_file(e->film))
        return fail(r->err, r->errlen, "%s: %s: the film %s is not there", r->file, where, e->film);
    for (const cJSON *c = o->child; c; c = c->next) {
        const char *k = c->string;
        if (!strcmp(k, "film"))
            continue;
        if (!strcmp(k, "title")) {
            if (want_string(r, where, c, k, &e->title))
                return -1;
        } else if (!strcmp(k, "credits")) {
            if (want_string(r, where, c, k, &e->credits))
                return -1;
        } else if (!strcmp(k, "aigc")) {
            if (!cJSON_IsBool(c))
                return fail(r->err, r->errlen, "%s: %s: \"aigc\" must be true or false", r->file, where);
            e->aigc = cJSON_IsTrue(c);
        } else if (!strcmp(k, "record")) {
            char *rec = NULL;
            if (want_string(r, where, c, k, &rec))
                return -1;
            e->record = resolve(r, rec);
            free(rec);
            if (!e->record)
                return fail(r->err, r->errlen, "out of memory");
        } else if (!strcmp(k, "start")) {
            if (want_seconds(r, where, c, k, &e->start))
                return -1;
        } else if (!strcmp(k, "end")) {
            if (want_seconds(r, where, c, k, &e->end))
                return -1;
        } else if (!strcmp(k, "tracks")) {
            size_t n = 0;
            if (!cJSON_IsArray(c))
                return fail(r->err, r->errlen, "%s: %s: \"tracks\" must be a list", r->file, where);
            for (const cJSON *t = c->child; t; t = t->next, n++)
                if (read_track(r, where, e, t, n))
                    return -1;
        } else if (!strcmp(k, "subtitles")) {
            size_t n = 0;
            if (!cJSON_IsArray(c))
                return fail(r->err, r->errlen, "%s: %s: \"subtitles\" must be a list of files", r->file, where);
            for (const cJSON *t = c->child; t; t = t->next, n++) {
                char *path;
                int rc;
                if (!cJSON_IsString(t) || !t->valuestring[0])
                    return fail(r->err, r->errlen, "%s: %s: subtitles[%zu] must be a file name", r->file, where, n);
                if (!(path = resolve(r, t->valuestring)))
                    return fail(r->err, r->errlen, "out of memory");
                if (!is_file(path)) {
                    fail(r->err, r->errlen, "%s: %s: the subtitle file %s is not there", r->file, where, path);
                    free(path);
                    return -1;
                }
                rc = push_sub(e, path, r->err, r->errlen);
                free(path);
                if (rc)
                    return -1;
            }
        } else
            return fail(r->err, r->errlen, "%s: %s: unknown field \"%s\" (film, title, credits, aigc, tracks, "
                        "subtitles, record, start, end)", r->file, where, k);
    }
    if (e->end >= 0 && e->end <= e->start)
        return fail(r->err, r->errlen, "%s: %s: \"end\" (%g s) must come after \"start\" (%g s)", r->file, where,
                    e->end, e->start);
    if (!e->title) {
        stem(e->film, name, sizeof name);
        if (!(e->title = strdup(name)))
            return fail(r->err, r->errlen, "out of memory");
        e->title_from_name = 1;
    }
    return 0;
}

int dm_programme_load(dm_programme *p, const char *path, char *err, size_t errlen)
{
    reader r = { .file = path, .err = err, .errlen = errlen };
    const char *slash = strrchr(path, '/');
    FILE *f = fopen(path, "rb");
    const cJSON *films = NULL;
    char *buf;
    cJSON *root;
    long size;
    size_t n = 0;
    int rc = -1;

    if (slash)
        snprintf(r.dir, sizeof r.dir, "%.*s", (int)(slash - path), path);
    if (!f)
        return fail(err, errlen, "cannot read the programme %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        fclose(f);
        return fail(err, errlen, "cannot read the programme %s", path);
    }
    if (size > MAX_PROGRAMME_BYTES) {
        fclose(f);
        return fail(err, errlen, "%s: a programme of %ld bytes is too large (at most 4 MiB)", path, size);
    }
    buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        fclose(f);
        return fail(err, errlen, "cannot read the programme %s", path);
    }
    fclose(f);
    buf[size] = 0;
    root = cJSON_ParseWithLength(buf, (size_t)size);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long line = 1;
        for (const char *q = buf; at && q < at; q++)
            line += *q == '\n';
        fail(err, errlen, "%s: not JSON (line %ld)", path, line);
        free(buf);
        return -1;
    }
    free(buf);
    if (!cJSON_IsObject(root)) {
        fail(err, errlen, "%s: a programme is an object: {\"films\": [...]}", path);
        goto done;
    }
    for (const cJSON *c = root->child; c; c = c->next) {
        const char *k = c->string;
        if (!strcmp(k, "films"))
            films = c;
        else if (!strcmp(k, "title")) {
            if (want_string(&r, "the night", c, k, &p->title))
                goto done;
        } else if (!strcmp(k, "intermission")) {
            if (want_seconds(&r, "the night", c, k, &p->intermission_s))
                goto done;
        } else if (!strcmp(k, "card")) {
            if (want_string(&r, "the night", c, k, &p->card_text))
                goto done;
        } else if (!strcmp(k, "aigc_label")) {
            if (want_string(&r, "the night", c, k, &p->aigc_text))
                goto done;
        } else {
            fail(err, errlen, "%s: unknown field \"%s\" (title, intermission, card, aigc_label, films)", path, k);
            goto done;
        }
    }
    if (!films || !cJSON_IsArray(films) || !films->child) {
        fail(err, errlen, "%s: the programme has no films (\"films\": [{\"film\": \"...\"}, ...])", path);
        goto done;
    }
    for (const cJSON *e = films->child; e; e = e->next, n++)
        if (read_entry(&r, p, e, n))
            goto done;
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}
