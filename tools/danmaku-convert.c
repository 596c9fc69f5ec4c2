/*
 * danmaku-convert - convert comment tracks between formats, write ASS with
 * the engine's collision-free layout, or write a layout dump.
 *
 *     danmaku-convert IN -o OUT [--from FMT] [--to FMT]
 *     danmaku-convert IN --layout -o DUMP.jsonl [--stage 1920x1080] [--font-px 48]
 *                     [--scroll 8] [--fixed 4] [--overflow delay|drop|overlay]
 *
 * Widths come from the real font (SDL_ttf, with fontconfig fallback), never
 * from a character count.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "danmaku.h"
#include "text.h"

#define PROG "danmaku-convert"
#define MAX_WARNINGS_SHOWN 20

typedef struct options {
    const char *in, *out;       /* paths; "-" is stdout for out */
    dm_format from, to;         /* formats, UNKNOWN = guess */
    int dump;                   /* --layout: write the layout dump */
    dm_layout_opts layout;      /* engine settings */
    const char *font;           /* family or file, NULL = default CJK font */
    int outline_px;             /* outline width of the drawn box */
    double opacity;             /* ASS output opacity */
    int quiet;                  /* no warnings on stderr */
    dm_filter *filter;          /* keyword/regex/user filters, NULL if none */
} options;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: " PROG " IN -o OUT [options]\n"
        "       " PROG " IN --layout -o DUMP.jsonl [layout options]\n"
        "\n"
        "Formats (from the extension, or --from/--to): xml (Bilibili), json (dandanplay or\n"
        "niconico, read only, detected from the content), jsonl (danmaku track), ass (write only;\n"
        "carries the computed layout).\n"
        "\n"
        "  -o, --output FILE       output file ('-' for standard output)\n"
        "      --from FMT          input format: xml, dandanplay, niconico, jsonl\n"
        "      --to FMT            output format: xml, jsonl, ass\n"
        "      --layout            write the layout dump (one JSON line per comment)\n"
        "      --stage WxH         stage size in px (default 1920x1080)\n"
        "      --font-px N         box height of a normal comment in px (default 48)\n"
        "      --scroll SECONDS    time a scrolling comment takes to cross (default 8)\n"
        "      --fixed SECONDS     time a top/bottom comment stays (default 4)\n"
        "      --overflow POLICY   delay (default), drop or overlay\n"
        "      --max-delay SECONDS longest hold under 'delay' (default 1)\n"
        "      --area FRACTION     share of the stage height comments may use (default 1)\n"
        "      --gap PX            horizontal gap between comments in a lane (default: font-px / 3)\n"
        "      --line-gap PX       vertical gap between lines (default 0)\n"
        "      --density N         at most N comments on screen (default: no cap)\n"
        "      --merge SECONDS     merge equal comments within this window into one with xN\n"
        "      --block WORD        hide comments containing WORD (repeatable; NFKC, any case)\n"
        "      --block-regex RE    hide comments matching RE (repeatable; PCRE2)\n"
        "      --block-user HASH   hide comments by this author (repeatable)\n"
        "      --font NAME|FILE    font family or file (default: a CJK font found by fontconfig)\n"
        "      --outline PX        outline width (default 2)\n"
        "      --opacity F         ASS opacity 0..1 (default 1)\n"
        "  -q, --quiet             no warnings\n"
        "  -h, --help              this help\n");
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

static int parse_seconds_ms(const char *s, int *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 3600)
        return -1;
    *ms = (int)lround(v * 1000);
    return 0;
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
        fprintf(stderr, PROG ": %s: warning: %s\n", o->in, msg);
}

static int parse_args(int argc, char **argv, options *o)
{
    enum { O_FROM = 256, O_TO, O_LAYOUT, O_STAGE, O_FONTPX, O_SCROLL, O_FIXED, O_OVERFLOW, O_MAXDELAY,
           O_AREA, O_GAP, O_LINEGAP, O_DENSITY, O_MERGE, O_BLOCK, O_BLOCKRE, O_BLOCKUSER, O_FONT,
           O_OUTLINE, O_OPACITY };
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' }, { "from", required_argument, NULL, O_FROM },
        { "to", required_argument, NULL, O_TO }, { "layout", no_argument, NULL, O_LAYOUT },
        { "stage", required_argument, NULL, O_STAGE }, { "font-px", required_argument, NULL, O_FONTPX },
        { "scroll", required_argument, NULL, O_SCROLL }, { "fixed", required_argument, NULL, O_FIXED },
        { "overflow", required_argument, NULL, O_OVERFLOW },
        { "max-delay", required_argument, NULL, O_MAXDELAY }, { "area", required_argument, NULL, O_AREA },
        { "gap", required_argument, NULL, O_GAP }, { "line-gap", required_argument, NULL, O_LINEGAP },
        { "density", required_argument, NULL, O_DENSITY }, { "merge", required_argument, NULL, O_MERGE },
        { "block", required_argument, NULL, O_BLOCK }, { "block-regex", required_argument, NULL, O_BLOCKRE },
        { "block-user", required_argument, NULL, O_BLOCKUSER }, { "font", required_argument, NULL, O_FONT },
        { "outline", required_argument, NULL, O_OUTLINE }, { "opacity", required_argument, NULL, O_OPACITY },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    dm_diag diag = { 0 };
    int c, v;

    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); exit(0);
        case O_FROM:
        case O_TO: {
            dm_format f = dm_format_from_name(optarg);
            if (f == DM_FORMAT_UNKNOWN)
                return fail("unknown format '%s' (use xml, dandanplay, niconico, jsonl or ass)", optarg);
            if (c == O_FROM)
                o->from = f;
            else
                o->to = f;
            break;
        }
        case O_LAYOUT: o->dump = 1; break;
        case O_STAGE:
            if (sscanf(optarg, "%dx%d%n", &o->layout.stage_w, &o->layout.stage_h, &v) != 2 || optarg[v])
                return fail("--stage wants WIDTHxHEIGHT, got '%s'", optarg);
            break;
        case O_FONTPX:
            if (parse_int(optarg, 4, 4096, &o->layout.font_px))
                return fail("--font-px wants a size in px (4..4096), got '%s'", optarg);
            break;
        case O_SCROLL:
        case O_FIXED:
        case O_MAXDELAY:
        case O_MERGE: {
            int *dst = c == O_SCROLL ? &o->layout.scroll_ms : c == O_FIXED ? &o->layout.fixed_ms
                     : c == O_MAXDELAY ? &o->layout.max_delay_ms : &o->layout.merge_window_ms;
            if (parse_seconds_ms(optarg, dst))
                return fail("a duration in seconds (0..3600) was expected, got '%s'", optarg);
            break;
        }
        case O_OVERFLOW:
            v = dm_overflow_from_name(optarg);
            if (v < 0)
                return fail("--overflow wants delay, drop or overlay, got '%s'", optarg);
            o->layout.overflow = (dm_overflow)v;
            break;
        case O_AREA:
            o->layout.area = atof(optarg);
            break;
        case O_GAP:
        case O_LINEGAP:
        case O_DENSITY:
            if (parse_int(optarg, 0, 100000, &v))
                return fail("a whole number was expected, got '%s'", optarg);
            *(c == O_GAP ? &o->layout.min_gap_px : c == O_LINEGAP ? &o->layout.line_gap_px
                                                                  : &o->layout.density_cap) = v;
            break;
        case O_BLOCK:
        case O_BLOCKRE:
        case O_BLOCKUSER:
            if (!o->filter)
                o->filter = dm_filter_new();
            if (!o->filter)
                return fail("out of memory");
            if (c == O_BLOCK && dm_filter_add_keyword(o->filter, optarg))
                return fail("--block: '%s' is empty or not valid UTF-8", optarg);
            if (c == O_BLOCKRE && dm_filter_add_regex(o->filter, optarg, &diag))
                return fail("--block-regex: %s", diag.error);
            if (c == O_BLOCKUSER && dm_filter_add_user(o->filter, optarg))
                return fail("--block-user: cannot add '%s'", optarg);
            break;
        case O_FONT: o->font = optarg; break;
        case O_OUTLINE:
            if (parse_int(optarg, 0, 16, &o->outline_px))
                return fail("--outline wants 0..16 px, got '%s'", optarg);
            break;
        case O_OPACITY:
            o->opacity = atof(optarg);
            if (!(o->opacity >= 0 && o->opacity <= 1))
                return fail("--opacity wants a number from 0 to 1, got '%s'", optarg);
            break;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return fail("exactly one input file is needed");
    }
    o->in = argv[optind];
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

int main(int argc, char **argv)
{
    options o = { 0 };
    dm_layout_opts defaults = DM_LAYOUT_OPTS_DEFAULT;
    dm_track track;
    dm_diag diag = { 0 };
    dm_text *text = NULL;
    dm_placed *placed = NULL;
    char **texts = NULL;
    FILE *out = NULL;
    char err[256] = "";
    int rc = 1, e;

    o.layout = defaults;
    o.outline_px = 2;
    o.opacity = 1.0;
    dm_track_init(&track);
    if (parse_args(argc, argv, &o))
        goto done;
    diag.warn = print_warning;
    diag.warn_ud = &o;
    e = dm_read_file(&track, o.in, o.from, &diag);
    if (e) {
        fprintf(stderr, PROG ": %s\n", diag.error[0] ? diag.error : dm_strerror(e));
        goto done;
    }
    if (diag.warnings > MAX_WARNINGS_SHOWN && !o.quiet)
        fprintf(stderr, PROG ": %s: %u warnings in all\n", o.in, diag.warnings);
    if (o.dump || o.to == DM_FORMAT_ASS) {
        text = dm_text_new(o.font, o.outline_px, err, sizeof err);
        if (!text) {
            fprintf(stderr, PROG ": %s\n", err);
            goto done;
        }
        e = dm_layout_track(&track, &o.layout, dm_text_measure, text, o.filter, &placed, &texts, &diag);
        if (e) {
            fprintf(stderr, PROG ": layout failed: %s\n", diag.error[0] ? diag.error : dm_strerror(e));
            goto done;
        }
    }
    out = strcmp(o.out, "-") ? fopen(o.out, "wb") : stdout;
    if (!out) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", o.out, strerror(errno));
        goto done;
    }
    if (o.dump) {
        e = dm_layout_dump_write(out, &track, placed, texts, &o.layout, dm_text_family(text), o.outline_px);
    } else if (o.to == DM_FORMAT_ASS) {
        dm_ass_opts a = { .font_name = dm_text_family(text), .outline_px = o.outline_px, .opacity = o.opacity };
        for (int s = 0; s < DM_SIZE_COUNT; s++)
            a.font_size[s] = dm_layout_height_px(&o.layout, (dm_size)s) - 2 * o.outline_px;
        e = dm_write_ass(&track, placed, texts, &o.layout, &a, out, &diag);
    } else if (o.to == DM_FORMAT_JSONL) {
        e = dm_write_jsonl(&track, out, &diag);
    } else {
        e = dm_write_bilibili_xml(&track, out, &diag);
    }
    if (fflush(out) || ferror(out))
        e = e ? e : DM_EIO;
    if (e) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", o.out, diag.error[0] ? diag.error : dm_strerror(e));
        goto done;
    }
    rc = 0;
done:
    if (out && out != stdout && fclose(out) && rc == 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", o.out, strerror(errno));
        rc = 1;
    }
    dm_texts_free(texts, track.count);
    free(placed);
    dm_track_clear(&track);
    dm_text_free(&text);
    dm_filter_free(&o.filter);
    return rc;
}
