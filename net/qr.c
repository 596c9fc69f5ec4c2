/*
 * qr.c - the join URL and its QR code: the machine's LAN address found with
 * getifaddrs, and the module matrix from libqrencode for the player to draw.
 */
#include "dm_net.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

int dm_net_qr(const char *text, uint8_t **modules, int *width)
{
    QRcode *q;
    uint8_t *m;
    size_t n;

    *modules = NULL;
    *width = 0;
    if (!text || !*text)
        return DM_EINVAL;
    q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q)
        return DM_EINVAL;
    n = (size_t)q->width * (size_t)q->width;
    m = malloc(n);
    if (!m) {
        QRcode_free(q);
        return DM_ENOMEM;
    }
    /* bit 0 of each byte is the module's colour; the other bits describe its role */
    for (size_t i = 0; i < n; i++)
        m[i] = q->data[i] & 1;
    *modules = m;
    *width = q->width;
    QRcode_free(q);
    return 0;
}

int dm_net_lan_url(int port, char *buf, size_t len)
{
    struct ifaddrs *ifa = NULL;
    char host[INET_ADDRSTRLEN] = "127.0.0.1";

    if (getifaddrs(&ifa) == 0) {
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
                !(i->ifa_flags & IFF_UP))
                continue;
            if (inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host))
                break;
        }
        freeifaddrs(ifa);
    }
    if (snprintf(buf, len, "http://%s:%d/", host, port) >= (int)len)
        return DM_EINVAL;
    return 0;
}
