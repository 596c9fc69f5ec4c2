/* fuzz_reader.c - libFuzzer target for one track reader (chosen at build time
 * with -DFUZZ_READER=dm_read_...): whatever the input, the reader must not
 * crash, and what it read must survive a JSONL write and read back (the
 * comments kept only to be counted, malformed ones, are not written). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "danmaku.h"
#include "internal_text.h"

/* Larger inputs only make each run slower, not the search better. */
#define FUZZ_MAX_BYTES (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The ordinary target: every allocation succeeds (alloc_fail.c overrides it). */
__attribute__((weak)) int dm_fuzz_alloc_failed(void)
{
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dm_track track, back;
    dm_diag diag;
    char *out = NULL;
    size_t out_len = 0, written = 0;
    FILE *f;

    if (size > FUZZ_MAX_BYTES)
        return 0;
    memset(&diag, 0, sizeof diag);
    dm_track_init(&track);
    (void)FUZZ_READER(&track, (const char *)data, size, &diag);
    for (size_t i = 0; i < track.count; i++)
        written += !dm_comment_unwritable(&track.items[i]);

    f = open_memstream(&out, &out_len);
    if (f) {
        int err = dm_write_jsonl(&track, f, &diag);
        fclose(f);
        if (!err) {
            dm_diag back_diag;
            memset(&back_diag, 0, sizeof back_diag);
            dm_track_init(&back);
            if ((dm_read_jsonl(&back, out, out_len, &back_diag) || back.count != written ||
                 back_diag.warnings) && !dm_fuzz_alloc_failed())
                abort();  /* what a reader produced must write and read back as it was */
            dm_track_clear(&back);
        }
        free(out);
    }
    dm_track_clear(&track);
    return 0;
}
