"""How loud a MIDI track plays in Ardour against the audio stem the bridge renders from the same notes.

    .venv/bin/python bench/midi_synth_level.py [--soundfont FILE.sf2]

For a few instruments and velocities, the same notes are rendered by the bridge (its SoundFont
renderer) and played by Ardour's own export of a MIDI track with ACE Fluid Synth loaded with the same
SoundFont (the synth at 0 dB: what a delivered track adds on top is the stem's own gain). The table
gives each one's integrated loudness and the difference; the baseline is the bridge's render in the
same run. What this shows: the two synths weigh velocity and each instrument's attenuation
differently, by a few dB, which the delivered track's synth level (the stem's gain) does not remove.
Needs the host's Ardour (ardourN-export).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CASES = [("bass", 33, False, 100), ("bass", 33, False, 60), ("piano", 0, False, 90), ("strings", 48, False, 80),
         ("lead", 81, False, 90), ("drums", 0, True, 100)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--soundfont", default=None, help="a .sf2 (default: pretty_midi's TimGM6mb)")
    args = ap.parse_args()
    import pretty_midi

    sf2 = Path(args.soundfont or Path(pretty_midi.__file__).parent / "TimGM6mb.sf2").resolve()
    os.environ["RESONANT_SOUNDFONT"] = str(sf2)
    from bridge.ardour import SessionEditor, read_session
    from bridge.audio.features import integrated_loudness
    from bridge.audio.synth import musical_smf, render_notes
    from bridge.music.parts.common import NoteEvent
    from tests import ardour_tools

    a = ardour_tools.require_ardour()
    print(f"{a.label}, SoundFont {sf2.name}: 32 eighth notes at 120 BPM")
    print(f"{'instrument':<10} {'vel':>4} {'bridge LUFS':>12} {'Ardour LUFS':>12} {'Ardour - bridge':>16}")
    base = Path(tempfile.mkdtemp(prefix="midi-level-"))
    try:
        for label, program, drums, vel in CASES:
            work = base / f"{label}{vel}"
            work.mkdir()
            folder = ardour_tools.new_session(work, "S", ardour=a)
            s = read_session(folder)
            tm = s.tempo_map
            pitches = [36, 38, 42, 46] if drums else [40, 43, 45, 47, 52, 55]
            notes = [NoteEvent(i * 0.5, 0.45, pitches[i % len(pitches)], vel) for i in range(32)]
            pos = tm.samples_at_quarters(4.0)
            frames = tm.samples_at_quarters(20.0) - pos
            stem = render_notes(notes, program, drums, tm, 4.0, frames)
            smf = work / "p.mid"
            smf.write_bytes(musical_smf(notes, program, drums, tm, 4.0, label))
            ed = SessionEditor(s)
            ed.add_midi_track("P", smf, pos, sf2, role="drums" if drums else "bass")
            ed.commit()
            mix, rate = ardour_tools.export(folder, "S", work / "mix.wav", a)
            ours, theirs = integrated_loudness(stem, rate), integrated_loudness(mix[pos:pos + frames], rate)
            print(f"{label:<10} {vel:>4} {ours:>12.2f} {theirs:>12.2f} {theirs - ours:>+16.2f}", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
