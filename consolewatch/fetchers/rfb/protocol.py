"""RFB wire format (RFC 6143): constants, the pixel format, handshake pieces and client messages.

All integers are big-endian. Verified against QEMU 7.2 (tests/qemu/test_vnc_qemu.py): version
`RFB 003.008`, security types [1] without a password and [2] with one, a SecurityResult after
None in 3.8, the failure reason after a failed VNC Authentication (with a trailing NUL), and the
DES quirk below. Versions 3.3 and 3.7 are exercised against the simulator (consolewatch.sim.vnc)
only: in 3.3 the server picks the security type (a U32) and sends no SecurityResult after None;
3.7 lets the client choose but also sends none after None (RFC 6143 §7.1.2-7.1.3).

Everything a server sends is bounded before it is read (`Limits`): a name, a failure reason or a
clipboard text is never held whole past its limit, a framebuffer is never allocated past
`max_pixels`, and a server that stops talking is a `RfbStalled`, not a hang.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from consolewatch.fetchers.base import one_line

# Security types (§7.1.2) and encodings (§7.7; Tight and LastRect from the IANA registry).
SEC_INVALID, SEC_NONE, SEC_VNC = 0, 1, 2
SEC_NAMES = {0: "Invalid", 1: "None", 2: "VNC Authentication", 5: "RA2", 6: "RA2ne", 16: "Tight",
             18: "TLS", 19: "VeNCrypt", 22: "XVP", 30: "Apple ARD", 33: "Apple", 113: "MSLogonII"}
ENC_RAW, ENC_COPYRECT, ENC_ZRLE = 0, 1, 16
ENC_DESKTOP_SIZE = -223
ENC_NAMES = {0: "Raw", 1: "CopyRect", 2: "RRE", 5: "Hextile", 6: "Zlib", 7: "Tight", 15: "TRLE", 16: "ZRLE",
             -223: "DesktopSize", -224: "LastRect", -239: "Cursor", -308: "ExtendedDesktopSize"}
#: What the client offers, most wanted first. Tight is left out: what it adds over ZRLE is JPEG,
#: which blurs the glyphs the OCR matches exactly; every server that speaks Tight speaks ZRLE.
DEFAULT_ENCODINGS = (ENC_ZRLE, ENC_COPYRECT, ENC_RAW, ENC_DESKTOP_SIZE)

# Server -> client message types (§7.6).
MSG_UPDATE, MSG_COLOURMAP, MSG_BELL, MSG_CUT_TEXT = 0, 1, 2, 3

_VERSION = re.compile(rb"^RFB (\d{3})\.(\d{3})\n$")


class RfbError(Exception):
    """The server broke the protocol or a limit: one line, fit to show as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message, 300))


class RfbClosed(RfbError):
    """The connection could not be made or went away (transient: worth reconnecting)."""


class RfbStalled(RfbError):
    """The server stopped answering (transient: worth reconnecting)."""


class AuthError(RfbError):
    """The server wants what consolewatch cannot give (a password, another security type): the user must act."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a server may make the client hold or wait for."""

    max_pixels: int = 16_000_000
    """Largest framebuffer (width x height); the same bound the OCR puts on a frame (a 4K screen is 8.3 MP)."""
    max_side: int = 16384
    max_text: int = 64 << 10
    """Longest desktop name or failure reason kept (longer ones are refused)."""
    max_cut_text: int = 16 << 20
    """Longest clipboard text read (and thrown away) before the server is given up on."""
    handshake_timeout: float = 10.0
    """Seconds from connecting to ServerInit."""
    stall_timeout: float = 15.0
    """Seconds a started message may take, and a refresh request may go unanswered."""
    keepalive: float = 20.0
    """Seconds of silence after which a small non-incremental refresh is requested (a quiet
    screen sends nothing, a dead server too: only an answer tells them apart)."""
    ws_max_message: int = 4 << 20


@dataclass(frozen=True, slots=True)
class PixelFormat:
    bits_per_pixel: int = 32
    depth: int = 24
    big_endian: bool = False
    true_colour: bool = True
    red_max: int = 255
    green_max: int = 255
    blue_max: int = 255
    red_shift: int = 16
    green_shift: int = 8
    blue_shift: int = 0

    _STRUCT = struct.Struct(">BBBBHHHBBB3x")

    def pack(self) -> bytes:
        return self._STRUCT.pack(self.bits_per_pixel, self.depth, int(self.big_endian), int(self.true_colour),
                                 self.red_max, self.green_max, self.blue_max,
                                 self.red_shift, self.green_shift, self.blue_shift)

    @classmethod
    def unpack(cls, data: bytes) -> PixelFormat:
        bpp, depth, be, tc, rm, gm, bm, rs, gs, bs = cls._STRUCT.unpack(data)
        return cls(bpp, depth, bool(be), bool(tc), rm, gm, bm, rs, gs, bs)

    def __str__(self) -> str:
        return (f"{self.bits_per_pixel} bpp depth {self.depth} {'BE' if self.big_endian else 'LE'} "
                f"{'true colour' if self.true_colour else 'colour map'}")


#: What the client asks for: 32-bit little-endian true colour, red at bit 16 -- in memory each
#: pixel is the bytes B, G, R, 0 (Pillow's "BGRX"), and a ZRLE CPIXEL is the 3 bytes B, G, R.
CLIENT_FORMAT = PixelFormat()


def parse_version(data: bytes) -> tuple[int, int]:
    m = _VERSION.match(data)
    if m is None:
        raise RfbError(f"not an RFB server: it began with {data[:12]!r}")
    return int(m.group(1)), int(m.group(2))


def choose_version(server: tuple[int, int]) -> tuple[int, int]:
    """The version to answer with: 3.8, 3.7 or 3.3 (servers announcing 3.4-3.6 speak 3.3,
    Apple's 3.889 speaks 3.8; §7.1.1)."""
    major, minor = server
    if major < 3:
        raise RfbError(f"the server speaks RFB {major}.{minor}, older than 3.3")
    if major > 3 or minor >= 8:
        return 3, 8
    return (3, 7) if minor == 7 else (3, 3)


def version_bytes(version: tuple[int, int]) -> bytes:
    return b"RFB %03d.%03d\n" % version


def choose_security(offered: bytes, have_password: bool) -> int:
    """None when offered (no password is sent where none is asked), else VNC Authentication;
    AuthError naming what the server wanted otherwise."""
    if SEC_NONE in offered:
        return SEC_NONE
    if SEC_VNC in offered:
        if not have_password:
            raise AuthError("the VNC server asks for a password: put it in a file named by --vnc-password-file, "
                            "or in CONSOLEWATCH_VNC_PASSWORD")
        return SEC_VNC
    names = ", ".join(f"{t} ({SEC_NAMES.get(t, 'unknown')})" for t in offered[:16])
    raise AuthError(f"the VNC server offers only security types {names}; consolewatch speaks None and "
                    "VNC Authentication")


def _mirror(byte: int) -> int:
    return int(f"{byte:08b}"[::-1], 2)


def vnc_auth_response(challenge: bytes, password: str) -> bytes:
    """The 16-byte answer to a VNC Authentication challenge: DES-ECB with the password (first 8
    bytes, NUL-padded) as key, each key byte's bits mirrored -- what every VNC implementation does
    and QEMU requires (an unmirrored key is refused)."""
    if len(challenge) != 16:
        raise RfbError(f"VNC Authentication challenge of {len(challenge)} bytes (expected 16)")
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    key = bytes(_mirror(b) for b in password.encode("latin-1", "replace")[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # EDE with K1=K2=K3 is single DES
    return encryptor.update(challenge) + encryptor.finalize()


# -- client messages (§7.5) -----------------------------------------------------------------

def set_pixel_format(fmt: PixelFormat = CLIENT_FORMAT) -> bytes:
    return b"\x00\x00\x00\x00" + fmt.pack()


def set_encodings(encodings: tuple[int, ...]) -> bytes:
    return struct.pack(f">BxH{len(encodings)}i", 2, len(encodings), *encodings)


def update_request(incremental: bool, x: int, y: int, w: int, h: int) -> bytes:
    return struct.pack(">BBHHHH", 3, int(incremental), x, y, w, h)


def check_size(width: int, height: int, limits: Limits, what: str) -> None:
    """A framebuffer size the client is willing to hold, or RfbError before anything is allocated."""
    if width < 1 or height < 1:
        raise RfbError(f"{what} announced an empty {width}x{height} framebuffer")
    if width > limits.max_side or height > limits.max_side or width * height > limits.max_pixels:
        raise RfbError(f"{what} announced a {width}x{height} framebuffer ({width * height:,} pixels), over the "
                       f"limit of {limits.max_pixels:,} pixels")
