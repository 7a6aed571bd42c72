"""The library entry point: read some inputs as one machine's capture and analyse it.

`analyze(paths, cloud=None, hypervisor=None) -> Analysis` is the call `consolewatch analyze`,
`consolewatch report` and `consolewatch rules check` make, and the one Python code makes
(`consolewatch.analyze`). A path is anything `inputs.open_input` reads: a text log, `-`
(stdin), a screenshot, EC2 or GCE console JSON, a capture export, `capture:ID`, or a target
read once (`gce:P/Z/N`, `aws:i-...`). Several paths are sources of one capture, merged into one
timeline. Problems are exceptions with one readable line: `InputError` for an input that
cannot be analysed, `DefinitionsError` for broken detector/format definitions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from consolewatch.detect.catalog import Catalog
from consolewatch.inputs import InputError, open_input, source_name
from consolewatch.model import CLOUDS, Frame, MachineContext
from consolewatch.session import Analysis, Session, Step

__all__ = ["Analysis", "DefinitionsError", "InputError", "analyze", "load_catalog", "HYPERVISORS"]

HYPERVISORS: tuple[str, ...] = ("xen", "nitro", "kvm", "hyperv", "tcg")


class DefinitionsError(Exception):
    """Detector or format definitions with problems (each `path:line: message`)."""

    def __init__(self, problems: Sequence[Any]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in detector/format definitions:\n{lines}")


def load_catalog(extra_dirs: Sequence[str | os.PathLike] = ()) -> Catalog:
    """The definitions on the search path plus `extra_dirs`, compiled; DefinitionsError on any problem.
    Read from the cache, its definitions carry no rule or format samples (`rules check` runs them)."""
    from consolewatch import defcache, definitions

    defs = defcache.load(definitions.search_path([str(d) for d in extra_dirs]), samples=False)
    if defs.problems:
        raise DefinitionsError(defs.problems)
    return Catalog(defs)


def analyze(paths: str | os.PathLike | Iterable[str | os.PathLike], cloud: str | None = None,
            hypervisor: str | None = None, *, catalog: Catalog | None = None,
            parsers: Sequence[str | os.PathLike] = (), observe: Callable[[Step], None] | None = None,
            detail: str = "all") -> Analysis:
    """Analyse the inputs as one capture: its boots, findings, outcome and last screens.

    `cloud` / `hypervisor` say where the machine ran (else the console and the inputs say it);
    `catalog` reuses compiled definitions, `parsers` adds definition directories; `observe` is
    called with every `Step` (the lines, findings and boots each event produced: the lines are
    not kept in the Analysis, so a caller that needs them looks here, one step at a time).
    `detail="verdict"`: only the findings of the verdict's boots (`Analysis.findings()`) carry
    their context lines and fix; other boots' findings and the steps' findings carry neither
    (for a caller that prints the verdict only: cheaper on long captures).
    """
    names = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    if not names:
        raise InputError("no input given")
    if cloud is not None and cloud not in CLOUDS:
        raise ValueError(f"unknown cloud {cloud!r} (one of {', '.join(CLOUDS)})")
    if hypervisor is not None and hypervisor not in (*HYPERVISORS, "unknown"):
        raise ValueError(f"unknown hypervisor {hypervisor!r} (one of {', '.join(HYPERVISORS)})")
    if sum(p == "-" for p in names) > 1:
        raise InputError("stdin (-) can be given once")
    session = Session(catalog or load_catalog(parsers), cloud=cloud or "unknown",
                      hypervisor=hypervisor or "unknown", detail=detail)
    if len(names) > 1:
        session.expect_frames()
    # A screenshot shows the screen as the capture ended: the text sources come first on the
    # timeline, so the screen's lines that repeat them are kept once, whatever the order given.
    see = observe or (lambda step: None)
    for path in sorted(names, key=_is_screenshot):
        _feed(session, path, cloud, see)
    see(session.finish())
    return session.result()


def _is_screenshot(path: str) -> bool:
    from consolewatch.inputs import media_type

    try:
        with open(path, "rb") as f:
            return media_type(f.read(16)) is not None
    except OSError:  # stdin, a target, capture:ID, a missing file (open_input says why)
        return False


def _feed(session: Session, path: str, cloud: str | None, see: Callable[[Step], None]) -> None:
    """Every event of one input, then the end of its sources (their last lines are complete)."""
    sources = {source_name(path)}
    for event in open_input(path):
        if isinstance(event, Frame):
            session.expect_frames()
        elif isinstance(event, MachineContext) and cloud and event.cloud not in (cloud, "unknown"):
            event = MachineContext(event.source, cloud, event.hypervisor, event.fields)  # the caller knows best
        sources.add(getattr(event, "source", ""))
        see(session.feed(event))
    for source in sources:
        see(session.end_source(source))
