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

from bridge.ardour.programs import find_ardour
from bridge.ardour.runtool import run_tool, wav_complete
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
            by = f"{ardour.label} ({Path(ardour.tool('export')).name})"
            # the export tools can abort or hang at exit after writing a good file: the file is what counts
            cmd, env = ardour.command([ardour.tool("export"), "-o", str(mix), str(folder), folder.name])
            frames = _range_frames(folder)
            for _ in range(2):
                run_tool(cmd, env, timeout=300, done=wav_complete(mix, frames))
                if mix.is_file() and mix.stat().st_size > 44:
                    break
        if not mix.is_file() or mix.stat().st_size <= 44:
            import soundfile as sf

            from bridge.ardour import read_session
            from bridge.audio.mixdown import render

            s = read_session(folder)
            sf.write(str(mix), render(s), s.sample_rate, subtype="PCM_24")
            if ardour is not None and not ardour.missing_tools():
                by = f"the bridge's mixdown ({ardour.label}'s export wrote nothing)"
    return {"session": str(result.session), "mix": str(mix), "rendered_by": by, "key": result.key,
            "tempo_bpm": result.tempo_bpm, "mix_lufs": result.mix_lufs, "tracks": [t["track"] for t in result.tracks],
            "seconds": round(time.perf_counter() - t0, 1)}


def _range_frames(folder: Path) -> int:
    from bridge.ardour import read_session

    s = read_session(folder)
    return (s.session_range[1] - s.session_range[0]) if s.session_range else 1
