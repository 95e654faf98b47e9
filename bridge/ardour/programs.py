"""Ardour's programs on this machine: which majors are installed (9, 8, 7), their tools, version,
configuration folder, and how to run them.

Debian names every tool by its major (``ardour7-lua``, ``ardour8-export``, ``ardour9-new_session``) and
keeps the binaries in ``/usr/lib/ardourN`` (``hardour-8.12.0~ds``, ``ardour-9.8.0~ds``); Ardour's own
bundles put the same names in one ``bin`` folder. The newest major wins unless the user names one
(``RESONANT_ARDOUR=8``, or a path to a tool, a ``bin`` folder or an install prefix). Tests also run
Ardours that live in a Debian chroot (``ArdourInstall.root``): same paths inside, run through
``chroot``, with the folders they touch mounted at the same path.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from bridge.errors import InvalidInput

MAJORS = (9, 8, 7)  # newest first: the one a user most likely runs
TOOLS = ("lua", "new_session", "export")
_VERSIONED = re.compile(r"^h?ardour-(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class ArdourInstall:
    """One Ardour: its major, version, where its tools are, and (for tests) the chroot holding it."""

    major: int
    version: str  # "8.12.0", or the major alone when nothing tells more
    bindir: str  # where ardourN-lua & co. are (inside ``root``)
    libdir: str  # /usr/lib/ardourN: hardour-*, ardour-*, backends, surfaces
    root: str | None = None  # a chroot holding this Ardour; None = this machine

    @property
    def label(self) -> str:
        return f"Ardour {self.version}" + (f" (chroot {self.root})" if self.root else "")

    @property
    def config_name(self) -> str:
        """The per-user configuration folder's name under ``$XDG_CONFIG_HOME``."""
        return f"ardour{self.major}"

    def tool(self, name: str) -> str:
        """Path of ``ardourN-<name>`` (inside the chroot when there is one)."""
        return f"{self.bindir}/ardour{self.major}-{name}"

    def _binary(self, prefix: str) -> str | None:
        base = self._host(self.libdir)
        try:
            names = sorted(n for n in os.listdir(base) if n.startswith(prefix + "-"))
        except OSError:
            return None
        return f"{self.libdir}/{names[0]}" if names else None

    @property
    def hardour(self) -> str | None:
        """Headless Ardour with control surfaces (OSC): ``/usr/lib/ardourN/hardour-X``."""
        return self._binary("hardour")

    @property
    def gui(self) -> str | None:
        """The GUI binary itself (run with ``env()``, as Debian's ``/usr/bin/ardour`` wrapper does)."""
        return self._binary("ardour")

    def env(self) -> dict[str, str]:
        """What Debian's wrapper scripts set before running Ardour's binaries directly."""
        lib = self.libdir
        data = lib.replace("/lib/", "/share/")
        etc = "/etc/" + Path(lib).name
        return {"LD_LIBRARY_PATH": lib, "ARDOUR_DATA_PATH": data, "ARDOUR_CONFIG_PATH": etc,
                "ARDOUR_DLL_PATH": lib, "ARDOUR_SURFACES_PATH": f"{lib}/surfaces",
                "ARDOUR_BACKEND_PATH": f"{lib}/backends", "VAMP_PATH": f"{lib}/vamp", "GTK_PATH": f"{etc}:{lib}",
                "UBUNTU_MENUPROXY": ""}

    def _host(self, path: str) -> str:
        return path if self.root is None else self.root.rstrip("/") + path

    def has(self, path: str) -> bool:
        return os.access(self._host(path), os.X_OK)

    def missing_tools(self) -> list[str]:
        return [self.tool(t) for t in TOOLS if not self.has(self.tool(t))]

    def command(self, argv: list[str], env: dict[str, str] | None = None,
                base_env: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
        """``(argv, environment)`` that run ``argv`` with this Ardour: as they are on this machine, or
        inside its chroot with a clean environment that carries ``env`` (and DISPLAY/JACK settings)."""
        base = dict(os.environ if base_env is None else base_env)
        if self.root is None:
            return list(argv), {**base, **(env or {})}
        keep = {k: base[k] for k in ("DISPLAY", "JACK_DEFAULT_SERVER", "XDG_CONFIG_HOME", "HOME", "TZ") if k in base}
        inner = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": keep.pop("HOME", "/root"), **keep, **(env or {})}
        return (["chroot", self.root, "/usr/bin/env", "-i", *[f"{k}={v}" for k, v in inner.items()], *argv],
                {"PATH": base.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")})

    def to_dict(self) -> dict[str, object]:
        return {"major": self.major, "version": self.version, "lua": self.tool("lua"),
                "new_session": self.tool("new_session"), "export": self.tool("export"), "hardour": self.hardour,
                "gui": self.gui, "config": self.config_name, "root": self.root}


def _version(libdir_on_host: str, major: int) -> str:
    try:
        for name in sorted(os.listdir(libdir_on_host)):
            m = _VERSIONED.match(name)
            if m and int(m.group(1)) == major:
                return ".".join(g for g in m.groups() if g is not None)
    except OSError:
        pass
    return str(major)


def _libdir_for(bindir: str, major: int, root: str | None) -> str:
    """``/usr/lib/ardourN`` for Debian's layout; a bundle keeps its libraries beside ``bin``."""
    host = (root or "").rstrip("/")
    candidates = [f"/usr/lib/ardour{major}", str(Path(bindir).parent / "lib"),
                  str(Path(bindir).parent / "lib" / f"ardour{major}")]
    # a wrapper script names its library folder: trust what it says first
    try:
        text = Path(host + f"{bindir}/ardour{major}-lua").read_text(errors="replace")[:4000]
        m = re.search(r"LD_LIBRARY_PATH=([^:$\s\"']+)", text)
        if m:
            candidates.insert(0, m.group(1))
    except OSError:
        pass
    for c in candidates:
        if os.path.isdir(host + c):
            return c
    return candidates[-1]


def install_at(bindir: str, major: int, root: str | None = None) -> ArdourInstall:
    libdir = _libdir_for(bindir, major, root)
    return ArdourInstall(major, _version((root or "").rstrip("/") + libdir, major), bindir, libdir, root)


def installed(root: str | None = None, path: str | None = None) -> list[ArdourInstall]:
    """Every Ardour major whose tools are on ``PATH`` (or in a chroot's /usr/bin), newest first."""
    found = []
    for major in MAJORS:
        if root is not None:
            if os.access(f"{root.rstrip('/')}/usr/bin/ardour{major}-lua", os.X_OK):
                found.append(install_at("/usr/bin", major, root))
            continue
        lua = shutil.which(f"ardour{major}-lua", path=path)
        if lua:
            found.append(install_at(str(Path(lua).parent), major))
    return found


def _named(setting: str) -> ArdourInstall:
    """The Ardour a user named: a major ("8"), a tool, a bin folder or an install prefix."""
    s = setting.strip()
    if s.isdigit():
        major = int(s)
        for a in installed():
            if a.major == major:
                return a
        have = ", ".join(a.label for a in installed()) or "none"
        raise InvalidInput(f"RESONANT_ARDOUR={s}: Ardour {major} is not installed (found: {have})")
    p = Path(s).expanduser()
    if p.is_file():
        m = re.match(r"ardour(\d+)-", p.name)
        if not m:
            raise InvalidInput(f"RESONANT_ARDOUR={s}: name an ardourN-lua (or another ardourN-*) tool")
        return install_at(str(p.parent), int(m.group(1)))
    for bindir in (p, p / "bin", p / "usr" / "bin"):
        for major in MAJORS:
            if os.access(bindir / f"ardour{major}-lua", os.X_OK):
                return install_at(str(bindir), major)
    raise InvalidInput(f"RESONANT_ARDOUR={s}: no ardour7/8/9-lua there; give a major (7, 8, 9), a tool, "
                       "or the folder that holds the ardourN-* tools")


def find_ardour(setting: str | None = None) -> ArdourInstall | None:
    """The Ardour the bridge uses: the one named by ``setting`` or ``$RESONANT_ARDOUR``, else the newest
    installed. None when there is none (callers say what to install)."""
    setting = setting if setting is not None else os.environ.get("RESONANT_ARDOUR", "")
    if setting.strip():
        return _named(setting)
    found = installed()
    return found[0] if found else None



def majors_to_configure(config_home: Path) -> tuple[int, ...]:
    """The Ardour majors to install templates and scripts for: those installed here and those the user
    has a configuration folder for; all of 7, 8 and 9 when neither says (the user installs Ardour
    later). A folder is never made for a major nobody has: Ardour offers to copy an older major's
    settings only when its own folder does not exist yet."""
    have = {a.major for a in installed()} | {m for m in MAJORS if (config_home / f"ardour{m}").is_dir()}
    return tuple(sorted(have)) or tuple(sorted(MAJORS))
