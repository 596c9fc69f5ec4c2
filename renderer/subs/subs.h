/*
 * subs.h - dm_subs: a film's subtitles. Finds the subtitle tracks of a film
 * (its own streams and the files beside it), decodes them with libavcodec,
 * renders them with libass (text) or from their pictures (PGS, DVB, DVD),
 * and computes ahead, for the whole film, the boxes they occupy: the
 * obstacles comments keep off.
 *
 *   film --libavformat--> subtitle packets --libavcodec--> ASS events  --libass--> images
 *   FILE.srt/.ass/.vtt --uchardet+iconv--> UTF-8 --^      \-> pictures --scale--^
 *   images --> dm_subs_frame (straight-alpha ARGB8888 rectangles) --> player / burn-in
 *   whole track, walked in time order --> dm_obstacle[] --> the comment scene
 *
 * Sizes. The stage is the film's display rectangle in the output (what the
 * player and burn-in already compute); every position here is in stage
 * pixels from the stage's top-left corner. As in mpv, libass's frame size is
 * the stage and its storage size is the film's coded picture size, which is
 * also the script resolution (PlayResX/Y) of a track that does not give one.
 * Picture subtitles are scaled from their own canvas (or the film's size) to
 * the stage.
 *
 * Time. Film milliseconds counted from the start of the file (the
 * container's start time is subtracted, as dm_media does). The delay is
 * added to every event: with a delay of +500 ms an event at 10.0 s shows at
 * 10.5 s (mpv's --sub-delay).
 *
 * Determinism. What is drawn at t is a function of (track, settings, stage,
 * t) alone, never of where playback started or which times were drawn
 * before: libass keeps a subtitle where it was first placed when another one
 * collides with it, so after a seek, a jump or a settings change dm_subs
 * replays the placements that lead to t (only those of the overlapping run
 * of events around t) before drawing. dm_subs_obstacles() walks the same way
 * from the start, so its boxes are the boxes that are drawn.
 *
 * Errors: functions that can fail return 0 or a negative DM_E* code
 * (danmaku.h) and, where an `err` buffer is passed, one sentence that names
 * the file and what was wrong with it.
 *
 * Ownership: a dm_subs owns everything it returns pointers to (track paths,
 * frames); those stay valid as the comments below say. Arrays the caller
 * must free say so.
 *
 * Thread-safety: a dm_subs is used by one thread at a time (it may move
 * between threads). Handles made with dm_subs_clone() share the decoded
 * subtitles read-only and may be used on different threads at the same time:
 * the player's main thread, burn-in's compose thread and a worker computing
 * obstacles each hold their own. The pure helpers (dm_subs_find_auto,
 * dm_subs_detect_codepage, dm_subs_to_utf8, dm_subs_frame_blend) touch only
 * what they are given.
 *
 * Example: draw the default track of a film at 1280x720 at 61.2 s, and get
 * the boxes comments must avoid.
 *
 *     dm_subs *subs;
 *     dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
 *     char err[256];
 *     o.slang = "zh,en";
 *     if (dm_subs_open(&subs, "film.mkv", &o, err, sizeof err) < 0)
 *         fprintf(stderr, "danmaku: %s\n", err);            // exit
 *     dm_subs_frame f;
 *     int changed;
 *     dm_subs_render(subs, 61200, 1280, 720, &f, &changed);
 *     if (changed != DM_SUBS_SAME)
 *         for (size_t i = 0; i < f.count; i++)              // upload f.rects[i]
 *             ;
 *     dm_obstacle *obs;
 *     size_t n;
 *     dm_subs_obstacles(subs, 1280, 720, &obs, &n, err, sizeof err);
 *     // obs[0] = {start_ms 61200, end_ms 63900, x 612, y 948, w 696, h 84,
 *     //           kind "subtitle", id "sub-12"}
 *     free(obs);
 *     dm_subs_destroy(&subs);
 */
#ifndef DM_SUBS_H
#define DM_SUBS_H

#include <stddef.h>
#include <stdint.h>

#include "danmaku.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ options */

/* dm_subs_opts.sid and dm_subs_select(): let the default rule choose / none. */
#define DM_SUBS_SID_AUTO (-1)
#define DM_SUBS_SID_NO 0

/* Hard cap on an external subtitle file (bigger files are refused). */
#define DM_SUBS_MAX_FILE_BYTES (64u << 20)

/* Message levels passed to dm_subs_opts.log (libass's: 0 fatal .. 7 debug). */
enum {
    DM_SUBS_LOG_ERROR = 1,
    DM_SUBS_LOG_WARN = 2,
    DM_SUBS_LOG_INFO = 4,   /* e.g. libass's "fontselect: (DejaVu Serif, 400, 0) -> ..." */
    DM_SUBS_LOG_VERBOSE = 6,
};

/*
 * Settings; initialise with DM_SUBS_OPTS_DEFAULT. Strings are borrowed for
 * the duration of dm_subs_open() only.
 */
typedef struct dm_subs_opts {
    const char *const *files;   /* --sub FILE... (.srt .ass .ssa .vtt), added after the film's streams */
    size_t n_files;             /* how many in files */
    int auto_load;              /* 1: also load FILM[.LANG].{srt,ass,ssa,vtt} beside the film (mpv's sub-auto=exact) */
    const char *codepage;       /* external text files: NULL or "auto" detects; else an iconv name ("GBK") */
    int sid;                    /* DM_SUBS_SID_AUTO, DM_SUBS_SID_NO or a track number 1..N (--sid) */
    const char *slang;          /* preferred languages, "zh,chi,en" (--slang); NULL: none */
    int64_t delay_ms;           /* --sub-delay, in ms (positive: later) */
    double scale;               /* --sub-scale, 0.1 .. 10 (1: as authored) */
    int video_w, video_h;       /* storage size when there is no film (external files only); 0: 1920x1080 */
    int anim_step_ms;           /* obstacles: sampling step inside moving events, 1 .. 1000 (40) */
    void (*log)(void *ud, int level, const char *message); /* every message; NULL: warnings and
                                                            * errors to stderr (libass's errors only) */
    void *log_ud;               /* passed to log */
} dm_subs_opts;

#define DM_SUBS_OPTS_DEFAULT \
    { NULL, 0, 1, NULL, DM_SUBS_SID_AUTO, NULL, 0, 1.0, 0, 0, 40, NULL, NULL }

/* ------------------------------------------------------------- tracks */

typedef struct dm_subs dm_subs;

typedef enum dm_subs_kind {
    DM_SUBS_TEXT = 0,    /* drawn by libass: SubRip, ASS/SSA, mov_text, WebVTT */
    DM_SUBS_BITMAP = 1,  /* pictures: PGS, DVB, DVD */
} dm_subs_kind;

/* One subtitle track, as listed by mpv (sid 1..N: the film's streams in
 * stream order, then --sub files in the order given, then auto-loaded ones). */
typedef struct dm_subs_track {
    int sid;                /* 1..N */
    dm_subs_kind kind;      /* text or pictures */
    char codec[32];         /* libavcodec's name: "subrip", "ass", "mov_text", "webvtt", "dvd_subtitle"... */
    char lang[16];          /* language from the container or the file name ("en", "chi"); "" if unknown */
    char title[128];        /* the stream's title, "" if none */
    int is_default;         /* the film marks it default */
    int is_forced;          /* the film marks it forced */
    int external;           /* 1: a file; 0: a stream of the film */
    int auto_loaded;        /* 1: found beside the film, not given with --sub */
    int stream_index;       /* the film's stream index; -1 for a file */
    const char *path;       /* the file (external) or the film; valid until dm_subs_destroy */
    char codepage[32];      /* external text: the encoding it was read in ("UTF-8", "GB18030"); "" otherwise */
    size_t events;          /* subtitle events (lines or pictures) */
} dm_subs_track;


/*
 * Open FILM (may be NULL: only opts->files) and every subtitle it has: its
 * streams (read through once, so a large film takes the time of reading it;
 * call from a worker thread if that matters), the fonts attached to it
 * (loaded into libass), the files in opts->files and, with opts->auto_load,
 * the files beside it. Then chooses a track: opts->sid, or the default rule
 * (dm_subs_default_sid). On success *out owns it all; on failure *out is NULL
 * and err names the file and what was wrong (a missing file, a malformed
 * subtitle file, a film libavformat cannot read, a --sid out of range).
 * A film without any subtitle is not an error: the list is empty.
 * opts may be NULL (the defaults).
 */
int dm_subs_open(dm_subs **out, const char *film, const dm_subs_opts *opts, char *err,
                 size_t errlen);

/*
 * Read one external subtitle file from memory: `format` is "srt", "ass",
 * "ssa" or "vtt" (what the extension would say), `name` is used in messages.
 * The bytes go through the same encoding detection and readers as a file
 * (this is the entry the fuzz target drives). Same results as dm_subs_open.
 */
int dm_subs_open_memory(dm_subs **out, const void *data, size_t len, const char *format,
                        const char *name, const dm_subs_opts *opts, char *err, size_t errlen);

/*
 * A second handle on the same subtitles for another thread: it shares the
 * decoded tracks and fonts read-only and has its own renderer, selection and
 * settings (copied from src at the time of the call). 0 or DM_ENOMEM.
 */
int dm_subs_clone(const dm_subs *src, dm_subs **out, char *err, size_t errlen);

/* Free a handle and set *s to NULL; the shared data goes with the last one. NULL-safe. */
void dm_subs_destroy(dm_subs **s);

/* Number of tracks (sids run from 1 to this). */
int dm_subs_track_count(const dm_subs *s);

/* Copy track `sid`'s description to *out; 0, or DM_EINVAL for no such track. */
int dm_subs_track_get(const dm_subs *s, int sid, dm_subs_track *out);

/*
 * The track the default rule picks, as mpv does: --sub files first, then
 * files found beside the film, then the film's streams; within each group
 * the first track in the earliest `slang` language (comma-separated codes;
 * "en" also matches "eng" and "en-US", "zh" matches "chi"), then a forced
 * track, then a default one. A stream of the film that is none of these is
 * not picked: DM_SUBS_SID_NO. Like mpv, the viewer's languages outrank the
 * film's default flag.
 */
int dm_subs_default_sid(const dm_subs *s, const char *slang);

/* The selected track, DM_SUBS_SID_NO when none. */
int dm_subs_sid(const dm_subs *s);

/*
 * Select track `sid` (DM_SUBS_SID_NO: none; DM_SUBS_SID_AUTO: the default
 * rule with the slang given at open). Picture tracks are decoded on first
 * selection. 0, DM_EINVAL (no such track, err says how many there are), or
 * the decoder's error.
 */
int dm_subs_select(dm_subs *s, int sid, char *err, size_t errlen);

/*
 * Next (step +1, key j) or previous (step -1, key J) track, going through
 * "none" after the last, as mpv's `cycle sub`. Returns the new sid (>= 0) or
 * a negative error.
 */
int dm_subs_cycle(dm_subs *s, int step, char *err, size_t errlen);

/* Delay in ms (keys z/Z move it by -/+100). Any value; it only shifts time. */
void dm_subs_set_delay(dm_subs *s, int64_t delay_ms);
int64_t dm_subs_delay(const dm_subs *s);

/* Scale of the text (libass font scale) and of pictures; 0, or DM_EINVAL
 * outside 0.1 .. 10. */
int dm_subs_set_scale(dm_subs *s, double scale);
double dm_subs_scale(const dm_subs *s);

/*
 * One line for the on-screen display, e.g.
 * "Subtitles 2/3: [en] English (subrip, external) delay +0.1 s" or
 * "Subtitles: none (3 tracks)". Returns the length snprintf would.
 */
int dm_subs_osd(const dm_subs *s, char *buf, size_t len);

/* ------------------------------------------------------------ drawing */

/* dm_subs_render()'s *changed, as libass's detect_change. */
enum {
    DM_SUBS_SAME = 0,   /* the same rectangles with the same pixels at the same places */
    DM_SUBS_MOVED = 1,  /* the same rectangles and pixels (same order); some moved */
    DM_SUBS_NEW = 2,    /* anything else: upload again */
};

/*
 * A picture to draw: straight (not premultiplied) alpha, 32-bit native-endian
 * 0xAARRGGBB words, i.e. SDL_PIXELFORMAT_ARGB8888 with SDL_BLENDMODE_BLEND,
 * and what dm_overlay_sprite_init() takes. Rectangles of one frame do not
 * overlap, so they can be drawn in any order.
 */
typedef struct dm_subs_rect {
    int x, y, w, h;              /* stage px; inside the stage */
    int pitch;                   /* bytes per row of argb */
    const uint32_t *argb;        /* w x h pixels, owned by the dm_subs */
} dm_subs_rect;

/* What is on screen at one time. Valid until the next dm_subs_render, select,
 * settings change or destroy on the same handle. */
typedef struct dm_subs_frame {
    int64_t t_ms;                /* the film time drawn */
    int stage_w, stage_h;        /* the stage it was drawn for */
    size_t count;                /* rectangles; 0 when nothing is on screen */
    const dm_subs_rect *rects;   /* count rectangles, NULL when count is 0 */
    uint64_t serial;             /* changes exactly when *changed is DM_SUBS_NEW */
} dm_subs_frame;

/*
 * Draw the selected track at film time t_ms for a stage of stage_w x stage_h
 * (1 .. 16384 each). *out describes the result; *changed (may be NULL) says
 * how it differs from the previous call's, so the caller re-uploads only on
 * DM_SUBS_NEW (and just moves its textures on DM_SUBS_MOVED). Cheap when
 * nothing changes: libass's own change detection is asked first.
 * Returns 0, DM_EINVAL (bad size), DM_ENOMEM.
 */
int dm_subs_render(dm_subs *s, int64_t t_ms, int stage_w, int stage_h, dm_subs_frame *out,
                   int *changed);

/*
 * Blend a frame over an ARGB8888 picture (w x h, pitch bytes a row, straight
 * alpha; an opaque picture stays opaque) with the stage's top-left corner at
 * (x, y) in it; everything outside is clipped. For tests and software paths.
 */
void dm_subs_frame_blend(const dm_subs_frame *f, uint32_t *argb, int w, int h, int pitch, int x,
                         int y);

/* ---------------------------------------------------------- obstacles */

/*
 * The boxes the selected track's subtitles occupy on a stage of
 * stage_w x stage_h, for the whole film, with the current delay and scale:
 * for every event, the bounding box of the pixels libass (or the picture)
 * actually covers, outline and shadow included, for the time it is on
 * screen, split into several boxes where it moves or changes (a box for a
 * moving stretch covers the stretch; see docs/subtitles.md). kind is
 * "subtitle", id "sub-N" with N the event's number in its track (1-based).
 * Sorted by start_ms, then id; the same inputs give the same array.
 * *out is malloc'd (free() it; NULL when *n is 0). With no track selected
 * the result is empty. Uses its own renderer: what dm_subs_render draws is
 * not disturbed. 0, DM_EINVAL, DM_ENOMEM.
 */
int dm_subs_obstacles(dm_subs *s, int stage_w, int stage_h, dm_obstacle **out, size_t *n,
                      char *err, size_t errlen);

/* ------------------------------------------------------------ helpers */

/*
 * mpv's sub-auto=exact: the subtitle files beside FILM whose name is the
 * film's without its extension, optionally followed by a language tag, with
 * a subtitle extension: for "/m/Film.mkv", "/m/Film.srt", "/m/Film.en.ass",
 * "/m/Film.zh-Hans.vtt" (case of the extension ignored), not "/m/Film 2.srt"
 * or "/m/Film.mkv.srt". Sorted: files without a language tag first, then by
 * name. *paths gets a malloc'd NULL-terminated array of malloc'd strings
 * (free with dm_subs_paths_free), *n their number. A missing folder gives
 * an empty list. 0 or DM_ENOMEM.
 */
int dm_subs_find_auto(const char *film, char ***paths, size_t *n);
void dm_subs_paths_free(char ***paths);

/* The language tag of an auto-loaded file name ("Film.en.srt" -> "en"), "" if none. */
void dm_subs_lang_from_name(const char *film, const char *sub, char *lang, size_t len);

/*
 * The encoding of subtitle text, as dm_subs_open reads it: a byte order mark
 * (UTF-8, UTF-16LE/BE), else "UTF-8" when the bytes are valid UTF-8, else
 * what uchardet detects ("GB18030", "BIG5", "SHIFT_JIS", "WINDOWS-1252"...).
 * 0, or DM_EFORMAT when nothing can be told (name is then "").
 */
int dm_subs_detect_codepage(const void *data, size_t len, char *name, size_t namelen);

/*
 * Convert subtitle text to UTF-8 (without a byte order mark): from
 * `codepage` (an iconv name) or, when it is NULL or "auto", from the
 * detected encoding. *out is malloc'd and NUL-terminated; `used` (may be
 * NULL) receives the encoding read. DM_EFORMAT when the encoding cannot be
 * detected or iconv does not know it, DM_EPARSE when the bytes are not valid
 * in it (err gives the byte offset), DM_ETOOBIG over DM_SUBS_MAX_FILE_BYTES.
 */
int dm_subs_to_utf8(const void *data, size_t len, const char *codepage, char **out,
                    size_t *out_len, char *used, size_t usedlen, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
