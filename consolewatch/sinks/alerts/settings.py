"""Alert settings: `[alerts]` and `[[alerts.routes]]` in config.toml, plus `--alert URL`.

```toml
[alerts]
group_wait = 10          # seconds to collect a boot's findings into one message
repeat_interval = 14400  # remind about a still-failing target after this long (0: never)
timeout = 10             # seconds per delivery attempt
backoff_min = 2          # first retry after this long, doubling ...
backoff_max = 300        # ... up to this
give_up_after = 86400    # a message still not delivered after this long is marked failed
drain_timeout = 15       # at the end of tail/watch, wait this long for pending deliveries
alert_ttl = 86400        # Alertmanager: a firing alert's endsAt is now + alert_ttl

[[alerts.routes]]
name = "oncall"
to = ["slack://T000/B000/XXXX", "alertmanager://127.0.0.1:9093"]
min_severity = "error"   # info, warning, error, critical
categories = ["disk.*", "kernel.panic"]   # shell patterns; empty or absent: all
targets = ["gce:prod/*"]                  # shell patterns on the target; absent: all
rate_per_minute = 6      # at most this many messages per minute per destination of the route
```

`--alert URL` (repeatable) adds a route named `cli` with the defaults. URLs in errors are
redacted.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consolewatch.model import SEVERITIES, Finding, severity_rank
from consolewatch.sinks.alerts.destinations import Destination, DestinationError, parse


class SettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    destinations: tuple[Destination, ...]
    min_severity: str = "error"
    categories: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    rate_per_minute: float | None = None

    def wants_target(self, target: str) -> bool:
        return not self.targets or any(fnmatch.fnmatchcase(target, p) for p in self.targets)

    def wants(self, target: str, f: Finding) -> bool:
        if f.verdict == "success" or severity_rank(f.severity) < severity_rank(self.min_severity):
            return False
        if self.categories and not any(fnmatch.fnmatchcase(f.category, p) for p in self.categories):
            return False
        return self.wants_target(target)


@dataclass(frozen=True, slots=True)
class Settings:
    routes: tuple[Route, ...] = ()
    group_wait: float = 10.0
    repeat_interval: float = 4 * 3600.0
    timeout: float = 10.0
    backoff_min: float = 2.0
    backoff_max: float = 300.0
    give_up_after: float = 24 * 3600.0
    drain_timeout: float = 15.0
    alert_ttl: float = 24 * 3600.0

    def destinations(self) -> dict[str, Destination]:
        return {d.key: d for r in self.routes for d in r.destinations}


_NUMBERS = ("group_wait", "repeat_interval", "timeout", "backoff_min", "backoff_max", "give_up_after",
            "drain_timeout", "alert_ttl")
_ROUTE_KEYS = {"name", "to", "min_severity", "categories", "targets", "rate_per_minute"}


def _destinations(urls: Any, where: str) -> tuple[Destination, ...]:
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise SettingsError(f"{where}: `to` must be a list of URLs")
    try:
        return tuple(parse(u) for u in urls)
    except DestinationError as exc:
        raise SettingsError(f"{where}: {exc}") from None


def _patterns(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _route(doc: Any, i: int) -> Route:
    where = f"alerts.routes[{i}]"
    if not isinstance(doc, dict):
        raise SettingsError(f"{where} must be a table")
    unknown = set(doc) - _ROUTE_KEYS
    if unknown:
        raise SettingsError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}")
    name = doc.get("name", f"route{i + 1}")
    sev = doc.get("min_severity", "error")
    if sev not in SEVERITIES:
        raise SettingsError(f"{where}: min_severity is one of {', '.join(SEVERITIES)}")
    rate = doc.get("rate_per_minute")
    if rate is not None and (not isinstance(rate, (int, float)) or rate <= 0):
        raise SettingsError(f"{where}: rate_per_minute must be a positive number")
    return Route(str(name), _destinations(doc.get("to"), where), sev, _patterns(doc.get("categories"), "categories", where),
                 _patterns(doc.get("targets"), "targets", where), float(rate) if rate else None)


def from_doc(doc: dict[str, Any], cli_urls: Sequence[str] = (), where: str = "config.toml") -> Settings:
    section = doc.get("alerts", {})
    if not isinstance(section, dict):
        raise SettingsError(f"{where}: [alerts] must be a table")
    unknown = set(section) - set(_NUMBERS) - {"routes"}
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) in [alerts]: {', '.join(sorted(unknown))}")
    values: dict[str, float] = {}
    for key in _NUMBERS:
        if key in section:
            v = section[key]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise SettingsError(f"{where}: alerts.{key} must be a number >= 0")
            values[key] = float(v)
    raw_routes = section.get("routes", [])
    if not isinstance(raw_routes, list):
        raise SettingsError(f"{where}: alerts.routes must be an array of tables ([[alerts.routes]])")
    try:
        routes = [_route(r, i) for i, r in enumerate(raw_routes)]
    except SettingsError as exc:
        raise SettingsError(f"{where}: {exc}") from None
    if cli_urls:
        try:
            routes.append(Route("cli", tuple(parse(u) for u in dict.fromkeys(cli_urls))))
        except DestinationError as exc:
            raise SettingsError(f"--alert {exc}") from None
    names = [r.name for r in routes]
    if len(set(names)) != len(names):
        raise SettingsError(f"{where}: route names must be unique")
    return Settings(tuple(routes), **values)


def load(cli_urls: Sequence[str] = (), path: Path | None = None) -> Settings:
    from consolewatch.definitions import config_dir

    path = path or config_dir() / "config.toml"
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        doc = {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from None  # tomllib names line and column, not the text
    return from_doc(doc, cli_urls, str(path))


