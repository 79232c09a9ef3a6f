# shellcheck shell=bash
# Fact source "alloy-config": where Alloy loads its configuration from, and where it serves HTTP
# (TP_ALLOY_HTTP, for the providers' probes after it), by the one reader of /etc/sysconfig/alloy
# (src/shell/safe-files.sh) that the apply uses too: one pass for CONFIG_FILE and CUSTOM_ARGS.
# Sets $cfgdir for files.sh.

# tp_copy_dir: sets copy to a new root-only folder for copies of Alloy's files, which hold
# trento.alloy's credentials. tp_copy_dir_done removes it; so does a signal that ends the script
# meanwhile (--remote-timeout's TERM to its process group, a Ctrl-C, a lost connection's HUP or
# PIPE), then raised again: SLES does not empty /tmp at boot. Named as the apply's scratch
# folders are (tp-scratch.PID.*): after a SIGKILL, the next apply removes it (tp_clean_scratch).
tp_copy_dir() {
  copy=$(umask 077 && mktemp -d --tmpdir "tp-scratch.$$.XXXXXXXX") || return
  local sig
  for sig in TERM INT HUP PIPE; do
    # shellcheck disable=SC2064 # $sig now, $copy when the signal comes
    trap "rm -rf -- \"\$copy\"; trap - $sig; kill -s $sig \$\$" "$sig"
  done
}
tp_copy_dir_done() {
  rm -rf -- "$copy"
  trap - TERM INT HUP PIPE
}
tp_sysconfig_text "$TP_ALLOY_SYSCONFIG"
tp_env_file_read "$TP_REPLY" CONFIG_FILE CUSTOM_ARGS
cfg=${TP_ENV[CONFIG_FILE]-}
tp_alloy_args_read
tp_config_dir_for "$cfg" "$TP_ALLOY_DEFAULT_DIR"
cfgdir=$TP_REPLY
record alloy-config-file "$cfg"
if [ -n "$cfg" ] && [ -d "$cfg" ]; then record alloy-config-is-dir yes; else record alloy-config-is-dir no; fi
# A single file whose name does not end in .alloy (a config.river kept from Grafana Agent Flow):
# Alloy loads it as CONFIG_FILE, but only the *.alloy files of a folder, so directory mode would
# drop it.
if [ -n "$cfg" ] && [ "${cfg%.alloy}" = "$cfg" ] && [ -f "$cfg" ]; then record alloy-config-file-not-alloy yes; fi
record alloy-config-dir "$cfgdir"
# Another spelling of Alloy's default folder (/etc/alloy/., a link to it): its trento.alloy is
# the one Alloy loads, never one left behind there.
if [ "$cfgdir" != "$TP_ALLOY_DEFAULT_DIR" ] && [ "$cfgdir" -ef "$TP_ALLOY_DEFAULT_DIR" ]; then record alloy-config-dir-is-default yes; fi
# Alloy on a single file: the other *.alloy files of its folder, which it does not load now and
# would load once in directory mode (an admin's draft, an old test): the switch names them.
if [ -n "$cfg" ] && [ -f "$cfg" ] && [ -d "$cfgdir" ]; then
  dormant=
  for f in "$cfgdir"/*.alloy; do
    if [ -f "$f" ] && [ "${f##*/}" != "$TP_TRENTO_ALLOY" ] && [ ! "$f" -ef "$cfg" ]; then dormant+=${f##*/}$'\n'; fi
  done
  [ -z "$dormant" ] || record alloy-dormant-files "$dormant"
fi
# A folder the apply would refuse to write into (tp_stage: a folder above it others can write
# to), said now, so that --check says it too. The package's own /etc/alloy is not looked at:
# one stat less on every host, and /etc above it is root's.
if [ "$cfgdir" != "$TP_ALLOY_DEFAULT_DIR" ] && [ -d "$cfgdir" ] && [ ! -L "$cfgdir" ] && tp_unsafe_above "$cfgdir"; then
  record alloy-config-dir-unsafe "$TP_REPLY"
fi
# The facts, the apply's validation and configure-alloy.sh read files in Alloy's folder, which its
# account can write to, without following a symbolic link; a hard link they cannot see. Only the
# kernel's fs.protected_hardlinks=1 keeps that account from hard-linking a root-only file there.
if [ -d "$cfgdir" ] && IFS= read -r hardlinks <"$TP_PROTECTED_HARDLINKS" 2>/dev/null && [ "$hardlinks" = 0 ]; then
  record alloy-hardlinks-unprotected yes
fi
# alloy_errors OUTPUT COPY DIR: TP_REPLY set to the "Error:" lines of alloy validate's OUTPUT
# (without the source lines it quotes), the folder COPY it read named as DIR, the folder the
# files really are in; at most 2,000 characters. Not a here-string: bash 4.4 (SLES 15) makes one
# a file in /tmp, with those lines in it.
alloy_errors() {
  local l errors=
  while IFS= read -r l; do
    [ "${l#Error: }" = "$l" ] || errors+=${l//"$2/"/"$3/"}$'\n'
  done < <(printf '%s\n' "$1")
  errors=${errors:-alloy validate failed without saying why}
  TP_REPLY=${errors:0:2000}
}
# Uninstall (TP_FOR_UNINSTALL): the files Alloy loads now that are not trento.alloy and not
# its package's own, unchanged (the package's sample config.alloy): the admin's pipelines, which
# would stop with Alloy. --purge keeps the toolkit's Alloy for them, and uninstall does not stop an
# Alloy it turned on. What Alloy loads is CONFIG_FILE: a folder's *.alloy files, or the one file.
# A link, or what cannot be read as the package's digest says, is the admin's. One rpm query and
# a read (tp_read_nofollow: Alloy's account writes the folder) and a sha256sum per file, only on
# an uninstall.
if [ "${TP_FOR_UNINSTALL:-0}" = 1 ] && [ -n "$cfg" ]; then
  loaded=()
  if [ -d "$cfg" ]; then
    for f in "$cfgdir"/*.alloy; do
      if [ -f "$f" ] && [ "${f##*/}" != "$TP_TRENTO_ALLOY" ]; then loaded+=("$f"); fi
    done
  elif [ -f "$cfg" ] && [ "${cfg##*/}" != "$TP_TRENTO_ALLOY" ]; then
    loaded=("$cfg")
  fi
  admin=
  if ((${#loaded[@]})); then
    # "8": the package's file digests are sha256 (rpm's PGPHASHALGO_SHA256), as sha256sum's
    { packaged=$(rpm -q --qf '%{FILEDIGESTALGO}\n[%{FILEDIGESTS} %{FILENAMES}\n]' "$TP_ALLOY_PACKAGE"); } 2>/dev/null || packaged=
    [ "${packaged%%$'\n'*}" = 8 ] || packaged=
    for f in "${loaded[@]}"; do
      if [ -n "$packaged" ] && tp_read_nofollow "$f" && [ "${#TP_REPLY}" -le "$TP_MAX_FILE_BYTES" ]; then
        sum=$(printf '%s' "$TP_REPLY" | sha256sum) sum=${sum%% *}
        # the package's digest of this very path (a line "DIGEST PATH")
        if [ -n "$sum" ] && [[ $'\n'$packaged$'\n' == *$'\n'"$sum $f"$'\n'* ]]; then continue; fi
      fi
      admin+=$f$'\n'
    done
  fi
  record alloy-admin-pipelines "$admin"
  # Would Alloy take its folder without trento.alloy? Not where a file of the admin's there uses
  # Trento's pipeline (forward_to = [prometheus.remote_write.trento.receiver]): the uninstall's
  # reload would be refused after the agent was stopped and its files removed. `alloy validate`
  # of copies of the folder's files (read without following a link, in a root-only folder of its
  # own), with Alloy's flags, with trento.alloy and then without: only where every file could be
  # copied as Alloy reads it (a link Alloy follows is not) and the folder with it passes is a
  # refusal without it trento.alloy's absence, never an admin file's own fault. Its "Error:"
  # lines, named as the files they are.
  if [ -d "$cfg" ] && [ -f "$cfgdir/$TP_TRENTO_ALLOY" ] && ((${#loaded[@]})) && alloy validate --help >/dev/null 2>&1 && tp_copy_dir; then
    whole=1
    for f in "${loaded[@]}" "$cfgdir/$TP_TRENTO_ALLOY"; do tp_copy_nofollow "$f" "$copy/${f##*/}" || whole=0; done
    if [ "$whole" = 1 ] && alloy validate "${TP_ALLOY_VALIDATE[@]}" "$copy" >/dev/null 2>&1 && rm -f -- "$copy/$TP_TRENTO_ALLOY" &&
      ! out=$(alloy validate "${TP_ALLOY_VALIDATE[@]}" "$copy" 2>&1); then
      alloy_errors "$out" "$copy" "$cfgdir"
      record alloy-without-trento-refused "$TP_REPLY"
    fi
    tp_copy_dir_done
  fi
fi
# Where the toolkit switched CONFIG_FILE to a folder (its saved line is there): the *.alloy files
# in the folder that the saved line's single-file mode would stop loading (all but trento.alloy
# and the file the line names; the package's config.alloy where it had no line). Uninstall keeps
# the folder while there are any. A glob and tests: no process, and only on such hosts.
saved_line=$TP_STATE_DIR/alloy-CONFIG_FILE.orig
if [ -f "$saved_line" ] && [ ! -L "$saved_line" ] && [ -d "$cfgdir" ]; then
  bounded "$saved_line"
  tp_config_file_in "$TP_REPLY"
  single=${TP_REPLY:-$TP_ALLOY_PACKAGE_CONFIG}
  # Alloy cannot start on a single file that is not there (SUSE's package ships no config.alloy):
  # uninstall then keeps directory mode rather than restart Alloy into a failure.
  [ -f "$single" ] || record alloy-single-file-missing "$single"
  dropped=
  for f in "$cfgdir"/*.alloy; do
    [ -f "$f" ] || continue # Alloy loads files (a folder, a dangling link, no match: skipped)
    [ "${f##*/}" != "$TP_TRENTO_ALLOY" ] || continue
    if [ "$f" = "$single" ] || [ "$f" -ef "$single" ]; then continue; fi
    dropped+=${f##*/}$'\n'
  done
  record alloy-dropped-by-single-file "$dropped"
  # Uninstall: would Alloy load that file alone? Where it would not (a config of the admin's that
  # uses Trento's component, one that needs another file of the folder), restoring the line would
  # restart Alloy into a failure and stop the admin's pipelines (for good, should the rollback's
  # restart fail too): uninstall keeps directory mode, in which Alloy runs now, and says why.
  # `alloy validate` of a copy read without following a link (root's, in a folder of its own),
  # with the flags Alloy runs with; its "Error:" lines only, without the source lines it quotes.
  if [ "${TP_FOR_UNINSTALL:-0}" = 1 ] && [ -f "$single" ] && alloy validate --help >/dev/null 2>&1 && tp_copy_dir; then
    if tp_copy_nofollow "$single" "$copy/${single##*/}" && ! out=$(alloy validate "${TP_ALLOY_VALIDATE[@]}" "$copy/${single##*/}" 2>&1); then
      record alloy-single-file "$single"
      alloy_errors "$out" "$copy" "${single%/*}"
      record alloy-single-file-refused "$TP_REPLY"
    fi
    tp_copy_dir_done
  fi
fi
