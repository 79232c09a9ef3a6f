# shellcheck shell=bash
# The facts script: run in one SSH round trip, after src/shell/safe-files.sh and a generated
# prelude setting TP_WANT_CONTENT (1: also the managed files' contents, for --diff),
# TP_WANT_UPDATES (1: also zypper list-updates, for agent_package_state: latest),
# the arrays TP_PACKAGES, TP_UNITS, TP_MANAGED_FILES and TP_AGENT_PACKAGE, TP_ALLOY_SYSCONFIG, TP_ALLOY_DEFAULT_DIR,
# TP_TRENTO_ALLOY, TP_STATE_DIR, TP_ZYPP_LOCK_TIMEOUT, TP_MAX_FILE_BYTES.
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

agent_installed=
if have rpm; then
  # one rpm call for every package: "NAME VERSION-RELEASE", or "package NAME is not installed"
  packages=$(rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}\n' "${TP_PACKAGES[@]}" 2>/dev/null)
  record packages "$packages"
  [[ $'\n'$packages == *$'\n'"$TP_AGENT_PACKAGE "* ]] && agent_installed=1
fi
if have systemctl; then
  record units "$(systemctl show -p Id,ActiveState,UnitFileState "${TP_UNITS[@]}" 2>/dev/null)"
fi
# What the repositories offer, only when trento-agent is missing (its version decides whether the
# agent can generate trento.alloy). zypper waits for a lock held by another package manager like
# the apply does; when it still fails, its exit code and message are reported, never dropped.
if have rpm && have zypper && [ -z "$agent_installed" ]; then
  info=$(ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive --quiet info "$TP_AGENT_PACKAGE" 2>&1)
  rc=$?
  record agent-candidate-rc "$rc"
  # 104: not in any repository (the install step says so with what to check); 106: some
  # repositories could not be refreshed, the others answered
  if [ "$rc" = 0 ] || [ "$rc" = 104 ] || [ "$rc" = 106 ]; then
    version=
    while IFS= read -r line; do
      if [[ $line =~ ^Version\ *:\ *(.*)$ ]]; then version=${BASH_REMATCH[1]}; break; fi
    done <<<"$info"
    record agent-candidate "$version"
  else
    [ "${#info}" -le 2000 ] || info=${info: -2000}
    record agent-candidate-error "$info"
  fi
fi

tp_read_config_file "$TP_ALLOY_SYSCONFIG"
cfg=$TP_REPLY
tp_config_dir_for "$cfg" "$TP_ALLOY_DEFAULT_DIR"
cfgdir=$TP_REPLY
record alloy-config-file "$cfg"
if [ -n "$cfg" ] && [ -d "$cfg" ]; then record alloy-config-is-dir yes; else record alloy-config-is-dir no; fi
record alloy-config-dir "$cfgdir"

# The files, each with whether its content is wanted.
declare -A want=()
for f in "${TP_MANAGED_FILES[@]}"; do want[$f]=$TP_WANT_CONTENT; done
want[$TP_ALLOY_SYSCONFIG]=1
want[$cfgdir/$TP_TRENTO_ALLOY]=$TP_WANT_CONTENT
[ "$cfgdir" = "$TP_ALLOY_DEFAULT_DIR" ] || want[$TP_ALLOY_DEFAULT_DIR/$TP_TRENTO_ALLOY]=$TP_WANT_CONTENT
# The toolkit's own records (root-only folder): what it installed, what it still has to do.
for f in packages pending-handlers alloy-CONFIG_FILE.orig; do want[$TP_STATE_DIR/$f]=1; done

# Links and other kinds of file by the shell's tests, the regular files' metadata by one stat.
regular=()
for f in "${!want[@]}"; do
  if [ -L "$f" ]; then
    record "file:$f" "symlink $(readlink -- "$f")"
  elif [ -f "$f" ]; then
    regular+=("$f")
  elif [ -e "$f" ]; then
    record "file:$f" "other $(stat -c %F -- "$f")"
  else
    record "file:$f" absent
  fi
done
declare -A meta=()
if [ "${#regular[@]}" -gt 0 ]; then
  # "OWNER GROUP MODE SIZE\nNAME\0": NUL-terminated, so no name can shift the others
  while IFS= read -r -d '' rec; do
    meta[${rec#*$'\n'}]=${rec%%$'\n'*}
  done < <(stat --printf '%U %G %a %s\n%n\0' -- "${regular[@]}" 2>/dev/null)
fi
hash=()
for f in "${regular[@]}"; do
  m=${meta[$f]-}
  if [ -z "$m" ]; then record "file:$f" absent; continue; fi # gone since the test
  if [ "${m##* }" -gt "$TP_MAX_FILE_BYTES" ]; then record "file:$f" "toobig ${m##* }"; continue; fi
  hash+=("$f")
done
# One sha256sum for every file. Its lines are "HASH  NAME"; a name with a backslash or a newline
# is escaped and the line starts with "\" (coreutils' rule), so names are matched escaped.
declare -A sum=()
if [ "${#hash[@]}" -gt 0 ]; then
  while IFS= read -r line; do
    if [[ $line == \\* ]]; then sum[${line:67}]=${line:1:64}; else sum[${line:66}]=${line:0:64}; fi
  done < <(sha256sum -- "${hash[@]}" 2>/dev/null)
fi
for f in "${hash[@]}"; do
  e=$f
  if [[ $f == *[\\$'\n']* ]]; then e=${f//\\/\\\\}; e=${e//$'\n'/\\n}; fi
  s=${sum[$e]-}
  if [ -z "$s" ]; then record "file:$f" absent; continue; fi # unreadable or gone
  record "file:$f" "regular ${meta[$f]} $s"
  [ "${want[$f]}" = 1 ] || continue
  # The whole file by the read builtin; a NUL byte ends read early (status 0) and cannot be held
  # in a shell variable, so such a file goes as base64 of the file itself.
  content=
  if IFS= read -r -d '' content <"$f"; then
    record "content:$f" "$(base64 -w0 -- "$f")" b
  else
    record "content:$f" "$content"
  fi
done

# agent_package_state: latest: what the repositories offer newer than installed, as
# "NAME AVAILABLE-VERSION" lines from zypper list-updates' table (name and available columns).
if [ "$TP_WANT_UPDATES" = 1 ] && have zypper; then
  record updates "$(ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive --quiet list-updates 2>/dev/null |
    awk -F'|' 'NF >= 6 { for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i); print $3, $5 }')"
fi
record "done" yes
