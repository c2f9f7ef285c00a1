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
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
  command -v gcc >/dev/null 2>&1 || need+=(gcc python3-dev)  # builds dissector/_fastscan_src/
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/python -m ruff check .
exec .venv/bin/python -m pytest -q "$@"
