"""The layout is the architecture: frontends import only the core, the core imports the parts, the
parts never import upward, nothing imports in a cycle, and there is one role list."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# how high each package sits: a module may import its own package and anything lower
LAYER = {"bridge.errors": 0, "bridge.roles": 0, "bridge": 0, "bridge.ardour": 1, "bridge.music": 1,
         "bridge.audio": 2, "bridge.engines": 3, "bridge.jobs": 4, "bridge.core": 5, "bridge.frontends": 6,
         "mcp_server": 6}
# what a frontend may use of the bridge: the core and the shared leaves
FRONTEND_ALLOWED = ("bridge.core", "bridge.errors", "bridge.roles", "bridge.frontends", "mcp_server")


def _package(mod: str) -> str:
    best = ""
    for p in LAYER:
        if (mod == p or mod.startswith(p + ".")) and len(p) > len(best):
            best = p
    return best


def _modules() -> dict[str, Path]:
    out = {}
    for p in [*ROOT.glob("bridge/**/*.py"), *ROOT.glob("mcp_server/*.py")]:
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(path: Path) -> set[str]:
    """Modules imported at run time (not those under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text())
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(n) for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in ("bridge", "mcp_server"):
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] in ("bridge", "mcp_server")}
    return found


def test_no_upward_imports_and_frontends_only_use_the_core() -> None:
    mods = _modules()
    bad = []
    for mod, path in mods.items():
        mine = _package(mod)
        for imp in _imports(path):
            target = imp if imp in mods else imp.rsplit(".", 1)[0]
            if target not in mods:
                continue
            theirs = _package(target)
            if LAYER[theirs] > LAYER[mine]:
                bad.append(f"{mod} imports {target} (upward: {mine} -> {theirs})")
            if mine in ("bridge.frontends", "mcp_server") and not target.startswith(FRONTEND_ALLOWED) \
                    and target != "bridge":
                bad.append(f"{mod} (a frontend) imports {target}, not the core")
            if LAYER[theirs] == LAYER[mine] and theirs != mine and mine not in ("bridge.frontends", "mcp_server") \
                    and LAYER[mine] > 0:
                bad.append(f"{mod} imports {target}: {mine} and {theirs} are parts beside each other")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycles() -> None:
    mods = _modules()
    graph = {m: {i if i in mods else i.rsplit(".", 1)[0] for i in _imports(p)} & set(mods) - {m}
             for m, p in mods.items()}
    # a package's __init__ importing its own submodules is how a package is built, not a cycle
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not (m.startswith(d + ".") and d in mods and mods[d].name == "__init__.py")}
    seen, stack, cycles = set(), [], []

    def visit(m: str) -> None:
        if m in stack:
            cycles.append(" -> ".join(stack[stack.index(m):] + [m]))
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for d in sorted(graph[m]):
            visit(d)
        stack.pop()

    for m in sorted(graph):
        visit(m)
    assert not cycles, "\n".join(cycles)


def test_one_role_list_and_the_lua_scripts_agree() -> None:
    from bridge.roles import GENERATED, ROLES

    copies = []
    for p in [*ROOT.glob("bridge/**/*.py"), *ROOT.glob("mcp_server/*.py")]:
        if p.name == "roles.py":
            continue
        text = p.read_text()
        if re.search(r'\(\s*"drums",\s*"bass",\s*"harmony",\s*"melody"', text):
            copies.append(str(p.relative_to(ROOT)))
    assert not copies, f"role lists outside bridge/roles.py: {copies}"
    for lua in (ROOT / "daw_templates" / "scripts").glob("*.lua"):
        m = re.search(r"ROLES\s*=\s*\{([^}]*)\}", lua.read_text())
        if m:
            assert tuple(re.findall(r'"(\w+)"', m.group(1))) in (GENERATED, ROLES), lua.name
