# shellcheck shell=bash
# Fact source "updates": only asked for by agent_package_state: latest.
# agent_package_state: latest: what the repositories offer newer than installed, as
# "NAME AVAILABLE-VERSION" lines from zypper list-updates' table. The columns are found by the
# header's names (LC_ALL=C), not by place: zypper's releases add and move columns. The table lists
# what `zypper update` installs (zypper 1.14 leaves out a candidate that needs a vendor change or
# is locked; its "v" flag is shown on rows it does install): the apply still proves each upgrade
# took (tp_packages_upgrade). zypper's exit code is reported: a held lock or a failed read is no
# "nothing newer".
if [ "$TP_WANT_UPDATES" = 1 ] && have zypper; then
  list=$(ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive --quiet list-updates 2>&1)
  record updates-rc "$?"
  # "?" and the header when the table has no such columns (then nothing is known to be newer)
  # through a pipe, not a here-string (a temp file in /tmp on bash 4.4, which a full /tmp would
  # turn into "nothing newer")
  record updates "$(printf '%s\n' "$list" | awk -F'|' 'NF >= 3 && !/^[-+]+$/ {
    for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i)
    if (!header) {
      header = 1
      for (i = 1; i <= NF; i++) { if ($i == "Name") name = i; if ($i == "Available Version") avail = i }
      if (!name || !avail) { print "?", $0; exit }
      next
    }
    if ($name != "" && $avail != "") print $name, $avail
  }')"
  [ "${#list}" -le 2000 ] || list=${list: -2000}
  record updates-output "$list"
fi
