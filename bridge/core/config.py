"""Configuration: a TOML file, then environment variables, then command-line flags (last wins).
The file is ``--config``, else ``$RESONANT_CONFIG``, else ``~/.config/resonant/config.toml`` (under
``$XDG_CONFIG_HOME``) when it exists: the daemon, MCP over stdio and every CLI command read the same.

    [daemon]
    bind = "127.0.0.1"      # OSC (and later MCP HTTP) listen here; local by default
    osc_port = 9123
    mcp_port = 9124          # MCP over streamable HTTP (bearer token); 0 = off
    data_dir = "~/.local/share/resonant"
    queue_size = 8           # pending jobs per device before callers are told the queue is full
    [sessions]
    roots = ["~/Music/Ardour"]   # folders the daemon may read and write; empty = anywhere
    [engines]
    default = "arranger"
    soundfont = ""           # a General MIDI .sf2; empty = the bundled TimGM6mb.sf2
    musicgen_model = "facebook/musicgen-small"   # a local folder, or a model already in the HF cache
    musicgen_device = "auto"  # auto (GPU when there is one), cpu, cuda, cuda:N
    separator = "htdemucs"   # demucs model that splits MusicGen's mixes into stems; "none" = off
    [ardour]
    osc_host = "127.0.0.1"
    osc_port = 3819
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bridge.engines.musicgen.model import MUSICGEN_DEVICES
from bridge.errors import InvalidInput


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "resonant"


DELIVER = ("audio", "midi", "both")  # a part as an audio track/take, a MIDI track with an instrument, or both
# the instrument on a new MIDI track: ACE Fluid Synth with the render's SoundFont (it sounds like the audio
# stem), or ACE Reasonable Synth (Ardour's small built-in piano-like synth, no SoundFont)
MIDI_SYNTHS = ("fluidsynth", "reasonablesynth")


@dataclass
class Config:
    bind: str = "127.0.0.1"
    osc_port: int = 9123
    data_dir: Path = field(default_factory=_default_data_dir)
    queue_size: int = 8
    session_roots: list[Path] = field(default_factory=list)
    default_engine: str = "arranger"
    soundfont: str = ""
    ardour_osc_host: str = "127.0.0.1"
    ardour_osc_port: int = 3819
    ack_timeout_s: float = 60.0
    deliver: str = "audio"  # what a part becomes in the session: audio, midi (a MIDI track) or both
    midi_synth: str = "fluidsynth"  # the instrument of a new MIDI track (MIDI_SYNTHS)
    mcp_port: int = 9124  # MCP over HTTP; 0 = off
    musicgen_model: str = ""  # empty = facebook/musicgen-small from the local cache
    musicgen_device: str = "auto"
    separator: str = "htdemucs"
    osc_allow_remote: bool = False  # OSC from other machines (no way to tell who sent it): off
    # [limits]: the most work one request may ask for (memory and time stay bounded under any input)
    limit_audio_seconds: float = 480.0  # per request: 8 minutes of song, under 1 GB (bench/hardening.py)
    limit_regions: int = 200_000  # regions of a session read at all
    limit_tracks: int = 1000  # tracks and busses of a session

    def engine_env(self) -> dict[str, str]:
        """The engine settings as the environment of the worker process, where engines read them."""
        env = {"RESONANT_SOUNDFONT": self.soundfont, "RESONANT_MUSICGEN_MODEL": self.musicgen_model,
               "RESONANT_MUSICGEN_DEVICE": self.musicgen_device, "RESONANT_SEPARATOR": self.separator}
        return {k: v for k, v in env.items() if v}

    def validate(self) -> Config:
        if not 0 <= self.osc_port <= 65535 or not 1 <= self.ardour_osc_port <= 65535 \
                or not 0 <= self.mcp_port <= 65535:
            raise InvalidInput("ports must be 0-65535 (0 = any free port)")
        if not 1 <= self.queue_size <= 1000:
            raise InvalidInput("queue_size must be 1-1000")
        if not self.bind:
            raise InvalidInput("bind address must not be empty")
        if not MUSICGEN_DEVICES.fullmatch(self.musicgen_device.strip().lower()):
            raise InvalidInput("musicgen_device must be auto, cpu, cuda or cuda:N")
        if self.deliver not in DELIVER:
            raise InvalidInput(f"[delivery] deliver must be one of {', '.join(DELIVER)}")
        if self.midi_synth not in MIDI_SYNTHS:
            raise InvalidInput(f"[delivery] midi_synth must be one of {', '.join(MIDI_SYNTHS)}")
        if not 0.1 <= self.ack_timeout_s <= 3600:
            raise InvalidInput("ack_timeout_s must be 0.1-3600 seconds")
        if not 1 <= self.limit_audio_seconds <= 24 * 3600 or not 1 <= self.limit_regions <= 10_000_000 \
                or not 1 <= self.limit_tracks <= 100_000:
            raise InvalidInput("[limits]: audio_seconds 1-86400, regions 1-10000000, tracks 1-100000")
        self.data_dir = Path(self.data_dir).expanduser()
        self.session_roots = [Path(p).expanduser() for p in self.session_roots]
        return self


_TOML_KEYS = {
    ("daemon", "bind"): "bind", ("daemon", "osc_port"): "osc_port", ("daemon", "data_dir"): "data_dir",
    ("daemon", "queue_size"): "queue_size", ("sessions", "roots"): "session_roots",
    ("engines", "default"): "default_engine", ("engines", "soundfont"): "soundfont",
    ("ardour", "osc_host"): "ardour_osc_host", ("ardour", "osc_port"): "ardour_osc_port",
    ("ardour", "ack_timeout_s"): "ack_timeout_s", ("daemon", "mcp_port"): "mcp_port",
    ("engines", "musicgen_model"): "musicgen_model", ("engines", "musicgen_device"): "musicgen_device",
    ("engines", "separator"): "separator",
    ("limits", "audio_seconds"): "limit_audio_seconds", ("limits", "regions"): "limit_regions",
    ("limits", "tracks"): "limit_tracks", ("daemon", "osc_allow_remote"): "osc_allow_remote",
    ("delivery", "deliver"): "deliver", ("delivery", "midi_synth"): "midi_synth",
}
_ENV = {"RESONANT_BIND": "bind", "RESONANT_OSC_PORT": "osc_port", "RESONANT_MCP_PORT": "mcp_port",
        "RESONANT_DATA_DIR": "data_dir",
        "RESONANT_SESSION_ROOTS": "session_roots", "RESONANT_ENGINE": "default_engine",
        "RESONANT_SOUNDFONT": "soundfont", "RESONANT_ACK_TIMEOUT_S": "ack_timeout_s",
        "RESONANT_MUSICGEN_MODEL": "musicgen_model", "RESONANT_MUSICGEN_DEVICE": "musicgen_device",
        "RESONANT_SEPARATOR": "separator", "RESONANT_DELIVER": "deliver", "RESONANT_MIDI_SYNTH": "midi_synth"}


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Config)}[name]
    try:
        if name == "session_roots":
            items = value.split(":") if isinstance(value, str) else list(value)
            return [Path(p) for p in items if p]
        if name == "data_dir":
            return Path(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if str(value).strip().lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).strip().lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if kind == "float":
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"config value {name}={value!r} has the wrong type") from None


def default_config_file(env: dict[str, str] | None = None) -> Path | None:
    """The config file every entry point reads when none is named: ``$RESONANT_CONFIG``, else
    ``$XDG_CONFIG_HOME/resonant/config.toml`` (``~/.config/resonant/config.toml``) when it exists."""
    env = os.environ if env is None else env
    if env.get("RESONANT_CONFIG"):
        return Path(env["RESONANT_CONFIG"]).expanduser()
    base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    p = base / "resonant" / "config.toml"
    return p if p.is_file() else None


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None,
                **overrides: Any) -> Config:
    """Settings: the config file (``path``, else the default one), then ``RESONANT_*`` variables, then
    ``overrides`` (command-line flags); the last wins."""
    cfg = Config()
    if path is None:
        path = default_config_file(env)
    if path is not None:
        p = Path(path).expanduser()
        try:
            data = tomllib.loads(p.read_text())
        except OSError as e:
            raise InvalidInput(f"cannot read config {p}: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise InvalidInput(f"config {p} is not valid TOML: {e}") from None
        for section, table in data.items():
            if not isinstance(table, dict):
                raise InvalidInput(f"config {p}: [{section}] must be a table")
            for key, value in table.items():
                name = _TOML_KEYS.get((section, key))
                if name is None:
                    raise InvalidInput(f"config {p}: unknown setting {section}.{key}")
                setattr(cfg, name, _coerce(name, value))
    env = os.environ if env is None else env
    for var, name in _ENV.items():
        if env.get(var):
            setattr(cfg, name, _coerce(name, env[var]))
    for name, value in overrides.items():
        if value is not None:
            setattr(cfg, name, _coerce(name, value))
    return cfg.validate()
