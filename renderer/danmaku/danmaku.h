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

/*
 * `len` bytes of text in encoding `enc` (an iconv name: GBK, Big5,
 * Shift_JIS, UTF-16...) converted to UTF-8, for every reader of legacy
 * files (Bilibili XML, subtitle files): *out is malloc'd and NUL-terminated,
 * *out_len its length. With `bad` given, each byte not valid in `enc` (or
 * cut short at the end) becomes U+FFFD and is counted there; without it the
 * first one ends the conversion with DM_EPARSE, *stop then being its offset
 * and *cut 1 when the text ended inside a character. Returns 0, DM_EFORMAT
 * when iconv does not know `enc`, DM_EPARSE or DM_ENOMEM (*out NULL on an
 * error). `stop` and `cut` may be NULL.
 */
int dm_text_to_utf8(const char *enc, const void *data, size_t len, char **out, size_t *out_len, size_t *bad,
                    size_t *stop, int *cut);

/* Record a fatal error / a warning in diag (diag may be NULL). printf-like. */
void dm_diag_error(dm_diag *diag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dm_diag_warn(dm_diag *diag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- clock */

/*
 * Seconds on the system's monotonic clock (CLOCK_MONOTONIC): the one clock
 * every program and thread uses for wall time (frame pacing, latency, ack
 * times), so figures taken on different threads compare. Thread-safe.
 */
double dm_now(void);

/*
 * Seconds of CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID):
 * what the benchmarks report, since wall time on a shared, loaded machine
 * counts the other jobs too.
 */
double dm_thread_cpu_now(void);

/*
 * A histogram of durations in milliseconds (frame times, subtitle costs, live
 * latencies): 0.01 ms resolution up to 1 s in constant memory, with the exact
 * smallest and largest value and the mean kept, so a percentile always lies
 * within the values seen (p99 is never above the maximum). Not thread-safe:
 * one thread adds and reads.
 */
typedef struct dm_hist dm_hist;
dm_hist *dm_hist_new(void);                 /* NULL when out of memory */
void dm_hist_free(dm_hist **h);             /* nulls *h */
void dm_hist_add(dm_hist *h, double ms);
/* The q-quantile (0 < q <= 1) in ms; 0 when empty. */
double dm_hist_percentile(const dm_hist *h, double q);
double dm_hist_max(const dm_hist *h);
double dm_hist_mean(const dm_hist *h);
uint64_t dm_hist_count(const dm_hist *h);

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

/*
 * What an item of a track is. Live-stream recordings (BililiveRecorder XML)
 * hold paid messages and gifts besides comments; the scene shows each kind
 * the way live viewers know it (see "live cards" below).
 */
typedef enum dm_kind {
    DM_KIND_COMMENT = 0,    /* an audience comment (every format) */
    DM_KIND_SUPERCHAT = 1,  /* a super chat (醒目留言): a card with the sender, the price and the text */
    DM_KIND_GIFT = 2,       /* a gift: text is the gift's name, quantity how many */
    DM_KIND_GUARD = 3,      /* a guard purchase (舰长...): text is the level's name, quantity the months */
    DM_KIND_COUNT = 4
} dm_kind;

const char *dm_kind_name(dm_kind kind);     /* "comment", "superchat", "gift", "guard" */
int dm_kind_from_name(const char *name);    /* -1 if unknown */

/* dm_comment.deleted */
enum {
    DM_DELETED_NO = 0,
    DM_DELETED_BEFORE = 1,    /* before it was shown (imported tracks): takes no lane */
    DM_DELETED_ON_SCREEN = 2  /* while on screen (a screening's host): keeps its lanes, so
                               * the comments after it keep theirs on replay */
};

/*
 * One comment. Strings are UTF-8, owned by the track that holds the comment.
 * `text` has been sanitised by the reader (valid UTF-8, no NUL, no C0 or C1
 * controls but newline; Bilibili's "/n" of positioned comments and a literal
 * "\n" are newlines), so every output shows the same text.
 *
 * A comment the reader could not read (or cannot show: a mode the format
 * gives no means to draw) is kept with `rejected` set to the reason, and what
 * could be read of it (its id, time and text when known): every comment of a
 * file is accounted for (the dump's reason "malformed" or "unsupported"), but
 * it is never shown and never written to another track.
 */
#define DM_VENUE_MAX 32     /* bytes of a hall's name (dm_comment.venue) */

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
    dm_kind kind;           /* a comment, or a live card (super chat, gift, guard) */
    char *sender;           /* live recordings: the sender's display name, NULL if unknown */
    int price;              /* super chats: the price in yuan (CNY), else 0 */
    int quantity;           /* gifts and guards: how many (gift count, months), else 0 */
    int32_t duration_ms;    /* super chats: how long the card stays, 0: its price tier's default */
    int rejected;           /* 0, or the dm_reason the reader decided (DM_REASON_MALFORMED,
                               DM_REASON_UNSUPPORTED): kept for the accounting only */
    char *venue;            /* a screening in several halls: the hall whose audience sent it (--venue),
                               NULL if none */
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

/*
 * The colour of a comment's outline, the one rule every output follows (the
 * Bilibili look): dark around coloured text, light around black text.
 */
uint32_t dm_outline_rgb(const dm_comment *c);

const char *dm_mode_name(dm_mode mode);     /* "scroll", "reverse", ... */
int dm_mode_from_name(const char *name);    /* -1 if unknown */
const char *dm_size_name(dm_size size);     /* "small", "normal", "large" */
int dm_size_from_name(const char *name);    /* -1 if unknown */

/* ---------------------------------------------------------------- formats */

typedef enum dm_format {
    DM_FORMAT_UNKNOWN = 0,
    DM_FORMAT_BILIBILI_XML,   /* Bilibili XML, and live recorders' (BililiveRecorder: <sc>, <gift>, <guard>) */
    DM_FORMAT_DANDANPLAY_JSON,
    DM_FORMAT_NICONICO_JSON,
    DM_FORMAT_JSONL,          /* the project's own track format, docs/formats.md */
    DM_FORMAT_ASS,            /* ASS: written with the layout; read back from danmaku2ass, DanmakuFactory, ours */
    DM_FORMAT_BILIBILI_PROTOBUF, /* Bilibili's DmSegMobileReply segments (bilibili_dm.proto) */
    DM_FORMAT_ARTPLAYER_JSON, /* ArtPlayer's danmuku plugin: [{text, time, mode, color, border, style}] */
    DM_FORMAT_DPLAYER_JSON,   /* DPlayer's API: {code, data: [[time, type, color, author, text]]}, and older forms */
} dm_format;

/* Hard cap on a track file's size (bytes). */
#define DM_TRACK_MAX_BYTES (512u * 1024u * 1024u)

/* Format from a name ("xml", "bilibili", "json", "dandanplay", "niconico",
 * "jsonl", "ass", "protobuf", "artplayer", "dplayer"); DM_FORMAT_UNKNOWN if none. */
dm_format dm_format_from_name(const char *name);
/* Format from a file name's extension (.xml .jsonl .ass .pb); DM_FORMAT_UNKNOWN
 * for the rest (.json is one of several formats): the content decides. */
dm_format dm_format_from_path(const char *path);
/*
 * The format of a buffer from its content (its first bytes; for a JSON
 * document, the keys of its first object): every format the readers know.
 * DM_FORMAT_UNKNOWN when none matches.
 */
dm_format dm_format_sniff(const char *buf, size_t len);
const char *dm_format_name(dm_format fmt);
/* What the readers know, for messages: "Bilibili XML (and live recorders'), Bilibili protobuf, ...". */
const char *dm_format_list(void);

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
int dm_read_artplayer_json(dm_track *track, const char *buf, size_t len, dm_diag *diag);
int dm_read_dplayer_json(dm_track *track, const char *buf, size_t len, dm_diag *diag);
/* Bilibili protobuf: a damaged or cut segment is DM_EPARSE (protobuf-c cannot unpack it). */
int dm_read_bilibili_protobuf(dm_track *track, const char *buf, size_t len, dm_diag *diag);
/* ASS Dialogue lines back into comments (\move: scrolling, \pos: top or bottom, ...). */
int dm_read_ass(dm_track *track, const char *buf, size_t len, dm_diag *diag);
/*
 * Dispatch on fmt (DM_FORMAT_UNKNOWN: dm_format_sniff). Input no reader
 * recognises is DM_EFORMAT with one sentence naming what was tried
 * (dm_format_list), never an empty success.
 */
int dm_read_buffer(dm_track *track, const char *buf, size_t len, dm_format fmt, dm_diag *diag);
/* Read a whole file (fmt UNKNOWN: from the extension, then sniffing). */
int dm_read_file(dm_track *track, const char *path, dm_format fmt, dm_diag *diag);

/* One track file to read, and where it starts on the film (--track FILE --offset S). */
typedef struct dm_track_file {
    const char *path;         /* the file */
    dm_format format;         /* DM_FORMAT_UNKNOWN: from its extension and content */
    int64_t offset_ms;        /* added to the time of each of its comments: the track starts this
                                 much later (negative: earlier; a comment before 0 is "invalid") */
} dm_track_file;

/* dm_read_file with the file's offset applied to the comments it adds. */
int dm_read_track_file(dm_track *track, const dm_track_file *file, dm_diag *diag);

/* Writers. Each writes the whole track to `out`; returns 0, DM_EIO. */
int dm_write_jsonl(const dm_track *track, FILE *out, dm_diag *diag);
int dm_write_bilibili_xml(const dm_track *track, FILE *out, dm_diag *diag);
/* One JSONL line for one comment, with the trailing newline; malloc'd. */
char *dm_jsonl_comment_line(const dm_comment *c);

/* ---------------------------------------------------------------- obstacles */

/* An obstacle with no end: it stays for the whole film. */
#define DM_OBSTACLE_FOREVER_MS ((int64_t)INT32_MAX)

/*
 * A box no comment may cross while it is on screen: a film subtitle, the
 * AI-generated label, a region the host keeps free (--keep-off). Stage
 * pixels and film time; it comes from outside the engine as a plain
 * rectangle, so the engine knows nothing of libass or SDL. Positioned
 * comments are exempt (they carry their own coordinates).
 * The layout dump writes each one as an "obstacle" line (LAYOUT-DUMP.md).
 */
typedef struct dm_obstacle {
    int64_t start_ms, end_ms;    /* on screen during [start_ms, end_ms) */
    int32_t x, y, w, h;          /* the box in stage px (drawn ink, outline included) */
    char kind[16];               /* the dump's kind: "subtitle", "keep-off", "label" */
    char id[32];                 /* the dump's id ("sub-12"), "" when none */
} dm_obstacle;

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
    DM_REASON_MALFORMED,     /* "malformed": the reader could not read it (a warning says why) */
    DM_REASON_HIDDEN,        /* "hidden": a live card of a kind the settings hide (gifts by default) */
    DM_REASON_COUNT
} dm_reason;

const char *dm_reason_name(dm_reason r);

/* Most --keep-off boxes one layout takes. */
#define DM_LAYOUT_MAX_KEEP_OFF 16

/*
 * A box the user keeps free of comments (--keep-off X,Y,W,H[@START-END]):
 * a sign-language interpreter's window, a sponsor's logo, a venue's caption
 * box. Each of x, y, w, h is in stage pixels, or a fraction of the stage
 * width (x, w) or height (y, h) when its bit is set in `fractions`
 * (1 x, 2 y, 4 w, 8 h), so the box follows the stage when it is resized.
 */
typedef struct dm_keep_off {
    double x, y, w, h;           /* the box, px or fractions */
    unsigned fractions;          /* which of x, y, w, h are fractions (bits 1, 2, 4, 8) */
    int64_t start_ms, end_ms;    /* when; 0 and DM_OBSTACLE_FOREVER_MS for the whole film */
} dm_keep_off;

/* Resolve a keep-off box for a stage of stage_w x stage_h px (clipped to it). */
dm_obstacle dm_keep_off_box(const dm_keep_off *k, int stage_w, int stage_h, int number);

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
    int strict;               /* 1: no comment crosses any other, across modes too (a scrolling one
                                 never passes over a top or bottom one, nor over one going the
                                 other way), from the exact kinematics */
    dm_keep_off keep_off[DM_LAYOUT_MAX_KEEP_OFF]; /* boxes kept free (obstacles of kind "keep-off") */
    int keep_off_count;       /* how many */
    int superchats;           /* live recordings: 1 shows super chat cards (default), 0 hides them */
    int gifts;                /* live recordings: 1 shows gift and guard lines, 0 hides them (default) */
} dm_layout_opts;

#define DM_LAYOUT_OPTS_DEFAULT { \
    .stage_w = 1920, .stage_h = 1080, .font_px = 48, \
    .scroll_ms = 8000, .fixed_ms = 4000, .area = 1.0, .line_gap_px = 0, \
    .min_gap_px = -1, .overflow = DM_OVERFLOW_DELAY, .max_delay_ms = 1000, \
    .density_cap = 0, .merge_window_ms = 0, .superchats = 1, .gifts = 0 }

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

/*
 * Create an engine. `filter` may be NULL; it is borrowed, not owned. The
 * settings' keep-off boxes become obstacles at once.
 */
dm_layout *dm_layout_new(const dm_layout_opts *opts, dm_measure_fn measure, void *measure_ud,
                         const dm_filter *filter, dm_diag *diag);
void dm_layout_free(dm_layout **layout);

/*
 * Obstacles: every comment that is not positioned keeps off these boxes,
 * exactly: a scrolling comment never crosses one while both are on screen
 * (the same kinematics as the lane rule: it may pass before the box comes
 * or after it went, or be held under the delay policy until it can), and a
 * top or bottom comment skips the rows a box holds while it stays. Copied.
 * Call before the first dm_layout_add: 0, DM_EINVAL after it or for an empty
 * box or life, DM_ENOMEM.
 */
int dm_layout_add_obstacles(dm_layout *layout, const dm_obstacle *obstacles, size_t count);

/*
 * Take a placement made before (by another layout of the same comment) as
 * it is: its lanes are held exactly as if this layout had chosen them, so
 * the comments added after it keep clear of it. For laying a scene out
 * again with new obstacles while the comments already decided keep their
 * places. A placement that is not shown (and holds no lanes) changes
 * nothing. 0 or DM_ENOMEM.
 */
int dm_layout_pin(dm_layout *layout, const dm_comment *c, const dm_placed *placed);

/* Every obstacle of the layout (keep-off boxes first, then in start order); *count receives how many. */
const dm_obstacle *dm_layout_obstacles(const dm_layout *layout, size_t *count);

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
char *dm_layout_dump_obstacle(const dm_obstacle *o);
/* The whole dump of a laid-out track, with its obstacles (may be NULL, 0); 0, DM_EIO or DM_ENOMEM. */
int dm_layout_dump_write(FILE *out, const dm_track *track, const dm_placed *placed, char *const *texts,
                         const dm_layout_opts *opts, const char *font, int outline_px,
                         const dm_obstacle *obstacles, size_t obstacle_count);

/* ---------------------------------------------------------------- filters */

/*
 * Filters: keywords (substring after NFKC + case folding), regular
 * expressions (pcre2, UTF mode, matched against the normalised text) and
 * blocked authors; and the viewer's switches: modes hidden, coloured
 * comments hidden, and Bilibili's block level (屏蔽等级: comments whose
 * weight, 0 to 10, is below the level are hidden; a comment of unknown
 * weight is not). Thread-safety: read-only use after setup is safe from
 * several threads.
 */
#define DM_FILTER_MAX_LEVEL 10
dm_filter *dm_filter_new(void);
void dm_filter_free(dm_filter **filter);
int dm_filter_add_keyword(dm_filter *f, const char *keyword);
/* Compile a regex; DM_EINVAL with pcre2's message and offset in diag. */
int dm_filter_add_regex(dm_filter *f, const char *pattern, dm_diag *diag);
int dm_filter_add_user(dm_filter *f, const char *author);
/* Hide (1) or show (0) the comments of one mode. */
void dm_filter_hide_mode(dm_filter *f, dm_mode mode, int hide);
int dm_filter_mode_hidden(const dm_filter *f, dm_mode mode);     /* f may be NULL */
/* Hide (1) or show (0) the comments in any colour but white. */
void dm_filter_hide_coloured(dm_filter *f, int hide);
int dm_filter_coloured_hidden(const dm_filter *f);                /* f may be NULL */
/* The block level, 0 (none) to DM_FILTER_MAX_LEVEL; DM_EINVAL outside. */
int dm_filter_set_level(dm_filter *f, int level);
int dm_filter_level(const dm_filter *f);                          /* f may be NULL */
/* 1 when the comment is blocked by any rule or switch, else 0. */
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
    const char *emoji_font;   /* family for emoji runs ({\fn...}), NULL: none. libass cannot draw
                                 colour emoji; a monochrome emoji font (Symbola) keeps them visible */
    /*
     * Where a comment's anchor (the \pos of its top-left, \an7) lies inside
     * its box, when the layout measured the text the way libass draws it
     * (dm_ass_measure in dm_compose); NULL: at (outline, outline).
     */
    int (*anchor)(void *ud, const char *text, int height_px, int *dx, int *dy);
    void *anchor_ud;
} dm_ass_opts;

/*
 * Comment text as ASS event text that can never be read as markup: a newline
 * becomes \N; '{' and '}' become their fullwidth forms; a backslash is
 * followed by a word joiner, so "\N" or "\h" typed by the audience stay
 * literal; with `emoji_font`, runs of emoji are wrapped in {\fnFONT}...{\fn}.
 * malloc'd, or NULL when out of memory.
 */
char *dm_ass_text(const char *text, const char *emoji_font);

/* The script header (info, one style per size class, the events' format line). */
void dm_write_ass_header(FILE *out, const dm_layout_opts *lopts, const dm_ass_opts *aopts);

/* The ASS style name of a size class ("Small", "Normal", "Large"). */
const char *dm_ass_style_name(dm_size size);

/*
 * Write the track as ASS, each shown comment carrying its computed layout as
 * \move or \pos, so it plays collision-free in any ASS renderer. Each
 * event's Name is its mode ("scroll", "top", ...); positioned comments are
 * on layer 2 (over the lanes' layers 0 and 1). Fixed comments' event times
 * are rounded into their life, so a lane's next comment never meets them;
 * moving ones keep their motion to the millisecond inside the event.
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
 * The same at a time between milliseconds (t_ms 1234.567): what is on screen
 * is what dm_timeline_query gives at floor(t_ms), positions are those of the
 * exact time (sub-pixel motion for a display whose refresh does not fall on
 * whole milliseconds). Integer times give exactly dm_timeline_query's result.
 */
size_t dm_timeline_query_exact(dm_timeline *tl, double t_ms, dm_visible *out, size_t cap, int *changed);

/*
 * dm_timeline_query into an array that grows as needed: *out (realloc'd; NULL
 * and 0 to start, the caller frees) of *cap entries receives every comment
 * on screen at t_ms, *n how many. 0, or DM_ENOMEM (*n is then 0).
 */
int dm_timeline_query_all(dm_timeline *tl, int64_t t_ms, dm_visible **out, size_t *cap, size_t *n);
size_t dm_timeline_count(const dm_timeline *tl);

/* ---------------------------------------------------------------- live cards */

/*
 * Super chats and gifts of a live recording are shown as cards, the way live
 * viewers know them: a super chat is a card in its price tier's colours (a
 * light header band with the sender's name and the price, the message below
 * on the tier's colour) for its duration; a gift or guard purchase is a one
 * line summary ("name 赠送 辣条 ×20": the same sender's same gift within
 * DM_GIFT_COMBO_MS of the previous one joins it, as a combo) for fixed_ms.
 * Cards stack down from the top left of the stage, and each shown card is an
 * obstacle of the scene (kind "superchat" or "gift") while it is on screen,
 * so no comment covers it. dm_layout_opts.superchats and .gifts choose which
 * are shown; hidden ones get the reason "hidden". The display text of a card
 * (dm_scene_texts) is its lines: for a super chat the header ("name ¥30")
 * then the message wrapped to the card's width; every drawing of a card
 * (dm_text_render_card) draws those lines.
 */

/* Gifts of one sender and one kind joined into one line when this close. */
#define DM_GIFT_COMBO_MS 5000

/* Bilibili's colours of a super chat price tier (yuan): 0xRRGGBB each. */
typedef struct dm_card_colors {
    uint32_t header;          /* header band (the name) */
    uint32_t body;            /* message band */
    uint32_t price;           /* the price's colour in the header */
    uint32_t header_text;     /* the name */
    uint32_t body_text;       /* the message */
} dm_card_colors;

/* Colours of a super chat of `price` yuan (<50 blue, 50, 100, 500, 1000, 2000 red); gift lines: price 0. */
dm_card_colors dm_card_colors_for(dm_kind kind, int price);

/* How long a super chat of `price` yuan stays when its recording does not say (Bilibili's: 60 s for
 * 30 yuan, 2 min for 50, 5 min for 100, 30 min for 500, 1 h for 1000, 2 h for 2000). */
int32_t dm_superchat_default_ms(int price);

/* Where cards go on a stage and how big they are, in stage px. */
typedef struct dm_card_metrics {
    int x, y;                 /* top-left corner of the stack */
    int bottom;               /* the stack stays above this y */
    int width;                /* a super chat card's width (a gift line is as wide as its text) */
    int line_px;              /* box height of one line of card text (the measuring height) */
    int pad_x, pad_y;         /* inner padding of each band */
    int gap;                  /* vertical space between cards */
    int radius;               /* rounded corners */
} dm_card_metrics;

/* Card metrics for a stage: the same for the layout and every drawing. */
dm_card_metrics dm_card_metrics_for(const dm_layout_opts *opts);

/*
 * The box a card takes: `c` is a super chat, gift or guard, `text` its display
 * text (its lines, see above). Sets *w and *h; 0, or DM_EINVAL when a line
 * cannot be measured.
 */
int dm_card_box(const dm_layout_opts *opts, const dm_comment *c, const char *text, dm_measure_fn measure,
                void *measure_ud, int *w, int *h);

/* ---------------------------------------------------------------- scene */

/*
 * The scene: the comments of one film with their settings, obstacles,
 * layout and timeline. Every program builds its comments through it (the
 * player, the live path, burn-in, the converter), so a rule changes in one
 * place.
 *
 * The comments of the tracks come first (in the order of their files and
 * lines); comments appended live follow. The layout takes comments in order
 * of (pass, t_ms, index), exactly as dm_layout_track does: a scene made of
 * the same tracks followed by a screening's recording lays out every comment
 * as the live scene did, byte for byte. In a live scene the tracks' comments
 * are laid out as the film reaches them (dm_scene_advance), so a live
 * comment sent at t takes its lane among the track's comments up to t, and
 * the track's later comments keep clear of it.
 *
 *     dm_scene_opts so = { .layout = lo, .measure = dm_text_measure, .measure_ud = text };
 *     dm_scene *sc = dm_scene_new(&so, &diag);
 *     dm_scene_read_file(sc, "film.xml", DM_FORMAT_UNKNOWN, &diag);
 *     for each frame at t:
 *         dm_scene_query(sc, t, &vis, &n, &changed);   // draw vis[0..n) unless !changed
 *     dm_scene_free(&sc);
 *
 * Ownership: the scene owns its comments (copies of what it is given) and
 * its results; pointers it returns stay valid until the next call that adds
 * comments, lays out again or frees it.
 * Thread-safety: none; one thread (the render thread) uses a scene.
 */
typedef struct dm_scene dm_scene;

/* Settings of a scene. */
typedef struct dm_scene_opts {
    dm_layout_opts layout;      /* layout settings for the stage (keep-off boxes included) */
    dm_measure_fn measure;      /* text measuring callback */
    void *measure_ud;           /* its user data */
    const dm_filter *filter;    /* borrowed, may be NULL */
    int live;                   /* comments will be appended (dm_scene_append): lay out as the film goes */
    /*
     * Measuring on more cores: a second measurer of measure_ud for another
     * thread, measuring exactly as it does (dm_text_measure_clone), and its
     * free. A scene laying out many comments at once (the tracks, a new
     * stage) then measures them ahead on helper threads, each with a clone
     * made on first use and kept; the layout is the same either way.
     * NULL: every comment is measured on the scene's thread. Worth it for
     * a scene laid out again (the player's, on a resize): a clone learns
     * the track's text (glyphs, shaped pieces) in the first layout, which
     * it slows a little; a layout done once (a conversion) is faster
     * without.
     */
    void *(*measure_clone)(void *measure_ud);
    void (*measure_clone_free)(void *clone);
    int measure_threads;        /* helpers: 0 one per processor beyond the first (at most 7), < 0 none */
    /*
     * A new stage (new settings, or new obstacles and labels for the whole
     * film) lays out first what is near the playhead (the time of the last
     * query): the comments that can still be on screen a second before it
     * and those of the second after it, on empty lanes; the later ones
     * follow as queries reach them (a forward seek lays out near its own
     * time). Obstacles from a time and filter changes lay out that part
     * again as they would the whole. The whole is laid out when a query goes
     * back before the playhead, or when it is asked for (dm_scene_dump,
     * dm_scene_tally_get, dm_scene_clear, dm_scene_append, dm_scene_advance):
     * then it is exactly the layout a scene with that stage from the start
     * has. The player's, so a resize costs the comments around the film's
     * time, not the track's size. Scenes that are live, or whose layout
     * order goes back in time, lay out whole as without it. Until then
     * dm_scene_placed holds the last stage's placements for comments the
     * layout has not reached.
     */
    int near_playhead;
} dm_scene_opts;

/* A new, empty scene; NULL with the reason in diag. */
dm_scene *dm_scene_new(const dm_scene_opts *opts, dm_diag *diag);
void dm_scene_free(dm_scene **scene);

/* Comments measured so far by the helpers (measure_clone) and on the scene's thread. */
void dm_scene_measure_counts(const dm_scene *scene, uint64_t *by_helpers, uint64_t *by_scene);

/*
 * Add the comments of a track file (dm_read_file) or of a track (copied).
 * Only before the scene is laid out (the first query, append, advance or
 * dump): DM_EINVAL after. Same errors as the readers otherwise.
 */
int dm_scene_read_file(dm_scene *scene, const char *path, dm_format fmt, dm_diag *diag);
/* The same for a track file with its offset (dm_read_track_file). */
int dm_scene_read(dm_scene *scene, const dm_track_file *file, dm_diag *diag);
int dm_scene_add_track(dm_scene *scene, const dm_track *track);

/*
 * Obstacles from outside the engine (film subtitles, labels), in stage px,
 * added to the settings' keep-off boxes (copied). When the scene is already
 * laid out, it is laid out again around the new set. 0, DM_EINVAL, DM_ENOMEM.
 */
int dm_scene_set_obstacles(dm_scene *scene, const dm_obstacle *obstacles, size_t count);

/*
 * Labels that stay whatever the obstacles of dm_scene_set_obstacles and
 * dm_scene_update are (the AIGC label: a card at the start, then a corner
 * for the rest of the film), in stage px (copied; replaces the last set).
 * When the scene is laid out, it is laid out again. 0, DM_EINVAL, DM_ENOMEM.
 */
int dm_scene_set_labels(dm_scene *scene, const dm_obstacle *labels, size_t count);

/*
 * New obstacles from film time from_ms on (the subtitle track, its delay or
 * its scale changed during play): the comments of time up to from_ms keep
 * what they had (on screen or gone), every later one is laid out again
 * around the new set. Before the scene is laid out it is dm_scene_set_obstacles.
 * 0, DM_EINVAL, DM_ENOMEM.
 */
int dm_scene_set_obstacles_from(dm_scene *scene, const dm_obstacle *obstacles, size_t count, int64_t from_ms);

/*
 * The scene's filter (dm_scene_opts.filter, which the caller owns and may
 * change: the viewer hid a kind of comment, raised the block level) changed
 * at film time from_ms: the comments on screen that it now hides leave at
 * once, the others keep their places, and every comment of a later time is
 * laid out again with it. 0, or DM_ENOMEM.
 */
int dm_scene_filter_changed(dm_scene *scene, int64_t from_ms, dm_diag *diag);

/*
 * The comment density over the film (Bilibili's 高能进度条): bins[k] counts the
 * comments sent in the k-th of nbins equal spans of [0, duration_ms), every
 * comment of the scene but those refused, deleted or hidden by the filter
 * (live ones as they come).
 */
void dm_scene_density(const dm_scene *scene, int64_t duration_ms, uint32_t *bins, size_t nbins);

/*
 * New layout settings (the stage was resized): every comment laid out so
 * far is laid out again, in the order it was first laid out. 0 when nothing
 * changed or it is done; DM_EINVAL (bad settings, the old layout stays) or
 * DM_ENOMEM.
 */
int dm_scene_set_layout(dm_scene *scene, const dm_layout_opts *layout, dm_diag *diag);

/*
 * New layout settings and new obstacles at once (a resize, with the
 * subtitles' boxes for the new stage): one layout again instead of two. As
 * dm_scene_set_layout for the settings, as dm_scene_set_obstacles_from for
 * the obstacles (from_ms INT64_MIN: the whole film).
 */
int dm_scene_update(dm_scene *scene, const dm_layout_opts *layout, const dm_obstacle *obstacles, size_t count,
                    int64_t from_ms, dm_diag *diag);

/*
 * Lay the scene out now (the queries do it when needed): a scene that is
 * not live lays out every comment at once; a live one starts with none.
 * 0, DM_EINVAL or DM_ENOMEM, with the reason in diag.
 */
int dm_scene_layout(dm_scene *scene, dm_diag *diag);

/*
 * Live scenes: no comment earlier than (pass, t_ms) will be appended any
 * more, so the tracks' comments up to there are laid out (a scene that is
 * not live has them all already). pass INT32_MAX lays out the rest.
 */
int dm_scene_advance(dm_scene *scene, int pass, int64_t t_ms);

/*
 * Append one comment (copied) and lay it out at once: first the tracks'
 * comments before it in layout order, then it. *index (may be NULL)
 * receives its index. 0, DM_ETOOBIG or DM_ENOMEM.
 */
int dm_scene_append(dm_scene *scene, const dm_comment *c, size_t *index);

/*
 * A host's delete: the newest appended comment with this id is marked
 * deleted (DM_DELETED_ON_SCREEN: it keeps its lanes, as on replay) and
 * leaves the screen. Returns its index, or -1 when there is none.
 */
long dm_scene_delete(dm_scene *scene, const char *id);

/*
 * Clear the screen at t_ms: every comment on screen then leaves it;
 * appended ones are marked deleted as by dm_scene_delete, and `deleted`
 * (may be NULL) is called with each (to record it). Returns how many left
 * the screen, or DM_ENOMEM.
 */
long dm_scene_clear(dm_scene *scene, int64_t t_ms, void (*deleted)(void *ud, const dm_comment *c), void *ud);

/*
 * What is on screen at t_ms (libass's ass_render_frame): *visible (owned
 * by the scene) receives *count entries in draw order; *changed (may be
 * NULL) DM_CHANGED_* against the previous query. 0 or DM_ENOMEM (*count 0).
 */
int dm_scene_query(dm_scene *scene, int64_t t_ms, const dm_visible **visible, size_t *count, int *changed);
/* dm_scene_query at a time between milliseconds (dm_timeline_query_exact). */
int dm_scene_query_exact(dm_scene *scene, double t_ms, const dm_visible **visible, size_t *count, int *changed);

/* The comments: all of them as a track, count, the first appended one's index, each comment,
 * where it went, what it displays. */
const dm_track *dm_scene_track(const dm_scene *scene);
size_t dm_scene_count(const dm_scene *scene);
size_t dm_scene_track_count(const dm_scene *scene);
const dm_comment *dm_scene_comments(const dm_scene *scene);
const dm_placed *dm_scene_placed(const dm_scene *scene);
char *const *dm_scene_texts(const dm_scene *scene);   /* merged "×N" overrides, NULL entries otherwise */
const dm_layout_opts *dm_scene_layout_opts(const dm_scene *scene);
/* Every obstacle (keep-off boxes and dm_scene_set_obstacles'), in stage px; NULL before the layout. */
const dm_obstacle *dm_scene_obstacles(dm_scene *scene, size_t *count);

/* What became of the scene's comments: how many, how many are shown, and why the others are not. */
typedef struct dm_scene_tally {
    size_t total;                     /* comments in the scene, malformed ones included */
    size_t shown;                     /* shown */
    size_t reasons[DM_REASON_COUNT];  /* not shown, by reason */
    size_t pending;                   /* live scenes: track comments the film has not reached */
    int laid_out;                     /* 0: a scene that cannot measure text (a format conversion):
                                         only the readers' verdicts are counted, the rest is "kept" */
} dm_scene_tally;

/* Count the scene's comments as they are laid out now (a scene that is not live is laid out first). */
void dm_scene_tally_get(dm_scene *scene, dm_scene_tally *tally);

/*
 * The one summary line every program prints: "shown 1189 of 1239; not
 * shown: 30 no_lane, 20 malformed" (reasons by count, most first; then
 * "N not reached yet" for a live scene); for a scene that cannot measure
 * text (converting formats) "kept 1219 of 1239; not kept: 20 malformed".
 * Written into buf (len bytes); returns buf.
 */
const char *dm_scene_summary(dm_scene *scene, char *buf, size_t len);

/*
 * The layout dump of the whole scene (LAYOUT-DUMP.md): the stage, the
 * obstacles, then every comment in index order. The rest of a live scene's
 * track is laid out first. 0, DM_EIO or DM_ENOMEM.
 */
int dm_scene_dump(dm_scene *scene, FILE *out, const char *font, int outline_px);

#ifdef __cplusplus
}
#endif
#endif
