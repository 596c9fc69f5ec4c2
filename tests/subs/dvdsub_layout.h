/* dvdsub_layout.h - what make_dvdsub writes: the pictures of the bitmap
 * subtitle test film, so the tests know where the ink must be. */
#ifndef DM_DVDSUB_LAYOUT_H
#define DM_DVDSUB_LAYOUT_H

#define DVDSUB_CANVAS_W 720
#define DVDSUB_CANVAS_H 480
#define DVDSUB_GLYPH_SCALE 4      /* each font dot is a 4x4 block */

typedef struct dvdsub_event {
    int start_ms, end_ms;
    int x, y;                     /* top-left of the picture (canvas px) */
    const char *text;             /* digits and capitals of the 5x7 font */
} dvdsub_event;

/* The picture of a text is an opaque dark plate with the text in white on
 * it: 6 dots a character (5 + 1 gap, none after the last) by 7 dots, each
 * dot DVDSUB_GLYPH_SCALE px, plus a 1 px border of plate all round. The
 * whole picture is covered, so its box is exactly x, y, W(n), H. */
#define DVDSUB_TEXT_W(n) ((6 * (n) - 1) * DVDSUB_GLYPH_SCALE + 2)
#define DVDSUB_TEXT_H (7 * DVDSUB_GLYPH_SCALE + 2)

static const dvdsub_event dvdsub_events[] = {
    {1000, 2500, 240, 400, "SUB 12"},   /* bottom */
    {3000, 4500, 100, 40, "TOP 3"},     /* top */
};
#define DVDSUB_EVENTS (sizeof dvdsub_events / sizeof dvdsub_events[0])

#endif
