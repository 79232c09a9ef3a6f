# shellcheck shell=bash
# Fact source "updates": only asked for by agent_package_state: latest.
# agent_package_state: latest: what the repositories offer newer than installed, as
# "NAME AVAILABLE-VERSION" lines from zypper list-updates' table (name and available columns).
if [ "$TP_WANT_UPDATES" = 1 ] && have zypper; then
  record updates "$(ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive --quiet list-updates 2>/dev/null |
    awk -F'|' 'NF >= 6 { for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i); print $3, $5 }')"
fi
