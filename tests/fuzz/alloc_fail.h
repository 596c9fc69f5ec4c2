/* alloc_fail.h - what the fuzz targets need to know of the allocation-failure
 * variant (alloc_fail.c): whether an allocation failed in this run, so a
 * check that needs every allocation to succeed (a round trip) is skipped. */
#ifndef DM_FUZZ_ALLOC_FAIL_H
#define DM_FUZZ_ALLOC_FAIL_H

/* 1 when an allocation was made to fail during this run; 0 in the ordinary targets. */
int dm_fuzz_alloc_failed(void);

#endif
