/*
 * danmaku-render - burn comment tracks into a film:
 *
 *     danmaku-render FILM --track FILE... -o OUT.mp4 [options]
 *     danmaku-render FILM --track FILE... --null      (render, discard: for measuring)
 *
 * Same layout and look as the player at the output size (dm_burnin). Ctrl-C
 * stops cleanly: the output is finished (trailer written) and plays up to
 * where the render was; a second Ctrl-C quits at once and removes the
 * unfinished file. See docs/render.md.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "burnin.h"
#include "danmaku.h"
#include "dm_version.h"
#include "filter_cli.h"
#include "layout_cli.h"
#include "subs_cli.h"

#define PROG "danmaku-render"
/* Font size the layout settings are checked with before the stage is known. */
#define CHECK_FONT_PX 48
/* Progress line refresh: often enough to look alive, rarely enough to cost nothing. */
#define PROGRESS_INTERVAL 0.25

static volatile sig_atomic_t stop_requested;
static const char *volatile output_path;   /* removed on a second Ctrl-C; NULL with --null */

static void on_signal(int sig)
{
    if (stop_requested) {
        /* second request: the user wants out now, and an unfinished file
         * would not play, so it goes too (unlink is async-signal-safe) */
        if (output_path)
            unlink(output_path);
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: " PROG " FILM --track FILE [--track FILE]... -o OUT.mp4 [options]\n"
        "       " PROG " FILM --track FILE... --null [options]\n"
        "\n"
        "Burns the comments of the tracks into FILM, with the player's layout and look.\n"
        "\n"
        "  --track FILE          comment track (repeatable), any format the converter reads\n"
        "                        (told by the content)\n"
        "  --offset SECONDS      the --track just before starts this much later (negative: earlier)\n"
        "                        (a summary line says how many comments are shown when any is not)\n"
        "  -o, --output FILE     output film; the container follows the extension (.mp4, .mkv, ...)\n"
        "      --null            render every frame and discard it (no encoding), for measuring\n"
        "      --format NAME     container when the extension does not say (mp4, matroska, ...)\n"
        "      --codec NAME      video encoder (default libx264)\n"
        "      --crf N           constant quality (x264: 0..51, default 23)\n"
        "      --bitrate RATE    target bit rate instead of --crf (e.g. 4M, 2500k)\n"
        "      --preset NAME     encoder preset (x264: ultrafast .. veryslow, default medium)\n"
        "      --size WxH        output size: the film is scaled first, comments are drawn at this size\n"
        "      --start SECONDS   start at this film time\n"
        "      --end SECONDS     stop at this film time\n"
        "      --no-audio        leave the sound out\n"
        "      --font NAME|FILE  comment font (default: a CJK font found by fontconfig)\n"
        "      --opacity F       comment opacity 0..1 (default 1)\n"
        "      --stats           print what was done at the end\n"
        "  --aigc                the film is AI-generated: the AIGC label at its start and in the top\n"
        "                        right corner (no comment covers it)\n"
        "  --aigc-text TEXT      the label's text (default \"AI生成 · AI-generated\"; implies --aigc)\n"
        "  -q, --quiet           no progress line\n"
        "  -v, --verbose         more messages\n"
        "  -h, --help            this help\n"
        "  --version             the versions of danmaku-render and of the libraries it runs with\n"
        "\n"
        "Layout, as in the player (--font-px defaults to the picture height / 22.5):\n");
    dm_layout_cli_help(f);
    fputs("Subtitles (drawn over the comments; comments keep off them):\n", f);
    dm_subs_cli_help(f);
    fputs("Filters, as in the player:\n", f);
    dm_filter_cli_help(f);
    fprintf(f,
        "\n"
        "Progress (percent, fps, time left) is shown when standard error is a terminal.\n"
        "Ctrl-C finishes the file cleanly up to the current frame (it plays); press it twice to\n"
        "quit at once, which removes the unfinished file.\n");
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* "4M", "2500k", "800000" -> bits per second. */
static int parse_rate(const char *s, int64_t *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v <= 0)
        return -1;
    if (*end == 'k' || *end == 'K') {
        v *= 1e3;
        end++;
    } else if (*end == 'M' || *end == 'm') {
        v *= 1e6;
        end++;
    }
    if (*end || v < 1000 || v > 1e10)
        return -1;
    *out = (int64_t)v;
    return 0;
}

typedef struct cli {
    dm_burnin_opts o;
    dm_filter *filter;          /* --block, --hide...: owned */
    int quiet, stats;
    long interrupt_after;       /* tests: act as if Ctrl-C came after this many frames, 0 = never */
} cli;

static int parse_options(int argc, char **argv, cli *c)
{
    enum { O_TRACK = 256, O_NULL, O_FORMAT, O_CODEC, O_CRF, O_BITRATE, O_PRESET, O_SIZE, O_START, O_END,
           O_NOAUDIO, O_FONT, O_OPACITY, O_STATS, O_INTERRUPT, O_OFFSET, O_AIGC, O_AIGCTEXT, O_VERSION };
    static const struct option own[] = {
        { "track", required_argument, NULL, O_TRACK }, { "offset", required_argument, NULL, O_OFFSET },
        { "output", required_argument, NULL, 'o' },
        { "null", no_argument, NULL, O_NULL }, { "format", required_argument, NULL, O_FORMAT },
        { "codec", required_argument, NULL, O_CODEC }, { "crf", required_argument, NULL, O_CRF },
        { "bitrate", required_argument, NULL, O_BITRATE }, { "preset", required_argument, NULL, O_PRESET },
        { "size", required_argument, NULL, O_SIZE }, { "start", required_argument, NULL, O_START },
        { "end", required_argument, NULL, O_END }, { "no-audio", no_argument, NULL, O_NOAUDIO },
        { "aigc", no_argument, NULL, O_AIGC }, { "aigc-text", required_argument, NULL, O_AIGCTEXT },
        { "font", required_argument, NULL, O_FONT }, { "opacity", required_argument, NULL, O_OPACITY },
        { "stats", no_argument, NULL, O_STATS }, { "interrupt-after", required_argument, NULL, O_INTERRUPT },
        { "quiet", no_argument, NULL, 'q' }, { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, O_VERSION }, { NULL, 0, NULL, 0 },
    };
    struct option *longopts = dm_filter_cli_merge(dm_subs_cli_merge(dm_layout_cli_merge(own)));
    dm_burnin_opts defaults = DM_BURNIN_OPTS_DEFAULT;
    dm_layout_opts check;
    dm_diag diag = { 0 };
    char err[256];
    double d;
    int ch, n, rc = 0;

    memset(c, 0, sizeof *c);
    c->o = defaults;
    c->o.layout.font_px = 0;   /* from the stage unless --font-px says */
    if (!longopts)
        return bad("out of memory");
    opterr = 0;
    while (rc == 0) {
        int applied;

        ch = getopt_long(argc, argv, "o:qvh", longopts, NULL);
        if (ch == -1)
            break;
        applied = dm_layout_cli_apply(&c->o.layout, ch, optarg, err, sizeof err);
        if (applied == 0)
            applied = dm_subs_cli_apply(&c->o.subs, ch, optarg, err, sizeof err);
        if (applied == 0)
            applied = dm_filter_cli_apply(&c->filter, ch, optarg, err, sizeof err);
        if (applied < 0) {
            rc = bad("%s", err);
            break;
        }
        if (applied > 0)
            continue;
        switch (ch) {
        case O_TRACK:
            if (c->o.track_count == DM_BURNIN_MAX_TRACKS)
                rc = bad("at most %d --track files", DM_BURNIN_MAX_TRACKS);
            else
                c->o.tracks[c->o.track_count++] = optarg;
            break;
        case O_OFFSET:
            /* the offset belongs to the track it follows */
            if (c->o.track_count == 0)
                rc = bad("--offset %s comes before any --track: write it after the track it shifts", optarg);
            else if (dm_offset_parse(optarg, &c->o.track_offsets_ms[c->o.track_count - 1], err, sizeof err))
                rc = bad("%s", err);
            break;
        case 'o': c->o.output = optarg; break;
        case O_NULL: c->o.null_sink = 1; break;
        case O_FORMAT: c->o.format = optarg; break;
        case O_CODEC: c->o.codec = optarg; break;
        case O_CRF:
            if (dm_parse_number(optarg, 0, 63, &d))
                rc = bad("--crf wants a number 0..63, got '%s'", optarg);
            else
                c->o.crf = (int)d;
            break;
        case O_BITRATE:
            if (parse_rate(optarg, &c->o.bitrate))
                rc = bad("--bitrate wants a rate such as 4M or 2500k, got '%s'", optarg);
            break;
        case O_PRESET: c->o.preset = optarg; break;
        case O_SIZE:
            if (sscanf(optarg, "%dx%d%n", &c->o.out_w, &c->o.out_h, &n) != 2 || optarg[n] || c->o.out_w < 16 ||
                c->o.out_h < 16 || c->o.out_w > 8192 || c->o.out_h > 8192)
                rc = bad("--size wants WIDTHxHEIGHT (16..8192 each), got '%s'", optarg);
            break;
        case O_START:
        case O_END:
            if (dm_parse_number(optarg, 0, 1e7, &d))
                rc = bad("--%s wants seconds, got '%s'", ch == O_START ? "start" : "end", optarg);
            else
                *(ch == O_START ? &c->o.start : &c->o.end) = d;
            break;
        case O_NOAUDIO: c->o.audio = 0; break;
        case O_AIGC: c->o.aigc = 1; break;
        case O_AIGCTEXT: c->o.aigc_text = optarg; c->o.aigc = 1; break;
        case O_FONT: c->o.font = optarg; break;
        case O_OPACITY:
            if (dm_parse_number(optarg, 0, 1, &c->o.opacity))
                rc = bad("--opacity wants 0..1, got '%s'", optarg);
            break;
        case O_STATS: c->stats = 1; break;
        case O_INTERRUPT:
            /* not in --help: lets tests reach the Ctrl-C path at an exact frame */
            if (dm_parse_number(optarg, 1, 1e9, &d))
                rc = bad("--interrupt-after wants a frame count, got '%s'", optarg);
            else
                c->interrupt_after = (long)d;
            break;
        case 'q': c->quiet = 1; break;
        case 'v': c->o.verbose = 1; break;
        case 'h':
            usage(stdout);
            rc = 1;
            break;
        case O_VERSION:
            dm_print_version(stdout, "danmaku-render");
            rc = 1;
            break;
        default:
            /* one line, as every error here (getopt's own message is off) */
            rc = bad("unknown option or missing value: '%s' (see --help)", argv[optind - 1]);
            break;
        }
    }
    free(longopts);
    c->o.filter = c->filter;
    if (rc)
        return rc;
    c->o.font_px = c->o.layout.font_px;
    if (optind < argc)
        c->o.film = argv[optind++];
    if (optind < argc)
        return bad("one film at a time ('%s' is extra); comment tracks go after --track", argv[optind]);
    if (!c->o.film)
        return bad("no film given; usage: " PROG " FILM --track FILE -o OUT.mp4 (see --help)");
    if (!c->o.output && !c->o.null_sink)
        return bad("no output given: add -o OUT.mp4 (or --null to render without writing)");
    if (c->o.output && c->o.null_sink)
        return bad("--null writes nothing; leave out -o or --null");
    if (c->o.end >= 0 && c->o.end <= c->o.start)
        return bad("--end (%g s) must come after --start (%g s)", c->o.end, c->o.start);
    /* the stage is not known yet: check the rest with a stand-in font size */
    check = c->o.layout;
    check.font_px = CHECK_FONT_PX;
    if (dm_layout_opts_check(&check, &diag))
        return bad("%s", diag.error);
    return 0;
}

/* ------------------------------------------------------------ progress */

typedef struct progress_state {
    int show;                   /* print the progress line */
    long interrupt_after;       /* raise SIGINT after this many frames, 0 = never */
    double began;               /* wall seconds at the first frame */
    double last_print;          /* wall seconds of the last line */
    int printed;                /* a line is on the terminal */
    dm_burnin_progress last;    /* the latest report, for the final line */
    int have_last;
} progress_state;

static void print_progress(progress_state *ps, const dm_burnin_progress *p, double now)
{
    double elapsed = now - ps->began, done, fps;
    char left[32] = "--:--";

    fps = elapsed > 0 ? p->frames / elapsed : 0;
    done = p->end > p->start ? (p->t - p->start) / (p->end - p->start) : 0;
    done = done < 0 ? 0 : done > 1 ? 1 : done;
    if (done > 0.001) {
        int s = (int)lround(elapsed * (1 - done) / done);
        snprintf(left, sizeof left, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
    fprintf(stderr, "\r" PROG ": %5.1f%%  %8.2f s  %6.1f fps  %4zu comments  %s left ",
            done * 100, p->t, fps, p->on_screen, left);
    ps->printed = 1;
}

static void on_progress(void *ud, const dm_burnin_progress *p)
{
    progress_state *ps = ud;
    double now = dm_now();

    if (ps->interrupt_after > 0 && p->frames == (uint64_t)ps->interrupt_after)
        raise(SIGINT);
    if (!ps->show)
        return;
    ps->last = *p;
    ps->have_last = 1;
    if (ps->began == 0) {
        /* no line before there is a rate to show */
        ps->began = ps->last_print = now;
        return;
    }
    if (now - ps->last_print >= PROGRESS_INTERVAL) {
        ps->last_print = now;
        print_progress(ps, p, now);
    }
}

/* ------------------------------------------------------------ main */

static int render(int argc, char **argv, cli *cp)
{
    cli c;
    dm_burnin_stats st;
    progress_state ps = { 0 };
    struct sigaction sa;
    struct stat sb;
    char err[1024] = "";
    double began;
    int rc;

    rc = parse_options(argc, argv, &c);
    cp->filter = c.filter;   /* freed by main whatever happens */
    switch (rc) {
    case 1: return 0;
    case -1: return 2;
    default: break;
    }
    if (stat(c.o.film, &sb) != 0) {
        bad("%s: %s", c.o.film, strerror(errno));
        return 1;
    }
    if (c.o.output) {
        struct stat ob;
        /* writing over the film while reading it would destroy both */
        if (stat(c.o.output, &ob) == 0 && ob.st_dev == sb.st_dev && ob.st_ino == sb.st_ino) {
            bad("%s is the film itself; choose another output name", c.o.output);
            return 1;
        }
    }
    /* libav's own lines would break the one-line-error contract; every
     * failure that matters comes back as our own sentence */
    av_log_set_level(c.o.verbose ? AV_LOG_WARNING : AV_LOG_QUIET);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    c.o.stop = &stop_requested;
    output_path = c.o.output;
    ps.show = !c.quiet && isatty(STDERR_FILENO);
    ps.interrupt_after = c.interrupt_after;
    if (ps.show || ps.interrupt_after) {
        c.o.progress = on_progress;
        c.o.progress_ud = &ps;
    }
    began = dm_now();
    rc = dm_burnin_run(&c.o, &st, err, sizeof err);
    if (ps.have_last && rc == 0) {
        if (!st.interrupted && ps.last.end > ps.last.start)
            ps.last.t = ps.last.end;   /* the last frame starts before the end: say 100 % */
        print_progress(&ps, &ps.last, dm_now());
    }
    if (ps.printed)
        fputc('\n', stderr);
    if (rc) {
        bad("%s", err);
        return 1;
    }
    /* quiet off a terminal when every comment is shown; a comment not shown is always told */
    if (st.summary[0] && (st.comments_shown < st.comments_total || c.stats || c.o.verbose))
        fprintf(stderr, PROG ": %s: %s\n", c.o.track_count == 1 ? c.o.tracks[0] : "the tracks", st.summary);
    if (st.decode_errors)
        fprintf(stderr, PROG ": warning: the film is damaged: %llu decoding errors; rendered what could be decoded\n",
                (unsigned long long)st.decode_errors);
    if (c.stats) {
        double wall = dm_now() - began;
        fprintf(stderr,
                PROG ": %llu frames %dx%d in %.2f s (%.1f fps); comments %zu shown of %zu, font %d px, "
                "%.1f on screen per frame, %llu rasterised; compose %.2f s (%.3f ms/frame, subtitles %.3f); audio %s; "
                "%llu pictures copied to draw on (the rest in place)\n",
                (unsigned long long)st.frames, st.out_w, st.out_h, wall, wall > 0 ? st.frames / wall : 0.0,
                st.comments_shown, st.comments_total, st.font_px,
                st.frames ? (double)st.comments_drawn / st.frames : 0.0, (unsigned long long)st.sprites_made,
                st.compose_seconds, st.frames ? st.compose_seconds * 1000 / st.frames : 0.0,
                st.frames ? st.subs_seconds * 1000 / st.frames : 0.0,
                c.o.null_sink ? "not written" : st.audio_mode == 1 ? "copied" : st.audio_mode == 2 ? "re-encoded" : "none",
                (unsigned long long)st.pictures_copied);
    }
    if (st.interrupted) {
        if (c.o.null_sink)
            bad("interrupted at %.2f s", st.last_t);
        else
            bad("interrupted at %.2f s; %s is complete and plays up to there", st.last_t, c.o.output);
        return 130;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli c = { 0 };
    int rc = render(argc, argv, &c);

    dm_filter_free(&c.filter);
    return rc;
}
