"""The guest-kit parts the blind-set recipe (capture_blind.py) adds, offline: the padding
archive the kernel unpacks, data disks with their faults, host programs with their libraries,
the scenarios' annotations (categories the product knows, evidence for each), and the cases
recorded from them in samples/blind/ (never run through consolewatch here)."""

from __future__ import annotations

import dataclasses
import gzip
import json
import subprocess
import sys
from pathlib import Path

import capture_blind
import pytest
import yaml
from blind_model import BlindScenario
from blind_scenarios import BY_NAME, SCENARIOS
from guestkit import blindboot, cpio, datadisk, disk, hostfiles, initramfs
from guestkit.blindboot import padding_archive
from guestkit.boot import Capture, sanitize_lines
from guestkit.netns import NetNS
from guestkit.runner import BootResult, Drive, MachineSpec, Qemu
from PIL import Image

from consolewatch.detect.score import FAMILIES
from consolewatch.model import CATEGORIES, OUTCOMES


def test_padding_archive_is_one_file_of_zeros_then_the_trailer():
    [entry] = cpio.read_newc(gzip.decompress(padding_archive(3)))
    assert entry.name == "padding.bin" and len(entry.data) == 3 << 20 and not entry.data.strip(b"\0")
    assert len(padding_archive(3)) < 20_000 and padding_archive(0) == b""


def _dumpe2fs(image: Path) -> subprocess.CompletedProcess:
    return subprocess.run([disk._tool("dumpe2fs"), "-h", str(image)], capture_output=True, text=True)


def test_ext4_fault_disks(tmp_path, e2fsprogs):
    bad = tmp_path / "bad.img"
    datadisk.ext4_bad_magic(bad)
    assert _dumpe2fs(bad).returncode != 0 and "Bad magic number" in _dumpe2fs(bad).stderr
    big = tmp_path / "big.img"
    info = datadisk.ext4_larger_than_device(big)
    blocks = int(next(line.split()[-1] for line in _dumpe2fs(big).stdout.splitlines()
                      if line.startswith("Block count:")))
    assert big.stat().st_size == info["device_size_mb"] << 20 < blocks * 4096
    fsck = tmp_path / "fsck.img"
    datadisk.ext4_needs_fsck(fsck)
    assert "clean with errors" in _dumpe2fs(fsck).stdout


def test_boot_sector_disks_carry_their_code_and_the_boot_signature(tmp_path):
    for build, code in ((datadisk.boot_triple_fault, datadisk.TRIPLE_FAULT),
                        (datadisk.boot_hang, datadisk.HANG)):
        image = tmp_path / "disk.img"
        info = build(image, size_mb=1)
        data = image.read_bytes()
        assert len(data) == 1 << 20 and data[510:512] == b"\x55\xaa", info
        assert data[:len(code)] == code and not data[len(code):510].strip(b"\0")
    # the triple fault's lidt operand is the 6 zero bytes right after the code (0x7c07)
    assert datadisk.TRIPLE_FAULT[4:6] == (0x7C07).to_bytes(2, "little")


def test_host_program_comes_with_its_loader_and_libraries():
    files = hostfiles.program_files(Path("/usr/bin/dash"), "/bin/sh")
    assert files["/bin/sh"][0][:4] == b"\x7fELF"
    assert any(p.startswith("/lib64/ld-linux") for p in files)
    assert any("libc.so" in p for p in files)


def test_scenarios_are_annotated_with_known_names_and_evidence():
    names = [sc.name for sc in SCENARIOS]
    assert len(names) == len(set(names)) >= 20
    for sc in SCENARIOS:
        assert sc.family in FAMILIES and sc.outcome in OUTCOMES, sc.name
        named = set(sc.categories) | set(sc.optional)
        assert named <= set(CATEGORIES) and not set(sc.categories) & set(sc.optional), sc.name
        assert set(sc.evidence) <= named and all(sc.evidence.values()), sc.name
        assert set(sc.categories) - {"boot.success"} <= set(sc.evidence) or sc.outcome == "success", sc.name
        assert bool(sc.screen) == bool(sc.screen_evidence)
        # a head excerpt (a capture cut short) may end before anything shows: no evidence
        assert bool(sc.excerpt) == bool(sc.excerpt_evidence) or sc.excerpt_head, sc.name
        assert sc.half in ("study", "holdout"), sc.name
        assert sc.screen_outcome in ("", *OUTCOMES) and (sc.screen or not sc.screen_outcome), sc.name


BLIND = Path(__file__).resolve().parents[2] / "samples" / "blind"


def case(kind: str, name: str) -> Path:
    """A recorded case, in whichever half of the blind set (study, holdout) it sits."""
    (folder,) = BLIND.glob(f"*/{kind}/{name}")
    return folder


def _expected(folder: Path) -> dict:
    return yaml.safe_load((folder / "expected.yaml").read_text())


def test_every_scenario_has_its_recorded_cases_with_its_annotation():
    for sc in SCENARIOS:
        folder = case("qemu", sc.name)
        exp = _expected(folder)
        assert (exp["outcome"], sorted(exp["categories"]), sorted(exp.get("optional", []))) == (
            sc.outcome, sorted(sc.categories), sorted(sc.optional)), sc.name
        assert exp["evidence"] == sc.evidence, sc.name
        lines = sanitize_lines((folder / "serial.log").read_bytes())
        for subs in sc.evidence.values():
            assert all(any(s in line for line in lines) for s in subs), sc.name
        meta = yaml.safe_load((folder / "meta.yaml").read_text())
        assert meta["synthetic"] is False and meta["qemu_argv"] and meta["family"] == sc.family
        if sc.dnsmasq_args:   # the boot ran with the DHCP server the scenario names
            assert meta["network"]["dnsmasq_options"] == sc.dnsmasq_args, sc.name
        if sc.excerpt:
            assert _expected(case("qemu", f"{sc.name}-excerpt"))["evidence"] == sc.excerpt_evidence
        if sc.screen:
            for variant, image in [("png", "screen.png")] + [(f"jpeg-q{q}", "screen.jpg") for q in (90, 70, 50)]:
                shot = case("qemu-screens", f"{sc.name}-{variant}")
                assert _expected(shot)["evidence"] == sc.screen_evidence
                assert _expected(shot)["outcome"] == (sc.screen_outcome or sc.outcome)
                with Image.open(shot / image) as img:
                    assert img.format == ("PNG" if variant == "png" else "JPEG") and img.size[0] >= 640


def test_round4_disks_floppy_and_a_partition_table_without_its_boot_signature(tmp_path):
    image = tmp_path / "mbr.img"
    datadisk.mbr_no_signature(image, size_mb=4)
    data = image.read_bytes()
    assert data[510:512] == b"\0\0" and data[446] == 0x80 and data[450] == 0x83
    floppy = tmp_path / "floppy.img"
    datadisk.floppy_blank(floppy)
    assert floppy.stat().st_size == 1474560 and not floppy.read_bytes().strip(b"\0")


def test_floppy_and_virtio_scsi_drives_are_attached_as_such(tmp_path):
    spec = MachineSpec(kernel=None, drives=[Drive(tmp_path / "f.img", "floppy"),
                                            Drive(tmp_path / "s.img", "scsi")])
    vm = Qemu(spec, accel="tcg", workdir=tmp_path)
    argv = " ".join(vm.argv)
    assert f"file={tmp_path / 'f.img'},if=floppy" in argv
    assert "-device virtio-scsi-pci,id=scsi1" in argv and "scsi-hd,drive=d1,bus=scsi1.0" in argv


def _recorded_capture(sc) -> Capture:
    """A round-4 scenario's recorded boot, as the recipe's check sees a fresh one."""
    serial = (case("qemu", sc.name) / "serial.log").read_bytes()
    result = BootResult(argv=[], accel="tcg", serial=serial, frames=[], duration=1.0,
                        reason=sc.ends[0], returncode=None, stderr="")
    cap = Capture(sc, result, None, None, None, None, Path("."))
    cap.actions = [{"command": a.qmp or a.hmp} for a in sc.actions]
    return cap


def test_the_recipe_refuses_a_boot_without_its_evidence_or_ended_otherwise():
    sc = BY_NAME["root-panic-reboot-triple"]
    capture_blind.check(_recorded_capture(sc))        # the boot as recorded passes
    wrong = dataclasses.replace(sc, evidence={**sc.evidence, "kernel.panic": ["Fatal machine check"]})
    with pytest.raises(capture_blind.CaptureError, match="evidence not on the console"):
        capture_blind.check(_recorded_capture(wrong))
    cap = _recorded_capture(sc)
    cap.result = dataclasses.replace(cap.result, reason="timeout")
    with pytest.raises(capture_blind.CaptureError, match="boot ended by timeout"):
        capture_blind.check(cap)
    sent = _recorded_capture(BY_NAME["nmi-panic-reboot-loop"])
    sent.actions = sent.actions[:1]                   # the second NMI never went out
    with pytest.raises(capture_blind.CaptureError, match="monitor commands sent"):
        capture_blind.check(sent)


def test_round6_disks_fail_as_their_tools_say(tmp_path, e2fsprogs):
    csum = tmp_path / "csum.img"
    datadisk.ext4_bad_checksum(csum)
    assert "Superblock checksum does not match" in _dumpe2fs(csum).stderr
    feature = tmp_path / "feature.img"
    datadisk.ext4_unknown_feature(feature)
    assert "unsupported feature" in _dumpe2fs(feature).stderr
    seed = tmp_path / "seed.img"
    datadisk.nocloud_seed_no_metadata(seed)
    assert "Filesystem volume name:   cidata" in _dumpe2fs(seed).stdout
    listing = disk.debugfs(seed, "ls -l /")
    assert "user-data" in listing and "meta-data" not in listing
    btrfs = tmp_path / "btrfs.img"
    datadisk.btrfs_bad_checksum(btrfs)
    dump = subprocess.run(["btrfs", "inspect-internal", "dump-super", str(btrfs)],
                          capture_output=True, text=True).stdout
    assert "[DON'T MATCH]" in dump and "label\t\t\tData" in dump


def test_data_disk_behind_blkdebug_with_drive_options(tmp_path):
    image = Path(f"blkdebug:{tmp_path / 'rules.cfg'}:{tmp_path / 'd.img'}")
    vm = Qemu(MachineSpec(kernel=None, drives=[Drive(image, "virtio", "cwd0",
                                                     "throttling.bps-total=65536")]),
              accel="tcg", workdir=tmp_path)
    assert (f"file=blkdebug:{tmp_path / 'rules.cfg'}:{tmp_path / 'd.img'},if=none,id=d0,"
            "format=raw,throttling.bps-total=65536") in vm.argv


def test_files_can_bring_their_own_init():
    spec = initramfs.InitramfsSpec("echo never\n", busybox=False,
                                   files={"/init": (b"\x7fELF-program", 0o755)})
    entries = [e for e in cpio.read_newc(gzip.decompress(initramfs.build(spec, None, None)))
               if e.name.lstrip("/") == "init"]
    assert [e.data for e in entries] == [b"\x7fELF-program"]


def test_round7_disks_fail_as_their_tools_say(tmp_path, e2fsprogs):
    xfs = tmp_path / "xfs.img"
    datadisk.xfs_root_inode_corrupt(xfs)
    check = subprocess.run(["xfs_repair", "-n", str(xfs)], capture_output=True, text=True)
    assert check.returncode == 1 and "root inode" in check.stdout + check.stderr
    journal = tmp_path / "journal.img"
    datadisk.ext4_needs_recovery(journal)
    assert "needs_recovery" in _dumpe2fs(journal).stdout
    seed = tmp_path / "seed.img"
    datadisk.seed_wrong_label(seed)
    assert "Filesystem volume name:   config-2" in _dumpe2fs(seed).stdout
    broken = tmp_path / "broken.img"
    datadisk.seed_config_broken_json(broken)
    with pytest.raises(json.JSONDecodeError, match="Expecting ','"):
        json.loads(disk.debugfs(broken, "cat /user-data"))


def test_work_files_are_made_and_named_in_qemu_args(tmp_path):
    source = tmp_path / "vars.fd"
    source.write_bytes(b"VARS")
    sc = BlindScenario(name="x", title="", family="healthy", injected="", append="",
                       work_files={"copy.fd": source, "tftp/boot.ipxe": "#!ipxe\n",
                                   "esp/BOOTX64.EFI": lambda: b"MZ" + bytes(8)},
                       qemu_args=["-drive", "file=fat:$WORK/esp,format=raw", "-bios", "OVMF.fd"])
    work = tmp_path / "work"
    args = blindboot.work_files(sc, work)
    assert args == ["-drive", f"file=fat:{work}/esp,format=raw", "-bios", "OVMF.fd"]
    assert (work / "copy.fd").read_bytes() == b"VARS" and (work / "esp/BOOTX64.EFI").read_bytes()[:2] == b"MZ"
    assert (work / "tftp/boot.ipxe").read_text() == "#!ipxe\n"


@pytest.mark.parametrize("mode,status,body", [
    ("error", 500, None), ("forbidden", 403, None), ("garbage", 200, "<html>")])
def test_faulty_metadata_server_answers_as_its_mode_says(netns_ok, mode, status, body):
    code = ("import sys, urllib.request, urllib.error\n"
            "try:\n r = urllib.request.urlopen('http://169.254.169.254/x', timeout=5)\n"
            " print(r.status, r.read().decode())\n"
            "except urllib.error.HTTPError as e:\n print(e.code)\n")
    with NetNS() as ns:
        ns.add_address("169.254.169.254/32", "lo")
        ns.faulty_http_server("169.254.169.254", mode)
        out = subprocess.run(["ip", "netns", "exec", ns.name, sys.executable, "-c", code],
                             capture_output=True, text=True, timeout=30).stdout
    assert out.startswith(str(status)) and (body is None or body in out), out


def test_head_excerpt_is_the_start_of_the_boot_and_unknown():
    sc = BY_NAME["udhcpc-link-down-mid-dhcp"]
    serial = (case("qemu", sc.name) / "serial.log").read_bytes()
    head = capture_blind.excerpt_bytes(sc, serial)
    assert serial.startswith(head) and head.count(b"\n") == sc.excerpt and b"udhcpc" not in head
    exp = capture_blind.excerpt_expected(sc)
    assert exp["outcome"] == "unknown" and exp["categories"] == [] and \
        "network.dhcp.no-lease" in exp["optional"]
    tail = capture_blind.excerpt_bytes(BY_NAME["root-lvm-absent-panic-loop"], serial)
    assert serial.endswith(tail) and tail.count(b"\n") == 25
