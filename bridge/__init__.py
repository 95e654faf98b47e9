"""Resonant bridge: generate stems that fit the locked tracks of an Ardour session."""

__version__ = "0.1.0"

from pathlib import Path

# the checkout the bridge runs from: its Ardour templates and scripts, and the systemd unit, live there
PROJECT = Path(__file__).resolve().parents[1]
