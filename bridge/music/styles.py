"""Style presets: the defaults a prompt's style word brings (tempo, swing, drum patterns, how each
role plays, General MIDI programs). Patterns are 16 steps per 4/4 bar: ``x`` accent, ``o`` soft
hit, ``.`` rest."""

from __future__ import annotations

from dataclasses import dataclass, field

# General MIDI percussion keys (channel 10)
KICK, SIDE, SNARE, CLAP, HAT, PEDAL, OPEN_HAT, CRASH, RIDE = 36, 37, 38, 39, 42, 44, 46, 49, 51
TOMS = (50, 47, 45, 43)


@dataclass(frozen=True)
class Style:
    name: str
    bpm: float
    swing: float  # 0 straight .. 1 triplet feel (odd 16ths delayed)
    drums: dict[int, str]  # GM key -> 16-step pattern
    bass: str  # pulse8, offbeat, kick, funk, walking, long
    harmony: str  # pad, offbeat, stabs, comp, power, arp
    programs: dict[str, int]  # role -> GM program (0-based)
    mode: str = "minor"  # when nothing else says
    energy: float = 0.6
    melody_density: float = 0.5  # notes per 16th step, roughly
    sevenths: bool = False
    fills: bool = True
    aliases: tuple[str, ...] = field(default_factory=tuple)


STYLES: dict[str, Style] = {s.name: s for s in [
    Style("techno", 128, 0.0, {KICK: "x...x...x...x...", CLAP: "....x.......x...", OPEN_HAT: "..x...x...x...x.",
                               HAT: "o.o.o.o.o.o.o.o."},
          "offbeat", "stabs", {"bass": 38, "harmony": 81, "melody": 80}, energy=0.8, melody_density=0.35),
    Style("house", 124, 0.1, {KICK: "x...x...x...x...", CLAP: "....x.......x...", OPEN_HAT: "..x...x...x...x.",
                              HAT: "oooooooooooooooo"},
          "offbeat", "offbeat", {"bass": 38, "harmony": 4, "melody": 81}, mode="minor", energy=0.75),
    Style("hip hop", 90, 0.45, {KICK: "x.....x...x.....", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
          "kick", "comp", {"bass": 33, "harmony": 4, "melody": 11}, energy=0.55, sevenths=True,
          aliases=("hiphop", "hip-hop", "boom bap", "rap")),
    Style("lo-fi", 80, 0.6, {KICK: "x......x..x.....", SNARE: "....o.......o...", HAT: "o.o.o.o.o.o.o.o."},
          "kick", "pad", {"bass": 33, "harmony": 4, "melody": 11}, energy=0.35, sevenths=True,
          melody_density=0.3, aliases=("lofi", "lo fi", "chillhop")),
    Style("trap", 140, 0.0, {KICK: "x......x..x.....", SNARE: "........x.......", HAT: "xoxoxoxoxoxoxoxo"},
          "kick", "pad", {"bass": 38, "harmony": 89, "melody": 10}, energy=0.7, melody_density=0.3),
    Style("rock", 120, 0.0, {KICK: "x.......x.x.....", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
          "pulse8", "power", {"bass": 34, "harmony": 29, "melody": 30}, mode="major", energy=0.75),
    Style("metal", 160, 0.0, {KICK: "xoxoxoxoxoxoxoxo", SNARE: "....x.......x...", RIDE: "x.x.x.x.x.x.x.x."},
          "pulse8", "power", {"bass": 34, "harmony": 30, "melody": 30}, energy=0.95, melody_density=0.6),
    Style("funk", 105, 0.2, {KICK: "x..x..x...x..x..", SNARE: "....x..o.o..x..o", HAT: "xoxoxoxoxoxoxoxo"},
          "funk", "stabs", {"bass": 36, "harmony": 27, "melody": 56}, mode="minor", energy=0.7, sevenths=True),
    Style("jazz", 140, 0.66, {RIDE: "x..ox..ox..ox..o", PEDAL: "....x.......x...", KICK: "o..............."},
          "walking", "comp", {"bass": 32, "harmony": 0, "melody": 65}, mode="major", energy=0.5,
          sevenths=True, melody_density=0.55),
    Style("ambient", 70, 0.0, {KICK: "x...............", RIDE: "........o......."},
          "long", "pad", {"bass": 89, "harmony": 89, "melody": 88}, mode="major", energy=0.2,
          melody_density=0.15, fills=False),
    Style("drum and bass", 174, 0.0, {KICK: "x.........x.....", SNARE: "....x.......x...", HAT: "x.xxx.x.x.xxx.x."},
          "pulse8", "pad", {"bass": 38, "harmony": 89, "melody": 81}, energy=0.85,
          aliases=("dnb", "d&b", "drum & bass", "drum n bass", "jungle")),
    Style("chiptune", 150, 0.0, {KICK: "x...x...x...x...", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
          "pulse8", "arp", {"bass": 38, "harmony": 80, "melody": 80}, mode="major", energy=0.8,
          melody_density=0.6, aliases=("chip", "8-bit", "8bit", "chiptunes", "video game")),
    Style("orchestral", 90, 0.0, {KICK: "x.......x.......", CRASH: "x..............."},
          "long", "pad", {"bass": 43, "harmony": 48, "melody": 73}, mode="minor", energy=0.45,
          melody_density=0.3, fills=False, aliases=("cinematic", "film score", "symphonic", "orchestra")),
]}

DEFAULT_STYLE = "house"
