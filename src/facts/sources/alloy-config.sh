# shellcheck shell=bash
# Fact source "alloy-config": where Alloy loads its configuration from, by the one reader of the
# CONFIG_FILE line (src/shell/safe-files.sh) that the apply uses too. Sets $cfgdir for files.sh.
tp_read_config_file "$TP_ALLOY_SYSCONFIG"
cfg=$TP_REPLY
tp_config_dir_for "$cfg" "$TP_ALLOY_DEFAULT_DIR"
cfgdir=$TP_REPLY
record alloy-config-file "$cfg"
if [ -n "$cfg" ] && [ -d "$cfg" ]; then record alloy-config-is-dir yes; else record alloy-config-is-dir no; fi
record alloy-config-dir "$cfgdir"
# A folder the apply would refuse to write into (tp_stage: a folder above it others can write
# to), said now, so that --check says it too. The package's own /etc/alloy is not looked at:
# one stat less on every host, and /etc above it is root's.
if [ "$cfgdir" != "$TP_ALLOY_DEFAULT_DIR" ] && [ -d "$cfgdir" ] && [ ! -L "$cfgdir" ] && tp_unsafe_above "$cfgdir"; then
  record alloy-config-dir-unsafe "$TP_REPLY"
fi
