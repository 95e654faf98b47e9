"""Resonant bridge: generate stems that fit the locked tracks of an Ardour session."""

__version__ = "0.1.0"
