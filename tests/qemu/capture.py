#!/usr/bin/env python3
"""Boot every scenario (or the named ones) under QEMU and (re)write
samples/qemu/<scenario>/{serial.log, screen.png, meta.yaml, expected.yaml}.

    python tests/qemu/capture.py                 # all scenarios
    python tests/qemu/capture.py healthy oom     # some
    python tests/qemu/capture.py --list
    python tests/qemu/capture.py --show fs-error # boot and print the console, write nothing

A scenario whose expected evidence does not appear in what it printed is an error: nothing
is written for it and the exit status is 1. Needs root (network namespaces), QEMU,
apt-get/dpkg-deb (kernel packages), e2fsprogs, dnsmasq and iproute2.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import yaml  # noqa: E402
from guestkit import boot, initramfs  # noqa: E402
from guestkit.runner import QEMU  # noqa: E402
from scenarios import BY_NAME, READY, READY_MARKER, SCENARIOS  # noqa: E402

REPO = HERE.parent.parent
DEFAULT_OUT = REPO / "samples" / "qemu"
OWNED_FILES = ("serial.log", "screen.png", "meta.yaml", "expected.yaml")


class CaptureError(RuntimeError):
    pass


def qemu_version() -> str:
    out = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].strip() if out else "unknown"


def resolve_evidence(cap: boot.Capture) -> dict[str, list[str]]:
    """Each expected regex -> the exact (sanitised) serial line it matches."""
    sc = cap.scenario
    lines = cap.lines
    out: dict[str, list[str]] = {}
    missing = []
    for category, patterns in sc.evidence.items():
        for pattern in patterns:
            line = boot.find_line(lines, pattern)
            if line is None:
                missing.append(f"{category}: /{pattern}/")
            else:
                out.setdefault(category, []).append(line)
    if missing:
        raise CaptureError("evidence not found in the serial log: " + "; ".join(missing))
    return out


def resolve_screen_evidence(cap: boot.Capture) -> str | None:
    sc = cap.scenario
    if not sc.screen_evidence:
        return None
    rows = cap.screen_rows
    if not rows:
        raise CaptureError("no screen text captured")
    line = boot.find_line(boot.join_screen_rows(rows), sc.screen_evidence, last=False)
    if line is None:
        raise CaptureError(f"screen evidence /{sc.screen_evidence}/ not on the last screen")
    return line.strip()


def check(cap: boot.Capture) -> None:
    sc, res = cap.scenario, cap.result
    ok_reasons = {"stop-rule", "screen-stable"} if sc.screen else {"stop-rule"}
    if res.reason not in ok_reasons:
        tail = "\n".join(cap.lines[-15:])
        raise CaptureError(f"boot ended by {res.reason} after {res.duration:.1f}s "
                           f"(stderr: {res.stderr.strip()!r}); serial tail:\n{tail}")
    if sc.boots is not None and cap.count_boots() < sc.boots:
        raise CaptureError(f"expected {sc.boots} boots, saw {cap.count_boots()}")
    ready_seen = any(line.strip() == READY for line in cap.lines)
    if ready_seen != (sc.outcome == "success"):
        raise CaptureError(f"ready marker seen={ready_seen} but expected outcome {sc.outcome}")


def markers(cap: boot.Capture) -> list[dict]:
    """The lines guest scripts (not the kernel or busybox applets) can print."""
    sc = cap.scenario
    scripts = []
    if sc.initramfs is not None:
        scripts.append(initramfs.init_text(sc.initramfs))
    if sc.disk is not None:
        scripts.append(sc.disk.init)
    if not any(READY in text for text in scripts):
        return []
    printed = any(line.strip() == READY for line in cap.lines)
    return [{"text": READY, "printed_by": READY_MARKER["printed_by"], "printed": printed}]


def build_meta(cap: boot.Capture, files: list[str], qemu_ver: str) -> dict:
    sc, res, k = cap.scenario, cap.result, cap.kernel
    argv = cap.argv_for_meta()
    os_desc = f"Debian 12 kernel {k.release} ({k.package} {k.version})"
    if cap.busybox is not None:
        os_desc += f", busybox-static {cap.busybox.version}"
    meta: dict = {
        "name": f"qemu-{sc.name}",
        "source": "produced by tests/qemu/capture.py: a real Debian kernel booted under QEMU "
                  "with the fault below injected",
        "synthetic": False,
        "files": files,
        "cloud": "qemu",
        "hypervisor": "kvm" if res.accel == "kvm" else "tcg",
        "os": os_desc,
        "capture": "ttyS0 written by QEMU -serial file: (whole boot, unedited bytes)"
                   + ("; screen.png from QMP screendump (PPM converted to PNG)"
                      if "screen.png" in files else ""),
        "scenario": sc.name,
        "title": sc.title,
        "injected": sc.injected,
    }
    if sc.models_cloud:
        meta["models_cloud"] = sc.models_cloud
    meta["kernel"] = {"package": k.package, "version": k.version, "release": k.release,
                      "flavour": k.flavour, "cmdline": sc.append}
    if cap.busybox is not None:
        meta["busybox"] = {"package": cap.busybox.package, "version": cap.busybox.version}
    if sc.initramfs is not None:
        meta["initramfs"] = {
            "built_by": "tests/qemu/guestkit/initramfs.py (cpio newc, gzip)",
            "busybox": sc.initramfs.busybox,
            "modules_requested": list(sc.initramfs.modules),
            "init": initramfs.init_text(sc.initramfs),
            "files": {p: c if isinstance(c, str) else f"<{len(c)} bytes>"
                      for p, (c, _m) in sc.initramfs.files.items()},
        }
    if cap.disk_info is not None:
        meta["disk"] = cap.disk_info
    if cap.network_info is not None:
        meta["network"] = cap.network_info
    meta["markers"] = markers(cap)
    meta["qemu"] = {
        "version": qemu_ver,
        "accel": res.accel,
        "argv": argv,
        "command": shlex.join(argv),
        "placeholders": {"$CACHE": "guest kit cache (CONSOLEWATCH_QEMU_CACHE)",
                         "$WORK": "per-boot temporary directory",
                         "$NETNS": "private network namespace made for the boot"},
    }
    meta["boot"] = {"duration_s": round(res.duration, 1), "stopped_by": res.reason,
                    "stop_rule": res.matched, "boots_on_serial": cap.count_boots()}
    if sc.screen and res.frames:
        meta["screen_text"] = "\n".join(res.frames[-1].text or [])
        meta["frames_seen"] = len(res.frames)
    if sc.notes:
        meta["notes"] = sc.notes
    return meta


def build_expected(cap: boot.Capture, evidence: dict[str, list[str]],
                   screen_line: str | None) -> dict:
    sc = cap.scenario
    exp: dict = {"outcome": sc.outcome, "categories": sorted(sc.categories),
                 "evidence": evidence}
    if sc.boots is not None:
        exp["boots"] = cap.count_boots()
    if sc.remediation_mentions:
        exp["remediation_mentions"] = list(sc.remediation_mentions)
    if sc.screen_categories:
        exp["screen_categories"] = sorted(sc.screen_categories)
    if screen_line:
        exp["screen_evidence"] = screen_line
    if sc.serial_only:
        exp["serial_only"] = sc.serial_only
    notes = ["Evidence lines are quoted from serial.log with escape sequences and carriage "
             "returns removed."]
    if any(m["printed"] for m in markers(cap)):
        notes.append(f"'{READY}' is printed by the guest's init script (see meta.yaml "
                     "markers), not by the kernel.")
    exp["notes"] = " ".join(notes)
    return exp


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def _dump(path: Path, data: dict) -> None:
    path.write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                              width=100))


def write_sample(cap: boot.Capture, out_root: Path, qemu_ver: str) -> Path:
    check(cap)
    evidence = resolve_evidence(cap)
    screen_line = resolve_screen_evidence(cap)
    folder = out_root / cap.scenario.name
    folder.mkdir(parents=True, exist_ok=True)
    for name in OWNED_FILES:
        (folder / name).unlink(missing_ok=True)
    files = ["serial.log"]
    (folder / "serial.log").write_bytes(cap.result.serial)
    if cap.scenario.screen:
        png = cap.result.screen
        if not png:
            raise CaptureError("no screen frame captured")
        (folder / "screen.png").write_bytes(png)
        files.append("screen.png")
    _dump(folder / "meta.yaml", build_meta(cap, files, qemu_ver))
    _dump(folder / "expected.yaml", build_expected(cap, evidence, screen_line))
    return folder


def write_extra_sample(cap: boot.Capture, source: str, **meta: object) -> Path:
    """A capture of a script under extra/: written to samples/<scenario>/ (not samples/qemu/),
    its meta.yaml naming the scenario, the script that produced it and any `meta` given."""
    where = write_sample(cap, REPO / "samples", qemu_version())
    data = yaml.safe_load((where / "meta.yaml").read_text())
    data["name"] = cap.scenario.name
    data["source"] = source
    data.update(meta)
    _dump(where / "meta.yaml", data)
    print(f"ok {cap.scenario.name}: {where}", file=sys.stderr)
    return where


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="scenarios to boot (default: all)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--list", action="store_true", help="list scenarios and exit")
    ap.add_argument("--show", action="store_true",
                    help="print the sanitised console instead of writing samples")
    ap.add_argument("--accel", choices=["kvm", "tcg"], default=None)
    args = ap.parse_args(argv)
    if args.list:
        for sc in SCENARIOS:
            print(f"{sc.name:24} {sc.title}")
        return 0
    unknown = [n for n in args.names if n not in BY_NAME]
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(unknown)}")
    chosen = [BY_NAME[n] for n in args.names] if args.names else SCENARIOS
    qemu_ver = qemu_version()
    failures = 0
    total = time.monotonic()
    for sc in chosen:
        t0 = time.monotonic()
        try:
            cap = boot.run(sc, accel=args.accel)
            if args.show:
                print("\n".join(cap.lines))
                if cap.screen_rows:
                    print("--- screen ---\n" + "\n".join(cap.screen_rows))
                check(cap)
                resolve_evidence(cap)
                resolve_screen_evidence(cap)
                where = "(not written)"
            else:
                where = str(write_sample(cap, args.out, qemu_ver).relative_to(REPO)
                            if args.out.is_relative_to(REPO) else args.out / sc.name)
            print(f"ok   {sc.name:24} boot {cap.result.duration:5.1f}s "
                  f"({cap.result.accel}, {cap.result.reason})  total "
                  f"{time.monotonic() - t0:5.1f}s  {where}", file=sys.stderr)
        except Exception as exc:  # report every scenario, then fail
            failures += 1
            print(f"FAIL {sc.name:24} {type(exc).__name__}: {exc}", file=sys.stderr)
    print(f"{len(chosen) - failures} passed, {failures} failed "
          f"in {time.monotonic() - total:.1f}s", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
