#!/bin/bash
# configure-alloy.sh: installed by trento-provision (Trento RFC 0003, automatic deployment).
# Runs as trento-agent's ExecStartPre: regenerates trento.alloy from /etc/trento/agent.yaml with
# `trento-agent generate alloy` and deploys it where Alloy really loads it (CONFIG_FILE of
# /etc/sysconfig/alloy: the directory itself, or the folder of a single file).
# Unlike the RFC's sketch it never leaves a partial, empty or invalid file behind: it generates
# into a temp file beside the target, refuses empty output, validates the directory as Alloy
# would load it, sets owner and mode, renames, and reloads Alloy only when the content changed.
set -euo pipefail
umask 077
sysconfig=/etc/sysconfig/alloy
cfg=$(sed -n 's/^[[:space:]]*CONFIG_FILE=//p' "$sysconfig" 2>/dev/null | tail -1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/")
if [ -n "$cfg" ] && [ -d "$cfg" ]; then dir=${cfg%/}; else dir=$(dirname -- "${cfg:-/etc/alloy/config.alloy}"); fi
target="$dir/trento.alloy"
tmp=$(mktemp -- "$dir/.tp-new-trento.alloy.XXXXXX")
stage=
trap 'rm -f -- "$tmp"; [ -z "$stage" ] || rm -rf -- "$stage"' EXIT

/usr/bin/trento-agent generate alloy >"$tmp"
if [ ! -s "$tmp" ]; then
  echo "configure-alloy: 'trento-agent generate alloy' printed nothing; keeping $target" >&2
  exit 1
fi
if [ -f "$target" ] && cmp -s -- "$tmp" "$target"; then
  exit 0
fi
if /usr/bin/alloy validate --help >/dev/null 2>&1; then
  stage=$(mktemp -d)
  for f in "$dir"/*.alloy; do [ -e "$f" ] && [ "$f" != "$target" ] && cp -p -- "$f" "$stage/"; done
  cp -- "$tmp" "$stage/trento.alloy"
  if ! /usr/bin/alloy validate "$stage" >&2; then
    echo "configure-alloy: the generated configuration is invalid; keeping $target" >&2
    exit 1
  fi
fi
chown alloy:alloy -- "$tmp"
chmod 0640 -- "$tmp"
sync -- "$tmp" 2>/dev/null || true
mv -f -- "$tmp" "$target"
systemctl reload alloy.service || echo "configure-alloy: reloading Alloy failed; it keeps its previous configuration" >&2
echo "configure-alloy: deployed $target"
