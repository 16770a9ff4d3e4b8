"""The worker and the ticker never import Reflex or the UI; lower layers never
import higher ones."""

import subprocess
import sys

from tests.support.processes import PROJECT_ROOT

ENGINE_ENTRY_POINTS = [
    "hookboard.engine.worker",
    "hookboard.engine.ticker",
    "hookboard.engine.jobs",
]


def imported_modules(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    return set(output.split())


def test_the_engine_imports_neither_reflex_nor_the_ui_nor_the_api():
    for entry_point in ENGINE_ENTRY_POINTS:
        modules = imported_modules(entry_point)
        assert not {m for m in modules if m == "reflex" or m.startswith("reflex.")}, entry_point
        assert not {m for m in modules if m.startswith(("hookboard.ui", "hookboard.api"))}


def test_settings_import_nothing_from_hookboard():
    modules = imported_modules("hookboard.settings")
    assert {m for m in modules if m.startswith("hookboard.")} == {"hookboard.settings"}
