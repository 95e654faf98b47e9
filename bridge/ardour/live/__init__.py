"""Ardour while it runs: which Ardour has a session open, its OSC surface, the Lua scripts and their
installer, the inbox its hook imports from, the overlay of roles and locks, and the save watcher."""
