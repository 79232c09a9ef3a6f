# shellcheck shell=bash
# Fact source "agent-candidate": uses $agent_installed (packages.sh) and $os_release (host.sh).
# What the repositories offer, only when trento-agent is missing (its version decides whether the
# agent can generate trento.alloy). zypper waits for a lock held by another package manager like
# the apply does; when it still fails, its exit code and message are reported, never dropped.
# Not on uninstall (TP_WANT_CANDIDATE=0), nor on a host whose os-release says a major version
# below TP_ALLOY_FROM_MAJOR (src/platform.ts: such a host gets node_exporter, and no trento.alloy):
# zypper there would only cost time (on a real SLES 15 host, loading SUSE's repositories, or
# refreshing them over the network), or fail the host on a held lock, for an answer nothing uses.
# The major is read as src/platform.ts reads it (the last VERSION_ID line, one pair of quotes and
# the blanks around the value dropped, the digits before the first dot); a value it cannot read
# as a number asks. "agent-candidate-skipped MAJOR" says zypper was not asked, and why.
# Read only where zypper would be asked: a converged host (trento-agent installed) reads nothing.
if [ "$TP_WANT_CANDIDATE" = 1 ] && have rpm && have zypper && [ -z "$agent_installed" ]; then
  os_major=
  # shellcheck disable=SC2154 # os_release: set by host.sh, which runs before this file
  tp_lines "$os_release" # not a here-string: see tp_lines
  for line in "${TP_LINES[@]}"; do
    if [[ $line =~ ^[[:space:]]*VERSION_ID=(.*)$ ]]; then
      os_major=
      [[ ${BASH_REMATCH[1]} =~ ^[[:space:]]*[\"\']?[[:space:]]*([0-9]{1,9})(\.|[\"\'[:space:]]|$) ]] && os_major=$((10#${BASH_REMATCH[1]}))
    fi
  done
  if [ -n "$os_major" ] && [ "$os_major" -lt "$TP_ALLOY_FROM_MAJOR" ]; then
    record agent-candidate-skipped "$os_major"
  else
    info=$(ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive --quiet info "$TP_AGENT_PACKAGE" 2>&1)
    rc=$?
    record agent-candidate-rc "$rc"
    # 104: not in any repository (the install step says so with what to check); 106: some
    # repositories could not be refreshed, the others answered
    if [ "$rc" = 0 ] || [ "$rc" = 104 ] || [ "$rc" = 106 ]; then
      version=
      tp_lines "$info"
      for line in "${TP_LINES[@]}"; do
        if [[ $line =~ ^Version\ *:\ *(.*)$ ]]; then version=${BASH_REMATCH[1]}; break; fi
      done
      record agent-candidate "$version"
    else
      [ "${#info}" -le 2000 ] || info=${info: -2000}
      record agent-candidate-error "$info"
    fi
  fi
fi
