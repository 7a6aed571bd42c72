"""Timestamp prefixes of real console lines are parsed and stripped from the message."""

from consolewatch.normalize.stamps import split_stamps


def test_printk():
    s = split_stamps("[    0.880011] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100")
    assert s.guest_time == 0.880011 and s.message.startswith("Kernel panic")


def test_syslog_with_kernel_printk_inside():
    s = split_stamps("Apr  6 22:28:06 myserver1 kernel: [ 2170.372482] supervisord invoked oom-killer: gfp_mask=0x100cca")
    assert s.program == "kernel" and s.guest_time == 2170.372482
    assert s.message.startswith("supervisord invoked oom-killer")
    assert s.wall_time is not None


def test_syslog_pri_without_host():
    s = split_stamps("<14>Apr  9 22:06:30 ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----")
    assert s.program == "ec2" and s.message == "-----BEGIN SSH HOST KEY FINGERPRINTS-----"


def test_iso_stamps_of_mirage_and_cloud_init():
    a = split_stamps("2016-08-13 23:21.54: INF [dhcp-clientv4] DHCP: start discovery")
    b = split_stamps("2016-08-13 23:22.04: INF [dhcp-clientv4] DHCP: start discovery")
    assert a.message == "INF [dhcp-clientv4] DHCP: start discovery"
    assert b.wall_time - a.wall_time == 10
    c = split_stamps("2014-11-12 05:43:10,646 - util.py[WARNING]: Running x failed")
    assert c.message == "util.py[WARNING]: Running x failed" and c.wall_time % 1 > 0.6


def test_go_log_stamp():
    s = split_stamps("2024/03/12 14:36:48 GCEGuestAgent: GCE Agent Started (version 20240109.00)")
    assert s.message.startswith("GCEGuestAgent:") and s.wall_time is not None


def test_lines_without_stamps_are_unchanged():
    for text in ["Sending discover...", "[  OK  ] Reached target Emergency Mode.", "[backtrace]", ""]:
        s = split_stamps(text)
        assert s.message == text and s.guest_time is None and s.wall_time is None
