"""Stems as files, made in this process (``resonant generate``): the same request, context and stem
writer as a job's, into a folder of the caller's, with ``generation.json`` saying what was made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bridge.errors import InvalidInput


def generate_to_folder(out: Path, roles: list[str], session_file: str | None, force: bool, progress,
                       request: dict[str, Any], roots: list[Path] | None = None) -> dict[str, Any]:
    from bridge.ardour import read_session
    from bridge.engines import get_engine
    from bridge.engines.context import context_for
    from bridge.jobs.generation import request_from, write_stems

    req = request_from({"roles": list(roles), **request}).validate()
    targets = [out / f"{r}.{ext}" for r in roles for ext in ("wav", "mid")] + [out / "generation.json"]
    clash = [p.name for p in targets if p.exists()]
    if clash and not force:
        raise InvalidInput(f"{out} already holds {', '.join(clash)}; pass --force to replace them")
    context = None
    if session_file:
        session = read_session(session_file, roots or None)
        req.sample_rate = session.sample_rate
        context = context_for(session, req)
    engine = get_engine(req.engine)
    stems = engine.generate(req, context, progress or (lambda f, s: None))
    written = write_stems(out, stems)
    summary = {"ok": True, "engine": engine.name, "out": str(out),
               "stems": [{**st.info(), **{k: w[k] for k in ("wav", "mid") if w.get(k)}}
                         for st, w in zip(stems, written, strict=True)]}
    (out / "generation.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary
