"""The pipeline decodes a refresh BU/BA that repeats an earlier frame (but for Sequence Number and
Checksum) from that frame's records (``DecodeOptions.repeats``), and a streamed export encodes its
message row from cached text (``message_json(shared_areas=True)``). Neither may change a table:
each capture is analysed with the repeat cache in use and with every frame decoded in full."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from dissector import decode as decode_module
from mcoaviz import messages as messages_module
from mcoaviz.export import write_json
from mcoaviz.pipeline import AnalysisOptions, analyse
from mcoaviz.simulate.scale import write_scale_capture
from tests.conftest import SAMPLES

# samples whose nodes refresh or re-send the same BU / BA (each has at least two repeats)
CAPTURES = ("lost-ba-rfc5648.pcapng", "refresh-expiry-draft05.pcapng", "legacy-ha-rfc5648.pcapng",
            "data-after-signalling-violations-draft05.pcapng", "violations-timing-rfc5648.pcapng",
            "bulk-bootstrap-rfc5648.pcapng")


@pytest.fixture(autouse=True)
def _empty_caches() -> Iterator[None]:
    def empty() -> None:
        decode_module._REPEATS.clear()
        decode_module._SHAPES.clear()
        decode_module._PREFIXES.clear()
        messages_module._ADDRESSING.clear()
        messages_module._AFTER.clear()
        messages_module._AREAS.clear()

    empty()
    yield
    empty()


def _export(path: Path, *, stream: bool) -> str:
    out = io.StringIO()
    options = AnalysisOptions(stream=stream, history="read" if stream else "all")
    write_json(analyse(path, options), out)
    return out.getvalue()


def _counting_repeats(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made = [0]
    real = decode_module._repeat

    def counted(*args: object) -> object:
        packet = real(*args)  # type: ignore[arg-type]
        made[0] += packet is not None
        return packet

    monkeypatch.setattr(decode_module, "_repeat", counted)
    return made


def _same_with_and_without(path: Path, stream: bool, monkeypatch: pytest.MonkeyPatch) -> int:
    """The export's text with the repeat cache and with every frame decoded in full must be the
    same; returns how many packets the repeat cache made."""
    with monkeypatch.context() as patch:
        patch.setattr(decode_module, "_repeat", lambda *args: None)  # every frame decoded in full
        full = _export(path, stream=stream)
    decode_module._REPEATS.clear()
    decode_module._SHAPES.clear()
    made = _counting_repeats(monkeypatch)
    assert _export(path, stream=stream) == full
    return made[0]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("name", CAPTURES)
def test_repeats_change_no_table(name: str, stream: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _same_with_and_without(SAMPLES / name, stream, monkeypatch) >= 2


def test_refreshes_at_scale_are_mostly_repeats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """12 nodes x 2 CoAs refreshing for a minute, with findings: 72 of the 96 BU/BA are repeats
    (each node's first BU and BA, and those after a change, are decoded in full)."""
    path = tmp_path / "scale.pcapng"
    write_scale_capture(path, 12, 2, 60.0, 50.0, 2)
    assert _same_with_and_without(path, True, monkeypatch) == 72
    analysis = analyse(path, AnalysisOptions(stream=True))
    assert sum(1 for row in analysis.messages if row["type"] in ("BU", "BA")) == 96
    assert analysis.findings  # the rules saw the repeats as well
