"""Signalling decode benchmark: ``decode_frame`` over the signalling frames of the sample captures.

The frames are those of every ``sample-captures/*.pcapng`` that ``FastPath.offer`` declines (Mobility
Header messages, ND, ESP, anything unusual): exactly what the pipeline hands to ``decode_frame``.
They are decoded ``--rounds`` times; the best round is reported in CPU microseconds per frame.

``--against REV`` compares with the ``dissector/`` package of another git revision: it is exported
into a temporary folder and timed in a child process, alternating with the working tree, so both
see the same machine load. The load average is printed before and after. This is a benchmark,
not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def signalling_frames() -> list:
    from dissector.decode import DecodeOptions
    from dissector.fastpath import FastPath
    from mcoaviz.sources import read_frames

    frames = []
    for path in sorted((ROOT / "sample-captures").glob("*.pcapng")):
        captured, _ = read_frames(path)
        fast = FastPath(DecodeOptions())
        frames.extend(frame for frame in captured if not fast.offer(frame))
    return frames


def time_rounds(rounds: int) -> dict[str, float]:
    """Best and median microseconds per frame over ``rounds`` passes (run in the measured tree)."""
    from dissector.decode import decode_frame

    frames = signalling_frames()
    per_frame = []
    for _ in range(rounds):
        start = time.process_time()  # CPU time: less disturbed by other processes than wall time
        for frame in frames:
            decode_frame(frame)
        per_frame.append((time.process_time() - start) / len(frames) * 1e6)
    per_frame.sort()
    import dissector

    return {"frames": len(frames), "best": per_frame[0], "median": per_frame[len(per_frame) // 2],
            "dissector": str(Path(dissector.__file__).parent)}


def layout_unpack_costs(number: int = 20_000) -> dict[str, float]:
    """CPU microseconds to read a BU's common header and fixed part three ways: dpkt objects from
    the mh_layouts classes, the Structs compiled from the same tables (what the decoder does), and
    field-by-field Reader pulls (what it did before the layouts)."""
    import timeit

    from dissector import mh_layouts as layouts
    from dissector.encode.mobility import binding_update, mobility_header
    from dissector.reader import Reader

    raw = mobility_header(binding_update(5, 400, "A"), [])
    view = memoryview(raw)

    def dpkt_objects() -> tuple:
        header = layouts.MobilityHeader(raw)
        body = layouts.BindingUpdate(header.data)
        return header.mh_type, body.sequence, body.flags, body.lifetime

    def compiled_structs() -> tuple:
        header = layouts.COMMON_HEADER.struct.unpack_from(view, 0)
        return header[2], layouts.MESSAGE_LAYOUTS[5].struct.unpack_from(view, 6)

    def reader_pulls() -> tuple:
        reader = Reader(view)
        header = reader.pull_u8(), reader.pull_u8(), reader.pull_u8()
        reader.skip(1)
        reader.pull_u16()
        return header[2], reader.pull_u16(), reader.pull_u16(), reader.pull_u16()

    ways = (dpkt_objects, compiled_structs, reader_pulls)
    best = {way.__name__: min(timeit.repeat(way, number=number, repeat=5, timer=time.process_time))
            for way in ways}
    return {name: seconds / number * 1e6 for name, seconds in best.items()}


def _child(tree: Path, rounds: int) -> dict[str, float]:
    """Time the dissector found in ``tree`` (the mcoaviz package always comes from ROOT)."""
    env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{ROOT}", MCOAVIZ_PURE_PYTHON="1")
    code = ("import json, sys; sys.path[:0] = sys.argv[2].split(':'); "
            "from benchmarks.signalling import time_rounds; print(json.dumps(time_rounds(int(sys.argv[1]))))")
    out = subprocess.run([sys.executable, "-c", code, str(rounds), f"{tree}:{ROOT}"], env=env, cwd=tree,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def export_dissector(revision: str, into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "dissector"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="decode passes per measurement")
    parser.add_argument("--alternations", type=int, default=3, help="A/B alternations with --against")
    parser.add_argument("--layouts", action="store_true", help="also time the three ways to read a BU header")
    parser.add_argument("--against", metavar="REV", help="git revision whose dissector/ to compare with")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    if not args.against:
        result = time_rounds(args.rounds)
        print(f"{result['frames']} signalling frames: best {result['best']:.1f} us/frame, "
              f"median {result['median']:.1f} us/frame")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            export_dissector(args.against, Path(tmp))
            trees = {"working tree": ROOT, args.against: Path(tmp)}
            best: dict[str, list[float]] = {name: [] for name in trees}
            for _ in range(args.alternations):
                for name, tree in trees.items():
                    result = _child(tree, args.rounds)
                    best[name].append(result["best"])
                    assert Path(result["dissector"]).is_relative_to(tree), result["dissector"]
            frames = result["frames"]
        print(f"{frames} signalling frames, {args.rounds} rounds x {args.alternations} alternations "
              "(pure Python, C accelerator not involved in decode_frame)")
        for name, values in best.items():
            print(f"  {name:>14}: best {min(values):.1f} us/frame (per alternation: "
                  + ", ".join(f"{v:.1f}" for v in values) + ")")
        base, now = min(best[args.against]), min(best["working tree"])
        print(f"  change: {100 * (now - base) / base:+.1f} % time per frame")
    if args.layouts:
        for name, micros in layout_unpack_costs().items():
            print(f"  BU header + fixed part, {name}: {micros:.2f} us")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
