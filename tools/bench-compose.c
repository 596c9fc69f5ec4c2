/*
 * bench-compose.c - compose + present time per frame in SDL's software
 * renderer at 1920x1080 with 0, 100, 500, 1000 and 2000 comments on screen,
 * and the memory bandwidth of the machine beside the figures: what reading,
 * writing and copying 256 MiB buffers (out of every cache) reach on the
 * blending threads, and the least time a frame's canvas write and picture
 * read would take at that speed.
 *
 * The same drawing code as the player (dm_stage): a 1080p YUV420P picture
 * uploaded at 24 fps, comments scrolling at 60 Hz from their cached sprites.
 * Prints median and p99 per frame and memory (RSS and sprite cache).
 *
 *     bench-compose [FRAMES] [WxH] [--sdl-blit | --window | --plain] [--threads N] [--simd sse2|avx2|avx512]
 *
 * --threads N: blend on N threads (the software canvas; default one per core).
 * --simd LEVEL: blend with at most that instruction set (default: the widest
 * the processor has; the same pixels on each).
 *
 * --plain: the software blender as it was before packed sprites and AVX2
 * (whole surfaces, four pixels at a time with SSE2), to compare in one run.
 * --sdl-blit draws comments through SDL's software renderer (the GPU path's
 * code: atlas pages and SDL_RenderGeometry) instead of the SIMD blender;
 * --window does the same in a real window with SDL's default (accelerated)
 * renderer, as the player's window does: run it under a display (Xvfb
 * will do). Both print the draw calls per frame.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include "danmaku.h"
#include "blend.h"
#include "stage.h"
#include "text.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of the whole process (both blending threads), ms: the work a frame
 * costs, which waiting for a loaded machine's cores does not inflate. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *simd_name(dm_blend_simd l)
{
    return l == DM_BLEND_AVX512 ? "software canvas, packed sprites, AVX-512BW"
           : l == DM_BLEND_AVX2 ? "software canvas, packed sprites, AVX2"
                                : "software canvas, packed sprites, SSE2";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;

    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* ---------------------------------------------------------------- memory bandwidth */

#define BW_BYTES ((size_t)256 << 20)

typedef struct bw_part {
    uint8_t *src, *dst;
    size_t len;
    int op;                      /* 0 read, 1 write, 2 copy */
    uint64_t sum;                /* the reads' result, stored so that they are done */
} bw_part;

static void *bw_run(void *arg)
{
    bw_part *p = arg;
    const uint64_t *v = (const uint64_t *)p->src;
    uint64_t sum = 0;

    if (p->op == 0) {
        for (size_t i = 0; i < p->len / 8; i += 4)
            sum += v[i] ^ v[i + 1] ^ v[i + 2] ^ v[i + 3];
    } else if (p->op == 1) {
        memset(p->dst, (int)(p->len & 0x7F), p->len);
    } else {
        memcpy(p->dst, p->src, p->len);
    }
    p->sum = sum;
    return NULL;
}

/* GB/s of one operation on `threads` threads, each on its share of the buffers; best of three. */
static double bw_gbps(uint8_t *src, uint8_t *dst, int op, int threads)
{
    double best = 0;

    for (int round = 0; round < 3; round++) {
        pthread_t th[16];
        bw_part parts[16];
        double t0 = now_ms(), dt;
        for (int k = 0; k < threads; k++) {
            parts[k] = (bw_part){ src + BW_BYTES / (size_t)threads * (size_t)k,
                                  dst + BW_BYTES / (size_t)threads * (size_t)k, BW_BYTES / (size_t)threads, op, 0 };
            if (pthread_create(&th[k], NULL, bw_run, &parts[k]))
                bw_run(&parts[k]), th[k] = 0;
        }
        for (int k = 0; k < threads; k++)
            if (th[k])
                pthread_join(th[k], NULL);
        dt = now_ms() - t0;
        if (dt > 0 && BW_BYTES / dt / 1e6 > best)
            best = BW_BYTES / dt / 1e6;
    }
    return best;
}

/* The bandwidth line: read, write and copy on the blending threads, and the frame's floor at that speed. */
static void print_bandwidth(int threads, int w, int h)
{
    uint8_t *src = malloc(BW_BYTES), *dst = malloc(BW_BYTES);
    double rd, wr, cp, frame_mb = (double)w * h * 4 / 1e6;

    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    if (!src || !dst) {
        printf("memory bandwidth: not measured (no memory for two 256 MiB buffers)\n");
        free(src);
        free(dst);
        return;
    }
    memset(src, 1, BW_BYTES);
    memset(dst, 2, BW_BYTES);
    rd = bw_gbps(src, dst, 0, threads);
    wr = bw_gbps(src, dst, 1, threads);
    cp = bw_gbps(src, dst, 2, threads);
    printf("memory bandwidth, %d thread%s, 256 MiB buffers: read %.1f GB/s, write %.1f GB/s, copy %.1f GB/s "
           "(each way); a %dx%d canvas (%.1f MB) written and its picture read take at least %.2f ms a frame\n",
           threads, threads == 1 ? "" : "s", rd, wr, cp, w, h, frame_mb, frame_mb / wr + frame_mb / rd);
    free(src);
    free(dst);
}

int main(int argc, char **argv)
{
    static const char *const words[] = { "前方高能", "this is fine", "草", "ここ好き", "대박", "🎉🎉",
                                         "哈哈哈哈", "wow", "名场面", "やばい", "gorgeous shot", "233333" };
    static const int counts[] = { 0, 100, 500, 1000, 2000 };
    int threads = 0, frames, w = 1920, h = 1080;
    dm_blend_simd simd = DM_BLEND_BEST;
    SDL_Surface *canvas;
    SDL_Renderer *r;
    SDL_Window *win = NULL;
    const char *mode;
    int gpu;
    SDL_RendererInfo ri = { 0 };
    dm_text *text;
    dm_stage *stage;
    char err[256];
    dm_layout_opts lo = DM_LAYOUT_OPTS_DEFAULT;
    dm_comment *items;
    dm_visible *vis;
    double *ms;
    uint8_t *planes;
    dm_picture pic = { 0 };
    unsigned seed = 7;

    /* --threads N and --simd LEVEL, wherever they are; the rest are positional */
    for (int i = 1; i < argc; i++)
        if ((!strcmp(argv[i], "--threads") || !strcmp(argv[i], "--simd")) && i + 1 < argc) {
            if (!strcmp(argv[i], "--threads"))
                threads = atoi(argv[i + 1]);
            else if (!strcmp(argv[i + 1], "sse2") || !strcmp(argv[i + 1], "avx2") || !strcmp(argv[i + 1], "avx512"))
                simd = argv[i + 1][1] == 's' ? DM_BLEND_SSE2 : argv[i + 1][3] == '2' ? DM_BLEND_AVX2 : DM_BLEND_AVX512;
            else {
                fprintf(stderr, "bench-compose: --simd takes sse2, avx2 or avx512, not %s\n", argv[i + 1]);
                return 1;
            }
            for (int j = i; j + 2 <= argc; j++)
                argv[j] = argv[j + 2];
            argc -= 2;
            i--;
        }
    frames = argc > 1 ? atoi(argv[1]) : 300;
    mode = argc > 3 ? argv[3] : "";
    gpu = !strcmp(mode, "--sdl-blit") || !strcmp(mode, "--window");

    if (argc > 2 && sscanf(argv[2], "%dx%d", &w, &h) != 2) {
        fprintf(stderr, "usage: bench-compose [FRAMES] [WxH] [--sdl-blit | --window | --plain] [--threads N] [--simd sse2|avx2|avx512]\n");
        return 1;
    }
    if (frames < 10)
        frames = 10;
    lo.stage_w = w;
    lo.stage_h = h;
    lo.font_px = h * 48 / 1080;
    canvas = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!strcmp(mode, "--window")) {
        if (SDL_Init(SDL_INIT_VIDEO)) {
            fprintf(stderr, "bench-compose: --window needs a display: %s\n", SDL_GetError());
            return 1;
        }
        win = SDL_CreateWindow("bench-compose", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, w, h, 0);
        r = win ? SDL_CreateRenderer(win, -1, 0) : NULL;
    } else {
        r = canvas ? SDL_CreateSoftwareRenderer(canvas) : NULL;
    }
    if (r)
        SDL_GetRendererInfo(r, &ri);
    text = dm_text_new(NULL, DM_TEXT_OUTLINE_DEFAULT, err, sizeof err);
    stage = r && text ? dm_stage_new(r, text, 0, err, sizeof err) : NULL;
    if (stage && !gpu)
        dm_stage_set_canvas(stage, canvas);
    if (stage)
        dm_stage_set_threads(stage, threads);
    if (stage && !strcmp(mode, "--plain")) {
        dm_stage_set_packed(stage, 0);
        dm_blend_use_simd(DM_BLEND_SSE2);
    }
    items = calloc(2000, sizeof *items);
    vis = calloc(2000, sizeof *vis);
    ms = calloc((size_t)frames, sizeof *ms);
    planes = malloc((size_t)w * h * 3 / 2);
    if (!stage || !items || !vis || !ms || !planes) {
        fprintf(stderr, "bench-compose: setup failed: %s %s\n", err, SDL_GetError());
        return 1;
    }
    /* a picture with some texture so the upload is real work */
    for (int i = 0; i < w * h; i++)
        planes[i] = (uint8_t)((i % w) / 8 + (i / w) / 8);
    memset(planes + (size_t)w * h, 128, (size_t)w * h / 2);
    pic.format = DM_PICTURE_YUV420P;
    pic.width = w;
    pic.height = h;
    pic.plane[0] = planes;
    pic.plane[1] = planes + (size_t)w * h;
    pic.plane[2] = planes + (size_t)w * h * 5 / 4;
    pic.pitch[0] = w;
    pic.pitch[1] = pic.pitch[2] = w / 2;
    for (int i = 0; i < 2000; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s %d %s", words[rand_r(&seed) % 12], i, words[rand_r(&seed) % 12]);
        items[i].text = strdup(buf);
        items[i].size = (dm_size)(rand_r(&seed) % 10 == 0 ? DM_SIZE_LARGE : DM_SIZE_NORMAL);
        items[i].color = rand_r(&seed) % 4 ? 0xFFFFFF : 0xFFD302;
        vis[i].index = (uint32_t)i;
        vis[i].x = (float)(rand_r(&seed) % (unsigned)(w + 400)) - 200;
        vis[i].y = (float)((rand_r(&seed) % 22) * lo.font_px);
        vis[i].alpha = 1;
    }
    printf("compose + present, %s, %d blending thread%s, SDL renderer \"%s\", %dx%d, %d frames per row, 24 fps "
           "picture, 60 Hz comments\n",
           gpu ? "atlas pages + SDL_RenderGeometry"
               : !strcmp(mode, "--plain") ? "software canvas, whole sprites, SSE2 (the blender before packing)"
                                          : simd_name(dm_blend_use_simd(simd)),
           gpu ? 0 : threads > 0 ? threads : SDL_GetCPUCount(), (gpu ? 0 : threads > 0 ? threads : SDL_GetCPUCount()) == 1 ? "" : "s",
           ri.name ? ri.name : "?",
           w, h, frames);
    if (!gpu)
        print_bandwidth(threads > 0 ? threads : SDL_GetCPUCount(), w, h);
    printf("| comments on screen | median ms | p99 ms | max ms | CPU ms a frame: median / p99 | RSS MiB | sprite cache MiB | draw calls a frame |\n"
           "|---|---|---|---|---|---|---|---|\n");
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        int n = counts[k];
        dm_stage_comments c = { items, NULL, &lo, vis, (size_t)n, 1.0 };
        dm_sprite_cache_stats st;
        SDL_Rect display = { 0, 0, w, h };
        long calls = 0;
        double *cpu = calloc((size_t)frames, sizeof *cpu);

        /* rasterise once before timing: the player does it once per comment too */
        dm_stage_draw(stage, &display, &c);
        for (int f = 0; f < frames; f++) {
            double t0 = now_ms(), c0 = cpu_ms();
            if (f % 5 == 0 || f % 5 == 2)   /* 24 fps picture on a 60 Hz display */
                dm_stage_upload(stage, &pic);
            for (int i = 0; i < n; i++)
                vis[i].x = vis[i].x < -600 ? (float)w : vis[i].x - 4;
            dm_stage_draw(stage, &display, &c);
            calls += dm_stage_draw_calls(stage);
            SDL_RenderPresent(r);
            ms[f] = now_ms() - t0;
            if (cpu)
                cpu[f] = cpu_ms() - c0;
        }
        qsort(ms, (size_t)frames, sizeof *ms, cmp_double);
        if (cpu)
            qsort(cpu, (size_t)frames, sizeof *cpu, cmp_double);
        dm_stage_sprite_stats(stage, &st);
        printf("| %d | %.2f | %.2f | %.2f | %.2f / %.2f | %.1f | %.1f | %s |\n", n, ms[frames / 2],
               ms[(frames * 99) / 100], ms[frames - 1], cpu ? cpu[frames / 2] : 0.0,
               cpu ? cpu[(frames * 99) / 100] : 0.0, rss_kib() / 1024.0, st.bytes / 1048576.0,
               gpu ? (snprintf(err, sizeof err, "%.1f (%d atlas pages)", (double)calls / frames,
                               dm_stage_atlas_pages(stage)), err) : "n/a");
        fflush(stdout);
        free(cpu);
    }
    for (int i = 0; i < 2000; i++)
        free(items[i].text);
    free(items);
    free(vis);
    free(ms);
    free(planes);
    dm_stage_free(&stage);
    dm_text_free(&text);
    SDL_DestroyRenderer(r);
    if (win)
        SDL_DestroyWindow(win);
    SDL_FreeSurface(canvas);
    SDL_Quit();
    return 0;
}
