#!/usr/bin/env bash
# Installs everything trento-provision and its lab need on Debian 12 (run as root), then the
# npm dependencies. Safe to run again. The one list of system packages: .ci/run calls this too.
set -euo pipefail
cd "$(dirname "$0")/.."

# package.json's engines, which npm only warns about: vitest's vite needs 20.19 or later, and
# Debian 12's own nodejs (18) would install and then fail the suite in unclear ways.
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  { echo "scripts/setup.sh: Node.js 20.19 or later is needed (this is $(node --version 2>&1)); install it first" >&2; exit 1; }

PACKAGES=(
  # the lab's hosts: real sshd, zypper and rpm against a local repository
  openssh-server openssh-client openssh-sftp-server zypper rpm createrepo-c prometheus-node-exporter
  iproute2 util-linux procps sudo python3 python3-yaml curl ca-certificates openssl
  # the lab's --rtt: an iptables NFQUEUE rule (test/lab/delay.ts), checked with ping; the
  # bench's CPU times (GNU time)
  iptables iputils-ping time
  # the lab signs its RPMs (rpmsign, from rpm) and repository metadata with a lab key
  gnupg
  # Trento's server side in the lab (Prometheus behind an nginx edge)
  prometheus nginx apache2-utils
  # the lab's Alloy stand-in encodes its remote write (protobuf WriteRequest, snappy)
  python3-protobuf python3-snappy
  # the reference the compatibility tests compare against
  ansible-core
  # the shell programs that run on hosts (src/**/*.sh) are checked by the tests; strace proves
  # the apply library's fsyncs (Debian's image has it, named here so no test leans on that)
  shellcheck strace
  # the default SSH transport's password logins (-k, ansible_password), as Ansible uses it
  sshpass
  # a Kerberos login (GSSAPI) through OpenSSH on the lab: the test's own KDC (krb5kdc and
  # kdb5_util from krb5-kdc, kadmin.local from krb5-admin-server) and kinit/klist (krb5-user);
  # their services stay stopped (policy-rc.d below), the test runs krb5kdc on its own files
  krb5-kdc krb5-admin-server krb5-user
  # a FIDO security key (ed25519-sk) through OpenSSH without a device: OpenSSH's own software
  # authenticator (sk-dummy.so) from its regression tests
  openssh-tests
  # a smart card login (ansible_ssh_pkcs11_provider) through OpenSSH without a card: SoftHSM's
  # PKCS#11 token in a folder of the test's own
  softhsm2
  # the lab hosts' systemctl client (test/lab/host/systemctl-client.c), compiled at base build
  gcc libc6-dev
)

# A temporary policy-rc.d (below) carries a marker, so one left by a killed run (SIGKILL skips
# its trap) is cleared here, whatever is missing, rather than kept as the machine's (it would stop
# every later install's services), with the machine's own put back first.
marker='# trento-provision setup.sh: temporary'
if grep -qxF "$marker" /usr/sbin/policy-rc.d 2>/dev/null; then
  rm -f /usr/sbin/policy-rc.d
  if [ -e /usr/sbin/policy-rc.d.trento-provision ]; then mv /usr/sbin/policy-rc.d.trento-provision /usr/sbin/policy-rc.d; fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d: the packages' own services (sshd on :22, prometheus, nginx) must not start
  # on the machine; the lab starts what it needs, where it needs it. The machine's own policy
  # comes back on every exit path, a failed install included.
  had_policy=no
  if [ -e /usr/sbin/policy-rc.d ]; then had_policy=yes; mv /usr/sbin/policy-rc.d /usr/sbin/policy-rc.d.trento-provision; fi
  restore_policy() {
    rm -f /usr/sbin/policy-rc.d
    if [ "$had_policy" = yes ]; then mv /usr/sbin/policy-rc.d.trento-provision /usr/sbin/policy-rc.d; fi
  }
  trap restore_policy EXIT
  printf '#!/bin/sh\n%s\nexit 101\n' "$marker" >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  restore_policy
  trap - EXIT
  # policy-rc.d kept those services from starting now, not at the next boot: where systemd runs,
  # the ones of packages this run installed are disabled, so Debian's Prometheus (:9090 on every
  # address), nginx (:80) and sshd do not take the lab's ports after a reboot. A service of a
  # package the machine already had is the admin's, and left as it is.
  if [ -d /run/systemd/system ]; then
    declare -A unit_of=(
      [openssh-server]=ssh.service [prometheus]=prometheus.service [prometheus-node-exporter]=prometheus-node-exporter.service
      [nginx]=nginx.service [krb5-kdc]=krb5-kdc.service [krb5-admin-server]=krb5-admin-server.service
    )
    for p in "${missing[@]}"; do
      [ -z "${unit_of[$p]-}" ] || systemctl disable --quiet "${unit_of[$p]}" || true
    done
  fi
fi
npm ci --no-audit --no-fund
# The compiled JavaScript that `npm run provision` starts from while it is the build of the
# current sources (scripts/launch.mjs): ~0.35 s less start-up than TypeScript through tsx.
npm run -s build
