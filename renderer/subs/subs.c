/*
 * subs.c - the dm_subs handle: opening a film's subtitles, the track list
 * and mpv's choice rules, settings, the OSD line, and the libass objects a
 * handle owns (library with the film's fonts, renderers, tracks).
 */
#include "subs_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#define SUBS_DEFAULT_W 1920
#define SUBS_DEFAULT_H 1080

/* ------------------------------------------------------------ messages */

static void vlog_to(void (*log)(void *, int, const char *), void *ud, int level, const char *fmt,
                    va_list ap) __attribute__((format(printf, 4, 0)));

static void vlog_to(void (*log)(void *, int, const char *), void *ud, int level, const char *fmt,
                    va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof msg, fmt, ap);
    if (log)
        log(ud, level, msg);
    else if (level <= DM_SUBS_LOG_WARN)
        fprintf(stderr, "subtitles: %s\n", msg);
}

void subs_log_to(void (*log)(void *, int, const char *), void *ud, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_to(log, ud, level, fmt, ap);
    va_end(ap);
}

void subs_log(const dm_subs *s, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_to(s ? s->log : NULL, s ? s->log_ud : NULL, level, fmt, ap);
    va_end(ap);
}

/* libass's messages: all of them to the caller's log, only errors to stderr
 * without one (libass warns about every odd tag). */
static void ass_message(int level, const char *fmt, va_list ap, void *ud)
    __attribute__((format(printf, 2, 0)));

static void ass_message(int level, const char *fmt, va_list ap, void *ud)
{
    dm_subs *s = ud;
    char msg[512];

    if (!s->log && level > DM_SUBS_LOG_ERROR)
        return;
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (s->log)
        s->log(s->log_ud, level, msg);
    else
        fprintf(stderr, "subtitles: libass: %s\n", msg);
}

/* ------------------------------------------------------------ shared data */

static void shared_unref(subs_shared *sh)
{
    if (!sh || atomic_fetch_sub(&sh->refs, 1) != 1)
        return;
    for (size_t i = 0; i < sh->n_src; i++)
        subs_source_free(sh->src[i]);
    free(sh->src);
    for (size_t i = 0; i < sh->n_fonts; i++) {
        free(sh->fonts[i].name);
        free(sh->fonts[i].data);
    }
    free(sh->fonts);
    free(sh->slang);
    free(sh);
}

static dm_subs *handle_new(subs_shared *sh)
{
    dm_subs *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->fonts_given = calloc(sh->n_src ? sh->n_src : 1, 1);
    if (!s->fonts_given) {
        free(s);
        return NULL;
    }
    atomic_fetch_add(&sh->refs, 1);
    s->sh = sh;
    s->scale = 1.0;
    s->anim_step_ms = 40;
    s->dirty = 1;
    return s;
}

void dm_subs_destroy(dm_subs **sp)
{
    dm_subs *s;

    if (!sp || !*sp)
        return;
    s = *sp;
    subs_render_reset(s);
    if (s->track)
        ass_free_track(s->track);
    if (s->rend)
        ass_renderer_done(s->rend);
    if (s->lib)
        ass_library_done(s->lib);
    free(s->coll_start);
    free(s->coll_run);
    free(s->coll_maxend);
    for (size_t i = 0; i < s->n_scaled; i++)
        free(s->scaled[i].argb);
    free(s->scaled);
    free(s->pic_active);
    subs_canvas_free(&s->canvas[0]);
    subs_canvas_free(&s->canvas[1]);
    free(s->fonts_given);
    shared_unref(s->sh);
    free(s);
    *sp = NULL;
}

static int check_opts(const dm_subs_opts *o, char *err, size_t errlen)
{
    if (o->scale < 0.1 || o->scale > 10.0) {
        dm_set_err(err, errlen, "subtitle scale %g is outside 0.1 .. 10", o->scale);
        return DM_EINVAL;
    }
    if (o->anim_step_ms < 1 || o->anim_step_ms > 1000) {
        dm_set_err(err, errlen, "subtitle sampling step %d ms is outside 1 .. 1000", o->anim_step_ms);
        return DM_EINVAL;
    }
    if (o->sid < DM_SUBS_SID_AUTO) {
        dm_set_err(err, errlen, "subtitle track %d does not exist (use a track number, \"no\" or auto)", o->sid);
        return DM_EINVAL;
    }
    if (o->video_w < 0 || o->video_h < 0 || o->video_w > 16384 || o->video_h > 16384) {
        dm_set_err(err, errlen, "video size %dx%d is not valid", o->video_w, o->video_h);
        return DM_EINVAL;
    }
    return 0;
}

/* Files given with --sub, then the ones beside the film (skipping any given). */
static int load_files(subs_shared *sh, const char *film, const dm_subs_opts *o, char *err,
                      size_t errlen)
{
    int ret;

    for (size_t i = 0; i < o->n_files; i++)
        if ((ret = subs_load_file(sh, o->files[i], 0, o->codepage, err, errlen)) < 0)
            return ret;
    if (film && o->auto_load) {
        char **paths;
        size_t n;
        if ((ret = dm_subs_find_auto(film, &paths, &n)) < 0) {
            dm_set_err(err, errlen, "out of memory");
            return ret;
        }
        for (size_t i = 0; i < n; i++) {
            int given = 0;
            char why[320], *found = realpath(paths[i], NULL);
            for (size_t j = 0; j < o->n_files && !given; j++) {
                char *g = realpath(o->files[j], NULL);
                given = strcmp(o->files[j], paths[i]) == 0 || (g && found && strcmp(g, found) == 0);
                free(g);
            }
            free(found);
            if (given)
                continue;
            /* a broken file nobody asked for is a warning, not a failure */
            ret = subs_load_file(sh, paths[i], 1, o->codepage, why, sizeof why);
            if (ret == DM_ENOMEM) {
                dm_subs_paths_free(&paths);
                dm_set_err(err, errlen, "out of memory");
                return ret;
            }
            if (ret < 0)
                subs_log_to(sh->log, sh->log_ud, DM_SUBS_LOG_WARN, "not loaded: %s", why);
        }
        dm_subs_paths_free(&paths);
    }
    return 0;
}

static int open_common(dm_subs **out, const char *film, const void *data, size_t len,
                       const char *format, const char *name, const dm_subs_opts *opts, char *err,
                       size_t errlen)
{
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    subs_shared *sh;
    dm_subs *s;
    int ret, sid;

    *out = NULL;
    if (opts)
        o = *opts;
    if ((ret = check_opts(&o, err, errlen)) < 0)
        return ret;
    sh = calloc(1, sizeof *sh);
    if (!sh) {
        dm_set_err(err, errlen, "out of memory");
        return DM_ENOMEM;
    }
    atomic_init(&sh->refs, 0);
    sh->log = o.log;
    sh->log_ud = o.log_ud;
    if (o.slang && !(sh->slang = strdup(o.slang))) {
        free(sh);
        dm_set_err(err, errlen, "out of memory");
        return DM_ENOMEM;
    }
    if (film)
        ret = subs_load_film(sh, film, err, errlen);
    else if (data)
        ret = subs_load_memory(sh, data, len, format, name ? name : "(memory)", o.codepage, err, errlen);
    else
        ret = 0;
    if (ret == 0)
        ret = load_files(sh, data ? NULL : film, &o, err, errlen);
    if (sh->video_w <= 0 || sh->video_h <= 0) {
        sh->video_w = o.video_w ? o.video_w : SUBS_DEFAULT_W;
        sh->video_h = o.video_h ? o.video_h : SUBS_DEFAULT_H;
    }
    s = ret == 0 ? handle_new(sh) : NULL;
    if (!s) {
        if (ret == 0) {
            ret = DM_ENOMEM;
            dm_set_err(err, errlen, "out of memory");
        }
        atomic_fetch_add(&sh->refs, 1);
        shared_unref(sh);
        return ret;
    }
    s->log = o.log;
    s->log_ud = o.log_ud;
    s->delay_ms = o.delay_ms;
    s->scale = o.scale;
    s->anim_step_ms = o.anim_step_ms;
    sid = o.sid == DM_SUBS_SID_AUTO ? dm_subs_default_sid(s, o.slang) : o.sid;
    if (sid > dm_subs_track_count(s)) {
        dm_set_err(err, errlen, "--sid %d: %s has %d subtitle track%s", sid, film ? film : "the input",
                   dm_subs_track_count(s), dm_subs_track_count(s) == 1 ? "" : "s");
        dm_subs_destroy(&s);
        return DM_EINVAL;
    }
    if ((ret = dm_subs_select(s, sid, err, errlen)) < 0) {
        if (o.sid != DM_SUBS_SID_AUTO) {
            dm_subs_destroy(&s);
            return ret;
        }
        /* the default pick cannot be decoded: say so, show none */
        subs_log(s, DM_SUBS_LOG_WARN, "%s", err);
        if (err && errlen)
            err[0] = 0;
        dm_subs_select(s, DM_SUBS_SID_NO, NULL, 0);
    }
    *out = s;
    return 0;
}

int dm_subs_open(dm_subs **out, const char *film, const dm_subs_opts *opts, char *err, size_t errlen)
{
    if (!out)
        return DM_EINVAL;
    return open_common(out, film, NULL, 0, NULL, NULL, opts, err, errlen);
}

int dm_subs_open_memory(dm_subs **out, const void *data, size_t len, const char *format,
                        const char *name, const dm_subs_opts *opts, char *err, size_t errlen)
{
    if (!out)
        return DM_EINVAL;
    *out = NULL;
    if (!data && len) {
        dm_set_err(err, errlen, "no data");
        return DM_EINVAL;
    }
    return open_common(out, NULL, data ? data : "", len, format, name, opts, err, errlen);
}

int dm_subs_clone(const dm_subs *src, dm_subs **out, char *err, size_t errlen)
{
    dm_subs *s;

    if (!src || !out)
        return DM_EINVAL;
    *out = NULL;
    s = handle_new(src->sh);
    if (!s) {
        dm_set_err(err, errlen, "out of memory");
        return DM_ENOMEM;
    }
    s->log = src->log;
    s->log_ud = src->log_ud;
    s->delay_ms = src->delay_ms;
    s->scale = src->scale;
    s->anim_step_ms = src->anim_step_ms;
    {
        int ret = dm_subs_select(s, src->sid, err, errlen);
        if (ret < 0) {
            dm_subs_destroy(&s);
            return ret;
        }
    }
    *out = s;
    return 0;
}

/* ------------------------------------------------------------ tracks */

int dm_subs_track_count(const dm_subs *s)
{
    return s ? (int)s->sh->n_src : 0;
}

int dm_subs_track_get(const dm_subs *s, int sid, dm_subs_track *out)
{
    subs_source *src;

    if (!s || !out || sid < 1 || sid > (int)s->sh->n_src)
        return DM_EINVAL;
    src = s->sh->src[sid - 1];
    pthread_mutex_lock(&src->lock);  /* a picture track's count changes once decoded */
    *out = src->info;
    pthread_mutex_unlock(&src->lock);
    return 0;
}

/* Does a track's language match one preferred code? "en" matches "en",
 * "eng" and "en-US"; ISO 639-2 codes match their 639-1 form and back. */
static int lang_matches(const char *want, size_t wl, const char *lang)
{
    static const char *const pairs[][3] = {
        {"en", "eng", NULL}, {"zh", "chi", "zho"}, {"ja", "jpn", NULL}, {"ko", "kor", NULL},
        {"fr", "fre", "fra"}, {"de", "ger", "deu"}, {"es", "spa", NULL}, {"it", "ita", NULL},
        {"ru", "rus", NULL}, {"pt", "por", NULL}, {"ar", "ara", NULL}, {"nl", "dut", "nld"},
        {"sv", "swe", NULL}, {"pl", "pol", NULL}, {"tr", "tur", NULL}, {"vi", "vie", NULL},
        {"th", "tha", NULL}, {"id", "ind", NULL}, {"hi", "hin", NULL}, {"uk", "ukr", NULL},
    };
    size_t ll = strcspn(lang, "-_");  /* the primary subtag */

    if (!lang[0] || !wl)
        return 0;
    if (wl == ll && strncasecmp(want, lang, wl) == 0)
        return 1;
    if (strlen(lang) == wl && strncasecmp(want, lang, wl) == 0)
        return 1;  /* "pt-BR" asked, "pt-BR" given */
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        int a = 0, b = 0;
        for (int k = 0; k < 3 && pairs[i][k]; k++) {
            if (strlen(pairs[i][k]) == wl && strncasecmp(pairs[i][k], want, wl) == 0)
                a = 1;
            if (strlen(pairs[i][k]) == ll && strncasecmp(pairs[i][k], lang, ll) == 0)
                b = 1;
        }
        if (a && b)
            return 1;
    }
    return 0;
}

/* Rank of a track's language in slang: 0 when it is not there, higher for
 * earlier languages. */
static int lang_rank(const char *slang, const char *lang)
{
    int n = 0, idx = 0, found = -1;

    for (const char *p = slang ? slang : ""; *p;) {
        size_t wl = strcspn(p, ", ");
        if (wl) {
            if (found < 0 && lang_matches(p, wl, lang))
                found = idx;
            idx++;
        }
        p += wl;
        while (*p == ',' || *p == ' ')
            p++;
    }
    n = idx;
    return found < 0 ? 0 : n - found;
}

int dm_subs_default_sid(const dm_subs *s, const char *slang)
{
    const subs_shared *sh;
    int best = DM_SUBS_SID_NO, bkey[5] = {0, 0, 0, 0, 0};

    if (!s)
        return DM_SUBS_SID_NO;
    sh = s->sh;
    /* mpv's order: --sub files, then files beside the film, then the film's
     * streams; within each, the viewer's languages, then forced, then default */
    for (size_t i = 0; i < sh->n_src; i++) {
        const dm_subs_track *t = &sh->src[i]->info;
        int key[5] = {t->external && !t->auto_loaded, t->auto_loaded, lang_rank(slang, t->lang),
                      t->is_forced, t->is_default};
        int better = best == DM_SUBS_SID_NO;
        for (int k = 0; k < 5 && !better; k++) {
            if (key[k] != bkey[k]) {
                better = key[k] > bkey[k];
                break;
            }
        }
        if (better) {
            best = (int)i + 1;
            memcpy(bkey, key, sizeof key);
        }
    }
    /* a stream of the film nobody asked for stays off */
    if (best != DM_SUBS_SID_NO && !bkey[0] && !bkey[1] && !bkey[2] && !bkey[3] && !bkey[4])
        return DM_SUBS_SID_NO;
    return best;
}

int dm_subs_sid(const dm_subs *s)
{
    return s ? s->sid : DM_SUBS_SID_NO;
}

subs_source *subs_selected(const dm_subs *s)
{
    if (!s || s->sid < 1 || s->sid > (int)s->sh->n_src)
        return NULL;
    return s->sh->src[s->sid - 1];
}

int dm_subs_select(dm_subs *s, int sid, char *err, size_t errlen)
{
    subs_source *src;
    int ret;

    if (!s)
        return DM_EINVAL;
    if (sid == DM_SUBS_SID_AUTO)
        sid = dm_subs_default_sid(s, s->sh->slang);
    if (sid < 0 || sid > (int)s->sh->n_src) {
        dm_set_err(err, errlen, "subtitle track %d does not exist (there %s %zu)", sid,
                   s->sh->n_src == 1 ? "is" : "are", s->sh->n_src);
        return DM_EINVAL;
    }
    if (sid == DM_SUBS_SID_NO) {
        s->sid = DM_SUBS_SID_NO;
        subs_render_reset(s);
        return 0;
    }
    src = s->sh->src[sid - 1];
    if (src->info.kind == DM_SUBS_BITMAP) {
        if ((ret = subs_load_pictures(src, s->sh->video_w, s->sh->video_h, err, errlen)) < 0)
            return ret;
    } else if (src->pic_state < 0) {
        dm_set_err(err, errlen, "subtitle track %d (%s): %s", sid, src->info.codec, src->pic_err);
        return src->pic_state;
    }
    s->sid = sid;
    subs_render_reset(s);
    return 0;
}

int dm_subs_cycle(dm_subs *s, int step, char *err, size_t errlen)
{
    int n, sid, ret;

    if (!s || (step != 1 && step != -1))
        return DM_EINVAL;
    n = (int)s->sh->n_src;
    sid = s->sid;
    /* 0 (none) is one stop of the cycle; skip tracks that cannot be shown */
    for (int tries = 0; tries <= n; tries++) {
        sid = (sid + step + n + 1) % (n + 1);
        if (sid == DM_SUBS_SID_NO)
            break;
        ret = dm_subs_select(s, sid, err, errlen);
        if (ret == DM_ENOMEM)
            return ret;
        if (ret == 0)
            return sid;
    }
    dm_subs_select(s, DM_SUBS_SID_NO, NULL, 0);
    return DM_SUBS_SID_NO;
}

void dm_subs_set_delay(dm_subs *s, int64_t delay_ms)
{
    if (!s || s->delay_ms == delay_ms)
        return;
    s->delay_ms = delay_ms;
    /* the same placements, at other film times: only the frame is stale */
    s->dirty = 1;
}

int64_t dm_subs_delay(const dm_subs *s)
{
    return s ? s->delay_ms : 0;
}

int dm_subs_set_scale(dm_subs *s, double scale)
{
    if (!s || !(scale >= 0.1 && scale <= 10.0))
        return DM_EINVAL;
    if (s->scale != scale) {
        s->scale = scale;
        subs_render_reset(s);
    }
    return 0;
}

double dm_subs_scale(const dm_subs *s)
{
    return s ? s->scale : 1.0;
}

int dm_subs_osd(const dm_subs *s, char *buf, size_t len)
{
    const subs_source *src = subs_selected(s);
    char delay[48] = "";

    if (!s)
        return snprintf(buf, len, "Subtitles: none");
    if (s->delay_ms)
        snprintf(delay, sizeof delay, " delay %+.1f s", (double)s->delay_ms / 1000.0);
    if (!src)
        return snprintf(buf, len, "Subtitles: none (%zu track%s)%s", s->sh->n_src,
                        s->sh->n_src == 1 ? "" : "s", delay);
    return snprintf(buf, len, "Subtitles %d/%zu:%s%s%s%s%s (%s%s)%s", s->sid, s->sh->n_src,
                    src->info.lang[0] ? " [" : "", src->info.lang, src->info.lang[0] ? "]" : "",
                    src->info.title[0] ? " " : "", src->info.title, src->info.codec,
                    src->info.external ? ", external" : "", delay);
}

/* ------------------------------------------------------------ libass */

int subs_ass_init(dm_subs *s)
{
    if (s->lib)
        return 0;
    s->lib = ass_library_init();
    if (!s->lib)
        return DM_ENOMEM;
    ass_set_message_cb(s->lib, ass_message, s);
    /* fonts of ASS scripts' [Fonts] sections, as mpv loads them */
    ass_set_extract_fonts(s->lib, 1);
    for (size_t i = 0; i < s->sh->n_fonts; i++)
        ass_add_font(s->lib, s->sh->fonts[i].name, s->sh->fonts[i].data, s->sh->fonts[i].size);
    return 0;
}

ASS_Renderer *subs_ass_renderer(dm_subs *s, int stage_w, int stage_h, double scale)
{
    ASS_Renderer *r;

    if (subs_ass_init(s) < 0)
        return NULL;
    r = ass_renderer_init(s->lib);
    if (!r)
        return NULL;
    ass_set_frame_size(r, stage_w, stage_h);
    ass_set_storage_size(r, s->sh->video_w, s->sh->video_h);
    ass_set_font_scale(r, scale);
    ass_set_fonts(r, NULL, "sans-serif", ASS_FONTPROVIDER_AUTODETECT, NULL, 1);
    return r;
}

ASS_Track *subs_ass_track(dm_subs *s, subs_source *src, ptrdiff_t only)
{
    ASS_Track *t;
    size_t idx = (size_t)(src->info.sid - 1);
    size_t limited;

    if (subs_ass_init(s) < 0)
        return NULL;
    if (src->font_part && !s->fonts_given[idx]) {
        /* a throwaway track reads the script's embedded fonts into the library */
        ASS_Track *ft = ass_new_track(s->lib);
        if (!ft)
            return NULL;
        ass_process_codec_private(ft, src->font_part, src->font_part_len);
        ass_free_track(ft);
        s->fonts_given[idx] = 1;
    }
    t = ass_new_track(s->lib);
    if (!t)
        return NULL;
    /* events are unique already (subs_load); libass must keep them all */
    ass_set_check_readorder(t, 0);
    if (src->header)
        ass_process_codec_private(t, src->header, src->header_len);
    for (size_t i = 0; i < src->n_ev; i++) {
        const subs_text_event *ev = &src->ev[i];
        if (only >= 0 && (size_t)only != i)
            continue;
        ass_process_chunk(t, ev->chunk, ev->chunk_len, ev->start, ev->dur);
    }
    /* a script without a resolution is laid out on the film's pixels (mpv) */
    if (t->PlayResX <= 0 && t->PlayResY <= 0) {
        t->PlayResX = s->sh->video_w;
        t->PlayResY = s->sh->video_h;
    }
    limited = subs_limit_track(t);
    if (limited && only < 0 && !atomic_exchange(&src->limits_reported, 1))
        subs_log(s, DM_SUBS_LOG_WARN,
                 "track %d (%s): %zu size value%s beyond what can be drawn (font size, scale, border, "
                 "drawing) limited", src->info.sid, src->path ? src->path : "embedded", limited,
                 limited == 1 ? "" : "s");
    return t;
}
