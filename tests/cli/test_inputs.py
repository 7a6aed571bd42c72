"""What analyze accepts and refuses (issue 11, points 3-4): input that is not a console exits 2
with one line saying what it is; an empty or garbled console is a finding; EC2/GCE API JSON."""

from __future__ import annotations

import base64
import gzip
import io
import json
import lzma
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from uart_mismatch import receive  # noqa: E402

NIXOS = ROOT / "samples/aws-nixos-reboot-kill-init-panic/console.log"
HEALTHY = ROOT / "samples/qemu/healthy/serial.log"
#: A healthy boot on the QEMU kit's GCE-like network (a /32 lease, option 121 applied, metadata read).
HEALTHY_ON_GCE = ROOT / "samples/qemu/gce-option121-applied/serial.log"


def _tar(log: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as t:
        info = tarfile.TarInfo("console.log")
        info.size = len(log)
        t.addfile(info, io.BytesIO(log))
    return out.getvalue()


def _zip(log: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("console.log", log)
    return out.getvalue()


def _zstd(log: bytes) -> bytes:
    """A real zstd frame (tests/run.sh installs the zstd package)."""
    return subprocess.run(["zstd", "-q", "-c"], input=log, capture_output=True, check=True).stdout


def _png(w: int, h: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (w, h)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("make, what", [
    (lambda log: Path(sys.executable).resolve().read_bytes(), "an ELF binary"),
    (gzip.compress, "a gzip archive"),
    (lzma.compress, "an xz archive"),
    (_tar, "a tar archive"),
    (_zip, "a zip archive"),
    (_zstd, "a zstd archive"),
    (lambda log: json.dumps({"Reservations": [{"InstanceId": "i-0123"}]}).encode(), "JSON that is not console output"),
    (lambda log: b'[{"type": "line"}]', "JSON that is not console output"),
    (lambda log: _png(4, 4), "an image of 4x4 pixels, too small to hold console text"),
])
def test_input_that_is_not_a_console_exits_2_with_one_line(cli, tmp_path, make, what):
    path = tmp_path / "input"
    path.write_bytes(make(NIXOS.read_bytes()))
    r = cli("analyze", str(path))
    err = r.stderr.decode()
    assert r.returncode == 2 and r.stdout == b""
    assert err.startswith(f"consolewatch: {path}: {what}") and len(err.strip().splitlines()) == 1, err
    piped = cli("analyze", "-", input=gzip.compress(NIXOS.read_bytes()))
    assert piped.returncode == 2 and b"stdin: a gzip archive" in piped.stderr


@pytest.mark.parametrize("cloud, says", [("aws", "get-console-output --latest"), ("gce", "serial port 1"),
                                         ("do", "web console (VNC)")])
def test_an_empty_capture_is_a_silent_console_with_the_fix_for_the_cloud(cli, tmp_path, cloud, says):
    empty = tmp_path / "console.log"
    empty.write_bytes(b"")
    r = cli("analyze", "--json", "--cloud", cloud, str(empty))
    assert r.returncode == 1, r.stderr
    [f] = json.loads(r.stdout)["findings"]
    assert f["category"] == "console.silent" and f["title"] == "The console printed nothing at all"
    assert says in f["remediation"]


def test_ec2_json_without_output_is_an_empty_aws_console(cli, tmp_path):
    doc = tmp_path / "ec2.json"
    doc.write_text(json.dumps({"InstanceId": "i-0123456789abcdef0", "Timestamp": "2024-01-01T00:00:00Z"}))
    r = cli("analyze", "--json", str(doc))
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["cloud"] == "aws"
    assert [f["rule"] for f in out["findings"]] == ["console-empty"]


@pytest.mark.parametrize("sent, read", [(115200, 9600), (115200, 38400), (9600, 115200)])
def test_a_console_read_at_the_wrong_speed_is_a_finding(cli, tmp_path, sent, read):
    garbled = tmp_path / "serial.log"
    garbled.write_bytes(receive(HEALTHY.read_bytes(), sent, read))
    r = cli("analyze", "--json", "--cloud", "gce", str(garbled))
    assert r.returncode == 1, r.stderr
    found = {f["rule"]: f for f in json.loads(r.stdout)["findings"]}
    f = found["console-not-text"]
    assert f["category"] == "console.silent" and "not text" in f["title"] and "speed mismatch" in f["title"]
    assert "115200 baud" in f["remediation"] and "% of the bytes are not text" in f["remediation"]


def test_real_consoles_are_text(cli):
    for log in (HEALTHY, NIXOS, ROOT / "samples/eucalyptus-ubuntu-cloudinit-interleaved-negative/console.log"):
        doc = json.loads(cli("analyze", "--json", "--boot", "all", str(log)).stdout)
        assert "console.silent" not in {f["category"] for f in doc["findings"]}, log


def test_ec2_output_still_in_base64_is_decoded_and_sets_the_cloud(cli, tmp_path):
    raw = tmp_path / "ec2-api.json"
    raw.write_text(json.dumps({"InstanceId": "i-0123456789abcdef0", "Timestamp": "2024-01-01T00:00:00Z",
                               "Output": base64.b64encode(NIXOS.read_bytes()).decode()}))
    doc = json.loads(cli("analyze", "--json", str(raw)).stdout)
    assert doc["cloud"] == "aws" and doc["outcome"] == "failure"
    panic = next(f for f in doc["findings"] if f["category"] == "kernel.panic")
    assert panic["evidence"][0]["line"] == 22 and "Attempted to kill init" in panic["evidence"][0]["text"]


def test_gce_serial_port_json_sets_the_cloud(cli, tmp_path):
    gce = tmp_path / "serial.json"
    gce.write_text(json.dumps({"contents": HEALTHY_ON_GCE.read_text(errors="replace"), "start": "0", "next": "12345",
                               "kind": "compute#serialPortOutput"}))
    doc = json.loads(cli("analyze", "--json", str(gce)).stdout)
    assert doc["cloud"] == "gce" and doc["outcome"] == "success"
    assert cli("analyze", "--json", "--cloud", "aws", str(gce)).returncode == 0
    assert json.loads(cli("analyze", "--json", "--cloud", "aws", str(gce)).stdout)["cloud"] == "aws"  # you say so
