"""Repeated per-packet findings become episodes: one finding with a count, first and last."""

from __future__ import annotations

from mcoaviz.checker.finding import Finding
from mcoaviz.checker.runner import EPISODE_GAP, finalise


def finding(time: float, frame: int | None, *, episode: str = "ha|hoa|coa", rule: str = "MCOA607") -> Finding:
    return Finding(rule=rule, name="TrafficToUnregisteredCoa", severity="warning", section="§6.3",
                   rfc_section="§6.2", frame=frame, time=time, message="HA sends 1 packet(s) to coa.",
                   hoa="hoa", bid=None, identifier=f"{rule}|{frame}|{time}|{episode}", episode=episode)


def test_hits_close_in_time_merge_and_a_gap_starts_a_new_episode() -> None:
    hits = [finding(10.0, None), finding(12.0, 7), finding(11.0, None),
            finding(12.0 + EPISODE_GAP + 0.5, 9)]
    second, first = finalise(hits)  # sorted by frame: frame 9, then the first one (frame None)
    assert (first.time, first.count, first.last_time, first.last_frame) == (10.0, 3, 12.0, 7)
    assert first.message == "HA sends 1 packet(s) to coa. Seen 3 times until frame 7."
    assert (second.frame, second.count) == (9, 1)
    row = first.to_dict()
    assert (row["count"], row["first_frame"], row["last_frame"], row["first_time"], row["last_time"]) == (
        3, None, 7, 10.0, 12.0)
    assert {k: row[k] for k in ("rule", "frame", "time", "severity")} == {
        "rule": "MCOA607", "frame": None, "time": 10.0, "severity": "warning"}


def test_other_episodes_rules_and_plain_findings_stay_apart() -> None:
    hits = [finding(1.0, 1), finding(1.5, 2, episode="ha|hoa|other"), finding(2.0, 3, rule="MCOA602"),
            finding(2.5, 4, episode=""), finding(3.0, 5, episode="")]
    merged = finalise(hits)
    assert [(f.frame, f.count) for f in merged] == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]
    assert merged[0].to_dict()["last_frame"] == 1


def test_check_groups_count_the_hits_of_episodes() -> None:
    from mcoaviz.cli.check import group_findings

    merged = finalise([finding(1.0, None), finding(2.0, None), finding(3.0, 8), finding(4.0, 9, episode="")])
    (group,) = group_findings([f.to_dict() for f in merged])
    assert (group["count"], group["frames"]) == (4, [9, None])
