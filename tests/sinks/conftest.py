"""Helpers for the report tests: a real headless browser, and a small DOM reader.

The HTML report is checked in Debian's chromium as a browser would show it. Outside CI a
missing chromium skips those tests with the reason; under CI (CI=true) it fails them, since CI
installs it and a silent skip would hide a broken install step (as in tests/qemu/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI") == "true"
BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")


def need(condition: bool, why: str) -> None:
    """Skip (or, under CI, fail) unless `condition`."""
    if not condition:
        if IN_CI:
            pytest.fail(f"CI must provide this: {why}")
        pytest.skip(why)


@dataclass
class Browser:
    path: str
    workdir: Path

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        profile = tempfile.mkdtemp(prefix="profile-", dir=self.workdir)
        env = {k: v for k, v in os.environ.items() if k not in ("http_proxy", "https_proxy")}
        return subprocess.run([self.path, *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)

    def dump_dom(self, page: Path) -> str:
        """The DOM chromium builds from the page, serialised after it loaded."""
        r = self._run("--dump-dom", page.resolve().as_uri())
        assert r.returncode == 0, r.stderr.decode(errors="replace")[-2000:]
        out = r.stdout.decode("utf-8")
        assert "<html" in out, out[:500]
        return out

    def screenshot(self, page: Path, out: Path, size: tuple[int, int] = (1280, 2000)) -> Path:
        r = self._run(f"--window-size={size[0]},{size[1]}", "--hide-scrollbars", f"--screenshot={out}",
                      page.resolve().as_uri())
        assert r.returncode == 0 and out.exists(), r.stderr.decode(errors="replace")[-2000:]
        return out


@pytest.fixture(scope="session")
def browser(tmp_path_factory) -> Browser:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    need(path is not None, "chromium not installed (Debian package chromium)")
    return Browser(path, tmp_path_factory.mktemp("chromium"))


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    classes: tuple[str, ...] = ()


@dataclass
class Dom:
    elements: list[Element] = field(default_factory=list)
    title: str = ""

    def all(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]

    def with_class(self, cls: str) -> list[Element]:
        return [e for e in self.elements if cls in e.classes]


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Reader(HTMLParser):
    """Every element with its attributes and its whole text content (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.dom = Dom()
        self.open: list[Element] = []

    def handle_starttag(self, tag, attrs):
        el = Element(tag, {k: v or "" for k, v in attrs})
        el.classes = tuple(el.attrs.get("class", "").split())
        self.dom.elements.append(el)
        if tag not in _VOID:
            self.open.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i].tag == tag:
                del self.open[i:]
                break

    def handle_data(self, data):
        for el in self.open:
            el.text += data
        if self.open and self.open[-1].tag == "title" and not any(e.tag == "svg" for e in self.open):
            self.dom.title += data  # the page's title (an SVG's <title> is a tooltip)


def read_dom(html: str) -> Dom:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.dom


@pytest.fixture(scope="session")
def parse_dom():
    """html -> Dom (every element, its attributes and text; the page title)."""
    return read_dom
