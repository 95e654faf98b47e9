"""What the MCP tools take and return, every field described for the model that reads the schema:
what it is, its unit, and what 0 and 1 mean where a value is a 0..1 control."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

SessionPath = Annotated[str, Field(min_length=1, max_length=4096,
                                   description="The Ardour session folder, or its .ardour file")]
TrackName = Annotated[str, Field(min_length=1, max_length=64, description="A track's name, as Ardour shows it")]
JobId = Annotated[str, Field(pattern=r"^[0-9a-f]{12}$", description="A job id, as generate/regenerate returned it")]
Prompt = Annotated[str, Field(max_length=2000, description=(
    "What to write, in words: style, mood, energy, tempo, key, instruments, form (\"verse chorus\","
    " \"breakdown at bar 17\"); for a regeneration also relative to the take (\"busier\", \"more aggressive\")."
    " Empty: as the session and the previous take suggest"))]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1, description="The same seed and inputs give the same parts; change it"
                                                             " for another version")]
Temperature = Annotated[float, Field(ge=0.0, le=1.0, description=(
    "0 = the most expected choices, 1 = the most adventurous; unset = the style's own"))]
Density = Annotated[float, Field(ge=0.0, le=1.0, description=(
    "0 = sparse (few notes), 1 = busy; unset = the style's own"))]
Complexity = Annotated[float, Field(ge=0.0, le=1.0, description=(
    "0 = plain rhythms and harmony, 1 = syncopated rhythms, extended chords, more fills; unset = the style's own"))]
Swing = Annotated[float, Field(ge=0.0, le=1.0, description=(
    "0 = straight eighths/sixteenths, 1 = full triplet swing; unset = the style's own"))]
Loyalty = Annotated[float, Field(ge=0.0, le=1.0, description=(
    "How close the new take stays to the current one: 0 = a fresh part, 1 = the same notes with small changes"))]
Wait = Annotated[float, Field(ge=0.0, le=50.0, description=(
    "Seconds to wait for the job before returning (0 = at once)"))]
BarRange = Annotated[str, Field(pattern=r"^\d{1,5}-\d{1,5}$",
                                description='Bars "A-B", both included, counted from 1, e.g. "9-16"')]
Extend = Annotated[bool, Field(description="Allow bars past the end of the song: the session grows to cover them."
                                         " Without it, such bars are refused with the song's length.")]
Deliver = Literal["audio", "midi", "both"]
NewDeliver = Annotated[Deliver, Field(description=(
    "What each part becomes: audio = an audio track (the default unless the daemon's config says otherwise);"
    " midi = a MIDI track whose notes the user can edit, playing through Ardour's ACE Fluid Synth with the"
    " SoundFont the part was rendered with; both = the two (Bass and Bass MIDI). MIDI needs the arranger"
    " engine"))]
TakeDeliver = Annotated[Deliver, Field(description=(
    "What kind of take: unset = the track's own (an audio take on an audio track, a MIDI take on a MIDI"
    " track); both = also a take of the same notes on its partner track (Bass <-> Bass MIDI), made when"
    " missing; the other kind alone goes to the partner only. MIDI needs the arranger engine"))]
EngineName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$",
                                  description="arranger or musicgen (or another installed engine); unset = the"
                                              " daemon's default")]
Analyze = Annotated[bool, Field(description="Also read the key and the chord of each bar from the locked tracks"
                                            " (takes a second or two on a long song)")]
Locked = Annotated[bool, Field(description="true = lock (never changed by generation; new parts fit it),"
                                           " false = unlock; unset = leave as it is")]


class TrackInfo(BaseModel):
    name: str = Field(description="The track's name")
    kind: str = Field(description="audio or midi")
    role: str | None = Field(description="drums, bass, harmony, melody or other; None when unknown")
    role_guessed: bool = Field(description="true when the role comes from the name, not from the session")
    locked: bool = Field(description="Locked tracks are never changed by generation; new parts fit them")
    take: str | None = Field(description="The take (playlist) that plays now")
    takes: int = Field(description="How many takes the track has (see the takes tool)")
    regions: int = Field(description="Regions on the take that plays")
    first_bar: int | None = Field(description="The first bar the take sounds in (1 = the first bar); None: empty")
    last_bar: int | None = Field(description="The last bar the take sounds in, included; None: empty")


class SessionInfo(BaseModel):
    name: str = Field(description="The session's name")
    file: str = Field(description="The .ardour file read")
    sample_rate: int = Field(description="Samples per second")
    tempo_bpm: float = Field(description="The first tempo, in quarter notes per minute")
    meter: str = Field(description="The first meter, e.g. 4/4")
    tempo_changes: int = Field(description="Tempo changes after the first tempo")
    length_bars: float = Field(description="The song's length in bars (the session range)")
    tracks: list[TrackInfo] = Field(description="Every track, in Ardour's order")
    locked: list[str] = Field(description="Names of the locked tracks")
    key: str | None = Field(None, description="The key the locked pitched tracks establish (with analyze)")
    chords: list[str | None] = Field([], description="The chord of each bar from the first (with analyze); None ="
                                                     " no clear chord")
    analysis_notes: list[str] = Field([], description="What the analysis could not tell, and why")


class DeliveredTrack(BaseModel):
    track: str = Field(description="The track as Ardour named it (it may differ from what was asked)")
    take: str | None = Field(None, description="The take (playlist) that holds the new part")
    role: str | None = Field(None, description="The role of the part")
    bars: list[int] | None = Field(None, description="First and last bar the new take covers, both included")
    changed_bars: list[int] | None = Field(None, description=(
        "For a regeneration of some bars: the bars rewritten (the rest of the take is the previous one)"))
    kind: str = Field("audio", description="audio: an audio track or take; midi: a MIDI track with its instrument")


class Delivery(BaseModel):
    method: str | None = Field(None, description='"session": written into the closed session file; "ardour":'
                                                 ' imported by Ardour\'s hook into the open session; "files":'
                                                 " stems only, no session")
    tracks: list[DeliveredTrack] = Field([], description="What reached the session, per track")
    folder: str | None = Field(None, description="Where the stems are (files-only jobs)")
    note: str | None = Field(None, description="What to know about this delivery")
    warnings: list[str] = Field([], description="What went wrong without undoing the delivery")
    partial: bool = Field(False, description="true when only some stems reached the session")


class StemInfo(BaseModel):
    role: str | None = Field(description="drums, bass, harmony or melody")
    wav: str | None = Field(description="The stem's WAV file (24-bit, the session's sample rate)")
    frames: int | None = Field(description="Its length in samples")
    loudness_lufs: float | None = Field(description="Its integrated loudness (BS.1770)")
    understood: dict[str, Any] | None = Field(description="What the prompt was understood to ask, and what was not"
                                                          " understood")
    plan: dict[str, Any] | None = Field(description="The arrangement the part follows: key, chords, form")


class JobInfo(BaseModel):
    id: str = Field(description="The job id, for job_status and cancel_job")
    kind: str = Field(description="generate or regenerate")
    status: str = Field(description="pending (queued), running, delivering (writing the session), done, failed,"
                                    " cancelled")
    progress: float = Field(description="0 = just queued, 1 = finished")
    stage: str = Field(description="What the job is doing now, in words")
    session: str | None = Field(description="The session the job writes into; None = files only")
    track: str | None = Field(description="The track a regeneration rewrites")
    error: str | None = Field(description="Why it failed or was cancelled, and what reached the session")
    delivery: Delivery = Field(description="What reached the session (once done, failed part-way or recovered)")
    stems: list[StemInfo] = Field(description="The stems the job made")
    hint: str = Field(description="What to tell the user and do next")


class TakeInfo(BaseModel):
    name: str = Field(description="The take's (playlist's) name: pass it as choose")
    id: str = Field(description="Ardour's id of the playlist")
    regions: int = Field(description="Regions on it")
    active: bool = Field(description="true for the take that plays")


class TakesInfo(BaseModel):
    track: str = Field(description="The track")
    active: str | None = Field(description="The name of the take that plays")
    takes: list[TakeInfo] = Field(description="Every take of the track, oldest first")


class PreviewInfo(BaseModel):
    wav: str = Field(description="The rendered stereo WAV (in the daemon's data folder)")
    seconds: float = Field(description="Its length in seconds")
    sample_rate: int = Field(description="Samples per second")
    loudness_lufs: float | None = Field(description="Its integrated loudness (BS.1770); None for silence")
    tracks: list[str] = Field(description="The tracks it holds")


class TrackState(BaseModel):
    name: str = Field(description="The track")
    role: str | None = Field(description="Its role now")
    locked: bool = Field(description="Whether it is locked now")


class TracksInfo(BaseModel):
    tracks: list[TrackState] = Field(description="The tracks named, as they are now")
    stored: str = Field(description="Where the change was kept: in the session file (closed session) or beside it"
                                    " (Ardour has it open; it applies at once)")
