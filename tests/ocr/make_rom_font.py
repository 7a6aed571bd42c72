"""Rebuild consolewatch/ocr/fonts/vga-rom-8x16.psf from a SeaVGABIOS image (see fonts/README.md).

    python tests/ocr/make_rom_font.py [/usr/share/seabios/vgabios-stdvga.bin]

The VGA BIOS holds the 8x16 ROM font as 256 glyphs x 16 bytes in code page 437 order; it is
found by looking for the glyphs of "A" and "B", which both fonts draw alike.
"""

from __future__ import annotations

import sys
from pathlib import Path

from consolewatch.ocr.font import Font, builtin_font, dump_psf2, load_font

OUT = Path(__file__).resolve().parents[2] / "consolewatch" / "ocr" / "fonts" / "vga-rom-8x16.psf"


def main(argv: list[str]) -> int:
    rom = Path(argv[0] if argv else "/usr/share/seabios/vgabios-stdvga.bin").read_bytes()
    lat = builtin_font("Lat15-VGA16.psf.gz")
    ab = lat.glyphs[lat.index["A"]] + lat.glyphs[lat.index["B"]]
    at = rom.find(ab)
    if at < 0:
        print("8x16 font not found in the VGA BIOS image", file=sys.stderr)
        return 1
    start = at - 0x41 * 16
    table = rom[start : start + 256 * 16]
    cp437 = bytes(range(256)).decode("cp437")
    chars = [(cp437[i],) if i >= 0x20 and i != 0x7F else () for i in range(256)]
    chars[0x20] = (" ", "\u00a0")
    font = Font("vga-rom-8x16", 8, 16, tuple(table[i * 16 : i * 16 + 16] for i in range(256)), tuple(chars), {})
    data = dump_psf2(font)
    load_font(data)  # round-trip check
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data)} bytes) from offset {start:#x}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
