#!/usr/bin/env bash
# Install what is missing, then check style (ruff) and run the whole test suite
# against a real Redis, SQLite and PostgreSQL (skipped, and said so, when no
# PostgreSQL answers). Extra arguments go to pytest. The tests run in
# TEST_WORKERS pytest-xdist processes (default 2; 0 runs them in this one): each
# worker has its own Redis database, SQLite file and PostgreSQL database, and
# a test file runs whole in one worker, and the tests that build the dashboard
# all in one (tests/conftest.py).
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
bash scripts/ensure_chromium.sh  # for tests/e2e (Debian's Chromium, installed as root)

step "checking lint and format (ruff)"
ruff check .
ruff format --check .

step "running tests"
set +e
python -m pytest -n "${TEST_WORKERS:-2}" "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  # pytest's "no tests collected": fine for a filtered run, a defect for the suite.
  if [ "$#" -gt 0 ]; then echo "hookboard: no test matched the selection"; exit 0; fi
  echo "hookboard: error: the suite collected no tests" >&2
  exit 1
fi
exit "$status"
