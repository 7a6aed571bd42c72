"""Remediation text for a finding, chosen for the machine's cloud and hypervisor."""

from __future__ import annotations

import re
from collections.abc import Mapping

CLOUD_NAMES = {
    "aws": "AWS",
    "aws-xen": "AWS (Xen instance types)",
    "aws-nitro": "AWS (Nitro instance types)",
    "gce": "GCE",
    "do": "DigitalOcean",
    "openstack": "OpenStack",
    "openstack-xen": "OpenStack on Xen (e.g. Rackspace)",
    "openstack-kvm": "OpenStack on KVM",
    "qemu": "QEMU/KVM",
    "azure": "Azure",
}


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, values: Mapping[str, str]) -> str:
    # `{field|text}`: the field when it is known (from the evidence or the cloud's API), else the text.
    template = _OPTIONAL.sub(lambda m: "{" + m[1] + "}" if values.get(m[1]) else
                             m[2].replace("{", "{{").replace("}", "}}"), template)
    try:
        return template.format_map(_Keep(values))
    except (ValueError, IndexError, AttributeError):
        return template  # a literal brace in the text; leave it as written


def remediation_keys(cloud: str, hypervisor: str) -> list[str]:
    """Remediation keys to try, most specific first."""
    if cloud == "aws":
        keys = [f"aws-{hypervisor}"] if hypervisor in ("xen", "nitro") else []
        return keys + ["aws", "default"]
    if cloud == "openstack":  # Xen clouds (Rackspace) name disks xvd*, KVM ones vd*/sd*
        keys = [f"openstack-{hypervisor}"] if hypervisor in ("xen", "kvm") else []
        return keys + ["openstack", "default"]
    return [cloud, "default"]


_PLACEHOLDER = re.compile(r"\{(\w+)(?:\|[^{}]*)?\}")
_OPTIONAL = re.compile(r"\{(\w+)\|([^{}]*)\}")


def placeholders(texts: Mapping[str, str]) -> tuple[str, ...]:
    """The field names a set of remediation texts uses."""
    return tuple(sorted({n for t in texts.values() for n in _PLACEHOLDER.findall(t)}))


def render(texts: Mapping[str, str], cloud: str, hypervisor: str, fields: Mapping[str, str]) -> str:
    """The fix for this cloud; when the cloud is unknown, each cloud's fix in turn."""
    values = {**fields, "cloud": cloud, "hypervisor": hypervisor}
    if cloud in ("unknown", "", None):
        text = _fill(texts["default"], values)
        per_cloud = [k for k in texts if k != "default"]
        if per_cloud:
            text += "".join(f"\n- On {CLOUD_NAMES.get(k, k)}: {_fill(texts[k], values)}" for k in per_cloud)
        return text
    for key in remediation_keys(cloud, hypervisor):
        if key in texts:
            return _fill(texts[key], values)
    return _fill(texts["default"], values)
