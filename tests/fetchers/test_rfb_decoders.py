"""Property tests for the RFB message decoders: ZRLE tiles, the framebuffer's rectangle
operations, the server-message loop and the handshake pieces, on valid and hostile bytes.

The ZRLE encoder used for round trips is written here from RFC 6143 §7.7.6 (independent of the
decoder and of the simulator's encoder), so every subencoding and palette size is covered;
real servers' ZRLE is covered by tests/qemu/test_vnc_qemu.py.
"""

from __future__ import annotations

import asyncio
import struct
import zlib

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from consolewatch.fetchers.rfb import protocol as p
from consolewatch.fetchers.rfb.client import RfbSession
from consolewatch.fetchers.rfb.framebuffer import Framebuffer, scrolled
from consolewatch.fetchers.rfb.protocol import Limits, RfbClosed, RfbError
from consolewatch.fetchers.rfb.zrle import ZrleDecoder, bound
from consolewatch.sim.vnc_screen import ZrleEncoder, raw_pixels
from tests.hostile import BytesTransport

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- an independent ZRLE encoder (RFC 6143 §7.7.6) ----------------------------------------------

def _cpixel(colour: int) -> bytes:
    return colour.to_bytes(3, "little")  # B, G, R for the client's format


def _run_length(n: int) -> bytes:
    n -= 1
    return b"\xff" * (n // 255) + bytes([n % 255])


def _encode_tile(pixels: list[int], tw: int, th: int, sub: str) -> bytes:
    palette = sorted(set(pixels))
    index = {c: i for i, c in enumerate(palette)}
    if sub == "raw":
        return b"\x00" + b"".join(map(_cpixel, pixels))
    if sub == "solid":
        return b"\x01" + _cpixel(pixels[0])
    if sub == "packed":
        bits = 1 if len(palette) == 2 else 2 if len(palette) <= 4 else 4
        out = bytearray([len(palette)]) + b"".join(map(_cpixel, palette))
        for r in range(th):
            acc, n = 0, 0
            row = bytearray()
            for c in pixels[r * tw : (r + 1) * tw]:
                acc = (acc << bits) | index[c]
                n += bits
                if n == 8:
                    row.append(acc)
                    acc, n = 0, 0
            if n:
                row.append(acc << (8 - n))
            out += row
        return bytes(out)
    runs: list[tuple[int, int]] = []
    for c in pixels:
        if runs and runs[-1][0] == c:
            runs[-1] = (c, runs[-1][1] + 1)
        else:
            runs.append((c, 1))
    if sub == "rle":
        return b"\x80" + b"".join(_cpixel(c) + _run_length(n) for c, n in runs)
    out = bytearray([128 + len(palette)]) + b"".join(map(_cpixel, palette))
    for c, n in runs:
        out += bytes([index[c]]) if n == 1 else bytes([index[c] | 128]) + _run_length(n)
    return bytes(out)


def _subencodings(colours: int) -> list[str]:
    subs = ["raw", "rle"]
    if colours == 1:
        subs.append("solid")
    if 2 <= colours <= 16:
        subs.append("packed")
    if 2 <= colours <= 127:
        subs.append("palette-rle")
    return subs


@st.composite
def zrle_rects(draw):
    w, h = draw(st.integers(1, 150)), draw(st.integers(1, 100))
    colours = draw(st.lists(st.integers(0, 0xFFFFFF), min_size=1, max_size=20, unique=True))
    rnd = draw(st.randoms(use_true_random=False))
    pixels: list[int] = []
    while len(pixels) < w * h:  # runs of one colour, as on a screen (and so RLE has runs to find)
        pixels += [rnd.choice(colours)] * rnd.choice((1, 1, 2, 7, 64, 300))
    del pixels[w * h :]
    subs: list[str] = []
    z = zlib.compressobj()
    body = bytearray()
    for ty in range(0, h, 64):
        for tx in range(0, w, 64):
            tw, th = min(64, w - tx), min(64, h - ty)
            tile = [pixels[(ty + r) * w + tx + c] for r in range(th) for c in range(tw)]
            sub = draw(st.sampled_from(_subencodings(len(set(tile)))))
            subs.append(sub)
            body += _encode_tile(tile, tw, th, sub)
    data = z.compress(bytes(body)) + z.flush(zlib.Z_SYNC_FLUSH)
    return w, h, pixels, data, subs


@SETTINGS
@given(zrle_rects(), st.integers(0, 20), st.integers(0, 20))
def test_zrle_decodes_every_subencoding_to_the_pixels_encoded(rect, x, y):
    w, h, pixels, data, _ = rect
    fb = Framebuffer(w + x, h + y)
    ZrleDecoder().decode(fb, x, y, w, h, data)
    for r in range(h):
        row = fb.data[((y + r) * fb.width + x) * 4 : ((y + r) * fb.width + x + w) * 4]
        assert row == b"".join(c.to_bytes(3, "little") + b"\0" for c in pixels[r * w : (r + 1) * w])


@SETTINGS
@given(st.binary(max_size=2000), st.integers(1, 80), st.integers(1, 80), st.booleans())
def test_zrle_on_arbitrary_bytes_decodes_or_raises_rfb_error(junk, w, h, wrap):
    """Hostile ZRLE payloads (raw garbage, or garbage correctly zlib-wrapped so the tile parser
    sees it): an RfbError or a decoded rectangle, never another exception, never more inflated
    than the rectangle can need."""
    data = zlib.compress(junk) if wrap else junk
    decoder = ZrleDecoder()
    fb = Framebuffer(80, 80)
    try:
        decoder.decode(fb, 0, 0, w, h, data)
    except RfbError:
        pass
    assert decoder.inflated <= bound(w, h)
    assert len(fb.data) == 80 * 80 * 4


def test_a_zlib_bomb_is_refused_after_inflating_at_most_the_bound():
    bomb = zlib.compress(bytes(64 << 20), 9)
    decoder = ZrleDecoder()
    with pytest.raises(RfbError, match="zlib bomb"):
        decoder.decode(Framebuffer(720, 400), 0, 0, 720, 400, bomb)
    assert decoder.inflated == 0 and len(bomb) < 100_000


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(1, 150), st.integers(1, 80), st.sampled_from(["auto", "mixed"]))
def test_the_simulators_zrle_is_what_its_raw_pixels_are(rnd, w, h, mode):
    """The simulated server's ZRLE and Raw of the same screen decode to the same picture."""
    from consolewatch.fetchers.rfb.protocol import CLIENT_FORMAT

    mask = bytes(rnd.choice((0, 0, 0, 1)) for _ in range(w * h))
    rect = ZrleEncoder(mode).rect(mask, w, 0, 0, w, h, CLIENT_FORMAT)
    fb = Framebuffer(w, h)
    ZrleDecoder().decode(fb, 0, 0, w, h, rect[16:])
    assert bytes(fb.data) == raw_pixels(mask, CLIENT_FORMAT)


# -- framebuffer rectangles --------------------------------------------------------------------

@SETTINGS
@given(st.integers(1, 40), st.integers(1, 30),
       st.lists(st.tuples(st.sampled_from(["put", "fill", "copy"]), st.integers(0, 50), st.integers(0, 40),
                          st.integers(0, 50), st.integers(0, 40), st.integers(0, 50), st.integers(0, 40)),
                max_size=12))
def test_rectangles_outside_the_framebuffer_are_refused_and_never_written(width, height, ops):
    fb = Framebuffer(width, height)
    model = [[b"\0\0\0\0"] * width for _ in range(height)]
    for n, (op, x, y, w, h, sx, sy) in enumerate(ops):
        colour = bytes([n, n, n, 0])
        inside = x + w <= width and y + h <= height and (op != "copy" or (sx + w <= width and sy + h <= height))
        try:
            if op == "put":
                fb.put(x, y, w, h, colour * (w * h))
            elif op == "fill":
                fb.fill(x, y, w, h, colour)
            else:
                fb.copy(x, y, w, h, sx, sy)
        except RfbError as exc:
            assert not inside, exc
            assert "outside" in str(exc)
            continue
        assert inside
        if op == "copy":
            block = [model[sy + r][sx : sx + w] for r in range(h)]
            for r in range(h):
                model[y + r][x : x + w] = block[r]
        else:
            for r in range(h):
                model[y + r][x : x + w] = [colour] * w
        assert len(fb.data) == width * height * 4
    assert bytes(fb.data) == b"".join(b"".join(row) for row in model)


@pytest.mark.parametrize("width, height", [(65535, 65535), (20000, 10), (0, 400), (720, 0)])
def test_a_framebuffer_over_the_limits_is_refused_before_it_is_allocated(width, height):
    with pytest.raises(RfbError, match="framebuffer"):
        Framebuffer(width, height, Limits())


@SETTINGS
@given(st.lists(st.integers(0, 5), min_size=40, max_size=40), st.integers(1, 30), st.integers(0, 10 ** 6))
def test_scrolled_finds_the_shift_of_a_scrolled_picture(rows, shift, seed):
    import random

    rnd = random.Random(seed)
    old = [rnd.getrandbits(60) for _ in range(200)]
    new = old[shift * 4 :] + [rnd.getrandbits(60) for _ in range(shift * 4)]
    assert scrolled(old, old) == 0
    assert scrolled(old, new) == shift * 4
    assert scrolled(old, [rnd.getrandbits(60) for _ in range(200)]) is None
    assert scrolled(old, old[:100]) is None


# -- the message loop on hostile bytes ----------------------------------------------------------

def _server_hello(width: int = 64, height: int = 32, version: bytes = b"RFB 003.008\n") -> bytes:
    name = b"test"
    return (version + b"\x01\x01" + struct.pack(">I", 0) + struct.pack(">HH", width, height)
            + p.PixelFormat().pack() + struct.pack(">I", len(name)) + name)


def _session(data: bytes) -> RfbSession:
    return RfbSession(BytesTransport(data), limits=Limits(stall_timeout=1, keepalive=1), min_interval=0)


@SETTINGS
@given(st.binary(max_size=3000))
@example(b"\x01\x00\x00\x00\x00\x01" + bytes(6) + b"\x02\x03\x00")  # SetColourMapEntries, Bell, ServerCutText
def test_arbitrary_server_messages_end_in_an_rfb_error(junk):
    async def run():
        s = _session(_server_hello() + junk)
        await s.handshake(None)
        await s.pump()

    with pytest.raises(RfbError):
        asyncio.run(run())


@SETTINGS
@given(st.binary(max_size=200))
def test_arbitrary_handshakes_end_in_an_rfb_error(junk):
    async def run():
        await _session(junk).handshake("secret")

    with pytest.raises(RfbError):
        asyncio.run(run())


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 63), st.integers(0, 31), st.integers(1, 8), st.integers(1, 8)),
                min_size=1, max_size=6))
def test_raw_and_copyrect_updates_keep_the_framebuffer_current(rects):
    """Valid updates (Raw rectangles, then a CopyRect of the first) draw what they say."""
    msg = bytearray()
    expect = Framebuffer(64, 32)
    body = bytearray()
    count = 0
    for n, (x, y, w, h) in enumerate(rects):
        w, h = min(w, 64 - x), min(h, 32 - y)
        pixels = bytes([n + 1, 2 * n, 3, 0]) * (w * h)
        body += struct.pack(">HHHHi", x, y, w, h, p.ENC_RAW) + pixels
        expect.put(x, y, w, h, pixels)
        count += 1
    x, y, w, h = rects[0]
    w, h = min(w, 64 - x), min(h, 32 - y)
    body += struct.pack(">HHHHi", 0, 0, w, h, p.ENC_COPYRECT) + struct.pack(">HH", x, y)
    expect.copy(0, 0, w, h, x, y)
    msg += struct.pack(">BxH", 0, count + 1) + body

    async def run():
        s = _session(_server_hello() + bytes(msg))
        await s.handshake(None)
        with pytest.raises(RfbClosed):
            await s.pump()
        return s

    s = asyncio.run(run())
    assert s.updates == 1 and bytes(s.fb.data) == bytes(expect.data)


def test_desktop_size_resizes_within_the_limits_only():
    grow = struct.pack(">BxH", 0, 1) + struct.pack(">HHHHi", 0, 0, 1024, 768, p.ENC_DESKTOP_SIZE)
    huge = struct.pack(">BxH", 0, 1) + struct.pack(">HHHHi", 0, 0, 30000, 30000, p.ENC_DESKTOP_SIZE)

    async def run(data):
        s = _session(_server_hello() + data)
        await s.handshake(None)
        try:
            await s.pump()
        except RfbClosed:
            pass
        return s

    grown = asyncio.run(run(grow))
    assert (grown.fb.width, grown.fb.height) == (1024, 768)
    with pytest.raises(RfbError, match="30000x30000 framebuffer"):
        asyncio.run(run(huge))


# -- handshake pieces ----------------------------------------------------------------------------

@pytest.mark.parametrize("sent, answer", [
    (b"RFB 003.003\n", (3, 3)), (b"RFB 003.005\n", (3, 3)), (b"RFB 003.007\n", (3, 7)),
    (b"RFB 003.008\n", (3, 8)), (b"RFB 003.889\n", (3, 8)), (b"RFB 004.001\n", (3, 8)),
])
def test_the_client_answers_with_a_version_it_speaks(sent, answer):
    assert p.choose_version(p.parse_version(sent)) == answer


@pytest.mark.parametrize("sent", [b"HTTP/1.1 400", b"RFB 3.8\n\n\n\n\n", b"\x00" * 12, b"RFB 002.000\n"])
def test_what_is_not_an_rfb_greeting_is_refused(sent):
    with pytest.raises(RfbError):
        p.choose_version(p.parse_version(sent))


@SETTINGS
@given(st.tuples(st.integers(1, 255), st.integers(0, 255), st.booleans(), st.booleans(),
                 st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 65535),
                 st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)))
def test_pixel_format_round_trips(values):
    fmt = p.PixelFormat(*values)
    assert p.PixelFormat.unpack(fmt.pack()) == fmt and len(fmt.pack()) == 16


def test_security_choice_never_sends_a_password_where_none_is_asked():
    assert p.choose_security(bytes([2, 1]), True) == p.SEC_NONE
    assert p.choose_security(bytes([2]), True) == p.SEC_VNC
    with pytest.raises(p.AuthError, match="--vnc-password-file"):
        p.choose_security(bytes([2]), False)
    with pytest.raises(p.AuthError, match=r"18 \(TLS\), 19 \(VeNCrypt\)"):
        p.choose_security(bytes([18, 19]), True)


def test_vnc_authentication_mirrors_the_key_bits():
    """The response is DES with each key byte bit-mirrored: "\\x01" (mirrored: 0x80) and "\\x80"
    swap roles, so the answers for the two passwords are those of plain DES with the other key."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    challenge = bytes(range(16))
    plain = Cipher(TripleDES((b"\x80" + bytes(7)) * 3), modes.ECB())  # K1=K2=K3: single DES
    expected = plain.encryptor().update(challenge)
    assert p.vnc_auth_response(challenge, "\x01") == expected
    assert p.vnc_auth_response(challenge, "password") == p.vnc_auth_response(challenge, "password-longer")
    assert p.vnc_auth_response(challenge, "a") != p.vnc_auth_response(challenge, "b")
