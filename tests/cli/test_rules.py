"""`mcoaviz rules` and the generated docs/rules.md."""

from __future__ import annotations

from pathlib import Path

from mcoaviz.checker.coverage import COVERAGE
from mcoaviz.checker.docs import CODE, is_checked, render_markdown
from mcoaviz.checker.registry import BY_CODE, RULES
from mcoaviz.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_committed_rules_md_is_generated_from_the_registry() -> None:
    assert DOC.read_text() == render_markdown(), "regenerate: mcoaviz rules --markdown > docs/rules.md"


def test_rules_lists_every_code(capsys) -> None:  # noqa: ANN001
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert all(r.code in out for r in RULES)


def test_rules_select_and_unknown_prefix(capsys) -> None:  # noqa: ANN001
    assert main(["rules", "--select", "MCOA7"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert lines and all(line.startswith("MCOA7") for line in lines)
    assert main(["rules", "--select", "XYZ"]) == 2


def test_coverage_names_only_existing_rules_and_every_q_row() -> None:
    ids = [row[0] for row in COVERAGE]
    assert [f"Q{n:02d}" for n in range(1, 115)] == ids[:114]
    for row in COVERAGE:
        for code in CODE.findall(row[4]):
            assert code in BY_CODE, f"{row[0]} names unknown rule {code}"
        assert is_checked(row[4]) or row[4].startswith(("N:", "P:", "Not")), row[0]


def test_every_rule_is_cited_by_the_coverage_table_or_is_generic() -> None:
    cited = {code for row in COVERAGE for code in CODE.findall(row[4])}
    uncited = [r.code for r in RULES if r.code not in cited and not r.code.startswith("MCOA9")]
    # security (§10) and a few format rules have no Q row; list them here on purpose
    assert set(uncited) <= {"MCOA107", "MCOA110", "MCOA113", "MCOA117", "MCOA118", "MCOA407", "MCOA604",
                            "MCOA605", "MCOA706"}, uncited
