#!/usr/bin/env python3
"""Boot the blind-set scenarios (blind_scenarios.py) under QEMU and (re)write
samples/blind/<half>/qemu/<case>/ (serial.log, meta.yaml, expected.yaml), plus
samples/blind/<half>/qemu-screens/<case>-<png|jpeg-qNN>/ for scenarios with a screen and
samples/blind/<half>/qemu/<case>-excerpt/ for those with an excerpt. <half> is `study` or
`holdout` (samples/blind/README.md): a re-recorded scenario stays in its half, a new one goes
to the half it names (BlindScenario.half).

    python tests/qemu/capture_blind.py                  # all
    python tests/qemu/capture_blind.py mce-fatal        # some
    python tests/qemu/capture_blind.py --list
    python tests/qemu/capture_blind.py --show NAME      # boot and print the console only

The annotation is the scenario's (from the fault injected); a boot whose console lacks the
annotated evidence, or that ended some other way than the scenario says, writes nothing and
makes the exit status 1. Needs root (network namespaces), QEMU, apt-get/dpkg-deb, e2fsprogs,
xfsprogs, btrfs-progs, dnsmasq, iproute2, ovmf, Pillow.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from blind_scenarios import BY_NAME, SCENARIOS, THREAD  # noqa: E402
from capture import _dump, qemu_version  # noqa: E402
from guestkit import blindboot, fetch, initramfs  # noqa: E402
from guestkit.boot import join_screen_rows, sanitize_lines  # noqa: E402
from PIL import Image  # noqa: E402

REPO = HERE.parent.parent
DEFAULT_OUT = REPO / "samples" / "blind"
JPEG_QUALITIES = (90, 70, 50)


class CaptureError(RuntimeError):
    pass


def half(out: Path, sc) -> Path:
    """The half of the blind set (study or holdout) holding scenario `sc`'s cases: where it
    was recorded before, else the half the scenario names."""
    for h in ("study", "holdout"):
        if (out / h / "qemu" / sc.name).is_dir():
            return out / h
    return out / sc.half


def _missing(evidence: dict[str, list[str]], lines: list[str]) -> list[str]:
    return [f"{cat}: {s!r}" for cat, subs in evidence.items() for s in subs
            if not any(s in line for line in lines)]


def check(cap) -> None:
    sc, res = cap.scenario, cap.result
    if res.reason not in sc.ends:
        tail = "\n".join(cap.lines[-15:])
        raise CaptureError(f"boot ended by {res.reason} after {res.duration:.1f}s, expected "
                           f"{'/'.join(sc.ends)}; serial tail:\n{tail}")
    if len(cap.actions) != len(sc.actions):
        raise CaptureError(f"monitor commands sent: {cap.actions}, expected {len(sc.actions)}")
    if set(sc.evidence) - set(sc.categories) - set(sc.optional):
        raise CaptureError("evidence for a category that is not annotated")
    missing = _missing(sc.evidence, cap.lines)
    if missing:
        raise CaptureError("evidence not on the console: " + "; ".join(missing))
    if sc.screen:
        missing = _missing(sc.screen_evidence, screen_lines(cap))
        if missing:
            raise CaptureError("screen evidence not on the last screen: " + "; ".join(missing))


def screen_lines(cap) -> list[str]:
    return [r.strip() for r in join_screen_rows(cap.screen_rows or [])]


def os_desc(cap) -> str:
    k = cap.kernel
    return (f"Debian 12 kernel {k.release} ({k.package} {k.version}), busybox-static "
            f"{cap.busybox.version}")


def base_meta(cap, name: str, files: list[str], capture: str, family: str, qemu_ver: str) -> dict:
    sc, res, k = cap.scenario, cap.result, cap.kernel
    meta: dict = {
        "name": name,
        "source": f"qemu boot of Debian {k.package} by tests/qemu/capture_blind.py "
                  f"(scenario {sc.name}): {sc.injected}",
        "thread": THREAD,
        "synthetic": False,
        "files": files,
        "cloud": "qemu",
        "hypervisor": "kvm" if res.accel == "kvm" else "tcg",
        "os": os_desc(cap),
        "capture": capture,
        "family": family,
        "scenario": sc.name,
        "title": sc.title,
        "injected": sc.injected,
        "kernel": {"package": k.package, "version": k.version, "release": k.release,
                   "flavour": k.flavour, "cmdline": sc.append,
                   "booted_by": "SeaBIOS from the disks (no -kernel)" if sc.no_kernel
                   else "QEMU -kernel/-initrd"},
    }
    if sc.initramfs is not None:
        meta["initramfs"] = {
            "built_by": "tests/qemu/guestkit/initramfs.py (cpio newc, gzip)",
            "modules_requested": list(sc.initramfs.modules),
            "init": initramfs.init_text(sc.initramfs) if "/init" not in sc.host_programs.values()
            else "this machine's " + next(p for p, g in sc.host_programs.items() if g == "/init")
            + " (see host_programs)",
            "files": {p: c if isinstance(c, str) else f"<{len(c)} bytes>"
                      for p, (c, _m) in sc.initramfs.files.items()},
        }
        if sc.host_programs:
            meta["initramfs"]["host_programs"] = {
                "programs": dict(sc.host_programs),
                "from": "this Debian 12 machine, with the shared libraries ldd names"}
            if sc.initrd_drop:
                meta["initramfs"]["host_programs"]["left_out"] = list(sc.initrd_drop)
        if sc.package_files:
            meta["initramfs"]["package_files"] = {
                pkg: {"paths": paths, "version": fetch.package(pkg)[1],
                      "from": "apt-get download + dpkg-deb -x; shared libraries from this "
                              "Debian 12 machine"}
                for pkg, paths in sc.package_files.items()}
        if sc.initrd_padding_mb:
            meta["initramfs"]["padding"] = (
                f"a second gzip'd newc archive appended, one file of {sc.initrd_padding_mb} MB "
                "of zeros (/padding.bin)")
        if sc.initrd_overwrite:
            meta["initramfs"]["overwritten"] = (
                f"the first {sc.initrd_overwrite} bytes of the gzip'd image replaced by 0x5a")
    if cap.disk_info:
        meta["disks"] = cap.disk_info
    if cap.network_info:
        meta["network"] = cap.network_info
    if cap.actions:
        meta["monitor_commands"] = cap.actions
    argv = cap.argv_for_meta()
    meta["memory_mb"] = sc.memory_mb
    meta["qemu_argv"] = argv
    meta["qemu"] = {"version": qemu_ver, "accel": res.accel,
                    "placeholders": {"$CACHE": "guest kit cache (CONSOLEWATCH_QEMU_CACHE)",
                                     "$WORK": "per-boot temporary directory",
                                     "$NETNS": "private network namespace made for the boot"}}
    meta["boot"] = {"duration_s": round(res.duration, 1), "stopped_by": res.reason,
                    "stop_rule": res.matched, "boots_on_serial": cap.count_boots()}
    if sc.notes:
        meta["notes"] = sc.notes
    return meta


def expected(outcome: str, categories, optional, evidence: dict, notes: str) -> dict:
    exp: dict = {"outcome": outcome, "categories": sorted(categories)}
    if optional:
        exp["optional"] = sorted(optional)
    exp["evidence"] = {c: list(v) for c, v in evidence.items()}
    exp["notes"] = notes
    return exp


def partial_optional(sc, shown) -> set[str]:
    """A partial view (the last screen, the end of the log) of a boot: what the whole boot's
    annotation names but the view does not prove is still true of the boot, so it is optional
    there (neither rewarded nor penalised), never a false alarm."""
    return (set(sc.categories) | set(sc.optional)) - set(shown)


def _fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


SERIAL_CAPTURE = "ttyS0 written by QEMU -serial file: (whole boot, unedited bytes)"
ANNOTATION = ("Annotated from the fault injected (see meta.yaml injected), not from "
              "consolewatch's output.")


def write_case(cap, out: Path, qemu_ver: str) -> list[Path]:
    sc = cap.scenario
    written = []
    folder = _fresh(half(out, sc) / "qemu" / sc.name)
    (folder / "serial.log").write_bytes(cap.result.serial)
    _dump(folder / "meta.yaml", base_meta(cap, f"qemu-{sc.name}", ["serial.log"],
                                          SERIAL_CAPTURE, sc.family, qemu_ver))
    _dump(folder / "expected.yaml", expected(sc.outcome, sc.categories, sc.optional,
                                             sc.evidence, ANNOTATION))
    written.append(folder)
    if sc.excerpt:
        written.append(write_excerpt(cap, out, qemu_ver))
    if sc.screen:
        written += write_screens(cap, out, qemu_ver)
    return written


def excerpt_bytes(sc, serial: bytes) -> bytes:
    """The last `excerpt` lines of the serial log, as a person pastes the end of a crash (the
    first ones with `excerpt_head`: a capture cut short)."""
    lines = serial.rstrip(b"\n").split(b"\n")
    return b"\n".join(lines[:sc.excerpt] if sc.excerpt_head else lines[-sc.excerpt:]) + b"\n"


def excerpt_expected(sc) -> dict:
    return expected(
        sc.excerpt_outcome or sc.outcome, sc.excerpt_evidence,
        partial_optional(sc, sc.excerpt_evidence), sc.excerpt_evidence,
        ANNOTATION + (" Only the start of the boot is given: the capture stops before the "
                      "fault shows." if sc.excerpt_head else " Only the end of the boot is given."))


def write_excerpt(cap, out: Path, qemu_ver: str) -> Path:
    sc = cap.scenario
    data = excerpt_bytes(sc, cap.result.serial)
    missing = _missing(sc.excerpt_evidence, sanitize_lines(data))
    if missing:
        raise CaptureError("evidence not in the excerpt: " + "; ".join(missing))
    folder = _fresh(half(out, sc) / "qemu" / f"{sc.name}-excerpt")
    (folder / "console.log").write_bytes(data)
    meta = base_meta(cap, f"qemu-{sc.name}-excerpt", ["console.log"],
                     f"excerpt: the {'first' if sc.excerpt_head else 'last'} {sc.excerpt} lines "
                     "of the serial log of the boot (ttyS0 via QEMU -serial file:), unedited "
                     "bytes", "partial-views", qemu_ver)
    _dump(folder / "meta.yaml", meta)
    _dump(folder / "expected.yaml", excerpt_expected(sc))
    return folder


def write_screens(cap, out: Path, qemu_ver: str) -> list[Path]:
    sc = cap.scenario
    png = cap.result.screen
    if not png:
        raise CaptureError("no screen frame captured")
    variants = [("png", "screen.png", png)]
    with Image.open(io.BytesIO(png)) as img:
        rgb = img.convert("RGB")
        for q in JPEG_QUALITIES:
            buf = io.BytesIO()
            rgb.save(buf, format="JPEG", quality=q)
            variants.append((f"jpeg-q{q}", "screen.jpg", buf.getvalue()))
    folders = []
    text = "\n".join(cap.screen_rows or [])
    for suffix, filename, data in variants:
        folder = _fresh(half(out, sc) / "qemu-screens" / f"{sc.name}-{suffix}")
        (folder / filename).write_bytes(data)
        how = ("QMP screendump of the VGA screen (PPM converted to PNG)" if suffix == "png" else
               f"QMP screendump of the VGA screen, PNG re-encoded as JPEG quality "
               f"{suffix[-2:]} with Pillow")
        meta = base_meta(cap, f"qemu-screen-{sc.name}-{suffix}", [filename], how, "screens",
                         qemu_ver)
        meta["screen_text"] = text
        _dump(folder / "meta.yaml", meta)
        _dump(folder / "expected.yaml", expected(
            sc.screen_outcome or sc.outcome, sc.screen_evidence, partial_optional(sc, sc.screen_evidence), sc.screen_evidence,
            ANNOTATION + " Only the last screen is given; screen_text in meta.yaml is the VGA "
            "text buffer read at the same moment."))
        folders.append(folder)
    return folders


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="scenarios to boot (default: all)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--show", action="store_true", help="print the console, write nothing")
    ap.add_argument("--accel", choices=["kvm", "tcg"], default=None)
    args = ap.parse_args(argv)
    if args.list:
        for sc in SCENARIOS:
            print(f"{sc.name:32} {sc.family:20} {sc.title}")
        return 0
    unknown = [n for n in args.names if n not in BY_NAME]
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(unknown)}")
    qemu_ver = qemu_version()
    failures = 0
    for sc in [BY_NAME[n] for n in args.names] if args.names else SCENARIOS:
        t0 = time.monotonic()
        try:
            cap = blindboot.run(sc, accel=args.accel)
            if args.show:
                print("\n".join(cap.lines))
                if cap.screen_rows:
                    print("--- screen ---\n" + "\n".join(cap.screen_rows))
                print(f"--- ended by {cap.result.reason}; actions {cap.actions}")
                check(cap)
                where = "(not written)"
            else:
                check(cap)
                where = ", ".join(str(p.relative_to(args.out)) for p in
                                  write_case(cap, args.out, qemu_ver))
            print(f"ok   {sc.name:32} {cap.result.duration:5.1f}s ({cap.result.reason})  "
                  f"{where}", file=sys.stderr)
        except Exception as exc:  # report every scenario, then fail
            failures += 1
            print(f"FAIL {sc.name:32} {type(exc).__name__}: {exc} "
                  f"({time.monotonic() - t0:.0f}s)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
