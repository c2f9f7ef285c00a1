# Types of the optional C accelerator (dissector/_fastscan_src/, built by setup.py) for the type checker.
from collections.abc import Callable
from typing import Any

class FlowTable:
    def __init__(self, limit: int = 65536) -> None: ...
    def write_back(self) -> None: ...
    def stats(self) -> dict[str, int]: ...
    def clear(self) -> None: ...

def flush_items(
    done: Any, dirty: Any, texts: dict[Any, Any], make_texts: Callable[[Any], Any]
) -> tuple[list[tuple[Any, ...]], int]: ...
def address_texts() -> tuple[int, int]: ...
def drop_idle(flows: dict[Any, Any], cut: Any, last_index: int) -> int: ...
def order_rows(items: list[tuple[Any, ...]], first_index: int, interface_index: int) -> bool: ...
def instances(cls: type, fields: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[Any]: ...
def pcapng(
    state: tuple[Any, ...],
    buf: Any,
    pos: int,
    end: int,
    number: int,
    last_time: float,
    interfaces: list[Any],
    big_endian: bool,
) -> tuple[int, int, float, int]: ...
def pcap(
    state: tuple[Any, ...],
    buf: Any,
    pos: int,
    end: int,
    number: int,
    header_length: int,
    big_endian: bool,
    unit: float,
    linktype: int,
) -> tuple[int, int, int]: ...
