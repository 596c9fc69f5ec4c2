/*
 * subs_internal.h - what the files of dm_subs share: the decoded tracks
 * (immutable once loaded, shared by every handle cloned from one open), the
 * handle itself, and the internal entry points between loading, rendering,
 * compositing and the obstacle walk.
 */
#ifndef DM_SUBS_INTERNAL_H
#define DM_SUBS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <ass/ass.h>
#include <libavcodec/avcodec.h>

#include "subs.h"

/* An event of a text track, in the form libass takes (ass_process_chunk). */
typedef struct subs_text_event {
    int64_t start, dur;          /* track ms (no delay applied) */
    char *chunk;                 /* "ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text" */
    int chunk_len;               /* bytes of chunk, without the NUL */
    int read_order;              /* the chunk's ReadOrder: libass's draw order within a layer */
    int layer;                   /* the chunk's Layer */
    uint8_t collides;            /* libass may move it to avoid others (no \pos, \move, Banner, Scroll) */
    uint8_t animated;            /* \move, \t or a Banner/Scroll effect: what it covers changes */
    int64_t anim_from, anim_to;  /* when it changes, ms from its start (animated only) */
    uint8_t timeless;            /* drawn the same all the time it is shown (no motion, fade, karaoke) */
} subs_text_event;

/* One picture of a bitmap subtitle, as libavcodec decoded it (PAL8). */
typedef struct subs_pic_rect {
    int x, y, w, h;              /* canvas px */
    uint8_t *index;              /* w * h palette indices */
    uint32_t palette[256];       /* straight-alpha 0xAARRGGBB */
} subs_pic_rect;

typedef struct subs_pic_event {
    int64_t start, end;          /* track ms */
    int n;                       /* pictures shown together */
    subs_pic_rect *rects;        /* n of them */
} subs_pic_event;

/* A track: a stream of the film or an external file. */
typedef struct subs_source {
    dm_subs_track info;          /* sid is its position in the shared list */
    char *path;                  /* owned; info.path points here */
    /* text tracks (immutable after load) */
    char *header;                /* the ASS header without [Fonts]/[Graphics] (NUL-terminated) */
    int header_len;
    char *font_part;             /* the [Fonts] section(s), NULL when none */
    int font_part_len;
    subs_text_event *ev;         /* sorted by start, then read order */
    size_t n_ev;
    atomic_int limits_reported;  /* subs_limit_track's count was logged */
    /* picture tracks: packets kept at open, decoded on first selection */
    pthread_mutex_t lock;        /* protects everything below */
    AVCodecParameters *par;      /* the stream's parameters */
    AVRational tb;               /* packet time base */
    int64_t offset_ms;           /* the film's start time, subtracted */
    AVPacket **pkts;             /* in file order */
    size_t n_pkts;
    int pic_state;               /* 0 not decoded, 1 decoded, < 0 the decoder's error */
    char pic_err[256];           /* message of a failed decode */
    subs_pic_event *pics;        /* sorted by start */
    size_t n_pics;
    int canvas_w, canvas_h;      /* the pictures' frame (0: the film's size) */
} subs_source;

typedef struct subs_font {
    char *name;                  /* attachment file name */
    char *data;                  /* font bytes */
    int size;
} subs_font;

/* What one dm_subs_open() read; shared by clones, freed with the last. */
typedef struct subs_shared {
    atomic_int refs;             /* handles using it */
    subs_source **src;           /* tracks in sid order (src[0] is sid 1) */
    size_t n_src;
    subs_font *fonts;            /* fonts attached to the film */
    size_t n_fonts;
    int video_w, video_h;        /* the film's coded size (libass storage size, default PlayRes) */
    char *slang;                 /* the slang given at open (for DM_SUBS_SID_AUTO) */
    void (*log)(void *ud, int level, const char *message); /* from the opts of open */
    void *log_ud;
} subs_shared;

/* An image to composite: libass coverage + colour, or a straight ARGB picture. */
typedef struct subs_img {
    int x, y, w, h;              /* stage px, already clipped to the stage */
    int stride;                  /* bytes per row */
    const uint8_t *alpha;        /* libass coverage (NULL for pictures) */
    uint32_t color;              /* libass 0xRRGGBBAA, AA = transparency */
    const uint32_t *argb;        /* picture pixels (NULL for libass images) */
} subs_img;

/* What went into a rectangle: one per image, in order (to reuse its pixels
 * when the next frame brings the same images). */
typedef struct subs_sig {
    const void *data;            /* the image's coverage or pixels */
    int stride, w, h;
    uint32_t color;
    int dx, dy;                  /* position in the rectangle */
} subs_sig;

/* A frame's rectangles and their pixels (one arena). */
typedef struct subs_canvas {
    dm_subs_rect *rects;
    size_t n, cap;
    uint32_t *pix;               /* all rectangles' pixels, back to back */
    size_t pix_cap;              /* in pixels */
    subs_sig *sigs;              /* every rectangle's images, rectangle after rectangle */
    size_t n_sigs, cap_sigs;
    size_t *sig_first;           /* per rectangle: its first entry in sigs (cap of them) */
    size_t *sig_count;           /* per rectangle: how many */
} subs_canvas;

/* A picture scaled to the stage (straight ARGB). */
typedef struct subs_scaled {
    int x, y, w, h;
    uint32_t *argb;
} subs_scaled;

struct dm_subs {
    subs_shared *sh;             /* the tracks (shared, read-only) */
    /* settings */
    int sid;                     /* selected track, 0 none */
    int64_t delay_ms;
    double scale;
    int anim_step_ms;
    void (*log)(void *ud, int level, const char *message);
    void *log_ud;
    /* libass, made on first use */
    ASS_Library *lib;
    ASS_Renderer *rend;          /* dm_subs_render's */
    uint8_t *fonts_given;        /* per source: its [Fonts] were handed to lib */
    int rend_w, rend_h;          /* frame size set on rend (0: none yet) */
    double rend_scale;           /* font scale set on rend */
    /* dm_subs_render's text state */
    ASS_Track *track;            /* the selected track's events (rebuilt on reset) */
    int have_last;               /* last_tau is valid: track holds the placements up to it */
    int64_t last_tau;            /* track time of the last render */
    int64_t *coll_start;         /* starts of colliding events, sorted */
    int64_t *coll_run;           /* per entry: start of the overlapping run it belongs to */
    int64_t *coll_maxend;        /* per entry: latest end of the entries up to it */
    size_t n_coll;
    /* dm_subs_render's picture state */
    size_t *pic_active;          /* events drawn last time */
    size_t n_pic_active, cap_pic_active;
    subs_scaled *scaled;         /* their pictures at the stage size */
    size_t n_scaled, cap_scaled;
    /* output */
    subs_canvas canvas[2];       /* current and previous frame */
    int cur;                     /* canvas index of the current frame */
    int have_frame;              /* the current canvas is valid for out_* below */
    int canvas_current;          /* the current canvas was made from rend's last call */
    int64_t still_from, still_to;/* last_tau's stretch with no start or end ... */
    int still;                   /* ... and only timeless events: nothing to draw again */
    int out_w, out_h;            /* stage of the current frame */
    int64_t out_t;
    uint64_t serial;
    int dirty;                   /* settings changed since the last render: report NEW */
};

/* ---- subs.c */
/* A message to `log` (NULL: errors and warnings to stderr). */
void subs_log_to(void (*log)(void *, int, const char *), void *ud, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void subs_log(const dm_subs *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* libass for this handle (library, fonts); 0 or DM_ENOMEM. */
int subs_ass_init(dm_subs *s);
/* A new renderer on s->lib configured for a stage; NULL on failure. */
ASS_Renderer *subs_ass_renderer(dm_subs *s, int stage_w, int stage_h, double scale);
/*
 * A libass track of source `src` holding all its events (only < 0) or just
 * event `only`. NULL on failure.
 */
ASS_Track *subs_ass_track(dm_subs *s, subs_source *src, ptrdiff_t only);
/*
 * Bounds the sizes track `t` asks libass to draw (font sizes, scales,
 * borders, spacing, drawing coordinates: subs_limits.c), rewriting the
 * values beyond them; returns how many it limited.
 */
size_t subs_limit_track(ASS_Track *t);
/* The selected source, NULL when none. */
subs_source *subs_selected(const dm_subs *s);
/* Forget render state (track placements, frame) after a change. */
void subs_render_reset(dm_subs *s);

/* ---- subs_load.c */
/* Read the film's subtitle streams and fonts into sh. */
int subs_load_film(subs_shared *sh, const char *film, char *err, size_t errlen);
/* Read an external file (UTF-8 conversion done inside) and append it. */
int subs_load_file(subs_shared *sh, const char *path, int auto_loaded, const char *codepage,
                   char *err, size_t errlen);
int subs_load_memory(subs_shared *sh, const void *data, size_t len, const char *format,
                     const char *name, const char *codepage, char *err, size_t errlen);
/* Decode a picture track's packets (once; thread-safe). */
int subs_load_pictures(subs_source *src, int video_w, int video_h, char *err, size_t errlen);
void subs_source_free(subs_source *src);
/* Fill ev->read_order, layer, collides, animated, anim_* from ev->chunk and ev->dur. */
void subs_event_classify(subs_text_event *ev);

/* ---- subs_composite.c */
/*
 * Composite images into disjoint rectangles; 0 or DM_ENOMEM. With `prev`, a
 * rectangle made of exactly the images of one of prev's takes its pixels
 * instead of compositing them again: only valid when every image data
 * pointer prev was made from is still alive and unchanged (libass keeps the
 * images of its previous frame until the next call returns).
 */
int subs_composite(subs_canvas *c, const subs_canvas *prev, const subs_img *imgs, size_t n);
void subs_canvas_free(subs_canvas *c);
/* The tight box of an image's covered pixels; 0 when it covers none. */
int subs_img_ink(const subs_img *img, int *x0, int *y0, int *x1, int *y1);
/* Scale one picture rectangle from canvas to stage; 0, or DM_ENOMEM. *out->argb
 * is NULL (and w or h 0) when nothing of it lands on the stage. */
int subs_pic_scale(const subs_pic_rect *r, int canvas_w, int canvas_h, int stage_w, int stage_h,
                   double scale, subs_scaled *out);

/* ---- subs_render.c */
/* Draw `track` on `rend`, in order, at every colliding start in [from, tau)
 * (the last SUBS_MAX_REPLAY of them): the placements libass would have
 * reached by playing through. */
void subs_replay(ASS_Renderer *rend, ASS_Track *track, const int64_t *coll_start, size_t n_coll,
                 int64_t from, int64_t tau);
/* Build the colliding-start index of a source; 0 or DM_ENOMEM. */
int subs_collider_index(const subs_source *src, int64_t **start, int64_t **run, int64_t **maxend,
                        size_t *n);

#endif
