"""``resonant demo``: the main job on the embedded engine, end to end, with progress shown.

A new session from the band template with every role generated (no GPU, no downloaded weights),
a preview mix rendered by Ardour itself when its tools are installed (else by the bridge's own
mixdown, which nulls against Ardour's export), and a summary of where everything is.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bridge.ardour.exportmix import export_mix
from bridge.ardour.programs import find_ardour
from bridge.core.newsession import create

DEMO_PROMPT = "lo-fi hip hop in D minor, Rhodes, laid back"


def run_demo(folder: Path | None, console: Console | None = None) -> dict:
    console = console or Console(stderr=True)
    folder = (folder or Path(f"resonant-demo-{time.strftime('%Y%m%d-%H%M%S')}")).expanduser().resolve()
    t0 = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("generating the band", total=1.0)
        result = create(folder, "band", DEMO_PROMPT, bars=8, seed=1,
                        progress=lambda f, stage: bar.update(task, completed=f, description=stage))
        bar.update(task, completed=1.0, description="rendering the preview mix")
        mix = folder / "export" / "demo-mix.wav"
        mix.parent.mkdir(parents=True, exist_ok=True)
        ardour = find_ardour()
        by = "the bridge's mixdown (Ardour's export tool is not installed)"
        if ardour is not None and not ardour.missing_tools():
            # the file is what counts: the tools can abort or hang after writing a good one, and
            # Ardour 7.3's now and then writes a corrupt one (exportmix.py), which is made again
            done = export_mix(ardour, folder, folder.name, mix)
            by = f"{ardour.label} ({Path(ardour.tool('export')).name})"
            if not done.ok:
                mix.unlink(missing_ok=True)
                by = (f"the bridge's mixdown ({ardour.label}'s export failed {done.tries} times; the last: "
                      f"{done.problems[-1]})")
        if not mix.is_file():
            import soundfile as sf

            from bridge.ardour import read_session
            from bridge.audio.mixdown import render

            s = read_session(folder)
            sf.write(str(mix), render(s), s.sample_rate, subtype="PCM_24")
    return {"session": str(result.session), "mix": str(mix), "rendered_by": by, "key": result.key,
            "tempo_bpm": result.tempo_bpm, "mix_lufs": result.mix_lufs, "tracks": [t["track"] for t in result.tracks],
            "seconds": round(time.perf_counter() - t0, 1)}

