/*
 * dm_version.h - what every program's --version prints: the project's
 * version, then the versions of the libraries it runs with, as the dynamic
 * linker found them (not the headers it was built against).
 */
#ifndef DM_VERSION_H
#define DM_VERSION_H

#include <stdio.h>

/* "PROGRAM VERSION" on the first line, then one line per library. */
void dm_print_version(FILE *f, const char *program);

#endif
