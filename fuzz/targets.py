"""The fuzz target: ``one_input(data)`` drives every stage that reads attacker-chosen bytes.

The first byte picks what the rest is:

* ``0``: a capture file. Parsed twice (fed in chunks as from a pipe, and walked whole as from a
  file; both must give the same frames), then analysed by the pipeline (fast path, C accelerator
  when built, decoder, engine, checker) and rendered by the ``analyse`` view.
* ``1``: one frame; the next byte picks the link type. Decoded and fed to an engine.
* ``2``: a Mobility Header, wrapped in an IPv6 header (MH decoder and option walk).
* ``3``: a UDP 4191 payload wrapped in IPv6 + UDP (DSMIPv6 encapsulation, ESP-NULL heuristic).

Besides "never raises", every input checks the memory bounds: problems, options and interfaces
kept stay under their limits whatever the input, so memory is proportional to nothing the
attacker controls beyond the frames themselves. The runner (``fuzz/run.py``) also watches RSS.
"""

from __future__ import annotations

import io
import struct
import zlib

from dissector.capture import CaptureParser
from dissector.capture.limits import MAX_INTERFACES, MAX_PROBLEMS_KEPT
from dissector.decode import decode_frame
from dissector.options import MAX_OPTIONS, MAX_PADS_KEPT
from dissector.records import Frame, Packet
from dissector.walkstate import MAX_PACKET_PROBLEMS
from mcoaviz.engine.engine import BindingEngine, EngineConfig
from mcoaviz.pipeline import AnalysisOptions, Pipeline

LINKTYPES = (1, 101, 113, 276, 0, 108, 228, 229)  # Ethernet, RAW, SLL, SLL2, NULL, LOOP, IPv4, IPv6
_ENGINE = EngineConfig(keep_events=False)
_OPTIONS = AnalysisOptions(engine=_ENGINE)
_SRC = bytes.fromhex("20010db8000000000000000000000001")
_DST = bytes.fromhex("20010db8000000000000000000000002")

MODE_CAPTURE, MODE_FRAME, MODE_MOBILITY, MODE_UDP = range(4)


class BoundExceeded(AssertionError):
    """A memory bound did not hold: as much a crasher as an exception."""


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise BoundExceeded(what)


def check_packet(packet: Packet) -> None:
    # beyond the walkers' bounded problems: the link layer's (at most 2), the exception that ended
    # the walk and the "N more" summary
    _check(len(packet.problems) <= MAX_PACKET_PROBLEMS + 4, f"{len(packet.problems)} problems kept")
    if packet.mobility is not None:
        kept = len(packet.mobility.options)
        _check(kept <= MAX_OPTIONS + MAX_PADS_KEPT, f"{kept} options kept in one message")


def ipv6(next_header: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB", 0x60000000, len(payload) & 0xFFFF, next_header, 64) + _SRC + _DST + payload


def _decode_and_feed(frames: list[Frame]) -> None:
    engine = BindingEngine(_ENGINE)
    for frame in frames:
        packet = decode_frame(frame)
        check_packet(packet)
        engine.feed(packet)
    engine.finish(frames[-1].time if frames else 0.0)
    engine.bindings()
    engine.messages()


def _capture(data: bytes) -> None:
    streamed = CaptureParser()
    frames: list[Frame] = []
    chunk = 1 + zlib.crc32(data) % 997  # the split varies with the input, reproducibly
    for at in range(0, len(data), chunk):
        frames += streamed.feed(data[at : at + chunk])
    streamed.close()
    walked = CaptureParser()
    count = sum(1 for _ in walked.records(data))
    _check(count == len(frames), f"pipe gave {len(frames)} frames, file walk {count}")
    for parser in (streamed, walked):
        _check(len(parser.problems) <= MAX_PROBLEMS_KEPT, f"{len(parser.problems)} capture problems kept")
        _check(len(parser.interfaces) <= MAX_INTERFACES, f"{len(parser.interfaces)} interfaces kept")
    pipeline = Pipeline(_OPTIONS, name="fuzz")
    pipeline.feed_records(CaptureParser().records(data))
    analysis = pipeline.finish(walked.interfaces, walked.problems, walked.format)
    _check(len(analysis.messages) <= count, "more messages than frames")
    from mcoaviz.cli.analyse import report

    report(analysis, io.StringIO())


def one_input(data: bytes) -> None:
    if not data:
        return
    mode, body = data[0] % 4, data[1:]
    if mode == MODE_CAPTURE:
        _capture(body)
    elif mode == MODE_FRAME:
        if body:
            linktype = LINKTYPES[body[0] % len(LINKTYPES)]
            _decode_and_feed([Frame(1, 1.0, 0, linktype, body[1:], len(body) - 1)])
    elif mode == MODE_MOBILITY:
        _decode_and_feed([Frame(1, 1.0, 0, 101, ipv6(135, body), 40 + len(body))])
    else:
        udp = struct.pack("!HHHH", 4191, 4191, (8 + len(body)) & 0xFFFF, 0) + body
        _decode_and_feed([Frame(1, 1.0, 0, 101, ipv6(17, udp), 48 + len(body))])
