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
#include "layout_cli.h"
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
        "  -o, --output FILE     output file ('-' for standard output)\n"
        "  --from FMT            input format: xml, dandanplay, niconico, jsonl\n"
        "  --to FMT              output format: xml, jsonl, ass\n"
        "  --layout              write the layout dump (one JSON line per comment)\n"
        "  --stage WxH           stage size in px (default 1920x1080)\n"
        "  --block WORD          hide comments containing WORD (repeatable; NFKC, any case)\n"
        "  --block-regex RE      hide comments matching RE (repeatable; PCRE2)\n"
        "  --block-user HASH     hide comments by this author (repeatable)\n"
        "  --font NAME|FILE      font family or file (default: a CJK font found by fontconfig)\n"
        "  --outline PX          outline width (default 2)\n"
        "  --opacity F           ASS opacity 0..1 (default 1)\n"
        "  -q, --quiet           no warnings\n"
        "  -h, --help            this help\n"
        "Layout (--font-px defaults to 48 here):\n");
    dm_layout_cli_help(f);
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
        fprintf(stderr, PROG ": %s: warning: %s\n", o->in, msg);
}

static int parse_args(int argc, char **argv, options *o)
{
    enum { O_FROM = 256, O_TO, O_LAYOUT, O_STAGE, O_BLOCK, O_BLOCKRE, O_BLOCKUSER, O_FONT, O_OUTLINE,
           O_OPACITY };
    static const struct option own[] = {
        { "output", required_argument, NULL, 'o' }, { "from", required_argument, NULL, O_FROM },
        { "to", required_argument, NULL, O_TO }, { "layout", no_argument, NULL, O_LAYOUT },
        { "stage", required_argument, NULL, O_STAGE },
        { "block", required_argument, NULL, O_BLOCK }, { "block-regex", required_argument, NULL, O_BLOCKRE },
        { "block-user", required_argument, NULL, O_BLOCKUSER }, { "font", required_argument, NULL, O_FONT },
        { "outline", required_argument, NULL, O_OUTLINE }, { "opacity", required_argument, NULL, O_OPACITY },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    struct option *longopts = dm_layout_cli_merge(own);
    dm_diag diag = { 0 };
    char err[256];
    int c, v, rc = 0;

    if (!longopts)
        return fail("out of memory");
    while (rc == 0 && (c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        int applied = dm_layout_cli_apply(&o->layout, c, optarg, err, sizeof err);
        if (applied < 0) {
            rc = fail("%s", err);
            break;
        }
        if (applied > 0)
            continue;
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h':
            usage(stdout);
            free(longopts);
            exit(0);
        case O_FROM:
        case O_TO: {
            dm_format f = dm_format_from_name(optarg);
            if (f == DM_FORMAT_UNKNOWN) {
                rc = fail("unknown format '%s' (use xml, dandanplay, niconico, jsonl or ass)", optarg);
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
        case O_BLOCK:
        case O_BLOCKRE:
        case O_BLOCKUSER:
            if (!o->filter)
                o->filter = dm_filter_new();
            if (!o->filter)
                rc = fail("out of memory");
            else if (c == O_BLOCK && dm_filter_add_keyword(o->filter, optarg))
                rc = fail("--block: '%s' is empty or not valid UTF-8", optarg);
            else if (c == O_BLOCKRE && dm_filter_add_regex(o->filter, optarg, &diag))
                rc = fail("--block-regex: %s", diag.error);
            else if (c == O_BLOCKUSER && dm_filter_add_user(o->filter, optarg))
                rc = fail("--block-user: cannot add '%s'", optarg);
            break;
        case O_FONT: o->font = optarg; break;
        case O_OUTLINE:
            if (parse_int(optarg, 0, 16, &o->outline_px))
                rc = fail("--outline wants 0..16 px, got '%s'", optarg);
            break;
        case O_OPACITY:
            o->opacity = atof(optarg);
            if (!(o->opacity >= 0 && o->opacity <= 1))
                rc = fail("--opacity wants a number from 0 to 1, got '%s'", optarg);
            break;
        default:
            usage(stderr);
            rc = 1;
            break;
        }
    }
    free(longopts);
    if (rc)
        return rc;
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
