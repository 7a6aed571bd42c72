"""`consolewatch netcfg`: the addressing a cloud assigned an instance, as the configuration a
guest reads (interfaces, netplan, the kernel's ip=, JSON) and as an initramfs that carries it.

addressing.py  MachineContext (the cloud's API) -> NetConfig (pure)
render.py      NetConfig -> /etc/network/interfaces, netplan, ip=, JSON (pure)
initrd.py      the reproducible .cpio.gz and the GRUB menuentry
"""

from __future__ import annotations

import dataclasses

from consolewatch.model import MachineContext
from consolewatch.netcfg.addressing import assigned_fields, plan
from consolewatch.netcfg.render import interfaces


def with_assigned(ctx: MachineContext) -> MachineContext:
    """`ctx` plus the addressing its cloud assigned, under the field names every cloud shares
    (`ipv4_address`, `ipv4_netmask`, `ipv4_gateway`, ..., `interfaces_stanza`): what detectors
    compare the console with and what fixes quote. Unchanged when nothing is known."""
    cfg = plan(ctx)
    fields = assigned_fields(cfg)
    if not fields:
        return ctx
    return dataclasses.replace(ctx, fields={**ctx.fields, **fields, "interfaces_stanza": interfaces(cfg)})
