"""Template check + render time on adversarial request bodies.

Not a test: it prints figures. For each body (one unit repeated up to --kib KiB,
the request body limit by default) it times `check_template` followed by
`render` --reps times and prints min / median / max in milliseconds.

    .venv/bin/python bench/templating.py
    .venv/bin/python bench/templating.py --kib 24 --reps 3

To compare with another version of the module, put its checkout first on the
path: `PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/templating.py`.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

if not any(Path(entry, "hookboard").is_dir() for entry in sys.path[1:] if entry):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hookboard.domain import templating

UNITS = ["{{", "{{ a", "\\{{", "{{x}", "{{run_id}}", "plain text, no braces "]
VALUES = {"run_id": "42", "schedule_id": "7", "scheduled_for": "2026-01-01T00:00:00Z"}


def check_and_render(body: str) -> None:
    with contextlib.suppress(templating.TemplateError):
        templating.check_template(body)
    templating.render(body, {**VALUES, "attempt": "1"})


def timings_ms(body: str, reps: int) -> list[float]:
    result = []
    for _ in range(reps):
        started = time.perf_counter()
        check_and_render(body)
        result.append((time.perf_counter() - started) * 1000)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kib", type=int, default=256, help="body size in KiB (default 256)")
    parser.add_argument("--reps", type=int, default=7, help="timed runs per body (default 7)")
    args = parser.parse_args()
    size = args.kib * 1024
    print(f"module: {templating.__file__}")
    print(f"{'body':<28} {'min ms':>10} {'median ms':>10} {'max ms':>10}")
    for unit in UNITS:
        body = (unit * (size // len(unit) + 1))[:size]
        times = timings_ms(body, args.reps)
        label = f"{unit!r} x {size // len(unit)}"
        print(
            f"{label:<28} {min(times):>10.2f} {statistics.median(times):>10.2f} {max(times):>10.2f}"
        )


if __name__ == "__main__":
    main()
