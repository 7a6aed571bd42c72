"""The fetcher interface: the only async edge of consolewatch.

A fetcher follows one target (an EC2 instance, a GCE VM, a file, a QEMU socket, ...) and yields
`SourceEvent`s: `Chunk` (bytes), `Frame` (an image of the screen), `Gap` (lost data),
`SourceUnavailable` (a result, not an exception), `SourceStatus` (for status lines) and
`MachineContext` (what the cloud API says about the machine). Everything after the fetcher is
synchronous.

Errors the user must act on (bad credentials, unknown instance, wrong region) are raised as
`FetchError` with one clear line; transient errors are retried inside the fetcher and reported as
`SourceStatus(state="backoff")`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, ClassVar, Mapping

from consolewatch.model import SourceEvent


class FetchError(Exception):
    """A fetcher cannot go on and the user must act (one clear line, no traceback)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed target string: `aws:us-east-1/i-0123`, `gce:proj/zone/name`, `file:PATH`, ..."""

    kind: str
    """"aws", "gce", "do", "vnc", "openstack", "file", "qemu"."""
    address: str
    """The part after the scheme, as given (instance id, PROJECT/ZONE/NAME, path, host:port)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Command-line options that apply to this target (ports, intervals, console URL, ...)."""

    def __str__(self) -> str:
        """How output names the target: credentials and tokens in a URL never shown."""
        from consolewatch.safetext import redact

        return f"{self.kind}:{redact(self.address)}"


class Fetcher(abc.ABC):
    """Follows one target and yields what its console shows."""

    kind: ClassVar[str]
    """The target scheme this fetcher serves ("aws", "gce", "file", ...)."""

    def __init__(self, target: Target) -> None:
        self.target = target

    @abc.abstractmethod
    def stream(
        self, *, cursors: Mapping[str, Any] | None = None, follow: bool = True
    ) -> AsyncIterator[SourceEvent]:
        """Yield events until the source ends (or forever when `follow`).

        `cursors` maps source name -> the cursor of the last chunk already stored, so a resumed
        tail neither loses nor repeats bytes. With `follow=False` fetch what exists and stop.
        """
