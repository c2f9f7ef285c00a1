#!/usr/bin/env bash
# Install everything the tests need, then run them. Used by .ci/run and by developers.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
  need=()
  command -v tshark >/dev/null 2>&1 || need+=(tshark)
  command -v tmux >/dev/null 2>&1 || need+=(tmux)
  command -v dumpcap >/dev/null 2>&1 || need+=(wireshark-common)  # mcoaviz live (tests/cli/test_live_netns.py)
  command -v ip >/dev/null 2>&1 || need+=(iproute2)                # network namespaces + veth for those tests
  command -v ps >/dev/null 2>&1 || need+=(procps)
  # the report's browser test drives Debian's chromium through Playwright (Playwright's own
  # browser download is not used); fonts-liberation gives its screenshots readable text
  command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-liberation)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
  command -v gcc >/dev/null 2>&1 || need+=(gcc python3-dev)  # builds dissector/_fastscan_src/
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test,png]'
.venv/bin/python -m ruff check .
.venv/bin/python -m mypy  # dissector/ and mcoaviz/, configured in pyproject.toml
# The C accelerator's tests once more against an AddressSanitizer + UBSan build of it.
PYTHON=.venv/bin/python bash scripts/sanitize.sh
exec .venv/bin/python -m pytest -q "$@"
