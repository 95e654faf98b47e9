"""Session read/write speed against lxml's bare parse of the same file.

    .venv/bin/python bench/session_io.py [--repeat N]

Sessions of 10, 100 and 500 tracks with 20 regions each are generated with routes shaped like
Ardour 7.3's own (controllables, automation lists, pannable, processors). Prints, per size: the
bare lxml parse, the bridge's read (parse + model), the ratio, and a full write (lock a track:
stage, serialize, backup, atomic replace). Targets (issue 2): read <= 3x bare parse; 500 tracks
read in under 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.ardour import SessionEditor, read_session  # noqa: E402

SC = 5880  # superclocks per sample at 48 kHz


def _route(i: int, ids: list[int]) -> str:
    def nid() -> int:
        ids[0] += 1
        return ids[0]

    name = f"Track {i}"
    autos = "".join(
        f'<AutomationList automation-id="{a}" id="{nid()}" interpolation-style="Discrete" time-domain="AudioTime" '
        f'state="Off"/>'
        for a in ("solo", "solo-iso", "solo-safe", "mute", "rec-enable", "rec-safe", "phase", "monitor"))
    pans = "".join(f'<Controllable name="pan-{p}" id="{nid()}" flags="" value="0.5"/>'
                   for p in ("azimuth", "width", "elevation", "frontback", "lfe"))
    return (
        f'<Route version="7002" id="{nid()}" name="{name}" default-type="audio" strict-io="1" active="1" '
        f'denormal-protection="0" meter-point="MeterPostFader" disk-io-point="DiskIOPreFader" meter-type="MeterPeak" '
        f'audio-playlist="PL{i}" saved-meter-point="MeterPostFader" alignment-choice="Automatic" mode="Normal">'
        f'<PresentationInfo order="{i + 1}" flags="AudioTrack,OrderSet" color="0"/>'
        f'<Controllable name="solo" id="{nid()}" flags="Toggle,RealTime" value="0" self-solo="0"/>'
        f'<IO name="{name}" id="{nid()}" direction="Input" default-type="audio"><Port type="audio" '
        f'name="{name}/audio_in 1"/></IO>'
        f'<IO name="{name}" id="{nid()}" direction="Output" default-type="audio">'
        f'<Port type="audio" name="{name}/audio_out 1"><Connection other="Master/audio_in 1"/></Port>'
        f'<Port type="audio" name="{name}/audio_out 2"><Connection other="Master/audio_in 2"/></Port></IO>'
        f'<MuteMaster mute-point="PostFader,Listen,Main" muted="0"/>'
        f'<Controllable name="mute" id="{nid()}" flags="Toggle,RealTime" value="0"/>'
        f'<Automation>{autos}</Automation><Pannable>{pans}</Pannable>'
        f'<Processor id="{nid()}" name="Amp" active="1" user-latency="0" use-user-latency="0" type="amp">'
        f'<Controllable name="gaincontrol" id="{nid()}" flags="GainLike" value="1"/></Processor>'
        f'<Processor id="{nid()}" name="meter" active="1" type="meter"/>'
        f'</Route>\n')


def make_session(folder: Path, tracks: int, regions: int) -> Path:
    ids = [1000]
    srcs, pls, routes = [], [], []
    for i in range(tracks):
        routes.append(_route(i, ids))
        ids[0] += 1
        sid = ids[0]
        srcs.append(f'<Source name="t{i}.wav" take-id="" type="audio" flags="" id="{sid}" channel="0" '
                    f'origin="" gain="1"/>')
        regs = []
        for k in range(regions):
            ids[0] += 1
            pos, length = k * 48000 * SC, 40000 * SC
            regs.append(
                f'<Region name="t{i}.{k}" muted="0" opaque="1" locked="0" automatic="0" whole-file="0" '
                f'start="a{k * 100 * SC}" length="a{length}@a{pos}" sync-position="a0" ancestral-start="a0" '
                f'ancestral-length="a0@a0" stretch="1" shift="1" layering-index="{k}" envelope-active="0" '
                f'fade-in-active="1" fade-out-active="1" scale-amplitude="1" id="{ids[0]}" type="audio" '
                f'source-0="{sid}" master-source-0="{sid}" channels="1"><Envelope default="yes"/>'
                f'<FadeIn default="yes"/><FadeOut default="yes"/></Region>')
        pls.append(f'<Playlist id="PL{i}" name="Track {i}" type="audio" orig-track-id="{i}" pgroup-id="" '
                   f'shared-with-ids="" frozen="0" combine-ops="0">{"".join(regs)}</Playlist>\n')
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Session version="7002" name="Bench" sample-rate="48000" '
        f'id-counter="{ids[0] + 1}">\n<Config><Option name="use-region-fades" value="1"/></Config>\n'
        f'<Sources>{"".join(srcs)}</Sources>\n<Regions/>\n<Locations/>\n'
        f'<Routes><Route version="7002" id="1" name="Master" default-type="audio"><PresentationInfo order="0" '
        f'flags="MasterOut,OrderSet" color="0"/><IO name="Master" id="2" direction="Input" default-type="audio">'
        f'<Port type="audio" name="Master/audio_in 1"/><Port type="audio" name="Master/audio_in 2"/></IO>'
        f'</Route>\n{"".join(routes)}</Routes>\n<Playlists>{"".join(pls)}</Playlists>\n<RouteGroups/>\n'
        f'<TempoMap superclocks-per-second="282240000"><Tempos><Tempo npm="120" enpm="120" note-type="4" '
        f'type="Constant" sclock="0" quarters="0:0" bbt="1|1|0" omega="0"/></Tempos><Meters><Meter note-value="4" '
        f'divisions-per-bar="4" sclock="0" quarters="0:0" bbt="1|1|0"/></Meters></TempoMap>\n</Session>\n')
    folder.mkdir(parents=True)
    file = folder / "Bench.ardour"
    file.write_text(xml.replace('id="PL', 'id="9').replace('audio-playlist="PL', 'audio-playlist="9'))
    return file


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10, 100, 500):
            file = make_session(Path(tmp) / f"s{n}", n, 20)
            data = file.read_bytes()
            parser = etree.XMLParser(huge_tree=True, resolve_entities=False)
            bare, _ = best(lambda d=data, p=parser: etree.fromstring(d, p), args.repeat)
            read, read_med = best(lambda f=file: read_session(f), args.repeat)

            def write(f=file) -> None:
                s = read_session(f)
                ed = SessionEditor(s, allow_missing_sources=True)
                ed.set_role("Track 0", role="drums", locked=True)
                ed.commit()

            wr, _ = best(write, args.repeat)
            rows.append((n, len(data) / 1e6, bare, read, read / bare, read_med, wr))
    print(f"{'tracks':>6} {'MB':>6} {'lxml parse':>11} {'bridge read':>12} {'ratio':>6} {'read median':>12} "
          f"{'read+write':>11}")
    for n, mb, bare, read, ratio, med, wr in rows:
        print(f"{n:>6} {mb:>6.1f} {bare * 1e3:>9.1f}ms {read * 1e3:>10.1f}ms {ratio:>5.2f}x {med * 1e3:>10.1f}ms "
              f"{wr * 1e3:>9.1f}ms")


if __name__ == "__main__":
    main()
