/*
 * programme.h - a night of films: the entries the player plays in order,
 * from the command line (`danmaku FILM1 FILM2 ...`) or from a programme file
 * (`--programme night.json`, docs/programme.md).
 *
 * Each entry is one film with its comment tracks and subtitle files, its
 * title and credits, whether it is AI-generated (it then carries the AIGC
 * label), the file its live comments are recorded in, and an optional start
 * and end. From the command line an entry takes the tracks beside the film
 * with its base name (FILM.xml, FILM.json, FILM.jsonl, FILM.pb; subtitles
 * beside it are dm_subs' own rule), then the --track and --sub given after
 * it (and, for the first film, before it).
 *
 * Thread-safety: none needed; the main thread builds it once.
 */
#ifndef DM_PLAYER_PROGRAMME_H
#define DM_PLAYER_PROGRAMME_H

#include <stddef.h>
#include <stdint.h>

#define DM_PROG_MAX_TRACKS 16
#define DM_PROG_MAX_SUBS 16

typedef struct dm_prog_entry {
    char *film;                               /* path */
    char *tracks[DM_PROG_MAX_TRACKS];         /* comment tracks, in order */
    int64_t offsets_ms[DM_PROG_MAX_TRACKS];   /* each track's offset */
    int track_count;
    char *subs[DM_PROG_MAX_SUBS];             /* subtitle files (besides the film's own and those beside it) */
    int sub_count;
    char *title;                              /* shown on the intermission card and the audience page */
    int title_from_name;                      /* title is the file's name: the film's own may replace it */
    char *credits;                            /* one line under the title, NULL: none */
    int aigc;                                 /* AI-generated: the AIGC label is shown */
    char *record;                             /* its recording file, NULL: derived from --record, or none */
    double start, end;                        /* seconds of the film to play, end < 0: to its end */
} dm_prog_entry;

typedef struct dm_programme {
    dm_prog_entry *entries;
    size_t count, cap;
    char *title;                              /* the night's name, NULL: none */
    double intermission_s;                    /* between films (0: straight on) */
    char *card_text;                          /* the intermission card's line, NULL: the default */
    char *aigc_text;                          /* the AIGC label's text, NULL: the default */
} dm_programme;

#define DM_PROG_DEFAULT_AIGC "AI生成 · AI-generated"

void dm_programme_init(dm_programme *p);
void dm_programme_free(dm_programme *p);

/*
 * Read a programme file: 0, or -1 with one sentence in err naming the entry
 * and the field (an unknown field, a wrong type, a missing film, an empty
 * programme...). Paths in it are relative to the file's folder.
 */
int dm_programme_load(dm_programme *p, const char *path, char *err, size_t errlen);

/*
 * Append a film from the command line, with the tracks beside it that share
 * its base name (auto: 1) or none. 0, or -1 with err.
 */
int dm_programme_add_film(dm_programme *p, const char *film, int auto_tracks, char *err, size_t errlen);

/* Put tracks in front of entry i's (the --track given before the first film), skipping those it has. */
int dm_programme_prepend_tracks(dm_programme *p, size_t i, const char *const *tracks, const int64_t *offsets, int n,
                                char *err, size_t errlen);
/* Put the tracks beside entry i's film (FILM.xml, .json, .jsonl, .pb) in front of its own. */
int dm_programme_tracks_beside(dm_programme *p, size_t i, char *err, size_t errlen);

/* Add a track (with its offset) or a subtitle file to the last entry; -1 with err when full. */
int dm_programme_add_track(dm_programme *p, const char *track, int64_t offset_ms, char *err, size_t errlen);
int dm_programme_add_sub(dm_programme *p, const char *sub, char *err, size_t errlen);

/*
 * The recording file of entry i: its own, else derived from the --record
 * option `record` ("night.jsonl" -> "night-02-FILMNAME.jsonl" for the second
 * entry when there are several; the option itself when there is one entry),
 * else none (returns 0 with out ""). The same rule for --dump-layout files.
 */
void dm_programme_file_for(const dm_programme *p, size_t i, const char *given, const char *own, char *out,
                           size_t len);

#endif
