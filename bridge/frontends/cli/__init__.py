"""``resonant``, the command line: it translates arguments into calls of ``bridge.core`` and prints
the results (``main`` builds the parser, ``live`` holds the commands that talk to the daemon's work)."""

from bridge.frontends.cli.main import main

__all__ = ["main"]
