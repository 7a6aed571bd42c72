"""`consolewatch netcfg TARGET`: the addressing the cloud assigned, as the configuration a guest reads.

The facts come from the target's own fetcher (its API client, endpoint, credentials, retries
and one-line errors): the first `MachineContext` it yields, before any console is read. Data
goes to stdout (the configuration, or the GRUB entry with --initrd), notes to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

from consolewatch.cli import EXIT_OK, EXIT_TIMEOUT, UsageError

FORMATS = ("interfaces", "netplan", "cmdline", "json")
TITLE = "Linux (network from consolewatch netcfg)"
#: Sources whose unavailability means the cloud's API could not describe the machine (the
#: DigitalOcean fetcher's "droplet": no token; the other fetchers raise FetchError).
_API_SOURCES = ("droplet",)
_NO_API = ("file", "qemu", "vnc")
TAKES = "netcfg takes do:, gce:, aws: and openstack: targets"


def add_parser(sub: argparse._SubParsersAction) -> None:
    n = sub.add_parser("netcfg", help="the addressing a cloud assigned a machine, as interfaces/netplan/ip= "
                                      "or an initramfs for the bootloader")
    n.add_argument("target", help="do:DROPLET_ID, gce:PROJECT/ZONE/NAME, aws:[REGION/]i-... or openstack:SERVER")
    n.add_argument("--format", choices=FORMATS, default="interfaces",
                   help="/etc/network/interfaces (default), netplan YAML, the kernel's ip= argument, or JSON")
    n.add_argument("--static", action="store_true",
                   help="write a DHCP lease that is known in full as static configuration (guests without a DHCP "
                        "client, unikernels)")
    n.add_argument("--interface", metavar="NAME", help="name of the first interface (default: eth0)")
    n.add_argument("--initrd", metavar="OUT.cpio.gz",
                   help="write a reproducible initramfs holding etc/network/interfaces and print the GRUB menuentry")
    n.add_argument("--add", action="append", default=[], metavar="SRC:DEST",
                   help="--initrd: also put the local file SRC at DEST in the archive (repeatable)")
    n.add_argument("--kernel", default="/boot/vmlinuz", metavar="PATH", help="--initrd: the menuentry's kernel")
    n.add_argument("--base-initrd", action="append", default=[], metavar="PATH",
                   help="--initrd: the image's own initramfs, loaded before the archive (repeatable)")
    n.add_argument("--initrd-path", metavar="PATH",
                   help="--initrd: where the archive lies on the boot disk (default: /boot/ and its file name)")
    n.add_argument("--region", help="AWS region (else the boto3 chain)")
    n.add_argument("--os-cloud", metavar="NAME", help="OpenStack: the clouds.yaml entry (else OS_CLOUD, else OS_*)")
    n.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="give up on the cloud's API after this long (exit 3)")


async def machine_context(target):
    """The first MachineContext the target's fetcher yields (its API's description)."""
    from consolewatch.fetchers import FetchError, fetcher_class
    from consolewatch.model import MachineContext, SourceUnavailable

    stream = fetcher_class(target.kind)(target).stream(follow=False)
    try:
        async for event in stream:
            if isinstance(event, MachineContext):
                return event
            if isinstance(event, SourceUnavailable) and event.source in _API_SOURCES:
                raise FetchError(f"{target}: {event.reason}" + (f" ({event.hint})" if event.hint else ""))
    finally:
        await stream.aclose()
    raise FetchError(f"{target}: no cloud API describes how this machine is addressed ({TAKES})")


def run(args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: every command builds this module's options (--help too)

    from consolewatch.fetchers import FetchError, parse_target
    from consolewatch.netcfg import render
    from consolewatch.netcfg.addressing import NetcfgError, plan

    try:
        options = {k: v for k, v in (("region", args.region), ("os_cloud", args.os_cloud)) if v}
        target = parse_target(args.target, options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if target.kind in _NO_API:
        raise UsageError(f"{target}: a {target.kind} target has no cloud API that assigns its addresses ({TAKES})")
    if args.add and not args.initrd:
        raise UsageError("--add puts files in the archive: it goes with --initrd")
    extra = _extra_files(args.add) if args.initrd else {}
    try:
        ctx = asyncio.run(asyncio.wait_for(machine_context(target), args.timeout))
        cfg = plan(ctx, interface=args.interface, static=args.static)
    except (FetchError, NetcfgError) as exc:
        raise UsageError(str(exc)) from None
    except TimeoutError:
        print(f"consolewatch: {target}: the cloud's API did not answer within {args.timeout:g} s", file=sys.stderr)
        return EXIT_TIMEOUT
    notes = list(cfg.notes)
    if args.initrd:
        out = _write_initrd(args, cfg, extra, str(target))
    elif args.format == "json":
        out = json.dumps(render.document(cfg, str(target)), indent=2)
        notes = []  # they are in the document
    elif args.format == "cmdline":
        out, more = render.cmdline(cfg)
        notes += more
    else:
        out = render.interfaces(cfg) if args.format == "interfaces" else render.netplan(cfg)
    sys.stdout.write(out + "\n")
    for note in notes:
        print(f"consolewatch: note: {note}", file=sys.stderr)
    return EXIT_OK


def _extra_files(specs: list[str]) -> dict[str, tuple[bytes, int]]:
    out: dict[str, tuple[bytes, int]] = {}
    for spec in specs:
        src, sep, dest = spec.rpartition(":")
        if not sep or not src or not dest:
            raise UsageError(f"--add {spec!r}: use SRC:DEST (a local file and its path in the archive)")
        path = Path(src)
        if not path.is_file():
            raise UsageError(f"--add: {src!r} is not a regular file")
        out[dest.strip("/")] = (path.read_bytes(), 0o755 if os.access(path, os.X_OK) else 0o644)
    return out


def _write_initrd(args: argparse.Namespace, cfg, extra: dict[str, tuple[bytes, int]], target: str) -> str:
    from consolewatch.netcfg import render
    from consolewatch.netcfg.addressing import NetcfgError
    from consolewatch.netcfg.initrd import INTERFACES_PATH, archive, grub_entry

    out = Path(args.initrd)
    if INTERFACES_PATH in extra:
        raise UsageError(f"--add: {INTERFACES_PATH} is what netcfg writes; give it another path")
    files = {**extra, INTERFACES_PATH: ((render.interfaces(cfg) + "\n").encode(), 0o644)}
    try:
        data = archive(files)
        entry = grub_entry(cfg, kernel=args.kernel, title=TITLE,
                           initrds=[*args.base_initrd, args.initrd_path or f"/boot/{out.name}"])
    except NetcfgError as exc:
        raise UsageError(str(exc)) from None
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"consolewatch: wrote {out} ({len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}): "
          f"{INTERFACES_PATH} for {target}" + (f" and {len(extra)} more file(s)" if extra else ""), file=sys.stderr)
    return entry
