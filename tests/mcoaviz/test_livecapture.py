"""dumpcap's command line and its complaints turned into advice."""

from __future__ import annotations

from mcoaviz.livecapture import dumpcap_command, explain


def test_filter_comes_before_the_interfaces_so_it_applies_to_all() -> None:
    cmd = dumpcap_command("/usr/bin/dumpcap", ["eth0", "wlan0"], "ip6 proto 135", 30)
    assert cmd == ["/usr/bin/dumpcap", "-q", "-n", "-w", "-", "-f", "ip6 proto 135", "-i", "eth0",
                   "-i", "wlan0", "-a", "duration:30"]
    assert dumpcap_command("dumpcap", ["eth0"]) == ["dumpcap", "-q", "-n", "-w", "-", "-i", "eth0"]


def test_permission_denied_names_the_interface_group_and_setcap() -> None:
    stderr = ('Capturing on \'eth1\'\ndumpcap: You do not have permission to capture on device "eth1".\n'
              "(socket: Operation not permitted)\n")
    advice = explain(stderr, ["eth0", "eth1"], "/usr/bin/dumpcap")
    assert advice.startswith("capture on eth1 is not permitted")
    assert "usermod -aG wireshark" in advice
    assert advice.endswith("setcap cap_net_raw,cap_net_admin=eip /usr/bin/dumpcap")


def test_other_failures_keep_dumpcaps_first_real_line() -> None:
    assert explain("Capturing on 'x'\ndumpcap: Invalid capture filter \"foo\"\n", ["x"], "d") == \
        'dumpcap failed: dumpcap: Invalid capture filter "foo"'
    assert explain("", ["x"], "d") == "dumpcap failed: exited without output"
