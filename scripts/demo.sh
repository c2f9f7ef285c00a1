#!/usr/bin/env bash
# Set up mcoaviz in .venv, analyse a bundled sample capture (bindings, traffic, findings) and
# write its HTML timeline report to reports/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
# Installer chatter goes to a log; it is shown only when the installation fails.
if ! { .venv/bin/python -m pip install --quiet --upgrade pip &&
       .venv/bin/python -m pip install --quiet -e .; } >.venv/install.log 2>&1; then
  cat .venv/install.log >&2
  exit 1
fi
capture="${1:-sample-captures/figure8-rfc5648.pcapng}"
.venv/bin/mcoaviz analyse "$capture"
mkdir -p reports
report="reports/$(basename "$capture").html"
.venv/bin/mcoaviz report "$capture" -o "$report"
echo
echo "HTML report: $PWD/$report (one self-contained file; open it in any browser, it works offline)"
