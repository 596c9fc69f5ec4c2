#!/usr/bin/env python3
"""Write realistic comment tracks for the test suite, so it stands alone.

    gen-tracks.py OUTDIR
    gen-tracks.py --speed-track FILE

--speed-track writes one Bilibili XML file shaped like the speed track of
docs/BENCHMARKS.md (3002 comments, most of them 200 characters) instead.

The suite checks its properties (no overlap, every comment accounted for,
determinism, round trips) on these files whether or not the real tracks of
../shared/data/tracks are there. Written apart from the engine, from the
formats' published definitions, with what real tracks have: an audience
that comments in bursts (a joke, a "前方高能" warning, a boss fight), quiet
spells, short reactions and long sentences, every mode, size and many
colours, and text in many scripts, emoji included.

Also writes OUTDIR/manifest.json: for each file its format and how many
comments of each kind it holds, which the reader tests compare with.
Deterministic: the same files on every run and machine.
"""
import json
import os
import random
import sys
from xml.sax.saxutils import escape

SHORT = ["草", "哈哈哈", "前方高能", "666", "awsl", "泪目", "来了", "？？？", "wwww", "ここ好き", "かわいい",
         "대박", "ㅋㅋㅋ", "lol", "nice", "Привет", "круто", "¡Olé!", "جميل", "สวัสดี", "😂", "🎉🎉", "🔥",
         "8888888", "神回", "名场面", "弹幕护体", "欢迎回来", "good", "oh no", "Ω", "ß", "e\u0301"]
LONG = ["这一段的配乐真的太好听了，每次看到这里都会起鸡皮疙瘩",
        "前面的别跑，这个镜头我已经看了十遍了还是觉得不可思议",
        "この場面の演出が本当に素晴らしい、何度見ても泣ける",
        "이 장면은 정말 최고야 몇 번을 봐도 질리지 않아",
        "The cinematography in this scene is absolutely stunning, look at the light",
        "Кто здесь после премьеры? Эта сцена просто шедевр",
        "هذا المشهد رائع جدا ولا أستطيع التوقف عن مشاهدته",
        "全体起立！！！" * 3,
        "😂" * 12,
        "AI生成的画面居然能做到这种程度 The future is here 未来已来"]
COLOURS = [0xFFFFFF] * 12 + [0xFE0302, 0xFFAA02, 0xFFD302, 0x00CD00, 0x4266BE, 0xCC0273, 0x89D5FF, 0x000000]


def text_of(rnd):
    r = rnd.random()
    if r < 0.70:
        return rnd.choice(SHORT) * (1 + (rnd.random() < 0.15))
    if r < 0.92:
        return rnd.choice(SHORT) + " " + rnd.choice(SHORT)
    return rnd.choice(LONG)


def audience(rnd, seconds, base_per_s, bursts):
    """Comment times in ms: a steady rate with bursts around a few moments."""
    times = []
    for s in range(seconds):
        rate = base_per_s * (0.3 if rnd.random() < 0.2 else 1.0)   # quiet spells
        for _ in range(int(rate) + (rnd.random() < rate - int(rate))):
            times.append(s * 1000 + rnd.randrange(1000))
    for _ in range(bursts):
        at, size = rnd.randrange(seconds * 1000 - 3000), rnd.randrange(40, 160)
        times += [at + int(rnd.expovariate(1 / 600)) for _ in range(size)]
    return sorted(t for t in times if t < seconds * 1000)


def bilibili_xml(path, rnd, seconds, base, bursts, nine_fields, manifest):
    kinds = {"scroll": 0, "reverse": 0, "top": 0, "bottom": 0, "positioned": 0, "unsupported": 0}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<i>", "<chatserver>chat.bilibili.com</chatserver>",
             "<chatid>1</chatid>"]
    times = audience(rnd, seconds, base, bursts)
    order = list(range(len(times)))
    rnd.shuffle(order)   # real files are not in time order
    for n, i in enumerate(order):
        t = times[i]
        r = rnd.random()
        mode = 1 if r < 0.80 else 5 if r < 0.88 else 4 if r < 0.94 else 6 if r < 0.97 else 7 if r < 0.995 else 8
        size = rnd.choice([25] * 8 + [18, 36])
        colour = rnd.choice(COLOURS)
        text = text_of(rnd)
        if mode == 7:
            x, y = rnd.randrange(0, 600), rnd.randrange(0, 400)
            text = json.dumps([x, y, "1-0.2", round(rnd.uniform(2, 6), 1), text, 0, 0,
                               rnd.randrange(0, 600), y, 500, 0, 1], ensure_ascii=False)
            kinds["positioned"] += 1
        elif mode == 8:
            text = "Player.seek(0);"
            kinds["unsupported"] += 1
        else:
            kinds[{1: "scroll", 4: "bottom", 5: "top", 6: "reverse"}[mode]] += 1
        p = [f"{t / 1000:.5f}", str(mode), str(size), str(colour), str(1626000000 + n), "0",
             f"{rnd.getrandbits(32):08x}", str(10**15 + n)]
        if nine_fields:
            p.append(str(rnd.randrange(0, 11)))
        lines.append(f'<d p="{",".join(p)}">{escape(text)}</d>')
    lines.append("</i>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    manifest[os.path.basename(path)] = {"format": "bilibili", "count": len(times), "modes": kinds,
                                        "span_ms": seconds * 1000}


def niconico_json(path, rnd, seconds, base, bursts, manifest):
    kinds = {"scroll": 0, "top": 0, "bottom": 0}
    out = []
    for n, t in enumerate(audience(rnd, seconds, base, bursts)):
        r = rnd.random()
        pos = "naka" if r < 0.85 else "ue" if r < 0.93 else "shita"
        kinds[{"naka": "scroll", "ue": "top", "shita": "bottom"}[pos]] += 1
        mail = " ".join(x for x in ["184", pos if pos != "naka" or rnd.random() < 0.3 else "",
                                    rnd.choice(["", "", "big", "small", "red", "#00FF88", "white2"])] if x)
        out.append({"chat": {"thread": "1", "no": n + 1, "vpos": t // 10, "date": 1600000000 + n,
                             "mail": mail, "user_id": f"u{rnd.randrange(500)}",
                             "content": text_of(rnd)}})
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
    manifest[os.path.basename(path)] = {"format": "niconico", "count": len(out), "modes": kinds,
                                        "span_ms": seconds * 1000}


def dandanplay_json(path, rnd, seconds, base, bursts, manifest):
    kinds = {"scroll": 0, "top": 0, "bottom": 0}
    comments = []
    for n, t in enumerate(audience(rnd, seconds, base, bursts)):
        mode = rnd.choice([1] * 8 + [4, 5])
        kinds[{1: "scroll", 4: "bottom", 5: "top"}[mode]] += 1
        comments.append({"cid": n + 1, "p": f"{t / 1000:.2f},{mode},{rnd.choice(COLOURS)},[{rnd.randrange(99)}]",
                         "m": text_of(rnd)})
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"count": len(comments), "comments": comments}, f, ensure_ascii=False)
    manifest[os.path.basename(path)] = {"format": "dandanplay", "count": len(comments), "modes": kinds,
                                        "span_ms": seconds * 1000}


def speed_track(path, rnd, count=3002, seconds=600):
    """The shape of issue 14's speed track: 3002 comments, most of them 200 characters long."""
    times = sorted(rnd.randrange(seconds * 1000) for _ in range(count))
    pieces = LONG + SHORT
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<i>"]
    for n, t in enumerate(times):
        if rnd.random() < 0.8:
            text = ""
            while len(text) < 200:
                text += rnd.choice(pieces)
            text = text[:200]
        else:
            text = text_of(rnd)
        mode = rnd.choice([1] * 8 + [4, 5])
        p = [f"{t / 1000:.5f}", str(mode), "25", str(rnd.choice(COLOURS)), str(1626000000 + n), "0",
             f"{rnd.getrandbits(32):08x}", str(10**15 + n)]
        lines.append(f'<d p="{",".join(p)}">{escape(text)}</d>')
    lines.append("</i>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main(argv):
    if len(argv) == 3 and argv[1] == "--speed-track":
        speed_track(argv[2], random.Random(14))
        return 0
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = {}
    # dense: a 3-minute clip with a busy audience and big bursts (like the densest real tracks)
    bilibili_xml(os.path.join(out, "gen-bilibili-dense-180s.xml"), random.Random(1), 180, 6, 8, True, manifest)
    # long: a 10-minute episode, calmer, with 8-field p attributes (older files)
    bilibili_xml(os.path.join(out, "gen-bilibili-long-600s.xml"), random.Random(2), 600, 2.5, 10, False, manifest)
    niconico_json(os.path.join(out, "gen-niconico-240s.json"), random.Random(3), 240, 9, 10, manifest)
    dandanplay_json(os.path.join(out, "gen-dandanplay-120s.json"), random.Random(4), 120, 5, 4, manifest)
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
