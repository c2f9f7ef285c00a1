#!/usr/bin/env bash
# Run the C accelerator's tests against a build with AddressSanitizer and UndefinedBehaviorSanitizer.
# The fast-path tests compare the accelerator with the pure-Python path on scale captures, every
# sample capture, pcap in every magic, and hypothesis-made corrupted captures (the fuzz corpus):
# any out-of-bounds read, overflow or undefined behaviour in dissector/_fastscan_src/ aborts the run.
# The instrumented module is built into a temporary folder and shadows the normal one only here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

suffix=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
include=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
mkdir -p "$out/dissector"
cp -r dissector/. "$out/dissector/"
rm -f "$out"/dissector/_fastscan*.so
gcc -shared -fPIC -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
    -I"$include" -Idissector/_fastscan_src dissector/_fastscan_src/*.c -o "$out/dissector/_fastscan$suffix"

# Python itself is not instrumented: the ASan runtime must be loaded first, and CPython's
# deliberate never-freed objects are not leaks worth reporting.
export LD_PRELOAD
LD_PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# .venv/bin/pytest (not python -m pytest) and --import-mode=append so that the instrumented copy
# on PYTHONPATH is the dissector package imported; the check below proves it.
PYTHONPATH="$out" "$PY" -P -c "import dissector._fastscan as f; assert f.__file__.startswith('$out'), f.__file__"
PYTHONPATH="$out" "$(dirname "$PY")/pytest" -q -p no:cacheprovider --import-mode=append \
    tests/dissector/test_fastscan.py tests/dissector/test_fastpath.py "$@"
