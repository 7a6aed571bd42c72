"""`consolewatch demo` runs the product against the simulated clouds it ships."""

from __future__ import annotations

import json


def test_demo_follows_real_failed_boots_on_simulated_clouds(cli):
    r = cli("demo", "--json", "--speed", "200000", timeout=240)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    events = [json.loads(x) for x in r.stdout.decode().splitlines()]
    by_target: dict[str, set[str]] = {}
    for e in events:
        if e["type"] == "finding":
            by_target.setdefault(e["target"], set()).add(e["category"])
    gce = next(v for k, v in by_target.items() if k.startswith("gce:"))
    aws = next(v for k, v in by_target.items() if k.startswith("aws:"))
    assert "network.dhcp.option121-missing" in gce
    assert "disk.root-not-found" in aws
    fixes = [e["remediation"] for e in events if e["type"] == "finding" and e["target"].startswith("aws:")
             and e["category"] == "disk.root-not-found"]
    assert any("nvme0n1p1" in f for f in fixes)  # the instance is Nitro: the fix names NVMe
    nova = next(v for k, v in by_target.items() if k.startswith("openstack:"))
    assert "network.dhcp.no-lease" in nova  # the real Nova console log, read through openstacksdk
