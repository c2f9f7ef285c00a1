"""Test captures made from the sample captures: frames rewritten with other interface names
(hostile ones for the injection tests) or with some frames left out (lost messages)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dissector.records import Frame
from mcoaviz.simulate.pcapng import InterfaceSpec, PcapngWriter
from mcoaviz.sources import open_capture
from tests.conftest import SAMPLES

HOSTILE = '</script><script>window.pwned=1</script><b onmouseover="x()">if</b>\x1b]0;t\x07\u202e'


def rewrite(sample: str, target: Path, *, name: Callable[[int, str], str] = lambda i, n: n,
            keep: Callable[[Frame], bool] = lambda f: True, comment: str | None = None) -> Path:
    """Copy ``sample`` (a file in sample-captures/) to ``target`` with interface names from
    ``name(id, old name)``, only the frames ``keep`` accepts, each with ``comment``."""
    with open_capture(SAMPLES / sample) as source:
        frames = list(source.frames())
        interfaces = sorted(source.interfaces.values(), key=lambda i: i.id)
    specs = [InterfaceSpec(name=name(i.id, i.name or f"if{i.id}"), linktype=i.linktype,
                           description=HOSTILE) for i in interfaces]
    with target.open("wb") as out:
        writer = PcapngWriter(out, specs)
        for frame in frames:
            if keep(frame):
                writer.write(frame.interface, round(frame.time * 1e9), frame.data, comment=comment)
    return target
