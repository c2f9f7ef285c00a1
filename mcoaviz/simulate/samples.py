"""The sample-captures/ library: which files exist, how each is made, and the README table.

Every registered scenario with ``sample=True`` gives one capture per dialect it lists,
``NAME-DIALECT.pcapng`` plus ``NAME-DIALECT.truth.json``, made with seed 1; a scenario whose
mobile nodes follow different dialects (``mixed=True``) gives one, ``NAME-mixed.pcapng``. The
README table is generated from the registry, so it cannot drift from the files.
"""

from __future__ import annotations

from pathlib import Path

from dissector.codepoints import Dialect
from mcoaviz.simulate.scenarios import Result, load_all, run
from mcoaviz.simulate.truth import dump

SAMPLE_SEED = 1

README_HEAD = """# Sample captures

Made by the mcoaviz simulator (`mcoaviz simulate`), each with its ground truth
(`NAME.truth.json`: binding intervals per node, each MN's binding update list, per-CoA traffic
counts per capture interface, deliberate violations) in the shapes of `mcoaviz export`.
How each truth field is defined (times, end reasons, traffic attribution) is documented in
`mcoaviz/simulate/truth.py`. Every file has one pcapng interface per capture point
(`ha-uplink`, `home-link`, `cn-link`, `mn-if1`, ...). Addresses: home link 2001:db8:1::/64
(HA ::1, HoA ::100), CoA N = 2001:db8:aN::100 with BID N, CN 2001:db8:c0::10, CN2
2001:db8:c1::20, HA IPv4 198.51.100.1.

Regenerate them all (deterministic, byte-identical): `python scripts/make_samples.py`
(or `mcoaviz simulate --all -o sample-captures/`). Try: `mcoaviz analyse
sample-captures/figure8-rfc5648.pcapng`. With tshark, DSMIPv6 needs `-d udp.port==4191,ipv6`
and ESP-NULL needs `-o esp.enable_null_encryption_decode_heuristic:TRUE`. Draft-05 files use
the IANA numbers (BID option 35, statuses 4/5/164-168) with draft flag bits C/O/H/D
(0x80/0x40/0x20/0x10): `--dialect auto` recognises them, `--dialect draft05` forces it
(Wireshark knows only the RFC layout and shows C, 0x80, as "H"). A `-mixed` file holds mobile
nodes of both dialects; `--dialect auto` decides per (mobile node, peer) pair.

| file | draft figure / section | dialect | what to look at |
|---|---|---|---|
"""


def sample_files() -> list[tuple[str, str, Dialect]]:
    """(file stem, scenario name, dialect) for every sample capture."""
    files = []
    for name, spec in sorted(load_all().items()):
        if spec.sample and spec.mixed:
            files.append((f"{name}-mixed", name, spec.dialects[0]))
        elif spec.sample:
            for dialect in spec.dialects:
                files.append((f"{name}-{dialect.value}", name, dialect))
    return files


def write_capture(result: Result, path: Path) -> None:
    """The capture and its truth file, each written whole or not at all (mcoaviz.outfile)."""
    from mcoaviz.outfile import atomic_file

    with atomic_file(path, "wb") as out:
        out.write(result.pcapng)
    truth_path = path.with_name(path.name.removesuffix(".pcapng") + ".truth.json")
    with atomic_file(truth_path) as out:
        out.write(dump(result.truth))


def readme_text() -> str:
    scenarios = load_all()
    lines = [README_HEAD.rstrip("\n")]
    for stem, name, dialect in sample_files():
        spec = scenarios[name]
        what = spec.look_at or spec.title
        shown = "mixed" if spec.mixed else dialect.value
        lines.append(f"| `{stem}.pcapng` | {spec.section} | {shown} | {spec.title}: {what} |")
    return "\n".join(lines) + "\n"


def write_all(folder: Path) -> list[Path]:
    """Write every sample and the README; remove samples of scenarios that no longer exist."""
    if not folder.parent.is_dir():  # as every command: no directory trees made for a mistyped path
        from mcoaviz.outfile import OutputError

        raise OutputError(f"cannot write into {folder}: directory {folder.parent} does not exist")
    folder.mkdir(exist_ok=True)
    current = {stem for stem, _, _ in sample_files()}
    for old in folder.glob("*-*.pcapng"):
        stem = old.name.removesuffix(".pcapng")
        if stem.endswith(("-rfc5648", "-draft05", "-mixed")) and stem not in current:
            old.unlink()
            old.with_name(stem + ".truth.json").unlink(missing_ok=True)
    written = []
    for stem, name, dialect in sample_files():
        path = folder / f"{stem}.pcapng"
        write_capture(run(name, seed=SAMPLE_SEED, dialect=dialect), path)
        written.append(path)
    (folder / "README.md").write_text(readme_text(), encoding="utf-8")
    return written
