"""A disk cache of loaded definitions, so a command does not parse and check them every time.

Loading parsers/ (YAML parsing, the checks, the backtracking lint of every regex) costs about
0.15 s of every `analyze`; reading the result back costs a few milliseconds: its ~700 regexes are
compiled when first used (`_LazyPattern`), not all on loading (~0.09 s). The entry is keyed by everything the result depends on: the exact
bytes of every definition file on the search path (and which directories exist), the source of
every module of this package (the code that parses them), the PyYAML install and the Python
build, so it is never stale; an entry is only written for definitions without problems (their
errors are reported from a fresh load). A run that finds none of those files changed (by their
stat: `_known_key`) takes the key a run before it digested from `keys/`.

Location: `$CONSOLEWATCH_CACHE_DIR/definitions/`, default the platform's user cache directory.
A missing, unreadable, corrupt or foreign entry means loading again; writers go through a
temporary file and an atomic rename, so concurrent commands never read half an entry; the
newest `KEEP` entries are kept.
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import importlib.util
import io
import os
import pickle
import re
import sys
import time
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from consolewatch import cachedir, definitions
from consolewatch.definitions import Definitions
from consolewatch.detect.rules import Rule
from consolewatch.normalize import rxcode
from consolewatch.normalize.formats import Format

#: Entries kept (one per set of definitions and code: a checkout switching branches, `--parsers`).
KEEP = 16
_SALT = b"consolewatch-definitions-2"
_PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path:
    return cachedir.folder("definitions")


def key(dirs: Sequence[Path], parts: list[_Part] | None = None) -> str:
    """A digest of what loading `dirs` depends on: their definition files' bytes and this code."""
    h = cachedir.digest(_SALT)
    for part in _parts(dirs) if parts is None else parts:
        if isinstance(part, bytes):
            h.update(part)
        else:
            with open(part[2], "rb") as f:
                _add(h, part[0], part[1], f.read())
    return h.hexdigest()[:40]


_Part = bytes | tuple[bytes, bytes, str]
"""What `key` digests: bytes as they are, or a file (its kind, name and path) by its bytes."""


def _parts(dirs: Sequence[Path]) -> list[_Part]:
    parts: list[_Part] = [sys.version.encode(), _yaml_build().encode()]
    parts += [(b"code", name, path) for name, path in _package_sources()]
    for d in dirs:
        parts.append(b"\0dir\0" + os.fsencode(d) + (b"\0+" if d.is_dir() else b"\0-"))
        for sub in ("formats", "detectors"):
            parts += [(b"file", os.fsencode(path), os.fspath(path)) for path in definitions._files(d, sub)]
    return parts


def _package_sources() -> list[tuple[bytes, str]]:
    """(name relative to the package, path) of every module source of this package, sorted by
    name (os.walk: a third of `rglob`'s time, every command)."""
    found = []
    for root, _dirs, files in os.walk(_PACKAGE):
        rel = os.path.relpath(root, _PACKAGE)
        found += [(os.fsencode(name if rel == "." else os.path.join(rel, name)), os.path.join(root, name))
                  for name in files if name.endswith(".py")]
    found.sort()
    return found


#: Files changed less than this long ago are read for the key every time (see `_known_key`).
SETTLE_NS = 2_000_000_000
_KEY = re.compile(r"[0-9a-f]{40}")


def _known_key(dirs: Sequence[Path]) -> str:
    """`key(dirs)`, without reading and digesting the ~2.5 MB of files again when none changed
    since a run remembered their key: remembered by every file's size, inode, modification and
    change times (a write changes the change time, which no user call sets back). A file changed
    in the last `SETTLE_NS` is read every time, as git treats its index: a second write within
    the clock's resolution could leave every time as it was."""
    parts = _parts(dirs)
    h = cachedir.digest(_SALT + b"-stat")
    newest = 0
    for part in parts:
        if isinstance(part, bytes):
            h.update(part)
            continue
        st = os.stat(part[2])
        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
        h.update(b"\0%s\0%s\0%d\0%d\0%d\0%d\0" % (part[0], part[1], st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns))
    memo = cachedir.folder("keys") / f"{h.hexdigest()[:40]}.key"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        known = memo.read_text(encoding="ascii")
        if _KEY.fullmatch(known):
            return known
    found = key(dirs, parts)
    if newest < time.time_ns() - SETTLE_NS:
        _remember(memo, found)
    return found


def _remember(memo: Path, found: str) -> None:
    tmp = memo.with_suffix(f".{os.getpid()}.tmp")
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(found, encoding="ascii")
        os.replace(tmp, memo)
        cachedir.prune(memo.parent, "*.key", KEEP)
    except OSError:  # a read-only or full cache directory: read the files next time
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _add(h: Any, kind: bytes, name: bytes, data: bytes) -> None:
    """One file into the digest: its kind, name and length before its bytes (no two sets of
    files give the same stream)."""
    h.update(b"\0%s\0%s\0%d\0" % (kind, name, len(data)))
    h.update(data)


def _yaml_build() -> str:
    """Which PyYAML parses the files (its module's place, size and time; found, not imported)."""
    spec = importlib.util.find_spec("yaml")
    origin = spec.origin if spec is not None and spec.origin else ""
    st = os.stat(origin) if origin else None
    return f"{origin}:{st.st_size}:{st.st_mtime_ns}" if st else "none"


def load(dirs: Sequence[Path], *, samples: bool = True) -> Definitions:
    """`definitions.load(dirs)`, from the cache when an entry for exactly these files exists.
    `samples=False`: read from the cache, every rule's and format's samples are left empty (only
    `rules check` runs them; they are half the objects of an entry)."""
    try:
        entry = cache_dir() / f"{_known_key(dirs)}.pickle"
    except OSError:  # a file vanished while hashing: load it the ordinary way (it says what is wrong)
        return definitions.load(dirs)
    got = _read(entry, samples)
    if got is not None:
        return got
    defs = definitions.load(dirs)
    try:
        unchanged = entry.name == f"{key(dirs)}.pickle"  # no file changed while it was being loaded
    except OSError:
        unchanged = False
    if unchanged and not defs.problems:
        _write(entry, defs)
    return defs


def _read(entry: Path, samples: bool = True) -> Definitions | None:
    try:
        # The entry is this user's own file, written by `_write` below (as trusted as the code).
        with entry.open("rb") as f:
            got = _Unpickler(f).load()
            if samples and isinstance(got, Definitions):
                _put_samples(got, _Unpickler(f).load())
    except Exception:  # missing, truncated, corrupt, from another version: load again
        return None
    return got if isinstance(got, Definitions) else None


class _Unpickler(pickle.Unpickler):
    """Reads the regexes of an entry as `_LazyPattern`s (a `re.Pattern` pickles as a call of
    `re._compile(pattern, flags)`; `_Pickler` writes one with its compiled code as a call of
    `_LazyPattern` itself)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in (("re", "_compile"), (__name__, "_LazyPattern")):
            return _LazyPattern
        return super().find_class(module, name)


#: The fields only `rules check` reads: an entry holds the definitions with these empty, then
#: their values (`_samples_of`), so a reader that needs none stops before them.
_SAMPLES: dict[type, tuple[str, ...]] = {Rule: ("match_samples", "no_match_samples"), Format: ("samples",)}


def _samples_of(defs: Definitions) -> tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]:
    return ({k: tuple(getattr(r, n) for n in _SAMPLES[Rule]) for k, r in defs.rules.items()},
            {k: tuple(getattr(f, n) for n in _SAMPLES[Format]) for k, f in defs.formats.items()})


def _put_samples(defs: Definitions, kept: tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]) -> None:
    """Fill the definitions just read with their samples (through the slots, as reading does)."""
    for cls, objs, values in ((Rule, defs.rules, kept[0]), (Format, defs.formats, kept[1])):
        setters = [_slot(cls, n).__set__ for n in _SAMPLES[cls]]
        for key, obj in objs.items():
            for put, value in zip(setters, values[key], strict=True):
                put(obj, value)


class _Pickler(pickle.Pickler):
    """Writes each regex with what `re` compiled it to (`rxcode`), so that reading it back
    and using it skips parsing and compiling (~0.11 ms a regex; a 100 MB run uses ~450), and each
    slotted dataclass (rules, matchers, patterns: ~3,400) with a state setter that does not call
    `dataclasses.fields` for every object (~2-4 ms of every command's start). `bare`: the
    `_SAMPLES` fields are written empty."""

    def __init__(self, out: io.BytesIO, *, bare: bool = False) -> None:
        super().__init__(out, protocol=pickle.HIGHEST_PROTOCOL)
        self._bare = _SAMPLES if bare else {}

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (re.Pattern, _LazyPattern)):
            form = rxcode.compiled_form(obj.pattern, obj.flags)
            if form is not None:
                return _LazyPattern, (obj.pattern, obj.flags, form)
            return NotImplemented
        names = _slotted_fields(type(obj))
        if names:  # read back by `_set_slots`, as `dataclasses` would but without `fields()` per object
            bare = self._bare.get(type(obj), ())
            state = tuple([() if n in bare else getattr(obj, n) for n in names])
            return _NEWOBJ, (type(obj),), state, None, None, _set_slots
        return NotImplemented


#: Pickled as NEWOBJ (`cls.__new__(cls)`, no `__init__`), as `dataclasses`' own reduction is.
_NEWOBJ = copyreg.__newobj__  # type: ignore[attr-defined]
_SLOTTED: dict[type, tuple[str, ...]] = {}


def _slotted_fields(cls: type) -> tuple[str, ...]:
    """The field names of a slotted dataclass that `dataclasses` pickles field by field (its
    `__setstate__`), else ()."""
    names = _SLOTTED.get(cls)
    if names is None:
        setstate = getattr(cls, "__setstate__", None)
        plain = dataclasses.is_dataclass(cls) and "__slots__" in vars(cls) and \
            getattr(setstate, "__qualname__", "") == "_dataclass_setstate"
        names = tuple(f.name for f in dataclasses.fields(cls)) if plain else ()
        if not all(isinstance(_slot(cls, n), types.MemberDescriptorType) for n in names):
            names = ()
        _SLOTTED[cls] = names
    return names


def _slot(cls: type, name: str) -> Any:
    """The descriptor of slot `name` (declared by `cls` or a base class), or None."""
    return next((vars(k)[name] for k in cls.__mro__ if name in vars(k)), None)


def _set_slots(obj: Any, state: tuple[Any, ...]) -> None:
    """`obj`'s fields from `state` (`_slotted_fields` order), through the slots' descriptors."""
    cls = type(obj)
    setters = _SETTERS.get(cls)
    if setters is None:
        setters = _SETTERS[cls] = tuple(_slot(cls, n).__set__ for n in _slotted_fields(cls))
    for put, value in zip(setters, state):
        put(obj, value)


_SETTERS: dict[type, tuple[Any, ...]] = {}


#: What `_LazyPattern` takes from the compiled pattern on its first use.
_BOUND = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "scanner",
          "groupindex", "groups")


class _LazyPattern:
    """A regex read back from the cache, compiled when first used: a run uses the regexes of the
    lines it meets. `pattern` and `flags` read without compiling; the first use of anything else
    compiles it and binds the compiled pattern's methods to the instance, so later calls cost
    what the compiled pattern's cost. Equal to, hashed like, and pickled as the `re.Pattern` it
    stands for."""

    __slots__ = ("__dict__", "_form", "flags", "pattern")

    def __init__(self, pattern: str | bytes, flags: int, form: tuple | None = None) -> None:
        self.pattern, self.flags, self._form = pattern, flags, form

    def __getattr__(self, name: str) -> Any:  # only what the instance does not hold yet
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self.flags) if self._form is None else rxcode.rebuild(self.pattern, self._form)
        for attr in _BOUND:
            setattr(self, attr, getattr(compiled, attr))
        return getattr(compiled, name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (_LazyPattern, re.Pattern)):
            return (self.pattern, self.flags) == (other.pattern, other.flags)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(re.compile(self.pattern, self.flags))

    def __reduce__(self) -> tuple[Any, tuple[str | bytes, int]]:
        return re.compile, (self.pattern, self.flags)

    def __repr__(self) -> str:
        return repr(re.compile(self.pattern, self.flags))


def _write(entry: Path, defs: Definitions) -> None:
    tmp = entry.with_suffix(f".{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        out = io.BytesIO()
        _Pickler(out, bare=True).dump(defs)
        _Pickler(out).dump(_samples_of(defs))
        tmp.write_bytes(out.getvalue())
        os.replace(tmp, entry)
        cachedir.prune(entry.parent, "*.pickle", KEEP)
    except Exception:  # a read-only or full cache directory: load again next time
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
