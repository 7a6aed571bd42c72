"""Guest kit for consolewatch's QEMU scenarios: Debian kernels and busybox fetched into a
cache outside the repo, initramfs images (pure-Python cpio), small disk images, a QEMU
runner with hard timeouts that always reaps its process, and private network namespaces
with dnsmasq."""
