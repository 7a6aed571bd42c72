"""`consolewatch demo`: simulated clouds playing real failed boots, followed by `tail`.

Each act starts a local server speaking a cloud's real API (the GCE Compute REST API, the EC2
Query API, DigitalOcean's API v2 and an RFB console over a websocket), has it play a console
recorded from a real boot, and follows it the way a user would follow a real machine. Nothing
leaves the machine; no account is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def sample_path(relative: str) -> Path:
    """A bundled sample: inside the installed wheel, or samples/ of a source checkout."""
    here = Path(__file__).resolve().parent.parent
    for base in (here / "_builtin" / "samples", here.parent / "samples"):
        if (base / relative).is_file():
            return base / relative
    raise FileNotFoundError(f"bundled sample {relative} is missing from this installation")


@dataclass(frozen=True)
class Act:
    cloud: str
    title: str
    log: str
    """Sample path (relative to samples/) of the real console the simulated machine prints."""
    start: Callable[[bytes, float], tuple[str, dict[str, str], Any]]
    """(console, bytes per second) -> (target, environment for the fetcher, handle to close)."""
    options: tuple[tuple[str, Any], ...] = ()
    """Target options of this act (`tail --os-cloud NAME` for the OpenStack act, say)."""


def _gce(log: bytes, rate: float):
    from consolewatch.sim.gce import SimInstance, start_gce_sim

    vm = SimInstance.playing(log, rate=rate, name="custom-image-vm", project="demo-project",
                             zone="us-central1-a", nic_type="VIRTIO_NET", display_device=False)
    url, sim = start_gce_sim(vm)
    return "gce:demo-project/us-central1-a/custom-image-vm", {"CONSOLEWATCH_GCE_ENDPOINT": url}, sim


def _aws(log: bytes, rate: float):
    from consolewatch.sim.ec2 import start_ec2_sim

    sim = start_ec2_sim(serial=False)
    sim.add_instance("i-0d3a5c0ffee123456", log, bytes_per_second=rate, instance_type="m5.large")
    return "aws:us-east-1/i-0d3a5c0ffee123456", sim.env(), sim


#: A screen is read only as fast as it can be photographed: the droplet's console prints at most
#: this many bytes per second (about 60 lines), whatever --speed says.
SCREEN_RATE = 4000.0


def _do(log: bytes, rate: float):
    from contextlib import ExitStack

    from consolewatch.sim.digitalocean import start_do_sim
    from consolewatch.sim.player import ConsolePlayer
    from consolewatch.sim.vnc import start_vnc_sim
    from consolewatch.sim.vnc_screen import SimScreen

    handles = ExitStack()
    api = start_do_sim()
    handles.callback(api.close)
    api.add_droplet(318154901, name="custom-image-droplet")
    player = ConsolePlayer(log, bytes_per_second=min(rate, SCREEN_RATE), start=float("inf"))
    console = start_vnc_sim(SimScreen(player), boot_on_connect=True)
    handles.callback(console.close)
    return "do:318154901", api.env(CONSOLEWATCH_DO_CONSOLE_URL=console.ws_url), handles


#: The OpenStack act's console is short (a ttylinux boot): played slowly enough to be seen polled.
NOVA_RATE = 400.0


def _openstack(log: bytes, rate: float):
    import os
    import tempfile
    from contextlib import ExitStack

    from consolewatch.sim.openstack import SimServer, start_openstack_sim
    from consolewatch.sim.player import ConsolePlayer

    handles = ExitStack()
    sim = start_openstack_sim(SimServer("ttylinux-web-1", player=ConsolePlayer(log, bytes_per_second=min(rate, NOVA_RATE)),
                                        flavor_name="m1.tiny"))
    handles.callback(sim.close)
    fd, path = tempfile.mkstemp(prefix="consolewatch-demo-", suffix="-clouds.yaml")
    with os.fdopen(fd, "w") as f:
        f.write(sim.clouds_yaml("consolewatch-demo"))  # not the user's OS_* or clouds.yaml: the demo's own cloud
    handles.callback(os.unlink, path)
    return "openstack:ttylinux-web-1", {"OS_CLIENT_CONFIG_FILE": path}, handles


ACTS = (
    Act("gce", "GCE: a custom image whose DHCP client ignores option 121 (a /32 lease)",
        "qemu/gce-option121-ignored/serial.log", _gce),
    Act("aws", "AWS Nitro (m5.large): an image told root=/dev/xvda1, as on Xen",
        "qemu/wrong-root-nvme/serial.log", _aws),
    Act("do", "DigitalOcean: an image that only runs a DHCP client on a droplet addressed statically, "
              "read off its screen (VNC)", "qemu/dhcp-no-lease/serial.log", _do),
    Act("openstack", "OpenStack (Nova console log): a ttylinux image whose DHCP gets no lease, so the metadata "
                     "service is out of reach", "openstack-ttylinux-no-lease-metadata-unreachable/console.log",
        _openstack, options=(("os_cloud", "consolewatch-demo"), ("poll", 0.5))),
)

