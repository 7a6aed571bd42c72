"""The user's config file: `$CONSOLEWATCH_CONFIG_DIR/config.toml` (default: the platform's
user config dir). Everything has a default; a bad file is reported in one line.

```toml
[store]
retention_days = 30      # captures not updated for this long are removed
max_size_mb = 2048       # then the oldest captures until the store fits

[digitalocean]           # DigitalOcean has no API for a droplet's console URL: say it here
console_url = "wss://..."             # for every droplet (--console-url wins)
[digitalocean.console_urls]
"123456789" = "wss://..."             # for one droplet
```
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from consolewatch.definitions import config_dir


class ConfigError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Config:
    retention_days: float | None = 30.0
    max_size_mb: float | None = 2048.0
    do_console_url: str | None = None
    do_console_urls: Mapping[str, str] = field(default_factory=dict)


def load(path: Path | None = None) -> Config:
    path = path or config_dir() / "config.toml"
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    store = doc.get("store", {})
    if not isinstance(store, dict):
        raise ConfigError(f"{path}: [store] must be a table")
    out = {}
    for key in ("retention_days", "max_size_mb"):
        if key in store:
            value = store[key]
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value <= 0):
                raise ConfigError(f"{path}: store.{key} must be a positive number (got {value!r})")
            out[key] = float(value) if value is not None else None
    unknown = set(store) - {"retention_days", "max_size_mb"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [store]: {', '.join(sorted(unknown))}")
    return Config(**out, **_digitalocean(doc.get("digitalocean", {}), path))


def _digitalocean(table: object, path: Path) -> dict:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [digitalocean] must be a table")
    unknown = set(table) - {"console_url", "console_urls"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) in [digitalocean]: {', '.join(sorted(unknown))}")
    url = table.get("console_url")
    urls = table.get("console_urls", {})
    if url is not None and not isinstance(url, str):
        raise ConfigError(f"{path}: digitalocean.console_url must be a string")
    if not isinstance(urls, dict) or not all(isinstance(v, str) for v in urls.values()):
        raise ConfigError(f"{path}: [digitalocean.console_urls] maps droplet ids to URL strings")
    return {"do_console_url": url, "do_console_urls": {str(k): v for k, v in urls.items()}}
