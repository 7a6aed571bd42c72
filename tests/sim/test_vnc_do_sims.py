"""The simulated DigitalOcean API and VNC console, spoken to with plain sockets and urllib (not
consolewatch's clients): their bytes are what the real protocols say."""

from __future__ import annotations

import json
import socket
import struct
import urllib.error
import urllib.request

import pytest

from consolewatch.sim.digitalocean import start_do_sim
from consolewatch.sim.gce import sample_log
from consolewatch.sim.player import ConsolePlayer
from consolewatch.sim.screen import FG
from consolewatch.sim.vnc import start_vnc_sim
from consolewatch.sim.vnc_screen import SimScreen


def _get(url: str, token: str | None) -> tuple[int, dict, dict]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def test_the_do_api_answers_like_api_v2():
    with start_do_sim() as api:
        api.add_droplet(3164444, name="example.com")
        status, headers, body = _get(f"{api.url}/v2/droplets/3164444", api.token)
        assert status == 200 and headers["ratelimit-limit"] == "5000"
        d = body["droplet"]
        assert d["id"] == 3164444 and d["size_slug"] == "s-1vcpu-1gb" and d["region"]["slug"] == "nyc3"
        public, private = d["networks"]["v4"]
        assert (public["type"], public["netmask"], private["gateway"]) == ("public", "255.255.192.0", None)
        assert d["networks"]["v6"][0]["netmask"] == 64
        assert _get(f"{api.url}/v2/droplets/3164444", None)[2] == {"id": "Unauthorized",
                                                                     "message": "Unable to authenticate you"}
        assert _get(f"{api.url}/v2/droplets/1", api.token)[0] == 404


def _recv(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        assert chunk, "closed"
        out += chunk
    return out


@pytest.mark.parametrize("version", [b"RFB 003.008\n", b"RFB 003.003\n"])
def test_the_vnc_console_speaks_rfb_on_the_wire(version):
    screen = SimScreen(ConsolePlayer(sample_log("qemu/dhcp-no-lease"), bytes_per_second=0), cursor=False)
    with start_vnc_sim(screen, version=tuple(int(v) for v in version[4:11].split(b"."))) as sim:
        host, port = sim.tcp_url.removeprefix("vnc://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            assert _recv(s, 12) == version
            s.sendall(version)
            if version == b"RFB 003.008\n":
                assert _recv(s, 2) == b"\x01\x01"  # one security type: None
                s.sendall(b"\x01")
                assert _recv(s, 4) == b"\0\0\0\0"  # SecurityResult OK
            else:
                assert _recv(s, 4) == b"\0\0\0\x01"  # 3.3: the server picks None
            s.sendall(b"\x01")  # ClientInit, shared
            width, height, bpp, depth, _, true_colour = struct.unpack(">HHBBBB", _recv(s, 8))
            _recv(s, 12)
            name = _recv(s, struct.unpack(">I", _recv(s, 4))[0])
            assert (width, height, bpp, depth, true_colour, name) == (720, 400, 32, 24, 1, b"consolewatch-sim")
            s.sendall(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: Raw only
            s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 720, 400))  # the whole screen
            kind, count = struct.unpack(">BxH", _recv(s, 4))
            x, y, w, h, encoding = struct.unpack(">HHHHi", _recv(s, 12))
            pixels = _recv(s, w * h * 4)
    assert (kind, count, x, y, w, h, encoding) == (0, 1, 0, 0, 720, 400, 0)
    lit = bytes([FG[2], FG[1], FG[0], 0])  # little-endian, red at bit 16: B, G, R, 0
    assert pixels.count(lit) > 10_000 and len(set(pixels[i : i + 4] for i in range(0, len(pixels), 4))) == 2
