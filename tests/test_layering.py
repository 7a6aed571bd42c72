"""The core (detect/, normalize/, ocr/, session.py) never imports the edges (cli/, sinks/,
fetchers/, sim/): read every import statement, function-level ones included, with ast."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "consolewatch"
CORE = ["detect", "normalize", "ocr", "session.py"]
EDGES = ("consolewatch.cli", "consolewatch.sinks", "consolewatch.fetchers", "consolewatch.sim")


def imported_modules(source: str, module: str) -> set[str]:
    """Every module an import statement anywhere in `source` names (relative ones resolved)."""
    package = module.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def core_files() -> list[Path]:
    files: list[Path] = []
    for part in CORE:
        p = PACKAGE / part
        files += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    return files


def violations(path: Path) -> list[str]:
    module = "consolewatch." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    names = imported_modules(path.read_text(encoding="utf-8"), module)
    return sorted(n for n in names if n in EDGES or n.startswith(tuple(e + "." for e in EDGES)))


def test_the_core_imports_nothing_from_the_edges():
    files = core_files()
    assert len(files) > 20 and PACKAGE / "detect/checks.py" in files
    found = {str(p.relative_to(PACKAGE)): v for p in files if (v := violations(p))}
    assert not found, found


def test_the_check_sees_function_level_and_relative_imports():
    src = "def f():\n    from consolewatch.cli.analyze import run\n\ndef g():\n    from ..sinks import live\n"
    names = imported_modules(src, "consolewatch.detect.checks")
    assert "consolewatch.cli.analyze" in names and "consolewatch.sinks.live" in names
    assert imported_modules("import consolewatch.sim.gce as g\n", "consolewatch.session") >= {"consolewatch.sim.gce"}
