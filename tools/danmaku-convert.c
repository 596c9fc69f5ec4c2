/*
 * danmaku-convert - convert comment tracks between formats, write ASS with
 * the engine's collision-free layout, or write a layout dump.
 *
 *     danmaku-convert IN [--offset S] [IN [--offset S]]... -o OUT [--from FMT] [--to FMT]
 *     danmaku-convert IN... --layout -o DUMP.jsonl [--stage 1920x1080] [--font-px 48]
 *                     [--scroll 8] [--fixed 4] [--overflow delay|drop|overlay]
 *
 * Several inputs make one scene, in the order given (a film's tracks, then
 * the recording of a screening: the lanes are the screening's). Widths come
 * from the real font (SDL_ttf, with fontconfig fallback), never from a
 * character count.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ass_measure.h"
#include "danmaku.h"
#include "dm_version.h"
#ifdef DM_HAVE_BUS
#include "bus.h"
#endif
#include "filter_cli.h"
#include "label.h"
#include "layout_cli.h"
#include "subs_cli.h"
#include "text.h"

#define PROG "danmaku-convert"
#define MAX_WARNINGS_SHOWN 20
#define MAX_INPUTS 64

typedef struct options {
    const char *in[MAX_INPUTS]; /* input tracks, in scene order */
    int64_t offset_ms[MAX_INPUTS]; /* --offset after each: when its comments start */
    int in_count;
    const char *reading;        /* the input being read, for warnings */
    const char *out;            /* "-" is stdout */
    dm_format from, to;         /* formats, UNKNOWN = guess */
    int dump;                   /* --layout: write the layout dump */
    dm_layout_opts layout;      /* engine settings */
    const char *font;           /* family or file, NULL = default CJK font */
    int outline_px;             /* outline width of the drawn box */
    int aigc;                   /* --aigc: lay out around the AIGC label (as the player and burn-in draw it) */
    const char *aigc_text;      /* --aigc-text */
    double opacity;             /* ASS output opacity */
    const char *emoji_font;     /* ASS output: emoji runs in this (monochrome) font, NULL: none */
    int emoji_font_set;         /* --ass-emoji-font was given */
    int quiet;                  /* no warnings on stderr */
    dm_filter *filter;          /* keyword/regex/user filters, NULL if none */
    dm_subs_cli subs;           /* --sub FILM_OR_SUBFILE and the rest: comments keep off the subtitles */
} options;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: " PROG " IN... -o OUT [options]\n"
        "       " PROG " IN... --layout -o DUMP.jsonl [layout options]\n"
        "\n"
        "Several inputs are one scene, in the order given: a film's tracks, then a screening's\n"
        "recording, lay out as they did at the screening. --offset SECONDS after an input shifts\n"
        "that input's comments (it starts that much later; negative: earlier):\n"
        "    " PROG " film.xml extra.json --offset 12.5 -o all.jsonl\n"
        "\n"
        "Input formats are told by the content: Bilibili XML and protobuf segments, live recorders'\n"
        "XML (BililiveRecorder: super chats, gifts), dandanplay, niconico, ArtPlayer and DPlayer JSON,\n"
        "ASS (danmaku2ass, DanmakuFactory, ours) and danmaku JSONL. Output (from the extension, or\n"
        "--to): xml (Bilibili), jsonl (danmaku track), ass (carries the computed layout).\n"
        "\n"
        "  -o, --output FILE     output file ('-' for standard output)\n"
        "  --offset SECONDS      the input just before starts this much later\n"
        "  --from FMT            input format: xml, protobuf, dandanplay, niconico, artplayer,\n"
        "                        dplayer, ass, jsonl\n"
        "  --to FMT              output format: xml, jsonl, ass\n"
        "  --layout              write the layout dump (one JSON line per comment)\n"
        "  --stage WxH           stage size in px (default 1920x1080)\n"
        "  --font NAME|FILE      font family or file (default: a CJK font found by fontconfig)\n"
        "  --outline PX          outline width (default 2)\n"
        "  --opacity F           ASS opacity 0..1 (default 1)\n"
        "  --ass-emoji-font NAME\n"
        "                        ASS: draw emoji with this font (default Symbola when installed; 'none':\n"
        "                        leave them to the player's fallback: libass draws no colour emoji)\n"
        "  --aigc                lay the comments out around the AIGC label (as the player and\n"
        "                        danmaku-render draw it for an AI-generated film)\n"
        "  --aigc-text TEXT      the label's text (implies --aigc)\n"
        "  -q, --quiet           no warnings\n"
        "  -h, --help            this help\n"
        "  --version             the versions of danmaku-convert and of the libraries it runs with\n"
        "Filters (a hidden comment keeps its dump line, with the reason \"filtered\"):\n");
    dm_filter_cli_help(f);
    fputs("Layout (--font-px defaults to 48 here):\n", f);
    dm_layout_cli_help(f);
    fputs("Subtitles (comments laid out around them; --sub FILM takes the film's own tracks):\n", f);
    dm_subs_cli_help(f);
}

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static void print_warning(void *ud, const char *msg)
{
    const options *o = ud;
    static unsigned shown;

    if (o->quiet)
        return;
    if (++shown <= MAX_WARNINGS_SHOWN)
        fprintf(stderr, PROG ": %s: warning: %s\n", o->reading, msg);
}

/* A code point no font has: said once (the comment is measured and drawn without it). */
static void text_warning(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, PROG ": warning: %s\n", msg);
}

static int parse_args(int argc, char **argv, options *o)
{
    enum { O_FROM = 256, O_TO, O_LAYOUT, O_STAGE, O_FONT, O_OUTLINE, O_OPACITY, O_EMOJIFONT, O_OFFSET, O_AIGC,
           O_AIGCTEXT, O_VERSION };
    static const struct option own[] = {
        { "output", required_argument, NULL, 'o' }, { "from", required_argument, NULL, O_FROM },
        { "to", required_argument, NULL, O_TO }, { "layout", no_argument, NULL, O_LAYOUT },
        { "stage", required_argument, NULL, O_STAGE },
        { "font", required_argument, NULL, O_FONT },
        { "outline", required_argument, NULL, O_OUTLINE }, { "opacity", required_argument, NULL, O_OPACITY },
        { "ass-emoji-font", required_argument, NULL, O_EMOJIFONT },
        { "offset", required_argument, NULL, O_OFFSET },
        { "aigc", no_argument, NULL, O_AIGC }, { "aigc-text", required_argument, NULL, O_AIGCTEXT },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, O_VERSION }, { NULL, 0, NULL, 0 },
    };
    struct option *longopts = dm_filter_cli_merge(dm_subs_cli_merge(dm_layout_cli_merge(own)));
    dm_diag diag = { 0 };
    char err[256];
    int c, v, rc = 0;

    if (!longopts)
        return fail("out of memory");
    opterr = 0;
    /* "-": inputs come in order among the options, so an --offset belongs to the input before it */
    while (rc == 0 && (c = getopt_long(argc, argv, "-o:qh", longopts, NULL)) != -1) {
        int applied = dm_layout_cli_apply(&o->layout, c, optarg, err, sizeof err);
        if (applied == 0)
            applied = dm_subs_cli_apply(&o->subs, c, optarg, err, sizeof err);
        if (applied == 0)
            applied = dm_filter_cli_apply(&o->filter, c, optarg, err, sizeof err);
        if (applied < 0) {
            rc = fail("%s", err);
            break;
        }
        if (applied > 0)
            continue;
        switch (c) {
        case 1:
            if (o->in_count == MAX_INPUTS) {
                rc = fail("at most %d input tracks", MAX_INPUTS);
                break;
            }
            o->offset_ms[o->in_count] = 0;
            o->in[o->in_count++] = optarg;
            break;
        case O_AIGC: o->aigc = 1; break;
        case O_AIGCTEXT: o->aigc_text = optarg; o->aigc = 1; break;
        case O_OFFSET:
            if (o->in_count == 0)
                rc = fail("--offset %s comes before any input: write it after the input it shifts", optarg);
            else if (dm_offset_parse(optarg, &o->offset_ms[o->in_count - 1], err, sizeof err))
                rc = fail("%s", err);
            break;
        case 'o': o->out = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h':
            usage(stdout);
            free(longopts);
            exit(0);
        case O_VERSION:
            dm_print_version(stdout, "danmaku-convert");
            free(longopts);
            exit(0);
        case O_FROM:
        case O_TO: {
            dm_format f = dm_format_from_name(optarg);
            if (f == DM_FORMAT_UNKNOWN) {
                rc = fail("unknown format '%s' (use xml, protobuf, dandanplay, niconico, artplayer, dplayer, "
                          "jsonl or ass)", optarg);
                break;
            }
            if (c == O_FROM)
                o->from = f;
            else
                o->to = f;
            break;
        }
        case O_LAYOUT: o->dump = 1; break;
        case O_STAGE:
            if (sscanf(optarg, "%dx%d%n", &o->layout.stage_w, &o->layout.stage_h, &v) != 2 || optarg[v])
                rc = fail("--stage wants WIDTHxHEIGHT, got '%s'", optarg);
            break;
        case O_FONT: o->font = optarg; break;
        case O_EMOJIFONT: o->emoji_font = strcmp(optarg, "none") ? optarg : NULL; o->emoji_font_set = 1; break;
        case O_OUTLINE:
            if (parse_int(optarg, 0, DM_TEXT_MAX_OUTLINE, &o->outline_px))
                rc = fail("--outline wants 0..16 px, got '%s'", optarg);
            break;
        case O_OPACITY:
            o->opacity = atof(optarg);
            if (!(o->opacity >= 0 && o->opacity <= 1))
                rc = fail("--opacity wants a number from 0 to 1, got '%s'", optarg);
            break;
        default:
            /* one line, as every error here (getopt's own message is off) */
            rc = fail("unknown option or missing value: '%s' (see --help)", argv[optind - 1]);
            break;
        }
    }
    free(longopts);
    if (rc)
        return rc;
    while (optind < argc && o->in_count < MAX_INPUTS)   /* after "--" */
        o->in[o->in_count++] = argv[optind++];
    if (optind < argc)
        return fail("at most %d input tracks", MAX_INPUTS);
    if (o->in_count == 0) {
        usage(stderr);
        return fail("no input track given");
    }
    if (!o->out)
        return fail("no output: use -o FILE (or -o - for standard output)");
    if (dm_layout_opts_check(&o->layout, &diag))
        return fail("%s", diag.error);
    if (!o->dump && o->to == DM_FORMAT_UNKNOWN) {
        o->to = dm_format_from_path(o->out);
        if (o->to == DM_FORMAT_UNKNOWN || o->to == DM_FORMAT_DANDANPLAY_JSON ||
            o->to == DM_FORMAT_NICONICO_JSON)
            return fail("cannot tell the output format of '%s': use --to xml, jsonl or ass", o->out);
    }
    if (!o->dump && o->to != DM_FORMAT_BILIBILI_XML && o->to != DM_FORMAT_JSONL && o->to != DM_FORMAT_ASS)
        return fail("cannot write %s: use xml, jsonl or ass", dm_format_name(o->to));
    return 0;
}

/*
 * nats://HOST:PORT/ID: a screening's stream on the comment bus, in stream
 * order with the stamps its players laid out (docs/scale.md). 0 or 1.
 */
static int read_stream(options *o, int i, dm_scene *scene)
{
#ifdef DM_HAVE_BUS
    char url[512], id[DM_BUS_ID_MAX + 1], err[1024] = "";
    size_t bad = 0;
    dm_track t;
    int e = dm_bus_split_url(o->in[i], url, sizeof url, id, sizeof id, err, sizeof err);

    if (e < 0)
        return fail("%s", err);
    dm_track_init(&t);
    e = dm_bus_export(url, id, &t, &bad, err, sizeof err);
    for (size_t k = 0; !e && k < t.count; k++)
        t.items[k].t_ms += o->offset_ms[i];
    if (!e && (e = dm_scene_add_track(scene, &t)) != 0)
        snprintf(err, sizeof err, "%s", dm_strerror(e));
    dm_track_clear(&t);
    if (e)
        return fail("%s: %s", o->in[i], err);
    if (bad)
        fprintf(stderr, PROG ": %s: %zu message%s of the stream %s not comments we can read: skipped (counted)\n",
                o->in[i], bad, bad == 1 ? "" : "s", bad == 1 ? "is" : "are");
    return 0;
#else
    (void)scene;
    return fail("%s: this danmaku-convert was built without the comment bus (-DDM_LIVE=OFF)", o->in[i]);
#endif
}

/* Read every input into the scene; 0 or 1 with the message printed. */
static int read_inputs(options *o, dm_scene *scene)
{
    for (int i = 0; i < o->in_count; i++) {
        dm_diag diag = { .warn = print_warning, .warn_ud = o };
        int e;
        dm_track_file file = { .path = o->in[i], .format = o->from, .offset_ms = o->offset_ms[i] };
        o->reading = o->in[i];
        if (!strncmp(o->in[i], "nats://", 7)) {
            if (read_stream(o, i, scene))
                return 1;
            continue;
        }
        e = dm_scene_read(scene, &file, &diag);
        if (e)
            return fail("%s", diag.error[0] ? diag.error : dm_strerror(e));
        if (diag.warnings > MAX_WARNINGS_SHOWN && !o->quiet)
            fprintf(stderr, PROG ": %s: %u warnings in all\n", o->in[i], diag.warnings);
    }
    return 0;
}

/* A subtitle file by its extension (anything else given to --sub is a film). */
static int is_subtitle_file(const char *path)
{
    static const char *const exts[] = { ".srt", ".ass", ".ssa", ".vtt" };
    size_t n = strlen(path);

    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (n > 4 && !strcasecmp(path + n - 4, exts[i]))
            return 1;
    return 0;
}

/*
 * --sub FILM_OR_SUBFILE: the subtitles' boxes at the stage become the
 * scene's obstacles (and the dump's obstacle lines). 0, or 1 with the
 * message printed.
 */
static int open_subtitles(options *o, dm_subs **subs, dm_scene *scene)
{
    dm_subs_cli sc = o->subs;
    const char *film = NULL;
    char err[512] = "";

    sc.n_files = 0;
    for (int i = 0; i < o->subs.n_files; i++) {
        if (is_subtitle_file(o->subs.files[i]))
            sc.files[sc.n_files++] = o->subs.files[i];
        else if (!film)
            film = o->subs.files[i];
        else
            return fail("--sub: one film at a time ('%s' and '%s')", film, o->subs.files[i]);
    }
    if (dm_subs_cli_open(&sc, film, o->layout.stage_w, o->layout.stage_h, subs, err, sizeof err) ||
        dm_subs_cli_update(&sc, *subs, 1, scene, NULL, INT64_MIN, err, sizeof err))
        return fail("%s", err);
    if (*subs && !o->quiet) {
        char line[256];
        dm_subs_osd(*subs, line, sizeof line);
        fprintf(stderr, PROG ": %s\n", line);
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o = { 0 };
    dm_layout_opts defaults = DM_LAYOUT_OPTS_DEFAULT;
    dm_subs_cli subs_defaults = DM_SUBS_CLI_DEFAULT;
    dm_subs *subs = NULL;
    dm_scene_opts so = { 0 };
    dm_scene *scene = NULL;
    dm_diag diag = { 0 };
    dm_text *text = NULL;
    dm_ass_measure *ass_measure = NULL;
    dm_ass_opts ass = { 0 };
    const dm_track *track;
    FILE *out = NULL;
    char err[256] = "";
    int rc = 1, e;

    o.layout = defaults;
    o.subs = subs_defaults;
    o.outline_px = DM_TEXT_OUTLINE_DEFAULT;
    o.opacity = 1.0;
    if (parse_args(argc, argv, &o))
        goto done;
    if (!o.emoji_font_set && dm_text_family_installed("Symbola"))
        o.emoji_font = "Symbola";   /* libass draws no colour emoji: a monochrome font keeps them visible */
    if (o.dump || o.to == DM_FORMAT_ASS) {
        text = dm_text_new(o.font, o.outline_px, err, sizeof err);
        if (!text) {
            fprintf(stderr, PROG ": %s\n", err);
            goto done;
        }
        if (!o.quiet)
            dm_text_set_warn(text, text_warning, NULL);
    }
    so.layout = o.layout;
    so.measure = text ? dm_text_measure : NULL;
    so.measure_ud = text;
    if (o.to == DM_FORMAT_ASS && !o.dump) {
        /* ASS: laid out with text measured as libass will draw it */
        ass.font_name = dm_text_family(text);
        ass.outline_px = o.outline_px;
        ass.opacity = o.opacity;
        ass.emoji_font = o.emoji_font;
        for (int s = 0; s < DM_SIZE_COUNT; s++)
            ass.font_size[s] = dm_layout_height_px(&o.layout, (dm_size)s) - 2 * o.outline_px;
        ass_measure = dm_ass_measure_new(&o.layout, &ass, err, sizeof err);
        if (!ass_measure) {
            fprintf(stderr, PROG ": %s\n", err);
            goto done;
        }
        ass.anchor = dm_ass_measure_anchor;
        ass.anchor_ud = ass_measure;
        so.measure = dm_ass_measure_text;
        so.measure_ud = ass_measure;
    }
    so.filter = o.filter;
    scene = dm_scene_new(&so, &diag);
    if (!scene) {
        fprintf(stderr, PROG ": %s\n", diag.error);
        goto done;
    }
    if (read_inputs(&o, scene))
        goto done;
    if (text && o.subs.n_files && open_subtitles(&o, &subs, scene))
        goto done;
    if (text && o.aigc) {
        /* the label the player and burn-in draw for an AI-generated film: comments keep off it */
        dm_obstacle boxes[2];
        dm_label *label = dm_label_new(text, o.aigc_text, o.layout.stage_w, o.layout.stage_h, err, sizeof err);
        if (!label) {
            fprintf(stderr, PROG ": %s\n", err);
            goto done;
        }
        e = dm_scene_set_labels(scene, boxes, dm_label_obstacles(label, 0, -1, boxes));
        dm_label_free(&label);
        if (e) {
            fprintf(stderr, PROG ": %s\n", dm_strerror(e));
            goto done;
        }
    }
    if (text && (e = dm_scene_layout(scene, &diag)) != 0) {
        fprintf(stderr, PROG ": layout failed: %s\n", diag.error[0] ? diag.error : dm_strerror(e));
        goto done;
    }
    track = dm_scene_track(scene);
    out = strcmp(o.out, "-") ? fopen(o.out, "wb") : stdout;
    if (!out) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", o.out, strerror(errno));
        goto done;
    }
    if (o.dump) {
        e = dm_scene_dump(scene, out, dm_text_family(text), o.outline_px);
    } else if (o.to == DM_FORMAT_ASS) {
        e = dm_write_ass(track, dm_scene_placed(scene), dm_scene_texts(scene), &o.layout, &ass, out, &diag);
    } else if (o.to == DM_FORMAT_JSONL) {
        e = dm_write_jsonl(track, out, &diag);
    } else {
        e = dm_write_bilibili_xml(track, out, &diag);
    }
    if (fflush(out) || ferror(out))
        e = e ? e : DM_EIO;
    if (e) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", o.out, diag.error[0] ? diag.error : dm_strerror(e));
        goto done;
    }
    {
        char line[512], label[64];
        if (o.in_count == 1)
            snprintf(label, sizeof label, "%s", o.in[0]);
        else
            snprintf(label, sizeof label, "%d tracks", o.in_count);
        fprintf(stderr, PROG ": %s: %s\n", label, dm_scene_summary(scene, line, sizeof line));
    }
    rc = 0;
done:
    if (out && out != stdout && fclose(out) && rc == 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", o.out, strerror(errno));
        rc = 1;
    }
    dm_scene_free(&scene);
    dm_subs_destroy(&subs);
    dm_ass_measure_free(&ass_measure);
    dm_text_free(&text);
    dm_filter_free(&o.filter);
    return rc;
}
