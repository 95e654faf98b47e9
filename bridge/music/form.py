"""The form of a song: which section every bar is in, and how much energy each section has.

The form comes, in this order, from the session's own markers and ranges named like sections (Ardour
location markers such as "Verse", "Chorus 2", "Drop"), from the prompt ("verse chorus verse",
"breakdown at bar 17", "build up"), and from the style's default for the song's length. It covers
the whole song, so that a part written for bars 9-12 knows it is in the chorus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# what each section kind does to the arrangement, 0..1 (the mix level follows it)
ENERGY = {"intro": 0.3, "verse": 0.55, "pre": 0.68, "chorus": 0.9, "bridge": 0.5, "solo": 0.75,
          "outro": 0.35, "build": 0.65, "drop": 1.0, "break": 0.3}
_ALIASES = {
    "intro": ("intro", "introduction", "opening"), "verse": ("verse", "strophe", "a section", "head"),
    "pre": ("pre-chorus", "pre chorus", "prechorus", "pre"), "chorus": ("chorus", "refrain", "hook"),
    "bridge": ("bridge", "middle eight", "middle 8", "b section"), "solo": ("solo", "interlude", "instrumental"),
    "outro": ("outro", "ending", "coda", "end"), "build": ("build", "build up", "build-up", "buildup", "rise", "riser"),
    "drop": ("drop",), "break": ("break", "breakdown", "break down"),
}
SONG = ("intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro")
CLUB = ("intro", "build", "drop", "break", "build", "drop", "outro")
CLUB_STYLES = {"techno", "house", "drum and bass", "trap"}


@dataclass(frozen=True, slots=True)
class Section:
    kind: str  # a key of ENERGY
    first_bar: int  # bar numbers of the song (1 = the first)
    bars: int
    label: str  # as a musician reads it: "Chorus 2", or the marker's own name
    occurrence: int = 1  # the n-th section of this kind

    @property
    def last_bar(self) -> int:
        return self.first_bar + self.bars - 1

    @property
    def energy(self) -> float:
        return ENERGY[self.kind]


@dataclass
class Form:
    sections: list[Section]
    source: str  # "markers", "prompt" or "style"

    def at(self, bar: int) -> Section:
        """The section of song bar ``bar`` (bars past the form belong to its last section)."""
        for s in self.sections:
            if s.first_bar <= bar <= s.last_bar:
                return s
        return self.sections[-1] if bar > self.sections[-1].last_bar else self.sections[0]

    def position(self, bar: int) -> tuple[Section, int]:
        """The section and the bar's index inside it (0 = its first bar)."""
        s = self.at(bar)
        return s, max(0, bar - s.first_bar)

    def summary(self) -> list[dict]:
        return [{"section": s.label, "kind": s.kind, "bars": [s.first_bar, s.last_bar]} for s in self.sections]


def section_kind(name: str) -> str | None:
    """The section kind a marker or word names ("Chorus 2" -> chorus), or None."""
    text = re.sub(r"[\d#._\-]+", " ", name.lower()).strip()
    text = " ".join(text.split())
    for kind, words in sorted(_ALIASES.items(), key=lambda kv: -max(len(w) for w in kv[1])):
        for w in sorted(words, key=len, reverse=True):
            if text == w or text.startswith(w + " ") or text.endswith(" " + w):
                return kind
    return None


def _numbered(sections: list[tuple[str, int, int, str | None]]) -> list[Section]:
    seen: dict[str, int] = {}
    out = []
    for kind, first, bars, label in sections:
        seen[kind] = seen.get(kind, 0) + 1
        n = seen[kind]
        out.append(Section(kind, first, bars, label or (kind.capitalize() + (f" {n}" if n > 1 else "")), n))
    return out


def from_markers(markers: list[tuple[str, int]], total_bars: int) -> Form | None:
    """Sections from (name, bar) markers named like sections; each runs to the next marker."""
    named = sorted((bar, name, section_kind(name)) for name, bar in markers)
    named = [(b, n, k) for b, n, k in named if k is not None and 1 <= b <= total_bars]
    if not named:
        return None
    spans = []
    if named[0][0] > 1:  # before the first marker: an intro (or the first section's kind)
        spans.append(("intro", 1, named[0][0] - 1, None))
    for i, (bar, name, kind) in enumerate(named):
        end = named[i + 1][0] - 1 if i + 1 < len(named) else total_bars
        if end >= bar:
            spans.append((kind, bar, end - bar + 1, name))
    return Form(_numbered(spans), "markers")


def _fit(kinds: list[str], total: int, lengths: dict[str, int]) -> list[tuple[str, int, int, None]]:
    """Lay kinds out over ``total`` bars in phrase lengths: sections are dropped from the end of the
    middle (never the first or last) while the song is too long, neighbours of one kind merge, then
    sections halve; spare bars go to choruses, drops and verses in phrases of 4, the rest to the end."""
    kinds = list(kinds)
    bars = [lengths.get(k, 8) for k in kinds]

    def merge() -> None:
        i = 1
        while i < len(kinds):
            if kinds[i] == kinds[i - 1]:
                bars[i - 1] += bars.pop(i)
                kinds.pop(i)
            else:
                i += 1

    while sum(bars) > total and len(kinds) > 4:  # a long form for a short song: fewer sections first
        i = len(kinds) - 2
        kinds.pop(i)
        bars.pop(i)
        merge()
    while sum(bars) > total and max(bars) > 4:  # then shorter ones, the longest first
        i = bars.index(max(bars))
        bars[i] -= 4
    while sum(bars) > total and len(kinds) > 2:
        i = len(kinds) - 2
        kinds.pop(i)
        bars.pop(i)
        merge()
    while sum(bars) > total and max(bars) > 2:
        i = bars.index(max(bars))
        bars[i] //= 2
    while sum(bars) > total:
        kinds.pop()
        bars.pop()
    grow = [k for k in range(len(kinds)) if kinds[k] in ("chorus", "drop", "verse")] or list(range(len(kinds)))
    i = 0
    while total - sum(bars) >= 4:
        bars[grow[i % len(grow)]] += 4
        i += 1
    bars[-1] += total - sum(bars)
    out, at = [], 1
    for k, n in zip(kinds, bars, strict=True):
        out.append((k, at, n, None))
        at += n
    return out


def default_form(style: str, total: int) -> Form:
    """The style's form for a song of ``total`` bars."""
    if total <= 4:
        return Form(_numbered([("verse", 1, total, None)]), "style")
    if total <= 8:
        first = "build" if style in CLUB_STYLES else "verse"
        second = "drop" if style in CLUB_STYLES else "chorus"
        return Form(_numbered([(first, 1, total // 2, None), (second, 1 + total // 2, total - total // 2, None)]),
                    "style")
    if style in CLUB_STYLES:
        kinds, lengths = list(CLUB), {"intro": 8, "build": 8, "drop": 16, "break": 8, "outro": 8}
        if total <= 16:
            kinds, lengths = ["build", "drop"], {"build": total // 2}
        elif total <= 32:
            kinds = ["intro", "build", "drop", "break", "drop"]
            lengths = {"intro": 4, "build": 4, "drop": 8, "break": 8}
    elif style == "ambient" or style == "orchestral":
        kinds, lengths = ["intro", "verse", "chorus", "bridge", "chorus", "outro"], {"intro": 4, "outro": 4}
    else:
        kinds, lengths = list(SONG), {"intro": 4, "outro": 4, "bridge": 8, "verse": 8, "chorus": 8}
        if total <= 16:
            kinds, lengths = ["verse", "chorus"], {"verse": total // 2}
        elif total <= 24:
            kinds, lengths = ["intro", "verse", "chorus", "outro"], {"intro": 4, "outro": 4}
        elif total <= 40:
            kinds, lengths = ["intro", "verse", "chorus", "verse", "chorus"], {"intro": 4, "verse": 8, "chorus": 8}
            if total < 36:  # the second verse and chorus are the shorter ones
                rest = total - 20
                second = [("verse", rest - 8), ("chorus", 8)] if rest >= 12 else [("verse", 4), ("chorus", rest - 4)]
                spans, at = [("intro", 1, 4, None), ("verse", 5, 8, None), ("chorus", 13, 8, None)], 21
                for kind, n in second:
                    spans.append((kind, at, n, None))
                    at += n
                return Form(_numbered(spans), "style")
    return Form(_numbered(_fit(kinds, total, lengths)), "style")


_AT_BAR = re.compile(r"([a-z][a-z \-]*?)\s+(?:at|from|on)\s+bar\s+(\d{1,4})")


def from_prompt(prompt: str, total: int) -> Form | None:
    """A form the prompt spells out: a sequence of section words ("intro verse chorus verse chorus"),
    or sections placed at bars ("breakdown at bar 17"); None when it names no form."""
    text = " ".join(prompt.lower().replace(",", " ").split())
    placed = [(int(b), section_kind(w.split()[-1]) or section_kind(w)) for w, b in _AT_BAR.findall(text)]
    placed = [(b, k) for b, k in placed if k is not None and 1 <= b <= total]
    if placed:
        base = default_form("", total)
        starts = sorted([(s.first_bar, s.kind) for s in base.sections
                         if all(abs(s.first_bar - b) >= 4 for b, _ in placed)] + placed)
        spans = [(k, b, (starts[i + 1][0] if i + 1 < len(starts) else total + 1) - b, None)
                 for i, (b, k) in enumerate(starts)]
        return Form(_numbered(spans), "prompt")
    words = re.findall(r"[a-z][a-z\-]*", text)
    kinds = []
    for i, w in enumerate(words):
        two = " ".join(words[i:i + 2])
        k = section_kind(two) if two in {a for al in _ALIASES.values() for a in al} else None
        k = k or (section_kind(w) if w in {a for al in _ALIASES.values() for a in al} else None)
        # "end", "hook" and the like are too common as plain words to name a section
        if k and w not in ("end", "pre", "head", "hook", "rise") and (not kinds or kinds[-1] != k):
            kinds.append(k)
    if "build up" in text or "build-up" in text or "buildup" in text:
        kinds = kinds if len(kinds) >= 2 else []
        if not kinds:
            return Form(_numbered([("build", 1, max(1, total // 2), None),
                                   ("drop" if total > 1 else "build", 1 + total // 2, total - total // 2, None)]
                                  if total > 1 else [("build", 1, 1, None)]), "prompt")
    if len(kinds) < 2:
        return None
    lengths = {"intro": 4, "outro": 4, "pre": 4, "build": 4}
    # equal phrases where the prompt says nothing about lengths
    return Form(_numbered(_fit(kinds, total, lengths)), "prompt")


def choose_form(style: str, total: int, markers: list[tuple[str, int]] | None, prompt: str) -> Form:
    """Markers, then the prompt, then the style (see the module's docstring)."""
    if markers:
        f = from_markers(markers, total)
        if f is not None:
            return f
    f = from_prompt(prompt, total)
    return f if f is not None else default_form(style, total)
