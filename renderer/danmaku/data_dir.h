/*
 * data_dir.h - where a program finds its data (the audience pages, the demo
 * film and track): the one lookup every program uses.
 *
 * In order:
 *   1. $DANMAKU_DATA_DIR, when set and not empty (tests, unusual installs);
 *   2. installed: DATADIR/danmaku beside the program's own folder, found from
 *      /proc/self/exe (PREFIX/bin/danmaku -> PREFIX/share/danmaku), so an
 *      installed tree works wherever it is put, with no build or source left;
 *   3. run from the build folder: the source checkout's assets/.
 *
 * Thread-safety: the first call computes and keeps the answer; call it once
 * from the main thread before starting others.
 */
#ifndef DM_DATA_DIR_H
#define DM_DATA_DIR_H

#include <stddef.h>

/*
 * The data folder, or NULL with a one-line reason in err (the places looked
 * at). The string stays valid until the program exits.
 */
const char *dm_data_dir(char *err, size_t errlen);

/*
 * The folder of the console's charting library (uPlot, copied from
 * node_modules by the build): DATA/web/vendor when there is one (installed,
 * or DANMAKU_DATA_DIR), else BUILD/web/vendor when running from the build
 * folder. out, or NULL with a one-line reason in err.
 */
const char *dm_vendor_dir(char *out, size_t outlen, char *err, size_t errlen);

#endif
