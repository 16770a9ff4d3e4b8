#!/usr/bin/env bash
# Install what is missing, then run Hookboard: web + API on one port, ticker,
# worker, and a Redis of its own when REDIS_URL does not answer. Ctrl-C stops all.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec .venv/bin/python -m hookboard.cli.launcher "$@"
