#!/bin/sh
# The converter loads FFmpeg's libraries only when it needs them: not to
# convert a track (their loading was most of a conversion's start-up), but
# for --version and for film subtitles (--sub).
#
#     convert_loads.sh DANMAKU_CONVERT TRACK
set -eu
convert=$1 track=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
srt=$work/line.srt dump=$work/dump.jsonl
printf '1\n00:00:01,000 --> 00:00:09,000\nHello there\n\n' > "$srt"
loaded() { grep -q "file=libavformat\.so"; }
if LD_DEBUG=files "$convert" "$track" --layout -o /dev/null -q 2>&1 >/dev/null | loaded; then
    echo "FAIL: converting $track loaded libavformat"
    exit 1
fi
echo "ok: converting a track does not load FFmpeg"
LD_DEBUG=files "$convert" --version 2>&1 >/dev/null | loaded || { echo "FAIL: --version did not load libavformat"; exit 1; }
"$convert" --version | grep -q "^  libavformat  *[0-9]" || { echo "FAIL: --version has no libavformat line"; exit 1; }
echo "ok: --version loads it and names its version"
LD_DEBUG=files "$convert" "$track" --layout -o /dev/null -q --sub "$srt" 2>&1 >/dev/null | loaded ||
    { echo "FAIL: --sub did not load libavformat"; exit 1; }
"$convert" "$track" --layout -o "$dump" -q --sub "$srt"
grep -q '"type":"obstacle","kind":"subtitle"' "$dump" || { echo "FAIL: --sub: no subtitle box in the dump"; exit 1; }
echo "ok: --sub loads it and the subtitle's box is in the dump"
