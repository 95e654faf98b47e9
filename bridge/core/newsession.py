"""``resonant new``: a new Ardour session from a template, with every role generated, the stems
balanced to a mix loudness target, and the session range set; ready to open in Ardour.

The template is an Ardour session template (``daw_templates/NAME/NAME.template``, the same file
``ardour7-new_session -t NAME`` uses once installed). Its tracks carry Resonant roles; each gets the
stem of its role in its (empty) playlist. ``deliver``: ``midi`` makes each role a MIDI track of the
same name instead (the template's audio track left out), ``both`` adds ``<Name> MIDI`` beside each.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree

from bridge import PROJECT
from bridge.ardour import Clip, SessionEditor, read_session, takes
from bridge.ardour.files import atomic_write
from bridge.errors import InvalidInput

TEMPLATES = PROJECT / "daw_templates"
MARKER = ".resonant/created-by-new"
SUBDIRS = ("interchange/{name}/audiofiles", "interchange/{name}/midifiles", "peaks", "analysis", "dead", "export",
           "externals", "plugins")


@dataclass
class NewResult:
    session: Path
    tracks: list[dict[str, Any]] = field(default_factory=list)
    tempo_bpm: float = 0.0
    key: str | None = None
    mix_lufs: float | None = None
    mix_true_peak_db: float | None = None
    understood: dict[str, Any] = field(default_factory=dict)


def template_path(name: str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise InvalidInput(f"template {name!r}: give a template name such as 'band'")
    p = TEMPLATES / name / f"{name}.template"
    if not p.is_file():
        known = sorted(d.name for d in TEMPLATES.iterdir() if (d / f"{d.name}.template").is_file())
        raise InvalidInput(f"no template {name!r}; available: {', '.join(known)}")
    return p


def _drop_role_tracks(root: etree._Element) -> dict[str, str]:
    """Take the template's role tracks (and their playlists) out, for MIDI tracks of the same names;
    returns role -> name."""
    out: dict[str, str] = {}
    routes = root.find("Routes")
    playlists = [el for sec in ("Playlists", "UnusedPlaylists") if (el := root.find(sec)) is not None]
    for route in list(routes if routes is not None else []):
        res = route.find("Extra/Resonant")
        if route.tag != "Route" or res is None or not res.get("role"):
            continue
        out[res.get("role")] = route.get("name")
        routes.remove(route)
        for sec in playlists:
            for pl in list(sec):
                if pl.get("orig-track-id") == route.get("id"):
                    sec.remove(pl)
    return out


def _prepare_folder(folder: Path, force: bool) -> None:
    if folder.exists():
        if not folder.is_dir():
            raise InvalidInput(f"{folder} exists and is not a folder")
        if any(folder.iterdir()):
            if not force:
                raise InvalidInput(f"{folder} is not empty; choose a new folder (or --force to replace a "
                                   "session that resonant new made there before)")
            if not (folder / MARKER).is_file():
                raise InvalidInput(f"{folder} holds something resonant new did not make; --force only replaces "
                                   "sessions it made itself")
            shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)


def create(folder: Path, template: str = "band", prompt: str = "", bars: int = 8, seed: int = 0,
           engine: str | None = None, mix_lufs: float = -16.0, force: bool = False, progress=None,
           deliver: str = "audio", midi_synth: str = "fluidsynth") -> NewResult:
    from bridge.audio.features import integrated_loudness
    from bridge.audio.loudness import limit, true_peak_db
    from bridge.core.placement import MIDI_SUFFIX, kinds
    from bridge.engines import GenerationRequest, get_engine
    from bridge.engines.context import context_for
    from bridge.music.prompt import parse_prompt
    from bridge.music.styles import DEFAULT_STYLE, STYLES

    if not -30.0 <= mix_lufs <= -6.0:
        raise InvalidInput("the mix loudness target must be between -30 and -6 LUFS")
    wanted = kinds(deliver)
    if "midi" in wanted and (engine or "arranger") == "musicgen":
        raise InvalidInput("the musicgen engine makes audio only, no notes: deliver audio")
    tpl = template_path(template)
    folder = folder.expanduser().resolve()
    name = folder.name
    request = GenerationRequest(roles=["drums", "bass", "harmony", "melody"], bars=bars, prompt=prompt,
                                seed=seed, engine=engine).validate()
    _prepare_folder(folder, force)
    try:
        root = etree.parse(str(tpl)).getroot()
        root.set("name", name)
        as_midi = _drop_role_tracks(root) if wanted == ["midi"] else {}  # role -> the name its MIDI track takes
        for sub in SUBDIRS:
            (folder / sub.format(name=name)).mkdir(parents=True, exist_ok=True)
        (folder / MARKER).parent.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).write_text(f"template {template}\n")
        file = folder / f"{name}.ardour"
        atomic_write(file, b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8")
                     + b"\n")
        session = read_session(file)
        intent = parse_prompt(prompt)
        bpm = intent.bpm or STYLES[intent.style or DEFAULT_STYLE].bpm
        ed = SessionEditor(session)
        ed.set_constant_tempo(bpm)
        # Ardour's OSC surface on, so the daemon can ask the running Ardour (/resonant/ardour/strips, save)
        ed.set_control_protocol("Open Sound Control (OSC)", True)
        ed.commit()
        session = read_session(file)
        roles = {t.role: t for t in session.tracks if t.role}
        missing = [r for r in request.roles if r not in roles and r not in as_midi]
        if missing:
            raise InvalidInput(f"template {template!r} has no track for {', '.join(missing)}")
        request.sample_rate = session.sample_rate
        stems = get_engine(engine).generate(request, context_for(session, request), progress or (lambda f, s: None))
        mix = np.sum([st.audio.astype(np.float64) for st in stems], axis=0)
        lufs = integrated_loudness(mix, session.sample_rate)
        gain = 1.0 if lufs is None else 10 ** ((mix_lufs - lufs) / 20)
        for _ in range(3):
            peak = true_peak_db(mix * gain)
            if peak <= -1.0:
                break
            # the target would clip: a look-ahead limiter on the mix, as a master-bus limiter would do,
            # with its gain curve applied to every stem alike (so the stems still sum to the mix)
            _, curve = limit(mix * gain, -1.45, session.sample_rate)
            for st in stems:
                st.audio = (st.audio * curve[:, None]).astype(np.float32)
            mix = mix * curve[:, None]
            lufs = integrated_loudness(mix, session.sample_rate)
            gain = 1.0 if lufs is None else 10 ** ((mix_lufs - lufs) / 20)
        peak = true_peak_db(mix * gain)
        if peak > -1.0:  # what the limiter could not hold: give up loudness, never the ceiling
            gain *= 10 ** ((-1.0 - peak) / 20)
        gain = min(gain, 2.0)  # Ardour's fader goes to +6 dB
        tmp = folder / ".resonant" / "stems"
        tmp.mkdir(parents=True, exist_ok=True)
        import soundfile as sf

        ed = SessionEditor(session)
        result = NewResult(file, tempo_bpm=bpm, understood=stems[0].metadata.get("understood", {}),
                           key=stems[0].metadata.get("plan", {}).get("key"))
        made = uuid.uuid4().hex[:8]  # names the takes (as a job id does), so their recipes are found again
        placed = []
        from bridge.core.placement import soundfont_of

        for st in stems:
            files: list[str] = []
            frames = int(st.audio.shape[0])
            if "audio" in wanted:
                wav = tmp / f"{st.role}.wav"
                sf.write(str(wav), st.audio, st.sample_rate, subtype="PCM_24")
                track = roles[st.role]
                ed.add_regions(track.name, [Clip(wav, st.start, file_stem=f"{track.name}-{made}")])
                files.append(ed.planned_files[-1].name)
                ed.set_track_gain(track.name, gain)
                result.tracks.append({"track": track.name, "role": st.role, "frames": frames,
                                      "stem_lufs": st.metadata.get("loudness_lufs")})
            if "midi" in wanted:
                if not st.midi:
                    raise InvalidInput(f"the engine wrote no notes for {st.role}: deliver audio")
                mid = tmp / f"{st.role}.mid"
                mid.write_bytes(st.midi)
                midi_name = as_midi.get(st.role) or roles[st.role].name + MIDI_SUFFIX
                # the synth at the stem's own gain and the mix's, its fader at unity like a new track's
                level = float(st.metadata.get("synth_level_db") or 0.0) + 20 * np.log10(max(gain, 1e-6))
                before = len(ed.planned_files)
                ed.add_midi_track(midi_name, mid, st.start, soundfont_of({"metadata": st.metadata}), role=st.role,
                                  end=st.start + frames, file_stem=f"{midi_name}-{made}", level_db=level,
                                  synth=midi_synth)
                files += [p.name for p in ed.planned_files[before:] if p.suffix == ".mid"]
                result.tracks.append({"track": midi_name, "role": st.role, "frames": frames, "kind": "midi",
                                      "stem_lufs": st.metadata.get("loudness_lufs")})
            placed.append(files)
        ed.commit()
        for st, names in zip(stems, placed, strict=True):
            recipe = {**st.metadata.get("recipe", {}), "job": made, "role": st.role, "start": st.start,
                      "frames": int(st.audio.shape[0])}
            if isinstance(st.metadata.get("synth_level_db"), int | float):
                recipe["synth_level_db"] = st.metadata["synth_level_db"]
            takes.remember(folder, takes.take_key(made, st.role), recipe, st.midi, names)
        shutil.rmtree(tmp, ignore_errors=True)
        final = integrated_loudness(mix * gain, session.sample_rate)
        result.mix_lufs = round(final, 2) if final is not None else None
        result.mix_true_peak_db = round(true_peak_db(mix * gain), 2)
        return result
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # a half-made session is worse than none
        raise
