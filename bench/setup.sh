#!/bin/bash
# The bench's own set-up (npm run bench), on top of the project's: Debian's `ansible` bundle
# (community.general.zypper, which the reference playbook uses) and `ansible-mitogen` (the
# Mitogen strategy). Only the bench needs them: the tests judge with ansible-core alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
missing=()
for p in ansible ansible-mitogen; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
