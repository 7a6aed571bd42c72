"""`consolewatch tail aws:i-...` end to end: the CLI process, real boto3 over HTTP, and the
simulated EC2 (consolewatch.sim.ec2) on 127.0.0.1 via AWS_ENDPOINT_URL_EC2, playing real boots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consolewatch.sim.ec2 import start_ec2_sim

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
IID = "i-0123456789abcdef0"
TARGET = f"aws:{IID}"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def events(stdout: bytes) -> list[dict]:
    return [json.loads(x) for x in stdout.decode().splitlines() if x.strip()]


@pytest.fixture
def sim():
    s = start_ec2_sim()
    yield s
    s.close()


def aws_env(sim, **extra) -> dict:
    return {**sim.env(), "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", **extra}


def reference_lines(catalog, data: bytes) -> list[str]:
    from consolewatch.model import Chunk
    from consolewatch.session import Session

    s = Session(catalog)
    out = [t for b in s.feed(Chunk("console", data)).batches for t in b.texts]
    return out + [t for b in s.finish().batches for t in b.texts]


def test_a_real_failed_boot_exits_1_with_the_finding(cli, sim, catalog):
    """A Nitro instance whose kernel was told root=/dev/xvda1 (the disk is nvme0n1)."""
    sim.add_instance(IID, sample("qemu/wrong-root-nvme/serial.log"), instance_type="m5.large",
                     root_device_name="/dev/xvda", bytes_per_second=20_000)
    r = cli("tail", TARGET, "--json", "--until", "outcome", "--poll", "0.2", "--timeout", "90",
            "--screenshots", "off", env=aws_env(sim))
    assert r.returncode == 1, r.stderr
    evs = events(r.stdout)
    ctx = evs[0]
    assert ctx["type"] == "context" and ctx["cloud"] == "aws" and ctx["hypervisor"] == "nitro"
    assert ctx["fields"]["root_device"] == "/dev/xvda"
    assert "disk.root-not-found" in {e["category"] for e in evs if e["type"] == "finding"}
    assert [e["outcome"] for e in evs if e["type"] == "outcome"][-1] == "failure"
    assert not [e for e in evs if e["type"] == "gap"] and all(e["target"] == TARGET for e in evs)
    # each line once, in order, up to where --until ended the follow (the last line may be cut there)
    texts = [e["text"] for e in evs if e["type"] == "line"]
    ref = reference_lines(catalog, sample("qemu/wrong-root-nvme/serial.log"))
    assert len(texts) > 300 and texts[:-1] == ref[: len(texts) - 1] and ref[len(texts) - 1].startswith(texts[-1])


def test_a_real_good_boot_exits_0(cli, sim):
    sim.add_instance(IID, sample("qemu/healthy/serial.log"), bytes_per_second=20_000)
    r = cli("tail", TARGET, "--json", "--until", "outcome", "--poll", "0.2", "--timeout", "90",
            env=aws_env(sim))
    assert r.returncode == 0, r.stderr
    evs = events(r.stdout)
    assert [e["outcome"] for e in evs if e["type"] == "outcome"][-1] == "success"
    assert "boot.success" in {e["category"] for e in evs if e["type"] == "finding"}


def test_no_follow_reports_on_an_instance_that_already_failed(cli, sim):
    sim.add_instance(IID, sample("qemu/no-init/serial.log"), bytes_per_second=0)
    sim.instance(IID).terminate()
    r = cli("tail", TARGET, "--json", "--no-follow", env=aws_env(sim))
    assert r.returncode == 1, r.stderr
    cats = {e["category"] for e in events(r.stdout) if e["type"] == "finding"}
    assert "init.not-found" in cats


def test_xen_says_its_output_is_delayed(cli, sim):
    sim.add_instance(IID, sample("qemu/healthy/serial.log"), instance_type="m4.large", bytes_per_second=0,
                     post_interval=0.5)
    r = cli("tail", TARGET, "--json", "--no-follow", "--screenshots", "off", env=aws_env(sim))
    evs = events(r.stdout)
    assert evs[0]["hypervisor"] == "xen"
    assert any(e["type"] == "status" and "only around state changes" in e["detail"] for e in evs)


@pytest.mark.parametrize("target,env,words", [
    ("aws:i-00000000000000bad", {}, "was not found in region us-east-1"),
    (f"aws:eu-west-1/{IID}", {}, "was not found in region eu-west-1"),
    (TARGET, {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, "no AWS credentials"),
    (TARGET, {"AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:9"}, "cannot reach"),
])
def test_errors_are_one_line_and_exit_2(cli, sim, target, env, words):
    sim.add_instance(IID, b"hello\n")
    r = cli("tail", target, "--no-follow", env=aws_env(sim, **env))
    err = r.stderr.decode()
    assert r.returncode == 2 and words in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_throttling_is_survived_and_said(cli, sim):
    sim.add_instance(IID, sample("qemu/healthy/serial.log"), bytes_per_second=20_000)
    sim.inject("throttle", 6, "GetConsoleOutput")
    r = cli("tail", TARGET, "--json", "--until", "outcome", "--poll", "0.2", "--timeout", "120",
            "--screenshots", "off", env=aws_env(sim))
    assert r.returncode == 0, r.stderr
    evs = events(r.stdout)
    assert any(e["type"] == "status" and e["state"] == "backoff" and "RequestLimitExceeded" in e["detail"]
               for e in evs)
    assert not [e for e in evs if e["type"] == "gap"]


def test_the_serial_console_option(cli, sim):
    pytest.importorskip("asyncssh")
    # 8 s of output: the SSH session is live before the end even on a loaded machine
    sim.add_instance(IID, sample("qemu/wrong-root-nvme/serial.log"), bytes_per_second=3_000)
    r = cli("tail", TARGET, "--json", "--until", "outcome", "--serial-console", "--poll", "0.2",
            "--timeout", "90", "--screenshots", "off", env=aws_env(sim))
    assert r.returncode == 1, r.stderr
    evs = events(r.stdout)
    assert any(e["type"] == "status" and "live from the EC2 serial console" in e["detail"] for e in evs)
    assert "disk.root-not-found" in {e["category"] for e in evs if e["type"] == "finding"}


@pytest.mark.parametrize("instance_type,post_interval", [("m5.large", None), ("m4.large", 1.0)], ids=["nitro", "xen"])
def test_with_screenshots_each_console_line_is_printed_once(cli, sim, catalog, instance_type, post_interval):
    """Screenshots every 0.3 s and console output: the screen often shows a line before
    GetConsoleOutput does (always on Xen, where the output is posted once a second here). Each
    line is printed once whichever came first; when the text comes later a `seen` event with
    `exact` gives its exact bytes."""
    log = sample("qemu/healthy/serial.log")
    extra = {"post_interval": post_interval} if post_interval else {}
    sim.add_instance(IID, log, instance_type=instance_type, bytes_per_second=6_000, **extra)
    r = cli("tail", TARGET, "--json", "--until", "outcome", "--poll", "0.5", "--screenshots", "0.3",
            "--timeout", "90", env=aws_env(sim))
    assert r.returncode == 0, r.stderr
    evs = events(r.stdout)
    lines = [e for e in evs if e["type"] == "line"]
    exact = [e for e in evs if e["type"] == "seen" and e["exact"]]
    ocr = [" ".join(e["text"].split()) for e in lines if e["origin"] == "ocr"]
    assert ocr and exact, "the screen came first for some lines"
    assert all(e["origin"] == "text" and e["source"] == "console" and e["seq"] in {x["seq"] for x in lines}
               for e in exact)
    # the serial console's lines, each once: printed as lines, or as the exact text of a screen line
    text = [e["text"] for e in lines if e["origin"] == "text"] + [e["text"] for e in exact]
    ref = reference_lines(catalog, log)
    assert sorted(text) == sorted(ref[: len(text)]) or sorted(text[:-1]) == sorted(ref[: len(text) - 1])
    printed_as_text = {" ".join(e["text"].split()) for e in lines if e["origin"] == "text"}
    assert not [t for t in ocr if t in printed_as_text]  # no line printed from the screen and again as text
