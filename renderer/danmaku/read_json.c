/* read_json.c - readers of the JSON comment tracks of other players:
 * dandanplay ({count, comments:[{cid, p, m}]}) and niconico (arrays of
 * {vpos, content, mail}, the older {"chat":{...}} wrapping, and the v1 API's
 * {data:{threads:[{comments:[...]}]}}), on cJSON. */
#include "danmaku.h"
#include "internal_text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Times past this (about 115 days) are corrupt, not film times. */
#define MAX_TIME_MS 1e10

/* Parse the whole buffer; DM_EPARSE with line and column on failure. */
static int parse_document(const char *buf, size_t len, const char *what, cJSON **out,
                          dm_diag *diag)
{
    const char *end = NULL;
    cJSON *root;

    if (!buf)
        buf = "";
    if (len > DM_TRACK_MAX_BYTES) {
        dm_diag_error(diag, "input of %zu bytes is over the track size limit", len);
        return DM_ETOOBIG;
    }
    root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root) {
        unsigned long line, col;
        size_t off = end && end >= buf ? (size_t)(end - buf) : 0;
        dm_text_line_col(buf, len, off, &line, &col);
        if (off >= len || len == 0)
            dm_diag_error(diag, "%s: line %lu, column %lu (byte %zu): invalid JSON, the input "
                          "ends too early", what, line, col, off);
        else
            dm_diag_error(diag, "%s: line %lu, column %lu (byte %zu): invalid JSON", what, line,
                          col, off);
        return DM_EPARSE;
    }
    *out = root;
    return 0;
}

/* A number, or a string holding one. */
static int json_double(const cJSON *item, double *v)
{
    char *end;

    if (cJSON_IsNumber(item)) {
        *v = item->valuedouble;
        return isfinite(*v) ? 0 : -1;
    }
    if (!cJSON_IsString(item) || !item->valuestring[0])
        return -1;
    errno = 0;
    *v = strtod(item->valuestring, &end);
    return *end || errno == ERANGE || !isfinite(*v) ? -1 : 0;
}

/* An id given as a string or a number, as a string in buf (NULL if none). */
static const char *json_id(const cJSON *item, char *buf, size_t size)
{
    if (cJSON_IsString(item))
        return item->valuestring[0] ? item->valuestring : NULL;
    if (cJSON_IsNumber(item) && isfinite(item->valuedouble) && fabs(item->valuedouble) < 1e18) {
        snprintf(buf, size, "%.0f", item->valuedouble);
        return buf;
    }
    return NULL;
}

/* Push a comment whose text is a cJSON string item (none: a malformed comment). */
static int push_json_text(dm_track *track, dm_comment *c, const cJSON *text, dm_diag *diag,
                          const char *where)
{
    if (!cJSON_IsString(text))
        return dm_push_rejected(track, c, DM_REASON_MALFORMED, NULL, 0, diag, where, "no text");
    return dm_push_comment(track, c, text->valuestring, strlen(text->valuestring), diag, where);
}

/* A comment the reader cannot read: kept, with its text when it has one, so that it is accounted for. */
static int push_bad(dm_track *track, dm_comment *c, int reason, const cJSON *text, dm_diag *diag,
                    const char *where, const char *why)
{
    const char *s = cJSON_IsString(text) ? text->valuestring : NULL;

    return dm_push_rejected(track, c, reason, s, s ? strlen(s) : 0, diag, where, why);
}

/* ---------------------------------------------------------------- dandanplay */

/* One dandanplay comment: p = "time,mode,color,uid", m = text. */
static int read_dandanplay_comment(dm_track *track, const cJSON *item, size_t index,
                                   dm_diag *diag)
{
    char where[64], idbuf[32], p[256], *f[4], *end, why[96];
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(item, "p");
    const cJSON *jm = cJSON_GetObjectItemCaseSensitive(item, "m");
    dm_comment c = { .size = DM_SIZE_NORMAL, .color = 0xFFFFFF, .weight = -1, .count = 1 };
    double t;
    long mode;
    long long color;
    int n = 0;

    c.id = (char *)json_id(cJSON_GetObjectItemCaseSensitive(item, "cid"), idbuf, sizeof idbuf);
    snprintf(where, sizeof where, "comment %zu%s%.20s%s", index, c.id ? " (cid " : "",
             c.id ? c.id : "", c.id ? ")" : "");
    if (!cJSON_IsObject(item) || !cJSON_IsString(jp))
        return push_bad(track, &c, DM_REASON_MALFORMED, jm, diag, where, "not an object with a \"p\" string");
    snprintf(p, sizeof p, "%s", jp->valuestring);
    f[n++] = p;
    for (char *s = p; *s && n < 4; s++) {
        if (*s == ',') {
            *s = 0;
            f[n++] = s + 1;
        }
    }
    if (n < 3) {
        snprintf(why, sizeof why, "malformed p \"%.40s\": expected time,mode,color[,uid]", jp->valuestring);
        return push_bad(track, &c, DM_REASON_MALFORMED, jm, diag, where, why);
    }
    errno = 0;
    t = strtod(f[0], &end);
    if (end == f[0] || *end || errno == ERANGE || !isfinite(t) || t < 0 ||
        t * 1000.0 > MAX_TIME_MS) {
        snprintf(why, sizeof why, "malformed p: bad time \"%.20s\"", f[0]);
        return push_bad(track, &c, DM_REASON_MALFORMED, jm, diag, where, why);
    }
    c.t_ms = llround(t * 1000.0);
    mode = strtol(f[1], &end, 10);
    if (end == f[1] || *end) {
        snprintf(why, sizeof why, "malformed p: bad mode \"%.20s\"", f[1]);
        return push_bad(track, &c, DM_REASON_MALFORMED, jm, diag, where, why);
    }
    switch (mode) {
    case 1: case 2: case 3: c.mode = DM_MODE_SCROLL; break;
    case 4: c.mode = DM_MODE_BOTTOM; break;
    case 5: c.mode = DM_MODE_TOP; break;
    case 6: c.mode = DM_MODE_REVERSE; break;
    default:
        /* 7 (positioned) and 8 (script) carry no data to draw them with in this format */
        snprintf(why, sizeof why, "mode %ld, which dandanplay JSON gives no means to draw", mode);
        return push_bad(track, &c, DM_REASON_UNSUPPORTED, jm, diag, where, why);
    }
    errno = 0;
    color = strtoll(f[2], &end, 10);
    if (end == f[2] || *end || errno == ERANGE || color < 0 || color > 0xFFFFFF) {
        snprintf(why, sizeof why, "malformed p: bad color \"%.20s\"", f[2]);
        return push_bad(track, &c, DM_REASON_MALFORMED, jm, diag, where, why);
    }
    c.color = (uint32_t)color;
    c.author = n > 3 && f[3][0] ? f[3] : NULL;
    return push_json_text(track, &c, jm, diag, where);
}

int dm_read_dandanplay_json(dm_track *track, const char *buf, size_t len, dm_diag *diag)
{
    cJSON *root = NULL;
    const cJSON *comments, *item;
    size_t index = 0;
    int err;

    if (!track) {
        dm_diag_error(diag, "dm_read_dandanplay_json: no track");
        return DM_EINVAL;
    }
    err = parse_document(buf, len, "dandanplay JSON", &root, diag);
    if (err)
        return err;
    comments = cJSON_GetObjectItemCaseSensitive(root, "comments");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(comments)) {
        dm_diag_error(diag, "dandanplay JSON: expected an object with a \"comments\" array");
        cJSON_Delete(root);
        return DM_EPARSE;
    }
    cJSON_ArrayForEach(item, comments) {
        err = read_dandanplay_comment(track, item, index++, diag);
        if (err) {
            dm_diag_error(diag, "dandanplay JSON: %s", dm_strerror(err));
            break;
        }
    }
    cJSON_Delete(root);
    return err;
}

/* ---------------------------------------------------------------- niconico */

static const struct {
    const char *name;
    uint32_t rgb;
} nico_colors[] = {
    /* everyone */
    { "white", 0xFFFFFF }, { "red", 0xFF0000 }, { "pink", 0xFF8080 },
    { "orange", 0xFFC000 }, { "yellow", 0xFFFF00 }, { "green", 0x00FF00 },
    { "cyan", 0x00FFFF }, { "blue", 0x0000FF }, { "purple", 0xC000FF },
    { "black", 0x000000 },
    /* premium members */
    { "white2", 0xCCCC99 }, { "niconicowhite", 0xCCCC99 }, { "red2", 0xCC0033 },
    { "truered", 0xCC0033 }, { "pink2", 0xFF33CC }, { "orange2", 0xFF6600 },
    { "passionorange", 0xFF6600 }, { "yellow2", 0x999900 }, { "madyellow", 0x999900 },
    { "green2", 0x00CC66 }, { "elementalgreen", 0x00CC66 }, { "cyan2", 0x00CCCC },
    { "blue2", 0x3399FF }, { "marineblue", 0x3399FF }, { "purple2", 0x6633CC },
    { "nobleviolet", 0x6633CC }, { "black2", 0x666666 },
};

/* Apply one niconico command ("ue", "big", "red", "#00ff00"...); others,
 * such as "184" (anonymous) or "device:Switch", do not change the look. */
static void apply_nico_command(dm_comment *c, const char *cmd)
{
    if (!strcmp(cmd, "ue")) {
        c->mode = DM_MODE_TOP;
    } else if (!strcmp(cmd, "shita")) {
        c->mode = DM_MODE_BOTTOM;
    } else if (!strcmp(cmd, "naka")) {
        c->mode = DM_MODE_SCROLL;
    } else if (!strcmp(cmd, "big")) {
        c->size = DM_SIZE_LARGE;
    } else if (!strcmp(cmd, "small")) {
        c->size = DM_SIZE_SMALL;
    } else if (!strcmp(cmd, "medium")) {
        c->size = DM_SIZE_NORMAL;
    } else if (cmd[0] == '#' && strlen(cmd) == 7) {
        char *end;
        unsigned long rgb = strtoul(cmd + 1, &end, 16);
        if (!*end && cmd[1] != '-' && cmd[1] != '+')
            c->color = (uint32_t)rgb;
    } else {
        for (size_t i = 0; i < sizeof nico_colors / sizeof nico_colors[0]; i++) {
            if (!strcmp(cmd, nico_colors[i].name)) {
                c->color = nico_colors[i].rgb;
                break;
            }
        }
    }
}

/* Commands come as an array of strings or as one space-separated string. */
static void apply_nico_mail(dm_comment *c, const cJSON *mail)
{
    const cJSON *cmd;

    if (cJSON_IsArray(mail)) {
        cJSON_ArrayForEach(cmd, mail) {
            if (cJSON_IsString(cmd))
                apply_nico_command(c, cmd->valuestring);
        }
    } else if (cJSON_IsString(mail)) {
        char word[64];
        const char *s = mail->valuestring;
        while (*s) {
            size_t n = strcspn(s, " \t");
            if (n && n < sizeof word) {
                memcpy(word, s, n);
                word[n] = 0;
                apply_nico_command(c, word);
            }
            s += n;
            s += strspn(s, " \t");
        }
    }
}

static int read_nico_comment(dm_track *track, const cJSON *item, size_t index, dm_diag *diag)
{
    char where[64], idbuf[32], authorbuf[32];
    dm_comment c = { .size = DM_SIZE_NORMAL, .color = 0xFFFFFF, .weight = -1, .count = 1 };
    const cJSON *chat = cJSON_GetObjectItemCaseSensitive(item, "chat");
    const cJSON *text, *vpos, *v;
    double t, scale = 10.0;

    if (cJSON_IsObject(chat))
        item = chat;  /* the older {"chat": {...}} wrapping */
    c.id = (char *)json_id(cJSON_GetObjectItemCaseSensitive(item, "id"), idbuf, sizeof idbuf);
    if (!c.id)
        c.id = (char *)json_id(cJSON_GetObjectItemCaseSensitive(item, "no"), idbuf, sizeof idbuf);
    snprintf(where, sizeof where, "comment %zu%s%.20s%s", index, c.id ? " (id " : "",
             c.id ? c.id : "", c.id ? ")" : "");
    if (!cJSON_IsObject(item))
        return dm_push_rejected(track, &c, DM_REASON_MALFORMED, NULL, 0, diag, where, "not an object");
    text = cJSON_GetObjectItemCaseSensitive(item, "content");
    if (!text)
        text = cJSON_GetObjectItemCaseSensitive(item, "body");
    vpos = cJSON_GetObjectItemCaseSensitive(item, "vpos");
    if (!vpos) {
        vpos = cJSON_GetObjectItemCaseSensitive(item, "vposMs");  /* v1 API */
        scale = 1.0;
    }
    if (json_double(vpos, &t) || t < 0 || t * scale > MAX_TIME_MS)
        return push_bad(track, &c, DM_REASON_MALFORMED, text, diag, where, "missing or bad vpos");
    c.t_ms = llround(t * scale);
    v = cJSON_GetObjectItemCaseSensitive(item, "mail");
    apply_nico_mail(&c, v ? v : cJSON_GetObjectItemCaseSensitive(item, "commands"));
    c.author = (char *)json_id(cJSON_GetObjectItemCaseSensitive(item, "user_id"), authorbuf,
                               sizeof authorbuf);
    if (!c.author)
        c.author = (char *)json_id(cJSON_GetObjectItemCaseSensitive(item, "userId"), authorbuf,
                                   sizeof authorbuf);
    v = cJSON_GetObjectItemCaseSensitive(item, "date");
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15)
        c.sent = (int64_t)v->valuedouble;
    v = cJSON_GetObjectItemCaseSensitive(item, "deleted");
    c.deleted = (cJSON_IsNumber(v) && v->valuedouble != 0) || cJSON_IsTrue(v) ? DM_DELETED_BEFORE : 0;
    return push_json_text(track, &c, text, diag, where);
}

static int read_nico_array(dm_track *track, const cJSON *array, size_t *index, dm_diag *diag)
{
    const cJSON *item;

    cJSON_ArrayForEach(item, array) {
        int err;
        /* Entries without a comment (thread headers, "leaf" counters) are
         * part of the format, not errors. */
        if (cJSON_IsObject(item) && !cJSON_GetObjectItemCaseSensitive(item, "chat") &&
            !cJSON_GetObjectItemCaseSensitive(item, "vpos") &&
            !cJSON_GetObjectItemCaseSensitive(item, "vposMs"))
            continue;
        err = read_nico_comment(track, item, (*index)++, diag);
        if (err)
            return err;
    }
    return 0;
}

int dm_read_niconico_json(dm_track *track, const char *buf, size_t len, dm_diag *diag)
{
    cJSON *root = NULL;
    size_t index = 0;
    int err;

    if (!track) {
        dm_diag_error(diag, "dm_read_niconico_json: no track");
        return DM_EINVAL;
    }
    err = parse_document(buf, len, "niconico JSON", &root, diag);
    if (err)
        return err;
    if (cJSON_IsArray(root)) {
        err = read_nico_array(track, root, &index, diag);
    } else {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
        const cJSON *threads = cJSON_GetObjectItemCaseSensitive(data, "threads");
        const cJSON *thread;
        if (!cJSON_IsArray(threads)) {
            dm_diag_error(diag, "niconico JSON: expected an array of comments or an object "
                                "with data.threads");
            cJSON_Delete(root);
            return DM_EPARSE;
        }
        cJSON_ArrayForEach(thread, threads) {
            err = read_nico_array(track, cJSON_GetObjectItemCaseSensitive(thread, "comments"),
                                  &index, diag);
            if (err)
                break;
        }
    }
    if (err)
        dm_diag_error(diag, "niconico JSON: %s", dm_strerror(err));
    cJSON_Delete(root);
    return err;
}

/* ---------------------------------------------------------------- colours */

/* "#RGB", "#RRGGBB" (CSS, as ArtPlayer and DPlayer take them), "rgb(r,g,b)" or a decimal number. */
static int css_color(const cJSON *item, uint32_t *rgb)
{
    const char *s;
    char *end;
    unsigned long v;
    size_t n;

    if (cJSON_IsNumber(item)) {
        if (!(item->valuedouble >= 0 && item->valuedouble <= 0xFFFFFF) ||
            item->valuedouble != floor(item->valuedouble))
            return -1;
        *rgb = (uint32_t)item->valuedouble;
        return 0;
    }
    if (!cJSON_IsString(item))
        return -1;
    s = item->valuestring;
    while (*s == ' ')
        s++;
    if (!strncmp(s, "rgb(", 4)) {
        unsigned r, g, b;
        int used = 0;
        if (sscanf(s, "rgb(%u,%u,%u)%n", &r, &g, &b, &used) != 3 || !used || r > 255 || g > 255 || b > 255)
            return -1;
        *rgb = (r << 16) | (g << 8) | b;
        return 0;
    }
    if (*s != '#') {
        /* DPlayer writes colours as decimal numbers, sometimes inside strings */
        if (json_double(item, &(double){ 0 }))
            return -1;
        v = strtoul(s, &end, 10);
        if (*end || v > 0xFFFFFF)
            return -1;
        *rgb = (uint32_t)v;
        return 0;
    }
    n = strlen(s + 1);
    if ((n != 3 && n != 6) || s[1] == '-' || s[1] == '+')
        return -1;
    v = strtoul(s + 1, &end, 16);
    if (*end)
        return -1;
    if (n == 3)   /* #abc is #aabbcc */
        v = ((v & 0xF00) << 12 | (v & 0xF00) << 8) | ((v & 0x0F0) << 8 | (v & 0x0F0) << 4) |
            ((v & 0x00F) << 4 | (v & 0x00F));
    *rgb = (uint32_t)v;
    return 0;
}

/* ---------------------------------------------------------------- ArtPlayer */

/*
 * ArtPlayer's danmuku plugin: {text, time (s), mode, color, border, style}.
 * mode: 0 scroll, 1 top, 2 bottom (v5); 0 scroll, 1 "static" (top, v4);
 * "scroll", "static", "top", "bottom" (v3). border marks the viewer's own
 * comments and style is CSS: neither changes where a comment goes.
 */
static int artplayer_mode(const cJSON *m, dm_mode *mode)
{
    static const struct {
        const char *name;
        dm_mode mode;
    } names[] = { { "scroll", DM_MODE_SCROLL }, { "static", DM_MODE_TOP }, { "top", DM_MODE_TOP },
                  { "bottom", DM_MODE_BOTTOM } };
    double v;

    *mode = DM_MODE_SCROLL;
    if (!m || cJSON_IsNull(m))
        return 0;
    if (cJSON_IsString(m)) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (!strcmp(m->valuestring, names[i].name)) {
                *mode = names[i].mode;
                return 0;
            }
        }
    }
    if (json_double(m, &v) || (v != 0 && v != 1 && v != 2))
        return -1;
    *mode = v == 0 ? DM_MODE_SCROLL : v == 1 ? DM_MODE_TOP : DM_MODE_BOTTOM;
    return 0;
}

static int read_artplayer_comment(dm_track *track, const cJSON *item, size_t index, size_t *bad_colors,
                                  dm_diag *diag)
{
    char where[64], idbuf[32];
    dm_comment c = { .size = DM_SIZE_NORMAL, .color = 0xFFFFFF, .weight = -1, .count = 1 };
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(item, "text"), *color;
    double t;

    c.id = (char *)json_id(cJSON_GetObjectItemCaseSensitive(item, "id"), idbuf, sizeof idbuf);
    snprintf(where, sizeof where, "comment %zu%s%.20s%s", index, c.id ? " (id " : "", c.id ? c.id : "",
             c.id ? ")" : "");
    if (!cJSON_IsObject(item))
        return dm_push_rejected(track, &c, DM_REASON_MALFORMED, NULL, 0, diag, where, "not an object");
    if (json_double(cJSON_GetObjectItemCaseSensitive(item, "time"), &t) || t < 0 || t * 1000.0 > MAX_TIME_MS)
        return push_bad(track, &c, DM_REASON_MALFORMED, text, diag, where, "missing or bad \"time\" (seconds)");
    c.t_ms = llround(t * 1000.0);
    if (artplayer_mode(cJSON_GetObjectItemCaseSensitive(item, "mode"), &c.mode))
        return push_bad(track, &c, DM_REASON_MALFORMED, text, diag, where,
                        "unknown \"mode\" (0 scroll, 1 top, 2 bottom)");
    color = cJSON_GetObjectItemCaseSensitive(item, "color");
    if (color && !cJSON_IsNull(color) && css_color(color, &c.color)) {
        c.color = 0xFFFFFF;
        (*bad_colors)++;
    }
    return push_json_text(track, &c, text, diag, where);
}

int dm_read_artplayer_json(dm_track *track, const char *buf, size_t len, dm_diag *diag)
{
    cJSON *root = NULL;
    const cJSON *item;
    size_t index = 0, bad_colors = 0;
    int err;

    if (!track) {
        dm_diag_error(diag, "dm_read_artplayer_json: no track");
        return DM_EINVAL;
    }
    err = parse_document(buf, len, "ArtPlayer JSON", &root, diag);
    if (err)
        return err;
    if (!cJSON_IsArray(root)) {
        dm_diag_error(diag, "ArtPlayer JSON: expected an array of {text, time, mode, color}");
        cJSON_Delete(root);
        return DM_EPARSE;
    }
    if (!cJSON_GetArraySize(root))
        dm_diag_warn(diag, "an empty JSON array: no comments in it");
    cJSON_ArrayForEach(item, root) {
        err = read_artplayer_comment(track, item, index++, &bad_colors, diag);
        if (err) {
            dm_diag_error(diag, "ArtPlayer JSON: %s", dm_strerror(err));
            break;
        }
    }
    if (bad_colors)
        dm_diag_warn(diag, "%zu comment%s had no valid colour; shown in white", bad_colors, bad_colors == 1 ? "" : "s");
    cJSON_Delete(root);
    return err;
}

/* ---------------------------------------------------------------- DPlayer */

/*
 * DPlayer's API: {"code": 0, "data": [[time, type, color, author, text], ...]}
 * (DPlayer 1.2x and its backends), the first API's {"code": 1, "danmaku":
 * [{time, type, color, author, text}]}, and the data array alone. type: 0
 * right (scrolling), 1 top, 2 bottom, or those words; color a decimal RGB
 * number or "#rrggbb".
 */
static int dplayer_mode(const cJSON *m, dm_mode *mode)
{
    double v;

    *mode = DM_MODE_SCROLL;
    if (!m)
        return 0;
    if (cJSON_IsString(m)) {
        if (!strcmp(m->valuestring, "right") || !strcmp(m->valuestring, "scroll"))
            return 0;
        if (!strcmp(m->valuestring, "top") || !strcmp(m->valuestring, "bottom")) {
            *mode = m->valuestring[0] == 't' ? DM_MODE_TOP : DM_MODE_BOTTOM;
            return 0;
        }
    }
    if (json_double(m, &v) || (v != 0 && v != 1 && v != 2))
        return -1;
    *mode = v == 0 ? DM_MODE_SCROLL : v == 1 ? DM_MODE_TOP : DM_MODE_BOTTOM;
    return 0;
}

static int read_dplayer_comment(dm_track *track, const cJSON *item, size_t index, size_t *bad_colors,
                                dm_diag *diag)
{
    char where[64], idbuf[32], authorbuf[32];
    dm_comment c = { .size = DM_SIZE_NORMAL, .color = 0xFFFFFF, .weight = -1, .count = 1 };
    const cJSON *time, *type, *color, *author, *text;
    double t;

    if (cJSON_IsArray(item)) {
        time = cJSON_GetArrayItem(item, 0);
        type = cJSON_GetArrayItem(item, 1);
        color = cJSON_GetArrayItem(item, 2);
        author = cJSON_GetArrayItem(item, 3);
        text = cJSON_GetArrayItem(item, 4);
    } else {
        time = cJSON_GetObjectItemCaseSensitive(item, "time");
        type = cJSON_GetObjectItemCaseSensitive(item, "type");
        color = cJSON_GetObjectItemCaseSensitive(item, "color");
        author = cJSON_GetObjectItemCaseSensitive(item, "author");
        text = cJSON_GetObjectItemCaseSensitive(item, "text");
        c.id = (char *)json_id(cJSON_GetObjectItemCaseSensitive(item, "_id"), idbuf, sizeof idbuf);
    }
    snprintf(where, sizeof where, "comment %zu%s%.20s%s", index, c.id ? " (id " : "", c.id ? c.id : "",
             c.id ? ")" : "");
    if (!cJSON_IsArray(item) && !cJSON_IsObject(item))
        return dm_push_rejected(track, &c, DM_REASON_MALFORMED, NULL, 0, diag, where,
                                "not an array [time, type, color, author, text]");
    if (json_double(time, &t) || t < 0 || t * 1000.0 > MAX_TIME_MS)
        return push_bad(track, &c, DM_REASON_MALFORMED, text, diag, where, "missing or bad time (seconds)");
    c.t_ms = llround(t * 1000.0);
    if (dplayer_mode(type, &c.mode))
        return push_bad(track, &c, DM_REASON_MALFORMED, text, diag, where,
                        "unknown type (0 right, 1 top, 2 bottom)");
    if (color && !cJSON_IsNull(color) && css_color(color, &c.color)) {
        c.color = 0xFFFFFF;
        (*bad_colors)++;
    }
    c.author = (char *)json_id(author, authorbuf, sizeof authorbuf);
    return push_json_text(track, &c, text, diag, where);
}

int dm_read_dplayer_json(dm_track *track, const char *buf, size_t len, dm_diag *diag)
{
    cJSON *root = NULL;
    const cJSON *list, *item;
    size_t index = 0, bad_colors = 0;
    int err;

    if (!track) {
        dm_diag_error(diag, "dm_read_dplayer_json: no track");
        return DM_EINVAL;
    }
    err = parse_document(buf, len, "DPlayer JSON", &root, diag);
    if (err)
        return err;
    list = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(list))
        list = cJSON_GetObjectItemCaseSensitive(root, "danmaku");
    if (!cJSON_IsArray(list)) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "msg");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
        if (cJSON_IsString(msg) || cJSON_IsNumber(code))
            dm_diag_error(diag, "DPlayer JSON: the API answered code %g%s%.80s%s and no comments",
                          cJSON_IsNumber(code) ? code->valuedouble : 0, cJSON_IsString(msg) ? " (\"" : "",
                          cJSON_IsString(msg) ? msg->valuestring : "", cJSON_IsString(msg) ? "\")" : "");
        else
            dm_diag_error(diag, "DPlayer JSON: expected {\"code\": 0, \"data\": [[time, type, color, author, text]]}");
        cJSON_Delete(root);
        return DM_EPARSE;
    }
    if (!cJSON_GetArraySize(list))
        dm_diag_warn(diag, "DPlayer JSON holds no comments");
    cJSON_ArrayForEach(item, list) {
        err = read_dplayer_comment(track, item, index++, &bad_colors, diag);
        if (err) {
            dm_diag_error(diag, "DPlayer JSON: %s", dm_strerror(err));
            break;
        }
    }
    if (bad_colors)
        dm_diag_warn(diag, "%zu comment%s had no valid colour; shown in white", bad_colors, bad_colors == 1 ? "" : "s");
    cJSON_Delete(root);
    return err;
}
