#!/bin/sh
# make-films.sh OUT_DIR MAKE_DVDSUB - the subtitle test films, made at test
# time with the ffmpeg command-line tool (ctest runs it once, as the
# subs_films fixture):
#   mov_text.mp4   mov_text track (MP4)
#   srt.mkv        two SubRip tracks: English (default), Chinese
#   signs.mkv      ASS: \pos signs at the top, dialogue, \move, colliding
#                  lines, karaoke; DejaVu Serif attached (the style's font)
#   signs-noattach.mkv  the same without the attachment
#   webvtt.webm    WebVTT track (WebM)
#   gbk.mp4        no subtitle stream; gbk.srt beside it, in GBK
#   dvdsub.mkv     DVD subtitle pictures (make_dvdsub, libavcodec's encoder)
#   src-*          the subtitle files the films were made from (external-file
#                  tests use them; their names match no film, so nothing
#                  auto-loads them)
# Without ffmpeg it makes nothing and says so; the tests then skip the films.
set -eu

out=$1
make_dvdsub=$2
if ! command -v ffmpeg >/dev/null 2>&1; then
    echo "make-films: ffmpeg not found: the subtitle film tests will be skipped"
    exit 0
fi
font=""
for f in /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf \
         "$(fc-match -f '%{file}' 'DejaVu Serif' 2>/dev/null || true)"; do
    if [ -n "$f" ] && [ -f "$f" ]; then font=$f; break; fi
done
rm -rf "$out"
mkdir -p "$out"
cd "$out"

ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }

cat > src-mov_text.srt <<'SRT'
1
00:00:01,000 --> 00:00:02,500
Hello mov_text

2
00:00:03,000 --> 00:00:04,500
Second cue
on two rows
SRT
ff -f lavfi -i color=c=black:s=320x180:r=10:d=6 -i src-mov_text.srt \
   -map 0:v -map 1:s -c:v mpeg4 -c:s mov_text -metadata:s:s:0 language=eng mov_text.mp4

cat > src-en.srt <<'SRT'
1
00:00:01,000 --> 00:00:02,500
English line one

2
00:00:03,000 --> 00:00:04,000
English line two
SRT
cat > src-zh.srt <<'SRT'
1
00:00:01,000 --> 00:00:02,500
中文字幕第一行

2
00:00:03,000 --> 00:00:04,000
中文字幕第二行
SRT
ff -f lavfi -i color=c=black:s=640x360:r=10:d=6 -i src-en.srt -i src-zh.srt \
   -map 0:v -map 1:s -map 2:s -c:v mpeg4 -c:s srt \
   -metadata:s:s:0 language=eng -metadata:s:s:0 title=English \
   -metadata:s:s:1 language=chi -metadata:s:s:1 title=Chinese \
   -disposition:s:0 default -disposition:s:1 0 srt.mkv

cat > src-signs.ass <<'ASS'
[Script Info]
ScriptType: v4.00+
PlayResX: 640
PlayResY: 360
WrapStyle: 0
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,DejaVu Serif,28,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,0,2,20,20,20,1
Style: Sign,DejaVu Serif,24,&H0000FFFF,&H000000FF,&H00000000,&H00000000,1,0,0,0,100,100,0,0,1,2,0,8,20,20,20,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.50,0:00:03.00,Sign,,0,0,0,,{\an8\pos(320,12)}Top Sign
Dialogue: 0,0:00:00.50,0:00:03.00,Default,,0,0,0,,Hello from the bottom
Dialogue: 0,0:00:03.50,0:00:05.50,Default,,0,0,0,,{\an5\move(120,180,520,180)}Moving
Dialogue: 0,0:00:06.00,0:00:09.00,Default,,0,0,0,,First line
Dialogue: 0,0:00:07.00,0:00:10.00,Default,,0,0,0,,Second line
Dialogue: 0,0:00:09.50,0:00:11.00,Default,,0,0,0,,Third
Dialogue: 0,0:00:11.50,0:00:13.50,Default,,0,0,0,,{\k50}Ka{\k50}ra{\k50}o{\k50}ke
ASS
if [ -n "$font" ]; then
    ff -f lavfi -i color=c=black:s=640x360:r=10:d=14 -i src-signs.ass \
       -map 0:v -map 1:s -c:v mpeg4 -c:s ass -metadata:s:s:0 language=eng \
       -attach "$font" -metadata:s:t:0 mimetype=application/x-truetype-font \
       -metadata:s:t:0 filename=DejaVuSerif.ttf signs.mkv
    # the same without the font: the control of the attached-font test
    ff -i signs.mkv -map 0:v -map 0:s -c copy signs-noattach.mkv
else
    echo "make-films: no DejaVu Serif font file (fonts-dejavu-core): signs.mkv not made"
fi

cat > src-webvtt.vtt <<'VTT'
WEBVTT

00:00:01.000 --> 00:00:02.500
Hello WebVTT

00:00:03.000 --> 00:00:04.500
Second WebVTT cue
VTT
ff -f lavfi -i color=c=black:s=320x180:r=10:d=6 -i src-webvtt.vtt \
   -map 0:v -map 1:s -c:v libvpx -deadline realtime -b:v 100k -c:s webvtt \
   -metadata:s:s:0 language=eng webvtt.webm

ff -f lavfi -i color=c=black:s=320x180:r=10:d=6 -c:v mpeg4 gbk.mp4
cat > gbk-utf8.srt <<'SRT'
1
00:00:01,000 --> 00:00:02,500
你好，世界。这是一个中文字幕测试。

2
00:00:03,000 --> 00:00:04,500
字幕文件使用国标编码保存，播放器需要自动识别编码并正确显示汉字。
SRT
iconv -f UTF-8 -t GBK gbk-utf8.srt > gbk.srt
rm gbk-utf8.srt

"$make_dvdsub" dvdsub-only.mkv
ff -f lavfi -i color=c=black:s=720x480:r=10:d=6 -i dvdsub-only.mkv \
   -map 0:v -map 1:s -c:v mpeg4 -c:s copy dvdsub.mkv
rm dvdsub-only.mkv
echo "make-films: made $(ls | tr '\n' ' ')"
