# shellcheck shell=bash
# Fact source "host" (src/facts/sources/host.ts): what the host is. os-release and machine-id by
# the read builtin (bounded), baseproduct as its link, the hostname from the kernel, the user the
# script runs as, and which of the tools the other sources and the apply need are there.
if bounded /etc/os-release || bounded /usr/lib/os-release; then record os-release "$TP_REPLY"; else record os-release ''; fi
if [ -L /etc/products.d/baseproduct ]; then record baseproduct "$(readlink /etc/products.d/baseproduct)"; else record baseproduct ''; fi
bounded /etc/machine-id
record machine-id "$TP_REPLY"
# gethostname(2), as hostname(1) prints it
if IFS= read -r TP_REPLY </proc/sys/kernel/hostname 2>/dev/null; then record hostname "$TP_REPLY"; else record hostname "${HOSTNAME-}"; fi
record uid "$EUID"
tools=
for t in rpm zypper curl systemctl base64 sha256sum; do have "$t" && tools+="$t "; done
record tools "$tools"
