# shellcheck shell=bash
# Fact source "files": the managed files (never through a link), with their content when wanted.
# Uses $cfgdir (alloy-config.sh).
# The files, each with whether its content is wanted.
declare -A want=() marked=()
for f in "${TP_MANAGED_FILES[@]}"; do want[$f]=$TP_WANT_CONTENT; done
for f in "${TP_MARKED_FILES[@]}"; do marked[$f]=1; done
want[$TP_ALLOY_SYSCONFIG]=1
want[$cfgdir/$TP_TRENTO_ALLOY]=$TP_WANT_CONTENT
[ "$cfgdir" = "$TP_ALLOY_DEFAULT_DIR" ] || want[$TP_ALLOY_DEFAULT_DIR/$TP_TRENTO_ALLOY]=$TP_WANT_CONTENT
# The toolkit's own records (root-only folder): what it installed, what it still has to do.
for f in packages pending-handlers files units alloy-CONFIG_FILE.orig alloy-CONFIG_FILE.ours; do want[$TP_STATE_DIR/$f]=1; done

# What a killed apply (SIGKILL, power loss) left in the folders the toolkit writes to and their
# parents (a staging folder lives in the nearest root-only one): its staging folders hold a hard
# link to each file it replaced (the old agent.yaml, an API key meant to be rotated away). By glob,
# no process; the plan removes them under the host's lock.
declare -A lookin=()
for f in "${!want[@]}"; do
  d=${f%/*}
  lookin[$d]=1
  [ -z "${d%/*}" ] || lookin[${d%/*}]=1
done
leftovers='' agent_leftovers=''
for d in "${!lookin[@]}"; do
  tp_leftovers_in "$d"
  if tp_leftovers_found; then leftovers+=$d$'\n'; fi
  [ "$TP_FOR_UNINSTALL" = 1 ] || continue
  tp_agent_leftovers_in "$d"
  if tp_leftovers_found; then agent_leftovers+=$d$'\n'; fi
done
record leftovers "$leftovers"
[ -z "$agent_leftovers" ] || record agent-leftovers "$agent_leftovers"
# Whether a run holds the host's lock now (its apply is writing): such staging folders are its
# own, not a killed run's. Read from /proc/locks by the lock file's inode, never taken (taking it
# would fail that run); one stat, only where something was left.
if [ -n "$leftovers" ] && [ -f "${TP_GENERATION%/*}/lock" ] && [ -r /proc/locks ]; then
  { lock_inode=$(stat -c %i -- "${TP_GENERATION%/*}/lock"); } 2>/dev/null
  held=
  # "1: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF" ("->" lines: a waiter, one word more)
  if [ -n "$lock_inode" ]; then
    while read -r _ _ _ _ _ where _; do
      if [[ $where == *":$lock_inode" ]]; then held=yes; fi
    done </proc/locks
  fi
  record leftovers-live "$held"
fi

# trento.alloy lies in Alloy's configuration folder, which the alloy account may write to (0770
# root:alloy): that account can put a link (to /etc/shadow) or a FIFO in the file's place between
# any test and a read by path. Such a file is read once, by dd opening it without following a link
# and without waiting on a FIFO (O_NOFOLLOW|O_NONBLOCK), at most TP_MAX_FILE_BYTES+1 bytes, and
# the controller hashes what was read; the others lie in folders only root writes to.
declare -A guarded=([$cfgdir/$TP_TRENTO_ALLOY]=1 [$TP_ALLOY_DEFAULT_DIR/$TP_TRENTO_ALLOY]=1)

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
# meta: "MODE SIZE"; owners: "OWNER\nGROUP" (an account's name may hold a space: "domain users").
declare -A meta=() owners=()
if [ "${#regular[@]}" -gt 0 ]; then
  # "MODE SIZE\nOWNER\nGROUP\nNAME\0": NUL-terminated, so no name can shift the others
  while IFS= read -r -d '' rec; do
    m=${rec%%$'\n'*} rec=${rec#*$'\n'}
    o=${rec%%$'\n'*} rec=${rec#*$'\n'}
    g=${rec%%$'\n'*} rec=${rec#*$'\n'}
    meta[$rec]=$m owners[$rec]=$o$'\n'$g
  done < <(stat --printf '%a %s\n%U\n%G\n%n\0' -- "${regular[@]}" 2>/dev/null)
fi
# Alloy's sysconfig, from the same stat: may another account than root write it (and so steer
# where root writes trento.alloy)? Read by alloy-config.ts.
if [ -n "${meta[$TP_ALLOY_SYSCONFIG]-}" ]; then
  o=${owners[$TP_ALLOY_SYSCONFIG]}
  if tp_sysconfig_unsafe "$TP_ALLOY_SYSCONFIG" "${o%%$'\n'*}" "${o#*$'\n'}" "${meta[$TP_ALLOY_SYSCONFIG]%% *}"; then record alloy-sysconfig-unsafe "$TP_REPLY"; fi
fi
hash=()
careful=()
for f in "${regular[@]}"; do
  m=${meta[$f]-}
  if [ -z "$m" ]; then record "file:$f" absent; continue; fi # gone since the test
  if [ "${m##* }" -gt "$TP_MAX_FILE_BYTES" ]; then record "file:$f" "toobig ${m##* }"; continue; fi
  if [ -n "${guarded[$f]-}" ]; then careful+=("$f"); else hash+=("$f"); fi
done
for f in "${careful[@]}"; do
  if tp_read_nofollow "$f"; then
    if [ "${#TP_REPLY}" -gt "$TP_MAX_FILE_BYTES" ]; then record "file:$f" "toobig ${#TP_REPLY}"; continue; fi
    record "file:$f" "regular ${meta[$f]} -"$'\n'"${owners[$f]}"
    record "content:$f" "$TP_REPLY"
  else
    record "file:$f" changed # a link put in its place since the test: dd refused it
  fi
done
# One sha256sum for every file. Its lines are "HASH  NAME"; a name with a backslash or a newline
# is escaped and the line starts with "\" (coreutils' rule), so names are matched escaped; a
# carriage return too from coreutils 9 (SLES 16), not before (SLES 15's 8.32): both are tried.
declare -A sum=()
if [ "${#hash[@]}" -gt 0 ]; then
  while IFS= read -r line; do
    if [[ $line == \\* ]]; then sum[${line:67}]=${line:1:64}; else sum[${line:66}]=${line:0:64}; fi
  done < <(sha256sum -- "${hash[@]}" 2>/dev/null)
fi
for f in "${hash[@]}"; do
  e=$f
  if [[ $f == *[\\$'\n'$'\r']* ]]; then e=${f//\\/\\\\}; e=${e//$'\n'/\\n}; fi
  s=${sum[$e]-}
  [ -n "$s" ] || [[ $e != *$'\r'* ]] || s=${sum[${e//$'\r'/\\r}]-}
  if [ -z "$s" ]; then
    # gone since the test, or there and unreadable to root (EIO, an NFS root squash, an LSM's
    # denial): the latter is no "absent" that a write would then cover. Not root, root-only files
    # are unreadable as expected: the host is refused for that, naming the user (run/facts.ts).
    if [ -e "$f" ] && [ "$EUID" = 0 ]; then record "file:$f" unreadable; else record "file:$f" absent; fi
    continue
  fi
  record "file:$f" "regular ${meta[$f]} $s"$'\n'"${owners[$f]}"
  if [ -n "${marked[$f]-}" ]; then
    # Whose program it is: the toolkit's carry its mark near the top (a package's does not).
    # Read builtin; the file lies in a folder only root writes to.
    top=
    IFS= read -r -N "$TP_MARK_WITHIN" top <"$f" || true
    if [[ $top == *"$TP_OWN_MARK"* ]]; then record "marked:$f" yes; else record "marked:$f" no; fi
  fi
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
