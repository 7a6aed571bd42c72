"""The row terminal: what a screen would show for one console row."""

from consolewatch.normalize.terminal import RowTerminal


def render(text: str) -> list[str]:
    return RowTerminal().render(text)


def test_cursor_position_to_another_row_ends_the_row():
    # SeaBIOS/GRUB print through cursor positioning: one character per escape.
    t = RowTerminal()
    rows = t.render("\x1b[1;1HB\x1b[1;2Ho\x1b[1;3Ho\x1b[1;4Ht\x1b[2;1Hnext")
    assert rows == ["Boot", "next"]


def test_erase_in_line_variants():
    assert render("abcdef\x1b[3D\x1b[K") == ["abc"]
    assert render("abcdef\x1b[3D\x1b[1K") == ["    ef"]
    assert render("abcdef\x1b[2K") == [""]


def test_c1_csi_is_interpreted_not_passed_through():
    assert render("x\x9b31my") == ["xy"]


def test_a_reset_and_cursor_jumps_do_not_indent_what_follows():
    # SeaBIOS then the kernel, as QEMU's serial file has it (samples/qemu-fail-then-success)
    assert render("Probing EDD (edd=off to disable)... o\x1bc\x1b[?7l\x1b[2J[    0.000000] Linux version 6.1") == [
        "Probing EDD (edd=off to disable)... o", "[    0.000000] Linux version 6.1"]
    assert render("\x1b[3;24HGNU GRUB  version 2.06") == ["GNU GRUB  version 2.06"]  # a centred title
    assert render("foo\x1b[5Cbar") == ["foo     bar"]  # a jump inside the text is still a gap
    assert render("   indented by the guest") == ["   indented by the guest"]
