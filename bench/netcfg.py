#!/usr/bin/env python3
"""`consolewatch netcfg` benchmark: what one run costs against each simulated cloud.

    python bench/netcfg.py [--runs 3] [--json]

For each cloud (DigitalOcean, GCE, AWS, OpenStack: the simulators in consolewatch/sim on
127.0.0.1, through the real client libraries) a real CLI process runs
`consolewatch netcfg TARGET --initrd OUT` --runs times: wall time (median; most of it is
importing the cloud's client library), the API requests the simulator answered per run, the
archive's size and whether every run wrote the same bytes. Then the in-process cost of the pure
part: plan + the four renderings + the archive for one context, per call.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _clouds(tmp: Path):
    from consolewatch.sim.digitalocean import start_do_sim
    from consolewatch.sim.ec2 import start_ec2_sim
    from consolewatch.sim.gce import SimInstance, start_gce_sim
    from consolewatch.sim.openstack import start_openstack_sim
    from consolewatch.sim.openstack_model import SimServer

    do = start_do_sim()
    do.add_droplet(123)
    yield "do", "do:123", do.env(), lambda: sum(do.calls.values()), do.close
    url, gce = start_gce_sim(SimInstance())
    yield "gce", "gce:proj/us-central1-a/vm1", {"CONSOLEWATCH_GCE_ENDPOINT": url}, \
        lambda: sum(gce.calls.values()), gce.close
    ec2 = start_ec2_sim(serial=False)
    ec2.add_instance("i-0123456789abcdef0", b"", private_ip="172.31.5.6")
    yield "aws", "aws:i-0123456789abcdef0", {**ec2.env(), "AWS_CONFIG_FILE": "/dev/null",
                                             "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}, ec2.calls, ec2.close
    os_sim = start_openstack_sim(SimServer(name="web-1"))
    yield "openstack", "openstack:web-1", {**os_sim.env(), "HOME": str(tmp), "OS_CLIENT_CONFIG_FILE": str(tmp / "x")}, \
        lambda: sum(os_sim.calls.values()), os_sim.close


def cli_runs(runs: int) -> list[dict]:
    out = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for cloud, target, env, calls, close in _clouds(tmp):
            times, digests, per_run = [], set(), []
            try:
                for i in range(runs):
                    before = calls()
                    archive = tmp / f"{cloud}-{i}.cpio.gz"
                    t0 = time.perf_counter()
                    r = subprocess.run([sys.executable, "-m", "consolewatch", "netcfg", target, "--initrd", str(archive)],
                                       capture_output=True, env={**os.environ, **env}, cwd=ROOT)
                    times.append(time.perf_counter() - t0)
                    if r.returncode:
                        raise SystemExit(f"{cloud}: {r.stderr.decode()}")
                    per_run.append(calls() - before)
                    digests.add(archive.read_bytes())
            finally:
                close()
            out.append({"cloud": cloud, "wall_s": round(statistics.median(times), 2), "api_requests": max(per_run),
                        "archive_bytes": len(next(iter(digests))), "identical": len(digests) == 1})
    return out


def pure_cost(n: int = 2000) -> float:
    from consolewatch.model import MachineContext
    from consolewatch.netcfg import render
    from consolewatch.netcfg.addressing import plan
    from consolewatch.netcfg.initrd import archive

    ctx = MachineContext("instance", "gce", "kvm", {"network_ip": "10.128.0.2", "gateway_ipv4": "10.128.0.1",
                                                     "instance": "vm1"})
    t0 = time.perf_counter()
    for _ in range(n):
        cfg = plan(ctx)
        text = render.interfaces(cfg)
        render.netplan(cfg), render.cmdline(cfg), render.document(cfg, "gce:p/z/vm1")
        archive({"etc/network/interfaces": (text.encode(), 0o644)})
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = cli_runs(args.runs)
    micro = pure_cost()
    if args.json:
        print(json.dumps({"clouds": rows, "pure_us_per_call": round(micro, 1)}))
        return
    print(f"{'cloud':<10} {'wall (median)':>14} {'API requests':>13} {'archive':>9} {'reproducible':>13}")
    for r in rows:
        print(f"{r['cloud']:<10} {r['wall_s']:>12.2f} s {r['api_requests']:>13} {r['archive_bytes']:>7} B "
              f"{'yes' if r['identical'] else 'NO':>13}")
    print(f"plan + 4 renderings + archive, in process: {micro:.0f} us per call")


if __name__ == "__main__":
    main()
