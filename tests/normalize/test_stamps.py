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


def test_journal_lines_in_the_locales_month_abbreviation():
    """journalctl prints the month as the machine's locale abbreviates it (strftime's %b):
    https://github.com/gsauthof/dracut-sshd/issues/18 (French), search-index file 57151522044
    (Spanish), search-index file 28987634517 (lower-case)."""
    fr = split_stamps("janv. 29 20:44:09 systemd[1]: Failed to start OpenSSH server daemon.")
    assert fr.program == "systemd" and fr.message == "Failed to start OpenSSH server daemon."
    es = [split_stamps("ene 03 12:00:24 7887-W65-67SZ systemd-fsck[622]: /dev/sdb5: UNEXPECTED INCONSISTENCY; "
                       "RUN fsck MANUALLY."),
          split_stamps("ene 03 12:01:00 7887-W65-67SZ systemd-fsck[622]: fsck failed with error code 4.")]
    assert [s.program for s in es] == ["systemd-fsck"] * 2 and es[1].wall_time - es[0].wall_time == 36
    lower = split_stamps("oct 10 18:05:51 pve systemd[1]: Reached target emergency.target - Emergency Mode.")
    assert lower.message.startswith("Reached target emergency.target")
    # synthetic: a four-letter word in a month's place that is no month keeps its line whole
    other = "Took 12 10:00:00 cpu: done"
    assert split_stamps(other).message == other and split_stamps(other).program is None


def test_hostile_month_words_and_long_lines_stay_whole_and_fast():
    """A month's place holding any word, escapes or NUL, and a 1 MB program field: parsed or left
    whole, never an error, in linear time."""
    import time

    for text in ["Ωmeg 12 10:00:00 host prog: x", "\x1b[2J 12 10:00:00 h p: x", "abc\x00 12 10:00:00 h p: x",
                 "ene 99 10:00:00 h p: x", "mär 12 10:00:00 " + "a" * 1_000_000]:
        start = time.perf_counter()
        s = split_stamps(text)
        assert time.perf_counter() - start < 0.5
        assert s.message == text or s.program is not None


def test_syslog_with_the_space_after_the_time_doubled():
    """A journal pasted into a page may show two spaces after the time (the real line of
    test_syslog_with_kernel_printk_inside with that space doubled): still a date, a host and a program."""
    s = split_stamps("Apr  6 22:28:06  myserver1 kernel: [ 2170.372482] supervisord invoked oom-killer: gfp_mask=0x100cca")
    assert s.program == "kernel" and s.guest_time == 2170.372482
    assert s.message.startswith("supervisord invoked oom-killer")


#: Ubuntu's /var/log/syslog in rsyslog's RFC 3339 file format (a page quoting grep of it,
#: search-index file 11142289291)
RFC3339_SYSLOG = [
    "2025-09-18T16:43:00.137095+00:00 ubuntu systemd[1]: pd-mapper.service: Failed with result 'exit-code'.",
    "2025-09-18T16:43:00.137120+00:00 ubuntu systemd[1]: Failed to start pd-mapper.service - Qualcomm PD mapper service.",
]


def test_syslog_in_rfc3339_form_names_its_program():
    s = split_stamps(RFC3339_SYSLOG[1])
    assert s.program == "systemd" and s.message.startswith("Failed to start pd-mapper.service")
    assert s.wall_time is not None and s.guest_time is None
    # an ISO stamp without a host and a program with its pid stays as it was (cloud-init's own log)
    c = split_stamps("2024-01-15 10:20:31,000 - url_helper.py[WARNING]: Calling x")
    assert c.program is None and c.message.startswith("url_helper.py[WARNING]")


def test_a_journal_excerpt_in_rfc3339_form_cannot_show_the_boot_stopping(catalog):
    from consolewatch.detect.checks import run_lines

    a = run_lines(catalog, RFC3339_SYSLOG)
    assert "init.unit-failed" in {f.category for f in a.findings()}
    assert a.outcome == "unknown"


#: Syslog daemons that write the facility and priority before the program: BusyBox syslogd
#: (https://github.com/pgj/freebsd-wifibox/issues/131, an Alpine guest's /var/log/messages; and
#: OpenWrt's, https://github.com/Ysurac/openmptcprouter/issues/2893), OpenWrt's logread with
#: ctime's weekday and year (https://github.com/kuoruan/openwrt-v2ray/issues/126) and the Moby VM
#: of Docker for Mac after a Go time with its zone's name (https://github.com/docker/for-mac/issues/201,
#: the VM's line as the app's log quotes it after its own "VM: " prefix).
FACILITY_LINES = [
    ("Oct  7 17:02:36 wifibox daemon.err /etc/init.d/radvd[1250]: ERROR: radvd failed to start",
     "/etc/init.d/radvd", "ERROR: radvd failed to start", None),
    ("Jul 23 11:54:59 OpenMPTCProuter daemon.info dnsmasq[1]: using only locally-known addresses for lan",
     "dnsmasq", "using only locally-known addresses for lan", None),
    ("Mon Apr 12 18:29:48 2021 kern.warn kernel: [  267.720081] hostapd invoked oom-killer: "
     "gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
     "kernel", "hostapd invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
     267.720081),
    ("Mon Apr 12 18:29:38 2021 authpriv.info dropbear[3327]: Exit (root) from <192.168.7.146:1297>: Exited normally",
     "dropbear", "Exit (root) from <192.168.7.146:1297>: Exited normally", None),
    ("2016-08-10 00:01:17 +0000 UTC kern.warn kernel: aufs au_opts_verify:1597:dockerd[1560]: dirperm1 breaks "
     "the protection by the permission bits on the lower branch",
     "kernel", "aufs au_opts_verify:1597:dockerd[1560]: dirperm1 breaks the protection by the permission bits on "
     "the lower branch", None),
    ("2016-08-10 00:01:17 +0000 UTC daemon.info vsudd: Connection 2 to: 2376 from: 00000000",
     "vsudd", "Connection 2 to: 2376 from: 00000000", None),
]


def test_syslog_with_the_facility_and_priority_before_the_program():
    for text, program, message, guest in FACILITY_LINES:
        s = split_stamps(text)
        assert (s.program, s.message, s.guest_time) == (program, message, guest), text
        assert s.wall_time is not None
    year = split_stamps(FACILITY_LINES[3][0]).wall_time - split_stamps(FACILITY_LINES[2][0]).wall_time
    assert year == -10  # logread's year is read: ten seconds apart
    # a facility with nothing before it is no date: OpenWrt's netifd lines pasted without their stamp
    # (tests/detect/test_retries_10.py) stay as they are
    bare = "daemon.notice netifd: wan (1222): udhcpc: sending discover"
    assert split_stamps(bare).program is None and split_stamps(bare).message == bare
    # an ISO stamp with no facility after it names no program (cloud-init's own log, as above)
    plain = split_stamps("2014-11-12 05:43:10,646 - util.py[WARNING]: Running x failed")
    assert plain.program is None and plain.message == "util.py[WARNING]: Running x failed"


def test_printk_caller_id_is_part_of_the_stamp_and_hostile_ones_are_not():
    """CONFIG_PRINTK_CALLER's "[    T1]" after the time is stripped with it (the real line of
    tests/detect/test_kernel_views_13.py); a caller field that is no caller id (too long, other
    letters, escapes, NUL) stays in the message, in linear time."""
    import time

    s = split_stamps("[  393.919814][    T1] reboot: Restarting system")
    assert s.guest_time == 393.919814 and s.message == "reboot: Restarting system"
    for rest in ["[    T" + "9" * 100_000 + "] x", "[  \x1b[2JT1] x", "[ \x00C1] x", "[    X1] x", "[T1" + " " * 100_000]:
        start = time.perf_counter()
        s = split_stamps("[    1.000000]" + rest)
        assert time.perf_counter() - start < 0.5
        assert s.guest_time == 1.0 and s.message == rest


def test_dmesg_ctime_stamp_is_the_kernels_line_read_after_the_fact():
    """util-linux's `dmesg -T` ("[%a %b %e %H:%M:%S %Y] "): the kernel's message with the wall
    clock, from a running system's dmesg(1), named as the kernel's (a log file's line); what is
    no such date stays in the message."""
    s = split_stamps("[Sat Mar  2 01:02:03 2024] XFS (vdb): Unmount and run xfs_repair")
    assert (s.program, s.message, s.guest_time) == ("kernel", "XFS (vdb): Unmount and run xfs_repair", None)
    later = split_stamps("[Sat Mar  2 01:02:13 2024] x").wall_time
    assert s.wall_time is not None and later is not None and later - s.wall_time == 10
    for text in ["[Sat Foo  2 01:02:03 2024] x", "[  OK  ] Reached target x", "[Sat Mar  2 01:02:03] x",
                 "[Sat Mar  2 01:02:03 2024" + " " * 100_000]:
        t = split_stamps(text)
        assert t.program is None and t.message == text


def test_dmesg_decoded_facility_and_level_come_off_the_message():
    """util-linux's `dmesg -x` ("%-6s:%-6s: " of the facility and level, then the printk time or
    `-T`'s date): the kernel's lines are the kernel's, those user space wrote to /dev/kmsg keep no
    program, and a rule that reads the message from its start sees the message."""
    import time

    s = split_stamps("kern  :emerg : [    2.345678] Kernel panic - not syncing: VFS: Unable to mount root fs")
    assert (s.program, s.guest_time, s.message) == ("kernel", 2.345678, "Kernel panic - not syncing: VFS: Unable to mount root fs")
    t = split_stamps("kern  :err   : [Mon Jul 19 10:37:34 2021] XFS (nbd0): Corruption detected. Unmount and run xfs_repair")
    assert (t.program, t.guest_time, t.message) == ("kernel", None, "XFS (nbd0): Corruption detected. Unmount and run xfs_repair")
    assert t.wall_time is not None
    u = split_stamps("daemon:info  : [    5.100000] systemd[1]: Started Journal Service.")
    assert (u.program, u.guest_time, u.message) == (None, 5.1, "systemd[1]: Started Journal Service.")
    # no such facility or level, or the padding and colons of something else: the line as it is
    for text in ["kern  :bogus : [    1.0] x", "kernel:info  : x", "kern: info: x", "Kern  :info  : x",
                 "kern" + " " * 100_000 + ":info  : x", "kern  :info\x1b[2J  : x", "kern  :info  :" + "\x00" * 10]:
        start = time.perf_counter()
        v = split_stamps(text)
        assert time.perf_counter() - start < 0.5
        assert v.program is None and v.message == text
