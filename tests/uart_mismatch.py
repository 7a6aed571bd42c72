"""What a serial receiver set to the wrong speed reads: real console bytes sent as 8N1 frames
at one baud rate and sampled by a UART at another (the physical mechanism of a baud-rate
mismatch). Used to make the synthetic non-text consoles of the tests and of the rule samples
in parsers/detectors/console.yaml:

    python tests/uart_mismatch.py samples/qemu/healthy/serial.log 115200 9600 > garbled.bin
"""

from __future__ import annotations

import sys


def bits(data: bytes) -> list[int]:
    """The line level, one entry per bit time: idle high, start bit, 8 data bits LSB first, stop bit."""
    out = [1, 1]
    for byte in data:
        out += [0, *((byte >> i) & 1 for i in range(8)), 1]
    return out + [1, 1]


def receive(data: bytes, sent_baud: int, read_baud: int) -> bytes:
    """The bytes a UART at `read_baud` decodes from `data` sent at `sent_baud`."""
    line = bits(data)
    ratio = sent_baud / read_baud  # sender bit times per receiver bit time
    out = bytearray()
    t = 0.0
    end = len(line)
    while t < end - 1:
        if line[int(t)] == 1:
            t += ratio / 16  # idle: the receiver polls at 16x its bit rate
            continue
        mid = t + ratio / 2  # the middle of the start bit
        value = 0
        for i in range(8):
            at = int(mid + (i + 1) * ratio)
            value |= (line[at] if at < end else 1) << i
        out.append(value)
        t = mid + 9.5 * ratio  # past the stop bit (framing errors are not reported)
    return bytes(out)


if __name__ == "__main__":
    raw = open(sys.argv[1], "rb").read()
    sys.stdout.buffer.write(receive(raw, int(sys.argv[2]), int(sys.argv[3])))
