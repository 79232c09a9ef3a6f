# shellcheck shell=bash
# Fact source "agent-candidate": uses $agent_installed (packages.sh).
# What the repositories offer, only when trento-agent is missing (its version decides whether the
# agent can generate trento.alloy). zypper waits for a lock held by another package manager like
# the apply does; when it still fails, its exit code and message are reported, never dropped.
# Not on uninstall (TP_WANT_CANDIDATE=0): zypper there would only cost time, or fail the host on a
# held lock for an answer nothing uses.
if [ "$TP_WANT_CANDIDATE" = 1 ] && have rpm && have zypper && [ -z "$agent_installed" ]; then
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
