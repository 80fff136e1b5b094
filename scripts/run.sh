#!/usr/bin/env bash
# Set up (idempotently) and run bpcheck. Usage:
#   bash scripts/run.sh report [ARGS...]   set up, then `bpcheck report ARGS`
#   bash scripts/run.sh test [PYTEST ARGS] set up, then the test suite (hypothesis profile from BPCHECK_PROFILE, default ci)
#   bash scripts/run.sh bpcheck ARGS...    set up, then any bpcheck command
# Needs only python3 (3.10+) with venv and pip. Installs into .venv beside this script's repo.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
venv="$repo/.venv"
py="${PYTHON:-python3}"
stamp="$venv/.bpcheck-installed"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bpcheck: installing dependencies into $venv (torch pinned by constraints.txt) ..." >&2
  "$venv/bin/python" -m pip install -q --upgrade pip >&2 || true
  "$venv/bin/python" -m pip install -q -c constraints.txt -e ".[dev,cluster]" >&2
  echo "$want" > "$stamp"
fi
cmd="${1:-report}"; shift || true
case "$cmd" in
  report) exec "$venv/bin/bpcheck" report "$@" ;;
  test)   export BPCHECK_PROFILE="${BPCHECK_PROFILE:-ci}"; exec "$venv/bin/python" -m pytest -q "$@" ;;
  bpcheck) exec "$venv/bin/bpcheck" "$@" ;;
  *) echo "usage: bash scripts/run.sh {report|test|bpcheck} [ARGS...]" >&2; exit 2 ;;
esac
