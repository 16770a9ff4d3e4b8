"""The README stays true: its first lines are the two commands, and every
setting is documented with its default."""

from pathlib import Path

from hookboard.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_first_lines_give_the_run_and_test_commands():
    head = "\n".join(README.splitlines()[:6])
    assert "bash scripts/run.sh" in head
    assert "bash scripts/test.sh" in head


def test_every_setting_is_in_the_settings_table():
    for name, field in Settings.model_fields.items():
        row = next((line for line in README.splitlines() if f"| `{name.upper()}` |" in line), None)
        assert row is not None, f"{name.upper()} is missing from the README"
        default = field.default
        if isinstance(default, bool):
            assert f"`{str(default).lower()}`" in row, name
        elif isinstance(default, int | float) and not isinstance(default, bool):
            shown = f"{default:g}" if isinstance(default, float) else str(default)
            assert f"`{shown}`" in row, name
