/* fuzz_host_input.c - libFuzzer target for what reaches the host console's
 * parsers: the Authorization and Cookie headers and the login form (from
 * anyone, before any token check) and the console's JSON commands. Nothing
 * may crash, and nothing but the right token may open a session. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "host.h"

#define FUZZ_MAX_BYTES 4096u   /* the server reads at most 1 KiB headers and bodies */
#define TOKEN "fuzz-host-token-1"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The ordinary target: every allocation succeeds (alloc_fail.c overrides it). */
__attribute__((weak)) int dm_fuzz_alloc_failed(void)
{
    return 0;
}

static int holds(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(hay + i, needle, n))
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dm_host_auth *auth;
    char *text, sid[DM_HOST_SID_LEN + 1];
    dm_host_cmd cmd;

    if (size > FUZZ_MAX_BYTES)
        return 0;
    if (!auth)
        auth = dm_host_auth_new(TOKEN);
    text = malloc(size + 1);
    if (!auth || !text) {
        free(text);
        if (dm_fuzz_alloc_failed())
            return 0;   /* the allocation-failure variant took them */
        abort();
    }
    memcpy(text, data, size);
    text[size] = 0;
    if (dm_host_auth_bearer(auth, text) && strcmp(text, "Bearer " TOKEN))
        abort();
    (void)dm_host_auth_cookie_session(auth, text, NULL);
    /* a session only for a body that holds the token */
    if (dm_host_auth_login(auth, text, size, sid) && !holds(text, size, "token=" TOKEN))
        abort();
    if (dm_host_parse(text, size, &cmd) == DM_NET_OK)
        free(cmd.pattern);
    free(text);
    return 0;
}
