/*
 * subs_load.c - reading subtitle tracks: the film's subtitle streams and
 * attached fonts (one pass of libavformat over the file), external files
 * (converted to UTF-8 first, then read by libavformat's own SubRip, WebVTT
 * and ASS demuxers from memory), and the decoding of every text event into
 * the chunk form libass takes. Picture tracks keep their packets until they
 * are first selected (subs_load_pictures).
 */
#include "subs_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "av_lazy.h"

/* FFmpeg's functions, through the table loaded on first use (av_lazy.h):
 * every path here starts from a loader that has loaded it. */
#define AV dm_av_loaded()

/* av_err2str, through the table */
#define av_error(code) av_error_text((char[AV_ERROR_MAX_STRING_SIZE]){ 0 }, (code))
static const char *av_error_text(char *buf, int code)
{
    AV->av_strerror(code, buf, AV_ERROR_MAX_STRING_SIZE);
    return buf;
}

/* An event whose end is not given lasts until the next one, at most this. */
#define SUBS_OPEN_END_MS 10000
/* No subtitle event lasts longer (readers wrap negative durations around). */
#define SUBS_MAX_EVENT_MS (24 * 3600 * 1000LL)
/* The film's packets are read once; more subtitle packets than this are refused. */
#define SUBS_MAX_PACKETS 2000000

/* ------------------------------------------------------------ events */

/* Pointer to field `n` (0-based) of a chunk, or NULL when it has fewer. */
static const char *chunk_field(const char *chunk, int n)
{
    const char *p = chunk;
    for (int i = 0; i < n; i++) {
        p = strchr(p, ',');
        if (!p)
            return NULL;
        p++;
    }
    return p;
}

/* Calls fn for every override tag of an event's text (inside {...}, as
 * libass reads them): p points just past the backslash. */
static void for_each_tag(const char *text, void (*fn)(const char *p, void *ud), void *ud)
{
    int in_block = 0;

    for (const char *p = text; *p; p++) {
        if (*p == '{')
            in_block = 1;
        else if (*p == '}')
            in_block = 0;
        else if (in_block && *p == '\\') {
            const char *q = p + 1;
            while (*q == ' ' || *q == '\t')
                q++;
            fn(q, ud);
        }
    }
}

/* What the tags say about an event. */
typedef struct tag_scan {
    int positioned;              /* \pos or \move */
    int animated;                /* \move or \t */
    int changing;                /* \fad, \fade, karaoke: colours change with time */
    int64_t from, to;            /* when they act, ms from the start; to == -1: the whole event */
} tag_scan;

/* Up to max leading numbers of a tag's argument list "(a,b,...": how many. */
static int tag_numbers(const char *p, double *v, int max)
{
    int n = 0;
    while (*p == ' ')
        p++;
    while (n < max) {
        char *end;
        double x = strtod(p, &end);
        if (end == p)
            break;
        v[n++] = x;
        p = end;
        while (*p == ' ')
            p++;
        if (*p != ',')
            break;
        p++;
        while (*p == ' ')
            p++;
    }
    return n;
}

static void scan_span(tag_scan *t, double t1, double t2)
{
    /* libass: both 0 (or none given) means the whole event; anything odd is
     * taken as the whole event too, which only makes the walk denser */
    if ((t1 == 0 && t2 == 0) || !(t2 >= t1) || !(t1 >= 0) || !(t2 <= 1e9)) {
        t->to = -1;
        return;
    }
    if (t->to == -1)
        return;
    if (t->to == -2 || (int64_t)t1 < t->from)
        t->from = (int64_t)t1;
    if (t->to == -2 || (int64_t)t2 + 1 > t->to)
        t->to = (int64_t)t2 + 1;  /* an instant change (t1 == t2) is seen just after */
}

static void scan_tag(const char *p, void *ud)
{
    tag_scan *t = ud;
    double v[6];
    int n;

    if (strncasecmp(p, "pos(", 4) == 0) {
        t->positioned = 1;
    } else if (strncasecmp(p, "move(", 5) == 0) {
        t->positioned = 1;
        t->animated = 1;
        n = tag_numbers(p + 5, v, 6);
        scan_span(t, n == 6 ? v[4] : 0, n == 6 ? v[5] : 0);
    } else if (strncasecmp(p, "t(", 2) == 0) {
        t->animated = 1;
        n = tag_numbers(p + 2, v, 3);
        scan_span(t, n >= 2 ? v[0] : 0, n >= 2 ? v[1] : 0);
    } else if (strncasecmp(p, "fad", 3) == 0 || *p == 'k' || *p == 'K') {
        t->changing = 1;  /* \fad, \fade; \k, \K, \kf, \ko, \kt (the only tags in k) */
    }
}

void subs_event_classify(subs_text_event *ev)
{
    const char *effect = chunk_field(ev->chunk, 7);
    const char *text = chunk_field(ev->chunk, 8);
    tag_scan t = {0, 0, 0, 0, -2};
    int scrolling = 0;

    ev->read_order = (int)strtol(ev->chunk, NULL, 10);
    ev->layer = 0;
    if (chunk_field(ev->chunk, 1))
        ev->layer = (int)strtol(chunk_field(ev->chunk, 1), NULL, 10);
    if (effect && (strncasecmp(effect, "Banner;", 7) == 0 || strncasecmp(effect, "Scroll up;", 10) == 0 ||
                   strncasecmp(effect, "Scroll down;", 12) == 0))
        scrolling = 1;
    for_each_tag(text ? text : "", scan_tag, &t);
    /* libass places an event by its own coordinates when it has \pos or
     * \move (and scrolls Banner/Scroll ones): those never collide. When in
     * doubt an event counts as colliding, which only makes replays longer. */
    ev->collides = !(scrolling || t.positioned);
    /* What it covers changes while it is shown: a move, a transform (size,
     * rotation, clip...), a scroll; and when. Colour changes (karaoke,
     * \fad) do not change what is covered. */
    ev->animated = (uint8_t)(scrolling || t.animated);
    ev->timeless = !(ev->animated || t.changing);
    ev->anim_from = 0;
    ev->anim_to = ev->dur;
    if (t.animated && !scrolling && t.to >= 0) {
        ev->anim_from = t.from < ev->dur ? t.from : ev->dur;
        ev->anim_to = t.to < ev->dur ? t.to : ev->dur;
    }
}

static int cmp_event(const void *a, const void *b)
{
    const subs_text_event *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->read_order != y->read_order)
        return x->read_order < y->read_order ? -1 : 1;
    return 0;
}

static int add_event(subs_source *src, size_t *cap, int64_t start, int64_t dur, const char *chunk)
{
    subs_text_event *ev;
    size_t len = strlen(chunk);

    if (len > INT32_MAX / 2)
        return DM_ETOOBIG;
    if (src->n_ev == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        subs_text_event *n = realloc(src->ev, ncap * sizeof *n);
        if (!n)
            return DM_ENOMEM;
        src->ev = n;
        *cap = ncap;
    }
    ev = &src->ev[src->n_ev];
    memset(ev, 0, sizeof *ev);
    ev->chunk = malloc(len + 1);
    if (!ev->chunk)
        return DM_ENOMEM;
    memcpy(ev->chunk, chunk, len + 1);
    /* libass reads events up to the end of the line */
    for (char *p = ev->chunk; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    ev->chunk_len = (int)len;
    ev->start = start;
    ev->dur = dur > SUBS_MAX_EVENT_MS ? SUBS_MAX_EVENT_MS : dur;
    subs_event_classify(ev);
    src->n_ev++;
    return 0;
}

typedef struct rank_key {
    int read_order;
    size_t index;
} rank_key;

static int cmp_rank(const void *a, const void *b)
{
    const rank_key *x = a, *y = b;
    if (x->read_order != y->read_order)
        return x->read_order < y->read_order ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Give each event a distinct ReadOrder (libass's draw order and duplicate
 * check): duplicates of one event are dropped; distinct events that share a
 * ReadOrder are renumbered in their order. */
static int finish_events(subs_source *src)
{
    size_t out = 0;
    int renumber = 0;

    /* open ends: until the next event, at most SUBS_OPEN_END_MS */
    if (src->n_ev > 1)
        qsort(src->ev, src->n_ev, sizeof *src->ev, cmp_event);
    for (size_t i = 0; i < src->n_ev; i++) {
        subs_text_event *ev = &src->ev[i];
        if (ev->dur < 0) {
            int64_t end = ev->start + SUBS_OPEN_END_MS;
            for (size_t j = i + 1; j < src->n_ev; j++)
                if (src->ev[j].start > ev->start) {
                    if (src->ev[j].start < end)
                        end = src->ev[j].start;
                    break;
                }
            ev->dur = end - ev->start;
        }
    }
    for (size_t i = 0; i < src->n_ev; i++) {
        subs_text_event *ev = &src->ev[i];
        int dup = 0;
        for (size_t j = out; j-- > 0 && src->ev[j].start == ev->start;)
            if (src->ev[j].dur == ev->dur && strcmp(src->ev[j].chunk, ev->chunk) == 0)
                dup = 1;
        if (dup || ev->dur <= 0) {
            free(ev->chunk);
            continue;
        }
        src->ev[out++] = *ev;
    }
    src->n_ev = out;
    for (size_t i = 0; i < src->n_ev && !renumber; i++)
        for (size_t j = i + 1; j < src->n_ev; j++)
            if (src->ev[j].read_order == src->ev[i].read_order) {
                renumber = 1;
                break;
            }
    if (renumber) {
        /* rank by (read_order, position): stable, so the draw order is kept */
        rank_key *order = malloc(src->n_ev * sizeof *order);
        if (!order)
            return DM_ENOMEM;
        for (size_t i = 0; i < src->n_ev; i++) {
            order[i].read_order = src->ev[i].read_order;
            order[i].index = i;
        }
        qsort(order, src->n_ev, sizeof *order, cmp_rank);
        for (size_t r = 0; r < src->n_ev; r++) {
            subs_text_event *ev = &src->ev[order[r].index];
            const char *rest = chunk_field(ev->chunk, 1);
            char *chunk;
            int len;
            if (!rest)
                rest = "0,Default,,0,0,0,,";
            len = snprintf(NULL, 0, "%zu,%s", r, rest);
            chunk = malloc((size_t)len + 1);
            if (!chunk) {
                free(order);
                return DM_ENOMEM;
            }
            snprintf(chunk, (size_t)len + 1, "%zu,%s", r, rest);
            free(ev->chunk);
            ev->chunk = chunk;
            ev->chunk_len = len;
        }
        free(order);
    }
    /* again: ReadOrders and open ends have changed */
    for (size_t i = 0; i < src->n_ev; i++)
        subs_event_classify(&src->ev[i]);
    src->info.events = src->n_ev;
    return 0;
}

/* ------------------------------------------------------------ sources */

void subs_source_free(subs_source *src)
{
    if (!src)
        return;
    for (size_t i = 0; i < src->n_ev; i++)
        free(src->ev[i].chunk);
    free(src->ev);
    free(src->header);
    free(src->font_part);
    for (size_t i = 0; i < src->n_pkts; i++)
        AV->av_packet_free(&src->pkts[i]);
    free(src->pkts);
    for (size_t i = 0; i < src->n_pics; i++) {
        for (int j = 0; j < src->pics[i].n; j++)
            free(src->pics[i].rects[j].index);
        free(src->pics[i].rects);
    }
    free(src->pics);
    if (src->par)
        AV->avcodec_parameters_free(&src->par);
    pthread_mutex_destroy(&src->lock);
    free(src->path);
    free(src);
}

static subs_source *source_new(subs_shared *sh, const char *path)
{
    subs_source *src = calloc(1, sizeof *src);
    subs_source **n;

    if (!src)
        return NULL;
    src->path = strdup(path ? path : "");
    n = realloc(sh->src, (sh->n_src + 1) * sizeof *n);
    if (!src->path || !n || pthread_mutex_init(&src->lock, NULL) != 0) {
        free(src->path);
        free(src);
        if (n)
            sh->src = n;
        return NULL;
    }
    sh->src = n;
    sh->src[sh->n_src++] = src;
    src->info.sid = (int)sh->n_src;
    src->info.path = src->path;
    src->info.stream_index = -1;
    return src;
}

/* Drop the last source (a file that failed to load). */
static void source_drop_last(subs_shared *sh)
{
    if (sh->n_src) {
        subs_source_free(sh->src[sh->n_src - 1]);
        sh->n_src--;
    }
}

/* Is this line the start of a section ("[Name]")? Sets *fonts when it is
 * [Fonts] or [Graphics], the sections of embedded files. */
static int section_line(const char *line, size_t len, int *fonts)
{
    while (len && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    if (!len || *line != '[')
        return 0;
    *fonts = (len >= 7 && strncasecmp(line, "[Fonts]", 7) == 0) ||
             (len >= 10 && strncasecmp(line, "[Graphics]", 10) == 0);
    return 1;
}

/* Split an ASS header into the part every track build needs (script info,
 * styles, the events format) and the embedded fonts, handed to libass once. */
static int set_header(subs_source *src, const char *hdr, size_t len)
{
    char *keep = malloc(len + 1), *fonts = malloc(len + 1);
    size_t nk = 0, nf = 0;
    int in_fonts = 0;

    if (!keep || !fonts) {
        free(keep);
        free(fonts);
        return DM_ENOMEM;
    }
    for (size_t i = 0; i < len;) {
        size_t j = i;
        int f;
        while (j < len && hdr[j] != '\n')
            j++;
        if (j < len)
            j++;
        if (section_line(hdr + i, j - i, &f))
            in_fonts = f;
        if (in_fonts) {
            memcpy(fonts + nf, hdr + i, j - i);
            nf += j - i;
        } else {
            memcpy(keep + nk, hdr + i, j - i);
            nk += j - i;
        }
        i = j;
    }
    keep[nk] = 0;
    fonts[nf] = 0;
    if (nk > INT32_MAX || nf > INT32_MAX) {
        free(keep);
        free(fonts);
        return DM_ETOOBIG;
    }
    src->header = keep;
    src->header_len = (int)nk;
    if (nf) {
        src->font_part = fonts;
        src->font_part_len = (int)nf;
    } else {
        free(fonts);
    }
    return 0;
}

static int64_t ts_to_ms(int64_t ts, AVRational tb)
{
    return AV->av_rescale_q_rnd(ts, tb, (AVRational){1, 1000}, AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
}

/* Decode one text packet into events. */
static int decode_text_packet(subs_source *src, size_t *cap, AVCodecContext *dec,
                              const AVPacket *pkt, AVRational tb, int64_t offset_ms)
{
    AVSubtitle sub;
    int got = 0, ret;
    int64_t pts_ms, dur = -1;

    if (pkt->pts == AV_NOPTS_VALUE)
        return 0;  /* an event without a time cannot be placed */
    memset(&sub, 0, sizeof sub);
    ret = AV->avcodec_decode_subtitle2(dec, &sub, &got, (AVPacket *)pkt);
    if (ret < 0 || !got)
        return 0;  /* a bad packet loses its event, not the track */
    pts_ms = ts_to_ms(pkt->pts, tb) - offset_ms + sub.start_display_time;
    if (pkt->duration > 0)
        dur = ts_to_ms(pkt->duration, tb) - sub.start_display_time;
    else if (sub.end_display_time > sub.start_display_time && sub.end_display_time != UINT32_MAX)
        dur = (int64_t)sub.end_display_time - sub.start_display_time;
    for (unsigned i = 0; i < sub.num_rects && ret >= 0; i++) {
        const AVSubtitleRect *r = sub.rects[i];
        if (r->type == SUBTITLE_ASS && r->ass && r->ass[0])
            ret = add_event(src, cap, pts_ms, dur, r->ass);
    }
    AV->avsubtitle_free(&sub);
    return ret < 0 ? ret : 0;
}

static int open_decoder(const AVCodecParameters *par, AVRational tb, AVCodecContext **out,
                        char *why, size_t whylen)
{
    const AVCodec *codec = AV->avcodec_find_decoder(par->codec_id);
    AVCodecContext *dec;
    int ret;

    *out = NULL;
    if (!codec) {
        dm_set_err(why, whylen, "libavcodec has no decoder for %s", AV->avcodec_get_name(par->codec_id));
        return DM_EFORMAT;
    }
    dec = AV->avcodec_alloc_context3(codec);
    if (!dec)
        return DM_ENOMEM;
    if ((ret = AV->avcodec_parameters_to_context(dec, par)) < 0 ||
        (dec->pkt_timebase = tb, ret = AV->avcodec_open2(dec, codec, NULL)) < 0) {
        dm_set_err(why, whylen, "cannot open the %s decoder (%s)", codec->name, av_error(ret));
        AV->avcodec_free_context(&dec);
        return DM_EFORMAT;
    }
    *out = dec;
    return 0;
}

static void copy_meta(char *dst, size_t len, AVDictionary *meta, const char *key)
{
    AVDictionaryEntry *e = AV->av_dict_get(meta, key, NULL, 0);
    AV->av_strlcpy(dst, e ? e->value : "", len);
}

/* ------------------------------------------------------------ the film */

static int is_font_attachment(const AVStream *st)
{
    AVDictionaryEntry *mt = AV->av_dict_get(st->metadata, "mimetype", NULL, 0);
    AVDictionaryEntry *fn = AV->av_dict_get(st->metadata, "filename", NULL, 0);
    static const char *const mimes[] = {
        "application/x-truetype-font", "application/vnd.ms-opentype", "application/x-font-ttf",
        "application/x-font", "application/font-sfnt", "font/collection", "font/otf",
        "font/sfnt", "font/ttf", NULL};

    if (st->codecpar->codec_type != AVMEDIA_TYPE_ATTACHMENT || !st->codecpar->extradata ||
        st->codecpar->extradata_size <= 0)
        return 0;
    if (st->codecpar->codec_id == AV_CODEC_ID_TTF || st->codecpar->codec_id == AV_CODEC_ID_OTF)
        return 1;
    for (int i = 0; mt && mimes[i]; i++)
        if (strcasecmp(mt->value, mimes[i]) == 0)
            return 1;
    if (fn) {
        const char *dot = strrchr(fn->value, '.');
        if (dot && (strcasecmp(dot, ".ttf") == 0 || strcasecmp(dot, ".otf") == 0 ||
                    strcasecmp(dot, ".ttc") == 0))
            return 1;
    }
    return 0;
}

static int add_font(subs_shared *sh, const AVStream *st)
{
    AVDictionaryEntry *fn = AV->av_dict_get(st->metadata, "filename", NULL, 0);
    subs_font *n = realloc(sh->fonts, (sh->n_fonts + 1) * sizeof *n);
    subs_font *f;

    if (!n)
        return DM_ENOMEM;
    sh->fonts = n;
    f = &sh->fonts[sh->n_fonts];
    f->name = strdup(fn ? fn->value : "attachment");
    f->data = malloc((size_t)st->codecpar->extradata_size);
    if (!f->name || !f->data) {
        free(f->name);
        free(f->data);
        return DM_ENOMEM;
    }
    memcpy(f->data, st->codecpar->extradata, (size_t)st->codecpar->extradata_size);
    f->size = st->codecpar->extradata_size;
    sh->n_fonts++;
    return 0;
}

typedef struct film_stream {
    subs_source *src;            /* NULL: not a subtitle stream */
    AVCodecContext *dec;         /* text streams */
    size_t cap;                  /* events capacity (text) or packets capacity (pictures) */
} film_stream;

int subs_load_film(subs_shared *sh, const char *film, char *err, size_t errlen)
{
    AVFormatContext *ic = NULL;
    film_stream *fs = NULL;
    AVPacket *pkt = NULL;
    int ret, nsubs = 0, best_video;
    int64_t offset_ms = 0;
    size_t n_pkts = 0;

    if (!dm_av_load(err, errlen))
        return DM_EIO;
    ret = AV->avformat_open_input(&ic, film, NULL, NULL);
    if (ret < 0) {
        dm_set_err(err, errlen, "%s: %s", film,
                   ret == AVERROR(ENOENT) ? "no such file" : av_error(ret));
        return ret == AVERROR(ENOENT) ? DM_EIO : DM_EFORMAT;
    }
    ret = AV->avformat_find_stream_info(ic, NULL);
    if (ret < 0) {
        dm_set_err(err, errlen, "%s: cannot read the streams (%s)", film, av_error(ret));
        AV->avformat_close_input(&ic);
        return DM_EFORMAT;
    }
    best_video = AV->av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (best_video >= 0) {
        sh->video_w = ic->streams[best_video]->codecpar->width;
        sh->video_h = ic->streams[best_video]->codecpar->height;
    }
    if (ic->start_time != AV_NOPTS_VALUE && ic->start_time > 0)
        offset_ms = ic->start_time / 1000;

    fs = calloc(ic->nb_streams ? ic->nb_streams : 1, sizeof *fs);
    if (!fs) {
        ret = DM_ENOMEM;
        goto done;
    }
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        AVStream *st = ic->streams[i];
        const AVCodecDescriptor *d;
        subs_source *src;

        st->discard = AVDISCARD_ALL;
        if (is_font_attachment(st)) {
            if ((ret = add_font(sh, st)) < 0)
                goto done;
            continue;
        }
        if (st->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE)
            continue;
        src = source_new(sh, film);
        if (!src) {
            ret = DM_ENOMEM;
            goto done;
        }
        fs[i].src = src;
        st->discard = AVDISCARD_DEFAULT;
        nsubs++;
        d = AV->avcodec_descriptor_get(st->codecpar->codec_id);
        src->info.kind = d && (d->props & AV_CODEC_PROP_BITMAP_SUB) ? DM_SUBS_BITMAP : DM_SUBS_TEXT;
        AV->av_strlcpy(src->info.codec, AV->avcodec_get_name(st->codecpar->codec_id), sizeof src->info.codec);
        copy_meta(src->info.lang, sizeof src->info.lang, st->metadata, "language");
        if (strcmp(src->info.lang, "und") == 0)
            src->info.lang[0] = 0;
        copy_meta(src->info.title, sizeof src->info.title, st->metadata, "title");
        src->info.is_default = !!(st->disposition & AV_DISPOSITION_DEFAULT);
        src->info.is_forced = !!(st->disposition & AV_DISPOSITION_FORCED);
        src->info.stream_index = (int)i;
        src->tb = st->time_base;
        src->offset_ms = offset_ms;
        if (src->info.kind == DM_SUBS_BITMAP) {
            src->par = AV->avcodec_parameters_alloc();
            if (!src->par || AV->avcodec_parameters_copy(src->par, st->codecpar) < 0) {
                ret = DM_ENOMEM;
                goto done;
            }
        } else {
            ret = open_decoder(st->codecpar, st->time_base, &fs[i].dec, src->pic_err,
                               sizeof src->pic_err);
            if (ret == DM_ENOMEM)
                goto done;
            if (ret < 0) {
                /* listed, as mpv lists it, but it cannot be selected */
                src->pic_state = ret;
                subs_log_to(sh->log, sh->log_ud, DM_SUBS_LOG_WARN, "%s: subtitle stream %u: %s", film, i,
                            src->pic_err);
            } else if (fs[i].dec->subtitle_header) {
                ret = set_header(src, (const char *)fs[i].dec->subtitle_header,
                                 (size_t)fs[i].dec->subtitle_header_size);
                if (ret < 0)
                    goto done;
            }
        }
    }
    ret = 0;
    if (!nsubs)
        goto done;  /* nothing to read through the film for */

    pkt = AV->av_packet_alloc();
    if (!pkt) {
        ret = DM_ENOMEM;
        goto done;
    }
    for (;;) {
        film_stream *f;
        int r = AV->av_read_frame(ic, pkt);
        if (r == AVERROR_EOF)
            break;
        if (r < 0) {
            /* a damaged tail: keep what was read, as a player would */
            subs_log_to(sh->log, sh->log_ud, DM_SUBS_LOG_WARN, "%s: reading stopped early (%s)", film,
                        av_error(r));
            break;
        }
        f = (unsigned)pkt->stream_index < ic->nb_streams ? &fs[pkt->stream_index] : NULL;
        if (!f || !f->src || f->src->pic_state < 0) {
            AV->av_packet_unref(pkt);
            continue;
        }
        if (++n_pkts > SUBS_MAX_PACKETS) {
            dm_set_err(err, errlen, "%s: more than %d subtitle packets", film, SUBS_MAX_PACKETS);
            ret = DM_ETOOBIG;
            goto done;
        }
        if (f->src->info.kind == DM_SUBS_TEXT) {
            ret = decode_text_packet(f->src, &f->cap, f->dec, pkt, f->src->tb, offset_ms);
            AV->av_packet_unref(pkt);
            if (ret < 0)
                goto done;
        } else {
            if (f->src->n_pkts == f->cap) {
                size_t ncap = f->cap ? f->cap * 2 : 64;
                AVPacket **n = realloc(f->src->pkts, ncap * sizeof *n);
                if (!n) {
                    ret = DM_ENOMEM;
                    goto done;
                }
                f->src->pkts = n;
                f->cap = ncap;
            }
            f->src->pkts[f->src->n_pkts] = AV->av_packet_clone(pkt);
            AV->av_packet_unref(pkt);
            if (!f->src->pkts[f->src->n_pkts]) {
                ret = DM_ENOMEM;
                goto done;
            }
            f->src->n_pkts++;
            f->src->info.events = f->src->n_pkts;  /* until decoded: packets */
        }
    }
    for (unsigned i = 0; i < ic->nb_streams; i++)
        if (fs[i].src && fs[i].src->info.kind == DM_SUBS_TEXT && (ret = finish_events(fs[i].src)) < 0)
            goto done;
    ret = 0;
done:
    if (ret == DM_ENOMEM)
        dm_set_err(err, errlen, "%s: out of memory reading the subtitles", film);
    for (unsigned i = 0; fs && i < ic->nb_streams; i++)
        AV->avcodec_free_context(&fs[i].dec);
    free(fs);
    AV->av_packet_free(&pkt);
    AV->avformat_close_input(&ic);
    return ret;
}

/* ------------------------------------------------------------ external files */

typedef struct mem_reader {
    const uint8_t *data;
    size_t len, pos;
} mem_reader;

static int mem_read(void *opaque, uint8_t *buf, int size)
{
    mem_reader *m = opaque;
    size_t left = m->len - m->pos;
    size_t n = (size_t)size < left ? (size_t)size : left;

    if (n == 0)
        return AVERROR_EOF;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (int)n;
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence)
{
    mem_reader *m = opaque;
    int64_t pos;

    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE)
        return (int64_t)m->len;
    if (whence == SEEK_SET)
        pos = offset;
    else if (whence == SEEK_CUR)
        pos = (int64_t)m->pos + offset;
    else if (whence == SEEK_END)
        pos = (int64_t)m->len + offset;
    else
        return AVERROR(EINVAL);
    if (pos < 0 || pos > (int64_t)m->len)
        return AVERROR(EINVAL);
    m->pos = (size_t)pos;
    return pos;
}

/* The project's own look at a text file's structure: the first line that
 * its format's reader will not take, for a message that says what is wrong.
 * Returns the number of bad lines; *line / *what describe the first. */
static int check_timing_lines(const char *fmt, const char *buf, size_t len, int *line, char *what,
                              size_t whatlen)
{
    int bad = 0, n = 0;
    int is_vtt = strcmp(fmt, "vtt") == 0;

    for (size_t i = 0; i < len;) {
        size_t j = i;
        char l[160];
        size_t ll;
        while (j < len && buf[j] != '\n')
            j++;
        n++;
        ll = j - i < sizeof l - 1 ? j - i : sizeof l - 1;
        memcpy(l, buf + i, ll);
        l[ll] = 0;
        if (ll && l[ll - 1] == '\r')
            l[--ll] = 0;
        if (strstr(l, "-->")) {
            unsigned h1 = 0, m1, s1, f1, h2 = 0, m2, s2, f2;
            char c1, c2;
            int ok;
            if (is_vtt)
                ok = sscanf(l, "%u:%u:%u.%u --> %u:%u:%u.%u", &h1, &m1, &s1, &f1, &h2, &m2, &s2, &f2) == 8 ||
                     sscanf(l, "%u:%u.%u --> %u:%u.%u", &m1, &s1, &f1, &m2, &s2, &f2) == 6 ||
                     sscanf(l, "%u:%u:%u.%u --> %u:%u.%u", &h1, &m1, &s1, &f1, &m2, &s2, &f2) == 7 ||
                     sscanf(l, "%u:%u.%u --> %u:%u:%u.%u", &m1, &s1, &f1, &h2, &m2, &s2, &f2) == 7;
            else
                ok = sscanf(l, "%u:%u:%u%c%u --> %u:%u:%u%c%u", &h1, &m1, &s1, &c1, &f1, &h2, &m2, &s2,
                            &c2, &f2) == 10 &&
                     (c1 == ',' || c1 == '.') && (c2 == ',' || c2 == '.');
            if (!ok) {
                if (!bad++) {
                    *line = n;
                    AV->av_strlcpy(what, l, whatlen);
                }
            }
        }
        i = j + 1;
    }
    return bad;
}

/* Why a file gave no event, in one clause. */
static void explain_empty(const char *fmt, const char *buf, size_t len, char *why, size_t whylen)
{
    int line = 0;
    char what[96];

    if (strcmp(fmt, "ass") == 0 || strcmp(fmt, "ssa") == 0) {
        if (!AV->av_stristr(buf, "[Script Info]"))
            dm_set_err(why, whylen, "no [Script Info] section: not an ASS/SSA script");
        else if (!AV->av_stristr(buf, "[Events]"))
            dm_set_err(why, whylen, "no [Events] section");
        else if (!AV->av_stristr(buf, "Dialogue:"))
            dm_set_err(why, whylen, "no Dialogue line in [Events]");
        else
            dm_set_err(why, whylen, "no Dialogue line could be read (each needs Layer, Start, End, Style, "
                                    "Name, MarginL, MarginR, MarginV, Effect, Text; times as H:MM:SS.cc)");
        return;
    }
    if (strcmp(fmt, "vtt") == 0 && (len < 6 || strncmp(buf, "WEBVTT", 6) != 0)) {
        dm_set_err(why, whylen, "does not start with \"WEBVTT\": not a WebVTT file");
        return;
    }
    if (check_timing_lines(fmt, buf, len, &line, what, sizeof what))
        dm_set_err(why, whylen, "line %d: \"%s\" is not a cue timing line (%s)", line, what,
                   strcmp(fmt, "vtt") == 0 ? "HH:MM:SS.mmm --> HH:MM:SS.mmm"
                                           : "HH:MM:SS,mmm --> HH:MM:SS,mmm");
    else
        dm_set_err(why, whylen, "no cue (a timing line \"%s\" followed by text) found",
                   strcmp(fmt, "vtt") == 0 ? "HH:MM:SS.mmm --> HH:MM:SS.mmm"
                                           : "HH:MM:SS,mmm --> HH:MM:SS,mmm");
}

static const char *demuxer_for(const char *fmt)
{
    if (strcmp(fmt, "srt") == 0)
        return "srt";
    if (strcmp(fmt, "vtt") == 0)
        return "webvtt";
    if (strcmp(fmt, "ass") == 0 || strcmp(fmt, "ssa") == 0)
        return "ass";
    return NULL;
}

static const char *format_name(const char *fmt)
{
    if (strcmp(fmt, "srt") == 0)
        return "SubRip";
    if (strcmp(fmt, "vtt") == 0)
        return "WebVTT";
    return "ASS/SSA";
}

/* Read UTF-8 text of format `fmt` into src through libavformat and libavcodec. */
static int read_text_file(subs_shared *sh, subs_source *src, const char *utf8, size_t len,
                          const char *fmt, const char *name, char *err, size_t errlen)
{
    const AVInputFormat *ifmt = AV->av_find_input_format(demuxer_for(fmt));
    mem_reader mem = {(const uint8_t *)utf8, len, 0};
    AVFormatContext *ic = NULL;
    AVIOContext *pb = NULL;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = NULL;
    unsigned char *iobuf = NULL;
    char why[200];
    size_t cap = 0;
    int ret, si = -1;

    if (!ifmt) {
        dm_set_err(err, errlen, "%s: this libavformat cannot read %s files", name, format_name(fmt));
        return DM_EFORMAT;
    }
    /* libavformat's readers, told the format, take files their own probes
     * would refuse: hold them to what the formats require */
    if ((strcmp(fmt, "vtt") == 0 &&
         (len < 6 || strncmp(utf8, "WEBVTT", 6) != 0 ||
          (len > 6 && utf8[6] != ' ' && utf8[6] != '\t' && utf8[6] != '\n' && utf8[6] != '\r'))) ||
        ((strcmp(fmt, "ass") == 0 || strcmp(fmt, "ssa") == 0) && !AV->av_stristr(utf8, "[Script Info]"))) {
        explain_empty(fmt, utf8, len, why, sizeof why);
        dm_set_err(err, errlen, "%s: not a %s file: %s", name, format_name(fmt), why);
        return DM_EPARSE;
    }
    iobuf = AV->av_malloc(4096);
    ic = AV->avformat_alloc_context();
    pb = iobuf ? AV->avio_alloc_context(iobuf, 4096, 0, &mem, mem_read, NULL, mem_seek) : NULL;
    if (!iobuf || !ic || !pb) {
        if (!pb)
            AV->av_free(iobuf);
        ret = DM_ENOMEM;
        goto done;
    }
    ic->pb = pb;
    ic->flags |= AVFMT_FLAG_CUSTOM_IO;
    ret = AV->avformat_open_input(&ic, "", ifmt, NULL);  /* frees ic on failure */
    if (ret < 0) {
        dm_set_err(err, errlen, "%s: not a valid %s file (libavformat: %s)", name, format_name(fmt),
                   av_error(ret));
        ret = DM_EPARSE;
        goto done;
    }
    for (unsigned i = 0; i < ic->nb_streams; i++)
        if (ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE) {
            si = (int)i;
            break;
        }
    if (si < 0) {
        dm_set_err(err, errlen, "%s: libavformat found no subtitle stream in it", name);
        ret = DM_EPARSE;
        goto done;
    }
    ret = open_decoder(ic->streams[si]->codecpar, ic->streams[si]->time_base, &dec, why, sizeof why);
    if (ret < 0) {
        dm_set_err(err, errlen, "%s: %s", name, why);
        goto done;
    }
    AV->av_strlcpy(src->info.codec, AV->avcodec_get_name(ic->streams[si]->codecpar->codec_id),
               sizeof src->info.codec);
    if (dec->subtitle_header && (ret = set_header(src, (const char *)dec->subtitle_header,
                                                  (size_t)dec->subtitle_header_size)) < 0)
        goto done;
    pkt = AV->av_packet_alloc();
    if (!pkt) {
        ret = DM_ENOMEM;
        goto done;
    }
    while ((ret = AV->av_read_frame(ic, pkt)) >= 0) {
        if (pkt->stream_index == si)
            ret = decode_text_packet(src, &cap, dec, pkt, ic->streams[si]->time_base, 0);
        AV->av_packet_unref(pkt);
        if (ret < 0)
            goto done;
    }
    ret = finish_events(src);
    if (ret < 0)
        goto done;
    if (src->n_ev == 0) {
        explain_empty(fmt, utf8, len, why, sizeof why);
        dm_set_err(err, errlen, "%s: no subtitle could be read from this %s file: %s", name,
                   format_name(fmt), why);
        ret = DM_EPARSE;
        goto done;
    }
    if (strcmp(fmt, "ass") && strcmp(fmt, "ssa")) {
        int line = 0, bad;
        char what[96];
        bad = check_timing_lines(fmt, utf8, len, &line, what, sizeof what);
        if (bad)
            subs_log_to(sh->log, sh->log_ud, DM_SUBS_LOG_WARN,
                        "%s: %d cue(s) skipped; the first, line %d: \"%s\" is not a timing line", name,
                        bad, line, what);
    }
    ret = 0;
done:
    if (ret == DM_ENOMEM)
        dm_set_err(err, errlen, "%s: out of memory", name);
    AV->av_packet_free(&pkt);
    AV->avcodec_free_context(&dec);
    AV->avformat_close_input(&ic);
    if (pb) {
        AV->av_freep(&pb->buffer);
        AV->avio_context_free(&pb);
    }
    return ret;
}

static const char *format_from_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');

    if (!dot || (slash && dot < slash))
        return NULL;
    if (strcasecmp(dot, ".srt") == 0)
        return "srt";
    if (strcasecmp(dot, ".vtt") == 0)
        return "vtt";
    if (strcasecmp(dot, ".ass") == 0)
        return "ass";
    if (strcasecmp(dot, ".ssa") == 0)
        return "ssa";
    return NULL;
}

int subs_load_memory(subs_shared *sh, const void *data, size_t len, const char *format,
                     const char *name, const char *codepage, char *err, size_t errlen)
{
    subs_source *src;
    char *utf8 = NULL;
    size_t ulen = 0;
    int ret;

    if (!dm_av_load(err, errlen))
        return DM_EIO;
    if (!format || !demuxer_for(format)) {
        dm_set_err(err, errlen, "%s: unknown subtitle format \"%s\" (expected srt, ass, ssa or vtt)",
                   name, format ? format : "");
        return DM_EFORMAT;
    }
    src = source_new(sh, name);
    if (!src) {
        dm_set_err(err, errlen, "%s: out of memory", name);
        return DM_ENOMEM;
    }
    src->info.external = 1;
    src->info.kind = DM_SUBS_TEXT;
    ret = dm_subs_to_utf8(data, len, codepage, &utf8, &ulen, src->info.codepage,
                          sizeof src->info.codepage, err, errlen);
    if (ret < 0) {
        /* err says what of the encoding; name the file */
        char inner[256];
        AV->av_strlcpy(inner, err ? err : "", sizeof inner);
        dm_set_err(err, errlen, "%s: %s", name, inner);
        source_drop_last(sh);
        return ret;
    }
    ret = read_text_file(sh, src, utf8, ulen, format, name, err, errlen);
    free(utf8);
    if (ret < 0) {
        source_drop_last(sh);
        return ret;
    }
    return 0;
}

int subs_load_file(subs_shared *sh, const char *path, int auto_loaded, const char *codepage,
                   char *err, size_t errlen)
{
    const char *fmt = format_from_path(path);
    FILE *f;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int ret;

    if (!dm_av_load(err, errlen))
        return DM_EIO;
    if (!fmt) {
        const char *dot = strrchr(path, '.');
        dm_set_err(err, errlen, "%s: unknown subtitle extension \"%s\" (expected .srt, .ass, .ssa or .vtt)",
                   path, dot ? dot : "");
        return DM_EFORMAT;
    }
    f = fopen(path, "rb");
    if (!f) {
        dm_set_err(err, errlen, "%s: %s", path, strerror(errno));
        return DM_EIO;
    }
    for (;;) {
        size_t got;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *n;
            if (cap >= DM_SUBS_MAX_FILE_BYTES) {
                fclose(f);
                free(buf);
                dm_set_err(err, errlen, "%s: larger than %u MiB, not a subtitle file", path,
                           DM_SUBS_MAX_FILE_BYTES >> 20);
                return DM_ETOOBIG;
            }
            n = realloc(buf, ncap + 1);
            if (!n) {
                fclose(f);
                free(buf);
                dm_set_err(err, errlen, "%s: out of memory", path);
                return DM_ENOMEM;
            }
            buf = n;
            cap = ncap;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        dm_set_err(err, errlen, "%s: read error", path);
        fclose(f);
        free(buf);
        return DM_EIO;
    }
    fclose(f);
    ret = subs_load_memory(sh, buf, len, fmt, path, codepage, err, errlen);
    free(buf);
    if (ret == 0) {
        subs_source *src = sh->src[sh->n_src - 1];
        const char *base = strrchr(path, '/');
        src->info.auto_loaded = auto_loaded;
        dm_subs_lang_from_name(NULL, base ? base + 1 : path, src->info.lang, sizeof src->info.lang);
    }
    return ret;
}

/* ------------------------------------------------------------ pictures */

static int cmp_pic(const void *a, const void *b)
{
    const subs_pic_event *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Copy the covered part of a PAL8 rectangle; *out->index is NULL when the
 * rectangle covers nothing. */
static int copy_pic_rect(const AVSubtitleRect *r, subs_pic_rect *out)
{
    int x0 = r->w, y0 = r->h, x1 = -1, y1 = -1;
    const uint32_t *pal = (const uint32_t *)r->data[1];

    memset(out, 0, sizeof *out);
    if (r->type != SUBTITLE_BITMAP || r->w <= 0 || r->h <= 0 || !r->data[0] || !pal ||
        r->nb_colors <= 0 || r->nb_colors > 256)
        return 0;
    for (int i = 0; i < r->nb_colors; i++)
        out->palette[i] = pal[i];
    for (int y = 0; y < r->h; y++) {
        const uint8_t *row = r->data[0] + (ptrdiff_t)y * r->linesize[0];
        for (int x = 0; x < r->w; x++)
            if (row[x] < r->nb_colors && (out->palette[row[x]] >> 24)) {
                if (x < x0)
                    x0 = x;
                if (x > x1)
                    x1 = x;
                if (y < y0)
                    y0 = y;
                y1 = y;
            }
    }
    if (x1 < 0)
        return 0;
    out->x = r->x + x0;
    out->y = r->y + y0;
    out->w = x1 - x0 + 1;
    out->h = y1 - y0 + 1;
    out->index = malloc((size_t)out->w * (size_t)out->h);
    if (!out->index)
        return DM_ENOMEM;
    for (int y = 0; y < out->h; y++) {
        const uint8_t *row = r->data[0] + (ptrdiff_t)(y + y0) * r->linesize[0] + x0;
        for (int x = 0; x < out->w; x++)
            out->index[(size_t)y * (size_t)out->w + (size_t)x] = row[x];
    }
    /* palette entries past nb_colors stay 0: transparent */
    return 0;
}

int subs_load_pictures(subs_source *src, int video_w, int video_h, char *err, size_t errlen)
{
    AVCodecContext *dec = NULL;
    size_t cap = 0;
    int ret = 0;
    char why[200];

    if (!dm_av_load(err, errlen))
        return DM_EIO;
    pthread_mutex_lock(&src->lock);
    if (src->pic_state != 0) {
        ret = src->pic_state > 0 ? 0 : src->pic_state;
        if (ret < 0)
            dm_set_err(err, errlen, "%s", src->pic_err);
        pthread_mutex_unlock(&src->lock);
        return ret;
    }
    ret = open_decoder(src->par, src->tb, &dec, why, sizeof why);
    if (ret < 0) {
        dm_set_err(src->pic_err, sizeof src->pic_err, "subtitle track %d (%s): %s", src->info.sid,
                   src->info.codec, why);
        goto done;
    }
    for (size_t i = 0; i < src->n_pkts; i++) {
        const AVPacket *pkt = src->pkts[i];
        AVSubtitle sub;
        int got = 0;
        int64_t start, end = -1;
        subs_pic_event ev;

        if (pkt->pts == AV_NOPTS_VALUE)
            continue;
        memset(&sub, 0, sizeof sub);
        if (AV->avcodec_decode_subtitle2(dec, &sub, &got, (AVPacket *)pkt) < 0 || !got)
            continue;  /* a damaged packet loses its picture, not the track */
        start = ts_to_ms(pkt->pts, src->tb) - src->offset_ms + sub.start_display_time;
        if (sub.end_display_time > sub.start_display_time && sub.end_display_time != UINT32_MAX)
            end = ts_to_ms(pkt->pts, src->tb) - src->offset_ms + sub.end_display_time;
        else if (pkt->duration > 0)
            end = ts_to_ms(pkt->pts + pkt->duration, src->tb) - src->offset_ms;
        /* a new display set (or an empty one) ends what was shown before */
        if (src->n_pics && src->pics[src->n_pics - 1].end > start &&
            src->pics[src->n_pics - 1].start <= start)
            src->pics[src->n_pics - 1].end = start;
        memset(&ev, 0, sizeof ev);
        ev.start = start;
        ev.end = end;
        if (sub.num_rects) {
            ev.rects = calloc(sub.num_rects, sizeof *ev.rects);
            if (!ev.rects) {
                AV->avsubtitle_free(&sub);
                ret = DM_ENOMEM;
                goto done;
            }
            for (unsigned j = 0; j < sub.num_rects; j++) {
                ret = copy_pic_rect(sub.rects[j], &ev.rects[ev.n]);
                if (ret < 0) {
                    for (int k = 0; k < ev.n; k++)
                        free(ev.rects[k].index);
                    free(ev.rects);
                    AV->avsubtitle_free(&sub);
                    goto done;
                }
                if (ev.rects[ev.n].index)
                    ev.n++;
            }
        }
        AV->avsubtitle_free(&sub);
        if (ev.n == 0) {
            free(ev.rects);
            continue;
        }
        if (src->n_pics == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            subs_pic_event *n = realloc(src->pics, ncap * sizeof *n);
            if (!n) {
                for (int k = 0; k < ev.n; k++)
                    free(ev.rects[k].index);
                free(ev.rects);
                ret = DM_ENOMEM;
                goto done;
            }
            src->pics = n;
            cap = ncap;
        }
        src->pics[src->n_pics++] = ev;
    }
    if (src->n_pics > 1)
        qsort(src->pics, src->n_pics, sizeof *src->pics, cmp_pic);
    for (size_t i = 0; i < src->n_pics; i++) {
        subs_pic_event *ev = &src->pics[i];
        int64_t next = i + 1 < src->n_pics ? src->pics[i + 1].start : INT64_MAX;
        if (ev->end < 0)
            ev->end = next - ev->start > SUBS_OPEN_END_MS ? ev->start + SUBS_OPEN_END_MS : next;
        else if (ev->end > next)
            ev->end = next;
    }
    src->canvas_w = dec->width > 0 ? dec->width : src->par->width;
    src->canvas_h = dec->height > 0 ? dec->height : src->par->height;
    if (src->canvas_w <= 0 || src->canvas_h <= 0) {
        src->canvas_w = video_w;
        src->canvas_h = video_h;
    }
    src->info.events = src->n_pics;
    ret = 0;
done:
    AV->avcodec_free_context(&dec);
    if (ret == DM_ENOMEM)
        dm_set_err(src->pic_err, sizeof src->pic_err, "out of memory decoding subtitle track %d",
                   src->info.sid);
    src->pic_state = ret < 0 ? ret : 1;
    if (ret == 0) {
        /* the packets are not needed any more */
        for (size_t i = 0; i < src->n_pkts; i++)
            AV->av_packet_free(&src->pkts[i]);
        free(src->pkts);
        src->pkts = NULL;
        src->n_pkts = 0;
    } else {
        dm_set_err(err, errlen, "%s", src->pic_err);
    }
    pthread_mutex_unlock(&src->lock);
    return ret;
}
