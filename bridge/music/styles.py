"""Style presets: what a style word brings — tempo, feel (swing, timing, dynamics), the drum kit and
its grooves per section intensity, the bass and comping vocabularies, the melody's rhythm language,
harmonic rhythm, extensions and General MIDI programs.

Drum grooves are 16 steps per 4/4 bar (``x`` accent, ``o`` normal, ``g`` ghost, ``.`` rest), one
dict per intensity: 0 = sparse (intro, break, outro), 1 = verse/build, 2 = chorus/drop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# General MIDI percussion keys (channel 10)
KICK, SIDE, SNARE, CLAP, HAT, PEDAL, OPEN_HAT, CRASH, RIDE = 36, 37, 38, 39, 42, 44, 46, 49, 51
BASS_DRUM, SPLASH, RIDE_BELL, SHAKER, TAMB, COWBELL, CRASH2 = 35, 55, 53, 70, 54, 56, 57
TOMS = (50, 48, 47, 45, 43, 41)  # high to low
Groove = dict[int, str]


@dataclass(frozen=True)
class Style:
    name: str
    bpm: float
    swing: float  # 0 straight .. 1 triplet feel, applied to every part that swings
    swing_unit: int  # 16: odd 16ths are late (hip hop, funk); 8: off-beat 8ths are late (jazz)
    grooves: tuple[Groove, Groove, Groove]  # by intensity 0, 1, 2
    bass: tuple[str, str]  # verse, chorus vocabularies (bridge.music.parts.bass)
    comping: tuple[str, str]  # verse, chorus (bridge.music.parts.comping)
    melody: str  # rhythm language (bridge.music.parts.melody)
    programs: dict[str, int]  # role -> GM program (0-based)
    # the drum kit: a program on channel 10 (GS: 8 room, 16 power, 24 electronic, 25 808, 32 jazz, 48 orchestra)
    kit: int = 0
    mode: str = "minor"  # when nothing else says
    energy: float = 0.6
    melody_density: float = 0.5  # notes per 16th step, roughly
    extensions: str = "triads"  # triads, sevenths, ninths, power
    chord_bars: int = 1  # bars per chord in the progression (2: slow harmony)
    half_bar_turnarounds: bool = True  # the last bar of a phrase may change chord at its middle
    timing_ms: float = 3.0  # humanised timing (bounded), 0 for machines
    laid_back_ms: float = 0.0  # snare and melody behind the beat
    velocity_spread: float = 8.0
    fills: bool = True
    crash: bool = True
    aliases: tuple[str, ...] = field(default_factory=tuple)


_HOUSE_0 = {KICK: "x...x...x...x...", HAT: "..o...o...o...o."}
_HOUSE_1 = {KICK: "x...x...x...x...", CLAP: "....x.......x...", OPEN_HAT: "..o...o...o...o.", HAT: "o.o.o.o.o.o.o.o."}
_HOUSE_2 = {KICK: "x...x...x...x...", CLAP: "....x.......x...", OPEN_HAT: "..x...x...x...x.",
            HAT: "oooooooooooooooo", SHAKER: "g.o.g.o.g.o.g.o."}

STYLES: dict[str, Style] = {s.name: s for s in [
    Style("techno", 128, 0.0, 16,
          ({KICK: "x...x...x...x...", HAT: "..o...o...o...o."},
           {KICK: "x...x...x...x...", CLAP: "....x.......x...", OPEN_HAT: "..o...o...o...o.", HAT: "g.g.g.g.g.g.g.g."},
           {KICK: "x...x...x...x...", CLAP: "....x.......x...", OPEN_HAT: "..x...x...x...x.",
            HAT: "gogogogogogogogo", RIDE: "o...o...o...o..."}),
          ("offbeat", "rolling"), ("stabs", "stabs"), "riff",
          {"bass": 38, "harmony": 81, "melody": 80}, kit=24, energy=0.8, melody_density=0.35, timing_ms=0.0,
          velocity_spread=4.0, chord_bars=2, half_bar_turnarounds=False, extensions="sevenths"),
    Style("house", 124, 0.1, 16, (_HOUSE_0, _HOUSE_1, _HOUSE_2),
          ("octaves", "octaves"), ("offbeat", "offbeat"), "hook",
          {"bass": 38, "harmony": 4, "melody": 81}, kit=24, mode="minor", energy=0.75, timing_ms=1.0,
          extensions="sevenths"),
    Style("hip hop", 90, 0.45, 16,
          ({KICK: "x.........x.....", HAT: "o.o.o.o.o.o.o.o."},
           {KICK: "x.....x...x.....", SNARE: "....x.......x...", HAT: "o.o.o.o.o.o.o.o."},
           {KICK: "x.....x.x.x....o", SNARE: "....x.......x...",
            HAT: "ogogogogogogogog", OPEN_HAT: "..............o."}),
          ("kick", "kick"), ("comp", "comp"), "sparse",
          {"bass": 33, "harmony": 4, "melody": 11}, kit=25, energy=0.55, extensions="sevenths", timing_ms=4.0,
          aliases=("hiphop", "hip-hop", "boom bap", "rap")),
    Style("lo-fi", 80, 0.6, 16,
          ({KICK: "x.........x.....", HAT: "o...o...o...o..."},
           {KICK: "x......x..x.....", SNARE: "....o.......o...", HAT: "o.o.o.o.o.o.o.o."},
           {KICK: "x......x..x..o..", SNARE: "....o.....g.o...",
            HAT: "ogo.ogo.ogo.ogo.", OPEN_HAT: "..............g."}),
          ("kick", "kick"), ("pad", "pad"), "lazy",
          {"bass": 32, "harmony": 4, "melody": 11}, kit=25, energy=0.35, extensions="ninths",  # an upright bass
          melody_density=0.3, timing_ms=6.0, laid_back_ms=6.0, crash=False, aliases=("lofi", "lo fi", "chillhop")),
    Style("trap", 140, 0.0, 16,
          ({HAT: "o.o.o.o.o.o.o.o."},
           {KICK: "x......x..x.....", SNARE: "........x.......", HAT: "o.o.o.o.o.o.o.o."},
           {KICK: "x......x..x...x.", SNARE: "........x.......", HAT: "xoxoxoxoxoxoxoxo", CLAP: "........x......."}),
          ("808", "808"), ("pad", "pad"), "bells",
          {"bass": 38, "harmony": 89, "melody": 10}, kit=25, energy=0.7, melody_density=0.3, timing_ms=1.0,
          chord_bars=2, half_bar_turnarounds=False),
    Style("rock", 120, 0.0, 16,
          ({KICK: "x.......x.......", HAT: "o.o.o.o.o.o.o.o."},
           {KICK: "x.......x.x.....", SNARE: "....x.......x...", HAT: "o.o.o.o.o.o.o.o."},
           {KICK: "x.......x.x.....", SNARE: "....x.......x...", RIDE: "x.o.x.o.x.o.x.o."}),
          ("root8", "pulse8"), ("power", "power"), "song",
          {"bass": 34, "harmony": 29, "melody": 30}, kit=8, mode="major", energy=0.75, extensions="power",
          timing_ms=4.0),
    Style("metal", 160, 0.0, 16,
          ({KICK: "x.......x.......", RIDE: "x...x...x...x..."},
           {KICK: "xoxoxoxoxoxoxoxo", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
           {KICK: "xoxoxoxoxoxoxoxo", SNARE: "....x.......x...", RIDE: "x.x.x.x.x.x.x.x.", CRASH: "x..............."}),
          ("gallop", "pulse8"), ("chug", "power"), "shred",
          {"bass": 34, "harmony": 30, "melody": 30}, kit=16, energy=0.95, melody_density=0.6, extensions="power",
          timing_ms=2.0, velocity_spread=12.0),
    Style("funk", 105, 0.2, 16,
          ({KICK: "x.........x.....", HAT: "xoxoxoxoxoxoxoxo"},
           {KICK: "x..x..x...x..x..", SNARE: "....x..g.g..x..g", HAT: "xoxoxoxoxoxoxoxo"},
           {KICK: "x..x..x...x..x.o", SNARE: "....x..g.g..x.gg",
            HAT: "xoxoxoxoxoxoxoxo", OPEN_HAT: "......o........."}),
          ("funk", "funk"), ("scratch", "stabs"), "funky",
          {"bass": 36, "harmony": 27, "melody": 56}, mode="minor", energy=0.7, extensions="ninths", timing_ms=3.0),
    Style("jazz", 140, 0.66, 8,
          ({RIDE: "x.......x.......", PEDAL: "....x.......x..."},
           {RIDE: "x...x.x.x...x.x.", PEDAL: "....x.......x...", KICK: "g...........g..."},
           {RIDE: "x...x.x.x...x.x.", PEDAL: "....x.......x...", KICK: "g.......g.......", SNARE: "......g.......g."}),
          ("two", "walking"), ("comp", "comp"), "bebop",
          {"bass": 32, "harmony": 0, "melody": 65}, kit=32, mode="major", energy=0.5, extensions="sevenths",
          melody_density=0.55, timing_ms=5.0, crash=False),
    Style("ambient", 70, 0.0, 16,
          ({RIDE: "........o......."}, {KICK: "x...............", RIDE: "........o......."},
           {KICK: "x.......o.......", RIDE: "o.......o.......", SHAKER: "g.g.g.g.g.g.g.g."}),
          ("pedal", "long"), ("pad", "pad"), "float",
          {"bass": 89, "harmony": 89, "melody": 88}, mode="major", energy=0.2, melody_density=0.15,
          fills=False, chord_bars=2, half_bar_turnarounds=False, extensions="ninths", timing_ms=8.0, crash=False),
    Style("drum and bass", 174, 0.0, 16,
          ({HAT: "o.o.o.o.o.o.o.o.", RIDE: "o...o...o...o..."},
           {KICK: "x.........x.....", SNARE: "....x.......x...", HAT: "o.oo.o.oo.o.oo.o"},
           {KICK: "x.........x..o..", SNARE: "....x..g....x...", HAT: "o.ooo.o.o.ooo.o.", RIDE: "o.o.o.o.o.o.o.o."}),
          ("long", "dnb"), ("pad", "pad"), "soar",
          {"bass": 38, "harmony": 89, "melody": 81}, kit=24, energy=0.85, timing_ms=1.5, chord_bars=2,
          half_bar_turnarounds=False, aliases=("dnb", "d&b", "drum & bass", "drum n bass", "jungle")),
    Style("chiptune", 150, 0.0, 16,
          ({KICK: "x.......x.......", HAT: "o.o.o.o.o.o.o.o."},
           {KICK: "x...x...x...x...", SNARE: "....x.......x...", HAT: "o.o.o.o.o.o.o.o."},
           {KICK: "x...x...x...x.x.", SNARE: "....x.......x...", HAT: "oooooooooooooooo"}),
          ("pulse8", "octaves"), ("arp", "arp"), "chip",
          {"bass": 38, "harmony": 80, "melody": 80}, kit=24, mode="major", energy=0.8, melody_density=0.6,
          timing_ms=0.0, velocity_spread=3.0, aliases=("chip", "8-bit", "8bit", "chiptunes", "video game")),
    Style("orchestral", 90, 0.0, 16,
          ({BASS_DRUM: "x...............", CRASH2: "................"},
           {BASS_DRUM: "x.......x.......", TOMS[4]: "x.........x.o...", CRASH2: "................"},
           {BASS_DRUM: "x.......x.......", TOMS[4]: "x.o.x.....x.o.o.", TOMS[3]: "....x.......x...",
            CRASH2: "x..............."}),
          ("root5", "long"), ("pad", "ostinato"), "theme",
          {"bass": 43, "harmony": 48, "melody": 73}, kit=48, mode="minor", energy=0.45, melody_density=0.3,
          timing_ms=8.0, fills=True, extensions="triads",
          aliases=("cinematic", "film score", "symphonic", "orchestra")),
]}

DEFAULT_STYLE = "house"
