"""Typed errors shared by every layer.

Each error carries a stable ``code`` so that adapters (OSC, MCP, CLI) can pass it on without
parsing messages, and a message written for the person or model that has to act on it.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every error the bridge reports to a caller."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SessionFileError(BridgeError):
    """The .ardour file cannot be used as it is."""

    code = "session_file"


class MalformedSession(SessionFileError):
    code = "malformed_session"


class UnsupportedVersion(SessionFileError):
    code = "unsupported_version"


class SessionNotFound(SessionFileError):
    code = "session_not_found"


class MissingSource(SessionFileError):
    code = "missing_source"


class TaintedInterchange(SessionFileError):
    code = "tainted_interchange"


class WriteRefused(BridgeError):
    """Writing would risk the user's work; nothing was written."""

    code = "write_refused"


class SessionOpenInArdour(WriteRefused):
    code = "session_open"


class PendingStateExists(WriteRefused):
    code = "pending_state"


class SessionChangedOnDisk(WriteRefused):
    code = "session_changed"


class InvalidInput(BridgeError):
    """A value given by the caller is not acceptable."""

    code = "invalid_input"


class LimitExceeded(InvalidInput):
    """More work than the bridge takes on for one request; the message names the limit and the
    setting that raises it."""

    code = "limit_exceeded"


class UnsafeName(InvalidInput):
    code = "unsafe_name"


class UnsafePath(InvalidInput):
    code = "unsafe_path"


class DuplicateName(InvalidInput):
    code = "duplicate_name"


class UnknownTrack(InvalidInput):
    code = "unknown_track"


class AudioFileError(InvalidInput):
    code = "audio_file"


class SampleRateMismatch(AudioFileError):
    code = "sample_rate_mismatch"


class EngineError(BridgeError):
    """A generation engine cannot do what was asked on this machine."""

    code = "engine_error"


class EngineUnavailable(EngineError):
    code = "engine_unavailable"


class ModelNotFound(EngineError):
    code = "model_not_found"


class UnknownModel(EngineError):
    code = "unknown_model"


class ModelUnreadable(EngineError):
    code = "model_unreadable"


class OutOfMemory(EngineError):
    code = "out_of_memory"
