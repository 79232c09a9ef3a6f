#!/bin/bash
# configure-alloy.sh: installed by trento-provision (Trento RFC 0003, automatic deployment).
# Runs as trento-agent's ExecStartPre: regenerates trento.alloy from /etc/trento/agent.yaml with
# `trento-agent generate alloy` and deploys it where Alloy really loads it (CONFIG_FILE of
# /etc/sysconfig/alloy: the directory itself, or the folder of a single file).
# Unlike the RFC's sketch it never leaves a partial, empty or invalid file behind, and never
# lets the alloy account steer root's writes: the new file is generated, checked, validated and
# given its owner and mode in a root-only staging folder (the folder Alloy reads may be writable
# by that account), then renamed into place; Alloy is reloaded only when the content changed, and
# a file Alloy refuses to load is put back as it was (see the end).
set -euo pipefail
umask 077
export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
TP_STAGES=()
TP_STAGE_DIR=
trap tp_unstage EXIT

# Its settings come from trento-provision's tables (roles/trento_agent/tasks/main.ts):
# TP_ALLOY_SYSCONFIG, TP_ALLOY_DEFAULT_DIR, TP_TRENTO_ALLOY, TP_ALLOY_UNIT, TP_ALLOY_OWNER,
# TP_ALLOY_MODE, TP_ALLOY_HTTP (where Alloy serves without --server.http.listen-addr) and
# TP_STAGE_PREFIX (its staging folders' own prefix).
# @safe-files@ (trento-provision puts the settings and src/shell/safe-files.sh here when it installs this script)

# A sysconfig too large to read would leave CONFIG_FILE unknown: the default folder is no guess
# to write into, and set -e would end the script later without a word.
if ! tp_sysconfig_text "$TP_ALLOY_SYSCONFIG"; then
  echo "configure-alloy: $TP_ALLOY_SYSCONFIG is larger than $TP_MAX_FILE_BYTES bytes, so where Alloy loads its configuration from is not known; trento.alloy left as it is" >&2
  exit 1
fi
# Only a sysconfig root alone can write decides where root writes (tp_sysconfig_unsafe).
if [ -f "$TP_ALLOY_SYSCONFIG" ] && [ ! -L "$TP_ALLOY_SYSCONFIG" ]; then
  meta=$(stat -c '%U/%G/%a' -- "$TP_ALLOY_SYSCONFIG")
  rest=${meta#*/}
  if tp_sysconfig_unsafe "$TP_ALLOY_SYSCONFIG" "${meta%%/*}" "${rest%/*}" "${meta##*/}"; then
    echo "configure-alloy: $TP_REPLY; trento.alloy left as it is" >&2
    exit 1
  fi
fi
dir=$(tp_alloy_config_dir "$TP_ALLOY_SYSCONFIG" "$TP_ALLOY_DEFAULT_DIR")
target="$dir/$TP_TRENTO_ALLOY"
tp_stage "$dir"
# What an earlier start left when it was killed (systemd runs one start of the unit at a time).
# Killed, it may have renamed its file into place without reloading Alloy: this start reloads
# Alloy even where the file is already as generated.
killed_before=0
for old in "${TP_STAGE_DIR%/*}/$TP_STAGE_PREFIX"*; do
  if [ "$old" != "$TP_STAGE_DIR" ] && [ -d "$old" ] && [ ! -L "$old" ]; then
    rm -rf -- "$old"
    killed_before=1
  fi
done
new="$TP_STAGE_DIR/$TP_TRENTO_ALLOY"

/usr/bin/trento-agent generate alloy >"$new"
if [ ! -s "$new" ]; then
  echo "configure-alloy: 'trento-agent generate alloy' printed nothing; keeping $target" >&2
  exit 1
fi
# The current file is read once without following a link or waiting on a FIFO (the alloy account
# may swap it at any time); the new one is root's own.
IFS= read -r -d '' generated <"$new" || true
# Alloy reloaded through its HTTP endpoint, which answers whether it took the files (a SIGHUP says
# nothing: Alloy keeps its old graph and logs the error): prints the HTTP status, 000 where nothing
# answered.
alloy_reload() {
  local code
  tp_alloy_args "$TP_ALLOY_SYSCONFIG"
  code=$(curl -q -sS --noproxy '*' -m 20 -X POST -o /dev/null -w '%{http_code}' "$TP_ALLOY_HTTP/-/reload" 2>/dev/null) || true
  printf '%s' "${code:-000}"
}
if [ -f "$target" ] && [ ! -L "$target" ] && tp_read_nofollow "$target" && [ "$TP_REPLY" = "$generated" ]; then
  if [ $killed_before = 1 ]; then
    # (no earlier file is left to put back: a refusal is said, for the next run to converge)
    code=$(alloy_reload)
    case $code in
      200) echo "configure-alloy: $target is current; Alloy reloaded (an earlier start was cut short)" ;;
      000) echo "configure-alloy: $target is current; Alloy did not answer at $TP_ALLOY_HTTP (not running?): it loads the file when it starts" ;;
      *)
        echo "configure-alloy: Alloy refuses $target (HTTP $code on $TP_ALLOY_HTTP/-/reload; journalctl -u $TP_ALLOY_UNIT says why), which an earlier start, cut short, put in place; run trento-provision to put a configuration Alloy takes there" >&2
        exit 1
        ;;
    esac
  fi
  exit 0
fi
if /usr/bin/alloy validate --help >/dev/null 2>&1; then
  # the folder as Alloy will load it: its other regular *.alloy files, and the new one
  mkdir -- "$TP_STAGE_DIR/validate"
  for f in "$dir"/*.alloy; do
    if [ -f "$f" ] && [ ! -L "$f" ] && [ "$f" != "$target" ]; then
      tp_copy_nofollow "$f" "$TP_STAGE_DIR/validate/${f##*/}" || echo "configure-alloy: $f changed while it was read, or is too large; left out of the validation" >&2
    fi
  done
  cp -- "$new" "$TP_STAGE_DIR/validate/$TP_TRENTO_ALLOY"
  # with the flags Alloy runs with (its CUSTOM_ARGS: --stability.level, community components)
  tp_alloy_args "$TP_ALLOY_SYSCONFIG"
  if ! /usr/bin/alloy validate "${TP_ALLOY_VALIDATE[@]}" "$TP_STAGE_DIR/validate" >&2; then
    echo "configure-alloy: the generated configuration is invalid; keeping $target" >&2
    exit 1
  fi
fi
chown -- "$TP_ALLOY_OWNER" "$new"
chmod -- "$TP_ALLOY_MODE" "$new"
# The previous file, kept (a hard link, in the root-only staging folder) to be put back should
# Alloy refuse the new one: validate builds no component, so a TLS file Alloy cannot read (a CA
# path missing on this host, a key only root may read) is found only when Alloy loads the file.
previous=
if [ -f "$target" ] && [ ! -L "$target" ] && ln -- "$target" "$TP_STAGE_DIR/previous" 2>/dev/null; then
  previous="$TP_STAGE_DIR/previous"
fi
sync -- "$new" || {
  echo "configure-alloy: cannot write the new $target to disk (fsync failed); keeping $target" >&2
  exit 1
}
# SELinux: the old file's label, else the path's default (as trento-provision's own writes)
labelled=0
if tp_selinux_on && [ -f "$target" ] && [ ! -L "$target" ]; then
  if tp_selinux_like "$target" "$new"; then labelled=1; else echo "configure-alloy: could not give the new $target the old one's SELinux label: $TP_REPLY" >&2; fi
fi
mv -f -T -- "$new" "$target"
if tp_selinux_on && [ $labelled = 0 ]; then
  tp_selinux_default "$target" || echo "configure-alloy: could not give $target its SELinux default label: $TP_REPLY" >&2
fi
# A file Alloy refuses must not stay on disk for Alloy's next start, which would then fail, the
# admin's own pipelines with it.
code=$(alloy_reload)
case $code in
  200) echo "configure-alloy: deployed $target" ;;
  000) echo "configure-alloy: deployed $target; Alloy did not answer at $TP_ALLOY_HTTP (not running?): it loads the file when it starts" ;;
  *)
    if [ -n "$previous" ]; then mv -f -T -- "$previous" "$target"; else rm -f -- "$target"; fi
    # A 400 does not mean Alloy kept what it ran: for components that fail only when evaluated
    # or built (a value, a TLS file) it installs the new graph all the same, those components on
    # their old arguments or not built at all. So it reloads what is back on disk.
    again=$(alloy_reload)
    if [ -n "$previous" ]; then back="the previous file is back"; else back="the new file was removed"; fi
    refused="configure-alloy: Alloy refused the new $target (HTTP $code on $TP_ALLOY_HTTP/-/reload"
    case $again in
      200) echo "$refused; its log says why: journalctl -u $TP_ALLOY_UNIT); $back and Alloy reloaded" >&2 ;;
      000) echo "$refused; journalctl -u $TP_ALLOY_UNIT says why); $back, and Alloy did not answer its reload (not running?): it loads the files when it starts" >&2 ;;
      *)
        # Refused without trento.alloy's change too: the fault is in another file of the folder.
        # Alloy ends when its first load fails, so a restart now would stop every pipeline.
        echo "$refused), and refuses the folder without it too (HTTP $again): another file in $dir is wrong (journalctl -u $TP_ALLOY_UNIT says which); $back; do not restart Alloy before that file is fixed (it would not start), then reload it" >&2
        ;;
    esac
    exit 1
    ;;
esac
