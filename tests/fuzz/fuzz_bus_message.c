/* fuzz_bus_message.c - libFuzzer target for what a player (and the export)
 * reads from a screening's stream on the comment bus (net/bus.c): the input
 * is a run of messages, one per line, each led by its kind ('c' a comment,
 * 'k' a clock message, 'h' a host action, anything else an address and id
 * to check). Whatever
 * the stream holds must not crash the reader, a comment read must be whole,
 * and the stamps handed on must never go back in stream order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "danmaku.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dm_bus_order o = { 0 };
    const char *p = (const char *)data, *end = p + size;
    int last_pass = 0;
    int64_t last_ms = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char kind = n ? p[0] : 0;
        const char *body = p + (n ? 1 : 0);
        size_t len = n ? n - 1 : 0;
        if (kind == 'c') {
            dm_comment c;
            if (dm_bus_comment(&o, body, len, &c) == 0) {
                if (!c.text || c.t_ms < 0 || c.pass < last_pass || (c.pass == last_pass && c.t_ms < last_ms))
                    abort();
                last_pass = c.pass;
                last_ms = c.t_ms;
                dm_comment_free(&c);
            }
        } else if (kind == 'k') {
            int64_t t;
            int pass, paused;
            if (dm_bus_parse_clock(body, len, &t, &pass, &paused) == 0) {
                if (t < 0 || pass < 0)
                    abort();
                dm_bus_order_clock(&o, pass, t);
                if (o.pass < last_pass || (o.pass == last_pass && o.t_ms < last_ms))
                    abort();
                last_pass = o.pass;
                last_ms = o.t_ms;
            }
        } else if (kind == 'h') {
            dm_bus_host h;
            if (dm_bus_host_parse(&o, body, len, &h) == 0) {
                if (h.kind == DM_BUS_HOST_CLEAR &&
                    (h.t_ms < 0 || h.pass < last_pass || (h.pass == last_pass && h.t_ms < last_ms)))
                    abort();   /* a clear is in its place too */
                if (h.kind == DM_BUS_HOST_CLEAR) {
                    last_pass = h.pass;
                    last_ms = h.t_ms;
                }
                if ((h.kind == DM_BUS_HOST_DELETE && !h.id[0]) || (h.kind == DM_BUS_HOST_FILM && !h.control[0]) ||
                    (h.kind == DM_BUS_HOST_CLEARED && (!h.id_count || !h.ids[h.id_count - 1])))
                    abort();
                dm_bus_host_free(&h);
            }
        } else {
            char s[512], url[256], id[DM_BUS_ID_MAX + 1], err[256];
            size_t k = len < sizeof s - 1 ? len : sizeof s - 1;
            memcpy(s, body, k);
            s[k] = 0;
            if (dm_bus_split_url(s, url, sizeof url, id, sizeof id, err, sizeof err) == 1 &&
                dm_bus_check_id(id, err, sizeof err) != 0)
                abort();   /* an address it splits always names a usable screening */
        }
        p += n + (nl ? 1 : 0);
    }
    return 0;
}
