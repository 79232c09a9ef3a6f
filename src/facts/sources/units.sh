# shellcheck shell=bash
# Fact source "units": one systemctl show for every unit the toolkit knows.
# The redirection is outside the command substitution: bash 5.2 runs `$(CMD 2>/dev/null)` in a
# subshell that forks CMD, where `$(CMD)` alone execs it in the subshell (a process less).
if have systemctl; then
  { unit_states=$(systemctl show -p Id,ActiveState,UnitFileState,NeedDaemonReload "${TP_UNITS[@]}"); } 2>/dev/null
  # systemd not answering (D-Bus down or timing out) prints nothing: not "every unit absent".
  # Why, from a second call (only then): "not been booted with systemd" is a system without it.
  units_rc=$?
  if [ "$units_rc" != 0 ]; then
    units_err=$(systemctl show -p Id -- "${TP_UNITS[0]}" 2>&1 >/dev/null)
    record units-failed "$units_rc ${units_err%%$'\n'*}"
  fi
  record units "$unit_states"
fi
