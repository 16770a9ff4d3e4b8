# Sourced by run.sh and test.sh: installs what Hookboard needs, once, into the
# project folder (.venv for Python, .tools for Node 22 and bun), and exports
# the environment that uses them. Re-runs skip whatever is already in place.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
step() { printf '\033[1mhookboard:\033[0m %s\n' "$*"; }

PYTHON="${PYTHON:-python3}"
NODE_VERSION=22
BUN_VERSION=1.4.5

ensure_python_env() {
  if [ ! -x .venv/bin/python ]; then
    step "creating the virtual environment (.venv)"
    "$PYTHON" -m venv .venv || {
      echo "hookboard: error: '$PYTHON -m venv' failed; install python3-venv" >&2; exit 1; }
  fi
  local stamp=.venv/.hookboard-requirements
  local want; want="$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    step "installing Python packages (requirements.txt)"
    .venv/bin/python -m pip install --upgrade --quiet pip
    .venv/bin/python -m pip install --progress-bar on -r requirements.txt -c constraints.txt
    echo "$want" > "$stamp"
  fi
}

ensure_node_tools() {
  # Reflex 0.10 needs Node >= 22.22 and bun >= 1.4.4; both come from the npm
  # registry into .tools (bun's own installer downloads from the web).
  local want="node@$NODE_VERSION bun@$BUN_VERSION"
  if [ "$(cat .tools/.hookboard-stamp 2>/dev/null)" != "$want" ] \
      || [ ! -x .tools/node_modules/.bin/node ] || [ ! -x .tools/node_modules/.bin/bun ]; then
    command -v npm >/dev/null || { echo "hookboard: error: npm not found; install Node.js" >&2; exit 1; }
    step "installing Node $NODE_VERSION and bun $BUN_VERSION into .tools"
    npm install --prefix .tools --no-audit --no-fund "node@$NODE_VERSION" "bun@$BUN_VERSION"
    echo "$want" > .tools/.hookboard-stamp
  fi
}

ensure_python_env
ensure_node_tools

export PATH="$ROOT/.tools/node_modules/.bin:$ROOT/.venv/bin:$PATH"
export REFLEX_USE_SYSTEM_BUN=1
export TELEMETRY_ENABLED=false
