# shellcheck shell=bash
# Fact source "units": one systemctl show for every unit the toolkit knows.
if have systemctl; then
  record units "$(systemctl show -p Id,ActiveState,UnitFileState "${TP_UNITS[@]}" 2>/dev/null)"
fi
