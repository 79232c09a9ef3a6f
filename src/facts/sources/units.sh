# shellcheck shell=bash
# Fact source "units": one systemctl show for every unit the toolkit knows.
# The redirection is outside the command substitution: bash 5.2 runs `$(CMD 2>/dev/null)` in a
# subshell that forks CMD, where `$(CMD)` alone execs it in the subshell (a process less).
if have systemctl; then
  { unit_states=$(systemctl show -p Id,ActiveState,UnitFileState "${TP_UNITS[@]}"); } 2>/dev/null
  record units "$unit_states"
fi
