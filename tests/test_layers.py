"""The architecture's import rules (DESIGN.md, "Layout"), checked on the source itself.

Layers point one way: ui -> services -> sync -> providers -> net/ical -> domain; store -> domain.
Only ui imports PySide6, only store imports peewee, only net (and the CalDAV provider, through the
caldav library) opens connections. No print(), no star imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "desktop" / "carecal"

# Which of Carecal's own packages each package may import (besides itself).
ALLOWED_INTERNAL: dict[str, set[str]] = {
    "domain": set(),
    "ical": {"domain"},
    "store": {"domain"},
    "net": {"domain"},
    "providers": {"domain", "ical", "net"},
    "sync": {"domain", "ical", "providers", "store"},
    "services": {"domain", "ical", "store", "sync", "providers", "net"},
    "ui": {"domain", "services", "store", "ical", "sync"},
    # The command line sits beside ui: it reaches the window only through carecal.app.
    "cli": {"domain", "services", "store", "ical", "sync"},
}
# Third-party packages only one layer may use.
OWNED_THIRD_PARTY = {
    "PySide6": {"ui"},
    "shiboken6": {"ui"},
    "qasync": {"ui"},
    "peewee": {"store"},
    "playhouse": {"store"},
    "httpx": {"net"},
    "caldav": {"providers"},
    "icalendar": {"ical"},
    "smtplib": {"net"},
}


def _modules() -> Iterator[tuple[Path, str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        layer = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        yield path, layer, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module) -> Iterator[tuple[int, str, bool]]:
    """(line, top-level module or carecal subpackage, is_star) for every import in the module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, False
        elif isinstance(node, ast.ImportFrom):
            star = any(a.name == "*" for a in node.names)
            if node.level:
                # Relative imports stay inside the package they are written in, except "..x".
                if node.level >= 2 and node.module:
                    yield node.lineno, "carecal." + node.module, star
                continue
            if node.module:
                yield node.lineno, node.module, star
                if node.module == "carecal":
                    for alias in node.names:
                        yield node.lineno, "carecal." + alias.name, star


MODULES = list(_modules())


@pytest.mark.parametrize(
    ("path", "layer", "tree"), MODULES, ids=[str(p.relative_to(PACKAGE)) for p, _, _ in MODULES]
)
def test_module_respects_layers(path: Path, layer: str, tree: ast.Module) -> None:
    problems: list[str] = []
    for line, name, star in _imports(tree):
        if star:
            problems.append(f"line {line}: star import from {name}")
        top = name.split(".")[0]
        if top == "carecal":
            parts = name.split(".")
            target = parts[1] if len(parts) > 1 else ""
            allowed = ALLOWED_INTERNAL.get(layer)
            if (
                allowed is not None
                and target in ALLOWED_INTERNAL
                and target != layer
                and target not in allowed
            ):
                problems.append(f"line {line}: {layer} must not import carecal.{target}")
        owners = OWNED_THIRD_PARTY.get(top)
        if owners is not None and layer not in owners:
            problems.append(f"line {line}: only {sorted(owners)} may import {top}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "print"
        ):
            problems.append(f"line {node.lineno}: print() (use logging, or write to a stream)")
    assert not problems, f"{path.relative_to(PACKAGE)}:\n" + "\n".join(problems)


def test_layer_table_covers_every_package() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(ALLOWED_INTERNAL), "add the new package to ALLOWED_INTERNAL"
