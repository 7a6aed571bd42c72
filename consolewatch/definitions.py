"""Finding and loading the definitions in parsers/: formats and detectors.

Search path, in order (a later definition with the same id replaces an earlier one):
1. built-in: `consolewatch/_builtin/parsers` in an installed wheel, else `parsers/` next to the
   package in a source checkout or editable install;
2. the user's config dir: `$CONSOLEWATCH_CONFIG_DIR/parsers` (default: platformdirs');
3. `CONSOLEWATCH_PARSERS` (os.pathsep-separated directories);
4. `--parsers DIR` options.

Loading collects every problem in every file (`path:line: message`) instead of stopping at the
first one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from consolewatch.detect.rules import Rule
from consolewatch.model import CATEGORIES
from consolewatch.normalize.formats import Format, FormatPattern, parse_format
from consolewatch.yamlload import Problem, load_yaml


def builtin_dir() -> Path | None:
    here = Path(__file__).resolve().parent
    for candidate in (here / "_builtin" / "parsers", here.parent / "parsers"):
        if (candidate / "detectors").is_dir() or (candidate / "formats").is_dir():
            return candidate
    return None


def config_dir() -> Path:
    env = os.environ.get("CONSOLEWATCH_CONFIG_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("consolewatch"))


def search_path(extra: Sequence[str | Path] = ()) -> list[Path]:
    dirs: list[Path] = []
    b = builtin_dir()
    if b is not None:
        dirs.append(b)
    user = config_dir() / "parsers"
    if user.is_dir():
        dirs.append(user)
    env = os.environ.get("CONSOLEWATCH_PARSERS", "")
    dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.extend(Path(p) for p in extra)
    return dirs


@dataclass(frozen=True, slots=True)
class Definitions:
    formats: dict[str, Format]
    rules: dict[str, Rule]
    problems: tuple[Problem, ...]
    dirs: tuple[Path, ...]

    @property
    def format_patterns(self) -> dict[str, FormatPattern]:
        return {p.ref: p for f in self.formats.values() for p in f.patterns}


def _files(d: Path, sub: str) -> Iterable[Path]:
    folder = d / sub
    if folder.is_dir():
        yield from sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load(dirs: Sequence[Path] | None = None) -> Definitions:
    """Load formats and detectors from `dirs` (default: the search path)."""
    from consolewatch.detect.ruleparse import parse_rules_file  # only here: a cached load needs none of it

    dirs = list(search_path() if dirs is None else dirs)
    problems: list[Problem] = []
    formats: dict[str, Format] = {}
    rules: dict[str, Rule] = {}
    for d in dirs:
        if not d.is_dir():
            problems.append(Problem(str(d), 0, "definitions directory does not exist"))
            continue
        seen_here: dict[str, str] = {}
        for path in _files(d, "formats"):
            doc, err = load_yaml(path)
            if err:
                problems.append(err)
                continue
            fmt, errs = parse_format(doc, str(path))
            problems.extend(errs)
            if fmt is not None:
                if fmt.id in seen_here:
                    problems.append(Problem(str(path), fmt.at, f"format id {fmt.id!r} also defined in {seen_here[fmt.id]}"))
                seen_here[fmt.id] = str(path)
                formats[fmt.id] = fmt
        for path in _files(d, "detectors"):
            doc, err = load_yaml(path)
            if err:
                problems.append(err)
                continue
            parsed, errs = parse_rules_file(doc, str(path))
            problems.extend(errs)
            for rule in parsed:
                if rule.id in seen_here:
                    problems.append(Problem(str(path), rule.at, f"rule id {rule.id!r} also defined in {seen_here[rule.id]}"))
                seen_here[rule.id] = str(path)
                rules[rule.id] = rule
    problems.extend(_cross_check(formats, rules))
    return Definitions(formats, rules, tuple(problems), tuple(dirs))


def _cross_check(formats: dict[str, Format], rules: dict[str, Rule]) -> list[Problem]:
    refs = {p.ref for f in formats.values() for p in f.patterns}
    out: list[Problem] = []
    for rule in rules.values():
        for m in rule.matchers:
            if m.format_ref is not None and m.format_ref not in refs:
                out.append(Problem(rule.path, rule.at, f"rule {rule.id}: unknown format pattern {m.format_ref!r}"))
        for ref in getattr(rule.condition, "last_pattern", ()):
            if ref not in refs:
                out.append(Problem(rule.path, rule.at, f"rule {rule.id}: unknown format pattern {ref!r} in last_pattern"))
        for target in rule.inhibits:
            if target not in rules and target not in CATEGORIES:
                out.append(Problem(rule.path, rule.at, f"rule {rule.id}: inhibits unknown rule or category {target!r}"))
    return out

