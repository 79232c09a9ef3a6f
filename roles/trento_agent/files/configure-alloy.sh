#!/bin/bash
# configure-alloy.sh: installed by trento-provision (Trento RFC 0003, automatic deployment).
# Runs as trento-agent's ExecStartPre: regenerates trento.alloy from /etc/trento/agent.yaml with
# `trento-agent generate alloy` and deploys it where Alloy really loads it (CONFIG_FILE of
# /etc/sysconfig/alloy: the directory itself, or the folder of a single file).
# Unlike the RFC's sketch it never leaves a partial, empty or invalid file behind, and never
# lets the alloy account steer root's writes: the new file is generated, checked, validated and
# given its owner and mode in a root-only staging folder (the folder Alloy reads may be writable
# by that account), then renamed into place; Alloy is reloaded only when the content changed.
set -euo pipefail
umask 077
export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
TP_STAGES=()
TP_STAGE_DIR=
trap tp_unstage EXIT

# @safe-files@ (trento-provision puts src/shell/safe-files.sh here when it installs this script)

dir=$(tp_alloy_config_dir /etc/sysconfig/alloy /etc/alloy)
target="$dir/trento.alloy"
tp_stage "$dir"
new="$TP_STAGE_DIR/trento.alloy"

/usr/bin/trento-agent generate alloy >"$new"
if [ ! -s "$new" ]; then
  echo "configure-alloy: 'trento-agent generate alloy' printed nothing; keeping $target" >&2
  exit 1
fi
if [ -f "$target" ] && [ ! -L "$target" ] && cmp -s -- "$new" "$target"; then
  exit 0
fi
if /usr/bin/alloy validate --help >/dev/null 2>&1; then
  # the folder as Alloy will load it: its other regular *.alloy files, and the new one
  mkdir -- "$TP_STAGE_DIR/validate"
  for f in "$dir"/*.alloy; do
    if [ -f "$f" ] && [ ! -L "$f" ] && [ "$f" != "$target" ]; then cp -p -- "$f" "$TP_STAGE_DIR/validate/"; fi
  done
  cp -- "$new" "$TP_STAGE_DIR/validate/trento.alloy"
  if ! /usr/bin/alloy validate "$TP_STAGE_DIR/validate" >&2; then
    echo "configure-alloy: the generated configuration is invalid; keeping $target" >&2
    exit 1
  fi
fi
chown alloy:alloy -- "$new"
chmod 0640 -- "$new"
sync -- "$new" 2>/dev/null || true
mv -f -T -- "$new" "$target"
systemctl reload alloy.service || echo "configure-alloy: reloading Alloy failed; it keeps its previous configuration" >&2
echo "configure-alloy: deployed $target"
