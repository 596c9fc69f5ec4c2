/*
 * cards.c - the live cards of a scene (danmaku.h, "live cards"): super chat
 * colours and durations, the metrics every drawing shares, the display text
 * of each card (its lines, wrapped to the card with the real measurer), and
 * where each card goes: a stack down from the top left, first fit at its
 * time, keeping off the other cards and the scene's obstacles, waiting for
 * room when there is none.
 *
 * Determinism: the result depends only on the comments, their order, the
 * settings and the measurer, like the rest of the layout.
 */
#include "cards.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

/* Most message lines on a super chat card (the rest ends in "…"). */
#define MAX_BODY_LINES 6
/* Longest display text a card builds, bytes. */
#define MAX_CARD_TEXT 4096
#define ELLIPSIS "\xE2\x80\xA6"

/* ---------------------------------------------------------------- looks */

dm_card_colors dm_card_colors_for(dm_kind kind, int price)
{
    /* Bilibili's super chat tiers: header (background_color), message (background_bottom_color), price */
    static const struct {
        int from;
        uint32_t header, body, price;
    } tiers[] = {
        { 2000, 0xFFD8D8, 0xAB1A32, 0xC86A7A }, { 1000, 0xFFE7E4, 0xE54D4D, 0xEE8B8B },
        { 500, 0xFFEAD2, 0xE09443, 0xE8AF79 },  { 100, 0xFFF1C5, 0xE2B52B, 0xECCF75 },
        { 50, 0xDBFFFD, 0x427D9E, 0x7DA4BD },   { 0, 0xEDF5FF, 0x2A60B2, 0x7497CD },
    };
    dm_card_colors c = { .header_text = 0x333333, .body_text = 0xFFFFFF };

    if (kind != DM_KIND_SUPERCHAT) {
        /* a gift line: gold on a dark translucent-looking band */
        c.header = c.body = 0x2B2B2B;
        c.price = 0xFFD479;
        c.header_text = c.body_text = 0xFFD479;
        return c;
    }
    for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++) {
        if (price >= tiers[i].from) {
            c.header = tiers[i].header;
            c.body = tiers[i].body;
            c.price = tiers[i].price;
            break;
        }
    }
    return c;
}

int32_t dm_superchat_default_ms(int price)
{
    if (price >= 2000)
        return 7200000;
    if (price >= 1000)
        return 3600000;
    if (price >= 500)
        return 1800000;
    if (price >= 100)
        return 300000;
    if (price >= 50)
        return 120000;
    return 60000;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

dm_card_metrics dm_card_metrics_for(const dm_layout_opts *o)
{
    dm_card_metrics m;
    int margin = o->font_px / 4 > 4 ? o->font_px / 4 : 4;

    m.line_px = clampi((int)lround(o->font_px * 0.75), 12, o->stage_h);
    m.pad_x = o->font_px / 4 > 4 ? o->font_px / 4 : 4;
    m.pad_y = o->font_px / 8 > 2 ? o->font_px / 8 : 2;
    m.gap = m.pad_y;
    m.radius = m.pad_y;
    m.x = margin;
    m.y = margin;
    m.width = clampi((int)lround(o->stage_w * 0.25), o->font_px * 6, o->stage_w - 2 * margin);
    if (m.width < 2 * m.pad_x + 1)
        m.width = 2 * m.pad_x + 1;
    /* half the stage: more would smother the comments */
    m.bottom = o->stage_h / 2 > m.y + m.line_px + 2 * m.pad_y ? o->stage_h / 2 : o->stage_h;
    return m;
}

/* Lines of a display text. */
static int count_lines(const char *text)
{
    int n = 1;

    for (; *text; text++)
        n += *text == '\n';
    return n;
}

int dm_card_box(const dm_layout_opts *o, const dm_comment *c, const char *text, dm_measure_fn measure,
                void *measure_ud, int *w, int *h)
{
    dm_card_metrics m = dm_card_metrics_for(o);
    int band = m.line_px + 2 * m.pad_y;

    if (!text)
        text = c->text ? c->text : "";
    if (c->kind == DM_KIND_SUPERCHAT) {
        int body = count_lines(text) - 1;
        *w = m.width;
        *h = band + (body > 0 ? body * m.line_px + 2 * m.pad_y : 0);
        return 0;
    }
    if (!text[0] || measure(measure_ud, text, m.line_px, w, h) < 0 || *w <= 0)
        return DM_EINVAL;
    *w = *w + 2 * m.pad_x < m.width ? *w + 2 * m.pad_x : m.width;
    *h = band;
    return 0;
}

/* ---------------------------------------------------------------- text */

/* A growable string with a hard cap. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
    int full;                 /* an append was refused */
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n)
{
    if (b->full || b->len + n + 1 > MAX_CARD_TEXT) {
        b->full = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 128;
        char *t;
        while (cap < b->len + n + 1)
            cap *= 2;
        t = realloc(b->s, cap);
        if (!t) {
            b->full = 1;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void sb_str(strbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

typedef struct measurer {
    dm_measure_fn fn;
    void *ud;
    int height;
    char scratch[MAX_CARD_TEXT + 8];
} measurer;

/* Width of s[0..n) (+ suffix), or INT32_MAX when it cannot be measured. */
static int width_of(measurer *m, const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    int w = 0, h = 0;

    if (n + k >= sizeof m->scratch)
        return INT32_MAX;
    memcpy(m->scratch, s, n);
    memcpy(m->scratch + n, suffix, k + 1);
    if (!m->scratch[0])
        return 0;
    if (m->fn(m->ud, m->scratch, m->height, &w, &h) < 0)
        return INT32_MAX;
    return w;
}

/* Byte offsets in s[0..n) where a line may break (grapheme boundaries), in order; *count of them. */
static size_t *break_points(const char *s, size_t n, size_t *count)
{
    size_t *at = malloc((n + 1) * sizeof *at), k = 0, i = 0;
    utf8proc_int32_t prev = -1, state = 0;

    *count = 0;
    if (!at)
        return NULL;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t len = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (len <= 0) {
            len = 1;
            cp = 0xFFFD;
        }
        if (prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state))
            at[k++] = i;
        prev = cp;
        i += (size_t)len;
    }
    at[k++] = n;
    *count = k;
    return at;
}

/*
 * Append the lines of paragraph s[0..n) fitting max_w to out, at most
 * *lines_left of them (decremented); the last ends in "…" when the text is
 * cut. Breaks between graphemes, at a space when a word would be split.
 * 0, or DM_ENOMEM.
 */
static int wrap_paragraph(strbuf *out, measurer *m, const char *s, size_t n, int max_w, int *lines_left)
{
    size_t count, *at = break_points(s, n, &count), from = 0;

    if (!at)
        return DM_ENOMEM;
    while (*lines_left > 0) {
        size_t lo = 0, hi = count, best;
        int last;
        /* the first break point past `from` */
        while (lo < count && at[lo] <= from)
            lo++;
        if (lo >= count)
            break;
        /* the farthest break point whose prefix fits (binary search: widths grow with length) */
        best = lo;
        hi = count - 1;
        if (width_of(m, s + from, at[lo] - from, "") <= max_w) {
            size_t a = lo, b = hi;
            while (a < b) {
                size_t mid = a + (b - a + 1) / 2;
                if (width_of(m, s + from, at[mid] - from, "") <= max_w)
                    a = mid;
                else
                    b = mid - 1;
            }
            best = a;
        }
        /* do not split a word when the line holds a space to break at */
        if (at[best] < n && s[at[best]] != ' ' && at[best] > from && s[at[best] - 1] != ' ') {
            size_t k = best;
            while (k > lo && s[at[k] - 1] != ' ')
                k--;
            if (k > lo || s[at[k] - 1] == ' ')
                best = k;
        }
        last = *lines_left == 1 && at[best] < n;
        if (last) {
            /* the text goes on: the last line ends in an ellipsis */
            while (best > lo && width_of(m, s + from, at[best] - from, ELLIPSIS) > max_w)
                best--;
        }
        if (out->len && out->s[out->len - 1] != '\n')
            sb_str(out, "\n");
        {
            size_t end = at[best];
            while (end > from && s[end - 1] == ' ')
                end--;
            sb_put(out, s + from, end - from);
        }
        if (last)
            sb_str(out, ELLIPSIS);
        (*lines_left)--;
        from = at[best];
        while (from < n && s[from] == ' ')
            from++;
        if (from >= n)
            break;
    }
    free(at);
    return out->full ? DM_ENOMEM : 0;
}

/* The header of a super chat: "name  ¥30", the name cut with "…" to fit. */
static void superchat_header(strbuf *out, measurer *m, const dm_comment *c, int max_w)
{
    char price[32];
    size_t n = c->sender ? strlen(c->sender) : 0, count, *at, best;

    snprintf(price, sizeof price, "%s\xC2\xA5%d", n ? "  " : "", c->price);
    if (!n || width_of(m, c->sender, n, price) <= max_w) {
        if (n)
            sb_put(out, c->sender, n);
        sb_str(out, price);
        return;
    }
    at = break_points(c->sender, n, &count);
    best = 0;
    for (size_t k = 0; at && k < count; k++) {
        char suffix[48];
        snprintf(suffix, sizeof suffix, ELLIPSIS "%s", price);
        if (width_of(m, c->sender, at[k], suffix) > max_w)
            break;
        best = at[k];
    }
    free(at);
    sb_put(out, c->sender, best);
    sb_str(out, ELLIPSIS);
    sb_str(out, price);
}

/* The display text of a card into *text (malloc'd): 0, DM_EINVAL (nothing to show), DM_ENOMEM. */
static int card_text(const dm_comment *c, int total, const dm_card_metrics *cm, dm_measure_fn measure, void *ud,
                     char **text)
{
    strbuf out = { 0 };
    measurer *m = malloc(sizeof *m);
    int max_w = cm->width - 2 * cm->pad_x, err = 0;

    *text = NULL;
    if (!m)
        return DM_ENOMEM;
    m->fn = measure;
    m->ud = ud;
    m->height = cm->line_px;
    if (c->kind == DM_KIND_SUPERCHAT) {
        const char *s = c->text ? c->text : "";
        int lines = MAX_BODY_LINES;
        superchat_header(&out, m, c, max_w);
        while (*s && lines > 0 && !err) {
            size_t n = strcspn(s, "\n");
            if (n)
                err = wrap_paragraph(&out, m, s, n, max_w, &lines);
            s += n + (s[n] == '\n');
        }
    } else {
        char line[MAX_CARD_TEXT];
        int lines = 1;
        if (!c->text || !c->text[0]) {
            free(m);
            return DM_EINVAL;
        }
        snprintf(line, sizeof line, "%s%s%s %s \xC3\x97%d", c->sender ? c->sender : "", c->sender ? " " : "",
                 c->kind == DM_KIND_GUARD ? "开通" : "赠送", c->text, total > 0 ? total : 1);
        for (char *p = line; *p; p++)
            if (*p == '\n')
                *p = ' ';
        err = wrap_paragraph(&out, m, line, strlen(line), max_w, &lines);
    }
    free(m);
    if (!err && out.full)
        err = DM_ENOMEM;
    if (err) {
        free(out.s);
        return err;
    }
    if (!out.s) {
        free(out.s);
        return DM_EINVAL;
    }
    *text = out.s;
    return 0;
}

/* ---------------------------------------------------------------- the stack */

/* A box that is on screen for a while: a card placed, or an obstacle to keep off. */
typedef struct span_box {
    int64_t start, end;
    int x, y, w, h;
} span_box;

static int meets(const span_box *b, int64_t s, int64_t e, int x, int y, int w, int h, int gap)
{
    return s < b->end && b->start < e && x < b->x + b->w && b->x < x + w && y < b->y + b->h + gap &&
           b->y < y + h + gap;
}

/*
 * The top y in the stack where a box of w x h fits from s to e, or -1.
 * Candidates: the top, and just below each box in the way.
 */
static int find_row(const dm_card_metrics *m, const span_box *boxes, size_t n, int64_t s, int64_t e, int w, int h)
{
    int best = -1;

    for (size_t k = 0; k <= n; k++) {
        int y = k == n ? m->y : boxes[k].y + boxes[k].h + m->gap;
        int free_row = y >= m->y && y + h <= m->bottom;
        if (k < n && !(s < boxes[k].end && boxes[k].start < e))
            continue;   /* not on screen then: nothing to go below */
        for (size_t j = 0; j < n && free_row; j++)
            free_row = !meets(&boxes[j], s, e, m->x, y, w, h, m->gap);
        if (free_row && (best < 0 || y < best))
            best = y;
    }
    return best;
}

/* The earliest time after s when one of the boxes in the way at s leaves, or INT64_MAX. */
static int64_t next_leave(const span_box *boxes, size_t n, int64_t s, int64_t e)
{
    int64_t t = INT64_MAX;

    for (size_t k = 0; k < n; k++)
        if (boxes[k].end > s && boxes[k].start < e && boxes[k].end < t)
            t = boxes[k].end;
    return t;
}

typedef struct gift_group {
    const dm_comment *leader;
    uint32_t index;           /* the leader's */
    int64_t last;             /* time of its latest member */
} gift_group;

static int is_card(const dm_comment *c)
{
    return c->kind == DM_KIND_SUPERCHAT || c->kind == DM_KIND_GIFT || c->kind == DM_KIND_GUARD;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Why a card is not shown before it is placed, 0 when it may be. */
static int card_reason(const dm_comment *c, const dm_layout_opts *o, const dm_filter *filter)
{
    if (c->rejected)
        return c->rejected;
    if (c->deleted)
        return DM_REASON_DELETED;
    if (c->kind == DM_KIND_SUPERCHAT ? !o->superchats : !o->gifts)
        return DM_REASON_HIDDEN;
    if (c->t_ms < 0)
        return DM_REASON_INVALID;
    if (filter && dm_filter_match(filter, c))
        return DM_REASON_FILTERED;
    return 0;
}

int dm_cards_layout(const dm_track *track, size_t n, const dm_order_key *order, const dm_layout_opts *o,
                    dm_measure_fn measure, void *measure_ud, const dm_filter *filter, const dm_obstacle *avoid,
                    size_t avoid_count, dm_placed *placed, char **texts, dm_obstacle **obstacles, size_t *count)
{
    dm_card_metrics m = dm_card_metrics_for(o);
    span_box *boxes = NULL;
    gift_group *groups = NULL;
    int *totals = NULL;
    dm_obstacle *obs = NULL;
    size_t nboxes = 0, ngroups = 0, nobs = 0, ncards = 0;
    int err = DM_ENOMEM;

    *obstacles = NULL;
    *count = 0;
    for (size_t i = 0; i < n; i++)
        ncards += is_card(&track->items[i]);
    if (!ncards)
        return 0;
    boxes = malloc((ncards + avoid_count) * sizeof *boxes);
    groups = malloc(ncards * sizeof *groups);
    totals = calloc(n, sizeof *totals);
    obs = malloc(ncards * sizeof *obs);
    if (!boxes || !groups || !totals || !obs)
        goto out;
    for (size_t k = 0; k < avoid_count; k++)
        boxes[nboxes++] = (span_box){ avoid[k].start_ms, avoid[k].end_ms, avoid[k].x, avoid[k].y, avoid[k].w,
                                      avoid[k].h };
    /* gift combos first: a leader shows the total of the combo it opens */
    for (size_t k = 0; k < n; k++) {
        uint32_t i = order[k].index;
        const dm_comment *c = &track->items[i];
        size_t g;
        if (c->kind != DM_KIND_GIFT && c->kind != DM_KIND_GUARD)
            continue;
        if (card_reason(c, o, filter))
            continue;
        for (g = 0; g < ngroups; g++) {
            const dm_comment *l = groups[g].leader;
            if (l->kind == c->kind && l->pass == c->pass && c->t_ms - groups[g].last <= DM_GIFT_COMBO_MS &&
                same_str(l->sender, c->sender) && same_str(l->text, c->text))
                break;
        }
        if (g < ngroups) {
            totals[groups[g].index] += c->quantity > 0 ? c->quantity : 1;
            groups[g].last = c->t_ms;
            totals[i] = -1;   /* a member */
        } else {
            groups[ngroups++] = (gift_group){ c, i, c->t_ms };
            totals[i] = c->quantity > 0 ? c->quantity : 1;
        }
    }
    for (size_t k = 0; k < n; k++) {
        uint32_t i = order[k].index;
        const dm_comment *c = &track->items[i];
        dm_placed *p = &placed[i];
        int64_t s, dur, wait;
        int reason, w, h, y = -1;
        char *text = NULL;

        if (!is_card(c))
            continue;
        /* boxes gone before this card's time are gone for every later one too (time order) */
        for (size_t j = 0; j < nboxes;) {
            if (boxes[j].end <= c->t_ms && c->pass == 0)
                boxes[j] = boxes[--nboxes];
            else
                j++;
        }
        memset(p, 0, sizeof *p);
        p->mode = DM_MODE_POSITIONED;
        free(texts[i]);
        texts[i] = NULL;
        reason = card_reason(c, o, filter);
        if (!reason && totals[i] < 0)
            reason = DM_REASON_DUPLICATE;   /* joined the combo line of an earlier gift */
        if (reason) {
            p->reason = (uint8_t)reason;
            continue;
        }
        err = card_text(c, totals[i], &m, measure, measure_ud, &text);
        if (err == DM_ENOMEM)
            goto out;
        if (err || dm_card_box(o, c, text, measure, measure_ud, &w, &h)) {
            free(text);
            p->reason = DM_REASON_INVALID;
            continue;
        }
        texts[i] = text;
        dur = c->kind == DM_KIND_SUPERCHAT ? (c->duration_ms > 0 ? c->duration_ms : dm_superchat_default_ms(c->price))
                                           : o->fixed_ms;
        /* a super chat waits for room as long as it would have stayed; a gift line as a comment does */
        wait = c->kind == DM_KIND_SUPERCHAT ? dur : o->max_delay_ms;
        for (s = c->t_ms; s <= c->t_ms + wait;) {
            y = find_row(&m, boxes, nboxes, s, s + dur, w, h);
            if (y >= 0)
                break;
            s = next_leave(boxes, nboxes, s, s + dur);
            if (s == INT64_MAX)
                break;
        }
        if (y < 0) {
            p->reason = DM_REASON_NO_LANE;
            continue;
        }
        p->shown = 1;
        p->y = y;
        p->w = w;
        p->h = h;
        p->x_start = p->x_end = m.x;
        p->start_ms = s;
        p->end_ms = s + dur;
        boxes[nboxes++] = (span_box){ s, s + dur, m.x, y, w, h };
        obs[nobs] = (dm_obstacle){ .start_ms = s, .end_ms = s + dur, .x = m.x, .y = y, .w = w, .h = h };
        snprintf(obs[nobs].kind, sizeof obs[nobs].kind, "%s", c->kind == DM_KIND_SUPERCHAT ? "superchat" : "gift");
        snprintf(obs[nobs].id, sizeof obs[nobs].id, "%s-%.24s", c->kind == DM_KIND_SUPERCHAT ? "sc" : "gift",
                 c->id ? c->id : "");
        if (!c->id)
            snprintf(obs[nobs].id, sizeof obs[nobs].id, "%s-%u", c->kind == DM_KIND_SUPERCHAT ? "sc" : "gift",
                     (unsigned)i);
        nobs++;
    }
    err = 0;
    if (nobs) {
        *obstacles = obs;
        *count = nobs;
        obs = NULL;
    }
out:
    free(boxes);
    free(groups);
    free(totals);
    free(obs);
    return err;
}
