"""Screenshots for the GCE fetcher: instances.getScreenshot as `Frame("screen", "image/png")`.

One every `screenshots` seconds (10 by default) while the instance has a display device;
unchanged pictures are not sent again. An instance that is not ready (or gone) moves the
status check forward instead; a refusal, a bad request or `max_invalid` failures in a row make
the screen a `SourceUnavailable` that says how to enable it; transient faults back off.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from consolewatch.fetchers.gce_api import Failure, classify, decode_screenshot
from consolewatch.model import Frame, SourceEvent, SourceStatus, SourceUnavailable

if TYPE_CHECKING:
    from consolewatch.fetchers.gce import _Run


async def screenshot(run: _Run) -> list[SourceEvent]:
    interval = run.o.screenshots or 10.0
    run.screen_due = time.monotonic() + interval
    try:
        resp = await run.call("get_screenshot", project=run.t.project, zone=run.t.zone,
                               instance=run.t.name)
    except Exception as exc:  # noqa: BLE001 - classified below
        return screen_failed(run, classify(exc))
    try:
        image, media = decode_screenshot(resp.contents)
    except ValueError as exc:
        return screen_failed(run, Failure("invalid", f"unreadable screenshot: {exc}"))
    run.screen_failures = 0
    if image == run.last_image:
        return []
    run.last_image = image
    return [Frame("screen", image, media, None, time.time())]


def screen_failed(run: _Run, failure: Failure) -> list[SourceEvent]:
    if failure.kind in ("not-ready", "not-found"):
        run.status_due = min(run.status_due, time.monotonic())
        return []
    run.screen_failures += 1
    if failure.kind in ("bad-request", "denied", "fatal") or run.screen_failures >= run.o.max_invalid:
        run.screen_on = False
        return [SourceUnavailable("screen", f"GCE screenshots: {failure.message}",
                                  "the instance needs a display device (--enable-display-device) and the "
                                  "account compute.instances.getScreenshot")]
    delay = run.backoff(run.screen_failures, failure.retry_after)
    run.screen_due = time.monotonic() + max(delay, run.o.screenshots or 0)
    state = "backoff" if failure.kind == "transient" else "error"
    return [SourceStatus("screen", state, failure.message, delay, time.time())]
