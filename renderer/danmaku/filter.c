/*
 * filter.c - keyword, regular expression and user filters, and the text
 * normalisation they share (NFKC + case folding, so "ＳＰＡＭ", "Spam" and
 * "spam" meet the same rule).
 */
#include "danmaku.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

typedef struct str_list {
    char **items;               /* owned strings */
    size_t count, cap;
} str_list;

struct dm_filter {
    unsigned hidden_modes;      /* bit (1u << dm_mode) for each hidden mode */
    int hide_coloured;          /* comments in any colour but white */
    int level;                  /* Bilibili's block level: weights below it are hidden (0: none) */
    str_list keywords;          /* normalised keywords */
    str_list users;             /* author hashes, exact */
    pcre2_code **regexes;       /* compiled patterns */
    size_t regex_count, regex_cap;
};

static int list_push(str_list *l, char *s)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return DM_ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = s;
    return 0;
}

static void list_free(str_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
}

char *dm_text_normalize(const char *text)
{
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t len;
    char *out;
    size_t o = 0;

    len = utf8proc_map((const utf8proc_uint8_t *)text, 0, &mapped,
                       UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                           UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
    if (len < 0)
        return NULL;
    out = malloc((size_t)len + 1);
    if (!out) {
        free(mapped);
        return NULL;
    }
    /* drop white space so "s p a m" and "spam" compare equal */
    for (utf8proc_ssize_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(mapped + i, len - i, &cp);
        utf8proc_category_t cat;
        if (n <= 0)
            break;
        cat = utf8proc_category(cp);
        if (!(cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
              cat == UTF8PROC_CATEGORY_ZP || cp == '\t' || cp == '\n' || cp == '\r')) {
            memcpy(out + o, mapped + i, (size_t)n);
            o += (size_t)n;
        }
        i += n;
    }
    out[o] = 0;
    free(mapped);
    return out;
}

dm_filter *dm_filter_new(void)
{
    return calloc(1, sizeof(dm_filter));
}

void dm_filter_free(dm_filter **filter)
{
    dm_filter *f = filter ? *filter : NULL;

    if (!f)
        return;
    list_free(&f->keywords);
    list_free(&f->users);
    for (size_t i = 0; i < f->regex_count; i++)
        pcre2_code_free(f->regexes[i]);
    free(f->regexes);
    free(f);
    *filter = NULL;
}

int dm_filter_add_keyword(dm_filter *f, const char *keyword)
{
    char *k = dm_text_normalize(keyword);

    if (!k)
        return DM_EINVAL;
    if (!k[0]) {
        free(k);
        return DM_EINVAL;   /* an empty keyword would block everything */
    }
    if (list_push(&f->keywords, k)) {
        free(k);
        return DM_ENOMEM;
    }
    return 0;
}

int dm_filter_add_user(dm_filter *f, const char *author)
{
    char *a = author ? strdup(author) : NULL;

    if (!a)
        return author ? DM_ENOMEM : DM_EINVAL;
    if (list_push(&f->users, a)) {
        free(a);
        return DM_ENOMEM;
    }
    return 0;
}

int dm_filter_add_regex(dm_filter *f, const char *pattern, dm_diag *diag)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re;

    re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS,
                       &errcode, &erroff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        dm_diag_error(diag, "regex /%s/ at offset %zu: %s", pattern, (size_t)erroff, (char *)msg);
        return DM_EINVAL;
    }
    if (f->regex_count == f->regex_cap) {
        size_t cap = f->regex_cap ? f->regex_cap * 2 : 4;
        pcre2_code **r = realloc(f->regexes, cap * sizeof *r);
        if (!r) {
            pcre2_code_free(re);
            return DM_ENOMEM;
        }
        f->regexes = r;
        f->regex_cap = cap;
    }
    f->regexes[f->regex_count++] = re;
    return 0;
}

/* Match data per call keeps a shared filter safe to use from several threads. */
static int regex_hit(const dm_filter *f, const char *s)
{
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    int hit = 0;

    if (!md)
        return 0;
    for (size_t i = 0; i < f->regex_count && !hit; i++)
        hit = pcre2_match(f->regexes[i], (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL) >= 0;
    pcre2_match_data_free(md);
    return hit;
}

void dm_filter_hide_mode(dm_filter *f, dm_mode mode, int hide)
{
    if ((unsigned)mode < DM_MODE_COUNT)
        f->hidden_modes = hide ? f->hidden_modes | (1u << mode) : f->hidden_modes & ~(1u << mode);
}

int dm_filter_mode_hidden(const dm_filter *f, dm_mode mode)
{
    return f && (unsigned)mode < DM_MODE_COUNT && (f->hidden_modes & (1u << mode)) != 0;
}

void dm_filter_hide_coloured(dm_filter *f, int hide)
{
    f->hide_coloured = hide != 0;
}

int dm_filter_coloured_hidden(const dm_filter *f)
{
    return f && f->hide_coloured;
}

int dm_filter_set_level(dm_filter *f, int level)
{
    if (level < 0 || level > DM_FILTER_MAX_LEVEL)
        return DM_EINVAL;
    f->level = level;
    return 0;
}

int dm_filter_level(const dm_filter *f)
{
    return f ? f->level : 0;
}

int dm_filter_match(const dm_filter *f, const dm_comment *c)
{
    char *norm;
    int hit = 0;

    if (!f || !c->text)
        return 0;
    if (f->hidden_modes & (1u << c->mode))
        return 1;
    if (f->hide_coloured && (c->color & 0xFFFFFF) != 0xFFFFFF)
        return 1;
    if (f->level > 0 && c->weight >= 0 && c->weight < f->level)
        return 1;   /* an unknown weight (-1) is not judged */
    if (c->author)
        for (size_t i = 0; i < f->users.count; i++)
            if (!strcmp(f->users.items[i], c->author))
                return 1;
    if (!f->keywords.count && !f->regex_count)
        return 0;
    norm = dm_text_normalize(c->text);
    if (norm)
        for (size_t i = 0; i < f->keywords.count && !hit; i++)
            hit = strstr(norm, f->keywords.items[i]) != NULL;
    /* patterns see both forms: the text as written and its normalised form */
    if (!hit && f->regex_count)
        hit = regex_hit(f, c->text) || (norm && regex_hit(f, norm));
    free(norm);
    return hit;
}
