"""What a worker process runs for one job: read the session, build the context, generate, and
write the stems into the job's folder. Nothing here writes a session: delivery is the daemon's."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from bridge.ardour import takes
from bridge.ardour.files import tmp_name
from bridge.engines.base import GenerationRequest, PreviousTake, Progress

CONTROLS = ("temperature", "density", "complexity", "swing")


def request_from(d: dict[str, Any]) -> GenerationRequest:
    names = {f.name for f in dataclasses.fields(GenerationRequest)} - {"previous", "given"}
    req = GenerationRequest(**{k: v for k, v in d.items() if k in names})
    req.given = tuple(k for k in CONTROLS if d.get(k) is not None)
    return req


def previous_take(session, track_name: str) -> tuple[PreviousTake, int, int]:
    """The track's current take as audio (stereo, from its first region to its last), with the
    MIDI the bridge kept for it when it wrote it; and the take's first and last bar."""
    from bridge.audio.mixdown import SourceCache, render_playlist

    track = session.track(track_name)
    regions = session.regions_of(track)
    if not regions:
        from bridge.errors import InvalidInput

        raise InvalidInput(f"track {track.name!r} has no regions to regenerate")
    start, end = min(r.position for r in regions), max(r.end for r in regions)
    names = [session.sources[sid].name for r in sorted(regions, key=lambda r: r.position) for sid in r.source_ids
             if sid in session.sources]
    recipe, midi = takes.recall(session.folder, names, track.role)
    tm = session.tempo_map
    first_bar, last_bar = tm.bars_spanning(start, end)
    if track.kind == "midi":
        return _previous_midi_take(session, track, start, end, recipe), first_bar, last_bar
    cache = SourceCache()
    try:
        audio = render_playlist(session, track, start, end, max(1, track.n_inputs), cache)
    finally:
        cache.close()
    audio = np.repeat(audio, 2, axis=0) if audio.shape[0] == 1 else audio[:2]
    # the take's recipe and notes, by the names of its sources (bridge.ardour.takes)
    return PreviousTake(audio.T.astype(np.float32), start, midi, recipe), first_bar, last_bar


def _previous_midi_take(session, track, start: int, end: int, recipe: dict | None) -> PreviousTake:
    """A MIDI track's take as its notes are now in the session (the user's edits included, not the
    notes the bridge once wrote), heard through the synth the arranger renders with."""
    from bridge.audio.midi import track_notes
    from bridge.audio.synth import musical_smf, render_notes
    from bridge.music.parts import NoteEvent

    tm = session.tempo_map
    q0 = tm.quarters_at_samples(start)
    notes = [NoteEvent(n.start_quarters - q0, n.end_quarters - n.start_quarters, n.pitch, n.velocity)
             for n in track_notes(session, track)]
    drums = track.role == "drums"
    program = (recipe or {}).get("program")
    program = program if isinstance(program, int) and 0 <= program < 128 else 0
    smf = musical_smf(notes, program, drums, tm, q0, track.name)
    audio = render_notes(notes, program, drums, tm, q0, end - start)
    level = (recipe or {}).get("synth_level_db")  # as loud as the track's synth was set to play it
    if isinstance(level, int | float) and -80.0 <= level <= 20.0:
        audio = audio * np.float32(10 ** (level / 20))
    return PreviousTake(audio.astype(np.float32), start, smf, recipe)


def run_generation(spec: dict[str, Any], progress: Progress) -> list[dict[str, Any]]:
    from bridge.ardour.reader import read_session
    from bridge.engines import get_engine
    from bridge.engines.context import context_for

    request = request_from(spec["request"])
    context = None
    session = None
    if spec.get("session"):
        progress(0.01, "reading the session")
        session = read_session(spec["session"], [Path(r) for r in spec.get("roots") or []] or None)
        request.sample_rate = session.sample_rate
    regen = spec.get("regenerate")
    if regen:
        progress(0.02, "hearing the current take")
        prev, take_first, take_last = previous_take(session, regen["track"])
        request.previous = {request.roles[0]: prev}
        if not regen.get("bars"):
            request.first_bar, request.bars = take_first, take_last - take_first + 1
    request.validate()
    if session is not None:
        progress(0.05, "analysing the locked tracks")
        context = context_for(session, request, regen["track"] if regen else None)
    # the engine's own 0..1 maps onto what is left after reading and analysing, so progress never goes back
    stems = get_engine(request.engine).generate(request, context, lambda f, stage: progress(0.1 + 0.85 * f, stage))
    progress(0.97, "writing the stems")
    return write_stems(Path(spec["out_dir"]), stems)


def write_stems(out: Path, stems: list) -> list[dict[str, Any]]:
    """The one stem writer: ROLE.wav (24-bit, atomically) and ROLE.mid in ``out``, and what was written."""
    out.mkdir(parents=True, exist_ok=True)
    result = []
    for st in stems:
        wav = out / f"{st.role}.wav"
        tmp = wav.with_name(tmp_name(wav.name))
        sf.write(str(tmp), st.audio, st.sample_rate, subtype="PCM_24", format="WAV")
        tmp.replace(wav)
        mid = None
        if st.midi:
            mid = out / f"{st.role}.mid"
            mid.write_bytes(st.midi)
        result.append({"role": st.role, "wav": str(wav), "mid": str(mid) if mid else None, "start": st.start,
                       "frames": int(st.audio.shape[0]), "sample_rate": st.sample_rate,
                       "metadata": st.metadata})
    return result
