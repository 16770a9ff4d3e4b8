"""Dashboard benchmark: how long the logs page takes to show its first page, in Chromium.

Not a test: it prints figures. It

* creates a fresh database (PostgreSQL `hookboard_apibench_<random>`, dropped at the
  end, or a SQLite file) with one user and --runs runs spread over --schedules paused
  schedules, bulk-inserted as bench/api.py does (COPY / multi-row INSERT);
* starts Hookboard exactly as the README does (`bash scripts/run.sh`, its own Redis);
* opens Debian's Chromium (headless, Playwright) signed in as that user (the session
  token in localStorage, as the login page leaves it) and measures, --repeat times:
    - load:     a full page load of /logs until the first page of runs is on screen
                (performance.now() at the first visible row: navigation start to paint);
    - navigate: from the overview, a click on "Logs" in the sidebar until its rows show;
    - older:    a click on "Older" until the next page's rows replace the first;
    - filtered: /logs?status=failed loaded until its first row shows.

    .venv/bin/python bench/dashboard.py                      # PostgreSQL, 100,000 runs
    .venv/bin/python bench/dashboard.py --database sqlite --repeat 10

Target: the first page in under 1 s with 100,000 runs for the user.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from datetime import UTC, datetime, timedelta  # noqa: E402

from sqlalchemy import func, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.api import (  # noqa: E402
    ADMIN_URL,
    PASSWORD_HASH,
    Database,
    create_schedules,
    create_user,
    insert_runs,
    log,
)
from hookboard.core.db import make_engine  # noqa: E402
from hookboard.domain.tokens import new_session_token  # noqa: E402
from hookboard.models import AuthSession, Run, User  # noqa: E402
from hookboard.services import crud  # noqa: E402
from tests.e2e.app import CHROMIUM, CHROMIUM_ARGS, DESKTOP, start_app, stop_app  # noqa: E402

FIRST_ROW = "tr.run-row"
TIMEOUT_MS = 60_000


def empty_user(engine) -> str:
    """A second user with no runs at all: the control for what the 100,000 runs cost."""
    issued = new_session_token()
    with Session(engine) as session:
        user = User(email="empty@example.com", password_hash=PASSWORD_HASH)
        session.add(user)
        session.flush()
        crud.create_workspace(
            session, name=crud.PERSONAL_WORKSPACE_NAME, owner_id=user.id, personal=True
        )
        session.add(
            AuthSession(
                user_id=user.id,
                token_hash=issued.token_hash,
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
        session.commit()
    return issued.token


def signed_in_page(browser, token: str):
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(f"localStorage.setItem('hookboard_session', {token!r})")
    return context.new_page()


def shell_ms(page) -> float:
    """DOMContentLoaded of the current document: the page's code, before any data."""
    return page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def first_row_ms(page) -> float:
    """Milliseconds from this document's navigation start to its first visible run row."""
    page.wait_for_selector(FIRST_ROW, state="visible", timeout=TIMEOUT_MS)
    return page.evaluate("performance.now()")


def measure_load(page, url: str, selector: str = FIRST_ROW) -> float:
    page.goto(url, wait_until="commit")
    page.wait_for_selector(selector, state="visible", timeout=TIMEOUT_MS)
    return page.evaluate("performance.now()")


def measure_navigate(page, base: str) -> float:
    page.goto(base + "/", wait_until="networkidle")
    # The overview's own figures first: events of one tab run one after another.
    page.wait_for_function(
        "document.querySelector('#stat-runs')?.textContent.match(/\\d/)", timeout=TIMEOUT_MS
    )
    began = page.evaluate("performance.now()")
    page.get_by_role("link", name="Logs", exact=True).click()
    return first_row_ms(page) - began


def measure_older(page, base: str) -> float:
    page.goto(base + "/logs", wait_until="commit")
    first_row_ms(page)
    newest = page.locator(FIRST_ROW).first.locator("a").first.inner_text()
    began = page.evaluate("performance.now()")
    page.click("#older-page")
    page.wait_for_function(
        f"document.querySelector('{FIRST_ROW} a')?.textContent !== {newest!r}",
        timeout=TIMEOUT_MS,
    )
    return page.evaluate("performance.now()") - began


def summary(values: list[float]) -> str:
    return (
        f"min {min(values):7.0f}  median {statistics.median(values):7.0f}  "
        f"max {max(values):7.0f}  ms"
    )


def bench(args, db: Database, workdir: Path) -> None:
    from playwright.sync_api import sync_playwright

    engine = make_engine(db.url)
    workspace_id, token = create_user(engine)
    schedule_ids = create_schedules(engine, workspace_id, args.schedules)
    log(f"inserting {args.runs:,} runs ...")
    seconds = insert_runs(db, engine, workspace_id, schedule_ids, args.runs)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Run.__table__)).scalar_one()
    empty_token = empty_user(engine)
    engine.dispose()
    log(f"{count:,} runs in {seconds:.1f} s; starting Hookboard (bash scripts/run.sh)")
    process, base, _ = start_app(
        workdir / "data", DATABASE_URL=db.url, QUEUE_NAME="hb-dashbench", LOG_LEVEL="ERROR"
    )
    results: dict[str, list[float]] = {
        "load": [],
        "shell": [],
        "empty": [],
        "navigate": [],
        "older": [],
        "filtered": [],
    }
    loads = [load_average()]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            page = signed_in_page(browser, token)
            control = signed_in_page(browser, empty_token)
            measure_load(page, base + "/logs")  # warm-up: the first load compiles the code
            measure_load(control, base + "/logs", "#no-runs")
            for n in range(args.repeat):
                results["load"].append(measure_load(page, base + "/logs"))
                results["shell"].append(shell_ms(page))
                results["empty"].append(measure_load(control, base + "/logs", "#no-runs"))
                results["navigate"].append(measure_navigate(page, base))
                results["older"].append(measure_older(page, base))
                results["filtered"].append(measure_load(page, base + "/logs?status=failed"))
                log(f"round {n + 1}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in results.items()))
            if args.screenshot:
                page.goto(base + "/", wait_until="networkidle")
                page.screenshot(path=args.screenshot, full_page=True)
            browser.close()
    finally:
        stop_app(process)
    loads.append(load_average())
    print()
    print(
        f"Logs page with {count:,} runs for one user ({db.kind}), Chromium headless, "
        f"{args.repeat} rounds after a warm-up; load average {loads[0]} before, "
        f"{loads[1]} after (2 cores):"
    )
    labels = {
        "load": "full page load to first page",
        "shell": "  of which page code (DCL)",
        "empty": "same page, a user with no run",
        "navigate": "sidebar click to first page",
        "older": "'Older' click to next page",
        "filtered": "load with status=failed",
    }
    for name, values in results.items():
        verdict = ""
        if name == "load":
            met = statistics.median(values) < 1000
            verdict = "  target: median < 1000 ms " + ("ok" if met else "MISS")
        print(f"  {labels[name]:<30} {summary(values)}{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_DATABASE_URL", ADMIN_URL))
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--schedules", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--screenshot", help="also save the overview with this data here")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit("Chromium is missing: run scripts/ensure_chromium.sh (as root)")
    with (
        tempfile.TemporaryDirectory(prefix="hookboard-dashbench-") as tmp,
        Database.create(args.database, args.admin_url, Path(tmp)) as db,
    ):
        bench(args, db, Path(tmp))


if __name__ == "__main__":
    main()
