#!/bin/sh
# Every run of every comment measured both ways, as the layout measures it
# and with SDL_ttf's TTF_SizeUTF8 (bench-text --check): a generated track in
# eight scripts and emoji, the suite's generated tracks, and the real tracks
# of ../shared when they are there. Fails on the first track where a run
# differs.
#
#     text_widths_tracks.sh BENCH_TEXT
set -eu
bench=$1
"$bench" 20000 --check
for f in "$DM_GEN_TRACKS_DIR"/gen-*; do
    echo "$f"
    "$bench" --track "$f" --check
done
if [ -d "$DM_TRACKS_DIR" ]; then
    for f in "$DM_TRACKS_DIR"/*.xml "$DM_TRACKS_DIR"/*.json; do
        echo "$f"
        "$bench" --track "$f" --check
    done
else
    echo "real tracks: $DM_TRACKS_DIR is not there, not checked (the generated ones were)"
fi
