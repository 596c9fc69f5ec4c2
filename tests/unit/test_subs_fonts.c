/*
 * test_subs_fonts.c - the font attached to a film is the one libass draws
 * with. ctest runs this with FONTCONFIG_FILE naming a configuration without
 * any font folder, so the only font there is the attachment: signs.mkv
 * (DejaVu Serif attached) draws its lines, signs-noattach.mkv (the same
 * without the attachment) draws nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "subs.h"

static int g_skipped;

typedef struct logbuf {
    char text[65536];
    size_t len;
} logbuf;

static void log_capture(void *ud, int level, const char *msg)
{
    logbuf *l = ud;
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%d %s\n", level, msg);
    if (n > 0 && l->len + (size_t)n < sizeof l->text)
        l->len += (size_t)n;
}

static const char *film(const char *name)
{
    static char path[2][1024];
    static int next;
    const char *dir = getenv("DM_SUBS_FILMS");
    char *p = path[next++ % 2];
    struct stat st;

    snprintf(p, sizeof path[0], "%s/%s", dir ? dir : "subs-films", name);
    if (stat(p, &st) != 0) {
        print_message("film %s missing (see tests/subs/make-films.sh)\n", p);
        return NULL;
    }
    return p;
}

/* Pixels drawn at t (640x360). */
static size_t drawn(const char *path, int64_t t, logbuf *log)
{
    dm_subs_opts o = DM_SUBS_OPTS_DEFAULT;
    dm_subs *s;
    dm_subs_frame f;
    char err[256];
    uint32_t *px = calloc(640 * 360, 4);
    size_t n = 0;
    int ch;

    o.sid = 1;
    o.log = log_capture;
    o.log_ud = log;
    if (dm_subs_open(&s, path, &o, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(dm_subs_render(s, t, 640, 360, &f, &ch), 0);
    dm_subs_frame_blend(&f, px, 640, 360, 640 * 4, 0, 0);
    for (size_t i = 0; i < 640 * 360; i++)
        n += (px[i] >> 24) != 0;
    free(px);
    dm_subs_destroy(&s);
    return n;
}

static void test_attached_font_only(void **state)
{
    const char *with = film("signs.mkv"), *without = film("signs-noattach.mkv");
    logbuf *log = calloc(1, sizeof *log);
    (void)state;

    if (!with || !without) {
        g_skipped++;
        free(log);
        skip();
    }
    if (!getenv("FONTCONFIG_FILE"))
        fail_msg("run through ctest: FONTCONFIG_FILE must name a configuration without fonts");
    /* the bottom line, in the style's regular DejaVu Serif */
    assert_true(drawn(with, 1500, log) > 300);
    if (!strstr(log->text, "(DejaVu Serif, 400, 0) -> DejaVuSerif,"))
        fail_msg("libass did not report the attached font; its messages:\n%s", log->text);
    log->len = 0;
    log->text[0] = 0;
    /* the same script without the attachment has no font to draw with */
    assert_int_equal(drawn(without, 1500, log), 0);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attached_font_only),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (failed)
        return failed;
    return g_skipped ? 77 : 0;
}
