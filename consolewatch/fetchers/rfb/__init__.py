"""An RFB (VNC) client: just enough of RFC 6143 to watch a console screen.

    protocol.py     versions, security (None, VNC Authentication), messages, pixel format, limits
    transport.py    plain TCP and RFB over a websocket (noVNC/websockify, subprotocol `binary`)
    framebuffer.py  the screen as 32-bit pixels: Raw, CopyRect, fills, PNG snapshots
    zrle.py         the ZRLE decoder (zlib bounded against bombs)
    client.py       one connection: handshake, ServerInit, SetPixelFormat/SetEncodings, the update loop

What was verified against real servers (tests/qemu/test_vnc_qemu.py: QEMU 7.2's own VNC server,
over TCP and websocket, with and without a password) and what only against consolewatch's own
simulator is written in each module. Nothing here imports anything but the standard library,
`websockets` (only for websocket URLs) and `cryptography` (only for VNC Authentication).
"""

from consolewatch.fetchers.rfb.protocol import AuthError, Limits, RfbClosed, RfbError, RfbStalled

__all__ = ["AuthError", "Limits", "RfbClosed", "RfbError", "RfbStalled"]
