"""Message families the round-4 study cases showed missing (issue 10), as a user meets them with
the shipped catalog: the verdict and the categories `analyze` prints, and no error on healthy
look-alikes.

Each line names where it was seen: a QEMU boot of tests/qemu/root_faults.py, a mail or README in
the search index (by file id; the rule samples cite the same), or, where no console here shows
the message, the source that prints it (said so).
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import by_category as _found

#: qemu boot: rootfstype-ext2-on-ext4 (tests/qemu/root_faults.py), Debian 6.1 cloud kernel, no initramfs
ROOTFSTYPE = [
    "[    0.076699] Kernel command line: console=ttyS0 root=/dev/nvme0n1 rootfstype=ext2",
    "[    2.856362] No filesystem could mount root, tried: ",
    "[    2.856379]  ext2",
    "[    2.856469] ",
    "[    2.856679] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(259,0)",
]
#: qemu boot: no-root-no-initramfs (tests/qemu/root_faults.py): no initrd line, no root=
NO_ROOT = [
    "[    0.068318] Kernel command line: console=ttyS0",
    "[    2.954742] /dev/root: Can't open blockdev",
    '[    2.955101] VFS: Cannot open root device "(null)" or unknown-block(0,0): error -6',
    '[    2.955264] Please append a correct "root=" boot option; here are the available partitions:',
    "[    2.955541] 103:00000      16384 nvme0n1 ",
    "[    2.959805]  (driver?)",
    "[    2.960086] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
]
#: samples/qemu-initramfs-truncated/serial.log (the initramfs that should have found the root)
UNPACK_FAILED = ["[    1.555011] Initramfs unpacking failed: read error",
                 '[    2.002815] VFS: Cannot open root device "(null)" or unknown-block(0,0): error -6',
                 "[    2.003304] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"]
#: search-index file id 7823658673 (LKML, 2.6.26-rc6) and 28365441459 (LKML, 4.19-rc4)
EARLY_EXCEPTION_OLD = ["PANIC: early exception 06 rip 10:ffffffff80ba7531 error 0 cr2 f06f53",
                       "Pid: 0, comm: swapper Not tainted 2.6.26-rc6 #7709"]
EARLY_EXCEPTION_NEW = "PANIC: early exception 0xe3 IP 10:ffffffffa08146f1 error 0 cr2 0x0"
#: search-index file id 22107030170 (an edk2-devel patch mail quoting OVMF's debug console)
OVMF_ASSERT = ["ASSERT_EFI_ERROR (Status = Already started)",
               "ASSERT /builddir/build/BUILD/edk2-ca407c7246bf/OvmfPkg/SmbiosPlatformDxe/SmbiosPlatformDxe.c(125): "
               "!EFI_ERROR (Status)"]
#: search-index file id 46305510946 (a kernel patch mail quoting an arm64 UEFI console)
ARM_UEFI = ["EFI stub: Booting Linux Kernel...",
            "EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path",
            "Synchronous Exception at 0x0000000081310C90",
            "Synchronous Exception at 0x0000000081310C90"]
#: search-index file id 2280137367 (a README's serial console of a Debian 12 VM): the getty banner,
#: the stored window ending before the login prompt
GETTY_BANNER = ["SeaBIOS (version 1.16.3-2.fc40)", "Booting from Hard Disk...", "GRUB loading.",
                "Welcome to GRUB!", "", "Debian GNU/Linux 12 debian ttyS0", ""]
#: samples/kvm-centos7-no-network-cloudinit-datasource-none/console.log (CentOS 7's /etc/issue)
CENTOS_ISSUE = ["[  OK  ] Reached target Multi-User System.", "", "CentOS Linux 7 (Core)",
                "Kernel 3.10.0-957.12.2.el7.x86_64 on an x86_64", ""]
#: synthetic: systemd-networkd's log_link_error_errno() formats in src/network/networkd-dhcp4.c
#: (v239-v247 "Could not set", v250+ "Failed to request") and link_enter_failed()'s "Failed"
NETWORKD_FAILED = ["systemd-networkd[412]: eth0: Could not set DHCPv4 address: Invalid argument",
                   "systemd-networkd[412]: eth0: Failed"]
#: synthetic: gentoo/netifrc init.d/net.lo.in's einfo/eerror lines (bef5edf) when no DHCP client is installed
NETIFRC = [" * Bringing up interface eth0", " *   config_eth0 not specified; defaulting to DHCP",
           " *   dhcp ...", " *     nothing provides `dhcp'", " [ !! ]", " * ERROR: net.eth0 failed to start"]
#: synthetic: SYSLINUX 6.03 core/fs/diskio_bios.c's printf formats (search-index file id 29519074)
SYSLINUX_READ = ["Loading vmlinuz... CHS: Error 0c00 reading sector 1024 (0/16/17)"]


def test_rootfstype_that_refuses_the_root_is_named_not_a_missing_driver(catalog):
    a = run_lines(catalog, ROOTFSTYPE)
    found = _found(a)
    assert a.outcome == "failure"
    assert set(found) == {"disk.root-not-found", "kernel.panic"}
    assert found["disk.root-not-found"][0].rule == "rootfstype-refused-root"
    assert "rootfstype=ext2" in found["disk.root-not-found"][0].remediation


def test_a_root_no_filesystem_could_mount_is_not_found_next_to_its_missing_driver(catalog):
    # the same kernel lines without rootfstype=: the built-in file systems could not mount it
    a = run_lines(catalog, ROOTFSTYPE[1:])
    found = _found(a)
    assert a.outcome == "failure"
    assert set(found) == {"disk.driver-missing", "disk.root-not-found", "kernel.panic"}
    assert a.boots[-1].reason.startswith("disk.driver-missing")  # the cause first


def test_no_root_and_no_initramfs_is_the_root_not_found(catalog):
    a = run_lines(catalog, NO_ROOT)
    assert a.outcome == "failure"
    assert set(_found(a)) == {"disk.root-not-found", "kernel.panic"}


def test_an_initramfs_that_failed_to_unpack_stays_the_cause_of_a_null_root(catalog):
    a = run_lines(catalog, UNPACK_FAILED)
    assert a.outcome == "failure"
    assert set(_found(a)) == {"init.not-found", "kernel.panic"}


def test_an_x86_early_exception_is_a_kernel_panic_not_a_unikernel_crash(catalog):
    for lines in (EARLY_EXCEPTION_OLD, [EARLY_EXCEPTION_NEW]):
        a = run_lines(catalog, lines)
        assert a.outcome == "failure", lines
        assert set(_found(a)) == {"kernel.panic"}, lines


def test_firmware_assertions_and_arm_exceptions_are_bootloader_failures(catalog):
    for lines, rule in ((OVMF_ASSERT, "edk2-assert"), (ARM_UEFI, "arm-firmware-exception")):
        a = run_lines(catalog, lines)
        found = _found(a)
        assert a.outcome == "failure", rule
        assert set(found) == {"boot.bootloader-error"}, rule
        assert [f.rule for f in found["boot.bootloader-error"]] == [rule]


def test_the_getty_banner_before_the_prompt_is_a_healthy_boot(catalog):
    for lines in (GETTY_BANNER, CENTOS_ISSUE):
        a = run_lines(catalog, lines)
        assert a.outcome == "success", lines
        assert [f for f in a.findings() if f.severity in ("error", "critical")] == []


def test_dhcp_clients_that_never_configured_the_address_are_no_lease_without_ending_the_boot(catalog):
    for lines in (NETWORKD_FAILED, NETIFRC):
        a = run_lines(catalog, lines)
        found = _found(a)
        assert "network.dhcp.no-lease" in found, lines
        assert found["network.dhcp.no-lease"][0].severity == "error"
        assert a.outcome == "unknown", lines  # the boot went on: the capture shows no end


def test_syslinux_disk_read_errors_are_reported_and_decide_nothing(catalog):
    a = run_lines(catalog, SYSLINUX_READ)
    [f] = a.findings()
    assert (f.category, f.severity, f.fields.get("sector")) == ("boot.bootloader-error", "error", "1024")
    assert a.outcome == "unknown"
