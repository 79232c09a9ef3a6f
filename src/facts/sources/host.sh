# shellcheck shell=bash
# Fact source "host" (src/facts/sources/host.ts): what the host is. os-release and machine-id by
# the read builtin (bounded), baseproduct as the file it links to, the hostname from the kernel, the user the
# script runs as, and which of the tools the other sources and the apply need are there.
if bounded /etc/os-release || bounded /usr/lib/os-release; then os_release=$TP_REPLY; else os_release=; fi
record os-release "$os_release"
# baseproduct: the products.d file it links to, found by test -ef (same file; no process), or
# readlink's answer for a link that leads out of the folder.
base_product=
if [ -L /etc/products.d/baseproduct ]; then
  for prod in /etc/products.d/*.prod; do
    if [ ! -L "$prod" ] && [ "$prod" -ef /etc/products.d/baseproduct ]; then base_product=${prod##*/} && break; fi
  done
  [ -n "$base_product" ] || base_product=$(readlink /etc/products.d/baseproduct)
fi
record baseproduct "$base_product"
bounded /etc/machine-id
record machine-id "$TP_REPLY"
# gethostname(2), as hostname(1) prints it
if IFS= read -r TP_REPLY </proc/sys/kernel/hostname 2>/dev/null; then record hostname "$TP_REPLY"; else record hostname "${HOSTNAME-}"; fi
record uid "$EUID"
# Which apply last ran here (src/apply/lib.sh tp_generation_check): the apply of this run's plan
# refuses to run where another has run since. Root's folder; the read builtin, no process.
tp_generation_read
record apply-generation "$TP_REPLY"
tools=
for t in rpm zypper curl systemctl base64 sha256sum; do have "$t" && tools+="$t "; done
record tools "$tools"
