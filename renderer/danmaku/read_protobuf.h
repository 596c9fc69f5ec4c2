/*
 * read_protobuf.h - what format.c needs of the protobuf reader (internal to
 * dm_core, not installed).
 */
#ifndef DM_READ_PROTOBUF_H
#define DM_READ_PROTOBUF_H

#include <stddef.h>

/*
 * 1 when buf looks like a Bilibili DmSegMobileReply: it opens with its
 * first comment (field 1), and that comment unpacks with protobuf-c (or is
 * cut off by the end of the buffer, which the reader then reports).
 */
int dm_protobuf_sniff(const char *buf, size_t len);

#endif
