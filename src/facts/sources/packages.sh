# shellcheck shell=bash
# Fact source "packages": one rpm call for every package the toolkit knows. Sets for the sources
# after it: $packages (rpm's lines), installed NAME (is NAME installed?) and $agent_installed.
packages=
if have rpm; then
  # one rpm call for every package: "NAME VERSION-RELEASE", or "package NAME is not installed";
  # stderr silenced outside the substitution, which then costs one process, not two (units.sh)
  { packages=$(rpm -q --qf "$TP_RPM_VERSIONS_FORMAT" "${TP_PACKAGES[@]}"); } 2>/dev/null
  record packages "$packages"
fi
installed() { [[ $'\n'$packages == *$'\n'"$1 "* ]]; }
agent_installed=
installed "$TP_AGENT_PACKAGE" && agent_installed=1
