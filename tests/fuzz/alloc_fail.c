/*
 * alloc_fail.c - the allocation-failure variant of every fuzz target
 * (dav1d's idea): each run makes the Nth allocation fail, N taken from the
 * input's first two bytes (0: none), and the code must fail cleanly: no
 * crash, no leak (LeakSanitizer), no use of what it did not get.
 *
 * The target's own LLVMFuzzerTestOneInput is compiled as dm_fuzz_target
 * (tests/fuzz/CMakeLists.txt); this file is the real entry point. Our code
 * (dm_core, dm_net: static libraries) reaches malloc, calloc, realloc,
 * strdup and strndup through the linker's --wrap; cJSON through its hooks.
 * Allocations inside other shared libraries (expat, utf8proc, pcre2) are not
 * counted.
 */
#undef LLVMFuzzerTestOneInput   /* the target's is renamed dm_fuzz_target for its whole executable: not this one */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alloc_fail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int dm_fuzz_target(const uint8_t *data, size_t size);
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static unsigned long fail_at;   /* the allocation that fails, counting from 1; 0: none */
static unsigned long count;     /* allocations made in this run */
static int failed;              /* fail_at was reached */

/* 1 when this allocation is the one to fail. */
static int fail_now(void)
{
    if (!fail_at || ++count != fail_at)
        return 0;
    failed = 1;
    return 1;
}

int dm_fuzz_alloc_failed(void)
{
    return failed;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    return fail_now() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}

static void *hook_malloc(size_t n)
{
    return __wrap_malloc(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int hooked;

    if (!hooked) {
        cJSON_Hooks hooks = { hook_malloc, free };
        cJSON_InitHooks(&hooks);
        hooked = 1;
    }
    if (size < 2)
        return 0;
    fail_at = (unsigned long)data[0] | (unsigned long)data[1] << 8;
    count = 0;
    failed = 0;
    dm_fuzz_target(data + 2, size - 2);
    fail_at = 0;
    return 0;
}
