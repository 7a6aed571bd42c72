"""`consolewatch netcfg --initrd` against a real kernel and the GCE-like network.

One boot: the GCE sim describes vm1 the way the guest kit's namespace serves it (10.128.0.2,
gateway 10.128.0.1 of 10.128.0.0/20); `consolewatch netcfg gce:... --initrd` writes the archive;
the kernel gets the kit's busybox initramfs with that archive appended (as GRUB's `initrd A B`
passes two), unpacks both, and the guest prints /etc/network/interfaces back, applies it with
busybox `ifup -v` and pings the gateway. Its DHCP script is one that ignores option 121 (what
old and minimal images run): the lease's /32 leaves the gateway off-link and the script's own
default route fails, so only the stanza's routes (the gateway on-link, then the default via
it) make the gateway reachable.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from consolewatch.sim.gce import SimInstance, start_gce_sim
from guestkit import boot
from guestkit.initramfs import InitramfsSpec
from guestkit.netns import GCE_LEASE
from guestkit.runner import StopRule
from scenarios import IDLE, NET_MODULES, UDHCPC_IGNORES_121, Scenario

GUEST_INIT = f"""\
mkdir -p /var/run
cat /etc/network/interfaces
ifup -v -a
ping -c 1 -W 3 {GCE_LEASE.gateway}
""" + IDLE


@pytest.fixture(scope="module")
def netcfg_boot(guest_kit, netns_ok, dnsmasq_ok, tmp_path_factory):
    out = tmp_path_factory.mktemp("netcfg") / "netcfg.cpio.gz"
    url, sim = start_gce_sim(SimInstance(network_ip=GCE_LEASE.client, gateway=GCE_LEASE.gateway,
                                         subnet_cidr="10.128.0.0/20"))
    with sim:
        r = subprocess.run([sys.executable, "-m", "consolewatch", "netcfg", "gce:proj/us-central1-a/vm1",
                            "--initrd", str(out)], capture_output=True, timeout=120,
                           env={**os.environ, "CONSOLEWATCH_GCE_ENDPOINT": url})
    assert r.returncode == 0, r.stderr
    scenario = Scenario(
        name="netcfg-gce", title="netcfg's archive appended to the initramfs, applied on a GCE-like network",
        injected="none: the guest's udhcpc script ignores option 121, the stanza's routes must do it",
        append="console=ttyS0", network="gce", timeout=60,
        initramfs=InitramfsSpec(GUEST_INIT, modules=NET_MODULES, appended=(out.read_bytes(),),
                                files={"/etc/udhcpc/default.script": (UDHCPC_IGNORES_121, 0o755)}),
        stop=[StopRule(r"packets transmitted|\nping: ", settle=0.5)])
    return r.stdout.decode(), out, boot.run(scenario)


def test_the_kernel_unpacks_the_appended_archive_and_the_guest_prints_it(netcfg_boot):
    _, out, capture = netcfg_boot
    from consolewatch.netcfg.initrd import INTERFACES_PATH
    from guestkit.cpio import read_newc

    stanza = next(e.data.decode() for e in read_newc(out.read_bytes()) if e.name == INTERFACES_PATH)
    lines = capture.lines
    printed = stanza.splitlines()
    start = lines.index(printed[0])
    assert lines[start:start + len(printed)] == printed, "\n".join(lines[-60:])
    assert "iface eth0 inet dhcp" in printed and "    up ip route replace 10.128.0.1/32 dev eth0" in printed


def test_the_guest_given_the_stanza_reaches_the_gce_gateway(netcfg_boot):
    _, _, capture = netcfg_boot
    text = "\n".join(capture.lines)
    assert "udhcpc: lease of 10.128.0.2 obtained" in text, text[-3000:]
    # The option-121-blind script failed on its own, as gce-option121-ignored shows ...
    assert "route: SIOCADDRT: Network is unreachable" in text
    # ... and busybox ifup ran the stanza's routes, in order, after the lease.
    ran = [x for x in capture.lines if x.startswith("ip route replace")]
    assert ran == ["ip route replace 10.128.0.1/32 dev eth0", "ip route replace default via 10.128.0.1 dev eth0"]
    assert "64 bytes from 10.128.0.1" in text and "1 packets received" in text, text[-2000:]


@pytest.mark.parametrize("network_ip,fires", [(GCE_LEASE.client, False), ("10.128.0.9", True)])
def test_the_console_is_checked_against_what_the_api_assigned(netcfg_boot, catalog, api_context, network_ip, fires):
    """The guest's own console lines beside the GCE sim's description of vm1: quiet when the sim
    assigned the leased address, the mismatch named with both addresses when it did not."""
    from consolewatch.fetchers.base import Target
    from consolewatch.fetchers.gce import GceFetcher
    from consolewatch.model import Chunk
    from consolewatch.session import Session

    _, _, capture = netcfg_boot
    url, sim = start_gce_sim(SimInstance(network_ip=network_ip, display_device=False))
    with sim:
        ctx = api_context(GceFetcher(Target("gce", "proj/us-central1-a/vm1", {}),
                                     env={"CONSOLEWATCH_GCE_ENDPOINT": url}))
    session = Session(catalog)
    session.feed(ctx)
    session.feed(Chunk("serial-1", capture.result.serial))
    session.finish()
    found = [f for f in session.result().findings("all") if f.rule == "address-differs-from-assigned"]
    assert bool(found) is fires
    if fires:
        assert found[0].evidence[0].text.startswith("udhcpc: lease of 10.128.0.2 obtained")
        assert "The guest configured 10.128.0.2; the cloud assigned this machine 10.128.0.9" in found[0].remediation


def test_the_grub_entry_names_gce_disk_and_serial_console(netcfg_boot):
    grub, out, _ = netcfg_boot
    assert f"    initrd /boot/{out.name}" in grub.splitlines()
    assert "root=/dev/sda1 ro console=ttyS0,115200" in grub
