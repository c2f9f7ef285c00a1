"""`mcoaviz live -i IFACE [-i ...]`: capture through dumpcap and show binding state as it changes.

``--no-tui`` runs the same analysis headless until ``--duration``, SIGINT or SIGTERM, then
writes ``--export OUT.json`` (the `mcoaviz export` object). dumpcap is always stopped and reaped
before mcoaviz exits.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from mcoaviz.livecapture import LiveCapture, LiveCaptureError

NAME = "live"
HELP = "Capture from interfaces (dumpcap) and show binding state live, or export it (--no-tui)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mcoaviz.cli.decode import add_dialect_arguments

    parser.add_argument("-i", "--interface", dest="interfaces", action="append", required=True,
                        metavar="IFACE", help="interface to capture on (repeatable)")
    parser.add_argument("-f", dest="bpf", metavar="BPF", help="capture filter for every interface")
    parser.add_argument("-w", dest="write", metavar="FILE.pcapng", help="also save the capture")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument("--no-tui", action="store_true", help="no screen: analyse until stopped")
    parser.add_argument("--retain", type=float, metavar="S",
                        help="seconds of capture time of history kept for a long run (default 900): older "
                             "messages, events and ended bindings are counted, not kept")
    parser.add_argument("--export", metavar="OUT.json",
                        help="write the analysis as JSON at the end (with --no-tui; in the TUI, key e)")
    add_dialect_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from mcoaviz.cli.export import options_from
    from mcoaviz.tui.session import Session

    if args.duration is not None and args.duration <= 0:
        print("mcoaviz live: --duration must be positive", file=sys.stderr)
        return 2
    if args.retain is not None and not args.retain > 0:
        print("mcoaviz live: --retain must be positive", file=sys.stderr)
        return 2
    try:
        capture = LiveCapture(args.interfaces, args.bpf, args.duration, args.write)
        capture.start()
    except LiveCaptureError as exc:
        print(f"mcoaviz live: {exc}", file=sys.stderr)
        return 2
    from mcoaviz.tui.session import LIVE_RETAIN

    session = Session(options_from(args), name=",".join(args.interfaces), live=True,
                      retain=LIVE_RETAIN if args.retain is None else args.retain)
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args.no_tui:
            return _headless(args, capture, session, stop)
        return _with_tui(args, capture, session, stop)
    finally:
        capture.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _headless(args: argparse.Namespace, capture: LiveCapture, session: object, stop: threading.Event) -> int:
    from mcoaviz.tui.ingest import ingest_live
    from mcoaviz.tui.session import Session

    assert isinstance(session, Session)

    def ask_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()
        capture.stop()  # dumpcap ends, the pipe ends, ingest returns

    signal.signal(signal.SIGINT, ask_stop)
    signal.signal(signal.SIGTERM, ask_stop)
    print(f"mcoaviz live: {capture.status}", file=sys.stderr, flush=True)  # scripts wait for this line
    worker = threading.Thread(target=ingest_live, args=(session, capture, stop), name="ingest", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
    session.finish(session.pipeline.interfaces or None, (), "pcapng")
    if capture.status.startswith("dumpcap stopped") and not stop.is_set() and args.duration is None:
        print(f"mcoaviz live: {capture.status}", file=sys.stderr)
    if args.export:
        from mcoaviz.export import write_json

        try:
            with open(args.export, "w", encoding="utf-8") as out:
                write_json(session.analysis(), out)
        except OSError as exc:
            print(f"mcoaviz live: cannot write {args.export}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    final = session.final
    bindings = len(final.bindings) if final is not None else 0
    print(f"mcoaviz live: {session.frames} frames, {bindings} binding intervals", file=sys.stderr)
    return 0


def _with_tui(args: argparse.Namespace, capture: LiveCapture, session: object, stop: threading.Event) -> int:
    from mcoaviz.tui.app import McoaApp
    from mcoaviz.tui.ingest import ingest_live
    from mcoaviz.tui.session import Session

    assert isinstance(session, Session)
    app = McoaApp(session, lambda s, ev: ingest_live(s, capture, ev), live=True, export_path=args.export,
                  on_quit=capture.stop)

    def ask_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()
        app.stop_event.set()
        capture.stop()
        app.call_from_thread(app.exit, 0) if threading.current_thread() is not threading.main_thread() \
            else app.exit(0)

    signal.signal(signal.SIGTERM, ask_stop)
    signal.signal(signal.SIGINT, ask_stop)
    app.run()
    stop.set()
    capture.stop()
    return 0
