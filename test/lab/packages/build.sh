#!/bin/bash
# Build the lab's RPMs and channel repositories.
#   test/lab/packages/build.sh OUT
# -> OUT/rpms/*.rpm, OUT/repos/{sle15,sle15sp7,sle16}/ (hard links + createrepo_c metadata),
#    RPMs and repomd.xml signed with the lab key (OUT/lab-key.asc, OUT/gnupg/), as SUSE signs
#    its channels; hosts trust that key (test/lab/base.ts imports it into their rpm database).
# Rebuilds only when an input changed (hash in OUT/.inputs-hash); quiet on success, prints the
# failing tool's output and exits non-zero on failure. Safe to run concurrently (flock).
set -euo pipefail

OUT=${1:?usage: build.sh OUT}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HOST=$(cd "$HERE/../host" && pwd)
NODE_EXPORTER=${LAB_NODE_EXPORTER_BIN:-/usr/bin/prometheus-node-exporter}
AGENT_VERSIONS=(3.0.2 3.1.0)
# Two node_exporter versions (the same binary): a host can hold the older one, so that an upgrade
# (agent_package_state: latest) and the restart it needs can be tested.
NODE_EXPORTER_VERSIONS=(1.5.0 1.8.2)

for tool in rpmbuild createrepo_c sha256sum flock rpmsign gpg; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing (Debian: apt-get install rpm createrepo-c gnupg)" >&2; exit 1; }
done
[ -x "$NODE_EXPORTER" ] || { echo "build.sh: $NODE_EXPORTER is missing (Debian: apt-get install prometheus-node-exporter)" >&2; exit 1; }
# The RPM links to the binary where the machine has it (see its spec): an absolute path.
NODE_EXPORTER=$(realpath -- "$NODE_EXPORTER")

exec 9>"$OUT/.build.lock"
flock 9

fail() { # $1 message, $2 log file
  echo "build.sh: $1" >&2
  [ -n "${2:-}" ] && [ -f "$2" ] && cat "$2" >&2
  exit 1
}


inputs_hash() {
  { (cd "$HERE" && sha256sum -- *.spec build.sh)
    (cd "$HOST" && sha256sum -- alloy trento-agent)
    sha256sum -- "$NODE_EXPORTER"
    echo "agents ${AGENT_VERSIONS[*]} node_exporters ${NODE_EXPORTER_VERSIONS[*]}"
  } | sha256sum | cut -d' ' -f1
}
HASH=$(inputs_hash)

# The lab's signing key: made once per package set, no passphrase (a lab-only key). Hosts built
# from these packages trust it; a key or signature from anywhere else is refused by zypper.
export GNUPGHOME=$OUT/gnupg
# gpg starts an agent daemon for the key: stop it when the build ends, whatever the outcome.
trap 'gpgconf --kill gpg-agent >/dev/null 2>&1 || true' EXIT
LAB_KEY_NAME="Lab Packages Signing Key <lab-packages@trento-provision.invalid>"
if [ ! -s "$OUT/lab-key.asc" ]; then
  rm -rf "$GNUPGHOME" && mkdir -m 0700 "$GNUPGHOME"
  gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
      --quick-gen-key "$LAB_KEY_NAME" rsa3072 sign never >"$OUT/gpg-gen.log" 2>&1 \
    || fail "gpg could not make the lab signing key:" "$OUT/gpg-gen.log"
  gpg --batch --armor --export "$LAB_KEY_NAME" >"$OUT/lab-key.asc.new" && mv "$OUT/lab-key.asc.new" "$OUT/lab-key.asc"
fi

if [ -f "$OUT/.inputs-hash" ] && [ "$(cat "$OUT/.inputs-hash")" = "$HASH" ] \
   && [ -f "$OUT/repos/sle15/repodata/repomd.xml" ] && [ -f "$OUT/repos/sle15sp7/repodata/repomd.xml" ] \
   && [ -f "$OUT/repos/sle16/repodata/repomd.xml" ]; then
  exit 0
fi

TOP=$OUT/rpmbuild
rm -rf "$TOP" "$OUT/rpms.new" "$OUT/repos.new"
mkdir -p "$TOP"/{SOURCES,SPECS,BUILD,BUILDROOT,RPMS,SRPMS,rpmdb} "$OUT/rpms.new"
install -m 0755 "$HOST/alloy" "$TOP/SOURCES/alloy"
install -m 0755 "$HOST/trento-agent" "$TOP/SOURCES/trento-agent"

# The builds below run in parallel and share this database: made here, once, so no two of them
# race to create its sqlite tables (one then finds it read-only and fails).
rpm --dbpath "$TOP/rpmdb" --initdb

# Debian's rpm: keep its database out of ~/.rpmdb, fast payload compression, no build-id links.
# Each build's files carry one fixed time, its own (BUILT_AT: a day per package version), as a
# distribution's builds of two versions do: the files' times do not depend on which second a
# parallel build reached them, and an upgrade replaces a unit file with one systemd sees as changed
# (NeedDaemonReload), as a real upgrade does, on every run.
build() { # spec log-name built-at(Unix seconds) [extra rpmbuild args...]
  local spec=$1 log="$TOP/$2.log" built_at=$3; shift 3
  if ! SOURCE_DATE_EPOCH=$built_at rpmbuild -bb \
      --define "clamp_mtime_to_source_date_epoch 1" \
      --define "_topdir $TOP" \
      --define "_dbpath $TOP/rpmdb" \
      --define "_binary_payload w3.zstdio" \
      --define "_build_id_links none" \
      --define "_source_filedigest_algorithm 8" \
      "$@" "$HERE/$spec" >"$log" 2>&1; then
    fail "rpmbuild of $spec failed:" "$log"
  fi
}

BUILT_AT=1735689600 # 2025-01-01 00:00 UTC; each package version a day later than the one before
DAY=86400
build alloy.spec alloy $BUILT_AT &
P1=$!
build lab-sles-base.spec lab-sles-base $BUILT_AT &
P2=$!
build supportutils.spec supportutils $BUILT_AT &
P3=$!
build supportutils-plugin-trento.spec supportutils-plugin-trento $BUILT_AT &
P4=$!
PIDS=("$P1" "$P2" "$P3" "$P4")
for i in "${!AGENT_VERSIONS[@]}"; do
  v=${AGENT_VERSIONS[$i]}
  for sle in 15 16; do
    build trento-agent.spec "trento-agent-$v-sle$sle" $((BUILT_AT + i * DAY)) --define "agent_version $v" --define "agent_sle $sle" &
    PIDS+=($!)
  done
done
for i in "${!NODE_EXPORTER_VERSIONS[@]}"; do
  v=${NODE_EXPORTER_VERSIONS[$i]}
  build golang-github-prometheus-node_exporter.spec "node_exporter-$v" $((BUILT_AT + i * DAY)) \
    --define "lab_node_exporter $NODE_EXPORTER" --define "node_exporter_version $v" &
  PIDS+=($!)
done
RC=0
for p in "${PIDS[@]}"; do wait "$p" || RC=1; done
[ "$RC" = 0 ] || exit 1

find "$TOP/RPMS" -name '*.rpm' -exec mv -t "$OUT/rpms.new" {} +
rpmsign --addsign --define "_gpg_name $LAB_KEY_NAME" --define "_gpg_path $GNUPGHOME" --define "__gpg $(command -v gpg)" \
    "$OUT"/rpms.new/*.rpm >"$TOP/rpmsign.log" 2>&1 || fail "rpmsign failed:" "$TOP/rpmsign.log"

# Channel repositories: what each SLES channel ships (docs/contracts.md). supportutils is in every
# base channel; supportutils-plugin-trento wherever trento-agent is. (supportutils-[0-9]* so that
# supportutils does not also match the plugin.)
SUPPORT="supportutils-[0-9]* supportutils-plugin-trento-*"
# trento-agent: each generation's own build (its Release, 150000.* or 160000.*, as SUSE's).
declare -A CHANNEL=(
  [sle15]="golang-github-prometheus-node_exporter-* trento-agent-*-150000.* $SUPPORT"
  [sle15sp7]="golang-github-prometheus-node_exporter-* trento-agent-*-150000.* alloy-* $SUPPORT"
  [sle16]="alloy-* trento-agent-*-160000.* $SUPPORT"
)
rm -rf "$OUT/rpms" "$OUT/repos"
mv "$OUT/rpms.new" "$OUT/rpms"
mkdir -p "$OUT/repos.new"
for ch in "${!CHANNEL[@]}"; do
  mkdir -p "$OUT/repos.new/$ch"
  for pat in ${CHANNEL[$ch]}; do
    for f in "$OUT"/rpms/$pat.rpm; do
      [ -e "$f" ] || fail "no RPM matches $pat for channel $ch"
      ln "$f" "$OUT/repos.new/$ch/"
    done
  done
  createrepo_c --quiet --no-database "$OUT/repos.new/$ch" >"$TOP/createrepo-$ch.log" 2>&1 \
    || fail "createrepo_c for $ch failed:" "$TOP/createrepo-$ch.log"
  # Signed metadata, as SUSE's channels: repomd.xml.asc, and the key beside it (repomd.xml.key).
  gpg --batch --yes --quiet --local-user "$LAB_KEY_NAME" --armor --detach-sign "$OUT/repos.new/$ch/repodata/repomd.xml" \
    >"$TOP/sign-$ch.log" 2>&1 || fail "signing the $ch metadata failed:" "$TOP/sign-$ch.log"
  cp "$OUT/lab-key.asc" "$OUT/repos.new/$ch/repodata/repomd.xml.key"
done
mv "$OUT/repos.new" "$OUT/repos"
rm -rf "$TOP/BUILD" "$TOP/BUILDROOT" "$TOP/SOURCES"
echo "$HASH" > "$OUT/.inputs-hash"
