"""Screenshots for the EC2 fetcher: GetConsoleScreenshot as `Frame("screen", "image/jpeg")`.

A screenshot every `screenshots` seconds, doubling (up to 6x) while the picture stays the same,
and soon after the console output or the instance state changes (at most one per poll
interval). A screenshot is taken between two console polls, never during one, so that the
screen shows no more than the console output already sent (the session keeps a line the
screen repeats from the text once, when the text came first). Identical pictures are not
sent twice. A screenshot that does not decode as base64
or is not an image is reported (`SourceStatus` error); three in a row, an unsupported instance
or missing permission make the screen a `SourceUnavailable` and screenshots stop. On Xen the
screen is the live view while console output is only posted around state changes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from consolewatch.fetchers.base import FetchError
from consolewatch.fetchers.ec2_api import Unsupported, image_bytes
from consolewatch.model import Frame, SourceStatus, SourceUnavailable

if TYPE_CHECKING:
    from consolewatch.fetchers.ec2 import Ec2Fetcher

_NOT_NOW = ("IncorrectInstanceState", "IncorrectState", "InvalidInstanceState")


async def screen_loop(f: Ec2Fetcher) -> None:
    """A screenshot every `screenshots` seconds, doubling (up to 6x) while the picture does
    not change, and soon after the console output or the state changes."""
    interval = f.screenshots
    soon = min(f.screenshots, max(f.poll_min, 1.0))
    while not f.ended:
        if f.state == "running":
            before = f.last_image
            async with f.lock:  # right after a console poll: the screen is not ahead of the text
                ok = await screenshot_once(f)
            if not ok:
                return
            same = f.last_image == before
            interval = min(interval * 2, 6 * f.screenshots) if same else f.screenshots
        last = f._clock()
        if await f._wait(f.changed, interval):
            interval = f.screenshots
            wait = soon - (f._clock() - last)
            if wait > 0:
                await f._sleep(wait)


async def screenshot_once(f: Ec2Fetcher, attempts: int | None = None) -> bool:
    """Take one screenshot; False when screenshots cannot work (reported unavailable)."""
    kw: dict[str, Any] = {"InstanceId": f.instance_id}
    if f.wakeup:
        kw["WakeUp"] = True
    try:
        resp = await f.call("screen", "get_console_screenshot", attempts=attempts, **kw)
    except Unsupported as exc:
        if exc.problem.code in _NOT_NOW:
            return True
        await f.emit(SourceUnavailable("screen", f"no screenshots: {exc.problem.message}",
                                       "GetConsoleScreenshot works on running instances of most types"))
        return False
    except FetchError as exc:
        if "not authorised" in str(exc) or "gave up" in str(exc):
            await f.emit(SourceUnavailable("screen", f"no screenshots: {exc}",
                                           "grant ec2:GetConsoleScreenshot, or pass screenshots=off"))
            return False
        raise
    image, problem = image_bytes(resp.get("ImageData"))
    if image is None:
        f.bad_images += 1
        if f.bad_images >= 3:
            await f.emit(SourceUnavailable("screen", f"no screenshots: {problem}"))
            return False
        await f.emit(SourceStatus("screen", "error", problem or "", None, time.time()))
        return True
    f.bad_images = 0
    if image != f.last_image:
        f.last_image = image
        await f.emit(Frame("screen", image, "image/jpeg", {"v": 1}, time.time()))
    return True
