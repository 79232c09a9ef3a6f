# shellcheck shell=bash
# The facts script's frame: the record writer and helpers every fact source (sources/*.sh, in
# the order of src/facts/registry.ts) uses. The script runs in one SSH round trip, after
# src/shell/safe-files.sh, src/shell/probes.sh and a generated prelude setting TP_WANT_CONTENT (1: also the managed files' contents, for --diff),
# TP_WANT_UPDATES (1: also zypper list-updates, for agent_package_state: latest), TP_WANT_PROBES
# (1: also probe the installed metrics providers, which --check does not need; it reads Alloy's running state alone),
# the arrays TP_PACKAGES, TP_UNITS, TP_MANAGED_FILES and TP_AGENT_PACKAGE, TP_ALLOY_SYSCONFIG, TP_ALLOY_DEFAULT_DIR, TP_ALLOY_PACKAGE_CONFIG,
# TP_TRENTO_ALLOY, TP_STATE_DIR, TP_ZYPP_LOCK_TIMEOUT (TP_MAX_FILE_BYTES comes with src/shell/safe-files.sh), the providers' packages
# TP_ALLOY_PACKAGE and TP_NODE_EXPORTER_PACKAGE and addresses TP_ALLOY_HTTP and
# TP_NODE_EXPORTER_METRICS (for src/shell/probes.sh).
#
# Output: the line "@@tp-facts 1", then records "FLAGS KEYLEN VALUELEN\nKEYVALUE\n" (src/facts/records.ts reads them). Lengths
# are bytes (LC_ALL=C makes ${#var} count bytes), so no value can break the framing, and the
# framing costs no process: it is printf and ${#}. The output stays ASCII, because the controller
# decodes it as UTF-8: a key or value with a byte above 127 is sent as base64 instead (FLAGS: two
# letters, key then value, r raw or b base64), which costs a process only for such a value.
#
# It costs the host few processes, whatever the number of files: one rpm, one systemctl, one
# stat and one sha256sum for all files; zypper only when trento-agent is missing (or updates are
# asked for); file contents and os-release are read by the shell's read builtin.
#
# It only reads, and never through a link: a managed path that is a link or not a regular file is
# reported as such (the planner fails the host, naming it) and is neither read nor hashed, so a
# link to /etc/shadow cannot put the shadow file into a diff, and a FIFO cannot hang the run. A
# regular file larger than TP_MAX_FILE_BYTES is reported by size, not read.
export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin

# b64 TEXT: TEXT as one line of base64 (a process: only for values that are not ASCII).
b64() { printf '%s' "$1" | base64 -w0; }

# record KEY VALUE [b]: one record; "b" when VALUE is base64 already.
record() {
  local k=$1 v=$2 fk=r fv=${3:-r}
  if [[ $k == *[![:ascii:]]* ]]; then k=$(b64 "$k"); fk=b; fi
  if [ "$fv" = r ] && [[ $v == *[![:ascii:]]* ]]; then v=$(b64 "$v"); fv=b; fi
  printf '%s%s %d %d\n%s%s\n' "$fk" "$fv" "${#k}" "${#v}" "$k" "$v"
}
have() { command -v "$1" >/dev/null 2>&1; }

# bounded FILE: sets TP_REPLY to FILE's first TP_MAX_FILE_BYTES bytes (a small system file:
# os-release, machine-id); fails when FILE is not a regular file.
bounded() {
  TP_REPLY=
  [ -f "$1" ] || return 1
  IFS= read -r -N "$TP_MAX_FILE_BYTES" TP_REPLY <"$1"
  return 0
}
printf '@@tp-facts 1\n'
