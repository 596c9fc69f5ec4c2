/*
 * danmaku.h - the danmaku engine (dm_core): comment model, track formats,
 * layout engine, filters and the timeline the renderer queries.
 *
 * Pure C11: libc, expat, cJSON, pcre2, utf8proc. Nothing here knows about
 * SDL, libav or sockets: text width comes in through a measuring callback and
 * time comes in as film milliseconds.
 *
 * Errors: functions that can fail return 0 on success or a negative DM_E*
 * code; a human-readable message goes into a dm_diag when one is passed.
 * Thread-safety: none of the objects here are safe to share between threads
 * without a lock; distinct objects may be used from distinct threads.
 */
#ifndef DANMAKU_H
#define DANMAKU_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

/* One error enum; numbers never change meaning. */
enum {
    DM_OK = 0,
    DM_ENOMEM = -1,   /* allocation failed */
    DM_EIO = -2,      /* could not read or write a file */
    DM_EPARSE = -3,   /* malformed input that could not be recovered */
    DM_EINVAL = -4,   /* invalid argument or setting */
    DM_EFORMAT = -5,  /* unknown or unsupported format */
    DM_ETOOBIG = -6,  /* input over a hard size cap */
};

/* Short English name of an error code ("out of memory", ...). */
const char *dm_strerror(int err);

/*
 * Diagnostics for a reader or writer. `error` receives the message of a
 * fatal error (with line or byte offset where known). `warn`, when set, is
 * called once per skipped or repaired item; `warnings` counts them all.
 */
typedef struct dm_diag {
    char error[256];                                 /* fatal error message, "" if none */
    unsigned warnings;                               /* number of warnings issued */
    void (*warn)(void *ud, const char *message);     /* optional warning sink */
    void *warn_ud;                                   /* passed to warn */
} dm_diag;

/* Write a message into a caller's buffer (err may be NULL or errlen 0). */
void dm_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Record a fatal error / a warning in diag (diag may be NULL). printf-like. */
void dm_diag_error(dm_diag *diag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dm_diag_warn(dm_diag *diag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- model */

typedef enum dm_mode {
    DM_MODE_SCROLL = 0,     /* right to left (Bilibili modes 1-3) */
    DM_MODE_REVERSE = 1,    /* left to right (mode 6) */
    DM_MODE_TOP = 2,        /* fixed, stacked from the top (mode 5) */
    DM_MODE_BOTTOM = 3,     /* fixed, stacked from the bottom (mode 4) */
    DM_MODE_POSITIONED = 4, /* placed by its own coordinates (mode 7) */
    DM_MODE_COUNT = 5
} dm_mode;

typedef enum dm_size {
    DM_SIZE_SMALL = 0,  /* Bilibili 18 */
    DM_SIZE_NORMAL = 1, /* Bilibili 25 */
    DM_SIZE_LARGE = 2,  /* Bilibili 36 */
    DM_SIZE_COUNT = 3
} dm_size;

/* Height of a size class relative to a normal comment (18/25, 1, 36/25). */
double dm_size_scale(dm_size size);

/*
 * Parameters of a positioned (mode 7) comment. Coordinates are fractions of
 * the stage (0..1), already converted from Bilibili's 672x438 reference stage
 * when the track gave pixels.
 */
typedef struct dm_positioned {
    double x0, y0;          /* start position of the box's top-left corner */
    double x1, y1;          /* end position (equal to start when it does not move) */
    double alpha0, alpha1;  /* opacity at birth and at death, 0..1 */
    int32_t life_ms;        /* how long it stays on screen */
    int32_t move_ms;        /* duration of the motion (0: none) */
    int32_t move_delay_ms;  /* motion starts this long after birth */
    double rotate_z;        /* degrees, informational (drawn unrotated) */
    double rotate_y;        /* degrees, informational */
    int outline;            /* 1: draw the outline (Bilibili "stroke") */
} dm_positioned;

/* dm_comment.deleted */
enum {
    DM_DELETED_NO = 0,
    DM_DELETED_BEFORE = 1,    /* before it was shown (imported tracks): takes no lane */
    DM_DELETED_ON_SCREEN = 2  /* while on screen (a screening's host): keeps its lanes, so
                               * the comments after it keep theirs on replay */
};

/*
 * One comment. Strings are UTF-8, owned by the track that holds the comment.
 * `text` has been sanitised by the reader (valid UTF-8, no NUL, no C0 controls
 * but newline).
 */
typedef struct dm_comment {
    int64_t t_ms;           /* film time the comment belongs to */
    dm_mode mode;           /* how it moves */
    dm_size size;           /* size class */
    uint32_t color;         /* 0xRRGGBB */
    char *text;             /* what it says */
    char *id;               /* id in its track, NULL when the track had none */
    char *author;           /* opaque sender hash, NULL if unknown */
    int64_t sent;           /* Unix time it was sent, 0 if unknown */
    int pool;               /* Bilibili pool: 0 normal, 1 subtitle, 2 special */
    int weight;             /* Bilibili weight 0-10, -1 if unknown */
    int bili_mode;          /* the raw Bilibili mode (1-9), 0 if not from Bilibili */
    int count;              /* merged duplicates (1 = just this one) */
    int deleted;            /* DM_DELETED_*: removed by a moderator; never shown */
    int pass;               /* live recordings: backward seeks of the screening before it was sent */
    dm_positioned *pos;     /* positioned comments only, else NULL; owned */
} dm_comment;

/* A growable list of comments, in input order. */
typedef struct dm_track {
    dm_comment *items;      /* the comments */
    size_t count;           /* how many are used */
    size_t cap;             /* how many are allocated */
} dm_track;

void dm_track_init(dm_track *track);
/* Free every comment and the array; the track is left empty and reusable. */
void dm_track_clear(dm_track *track);
/*
 * Append a deep copy of `c` (strings and pos are copied). Returns 0 or
 * DM_ENOMEM.
 */
int dm_track_push(dm_track *track, const dm_comment *c);
/* Free the strings and pos of one comment (not the comment itself). */
void dm_comment_free(dm_comment *c);

const char *dm_mode_name(dm_mode mode);     /* "scroll", "reverse", ... */
int dm_mode_from_name(const char *name);    /* -1 if unknown */
const char *dm_size_name(dm_size size);     /* "small", "normal", "large" */
int dm_size_from_name(const char *name);    /* -1 if unknown */

/* ---------------------------------------------------------------- formats */

typedef enum dm_format {
    DM_FORMAT_UNKNOWN = 0,
    DM_FORMAT_BILIBILI_XML,
    DM_FORMAT_DANDANPLAY_JSON,
    DM_FORMAT_NICONICO_JSON,
    DM_FORMAT_JSONL,          /* the project's own track format, docs/formats.md */
    DM_FORMAT_ASS,            /* write only */
} dm_format;

/* Hard cap on a track file's size (bytes). */
#define DM_TRACK_MAX_BYTES (512u * 1024u * 1024u)

/* Format from a name ("xml", "bilibili", "json", "dandanplay", "niconico",
 * "jsonl", "ass"); DM_FORMAT_UNKNOWN if none. */
dm_format dm_format_from_name(const char *name);
/* Format from a file name's extension (.xml .jsonl .json .ass). For .json,
 * DM_FORMAT_UNKNOWN: use dm_format_sniff on the content. */
dm_format dm_format_from_path(const char *path);
/* Guess the format of a buffer from its first bytes. */
dm_format dm_format_sniff(const char *buf, size_t len);
const char *dm_format_name(dm_format fmt);

/*
 * Readers: parse `len` bytes of `buf` and append the comments to `track`.
 * Bad comments are skipped with a warning (line/offset in the message);
 * input that cannot be parsed at all returns DM_EPARSE with the reason in
 * diag->error. On error, comments parsed so far stay in the track.
 */
int dm_read_bilibili_xml(dm_track *track, const char *buf, size_t len, dm_diag *diag);
int dm_read_dandanplay_json(dm_track *track, const char *buf, size_t len, dm_diag *diag);
int dm_read_niconico_json(dm_track *track, const char *buf, size_t len, dm_diag *diag);
int dm_read_jsonl(dm_track *track, const char *buf, size_t len, dm_diag *diag);
/* Dispatch on fmt (DM_FORMAT_UNKNOWN: sniff). */
int dm_read_buffer(dm_track *track, const char *buf, size_t len, dm_format fmt, dm_diag *diag);
/* Read a whole file (fmt UNKNOWN: from the extension, then sniffing). */
int dm_read_file(dm_track *track, const char *path, dm_format fmt, dm_diag *diag);

/* Writers. Each writes the whole track to `out`; returns 0, DM_EIO. */
int dm_write_jsonl(const dm_track *track, FILE *out, dm_diag *diag);
int dm_write_bilibili_xml(const dm_track *track, FILE *out, dm_diag *diag);
/* One JSONL line for one comment, with the trailing newline; malloc'd. */
char *dm_jsonl_comment_line(const dm_comment *c);

/* ---------------------------------------------------------------- layout */

typedef enum dm_overflow {
    DM_OVERFLOW_DELAY = 0,   /* hold the comment until a lane frees (up to max_delay_ms) */
    DM_OVERFLOW_DROP = 1,    /* drop it */
    DM_OVERFLOW_OVERLAY = 2, /* put it on a second layer (may overlap the first) */
} dm_overflow;

const char *dm_overflow_name(dm_overflow o);
int dm_overflow_from_name(const char *name); /* -1 if unknown */

/* Why a comment is not shown (the dump's `reason`). */
typedef enum dm_reason {
    DM_REASON_NONE = 0,
    DM_REASON_NO_LANE,       /* "no_lane": no room within the policy */
    DM_REASON_FILTERED,      /* "filtered": keyword, regex or user filter */
    DM_REASON_DUPLICATE,     /* "duplicate": merged into an earlier one */
    DM_REASON_DENSITY,       /* "density": density cap reached */
    DM_REASON_INVALID,       /* "invalid": empty text, bad time */
    DM_REASON_UNSUPPORTED,   /* "unsupported": script/BAS comments (modes 8, 9) */
    DM_REASON_DELETED,       /* "deleted": removed by a moderator */
} dm_reason;

const char *dm_reason_name(dm_reason r);

/* Layout settings. Initialise with DM_LAYOUT_OPTS_DEFAULT. */
typedef struct dm_layout_opts {
    int stage_w, stage_h;     /* stage in px (the video's display rectangle) */
    int font_px;              /* box height of a normal-size comment, outline included */
    int scroll_ms;            /* time a scrolling comment takes to cross the stage */
    int fixed_ms;             /* time a top/bottom comment stays */
    double area;              /* fraction of the stage height used by scroll/top/bottom, (0,1] */
    int line_gap_px;          /* vertical space between stacked lines */
    int min_gap_px;           /* horizontal gap kept between comments in a lane; -1: font_px / 3 */
    dm_overflow overflow;     /* what to do when no lane is free */
    int max_delay_ms;         /* longest hold under DM_OVERFLOW_DELAY (default 1 s: a comment
                                 much later than its moment loses its context) */
    int density_cap;          /* most comments on screen at once, 0 = no cap */
    int merge_window_ms;      /* merge equal texts within this window, 0 = off */
} dm_layout_opts;

#define DM_LAYOUT_OPTS_DEFAULT { \
    .stage_w = 1920, .stage_h = 1080, .font_px = 48, \
    .scroll_ms = 8000, .fixed_ms = 4000, .area = 1.0, .line_gap_px = 0, \
    .min_gap_px = -1, .overflow = DM_OVERFLOW_DELAY, .max_delay_ms = 1000, \
    .density_cap = 0, .merge_window_ms = 0 }

/* Check settings; 0 or DM_EINVAL with the reason in diag. */
int dm_layout_opts_check(const dm_layout_opts *opts, dm_diag *diag);

/*
 * Measuring callback: the box (outline included) that `text` takes when
 * drawn at `height_px` (the box height of its size class). Returns 0 and sets
 * *w and *h, or a negative value when the text cannot be measured.
 */
typedef int (*dm_measure_fn)(void *ud, const char *text, int height_px, int *w, int *h);

/* Where one comment went. */
typedef struct dm_placed {
    uint8_t shown;            /* 1 if it appears on screen */
    uint8_t reason;           /* dm_reason when not shown */
    uint8_t layer;            /* 0, or 1 for the overlay layer */
    uint8_t mode;             /* dm_mode as laid out */
    int32_t y;                /* top edge of the box */
    int32_t w, h;             /* the box, outline included */
    int32_t x_start, x_end;   /* left edge at start_ms and at end_ms */
    int64_t start_ms;         /* film time it enters (>= t_ms) */
    int64_t end_ms;           /* film time it leaves */
} dm_placed;

typedef struct dm_filter dm_filter;   /* see the filters section */

/*
 * The layout engine. Comments are added in time order (dm_layout_add) or a
 * whole track at once (dm_layout_track). The result depends only on the
 * comments, their order and the settings: the same input gives the same
 * placements byte for byte.
 */
typedef struct dm_layout dm_layout;

/* Create an engine. `filter` may be NULL; it is borrowed, not owned. */
dm_layout *dm_layout_new(const dm_layout_opts *opts, dm_measure_fn measure, void *measure_ud,
                         const dm_filter *filter, dm_diag *diag);
void dm_layout_free(dm_layout **layout);

/*
 * Place one comment whose time is not earlier than that of the comments
 * added before it (an earlier one is treated as if it came at the latest
 * time seen, unless rewinds are allowed). `text_override`, when not NULL, is
 * the text to measure instead of c->text (for merged "×N" texts). Writes the
 * placement to *out. 0, or DM_ENOMEM.
 */
int dm_layout_add(dm_layout *layout, const dm_comment *c, const char *text_override, dm_placed *out);

/*
 * Let comments come earlier than ones already added (a live screening seeked
 * backwards): such a comment takes a lane free at its own time between the
 * comments placed before and after it, or none (it is never delayed; a
 * density cap counts it against the latest time). Costs memory for every
 * comment placed. Call before the first dm_layout_add: 0, DM_EINVAL after,
 * or DM_ENOMEM.
 */
int dm_layout_allow_rewind(dm_layout *layout);

/*
 * Lay out a whole track: comments are taken in order of (pass, t_ms, input
 * index);
 * filters and duplicate merging apply. `placed` receives track->count entries
 * in input order (malloc'd, caller frees).
 * `texts`, when not NULL, receives an array of track->count strings: the text
 * each shown comment displays when it differs from its own (merged "×N"), else
 * NULL; free with dm_texts_free.
 */
int dm_layout_track(const dm_track *track, const dm_layout_opts *opts, dm_measure_fn measure,
                    void *measure_ud, const dm_filter *filter, dm_placed **placed, char ***texts,
                    dm_diag *diag);
void dm_texts_free(char **texts, size_t count);

/* Left edge of a placed comment's box at film time t (linear in between). */
double dm_placed_x_at(const dm_placed *p, int64_t t_ms);

/* Box height of a size class for the given settings. */
int dm_layout_height_px(const dm_layout_opts *opts, dm_size size);

/* The horizontal gap in effect (min_gap_px, or font_px / 3 when it is -1). */
int dm_layout_gap_px(const dm_layout_opts *opts);

/* Normal-size comment lines per stage height when no font size is given. */
#define DM_STAGE_LINES 22.5

/*
 * Layout settings for a stage of stage_w x stage_h px (the film's display
 * rectangle): `base` with the stage size set and font_px = `font_px` when it
 * is > 0, else round(stage_h / DM_STAGE_LINES), clamped to [12, stage_h].
 * Every program that draws comments uses this rule, so the player and the
 * burn-in lay out the same track identically.
 * Example: 1280x720, font_px 0 -> font_px 32.
 */
dm_layout_opts dm_layout_opts_for_stage(const dm_layout_opts *base, int stage_w, int stage_h, int font_px);

/* ---------------------------------------------------------------- layout dump */

/*
 * The layout dump of ../shared/LAYOUT-DUMP.md. Each function returns one
 * line without the newline, malloc'd (NULL when out of memory). `index` is
 * the comment's position in its track (its id when it has none); `text` the
 * text it displays (NULL: its own).
 */
char *dm_layout_dump_stage(const dm_layout_opts *opts, const char *font, size_t input_count, int outline_px);
char *dm_layout_dump_comment(const dm_comment *c, size_t index, const dm_placed *p, const char *text);
/* The whole dump of a laid-out track; 0, DM_EIO or DM_ENOMEM. */
int dm_layout_dump_write(FILE *out, const dm_track *track, const dm_placed *placed, char *const *texts,
                         const dm_layout_opts *opts, const char *font, int outline_px);

/* ---------------------------------------------------------------- filters */

/*
 * Filters: keywords (substring after NFKC + case folding), regular
 * expressions (pcre2, UTF mode, matched against the normalised text) and
 * blocked authors. Thread-safety: read-only use after setup is safe from
 * several threads.
 */
dm_filter *dm_filter_new(void);
void dm_filter_free(dm_filter **filter);
int dm_filter_add_keyword(dm_filter *f, const char *keyword);
/* Compile a regex; DM_EINVAL with pcre2's message and offset in diag. */
int dm_filter_add_regex(dm_filter *f, const char *pattern, dm_diag *diag);
int dm_filter_add_user(dm_filter *f, const char *author);
/* 1 when the comment is blocked by any rule, else 0. */
int dm_filter_match(const dm_filter *f, const dm_comment *c);

/*
 * Normalise text for comparisons: NFKC, case folding, whitespace removed.
 * Returns a malloc'd string or NULL (invalid UTF-8 or out of memory).
 */
char *dm_text_normalize(const char *text);

/* ---------------------------------------------------------------- ASS */

/* Settings of the ASS writer. */
typedef struct dm_ass_opts {
    const char *font_name;    /* font family written in the style */
    double font_size[DM_SIZE_COUNT]; /* ASS Fontsize per size class (libass line height) */
    int outline_px;           /* outline width */
    double opacity;           /* 0..1 */
} dm_ass_opts;

/*
 * Write the track as ASS, each shown comment carrying its computed layout as
 * \move or \pos, so it plays collision-free in any ASS renderer.
 */
int dm_write_ass(const dm_track *track, const dm_placed *placed, char *const *texts,
                 const dm_layout_opts *lopts, const dm_ass_opts *aopts, FILE *out, dm_diag *diag);

/* ---------------------------------------------------------------- timeline */

/*
 * The renderer's view: given film time t, the comments on screen and where,
 * without scanning the whole track each frame. Items are indexes into the
 * caller's comment/placement arrays, which the timeline does not own.
 */
typedef struct dm_timeline dm_timeline;

typedef struct dm_visible {
    uint32_t index;           /* index of the comment */
    float x, y;               /* top-left of the box at t */
    float alpha;              /* opacity 0..1 (positioned comments fade) */
} dm_visible;

/* Query result flags. */
enum {
    DM_CHANGED_NONE = 0,      /* same comments at the same positions */
    DM_CHANGED_POSITIONS = 1, /* same comments, some moved */
    DM_CHANGED_CONTENT = 2,   /* comments came or went */
};

dm_timeline *dm_timeline_new(const dm_layout_opts *opts);
void dm_timeline_free(dm_timeline **tl);
/* Register placement `index` (only shown ones are kept). `p` and, for
 * positioned comments, `pos` are copied. */
int dm_timeline_insert(dm_timeline *tl, uint32_t index, const dm_placed *p, const dm_positioned *pos);
/* Forget one comment (moderator delete); returns 1 if it was there. */
int dm_timeline_remove(dm_timeline *tl, uint32_t index);
/* Forget every comment. */
void dm_timeline_reset(dm_timeline *tl);
/*
 * Comments on screen at t, ordered by index (stable draw order). Writes up to
 * `cap` items to `out` and returns how many are on screen (may exceed cap).
 * *changed, when not NULL, receives DM_CHANGED_* compared with the previous
 * query.
 */
size_t dm_timeline_query(dm_timeline *tl, int64_t t_ms, dm_visible *out, size_t cap, int *changed);

/*
 * dm_timeline_query into an array that grows as needed: *out (realloc'd; NULL
 * and 0 to start, the caller frees) of *cap entries receives every comment
 * on screen at t_ms, *n how many. 0, or DM_ENOMEM (*n is then 0).
 */
int dm_timeline_query_all(dm_timeline *tl, int64_t t_ms, dm_visible **out, size_t *cap, size_t *n);
size_t dm_timeline_count(const dm_timeline *tl);

#ifdef __cplusplus
}
#endif
#endif
