"""Boot a kernel under QEMU, capture its serial port and screen, and always reap it.

Every boot runs under a hard timeout. QEMU is started in its own session (process group)
with PR_SET_PDEATHSIG=SIGKILL, so it dies with the Python process that started it even if
that process is killed; the group is killed (SIGTERM, then SIGKILL) and waited for when the
boot ends for any reason, when a `with` block raises, and at interpreter exit.

Acceleration: KVM when `/dev/kvm` works, else TCG. Whether KVM works is probed once by
booting the kernel with `-accel kvm -cpu host` until it prints "Linux version" (QEMU on some
hosts aborts with "failed to set MSR" or boots silently). `CONSOLEWATCH_QEMU_ACCEL=kvm|tcg`
skips the probe.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

QEMU = os.environ.get("CONSOLEWATCH_QEMU_BINARY", "qemu-system-x86_64")

_live: set[Qemu] = set()
_live_lock = threading.Lock()


def _reap_all() -> None:
    with _live_lock:
        machines = list(_live)
    for m in machines:
        m.close()


atexit.register(_reap_all)


def _pdeathsig() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def live_machines() -> int:
    """How many QEMU processes this module started are still running (for tests)."""
    with _live_lock:
        return sum(1 for m in _live if m.running)


def qemu_available() -> bool:
    return shutil.which(QEMU) is not None


# -- QMP ------------------------------------------------------------------------------------
class QMPError(RuntimeError):
    pass


class QMP:
    """Minimal QMP client over a unix socket (JSON lines; events are skipped)."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self._buf = b""
        greeting = self._read()
        if "QMP" not in greeting:
            raise QMPError(f"unexpected greeting {greeting!r}")
        self.execute("qmp_capabilities")

    def _read(self) -> dict:
        while b"\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QMPError("QMP socket closed")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command: str, **arguments) -> object:
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise QMPError(f"{command}: {reply['error']}")
            # else: an asynchronous event; keep reading

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def ppm_to_png(ppm: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(ppm)) as img:
        out = io.BytesIO()
        img.save(out, format="PNG", optimize=True)
        return out.getvalue()


# -- machine description -------------------------------------------------------------------
@dataclass
class Drive:
    path: Path
    interface: str = "virtio"  # virtio | nvme | ide | cdrom | floppy | scsi (virtio-scsi)
    serial: str = "cw0"
    options: str = ""          # more -drive options (virtio only), e.g. throttling.bps-total=N


@dataclass
class MachineSpec:
    kernel: Path | None         # None: no -kernel (the BIOS finds nothing to boot)
    append: str = ""
    initrd: Path | None = None
    memory_mb: int = 256
    cpus: int = 1
    drives: list[Drive] = field(default_factory=list)
    nic: str = "none"        # none | user | tap
    nic_model: str = "virtio-net-pci"  # its iPXE option ROM is left out (romfile=)
    nic_rom: bool = False     # True: keep QEMU's own option ROM for the model (iPXE)
    tap_ifname: str = "tap0"
    netns: str | None = None  # run QEMU inside this network namespace (for tap)
    bios_serial: bool = True  # SeaBIOS mirrors its screen to ttyS0, as on GCE
    extra_args: list[str] = field(default_factory=list)


@dataclass
class StopRule:
    """Stop once `pattern` (regex over the serial bytes) matched `count` times, after
    `settle` more seconds (so the lines that follow the match are captured too)."""

    pattern: str
    count: int = 1
    settle: float = 1.0


@dataclass
class Frame:
    at: float       # seconds since QEMU started
    png: bytes
    digest: str
    text: list[str] | None = None  # the VGA text buffer (80x25) when in text mode


def same_screen(a: bytes, b: bytes) -> bool:
    """True when two PNG screens differ at most in one character cell (a blinking cursor)."""
    if a == b:
        return True
    from PIL import Image, ImageChops

    with Image.open(io.BytesIO(a)) as ia, Image.open(io.BytesIO(b)) as ib:
        if ia.size != ib.size:
            return False
        box = ImageChops.difference(ia.convert("RGB"), ib.convert("RGB")).getbbox()
    return box is None or (box[2] - box[0] <= 9 and box[3] - box[1] <= 16)


@dataclass
class BootResult:
    argv: list[str]
    accel: str
    serial: bytes
    frames: list[Frame]
    duration: float
    reason: str              # "stop-rule", "screen-stable", "exited", "timeout"
    returncode: int | None
    stderr: str
    matched: str | None = None

    @property
    def screen(self) -> bytes | None:
        return self.frames[-1].png if self.frames else None


# -- acceleration -------------------------------------------------------------------------
_accel_cache: list[str] = []


def _kvm_openable() -> bool:
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True


def choose_accel(probe_kernel: Path | None) -> str:
    """'kvm' or 'tcg' (cached for the process)."""
    env = os.environ.get("CONSOLEWATCH_QEMU_ACCEL", "auto").lower()
    if env in ("kvm", "tcg"):
        return env
    if _accel_cache:
        return _accel_cache[0]
    accel = "tcg"
    if _kvm_openable() and probe_kernel is not None:
        spec = MachineSpec(kernel=probe_kernel, append="console=ttyS0 panic=-1", memory_mb=128)
        try:
            with Qemu(spec, accel="kvm") as vm:
                res = vm.wait(timeout=10, stop=[StopRule(r"Linux version", settle=0)])
            if b"Linux version" in res.serial:
                accel = "kvm"
        except Exception:
            accel = "tcg"
    _accel_cache.append(accel)
    return accel


def cpu_args(accel: str) -> list[str]:
    if accel == "kvm":
        return ["-machine", "pc,accel=kvm", "-cpu", "host"]
    return ["-machine", "pc,accel=tcg", "-cpu", "max"]


# -- the machine ------------------------------------------------------------------------------
class Qemu:
    """One QEMU process. Use as a context manager; `wait()` runs the boot to a stop."""

    def __init__(self, spec: MachineSpec, accel: str | None = None,
                 workdir: Path | None = None) -> None:
        self.spec = spec
        self.accel = accel or choose_accel(spec.kernel)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="cw-qemu-"))
        self.serial_path = self.workdir / "serial.log"
        self.qmp_path = self.workdir / "qmp.sock"
        self.stderr_path = self.workdir / "qemu.stderr"
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.argv = self.build_argv()
        self._qmp: QMP | None = None

    # argv -------------------------------------------------------------------------------
    def build_argv(self) -> list[str]:
        s = self.spec
        argv = [QEMU, "-nodefaults", "-no-user-config", *cpu_args(self.accel),
                "-m", str(s.memory_mb), "-smp", str(s.cpus)]
        if s.kernel is not None:
            argv += ["-kernel", str(s.kernel), "-append", s.append]
        if s.initrd is not None:
            argv += ["-initrd", str(s.initrd)]
        if s.bios_serial:
            # SeaBIOS reads the I/O port of its serial console from this fw_cfg file
            # (QEMU sets it itself only with -nographic).
            port = self.workdir / "sercon-port"
            port.write_bytes((0x3F8).to_bytes(2, "little"))
            argv += ["-fw_cfg", f"name=etc/sercon-port,file={port}"]
        argv += ["-vga", "std", "-display", "none",
                 "-serial", f"file:{self.serial_path}",
                 "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        for i, d in enumerate(s.drives):
            if d.interface == "nvme":
                argv += ["-drive", f"file={d.path},if=none,id=d{i},format=raw",
                         "-device", f"nvme,drive=d{i},serial={d.serial}{i}"]
            elif d.interface == "virtio":
                opts = f",{d.options}" if d.options else ""
                argv += ["-drive", f"file={d.path},if=none,id=d{i},format=raw{opts}",
                         "-device", f"virtio-blk-pci,drive=d{i}"]
            elif d.interface == "ide":
                argv += ["-drive", f"file={d.path},if=ide,index={i},format=raw"]
            elif d.interface == "cdrom":
                argv += ["-drive", f"file={d.path},if=ide,index={i},media=cdrom,format=raw"]
            elif d.interface == "floppy":
                argv += ["-drive", f"file={d.path},if=floppy,index=0,format=raw"]
            elif d.interface == "scsi":   # a virtio-scsi controller, as GCE attaches disks
                argv += ["-device", f"virtio-scsi-pci,id=scsi{i}",
                         "-drive", f"file={d.path},if=none,id=d{i},format=raw",
                         "-device", f"scsi-hd,drive=d{i},bus=scsi{i}.0"]
            else:
                raise ValueError(f"unknown drive interface {d.interface!r}")
        if s.nic == "user":
            argv += ["-netdev", "user,id=n0", "-device", f"{s.nic_model},netdev=n0{'' if s.nic_rom else ',romfile='}"]
        elif s.nic == "tap":
            argv += ["-netdev", f"tap,id=n0,ifname={s.tap_ifname},script=no,downscript=no",
                     "-device", f"{s.nic_model},netdev=n0{'' if s.nic_rom else ',romfile='}"]
        elif s.nic != "none":
            raise ValueError(f"unknown nic {s.nic!r}")
        argv += s.extra_args
        if s.netns:
            argv = ["ip", "netns", "exec", s.netns] + argv
        return argv

    # lifecycle --------------------------------------------------------------------------
    def start(self) -> Qemu:
        if self.proc is not None:
            raise RuntimeError("already started")
        self.serial_path.write_bytes(b"")
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                start_new_session=True, preexec_fn=_pdeathsig, close_fds=True,
            )
        self.started_at = time.monotonic()
        with _live_lock:
            _live.add(self)
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        """Kill the whole process group and wait for it. Idempotent."""
        if self._qmp is not None:
            self._qmp.close()
            self._qmp = None
        proc = self.proc
        if proc is not None:
            if proc.poll() is None:
                for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):
                    try:
                        os.killpg(proc.pid, sig)
                    except ProcessLookupError:
                        break
                    try:
                        proc.wait(timeout=grace)
                        break
                    except subprocess.TimeoutExpired:
                        continue
            else:
                proc.wait()
            # Anything else left in the group (there should be nothing).
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        with _live_lock:
            _live.discard(self)

    def close(self) -> None:
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Qemu:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # I/O --------------------------------------------------------------------------------
    def serial(self) -> bytes:
        try:
            return self.serial_path.read_bytes()
        except FileNotFoundError:
            return b""

    def qmp(self) -> QMP:
        if self._qmp is None:
            deadline = time.monotonic() + 5
            while True:
                try:
                    self._qmp = QMP(str(self.qmp_path))
                    break
                except (FileNotFoundError, ConnectionRefusedError, OSError):
                    if time.monotonic() > deadline or not self.running:
                        raise
                    time.sleep(0.05)
        return self._qmp

    def screendump(self) -> bytes:
        """The VGA screen as PNG bytes."""
        path = self.workdir / "screen.ppm"
        path.unlink(missing_ok=True)
        self.qmp().execute("screendump", filename=str(path))
        return ppm_to_png(path.read_bytes())

    def _hmp(self, command: str) -> str:
        return str(self.qmp().execute("human-monitor-command", **{"command-line": command}))

    def _crtc(self, index: int) -> int:
        """Read a VGA CRT controller register, restoring the guest's index register.

        Only race-free while the guest is not touching the VGA registers itself (a halted
        or idle guest, e.g. after a panic)."""
        def inb(port: int) -> int:
            return int(self._hmp(f"i /b {port:#x}").split("=")[1], 16)

        saved = inb(0x3D4)
        try:
            self._hmp(f"o /b 0x3d4 {index:#x}")
            return inb(0x3D5)
        finally:
            self._hmp(f"o /b 0x3d4 {saved:#x}")

    def screen_text(self, cols: int = 80, rows: int = 25) -> list[str]:
        """The characters of the VGA text-mode screen, one string per row.

        Read from guest memory at 0xb8000 plus the CRTC start address (Linux's vgacon
        scrolls by moving the start address): ground truth for what a text-mode screen
        shows; meaningless in graphics modes."""
        start = (self._crtc(0x0C) << 8) | self._crtc(0x0D)  # in character cells
        out = self._hmp(f"xp /{cols * rows}hx {0xB8000 + 2 * start:#x}")
        cells: list[int] = []
        for line in out.splitlines():
            if ":" in line:
                cells += [int(v, 16) & 0xFF for v in line.split(":", 1)[1].split()]
        chars = "".join(chr(c) if 32 <= c < 127 else " " for c in cells[:cols * rows])
        return [chars[i:i + cols].rstrip() for i in range(0, len(chars), cols)]

    def vga_memory_text(self) -> str:
        """All characters in the 32 KB text-mode window at 0xb8000, in memory order.

        Reads memory only (no VGA register is touched), so it is safe while the guest runs;
        what is on screen is a 2000-cell slice of it (see screen_text)."""
        out = self._hmp("xp /16384hx 0xb8000")
        chars = []
        for line in out.splitlines():
            if ":" in line:
                chars += [chr(c) if 32 <= c < 127 else " "
                          for c in (int(v, 16) & 0xFF for v in line.split(":", 1)[1].split())]
        return "".join(chars)

    def _frame(self, now: float, with_text: bool) -> Frame | None:
        try:
            png = self.screendump()
            text = self.screen_text() if with_text else None
        except (QMPError, OSError):
            return None
        return Frame(now, png, hashlib.sha256(png).hexdigest(), text)

    # the boot loop ------------------------------------------------------------------------
    def wait(self, timeout: float, stop: Sequence[StopRule] = (),
             frame_interval: float | None = None, screen_stable: float | None = None,
             min_time: float = 0.0, screen_text: bool = False,
             screen_stop: StopRule | None = None) -> BootResult:
        """Run until a stop rule fires, the screen stays unchanged for `screen_stable`
        seconds (after `min_time`), QEMU exits, or `timeout` seconds pass; then stop QEMU
        and return what was captured. Frames are taken every `frame_interval` seconds
        (consecutive frames that differ only by the blinking cursor are kept once, and a
        last frame is taken just before QEMU is stopped; with `screen_text` that last frame
        also carries the text-mode characters). `screen_stop` is a stop rule over the text
        in video memory, checked with every frame (for a guest that prints only to the
        screen)."""
        if self.proc is None:
            self.start()
        assert self.proc is not None
        if timeout > 60:
            raise ValueError("hard timeouts above 60 s are not allowed here")
        frames: list[Frame] = []
        reason = "timeout"
        matched: str | None = None
        settle_until: float | None = None
        next_frame = 0.0
        stable_since: float | None = None
        compiled = [(re.compile(r.pattern.encode()), r) for r in stop]
        try:
            while True:
                now = time.monotonic() - self.started_at
                if self.proc.poll() is not None:
                    reason = "exited"
                    break
                if settle_until is not None and now >= settle_until:
                    reason = "stop-rule"
                    break
                if now >= timeout:
                    reason = "timeout"
                    break
                if settle_until is None and compiled:
                    data = self.serial()
                    for rx, rule in compiled:
                        if len(rx.findall(data)) >= rule.count:
                            matched = rule.pattern
                            settle_until = now + rule.settle
                            break
                if frame_interval is not None and now >= next_frame:
                    next_frame = now + frame_interval
                    frame = self._frame(now, False)
                    if screen_stop is not None and settle_until is None:
                        try:
                            vram = self.vga_memory_text()
                        except (QMPError, OSError):
                            vram = ""
                        if len(re.findall(screen_stop.pattern, vram)) >= screen_stop.count:
                            matched = "screen: " + screen_stop.pattern
                            settle_until = now + screen_stop.settle
                    if frame is not None:
                        if frames and same_screen(frames[-1].png, frame.png):
                            if stable_since is None:
                                stable_since = frames[-1].at
                            if (screen_stable is not None and now >= min_time
                                    and now - stable_since >= screen_stable):
                                reason = "screen-stable"
                                break
                        else:
                            frames.append(frame)
                            stable_since = None
                time.sleep(0.05)
            if frame_interval is not None and self.running:
                frame = self._frame(time.monotonic() - self.started_at, screen_text)
                if frame is not None:
                    if frames and same_screen(frames[-1].png, frame.png):
                        frames[-1] = frame
                    else:
                        frames.append(frame)
        finally:
            duration = time.monotonic() - self.started_at
            self.stop()
        stderr = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return BootResult(
            argv=list(self.argv), accel=self.accel, serial=self.serial(), frames=frames,
            duration=duration, reason=reason, returncode=self.proc.returncode,
            stderr=stderr, matched=matched,
        )
