"""Measured values a test checks against its threshold, written out for the closing notes and the
docs when ``RESONANT_FIGURES`` names a file (``RESONANT_FIGURES=/tmp/f.txt scripts/test -k ...``);
nothing otherwise. The assertion stays the test's: this only says what was measured."""

from __future__ import annotations

import os


def figure(name: str, value: float | str, threshold: str = "") -> None:
    path = os.environ.get("RESONANT_FIGURES")
    if not path:
        return
    shown = f"{value:.3f}" if isinstance(value, float) else str(value)
    with open(path, "a") as f:
        f.write(f"{name}\t{shown}\t{threshold}\n")
