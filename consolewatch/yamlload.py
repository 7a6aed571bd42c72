"""YAML loading that remembers where each mapping came from, for errors with `file:line`."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class LocDict(dict):
    """A mapping from YAML that knows its 1-based line number."""

    line: int = 0


@functools.cache
def _loader() -> type:
    """The YAML loader, built on first use: a command that reads its definitions from the cache
    (consolewatch.defcache) never imports PyYAML (about 15 ms of every start)."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LocDict:
        loader.flatten_mapping(node)
        out = LocDict()
        out.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "unhashable mapping key", key_node.start_mark
                ) from None
            out[key] = loader.construct_object(value_node, deep=True)
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


@dataclass(frozen=True, slots=True)
class Problem:
    """One error in one definition file."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def load_yaml(path: Path) -> tuple[Any, Problem | None]:
    """Parse one file; a syntax error becomes a Problem with the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, Problem(str(path), 0, f"cannot read: {exc}")
    import yaml

    try:
        return yaml.load(text, Loader=_loader()), None  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        what = getattr(exc, "problem", None) or str(exc)
        return None, Problem(str(path), line, f"YAML syntax: {what}")


def line_of(obj: Any, default: int = 0) -> int:
    return getattr(obj, "line", default) or default
