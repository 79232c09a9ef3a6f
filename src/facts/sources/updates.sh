# shellcheck shell=bash
# Fact source "updates": only asked for by agent_package_state: latest.
# agent_package_state: latest: what the repositories offer newer than installed, as
# "NAME AVAILABLE-VERSION" lines from zypper list-updates' table (name and available columns).
# Rows of every status: one flagged "v" (a vendor change; the lab's packages, which carry no
# Vendor, are all flagged so) is still upgraded by `zypper update NAME`, the package named. zypper's
# exit code is reported: a held lock or a failed read is no "nothing newer".
if [ "$TP_WANT_UPDATES" = 1 ] && have zypper; then
  list=$(ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive --quiet list-updates 2>&1)
  record updates-rc "$?"
  record updates "$(awk -F'|' 'NF >= 6 { for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i); if ($1 != "S") print $3, $5 }' <<<"$list")"
  [ "${#list}" -le 2000 ] || list=${list: -2000}
  record updates-output "$list"
fi
