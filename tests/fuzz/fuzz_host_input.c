/* fuzz_host_input.c - libFuzzer target for what reaches the host console's
 * parsers: the Authorization and Cookie headers and the login form (from
 * anyone, before any token check) and the console's JSON commands. Nothing
 * may crash, and nothing but the right token may open a session. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "host.h"
#include "net_validate.h"

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

/* The body urlencoded-decoded as a whole ("%31" is "1", "+" a space), into out (size + 1 bytes):
 * a form whose token field decodes to the token holds "token=" TOKEN once decoded so. */
static size_t form_decoded(const char *in, size_t size, char *out)
{
    size_t k = 0;

    for (size_t i = 0; i < size; i++) {
        if (in[i] == '%' && i + 2 < size && dm_net_hexval(in[i + 1]) >= 0 && dm_net_hexval(in[i + 2]) >= 0) {
            out[k++] = (char)(dm_net_hexval(in[i + 1]) * 16 + dm_net_hexval(in[i + 2]));
            i += 2;
        } else {
            out[k++] = in[i] == '+' ? ' ' : in[i];
        }
    }
    out[k] = 0;
    return k;
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
    /* a session only for a body that holds the token, once decoded */
    if (dm_host_auth_login(auth, text, size, sid)) {
        char *plain = malloc(size + 1);
        if (!plain) {
            free(text);
            if (dm_fuzz_alloc_failed())
                return 0;
            abort();
        }
        if (!holds(plain, form_decoded(text, size, plain), "token=" TOKEN))
            abort();
        free(plain);
    }
    if (dm_host_parse(text, size, &cmd) == DM_NET_OK)
        free(cmd.pattern);
    free(text);
    return 0;
}
