"""A compiled regex as data: what `re` compiled it to (its code and groups), so that a disk cache
can keep it and a later process rebuild the same `re.Pattern` without parsing and compiling the
source again (~0.1 ms a regex; a run uses hundreds: the definitions cache, `defcache`, and the
stand-ins' confirmations in the scanner cache, `scancache`).

`compiled_form` takes the regex apart with `re`'s own parser and compiler (`re._compiler.compile`
does exactly this before `_sre.compile`) and keeps the form only when rebuilding it gives a
pattern equal to `re.compile`'s (a `re.Pattern` compares by source, flags and code); anything
else, or another Python's `re` internals, gives None and the caller compiles from the source.
The definitions cache keys its entries by the Python build (`defcache`) and the scanner cache
keeps the build's name (`BUILD`) with its forms (`scancache`), so a form is only read by the `re`
that made it; `_sre.compile` checks the code it is given (a damaged form raises, it does not crash).
"""

from __future__ import annotations

import importlib
import re
import sys
from array import array
from typing import Any

Form = tuple[int, bytes, int, dict[str, int], tuple[Any, ...]]
"""(flags, code as 32-bit words, groups, groupindex, indexgroup): `_sre.compile`'s arguments."""

#: Which `re` wrote a form (kept with forms stored outside a cache keyed by the Python build).
BUILD = f"{sys.implementation.cache_tag}-{sys.version}"


def compiled_form(pattern: str | bytes, flags: int) -> Form | None:
    """What `re` compiles `pattern` with `flags` to, or None (see the module doc)."""
    try:
        parser, compiler = importlib.import_module("re._parser"), importlib.import_module("re._compiler")
        parsed = parser.parse(pattern, flags)
        code = compiler._code(parsed, flags)
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[Any] = [None] * parsed.state.groups
        for k, i in groupindex.items():
            indexgroup[i] = k
        form = (flags | parsed.state.flags, array("I", code).tobytes(), parsed.state.groups - 1,
                groupindex, tuple(indexgroup))
        if array("I").itemsize != importlib.import_module("_sre").CODESIZE or rebuild(pattern, form) != re.compile(pattern, flags):
            return None
    except Exception:  # another Python's `re` internals: compiled from the source
        return None
    return form


def rebuild(pattern: str | bytes, form: Form) -> re.Pattern[Any]:
    """The `re.Pattern` that `form` (from `compiled_form(pattern, ...)`) stands for."""
    flags, code, groups, groupindex, indexgroup = form
    rx: re.Pattern[Any] = importlib.import_module("_sre").compile(
        pattern, flags, array("I", code).tolist(), groups, groupindex, indexgroup)
    return rx
