"""The addressing plan and its renderings (consolewatch.netcfg): pure functions on the contexts
the fetchers build, including contexts built from hostile API answers."""

from __future__ import annotations

import ipaddress
import json

import pytest
import yaml

from consolewatch.fetchers.digitalocean_api import machine_context
from consolewatch.model import MachineContext
from consolewatch.netcfg import render, with_assigned
from consolewatch.netcfg.addressing import NetcfgError, assigned_fields, plan, root_device
from consolewatch.netcfg.initrd import grub_entry
from consolewatch.sim.digitalocean import droplet_resource

GCE = MachineContext("instance", "gce", "kvm", {"network_ip": "10.128.0.2", "gateway_ipv4": "10.128.0.1",
                                                 "instance": "vm1", "root_device": "/dev/sda"})


def test_a_droplet_is_static_on_eth0_and_eth1():
    cfg = plan(machine_context(droplet_resource(7, name="web-1"), "7"))
    eth0, eth1 = cfg.interfaces
    assert (eth0.name, eth0.method, str(eth0.ipv4.interface), str(eth0.ipv4.gateway)) == \
        ("eth0", "static", "104.236.32.182/18", "104.236.0.1")
    assert str(eth0.ipv6.interface) == "2604:a880:0:1010::18a:a001/64"
    assert (eth1.name, str(eth1.ipv4.interface), eth1.ipv4.gateway) == ("eth1", "10.128.192.124/16", None)
    assert cfg.hostname == "web-1" and cfg.root_device == "/dev/vda1"
    assert render.cmdline(cfg)[0] == "ip=104.236.32.182::104.236.0.1:255.255.192.0:web-1:eth0:off"


def test_gce_is_a_32_lease_with_the_gateway_on_link_then_the_default_route():
    cfg = plan(GCE)
    (eth0,) = cfg.interfaces
    assert eth0.method == "dhcp" and str(eth0.ipv4.interface) == "10.128.0.2/32"
    assert [(str(r.destination), r.via and str(r.via)) for r in eth0.ipv4.routes] == \
        [("10.128.0.1/32", None), ("0.0.0.0/0", "10.128.0.1")]
    stanza = render.interfaces(cfg).splitlines()
    assert stanza[-4:] == ["auto eth0", "iface eth0 inet dhcp", "    up ip route replace 10.128.0.1/32 dev eth0",
                           "    up ip route replace default via 10.128.0.1 dev eth0"]
    routes = yaml.safe_load(render.netplan(cfg))["network"]["ethernets"]["eth0"]["routes"]
    assert routes == [{"to": "10.128.0.1/32", "scope": "link"}, {"to": "default", "via": "10.128.0.1"}]
    arg, notes = render.cmdline(cfg)
    assert arg == "ip=::::vm1:eth0:dhcp" and "option 121" in notes[0]


def test_static_writes_the_gce_lease_without_an_off_link_gateway_line():
    cfg = plan(GCE, static=True, interface="ens4")
    stanza = render.interfaces(cfg)
    assert "iface ens4 inet static\n    address 10.128.0.2\n    netmask 255.255.255.255\n" in stanza
    assert "gateway" not in stanza.replace("# GCE", "")  # a `gateway` line would fail: it is off-link
    arg, notes = render.cmdline(cfg)
    assert arg == "ip=10.128.0.2:::255.255.255.255:vm1:ens4:off" and "lies outside 10.128.0.2/32" in notes[0]


def test_a_lease_that_is_not_known_cannot_be_written_as_static():
    with pytest.raises(NetcfgError, match="not known"):
        plan(MachineContext("console", "aws", "nitro", {}), static=True)


def test_aws_lease_has_the_subnet_prefix_and_the_vpc_router():
    cfg = plan(MachineContext("console", "aws", "xen", {"private_ipv4": "172.31.5.6", "subnet_cidr": "172.31.0.0/20"}))
    a = cfg.interfaces[0].ipv4
    assert (str(a.interface), str(a.gateway), a.routes) == ("172.31.5.6/20", "172.31.0.1", ())
    assert cfg.root_device == "/dev/xvda1"
    assert "leases eth0 172.31.5.6/20, router 172.31.0.1" in render.interfaces(cfg)


@pytest.mark.parametrize("cloud,hypervisor,fields,expected", [
    ("gce", "kvm", {"root_device": "/dev/sda"}, "/dev/sda1"),
    ("gce", "kvm", {"root_device": "/dev/nvme0n1"}, "/dev/nvme0n1p1"),
    ("aws", "nitro", {}, "/dev/nvme0n1p1"),
    ("aws", "xen", {}, "/dev/xvda1"),
    ("openstack", "xen", {}, "/dev/xvda1"),
    ("openstack", "kvm", {}, "/dev/vda1"),
    ("do", "kvm", {}, "/dev/vda1"),
])
def test_root_device_follows_each_clouds_disk_naming(cloud, hypervisor, fields, expected):
    assert root_device(cloud, hypervisor, fields) == expected


def test_grub_entry_has_the_serial_console_and_refuses_odd_paths():
    cfg = plan(GCE)
    entry = grub_entry(cfg, kernel="/boot/vmlinuz", initrds=["/boot/initrd.img", "/boot/n.cpio.gz"], title="Linux")
    assert "    linux /boot/vmlinuz root=/dev/sda1 ro console=ttyS0,115200\n" in entry
    assert "    initrd /boot/initrd.img /boot/n.cpio.gz\n" in entry and entry.startswith("serial --unit=0")
    for bad in ("/boot/a b", "/boot/x\n}", "relative", "/boot/../../etc/shadow"):
        with pytest.raises(NetcfgError):
            grub_entry(cfg, kernel=bad, initrds=[], title="Linux")
    with pytest.raises(NetcfgError):
        grub_entry(cfg, kernel="/boot/vmlinuz", initrds=[], title="x' {\n linux /evil")


def test_assigned_fields_are_what_detectors_compare():
    fields = with_assigned(machine_context(droplet_resource(7), "7")).fields
    assert (fields["ipv4_address"], fields["ipv4_prefix"], fields["ipv4_netmask"], fields["ipv4_gateway"]) == \
        ("104.236.32.182", "18", "255.255.192.0", "104.236.0.1")
    assert fields["ipv4_addresses"] == "104.236.32.182 10.128.192.124"
    assert fields["interfaces_stanza"] == render.interfaces(plan(machine_context(droplet_resource(7), "7")))
    assert assigned_fields(plan(MachineContext("console", "aws", "nitro", {}))) == {}


HOSTILE = ["10.0.0.5\nauto evil", "10.0.0.5\r\n    up reboot", "10.0.0.5 up reboot", "10.0.0.5;reboot", "$(reboot)",
           "10.0.0.5\x1b[2J", "::ffff:10.0.0.5\n", "10.0.0.5/24\n  - evil", "300.1.1.1", "", " ", "\x00"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_api_text_never_adds_a_line_or_a_key(value):
    ctx = MachineContext("instance", "gce", "kvm", {
        "network_ip": value, "gateway_ipv4": value, "network_ips": f"{value},{value}",
        "instance": "vm1\nauto evil", "root_device": value,
    })
    cfg = plan(ctx, static=False)
    text = render.interfaces(cfg)
    assert "evil" not in text and "reboot" not in text and "\x1b" not in text and "\r" not in text
    assert text.splitlines() == ["auto eth0", "iface eth0 inet dhcp"]
    assert yaml.safe_load(render.netplan(cfg)) == {"network": {"version": 2, "ethernets": {"eth0": {"dhcp4": True}}}}
    assert render.cmdline(cfg)[0] == "ip=:::::eth0:dhcp"  # the invalid host name is left out too
    json.dumps(render.document(cfg, "gce:p/z/vm1"))


def test_hostile_droplet_networks_and_names():
    droplet = droplet_resource(5, name="evil\nname:with:colons")
    droplet["networks"]["v4"] = [
        {"ip_address": "1.2.3.4\n    gateway 6.6.6.6", "netmask": "255.255.255.0", "gateway": "1.2.3.1", "type": "public"},
        {"ip_address": "198.51.100.7", "netmask": "255.255.255.0\nauto x", "gateway": "198.51.100.1", "type": "public"},
        {"ip_address": "198.51.100.8", "netmask": "255.0.255.0", "gateway": "198.51.100.1", "type": "public"},
        {"ip_address": "203.0.113.9", "netmask": "255.255.255.0", "gateway": "203.0.113.1\n  up x", "type": "public"},
    ]
    droplet["networks"]["v6"] = [{"ip_address": "2001:db8::1", "netmask": "64\n  - evil", "gateway": "x", "type": "public"}]
    cfg = plan(machine_context(droplet, "5"))
    assert cfg.hostname is None and [str(i.ipv4.interface) for i in cfg.interfaces] == ["203.0.113.9/24"]
    assert cfg.interfaces[0].ipv4.gateway is None and cfg.interfaces[0].ipv6 is None
    text = render.interfaces(cfg)
    assert text.splitlines() == ["auto eth0", "iface eth0 inet static", "    address 203.0.113.9",
                                 "    netmask 255.255.255.0"]
    assert render.cmdline(cfg)[0] == "ip=203.0.113.9:::255.255.255.0::eth0:off"


def test_a_droplet_without_a_usable_network_is_plain_dhcp_with_a_note():
    droplet = droplet_resource(5)
    droplet["networks"] = {"v4": [{"ip_address": "nope", "netmask": "255.255.255.0", "type": "public"}], "v6": []}
    cfg = plan(machine_context(droplet, "5"))
    assert render.interfaces(cfg) == "auto eth0\niface eth0 inet dhcp"
    assert render.cmdline(cfg)[0] == "ip=::::example.com:eth0:dhcp"
    assert any("no usable address" in n for n in cfg.notes)


def test_interface_names_are_validated():
    for bad in ("eth0\nauto x", "a" * 16, "eth 0", "", "eth0:1"):
        with pytest.raises(NetcfgError):
            plan(GCE, interface=bad)


def test_every_rendering_of_every_plan_parses_back():
    for ctx in (GCE, machine_context(droplet_resource(1), "1"),
                MachineContext("console", "aws", "nitro", {"private_ipv4": "172.31.5.6", "subnet_cidr": "172.31.0.0/20"})):
        cfg = plan(ctx)
        doc = render.document(cfg, "t")
        assert yaml.safe_load(doc["netplan"])["network"]["version"] == 2
        for i in doc["interfaces"]:
            if i["ipv4"]["address"]:
                ipaddress.ip_interface(f"{i['ipv4']['address']}/{i['ipv4']['prefix']}")
