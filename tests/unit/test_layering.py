"""The layers, top to bottom: ui/ api/ cli/ -> services/ -> engine/ -> alerts/ ->
core/ net/ -> domain/ settings models. A module never imports a higher layer,
and the worker and the ticker never load Reflex, FastAPI, the API or the UI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "hookboard"
WEB_FRAMEWORKS = ("reflex", "fastapi", "starlette")

# What each folder must not import: folders of hookboard, or top-level packages.
FORBIDDEN = {
    "domain": {"core", "net", "engine", "alerts", "services", "api", "ui", "cli"},
    "core": {"engine", "alerts", "services", "api", "ui", "cli"},
    "net": {"engine", "alerts", "services", "api", "ui", "cli"},
    "alerts": {"engine", "services", "api", "ui", "cli"},
    "engine": {"services", "api", "ui", "cli", *WEB_FRAMEWORKS},
    "services": {"api", "ui", "cli", *WEB_FRAMEWORKS},
    "api": {"ui", "cli"},
    "ui": {"api", "cli"},
}

ENGINE_ENTRY_POINTS = [
    "hookboard.engine.worker",
    "hookboard.engine.ticker",
    "hookboard.engine.jobs",
]


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) for every import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def layer_of(module: str) -> str:
    """`hookboard.engine.jobs` -> `engine`; `fastapi.routing` -> `fastapi`."""
    parts = module.split(".")
    return parts[1] if parts[0] == "hookboard" and len(parts) > 1 else parts[0]


def broken_rules(folder: str) -> list[str]:
    forbidden = FORBIDDEN[folder]
    return [
        f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}"
        for path in sorted((PACKAGE / folder).rglob("*.py"))
        for line, module in imports_of(path)
        if layer_of(module) in forbidden
    ]


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_no_folder_imports_a_higher_layer(folder):
    assert broken_rules(folder) == []


def test_the_rules_see_imports_inside_functions(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from hookboard.api import app\n")
    assert imports_of(module) == [(2, "hookboard.api")]


def imported_modules(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(output.split())


def test_the_engine_loads_neither_reflex_nor_the_ui_nor_the_api():
    """Transitively, through every import the worker and the ticker make."""
    for entry_point in ENGINE_ENTRY_POINTS:
        modules = imported_modules(entry_point)
        assert not {m for m in modules if m == "reflex" or m.startswith("reflex.")}, entry_point
        assert not {m for m in modules if m.startswith(("hookboard.ui", "hookboard.api"))}


def test_settings_import_only_the_limits():
    """Settings load first everywhere; they may read the shared bounds and nothing else,
    except the pure allowlist parser that rejects a malformed TARGET_HOST_ALLOWLIST at startup."""
    modules = imported_modules("hookboard.settings")
    assert {m for m in modules if m.startswith("hookboard.")} == {
        "hookboard.settings",
        "hookboard.domain",
        "hookboard.domain.limits",
        "hookboard.domain.host_allowlist",
    }


def test_the_limits_import_nothing():
    assert imports_of(PACKAGE / "domain" / "limits.py") == [(7, "__future__")]
