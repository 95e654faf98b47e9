"""The MusicGen engine (issue 8), on CPU with tiny models built and saved here in audiocraft's
checkpoint format (tests/musicgen_tools.py) and loaded through the engine's normal path.

The weights are random, so these tests judge what the engine owns: the loading rules, the
conditioning it builds (text, continuation, chroma), batching, fitting to the bar range at the
session rate, loudness, in-painting, errors, and the daemon around it. Nothing is downloaded:
the engine runs offline, and the demucs weights it needs are a tiny model in a private TORCH_HOME.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bridge.engines.musicgen import compat

# scripts/install-musicgen leaves this when it refused to install (no CPU torch for this Python)
_SKIPPED = Path(sys.prefix) / "musicgen-skipped"
if compat.missing_packages():
    msg = (f"MusicGen stack not installed ({', '.join(compat.missing_packages())}): "
           f"scripts/install-musicgen")
    if _SKIPPED.is_file():
        pytest.skip(f"{msg}: it refused: {_SKIPPED.read_text().strip()}", allow_module_level=True)
    if os.environ.get("CI") == "true":
        pytest.fail(msg + " -- CI must run the MusicGen tests", pytrace=False)
    pytest.skip(msg, allow_module_level=True)

from bridge.ardour import read_session  # noqa: E402
from bridge.ardour.tempo import TempoMap  # noqa: E402
from bridge.engines import GenerationRequest, PreviousTake, get_engine  # noqa: E402
from bridge.engines.context import context_for  # noqa: E402
from bridge.engines.musicgen.conditioning import ROLE_TEXT  # noqa: E402
from bridge.errors import ModelNotFound, ModelUnreadable, OutOfMemory, UnknownModel  # noqa: E402
from tests.musicgen_tools import build_tiny_htdemucs, build_tiny_musicgen  # noqa: E402
from tests.synth import bass_and_chords, drums  # noqa: E402
from tests.test_analysis import make_session  # noqa: E402
from tests.test_arranger import loudness, true_peak  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("musicgen")
    old = {k: os.environ.get(k) for k in ("TORCH_HOME", "HF_HOME", "RESONANT_MUSICGEN_MODEL", "RESONANT_SEPARATOR")}
    os.environ["TORCH_HOME"] = str(root / "torch")
    os.environ["HF_HOME"] = str(root / "hf")  # an empty cache: nothing of the user's, nothing to download
    compat.prepare()
    build_tiny_htdemucs(root / "torch")
    yield {"text": build_tiny_musicgen(root / "text"), "melody": build_tiny_musicgen(root / "melody", melody=True),
           "root": root}
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def use(models, monkeypatch: pytest.MonkeyPatch):
    def pick(name: str, separator: str = "htdemucs"):
        monkeypatch.setenv("RESONANT_MUSICGEN_MODEL", str(models.get(name, name)))
        monkeypatch.setenv("RESONANT_SEPARATOR", separator)
        return get_engine("musicgen")
    return pick


@pytest.fixture(scope="module")
def band(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session at 97 BPM with locked drums and keys over 8 bars."""
    _, keys = bass_and_chords(97.0, 8)
    return make_session(tmp_path_factory.mktemp("band"), 97.0,
                        {"Drums": (drums(97.0, 8), "drums"), "Keys": (keys, "harmony")})


def frames_for(bars: int, bpm: float, rate: int) -> int:
    """The bar range's length on Ardour's tempo map, which is within a sample of the exact value."""
    frames = TempoMap.constant(rate, bpm).samples_at_bar(bars + 1)
    assert abs(frames - bars * 4 * 60 / bpm * rate) < 1
    return frames


def assert_stem_rules(stem, frames: int, rate: int, target: float = -23.0) -> None:
    a = stem.audio
    assert a.shape == (frames, 2) and a.dtype == np.float32 and stem.sample_rate == rate
    assert np.isfinite(a).all() and np.abs(a).max() > 1e-3
    assert abs(loudness(a, rate) - target) <= 1.0
    assert true_peak(a) <= -1.0 + 0.05
    assert abs(float(a.mean())) < 1e-3  # no DC offset left from the codec


def test_text_only_all_roles_in_one_batched_call(use, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = use("text")
    calls = []
    real = engine._generate

    def counted(model, *args, **kwargs):
        calls.append(len(args[2]))  # the texts of one generate call
        return real(model, *args, **kwargs)

    monkeypatch.setattr(engine, "_generate", counted)
    progress: list[float] = []
    req = GenerationRequest(roles=["drums", "bass", "harmony", "melody"], bars=4, prompt="house 124 bpm", seed=3)
    stems = engine.generate(req, None, lambda f, s: progress.append(f))
    assert calls == [4]  # every role in one batch
    frames = frames_for(4, 124, 48000)
    for st in stems:
        assert_stem_rules(st, frames, 48000)
        md = st.metadata
        assert md["conditioning"] == ["text"] and md["model"].endswith("text")
        assert md["device"] == "cpu" and md["precision"] == "float32" and st.start == 0
        assert "separated with demucs htdemucs" in md["stem_method"] and ROLE_TEXT[st.role] in md["text"]
        assert md["text"].count("124 bpm") == 1 and md["text"].startswith("house") and len(md["batched_with"]) == 3
        assert md["controls"]["temperature"] == 1.0 and md["controls"]["top_k"] == 250
    assert [s.role for s in stems] == req.roles
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) > 10


def test_session_rate_and_same_seed_same_audio(use) -> None:
    engine = use("text", separator="none")
    req = GenerationRequest(roles=["bass"], bars=3, prompt="funk", seed=9, sample_rate=44100)
    a, b = engine.generate(req, None)[0], engine.generate(req, None)[0]
    frames = frames_for(3, 120, 44100)  # no tempo in the prompt, no session: 120 BPM
    assert_stem_rules(a, frames, 44100)
    assert np.array_equal(a.audio, b.audio)
    req.seed = 10
    assert not np.array_equal(a.audio, engine.generate(req, None)[0].audio)
    assert "not separated (separation is off" in a.metadata["stem_method"]


def test_continuation_from_the_locked_tracks(use, band: Path) -> None:
    engine = use("text")
    s = read_session(band)
    req = GenerationRequest(roles=["bass", "melody"], first_bar=5, bars=4, prompt="hip hop", seed=1)
    stems = engine.generate(req, context_for(s, req))
    tm = s.tempo_map
    frames = tm.samples_at_bar(9) - tm.samples_at_bar(5)
    for st in stems:
        assert_stem_rules(st, frames, s.sample_rate)
        assert st.start == tm.samples_at_bar(5)
        assert any(c.startswith("continuation:") and "locked tracks" in c for c in st.metadata["conditioning"])
        assert "97 bpm" in st.metadata["text"] and "F# minor" in st.metadata["text"]
    # the audio prompt is really used: the same request with nothing before bar 1 to continue from differs
    req1 = GenerationRequest(roles=["bass", "melody"], first_bar=1, bars=4, prompt="hip hop", seed=1)
    first = engine.generate(req1, context_for(s, req1))
    assert first[0].metadata["conditioning"] == ["text"]
    assert not np.array_equal(first[0].audio, stems[0].audio)


def test_melody_model_follows_the_locked_chroma(use, band: Path, no_network) -> None:
    engine = use("melody")  # loaded here: its chroma conditioner loads demucs, from the local cache
    s = read_session(band)
    req = GenerationRequest(roles=["melody"], first_bar=3, bars=4, seed=2)
    st = engine.generate(req, context_for(s, req))[0]
    tm = s.tempo_map
    assert_stem_rules(st, tm.samples_at_bar(7) - tm.samples_at_bar(3), s.sample_rate)
    cond = st.metadata["conditioning"]
    assert any(c.startswith("continuation:") for c in cond) and any(c.startswith("melody:") for c in cond)
    # bars 1-4: nothing before to continue from, so the chroma is the only audio condition; the same
    # context without the locked audio gives the same text, and other music
    import dataclasses

    req = GenerationRequest(roles=["melody"], first_bar=1, bars=4, seed=2)
    ctx = context_for(s, req)
    with_chroma = engine.generate(req, ctx)[0]
    assert with_chroma.metadata["conditioning"] == ["text", "melody: the chroma of the locked tracks over the range"]
    without = engine.generate(req, dataclasses.replace(ctx, locked_audio=None))[0]
    assert without.metadata["conditioning"] == ["text"] and without.metadata["text"] == with_chroma.metadata["text"]
    assert not np.array_equal(without.audio, with_chroma.audio)


def test_long_ranges_extend_past_the_model_window(use) -> None:
    engine = use("text", separator="none")
    # 16 bars at 80 BPM = 48 s, past the tiny model's 20 s window: audiocraft's extended generation
    st = engine.generate(GenerationRequest(roles=["drums"], bars=16, prompt="ambient 80 bpm"), None)[0]
    assert_stem_rules(st, frames_for(16, 80, 48000), 48000)
    assert st.metadata["controls"]["extend_stride"] == 12.0
    quarter = st.audio.shape[0] // 4
    assert all(np.abs(st.audio[i * quarter:(i + 1) * quarter]).max() > 1e-3 for i in range(4))


def test_regeneration_keeps_the_rest_of_the_take(use) -> None:
    engine = use("text", separator="none")
    tm = TempoMap.constant(48000, 120.0)
    take = engine.generate(GenerationRequest(roles=["bass"], bars=8, seed=4), None)[0]
    prev = PreviousTake(take.audio, 0)
    req = GenerationRequest(roles=["bass"], first_bar=3, bars=2, seed=5, loyalty=0.8, previous={"bass": prev})
    st = engine.generate(req, None)[0]
    a, b = tm.samples_at_bar(3), tm.samples_at_bar(5)
    assert st.start == 0 and st.audio.shape == take.audio.shape
    fade = int(0.010 * 48000)
    assert np.array_equal(st.audio[:a], take.audio[:a]) and np.array_equal(st.audio[b + fade:], take.audio[b + fade:])
    assert not np.allclose(st.audio[a + fade:b - fade], take.audio[a + fade:b - fade])
    md = st.metadata
    assert md["regenerated_from_previous"] and any("previous take" in c for c in md["conditioning"])
    assert md["controls"]["cfg_coef"] == pytest.approx(2.2)  # loyal: less pull from the text
    assert abs(loudness(st.audio[a:b], 48000) - loudness(take.audio, 48000)) < 3.0


def test_extending_a_take_continues_from_its_end(use) -> None:
    engine = use("text", separator="none")
    tm = TempoMap.constant(48000, 120.0)
    take = engine.generate(GenerationRequest(roles=["bass"], bars=4, seed=4), None)[0]
    # bars 6-7, a bar after the take's end: the prompt is the take's last seconds, not the empty bar
    req = GenerationRequest(roles=["bass"], first_bar=6, bars=2, seed=6, previous={"bass": PreviousTake(take.audio, 0)})
    st = engine.generate(req, None)[0]
    assert st.start == 0 and st.audio.shape[0] == tm.samples_at_bar(8)
    assert np.array_equal(st.audio[:tm.samples_at_bar(5)], take.audio)
    assert not st.audio[tm.samples_at_bar(5):tm.samples_at_bar(6)].any()  # the bar nobody asked for
    assert np.abs(st.audio[tm.samples_at_bar(6) + 480:]).max() > 1e-3
    assert any("previous take" in c for c in st.metadata["conditioning"])


def test_missing_corrupt_and_unknown_models_are_named(use, models, tmp_path: Path) -> None:
    req = GenerationRequest(roles=["drums"], bars=1)
    with pytest.raises(ModelNotFound, match=str(tmp_path / "nowhere")):
        use(str(tmp_path / "nowhere")).generate(req, None)
    half = tmp_path / "half"
    half.mkdir()
    (half / "state_dict.bin").write_bytes((models["text"] / "state_dict.bin").read_bytes())
    with pytest.raises(ModelNotFound, match="lacks compression_state_dict.bin"):
        use(str(half)).generate(req, None)
    for name, data in (("garbage", b"not a checkpoint at all"),
                       ("truncated", (models["text"] / "state_dict.bin").read_bytes()[:5000])):
        bad = tmp_path / name
        bad.mkdir()
        (bad / "state_dict.bin").write_bytes(data)
        (bad / "compression_state_dict.bin").write_bytes((models["text"] / "compression_state_dict.bin").read_bytes())
        with pytest.raises(ModelUnreadable, match=f"weights at {bad} do not load"):
            use(str(bad)).generate(req, None)
    with pytest.raises(UnknownModel, match="unknown MusicGen model 'not a model!'"):
        use("not a model!").generate(req, None)
    with pytest.raises(ModelNotFound, match="not in the local Hugging Face cache"):
        use("facebook/musicgen-small").generate(req, None)
    # and the engine still works afterwards
    assert use("text", separator="none").generate(req, None)[0].audio.shape[0] == 96000


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch):
    """Any attempt to open a network connection fails the test (Unix sockets, e.g. for
    multiprocessing, stay allowed)."""
    import socket

    real = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"the engine tried to reach the network: {address}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def test_a_model_already_in_the_hugging_face_cache_loads_offline(use, models, no_network) -> None:
    snap = models["root"] / "hf" / "hub" / "models--resonant--tiny-musicgen"
    rev = "0" * 40
    (snap / "refs").mkdir(parents=True, exist_ok=True)
    (snap / "refs" / "main").write_text(rev)
    (snap / "snapshots" / rev).mkdir(parents=True, exist_ok=True)
    for f in ("state_dict.bin", "compression_state_dict.bin"):
        (snap / "snapshots" / rev / f).write_bytes((models["text"] / f).read_bytes())
    engine = use("resonant/tiny-musicgen", separator="none")
    engine._models.clear()  # load it here, under the network guard
    assert "from the cache" in engine.probe()
    st = engine.generate(GenerationRequest(roles=["bass"], bars=1), None)[0]
    assert st.metadata["model"] == "resonant/tiny-musicgen" and st.audio.shape[0] == 96000
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_out_of_memory_is_a_clear_error_and_the_engine_recovers(use, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    engine = use("text", separator="none")
    req = GenerationRequest(roles=["drums", "bass"], bars=2)
    engine.generate(req, None)  # loaded
    model = next(iter(engine._models.values()))
    real = model.lm.generate

    def exhausted(*args, **kwargs):  # what torch raises when an allocation fails on the device
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(model.lm, "generate", exhausted)
    with pytest.raises(OutOfMemory, match="ran out of memory on cpu writing 2 role"):
        engine.generate(req, None)
    monkeypatch.setattr(model.lm, "generate", real)
    assert len(engine.generate(req, None)) == 2


def test_real_out_of_memory_under_a_memory_limit(models, tmp_path: Path) -> None:
    """A real allocation failure: the engine in a process whose address space is capped."""
    script = f"""
import resource, os, sys
sys.path.insert(0, {str(Path(__file__).parents[1])!r})
os.environ.update(RESONANT_MUSICGEN_MODEL={str(models['text'])!r}, RESONANT_SEPARATOR="none",
                  TORCH_HOME={os.environ['TORCH_HOME']!r}, HF_HOME={os.environ['HF_HOME']!r})
from bridge.engines import GenerationRequest, get_engine
from bridge.errors import OutOfMemory
e = get_engine("musicgen")
e.generate(GenerationRequest(roles=["drums"], bars=1), None)
vm = int(next(l for l in open("/proc/self/status") if l.startswith("VmSize")).split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + 24 * 2**20, resource.RLIM_INFINITY))
try:
    e.generate(GenerationRequest(roles=["drums", "bass", "harmony", "melody"], bars=64), None)
    print("no error")
except OutOfMemory as err:
    print("OOM:", err.code, err.message)
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print("after:", e.generate(GenerationRequest(roles=["drums"], bars=1), None)[0].audio.shape)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "OOM: out_of_memory MusicGen ran out of memory on cpu writing 4 role(s)" in out.stdout, \
        out.stdout + out.stderr[-3000:]
    assert "after: (96000, 2)" in out.stdout  # the same loaded engine works once memory is there again


def test_the_core_does_not_import_torch() -> None:
    code = ("import sys, bridge.frontends.cli.main, bridge.frontends.daemon, bridge.core.service, "
            "bridge.engines.musicgen, bridge.core.ops; "
            "from bridge.engines.registry import available_engines; assert 'musicgen' in available_engines(); "
            "print(sorted(m for m in ('torch', 'audiocraft') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_doctor_says_whether_the_engine_is_usable_and_why(models, tmp_path: Path) -> None:
    env = {**os.environ, "RESONANT_MUSICGEN_MODEL": str(models["text"]), "RESONANT_DATA_DIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "bridge.frontends.cli", "doctor"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180).stdout
    line = next(ln for ln in out.splitlines() if "engine musicgen" in ln)
    assert "usable" in line and str(models["text"]) in line and "on cpu" in line and "htdemucs" in line, out
    env["RESONANT_MUSICGEN_MODEL"] = str(tmp_path / "gone")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    line = next(ln for ln in r.stdout.splitlines() if "engine musicgen" in ln)
    assert "[--]" in line and "does not exist" in line and str(tmp_path / "gone") in line, r.stdout
    # optional while the arranger is the default; a broken install when it is the engine chosen
    assert r.returncode == (1 if "[!!]" in r.stdout else 0)  # the optional engine's [--] fails nothing
    r2 = subprocess.run(cmd, env={**env, "RESONANT_ENGINE": "musicgen"}, capture_output=True, text=True, timeout=180)
    assert r2.returncode == 1 and "[!!] engine musicgen" in r2.stdout
    # without the stack installed (hidden from this process), it says what to install
    code = ("import sys; sys.modules['audiocraft'] = None; from bridge.core.ops import doctor; "
            "print([c.detail for c in doctor() if c.name == 'engine musicgen'][0])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
    assert "needs audiocraft" in out.stdout and "scripts/install-musicgen" in out.stdout, out.stdout + out.stderr


def _finished(c, job: str, timeout: float = 240.0) -> list:
    return c.until(lambda m: m[0] == "/resonant/job/status" and m[1][0] == job and m[1][1] in ("done", "failed"),
                   timeout)[-1][1]


def test_through_the_daemon_into_a_session_ardour_loads(models, band: Path, tmp_path: Path) -> None:
    """The daemon's worker reads the engine settings from the config, keeps the model loaded
    between jobs, reports a missing model as the job's error and goes on; what it delivers loads
    in Ardour with every region where the bridge put it."""
    import json
    import shutil
    import signal
    import sqlite3

    from tests import ardour_tools
    from tests.daemon_tools import OscClient, start_daemon

    song = tmp_path / "Song"
    shutil.copytree(band, song)
    cfg = tmp_path / "resonant.toml"
    cfg.write_text(f'[engines]\ndefault = "musicgen"\nmusicgen_model = "{models["text"]}"\nseparator = "none"\n')
    env = {k: os.environ[k] for k in ("TORCH_HOME", "HF_HOME")}
    proc, port = start_daemon(tmp_path / "data", "--config", str(cfg), env=env)
    c = OscClient(port)
    try:
        c.ask("/resonant/subscribe")
        addr, (job,) = c.ask("/resonant/generate", str(song), "bass,melody", "hip hop", 4, 5, 1)
        assert addr == "/resonant/generate"
        assert _finished(c, job)[1] == "done"
        _, (job2,) = c.ask("/resonant/regenerate", str(song), "Bass", "6-7")
        assert _finished(c, job2)[1] == "done"
        with sqlite3.connect(tmp_path / "data" / "jobs.sqlite3") as db:
            rows = {r[0]: json.loads(r[1]) for r in db.execute("SELECT id, stems FROM jobs")}
        first, second = rows[job][0]["metadata"], rows[job2][0]["metadata"]
        assert first["engine"] == "musicgen" and first["model"] == str(models["text"])
        assert first["timings"]["model_load_s"] > 0 and second["timings"]["model_load_s"] == 0  # stays loaded
        assert second["regenerated_from_previous"]
    finally:
        c.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    s = read_session(song)
    tm = s.tempo_map
    bass, melody = s.track("Bass"), s.track("Melody")
    assert [r.position for r in s.regions_of(melody)] == [tm.samples_at_bar(5)]
    assert sum(r.length for r in s.regions_of(melody)) == tm.samples_at_bar(9) - tm.samples_at_bar(5)
    ardour_tools.require_ardour()
    seen = ardour_tools.dump(song, song.name)
    assert [(r["position"], r["length"]) for r in seen["Melody"]] == \
        [(r.position, r.length) for r in s.regions_of(melody)]
    assert [(r["position"], r["length"]) for r in seen["Bass"]] == [(r.position, r.length) for r in s.regions_of(bass)]

    # a daemon configured with weights that are not there: the job fails saying so, the daemon goes on
    cfg.write_text(f'[engines]\ndefault = "musicgen"\nmusicgen_model = "{tmp_path / "gone"}"\n')
    proc, port = start_daemon(tmp_path / "data2", "--config", str(cfg), env=env)
    c = OscClient(port)
    try:
        c.ask("/resonant/subscribe")
        before = ardour_tools.folder_state(song)
        _, (job,) = c.ask("/resonant/generate", str(song), "drums", "", 2, 1, 1)
        status = _finished(c, job)
        assert status[1] == "failed" and "model_not_found" in status[2] and str(tmp_path / "gone") in status[2]
        assert ardour_tools.folder_state(song) == before
        assert c.ask("/resonant/ping")[0] == "/resonant/ping"
    finally:
        c.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_the_cli_writes_stems_without_midi(models, tmp_path: Path) -> None:
    import json

    import soundfile as sf

    env = {**os.environ, "RESONANT_MUSICGEN_MODEL": str(models["text"]), "RESONANT_SEPARATOR": "none"}
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "bridge.frontends.cli", "generate", "--engine", "musicgen", "--prompt",
                        "trap 140 bpm", "--roles", "drums,bass", "--bars", "2", "--out", str(out)],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "with musicgen" in r.stdout and "not separated" in r.stdout
    summary = json.loads((out / "generation.json").read_text())
    assert summary["engine"] == "musicgen" and [s["role"] for s in summary["stems"]] == ["drums", "bass"]
    for role in ("drums", "bass"):
        data, rate = sf.read(out / f"{role}.wav")
        assert rate == 48000 and data.shape == (frames_for(2, 140, 48000), 2)
        assert not (out / f"{role}.mid").exists()
