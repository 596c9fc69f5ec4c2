/* format.c - track format names, detection by extension and by content, and
 * the dispatching readers dm_read_buffer / dm_read_file. */
#include "danmaku.h"
#include "read_protobuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

/* How far into a buffer sniffing looks: enough for a header line. */
#define SNIFF_BYTES 4096

dm_format dm_format_from_name(const char *name)
{
    static const struct {
        const char *name;
        dm_format fmt;
    } names[] = {
        { "xml", DM_FORMAT_BILIBILI_XML },     { "bilibili", DM_FORMAT_BILIBILI_XML },
        { "bililive", DM_FORMAT_BILIBILI_XML }, { "json", DM_FORMAT_DANDANPLAY_JSON },
        { "dandanplay", DM_FORMAT_DANDANPLAY_JSON },
        { "niconico", DM_FORMAT_NICONICO_JSON }, { "nico", DM_FORMAT_NICONICO_JSON },
        { "jsonl", DM_FORMAT_JSONL },          { "danmaku", DM_FORMAT_JSONL },
        { "ass", DM_FORMAT_ASS },
        { "protobuf", DM_FORMAT_BILIBILI_PROTOBUF }, { "pb", DM_FORMAT_BILIBILI_PROTOBUF },
        { "artplayer", DM_FORMAT_ARTPLAYER_JSON }, { "dplayer", DM_FORMAT_DPLAYER_JSON },
    };

    if (!name)
        return DM_FORMAT_UNKNOWN;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(name, names[i].name))
            return names[i].fmt;
    return DM_FORMAT_UNKNOWN;
}

dm_format dm_format_from_path(const char *path)
{
    const char *slash, *dot;

    if (!path)
        return DM_FORMAT_UNKNOWN;
    slash = strrchr(path, '/');
    dot = strrchr(slash ? slash : path, '.');
    if (!dot)
        return DM_FORMAT_UNKNOWN;
    dot++;
    if (!strcasecmp(dot, "xml"))
        return DM_FORMAT_BILIBILI_XML;
    if (!strcasecmp(dot, "jsonl") || !strcasecmp(dot, "ndjson"))
        return DM_FORMAT_JSONL;
    if (!strcasecmp(dot, "ass"))
        return DM_FORMAT_ASS;
    if (!strcasecmp(dot, "pb") || !strcasecmp(dot, "protobuf"))
        return DM_FORMAT_BILIBILI_PROTOBUF;
    return DM_FORMAT_UNKNOWN;  /* .json is one of several formats: the content decides */
}

const char *dm_format_list(void)
{
    return "Bilibili XML (and live recorders'), Bilibili protobuf, dandanplay JSON, niconico JSON, "
           "ArtPlayer JSON, DPlayer JSON, ASS, danmaku JSONL";
}

static int contains(const char *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(buf + i, needle, n))
            return 1;
    return 0;
}

/* 1 when the first line of buf is a JSON object that looks like a JSONL
 * header or comment line (it has "type" or "t_ms"). */
static int first_line_is_jsonl(const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    size_t n = nl ? (size_t)(nl - buf) : len;
    cJSON *obj = cJSON_ParseWithLength(buf, n);
    int yes = 0;

    if (cJSON_IsObject(obj))
        yes = cJSON_HasObjectItem(obj, "type") || cJSON_HasObjectItem(obj, "t_ms");
    cJSON_Delete(obj);
    return yes;
}

/* ---------------------------------------------------------------- JSON shape */

/*
 * Sniffing looks at the shape of a JSON document's beginning without
 * parsing all of it (a track may be hundreds of megabytes): the keys of its
 * first object, and the kind of its values. These skip one JSON token or
 * value within [p, end); NULL when the window ends first.
 */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;

    p = skip_ws(p, end);
    do {
        if (p >= end)
            return NULL;
        if (*p == '"') {
            p = skip_string(p, end);
            if (!p)
                return NULL;
            continue;
        }
        if (*p == '[' || *p == '{')
            depth++;
        else if (*p == ']' || *p == '}')
            depth--;
        else if (depth == 0 && (*p == ',' || *p == ':'))
            return p;
        p++;
    } while (depth > 0 || (p < end && *p != ',' && *p != ']' && *p != '}' && *p != ' ' && *p != '\n' &&
                           *p != '\r' && *p != '\t'));
    return p;
}

/* The keys of the object at p (up to `cap`), each with the first byte of its value. */
typedef struct json_keys {
    char name[16][24];        /* keys, cut to 23 bytes */
    char value[16];           /* first byte of each value: '"', '[', '{', a digit... */
    int n;
} json_keys;

static void object_keys(const char *p, const char *end, json_keys *k)
{
    k->n = 0;
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return;
    for (p++; k->n < 16;) {
        const char *key, *q;
        size_t n;
        p = skip_ws(p, end);
        if (p >= end || *p != '"')
            return;
        key = p + 1;
        q = skip_string(p, end);
        if (!q)
            return;
        n = (size_t)(q - 1 - key);
        if (n >= sizeof k->name[0])
            n = sizeof k->name[0] - 1;
        memcpy(k->name[k->n], key, n);
        k->name[k->n][n] = 0;
        p = skip_ws(q, end);
        if (p >= end || *p != ':')
            return;
        p = skip_ws(p + 1, end);
        if (p >= end)
            return;
        k->value[k->n++] = *p;
        p = skip_value(p, end);
        if (!p)
            return;
        p = skip_ws(p, end);
        if (p >= end || *p != ',')
            return;
        p++;
    }
}

/* The first byte of key's value, 0 when the object has no such key. */
static char key_value(const json_keys *k, const char *key)
{
    for (int i = 0; i < k->n; i++)
        if (!strcmp(k->name[i], key))
            return k->value[i];
    return 0;
}

/* The value of key in the object at p: where it starts, NULL when not found in the window. */
static const char *find_value(const char *p, const char *end, const char *key)
{
    size_t n = strlen(key);

    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return NULL;
    for (p++;;) {
        const char *k, *q;
        p = skip_ws(p, end);
        if (p >= end || *p != '"')
            return NULL;
        k = p + 1;
        q = skip_string(p, end);
        if (!q)
            return NULL;
        p = skip_ws(q, end);
        if (p >= end || *p != ':')
            return NULL;
        p = skip_ws(p + 1, end);
        if ((size_t)(q - 1 - k) == n && !memcmp(k, key, n))
            return p;
        p = skip_value(p, end);
        if (!p)
            return NULL;
        p = skip_ws(p, end);
        if (p >= end || *p != ',')
            return NULL;
        p++;
    }
}

static int is_niconico_item(const json_keys *k)
{
    static const char *const keys[] = { "vpos", "vposMs", "chat", "thread", "ping", "leaf", "global_num_res" };

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (key_value(k, keys[i]))
            return 1;
    return 0;
}

/* A JSON array: its first element says whose track it is. */
static dm_format sniff_json_array(const char *p, const char *end)
{
    json_keys k;

    p = skip_ws(p + 1, end);
    if (p >= end)
        return DM_FORMAT_UNKNOWN;
    if (*p == ']')
        return DM_FORMAT_ARTPLAYER_JSON;   /* an empty list: no comments, whoever wrote it */
    if (*p == '[')
        return DM_FORMAT_DPLAYER_JSON;     /* DPlayer's data without its envelope: [[time, type, ...]] */
    if (*p != '{')
        return DM_FORMAT_UNKNOWN;
    object_keys(p, end, &k);
    if (is_niconico_item(&k))
        return DM_FORMAT_NICONICO_JSON;
    if (key_value(&k, "text") && (key_value(&k, "time") || key_value(&k, "mode") || key_value(&k, "color") ||
                                  key_value(&k, "border")))
        return DM_FORMAT_ARTPLAYER_JSON;
    if (key_value(&k, "text") && key_value(&k, "type") && key_value(&k, "author"))
        return DM_FORMAT_DPLAYER_JSON;    /* the older API's objects, listed bare */
    return DM_FORMAT_UNKNOWN;
}

/* A JSON object: the keys around its comments say whose. */
static dm_format sniff_json_object(const char *p, const char *end)
{
    json_keys k;
    char v;

    object_keys(p, end, &k);
    if (key_value(&k, "comments") == '[')
        return DM_FORMAT_DANDANPLAY_JSON;
    if (key_value(&k, "threads"))
        return DM_FORMAT_NICONICO_JSON;
    v = key_value(&k, "data");
    if (v == '[')
        return DM_FORMAT_DPLAYER_JSON;
    if (v == '{') {
        json_keys d;
        object_keys(find_value(p, end, "data"), end, &d);
        if (key_value(&d, "threads"))
            return DM_FORMAT_NICONICO_JSON;   /* niconico's v1 API: {meta, data: {threads: [...]}} */
    }
    if (key_value(&k, "danmaku") == '[')
        return DM_FORMAT_DPLAYER_JSON;    /* DPlayer's first API: {code, danmaku: [{...}]} */
    /* the keys ran past the window: the old guesses by content */
    if (k.n == 0 || !key_value(&k, "comments")) {
        size_t len = (size_t)(end - p);
        if (contains(p, len, "\"threads\"") || contains(p, len, "\"vpos"))
            return DM_FORMAT_NICONICO_JSON;
        if (contains(p, len, "\"comments\""))
            return DM_FORMAT_DANDANPLAY_JSON;
    }
    return DM_FORMAT_UNKNOWN;
}

/* 1 when buf begins with "[Script Info]" (ASS and SSA), any case. */
static int is_ass(const char *buf, size_t len)
{
    return len >= 13 && !strncasecmp(buf, "[Script Info]", 13);
}

dm_format dm_format_sniff(const char *buf, size_t len)
{
    size_t i = 0;
    const char *p, *end;
    dm_format f = DM_FORMAT_UNKNOWN;

    if (!buf || !len)
        return DM_FORMAT_UNKNOWN;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    p = buf + i;
    end = p + (len - i > SNIFF_BYTES ? SNIFF_BYTES : len - i);
    if (p < end && *p == '<')
        return DM_FORMAT_BILIBILI_XML;
    if (is_ass(p, (size_t)(end - p)))
        return DM_FORMAT_ASS;
    if (p < end && *p == '[')
        f = sniff_json_array(p, end);
    else if (p < end && *p == '{')
        f = first_line_is_jsonl(p, (size_t)(end - p)) ? DM_FORMAT_JSONL : sniff_json_object(p, end);
    if (f == DM_FORMAT_UNKNOWN && dm_protobuf_sniff(buf, len))
        f = DM_FORMAT_BILIBILI_PROTOBUF;
    return f;
}

const char *dm_format_name(dm_format fmt)
{
    switch (fmt) {
    case DM_FORMAT_BILIBILI_XML: return "bilibili";
    case DM_FORMAT_DANDANPLAY_JSON: return "dandanplay";
    case DM_FORMAT_NICONICO_JSON: return "niconico";
    case DM_FORMAT_JSONL: return "jsonl";
    case DM_FORMAT_ASS: return "ass";
    case DM_FORMAT_BILIBILI_PROTOBUF: return "protobuf";
    case DM_FORMAT_ARTPLAYER_JSON: return "artplayer";
    case DM_FORMAT_DPLAYER_JSON: return "dplayer";
    default: return "unknown";
    }
}

/* A sentence for input no reader recognises. */
static void not_a_track(dm_diag *diag, const char *what, size_t len)
{
    if (len == 0)
        dm_diag_error(diag, "%s is empty: no comment track in it", what);
    else
        dm_diag_error(diag, "%s is not a comment track: tried %s", what, dm_format_list());
}

int dm_read_buffer(dm_track *track, const char *buf, size_t len, dm_format fmt, dm_diag *diag)
{
    if (!track || (!buf && len)) {
        dm_diag_error(diag, "dm_read_buffer: no track or no buffer");
        return DM_EINVAL;
    }
    if (!buf)
        buf = "";
    if (fmt == DM_FORMAT_UNKNOWN)
        fmt = dm_format_sniff(buf, len);
    switch (fmt) {
    case DM_FORMAT_BILIBILI_XML: return dm_read_bilibili_xml(track, buf, len, diag);
    case DM_FORMAT_DANDANPLAY_JSON: return dm_read_dandanplay_json(track, buf, len, diag);
    case DM_FORMAT_NICONICO_JSON: return dm_read_niconico_json(track, buf, len, diag);
    case DM_FORMAT_JSONL: return dm_read_jsonl(track, buf, len, diag);
    case DM_FORMAT_ASS: return dm_read_ass(track, buf, len, diag);
    case DM_FORMAT_BILIBILI_PROTOBUF: return dm_read_bilibili_protobuf(track, buf, len, diag);
    case DM_FORMAT_ARTPLAYER_JSON: return dm_read_artplayer_json(track, buf, len, diag);
    case DM_FORMAT_DPLAYER_JSON: return dm_read_dplayer_json(track, buf, len, diag);
    default:
        break;
    }
    not_a_track(diag, "the input", len);
    return DM_EFORMAT;
}

/* Read the whole of `path` into a malloc'd buffer, capped at
 * DM_TRACK_MAX_BYTES. */
static int slurp(const char *path, char **out, size_t *out_len, dm_diag *diag)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (!f) {
        dm_diag_error(diag, "%s: cannot open: %s", path, strerror(errno));
        return DM_EIO;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        if ((unsigned long long)st.st_size > DM_TRACK_MAX_BYTES) {
            dm_diag_error(diag, "%s: %lld bytes, over the %u byte limit of a track", path,
                          (long long)st.st_size, DM_TRACK_MAX_BYTES);
            fclose(f);
            return DM_ETOOBIG;
        }
        cap = (size_t)st.st_size + 2;  /* room to see EOF without growing */
        buf = malloc(cap);
        if (!buf) {
            dm_diag_error(diag, "%s: out of memory reading the file", path);
            fclose(f);
            return DM_ENOMEM;
        }
    }
    /* Grow as we go: pipes and special files report no size. */
    for (;;) {
        if (len + 1 >= cap) {
            size_t ncap = cap < 65536 ? 65536 : cap * 2;
            char *nbuf;
            if (ncap > (size_t)DM_TRACK_MAX_BYTES + 2)
                ncap = (size_t)DM_TRACK_MAX_BYTES + 2;
            nbuf = realloc(buf, ncap);
            if (!nbuf) {
                dm_diag_error(diag, "%s: out of memory reading the file", path);
                free(buf);
                fclose(f);
                return DM_ENOMEM;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len > DM_TRACK_MAX_BYTES) {
            dm_diag_error(diag, "%s: over the %u byte limit of a track", path, DM_TRACK_MAX_BYTES);
            free(buf);
            fclose(f);
            return DM_ETOOBIG;
        }
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        dm_diag_error(diag, "%s: read error: %s", path, strerror(errno));
        free(buf);
        fclose(f);
        return DM_EIO;
    }
    fclose(f);
    if (!buf) {
        buf = malloc(1);
        if (!buf)
            return DM_ENOMEM;
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    return 0;
}

int dm_read_file(dm_track *track, const char *path, dm_format fmt, dm_diag *diag)
{
    char *buf = NULL;
    size_t len = 0;
    int err, explicit = fmt != DM_FORMAT_UNKNOWN;
    dm_format by_name, by_content;

    if (!track || !path) {
        dm_diag_error(diag, "dm_read_file: no track or no path");
        return DM_EINVAL;
    }
    err = slurp(path, &buf, &len, diag);
    if (err)
        return err;
    by_name = dm_format_from_path(path);
    by_content = explicit ? DM_FORMAT_UNKNOWN : dm_format_sniff(buf, len);
    if (!explicit) {
        /* the content decides; the extension speaks only when the content says nothing */
        fmt = by_content != DM_FORMAT_UNKNOWN ? by_content : by_name;
        if (by_name != DM_FORMAT_UNKNOWN && by_content != DM_FORMAT_UNKNOWN && by_name != by_content)
            dm_diag_warn(diag, "%s: named like %s but holds %s; read as %s", path, dm_format_name(by_name),
                         dm_format_name(by_content), dm_format_name(by_content));
    }
    if (fmt == DM_FORMAT_UNKNOWN) {
        not_a_track(diag, path, len);
        free(buf);
        return DM_EFORMAT;
    }
    if (len == 0 && (fmt == DM_FORMAT_JSONL || fmt == DM_FORMAT_BILIBILI_PROTOBUF)) {
        /* a recording that has not received a comment yet; a segment with none */
        if (fmt == DM_FORMAT_BILIBILI_PROTOBUF)
            dm_diag_warn(diag, "%s: an empty protobuf segment: no comments in it", path);
        free(buf);
        return 0;
    }
    {
        dm_diag sub = { .warn = diag ? diag->warn : NULL, .warn_ud = diag ? diag->warn_ud : NULL };
        err = dm_read_buffer(track, buf, len, fmt, &sub);
        if (diag) {
            diag->warnings += sub.warnings;
            if (err)
                dm_diag_error(diag, "%s: %s", path, sub.error[0] ? sub.error : dm_strerror(err));
        }
    }
    free(buf);
    return err;
}

int dm_read_track_file(dm_track *track, const dm_track_file *file, dm_diag *diag)
{
    size_t first;
    int err;

    if (!track || !file || !file->path) {
        dm_diag_error(diag, "dm_read_track_file: no track or no file");
        return DM_EINVAL;
    }
    first = track->count;
    err = dm_read_file(track, file->path, file->format, diag);
    /* the offset belongs to this file's comments only, those read before an error included */
    for (size_t i = first; i < track->count; i++)
        track->items[i].t_ms += file->offset_ms;
    return err;
}
