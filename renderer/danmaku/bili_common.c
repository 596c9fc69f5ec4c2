/*
 * bili_common.c - what the Bilibili readers share (see bili_common.h):
 * modes and sizes, positioned (mode 7) comments parsed with cJSON (leniently
 * when the array is cut short), and Bilibili's newline conventions.
 */
#include "bili_common.h"
#include "internal_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Bilibili's reference stage: positioned pixel coordinates are relative to it. */
#define BILI_STAGE_W 672.0
#define BILI_STAGE_H 438.0
#define DEFAULT_POS_LIFE_S 4.5
#define MAX_POS_MS 3600000.0
#define MAX_POS_FRACTION 100.0
/* Most cuts tried when repairing a cut-short positioned array. */
#define MAX_REPAIRS 3

int dm_bili_parse_double(const char *s, double *v)
{
    char *end;
    const char *d;

    while (*s == ' ')
        s++;
    /* decimal only, as Bilibili writes them: strtod alone would also take
     * "0x10" (16), "inf", "nan" and hexadecimal floats */
    d = *s == '-' || *s == '+' ? s + 1 : s;
    if (!isdigit((unsigned char)*d) && !(*d == '.' && isdigit((unsigned char)d[1])))
        return -1;
    if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
        return -1;
    errno = 0;
    *v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (*end || errno == ERANGE || !isfinite(*v))
        return -1;
    return 0;
}

dm_size dm_bili_size_class(long long px)
{
    if (px <= 21)
        return DM_SIZE_SMALL;
    if (px <= 30)
        return DM_SIZE_NORMAL;
    return DM_SIZE_LARGE;
}

dm_mode dm_bili_mode(int bili)
{
    switch (bili) {
    case 4: return DM_MODE_BOTTOM;
    case 5: return DM_MODE_TOP;
    case 6: return DM_MODE_REVERSE;
    case 7: return DM_MODE_POSITIONED;
    default: return DM_MODE_SCROLL;  /* 1-3; 8 and 9 are marked unsupported by bili_mode */
    }
}

/* ---------------------------------------------------------------- mode 7 */

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* A number, or a string holding one (Bilibili writes both). */
static int json_number(const cJSON *item, double *v)
{
    if (cJSON_IsNumber(item)) {
        *v = item->valuedouble;
        return isfinite(*v) ? 0 : -1;
    }
    if (cJSON_IsString(item))
        return dm_bili_parse_double(item->valuestring, v);
    return -1;
}

/*
 * A positioned coordinate as a fraction of the stage. A value written with a
 * decimal point and at most 1 is already a fraction; anything else is in
 * pixels of the 672x438 reference stage.
 */
static int json_coord(const cJSON *item, double ref, double *v)
{
    double x;
    int fraction;

    if (json_number(item, &x))
        return -1;
    if (cJSON_IsString(item))
        fraction = strchr(item->valuestring, '.') != NULL && x <= 1.0;
    else
        fraction = x != floor(x) && x <= 1.0;
    /* Far off the stage is as invisible as just off it: keep numbers tame. */
    *v = clamp(fraction ? x : x / ref, -MAX_POS_FRACTION, MAX_POS_FRACTION);
    return 0;
}

/* "a0-a1" opacity range; a single number means constant opacity. */
static void parse_alpha(const cJSON *item, double *a0, double *a1)
{
    *a0 = *a1 = 1.0;
    if (cJSON_IsString(item)) {
        const char *s = item->valuestring;
        char *end;
        double x = strtod(s, &end);
        if (end == s || !isfinite(x))
            return;
        *a0 = *a1 = clamp(x, 0, 1);
        if (*end == '-') {
            const char *t = end + 1;
            double y = strtod(t, &end);
            if (end != t && isfinite(y))
                *a1 = clamp(y, 0, 1);
        }
    } else if (cJSON_IsNumber(item) && isfinite(item->valuedouble)) {
        *a0 = *a1 = clamp(item->valuedouble, 0, 1);
    }
}

static int json_flag(const cJSON *item, int dflt)
{
    if (cJSON_IsBool(item))
        return cJSON_IsTrue(item);
    if (cJSON_IsNumber(item))
        return item->valuedouble != 0;
    if (cJSON_IsString(item))
        return strcmp(item->valuestring, "false") && strcmp(item->valuestring, "0");
    return dflt;
}

static int json_ms(const cJSON *item, double scale, int32_t dflt)
{
    double v;

    if (json_number(item, &v) || v < 0)
        return dflt;
    return (int32_t)llround(clamp(v * scale, 0, MAX_POS_MS));
}

/*
 * Parse the JSON array of a positioned comment into pos. On success
 * *root owns the parsed array and *text points at its displayed text.
 * Returns 0, or -1 with *why set.
 */
/* 1 when a is an array whose first five elements are there and element 4 (the text) is a string. */
static int has_text(const cJSON *a)
{
    return cJSON_IsArray(a) && cJSON_GetArraySize(a) >= 5 && cJSON_IsString(cJSON_GetArrayItem(a, 4));
}

/*
 * A positioned array cut short ("[0.1,0.2,\"1-1\",4,\"text\",0,", or cut
 * inside a later element): close it after its last complete element and
 * parse that with cJSON. The cut can only be mended where the text and the
 * elements before it are complete, which the caller checks. NULL when no
 * cut reads.
 */
static cJSON *parse_cut_array(const char *json, size_t len)
{
    size_t commas[MAX_REPAIRS], ncommas = 0, i = 0, end;
    int depth = 0, in_string = 0, escaped = 0;
    char *buf;
    cJSON *a = NULL;

    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\r' || json[i] == '\n'))
        i++;
    if (i >= len || json[i] != '[')
        return NULL;
    for (; i < len; i++) {
        char ch = json[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (ch == '\\')
                escaped = 1;
            else if (ch == '"')
                in_string = 0;
            continue;
        }
        if (ch == '"') {
            in_string = 1;
        } else if (ch == '[' || ch == '{') {
            depth++;
        } else if (ch == ']' || ch == '}') {
            if (--depth <= 0)
                return NULL;    /* it was closed: not a cut, just broken */
        } else if (ch == ',' && depth == 1) {
            /* remember the last few top-level commas: the cut is after the last complete element */
            if (ncommas == MAX_REPAIRS)
                memmove(commas, commas + 1, (MAX_REPAIRS - 1) * sizeof *commas);
            commas[ncommas < MAX_REPAIRS ? ncommas++ : MAX_REPAIRS - 1] = i;
        }
    }
    buf = malloc(len + 2);
    if (!buf)
        return NULL;
    /* first the whole of it closed (it may end right after an element), then cut at each comma back */
    end = len;
    for (int k = (int)ncommas; k >= 0 && !a; k--) {
        if (k < (int)ncommas)
            end = commas[k];
        else if (in_string || depth != 1)
            continue;
        while (end > 0 && (json[end - 1] == ',' || json[end - 1] == ' ' || json[end - 1] == '\t' ||
                           json[end - 1] == '\r' || json[end - 1] == '\n'))
            end--;
        memcpy(buf, json, end);
        buf[end] = ']';
        a = cJSON_ParseWithLength(buf, end + 1);
        if (a && !has_text(a)) {
            cJSON_Delete(a);
            a = NULL;
        }
    }
    free(buf);
    return a;
}

static int parse_positioned(const char *json, size_t len, dm_positioned *pos, cJSON **root,
                            const char **text, const char **why, int *cut)
{
    cJSON *a = cJSON_ParseWithLength(json, len);
    const cJSON *t;
    double life;

    *root = NULL;
    *cut = 0;
    if (!a) {
        a = parse_cut_array(json, len);
        *cut = a != NULL;
    }
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 5) {
        *why = "positioned comment is not a JSON array of at least 5 elements";
        cJSON_Delete(a);
        return -1;
    }
    t = cJSON_GetArrayItem(a, 4);
    if (!cJSON_IsString(t)) {
        *why = "positioned comment has no text (element 4 is not a string)";
        cJSON_Delete(a);
        return -1;
    }
    memset(pos, 0, sizeof *pos);
    if (json_coord(cJSON_GetArrayItem(a, 0), BILI_STAGE_W, &pos->x0))
        pos->x0 = 0;
    if (json_coord(cJSON_GetArrayItem(a, 1), BILI_STAGE_H, &pos->y0))
        pos->y0 = 0;
    parse_alpha(cJSON_GetArrayItem(a, 2), &pos->alpha0, &pos->alpha1);
    if (json_number(cJSON_GetArrayItem(a, 3), &life) || life <= 0)
        life = DEFAULT_POS_LIFE_S;
    pos->life_ms = (int32_t)llround(clamp(life * 1000.0, 1, MAX_POS_MS));
    if (json_number(cJSON_GetArrayItem(a, 5), &pos->rotate_z))
        pos->rotate_z = 0;
    if (json_number(cJSON_GetArrayItem(a, 6), &pos->rotate_y))
        pos->rotate_y = 0;
    pos->rotate_z = fmod(pos->rotate_z, 360.0);
    pos->rotate_y = fmod(pos->rotate_y, 360.0);
    if (json_coord(cJSON_GetArrayItem(a, 7), BILI_STAGE_W, &pos->x1))
        pos->x1 = pos->x0;
    if (json_coord(cJSON_GetArrayItem(a, 8), BILI_STAGE_H, &pos->y1))
        pos->y1 = pos->y0;
    pos->move_ms = json_ms(cJSON_GetArrayItem(a, 9), 1.0, 0);
    pos->move_delay_ms = json_ms(cJSON_GetArrayItem(a, 10), 1.0, 0);
    pos->outline = json_flag(cJSON_GetArrayItem(a, 11), 1);
    *root = a;
    *text = t->valuestring;
    return 0;
}

/* ---------------------------------------------------------------- text */

/*
 * Bilibili's newlines as real ones: "/n" in positioned comments (the way
 * their authors write multi-line art), and a literal backslash-n anywhere.
 * malloc'd copy of len bytes; NULL when out of memory.
 */
static char *bili_newlines(const char *s, size_t len, int positioned)
{
    char *out = malloc(len + 1);
    size_t o = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (i + 1 < len && s[i + 1] == 'n' && (s[i] == '\\' || (positioned && s[i] == '/'))) {
            out[o++] = '\n';
            i++;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    return out;
}

int dm_bili_push(dm_track *track, dm_comment *c, const char *content, size_t len, dm_diag *diag,
                 const char *where, dm_bili_state *st)
{
    dm_positioned pos;
    cJSON *root = NULL;
    const char *why = NULL, *text = content ? content : "";
    char *lines;
    int err, cut = 0;

    c->mode = dm_bili_mode(c->bili_mode);
    if (!content)
        len = 0;
    if (c->bili_mode == 7) {
        if (parse_positioned(text, len, &pos, &root, &text, &why, &cut)) {
            c->pos = NULL;
            return dm_push_rejected(track, c, DM_REASON_MALFORMED, content, len, diag, where, why);
        }
        len = strlen(text);
        c->pos = &pos;
        st->cut_arrays += (size_t)cut;
    }
    lines = bili_newlines(text, len, c->bili_mode == 7);
    err = lines ? dm_push_comment(track, c, lines, strlen(lines), diag, where) : DM_ENOMEM;
    free(lines);
    cJSON_Delete(root);
    c->pos = NULL;
    return err;
}

void dm_bili_finish(const dm_bili_state *st, dm_diag *diag)
{
    if (st->cut_arrays)
        dm_diag_warn(diag, "%zu positioned comment%s had a JSON array cut short (the field was truncated); "
                     "read from the elements that are there", st->cut_arrays, st->cut_arrays == 1 ? "" : "s");
}
