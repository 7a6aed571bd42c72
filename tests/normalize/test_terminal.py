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
