/* format.c - track format names, detection by extension and by content, and
 * the dispatching readers dm_read_buffer / dm_read_file. */
#include "danmaku.h"

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
        { "json", DM_FORMAT_DANDANPLAY_JSON }, { "dandanplay", DM_FORMAT_DANDANPLAY_JSON },
        { "niconico", DM_FORMAT_NICONICO_JSON }, { "nico", DM_FORMAT_NICONICO_JSON },
        { "jsonl", DM_FORMAT_JSONL },          { "danmaku", DM_FORMAT_JSONL },
        { "ass", DM_FORMAT_ASS },
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
    return DM_FORMAT_UNKNOWN;  /* .json could be dandanplay or niconico: sniff */
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

dm_format dm_format_sniff(const char *buf, size_t len)
{
    size_t i = 0;

    if (!buf)
        return DM_FORMAT_UNKNOWN;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i >= len)
        return DM_FORMAT_UNKNOWN;
    buf += i;
    len -= i;
    if (len > SNIFF_BYTES)
        len = SNIFF_BYTES;
    if (buf[0] == '<')
        return DM_FORMAT_BILIBILI_XML;
    if (buf[0] == '[')
        return DM_FORMAT_NICONICO_JSON;
    if (buf[0] != '{')
        return DM_FORMAT_UNKNOWN;
    if (first_line_is_jsonl(buf, len))
        return DM_FORMAT_JSONL;
    if (contains(buf, len, "\"threads\"") || contains(buf, len, "\"vpos"))
        return DM_FORMAT_NICONICO_JSON;
    return DM_FORMAT_DANDANPLAY_JSON;
}

const char *dm_format_name(dm_format fmt)
{
    switch (fmt) {
    case DM_FORMAT_BILIBILI_XML: return "bilibili";
    case DM_FORMAT_DANDANPLAY_JSON: return "dandanplay";
    case DM_FORMAT_NICONICO_JSON: return "niconico";
    case DM_FORMAT_JSONL: return "jsonl";
    case DM_FORMAT_ASS: return "ass";
    default: return "unknown";
    }
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
    case DM_FORMAT_ASS:
        dm_diag_error(diag, "ASS can be written but not read as a comment track");
        return DM_EFORMAT;
    default:
        break;
    }
    if (len == 0) {
        dm_diag_error(diag, "the input is empty: no comment track in it");
        return DM_EFORMAT;
    }
    dm_diag_error(diag, "unknown track format (expected Bilibili XML, dandanplay or niconico "
                        "JSON, or JSONL)");
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
    int err;

    if (!track || !path) {
        dm_diag_error(diag, "dm_read_file: no track or no path");
        return DM_EINVAL;
    }
    err = slurp(path, &buf, &len, diag);
    if (err)
        return err;
    if (fmt == DM_FORMAT_UNKNOWN)
        fmt = dm_format_from_path(path);
    if (fmt == DM_FORMAT_UNKNOWN)
        fmt = dm_format_sniff(buf, len);
    if (fmt == DM_FORMAT_UNKNOWN) {
        dm_diag_error(diag, "%s: %s", path,
                      len ? "unknown track format (expected Bilibili XML, dandanplay or "
                            "niconico JSON, or JSONL)"
                          : "the file is empty: no comment track in it");
        free(buf);
        return DM_EFORMAT;
    }
    if (fmt == DM_FORMAT_JSONL && len == 0) {
        free(buf);
        return 0;  /* a recording that has not received a comment yet */
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
