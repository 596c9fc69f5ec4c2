/*
 * subs_autoload.c - mpv's sub-auto=exact: which subtitle files beside a film
 * belong to it (same name, an optional language tag, a subtitle extension),
 * and the language a file name carries.
 */
#include "subs.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static int is_sub_ext(const char *ext)
{
    return strcasecmp(ext, "srt") == 0 || strcasecmp(ext, "ass") == 0 || strcasecmp(ext, "ssa") == 0 ||
           strcasecmp(ext, "vtt") == 0;
}

/* A language tag as file names carry them: "en", "eng", "pt-BR", "zh-Hans". */
static int is_lang_tag(const char *s, size_t len)
{
    size_t i = 0, n = 0;

    if (len < 2 || len > 15)
        return 0;
    while (i < len && isalpha((unsigned char)s[i])) {
        i++;
        n++;
    }
    if (n < 2 || n > 3)
        return 0;
    while (i < len) {
        size_t m = 0;
        if (s[i] != '-')
            return 0;
        i++;
        while (i < len && isalnum((unsigned char)s[i])) {
            i++;
            m++;
        }
        if (m < 2 || m > 8)
            return 0;
    }
    return 1;
}

static void copy_n(char *dst, size_t len, const char *src, size_t n)
{
    if (!len)
        return;
    if (n > len - 1)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* The film's name without folder and extension: its length, and where it starts. */
static const char *film_stem(const char *film, size_t *len)
{
    const char *base = strrchr(film, '/');
    const char *dot;

    base = base ? base + 1 : film;
    dot = strrchr(base, '.');
    *len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return base;
}

void dm_subs_lang_from_name(const char *film, const char *sub, char *lang, size_t len)
{
    const char *base = strrchr(sub, '/');
    const char *ext;
    size_t stem_len;

    copy_n(lang, len, "", 0);
    base = base ? base + 1 : sub;
    ext = strrchr(base, '.');
    if (!ext || ext == base)
        return;
    stem_len = (size_t)(ext - base);
    if (film) {
        size_t fl;
        const char *fs = film_stem(film, &fl);
        if (stem_len > fl + 1 && strncasecmp(base, fs, fl) == 0 && base[fl] == '.' &&
            is_lang_tag(base + fl + 1, stem_len - fl - 1))
            copy_n(lang, len, base + fl + 1, stem_len - fl - 1);
        return;
    }
    for (size_t i = stem_len; i-- > 0;)
        if (base[i] == '.') {
            if (i > 0 && is_lang_tag(base + i + 1, stem_len - i - 1))
                copy_n(lang, len, base + i + 1, stem_len - i - 1);
            return;
        }
}

typedef struct found {
    char *path;
    int has_lang;
} found;

static int cmp_found(const void *a, const void *b)
{
    const found *x = a, *y = b;
    if (x->has_lang != y->has_lang)
        return x->has_lang - y->has_lang;
    return strcmp(x->path, y->path);
}

int dm_subs_find_auto(const char *film, char ***paths, size_t *n)
{
    const char *slash = strrchr(film, '/');
    char *dir;
    size_t dirlen = slash ? (size_t)(slash - film) : 0;
    size_t stem_len, count = 0, cap = 0;
    const char *stem = film_stem(film, &stem_len);
    const char *film_ext = stem[stem_len] == '.' ? stem + stem_len + 1 : NULL;
    found *list = NULL;
    DIR *d;
    struct dirent *e;
    char **out;

    *paths = NULL;
    *n = 0;
    dir = malloc(dirlen + 2);
    if (!dir)
        return DM_ENOMEM;
    if (slash) {
        memcpy(dir, film, dirlen);
        dir[dirlen] = 0;
        if (dirlen == 0)
            strcpy(dir, "/");
    } else {
        strcpy(dir, ".");
    }
    d = opendir(dir);
    if (d) {
        while ((e = readdir(d)) != NULL) {
            const char *name = e->d_name;
            const char *ext = strrchr(name, '.');
            size_t nl;
            int has_lang = 0;
            struct stat st;
            char *path;
            if (!ext || ext == name || !is_sub_ext(ext + 1))
                continue;
            nl = (size_t)(ext - name);
            if (nl == stem_len && strncasecmp(name, stem, stem_len) == 0)
                has_lang = 0;
            else if (nl > stem_len + 1 && strncasecmp(name, stem, stem_len) == 0 && name[stem_len] == '.' &&
                     is_lang_tag(name + stem_len + 1, nl - stem_len - 1) &&
                     !(film_ext && strlen(film_ext) == nl - stem_len - 1 &&
                       strncasecmp(film_ext, name + stem_len + 1, nl - stem_len - 1) == 0))
                has_lang = 1;  /* "Film.en.srt"; never "Film.mkv.srt" */
            else
                continue;
            path = malloc(strlen(dir) + strlen(name) + 2);
            if (!path)
                goto nomem;
            if (slash)
                sprintf(path, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
            else
                strcpy(path, name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
                free(path);
                continue;
            }
            if (count == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                found *nl2 = realloc(list, ncap * sizeof *nl2);
                if (!nl2) {
                    free(path);
                    goto nomem;
                }
                list = nl2;
                cap = ncap;
            }
            list[count].path = path;
            list[count].has_lang = has_lang;
            count++;
        }
        closedir(d);
        d = NULL;
    }
    free(dir);
    dir = NULL;
    if (count)
        qsort(list, count, sizeof *list, cmp_found);
    out = calloc(count + 1, sizeof *out);
    if (!out)
        goto nomem;
    for (size_t i = 0; i < count; i++)
        out[i] = list[i].path;
    free(list);
    *paths = out;
    *n = count;
    return 0;
nomem:
    if (d)
        closedir(d);
    free(dir);
    for (size_t i = 0; i < count; i++)
        free(list[i].path);
    free(list);
    return DM_ENOMEM;
}

void dm_subs_paths_free(char ***paths)
{
    if (!paths || !*paths)
        return;
    for (char **p = *paths; *p; p++)
        free(*p);
    free(*paths);
    *paths = NULL;
}
