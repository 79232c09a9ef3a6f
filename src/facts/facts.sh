# shellcheck shell=bash
# The facts script: run in one SSH round trip, after src/shell/safe-files.sh and a generated
# prelude setting TP_WANT_CONTENT (1: also the managed files' contents, for --diff),
# TP_WANT_UPDATES (1: also zypper list-updates, for agent_package_state: latest),
# the arrays TP_PACKAGES, TP_UNITS, TP_MANAGED_FILES and TP_AGENT_PACKAGE, TP_ALLOY_SYSCONFIG, TP_ALLOY_DEFAULT_DIR,
# TP_TRENTO_ALLOY, TP_STATE_DIR, TP_ZYPP_LOCK_TIMEOUT, TP_MAX_FILE_BYTES.
# It prints `key<TAB>base64(value)` lines (base64, so no value can break the framing). It only
# reads, and never through a link: a managed path that is a link or not a regular file is
# reported as such (the planner fails the host, naming it) and is neither read nor hashed, so a
# link to /etc/shadow cannot put the shadow file into a diff, and a FIFO cannot hang the run.
export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin

emit() { printf '%s\t%s\n' "$1" "$(printf '%s' "$2" | base64 -w0)"; }
have() { command -v "$1" >/dev/null 2>&1; }

# file_fact PATH WITH_CONTENT: "regular OWNER GROUP MODE SIZE SHA256" (content when asked),
# "symlink TARGET", "other TYPE" or "absent".
file_fact() {
  local meta size
  if [ -L "$1" ]; then
    emit "file:$1" "symlink $(readlink -- "$1")"
  elif [ -f "$1" ]; then
    meta=$(stat -c '%U %G %a %s' -- "$1")
    size=${meta##* }
    if [ "$size" -gt "$TP_MAX_FILE_BYTES" ]; then
      emit "file:$1" "toobig $size"
      return
    fi
    emit "file:$1" "regular $meta $(sha256sum -- "$1" | cut -d' ' -f1)"
    if [ "$2" = 1 ]; then emit "content:$1" "$(cat -- "$1"; echo x)"; fi
  elif [ -e "$1" ]; then
    emit "file:$1" "other $(stat -c %F -- "$1")"
  else
    emit "file:$1" absent
  fi
}

# bounded FILE: a small system file (os-release, machine-id), at most TP_MAX_FILE_BYTES.
bounded() { [ -f "$1" ] && head -c "$TP_MAX_FILE_BYTES" -- "$1"; }

emit os-release "$(bounded /etc/os-release || bounded /usr/lib/os-release)"
emit baseproduct "$(readlink /etc/products.d/baseproduct 2>/dev/null)"
emit machine-id "$(bounded /etc/machine-id)"
emit hostname "$(hostname 2>/dev/null || bounded /etc/hostname)"
emit uid "$(id -u)"
tools=
for t in rpm zypper curl systemctl base64 sha256sum; do have "$t" && tools+="$t "; done
emit tools "$tools"

if have rpm; then
  # one rpm call for every package: "NAME VERSION-RELEASE", or "package NAME is not installed"
  emit packages "$(rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}\n' "${TP_PACKAGES[@]}" 2>/dev/null)"
fi
if have systemctl; then
  emit units "$(systemctl show -p Id,ActiveState,UnitFileState "${TP_UNITS[@]}" 2>/dev/null)"
fi
# What the repositories offer, only when trento-agent is missing (its version decides whether the
# agent can generate trento.alloy). zypper waits for a lock held by another package manager like
# the apply does; when it still fails, its exit code and message are reported, never dropped.
if have rpm && have zypper && ! rpm -q --quiet "$TP_AGENT_PACKAGE"; then
  info=$(ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive --quiet info "$TP_AGENT_PACKAGE" 2>&1)
  rc=$?
  emit agent-candidate-rc "$rc"
  # 104: not in any repository (the install step says so with what to check); 106: some
  # repositories could not be refreshed, the others answered
  if [ "$rc" = 0 ] || [ "$rc" = 104 ] || [ "$rc" = 106 ]; then
    emit agent-candidate "$(printf '%s\n' "$info" | sed -n 's/^Version *: *//p' | head -n 1)"
  else
    emit agent-candidate-error "$(printf '%s\n' "$info" | tail -c 2000)"
  fi
fi

cfg=$(tp_alloy_config_file "$TP_ALLOY_SYSCONFIG")
cfgdir=$(tp_alloy_config_dir "$TP_ALLOY_SYSCONFIG" "$TP_ALLOY_DEFAULT_DIR")
emit alloy-config-file "$cfg"
if [ -n "$cfg" ] && [ -d "$cfg" ]; then emit alloy-config-is-dir yes; else emit alloy-config-is-dir no; fi
emit alloy-config-dir "$cfgdir"

for f in "${TP_MANAGED_FILES[@]}"; do file_fact "$f" "$TP_WANT_CONTENT"; done
file_fact "$TP_ALLOY_SYSCONFIG" 1
file_fact "$cfgdir/$TP_TRENTO_ALLOY" "$TP_WANT_CONTENT"
[ "$cfgdir" = "$TP_ALLOY_DEFAULT_DIR" ] || file_fact "$TP_ALLOY_DEFAULT_DIR/$TP_TRENTO_ALLOY" "$TP_WANT_CONTENT"
# agent_package_state: latest: what the repositories offer newer than installed, as
# "NAME AVAILABLE-VERSION" lines from zypper list-updates' table (name and available columns).
if [ "$TP_WANT_UPDATES" = 1 ] && have zypper; then
  emit updates "$(ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive --quiet list-updates 2>/dev/null |
    awk -F'|' 'NF >= 6 { for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i); print $3, $5 }')"
fi
# The toolkit's own records (root-only folder): what it installed, what it still has to do.
for f in packages pending-handlers alloy-CONFIG_FILE.orig; do file_fact "$TP_STATE_DIR/$f" 1; done
emit "done" yes
