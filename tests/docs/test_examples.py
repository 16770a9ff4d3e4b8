"""The examples in docs/*.md run, so that they cannot rot.

For each page, its ```bash blocks run in order as one shell script and its
```python blocks in order as one Python script, against a real API served
over HTTP with a ticker and a worker behind it. Other blocks (console, json,
javascript, yaml, ...) are shown, not run; javascript blocks are at least
parsed by Node when it is installed.

The examples address `http://localhost:3000` and send webhooks to
`https://example.com/...`: here the first becomes the test server and the
second a receiver on 127.0.0.1 (paths containing "fail" answer 500). They
also find HOOKBOARD_URL and HOOKBOARD_TOKEN (a fresh user's session) in the
environment, as the pages ask readers to set. Every curl fails the script on
an HTTP error (`--fail-with-body`), and the Python examples check statuses.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from hookboard.api.app import create_api
from hookboard.core.db import make_engine
from tests.api.support import new_user
from tests.support.api_server import serve_api
from tests.support.databases import empty_all_tables
from tests.support.engine import EngineProcesses
from tests.support.processes import PROJECT_ROOT, hookboard_env
from tests.support.receiver import Receiver

DOCS = PROJECT_ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
RUN = {"bash": "bash", "python": "python"}
DOC_BASE = "http://localhost:3000"
DOC_RECEIVER = "https://example.com"
NODE = PROJECT_ROOT / ".tools" / "node_modules" / ".bin" / "node"
SHELL_PRELUDE = """set -euo pipefail
curl() { command curl --fail-with-body "$@"; }
"""


def blocks(page: Path, language: str) -> list[tuple[int, str]]:
    """(line number, code) of each fenced block in that language."""
    text = page.read_text()
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(2))
        for match in FENCE.finditer(text)
        if match.group(1) == language
    ]


def script(page: Path, language: str, base: str, receiver: str) -> str:
    parts = [SHELL_PRELUDE] if language == "bash" else []
    comment = "#"
    for line, code in blocks(page, language):
        code = code.replace(DOC_BASE, base).replace(DOC_RECEIVER, receiver)
        parts.append(f"{comment} --- {page.name}, line {line}\n{code}")
    return "\n".join(parts)


def _answer(request):
    return (500, {}, b"failing on purpose") if "fail" in request.path else (200, {}, b"ok")


@pytest.fixture(scope="module")
def stack(sqlite_url, redis_url) -> Iterator[tuple[str, str, EngineProcesses]]:
    """(API base URL, receiver URL, engine processes) on one SQLite database."""
    with (
        Receiver(responder=_answer, record=False) as receiver,
        EngineProcesses(sqlite_url, redis_url) as engine_processes,
        serve_api(
            DATABASE_URL=sqlite_url,
            REDIS_URL=redis_url,
            QUEUE_NAME=engine_processes.queue_name,
            ALLOW_PRIVATE_TARGETS="true",
        ) as base,
    ):
        engine_processes.ticker()
        engine_processes.worker()
        yield base, receiver.url, engine_processes


CASES = [
    pytest.param(page, language, id=f"{page.stem}-{language}")
    for page in PAGES
    for language in RUN
    if blocks(page, language)
]


@pytest.mark.parametrize(("page", "language"), CASES)
def test_the_examples_run(page, language, stack, sqlite_url, redis_url, tmp_path):
    base, receiver, processes = stack
    engine = make_engine(sqlite_url)
    empty_all_tables(engine)
    # User ids start again at 1: stored Idempotency-Key answers must go too.
    redis = Redis.from_url(redis_url)
    for key in redis.scan_iter(f"{processes.queue_name}:idempotency:*"):
        redis.delete(key)
    _user_id, auth = new_user(engine, f"reader-{uuid.uuid4().hex[:6]}@example.com")
    engine.dispose()
    path = tmp_path / f"{page.stem}.{'sh' if language == 'bash' else 'py'}"
    path.write_text(script(page, language, base, receiver))
    interpreter = ["bash"] if language == "bash" else [sys.executable]
    result = subprocess.run(
        [*interpreter, str(path)],
        cwd=tmp_path,
        env=hookboard_env(
            HOOKBOARD_URL=base, HOOKBOARD_TOKEN=auth["Authorization"].removeprefix("Bearer ")
        ),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, (
        f"{page.name} ({language}) failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


def test_every_endpoint_is_in_the_api_page():
    page = (DOCS / "api.md").read_text()
    missing = [
        f"{method.upper()} {path}"
        for path, operations in create_api().openapi()["paths"].items()
        for method in operations
        if f"`{method.upper()} {path.removeprefix('/api/v1')}`" not in page
    ]
    assert not missing, f"docs/api.md lacks: {missing}"


def test_every_api_example_comes_in_curl_python_and_node():
    page = (DOCS / "api.md").read_text()
    for section in re.split(r"^### ", page, flags=re.M)[1:]:
        title = section.splitlines()[0]
        for fence in ("```bash", "```python", "```javascript"):
            assert fence in section, f"{title}: no {fence} example"


@pytest.mark.skipif(not NODE.exists() and not shutil.which("node"), reason="Node not installed")
@pytest.mark.parametrize(
    "page", [p for p in PAGES if blocks(p, "javascript")], ids=lambda p: p.stem
)
def test_the_node_examples_parse(page, tmp_path):
    node = str(NODE) if NODE.exists() else shutil.which("node")
    for line, code in blocks(page, "javascript"):  # each block alone: they share names
        path = tmp_path / f"{page.stem}-{line}.mjs"
        path.write_text(code)
        result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{page.name}, line {line}: {result.stderr}"
