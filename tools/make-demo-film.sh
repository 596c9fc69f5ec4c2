#!/bin/sh
# make-demo-film.sh - regenerate the bundled demo film assets/demo/demo.mp4
# from FFmpeg's synthetic sources, so the repository needs no camera footage
# and anyone can rebuild the asset bit for bit from this script.
#
# Usage: tools/make-demo-film.sh [OUTPUT]   (default: assets/demo/demo.mp4)
#
# The film: 30 s, 1280x720, 24 fps, H.264 + AAC, about 1-2 MB. A slowly
# turning pastel gradient with a title, a running film clock (so seeks and
# A/V sync can be checked by eye) and a progress bar; the sound is a soft
# A-major chord that swells every four seconds with a quiet bell on each
# whole second, which makes an audio/video offset easy to hear.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../assets/demo/demo.mp4"}
duration=30
size=1280x720
fps=24

command -v ffmpeg >/dev/null 2>&1 || {
    echo "make-demo-film: ffmpeg not found; install FFmpeg and retry" >&2
    exit 1
}

# drawtext needs a font file; without one the film is made without text
# rather than failing, because the picture and sound are what matter.
font=""
if command -v fc-match >/dev/null 2>&1; then
    font=$(fc-match -f '%{file}' 'DejaVu Sans:bold' 2>/dev/null || true)
fi
if [ -z "$font" ] && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ]; then
    font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
fi

video="gradients=s=$size:r=$fps:d=$duration:n=4:speed=0.004:seed=7"
video="$video:c0=0x8fb8de:c1=0xf4c2c2:c2=0xb8e0d2:c3=0xf9e79f"
video="$video,format=yuv420p[bg]"
# drawbox cannot follow time here, so the progress bar is a white strip slid
# in from the left by overlay, whose position is evaluated per frame.
video="$video;color=c=white:s=${size%x*}x8:r=$fps:d=$duration[bar]"
video="$video;[bg][bar]overlay=x='-w+w*t/$duration':y=H-h:shortest=1"
if [ -n "$font" ] && ffmpeg -hide_banner -filters 2>/dev/null | grep -q ' drawtext '; then
    shadow="shadowcolor=black@0.35:shadowx=2:shadowy=2"
    video="$video,drawtext=fontfile='$font':text='danmaku':fontsize=120"
    video="$video:fontcolor=white:$shadow:x=(w-tw)/2:y=(h-th)/2-60"
    video="$video,drawtext=fontfile='$font':text='demo film':fontsize=44"
    video="$video:fontcolor=white@0.9:$shadow:x=(w-tw)/2:y=(h/2)+50"
    video="$video,drawtext=fontfile='$font':text='%{pts\\:hms}':fontsize=32"
    video="$video:fontcolor=white@0.85:$shadow:x=w-tw-32:y=h-th-32"
else
    echo "make-demo-film: no font or no drawtext filter; making the film without text" >&2
fi

# A major chord (A3, C#4, E4) under a 0.25 Hz swell, plus a short decaying
# A5 ping at every whole second; peaks stay well below full scale.
chord="0.10*sin(2*PI*220*t)+0.07*sin(2*PI*277.18*t)+0.06*sin(2*PI*329.63*t)"
swell="(0.65+0.35*sin(2*PI*0.25*t))"
bell="0.12*sin(2*PI*880*t)*exp(-12*mod(t\,1))"
fade="min(1\,t/1.5)*min(1\,($duration-t)/1.5)"
audio="aevalsrc=exprs='($chord)*$swell*$fade+$bell*$fade':s=48000:c=stereo:d=$duration"

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$.mp4"
trap 'rm -f "$tmp"' EXIT INT TERM

ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "$video" \
    -f lavfi -i "$audio" \
    -map 0:v -map 1:a \
    -c:v libx264 -preset slow -crf 24 -tune animation -pix_fmt yuv420p \
    -g 48 -keyint_min 24 \
    -c:a aac -b:a 96k -ac 2 \
    -movflags +faststart -t "$duration" \
    -metadata title="danmaku demo film" \
    "$tmp"
mv "$tmp" "$out"
trap - EXIT INT TERM

size_bytes=$(wc -c <"$out" | tr -d ' ')
echo "make-demo-film: wrote $out ($size_bytes bytes)"
