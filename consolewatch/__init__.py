"""consolewatch: tells you why a cloud VM did not boot.

It reads the machine's console (serial text, screenshots), splits it into boots, runs
declarative detectors (parsers/) and names the failure with its evidence and a cloud-aware fix.

Python API (importing this package stays cheap; the analysis modules load on first use)::

    import consolewatch
    a = consolewatch.analyze(["serial.log", "screen.png"], cloud="gce")
    a.outcome, [f.category for f in a.findings()]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Analysis", "analyze", "__version__"]

if TYPE_CHECKING:
    from consolewatch.session import Analysis


def analyze(paths: Any, cloud: str | None = None, hypervisor: str | None = None, **options: Any) -> Analysis:
    """Read `paths` as one machine's capture and analyse it (see `consolewatch.analysis.analyze`)."""
    from consolewatch.analysis import analyze as run

    return run(paths, cloud, hypervisor, **options)


def __getattr__(name: str) -> Any:
    if name == "Analysis":
        from consolewatch.session import Analysis

        return Analysis
    raise AttributeError(f"module 'consolewatch' has no attribute {name!r}")
