"""`consolewatch netcfg TARGET` end to end: the CLI process, the real API clients (urllib for
DigitalOcean, google-cloud-compute, boto3) and the simulated clouds on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from consolewatch.sim.digitalocean import start_do_sim
from consolewatch.sim.ec2 import start_ec2_sim
from consolewatch.sim.gce import SimInstance, start_gce_sim

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "qemu"))
from guestkit.cpio import read_newc  # noqa: E402  (the kit's reader: tests only)

GCE_TARGET = "gce:proj/us-central1-a/vm1"


@pytest.fixture
def do_sim():
    with start_do_sim() as sim:
        sim.add_droplet(123, name="web-1")
        yield sim


@pytest.fixture
def gce():
    url, sim = start_gce_sim(SimInstance())
    with sim:
        yield sim, {"CONSOLEWATCH_GCE_ENDPOINT": url}


def test_the_stanza_matches_the_droplets_addresses(cli, do_sim):
    v4 = {n["type"]: n for n in do_sim.droplets[123]["networks"]["v4"]}
    (v6,) = do_sim.droplets[123]["networks"]["v6"]
    r = cli("netcfg", "do:123", env=do_sim.env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == (
        "auto eth0\n"
        "iface eth0 inet static\n"
        f"    address {v4['public']['ip_address']}\n    netmask {v4['public']['netmask']}\n"
        f"    gateway {v4['public']['gateway']}\n"
        "iface eth0 inet6 static\n"
        f"    address {v6['ip_address']}\n    netmask {v6['netmask']}\n    gateway {v6['gateway']}\n"
        "auto eth1\n"
        "iface eth1 inet static\n"
        f"    address {v4['private']['ip_address']}\n    netmask {v4['private']['netmask']}\n")
    plan = yaml.safe_load(cli("netcfg", "do:123", "--format", "netplan", env=do_sim.env()).stdout)
    assert plan["network"]["ethernets"]["eth0"]["addresses"] == ["104.236.32.182/18", "2604:a880:0:1010::18a:a001/64"]
    arg = cli("netcfg", "do:123", "--format", "cmdline", env=do_sim.env())
    assert arg.stdout.decode() == "ip=104.236.32.182::104.236.0.1:255.255.192.0:web-1:eth0:off\n"
    assert b"note: ip= configures one interface's IPv4" in arg.stderr
    doc = json.loads(cli("netcfg", "do:123", "--format", "json", env=do_sim.env()).stdout)
    assert doc["schema"] == "consolewatch.netcfg/1" and doc["root_device"] == "/dev/vda1"
    assert doc["interfaces"][0]["ipv4"]["gateway"] == "104.236.0.1" and doc["interfaces_file"] == r.stdout.decode()
    assert do_sim.token.encode() not in r.stdout + r.stderr + arg.stderr


def test_the_initrd_is_reproducible_and_gnu_cpio_unpacks_it(cli, do_sim, tmp_path):
    extra = tmp_path / "resolv.conf"
    extra.write_text("nameserver 67.207.67.2\n")
    runs = []
    for name in ("a.cpio.gz", "b.cpio.gz"):
        r = cli("netcfg", "do:123", "--initrd", str(tmp_path / name), "--add", f"{extra}:/etc/resolv.conf",
                "--base-initrd", "/boot/initrd.img-6.1.0-27-cloud-amd64", env=do_sim.env())
        assert r.returncode == 0, r.stderr
        runs.append(r)
    a, b = (tmp_path / "a.cpio.gz").read_bytes(), (tmp_path / "b.cpio.gz").read_bytes()
    assert a == b and a[4:8] == b"\0\0\0\0"  # gzip MTIME 0
    assert hashlib.sha256(a).hexdigest()[:16].encode() in runs[0].stderr
    entries = read_newc(a)
    names = [e.name for e in entries]
    assert names == sorted(names, key=lambda n: n.split("/")) and "etc/resolv.conf" in names
    assert {(e.mtime, e.uid, e.gid) for e in entries} == {(0, 0, 0)}
    assert [e.ino for e in entries] == list(range(1, len(entries) + 1))
    grub = runs[0].stdout.decode()
    assert "    linux /boot/vmlinuz root=/dev/vda1 ro console=ttyS0,115200 console=tty0\n" in grub
    assert "    initrd /boot/initrd.img-6.1.0-27-cloud-amd64 /boot/a.cpio.gz\n" in grub

    out = tmp_path / "unpacked"
    out.mkdir()
    listing = subprocess.run(["cpio", "-idv"], input=gzip.decompress(a), cwd=out, capture_output=True, check=True)
    assert "etc/network/interfaces" in listing.stderr.decode().split()
    stanza = cli("netcfg", "do:123", env=do_sim.env()).stdout
    assert (out / "etc/network/interfaces").read_bytes() == stanza
    assert (out / "etc/resolv.conf").read_text() == "nameserver 67.207.67.2\n"
    assert (out / "etc/network/if-pre-up.d").is_dir()


def test_gce_installs_the_32_and_its_routes(cli, gce):
    sim, env = gce
    r = cli("netcfg", GCE_TARGET, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[-4:] == [
        "auto eth0", "iface eth0 inet dhcp",
        "    up ip route replace 10.128.0.1/32 dev eth0", "    up ip route replace default via 10.128.0.1 dev eth0"]
    assert "leases eth0 10.128.0.2/32, router 10.128.0.1" in r.stdout.decode()
    static = cli("netcfg", GCE_TARGET, "--static", env=env).stdout.decode()
    assert "    address 10.128.0.2\n    netmask 255.255.255.255\n    up ip route replace 10.128.0.1/32" in static
    assert sim.calls["subnetwork"] >= 1
    grub = cli("netcfg", GCE_TARGET, "--initrd", "/dev/null", env=env).stdout.decode()
    assert "root=/dev/sda1 ro console=ttyS0,115200\n" in grub


def test_gce_gateway_unknown_when_subnetworks_get_is_refused(cli, gce):
    sim, env = gce
    sim.inject("subnetwork", 403)
    r = cli("netcfg", GCE_TARGET, env=env)
    assert r.returncode == 0 and "route" not in r.stdout.decode().replace("# ", "")
    assert b"note: the subnetwork's gateway is unknown" in r.stderr


@pytest.mark.parametrize("itype,root", [("m5.large", "/dev/nvme0n1p1"), ("t2.micro", "/dev/xvda1")])
def test_aws_lease_and_disk_naming(cli, tmp_path, itype, root):
    sim = start_ec2_sim()
    try:
        sim.add_instance("i-0123456789abcdef0", b"", instance_type=itype, private_ip="172.31.5.6")
        env = {**sim.env(), "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
        r = cli("netcfg", "aws:i-0123456789abcdef0", env=env)
        assert r.stdout.decode() == ("# AWS's DHCP server leases eth0 172.31.5.6/20, router 172.31.0.1\n"
                                     "auto eth0\niface eth0 inet dhcp\n"), r.stderr
        grub = cli("netcfg", "aws:i-0123456789abcdef0", "--initrd", str(tmp_path / "n.gz"), env=env).stdout.decode()
        assert f"root={root} ro console=ttyS0,115200\n" in grub
    finally:
        sim.close()


def test_openstack_is_dhcp_with_each_networks_fixed_address(cli, tmp_path):
    from consolewatch.sim.openstack import start_openstack_sim
    from consolewatch.sim.openstack_model import SimServer

    nic = {"version": 4, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:4c:2d:01"}
    server = SimServer(name="web-1", hypervisor_type="xen", root_device_name="/dev/xvda", addresses={
        "private": [{**nic, "addr": "10.0.0.12"}, {**nic, "addr": "172.24.4.3", "OS-EXT-IPS:type": "floating"}],
        "storage": [{**nic, "addr": "192.168.50.7"}, {**nic, "version": 6, "addr": "fd00::7"}]})
    with start_openstack_sim(server) as sim:
        env = {**sim.env(), "HOME": str(tmp_path), "OS_CLIENT_CONFIG_FILE": str(tmp_path / "none.yaml")}
        r = cli("netcfg", "openstack:web-1", env=env)
        guessed = cli("netcfg", "openstack:web-1", "--initrd", str(tmp_path / "n.gz"), env=env)
        sim.user.admin = True  # the hypervisor type and root device name are admin-only
        grub = cli("netcfg", "openstack:web-1", "--initrd", str(tmp_path / "n.gz"), env=env).stdout.decode()
    assert r.returncode == 0, r.stderr
    assert b"root=/dev/vda1" in guessed.stdout and b"the hypervisor is not visible" in guessed.stderr
    assert r.stdout.decode() == (
        "# OpenStack's DHCP server leases eth0 10.0.0.12\nauto eth0\niface eth0 inet dhcp\n"
        "# OpenStack's DHCP server leases eth1 192.168.50.7\nauto eth1\niface eth1 inet dhcp\n")
    assert b"prefix and gateway of each network are Neutron's" in r.stderr and b"172.24.4.3" not in r.stdout
    assert "root=/dev/xvda1 ro console=ttyS0,115200\n" in grub  # Xen (Rackspace) disk naming


@pytest.mark.parametrize("args,env,words", [
    (["do:123"], {}, "DIGITALOCEAN_ACCESS_TOKEN is not set"),
    (["do:999"], None, "no such droplet"),
    (["do:abc"], None, "do:DROPLET_ID (a number)"),
    (["file:/etc/hostname"], None, "has no cloud API"),
    (["vnc://127.0.0.1:5900"], None, "has no cloud API"),
    (["do:123", "--interface", "eth0;reboot"], None, "is not an interface name"),
    (["do:123", "--initrd", "x.gz", "--add", "/nonexistent:/etc/x"], None, "is not a regular file"),
    (["do:123", "--initrd", "x.gz", "--add", "/etc/hostname:etc/network/interfaces"], None, "is what netcfg writes"),
    (["do:123", "--initrd", "x.gz", "--add", "/etc/hostname:../escape"], None, "bad archive path"),
    (["do:123", "--initrd", "x.gz", "--kernel", "/boot/vm linuz"], None, "must be an absolute path"),
    (["do:123", "--add", "/etc/hostname:/etc/hostname"], None, "goes with --initrd"),
])
def test_usage_errors_are_one_line_and_exit_2(cli, do_sim, tmp_path, args, env, words):
    r = cli("netcfg", *args, env=do_sim.env() if env is None else {"CONSOLEWATCH_DO_API": do_sim.url}, cwd=tmp_path)
    assert r.returncode == 2 and words in r.stderr.decode(), r.stderr
    assert len(r.stderr.decode().strip().splitlines()) == 1 and not r.stdout
    assert not (tmp_path / "x.gz").exists()


def test_an_api_that_does_not_answer_in_time_exits_3(cli, gce):
    sim, env = gce
    sim.inject("get", ("delay", 5))
    r = cli("netcfg", GCE_TARGET, "--timeout", "1", env=env)
    assert r.returncode == 3 and b"did not answer within 1 s" in r.stderr


def test_hostile_droplet_fields_add_no_line(cli, do_sim):
    droplet = do_sim.add_droplet(666, name="x\nauto evil\x1b[2J")
    droplet["networks"]["v4"] = [
        {"ip_address": "203.0.113.9\n    up reboot", "netmask": "255.255.255.0", "gateway": None, "type": "public"},
        {"ip_address": "198.51.100.7", "netmask": "255.255.255.0", "gateway": "198.51.100.1\nauto evil",
         "type": "public"},
    ]
    droplet["networks"]["v6"] = []
    for fmt in ("interfaces", "netplan", "cmdline", "json"):
        r = cli("netcfg", "do:666", "--format", fmt, env=do_sim.env())
        assert r.returncode == 0, r.stderr
        assert b"evil" not in r.stdout and b"reboot" not in r.stdout and b"\x1b" not in r.stdout + r.stderr
    r = cli("netcfg", "do:666", env=do_sim.env())
    assert r.stdout.decode() == "auto eth0\niface eth0 inet static\n    address 198.51.100.7\n    netmask 255.255.255.0\n"
