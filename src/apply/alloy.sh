# shellcheck shell=bash
# Alloy steps of the apply script (after lib.sh): directory mode, validation of the folder as
# Alloy will load it, and a reload or restart that is proven (or rolled back).

# A CONFIG_FILE line, as systemd finds the key (blanks around it): the same as tp_config_file_in
# (safe-files.sh) reads, and roles/alloy's dirModeText shows in the plan.
TP_CONFIG_FILE_ERE='^[[:blank:]]*CONFIG_FILE[[:blank:]]*='
# The start of an awk program given the file twice: the first pass finds the number of the last
# line matching ENVIRON["TP_KEY"] (`last`), the second edits that line alone.
# shellcheck disable=SC2016 # awk's program: its $0 is awk's, not the shell's
TP_LAST_KEY_LINE='FNR == NR { if ($0 ~ ENVIRON["TP_KEY"]) last = FNR; next }'

# tp_alloy_config_line SYSCONFIG: the CONFIG_FILE line as written (the last one wins).
tp_alloy_config_line() {
  grep -E "$TP_CONFIG_FILE_ERE" -- "$1" | tail -n 1
}

# tp_sysconfig_meta SYSCONFIG: "owner group mode" of a regular file; fails on anything else,
# so a link at the path never lends its (0777) mode or its target's content to the new file.
tp_sysconfig_meta() {
  if [ ! -e "$1" ] && [ ! -L "$1" ]; then
    echo "$1 does not exist: Alloy is not installed (with agent_install_monitoring_dep: false the toolkit leaves installing it to you); install the alloy package and run again" >&2
    return 1
  fi
  if [ -L "$1" ] || [ ! -f "$1" ]; then
    echo "$1 is not a regular file (a symbolic link or another kind of file); trento-provision will not edit it: make it a regular file and run again" >&2
    return 1
  fi
  stat -c '%U %G %a' -- "$1"
}

# tp_alloy_dir_mode SYSCONFIG SAVED OURS: point CONFIG_FILE at the folder Alloy loads from, as the
# facts found it (tp_config_dir_for: the file's folder, $TP_ALLOY_DEFAULT_DIR when it is empty),
# editing only that line, or adding it at the end when there is none (as Ansible's lineinfile
# does); the old line (empty: none) is kept in SAVED for uninstall, the new one in OURS (the
# restore puts SAVED back only over it). roles/alloy shows the same edit. A SAVED kept from an
# earlier switch (one whose undo did not finish, or was held back) is kept while the line is
# still the toolkit's, and replaced by the line the admin set since otherwise: uninstall puts
# back the admin's latest line, never an older one.
tp_alloy_dir_mode() {
  local line value meta new ours own=
  meta=$(tp_sysconfig_meta "$1") || return
  line=$(tp_alloy_config_line "$1")
  value=$(tp_alloy_config_file "$1")
  [ -n "$value" ] && [ -d "$value" ] && return 0
  if [ -f "$3" ] && [ ! -L "$3" ]; then IFS= read -r own <"$3"; fi
  if [ ! -e "$2" ] || { [ -n "$own" ] && [ "${line%$'\r'}" != "$own" ]; }; then
    tp_state_write "${2##*/}" "$line"$'\n' || return
  fi
  tp_config_dir_for "$value" "$TP_ALLOY_DEFAULT_DIR"
  ours="CONFIG_FILE=\"$(tp_env_quoted "$TP_REPLY/")\""
  if [ -n "$line" ]; then
    # A line that ended in CR LF keeps its CR (as the plan's text does). The new line through
    # the environment: awk -v would read the backslashes of a folder's name as escapes.
    # Only the last CONFIG_FILE line, the one systemd uses: the others stay as the admin wrote them.
    # `&& echo x`: a failed awk (or cat) fails the substitution, never writes a cut file.
    new=$(TP_LINE=$ours TP_KEY="$TP_CONFIG_FILE_ERE" \
      awk "$TP_LAST_KEY_LINE"' FNR == last { print ENVIRON["TP_LINE"] (/\r$/ ? "\r" : ""); next } { print }' "$1" "$1" && echo x) || return
    new=${new%x}
  else
    new=$(cat -- "$1" && echo x) || return
    new=${new%x}
    [ -z "$new" ] || [ "${new: -1}" = $'\n' ] || new+=$'\n'
    new+=$ours$'\n'
  fi
  # shellcheck disable=SC2086 # meta is "owner group mode", three words on purpose
  tp_write_text "$1" $meta "$new" && tp_state_write "${3##*/}" "$ours"$'\n'
}

# tp_alloy_restore_config_file SYSCONFIG SAVED OURS: put back the CONFIG_FILE line the toolkit
# replaced (over the last CONFIG_FILE line, the one it wrote), or remove the one it added (SAVED holds an empty line then), only where the line is
# still the one the toolkit wrote (OURS; a record from before OURS existed restores as it is): a
# CONFIG_FILE the admin set since stays, and both records go. After a restore the records stay
# until Alloy is proven on the restored line (the plan's retire step removes them): a restart
# that fails puts the toolkit's line back, and the next uninstall needs them to try again.
tp_alloy_restore_config_file() {
  local line meta new current
  [ -s "$2" ] && [ ! -L "$2" ] || return 0
  meta=$(tp_sysconfig_meta "$1") || return
  if [ -s "$3" ] && [ ! -L "$3" ]; then
    current=$(tp_alloy_config_line "$1")
    if [ "${current%$'\r'}" != "$(head -n 1 -- "$3")" ]; then
      tp_warn "CONFIG_FILE in $1 was changed since trento-provision set it: left as it is"
      rm -f -- "$2" "$3"
      return 0
    fi
  fi
  line=$(head -n 1 -- "$2")
  new=$(TP_LINE=$line TP_KEY="$TP_CONFIG_FILE_ERE" awk "$TP_LAST_KEY_LINE"' FNR == last { if (ENVIRON["TP_LINE"] != "") print ENVIRON["TP_LINE"]; next } { print }' "$1" "$1" && echo x) || return
  # shellcheck disable=SC2086 # meta is "owner group mode", three words on purpose
  tp_write_text "$1" $meta "${new%x}"
}

# tp_alloy_validate_dir DIR NAME: validate DIR/*.alloy with $TP_NEW in place of NAME, as Alloy
# will load them. Only regular files are copied, each read once without following a link
# (tp_copy_nofollow): a link in an account-writable folder, even one put there after the test,
# could point root's copy at a file (/etc/shadow) whose content would then show in the error.
tp_alloy_validate_dir() {
  local stage f
  if ! alloy validate --help >/dev/null 2>&1; then
    tp_warn "this Alloy has no 'alloy validate'; the new configuration is checked after the reload instead"
    return 0
  fi
  stage=$(mktemp -d -p "$TP_TMP") || return
  for f in "$1"/*.alloy; do
    [ "${f##*/}" != "$2" ] || continue
    if [ -L "$f" ]; then
      tp_warn "$f is a symbolic link; it was left out of the validation"
    elif [ -f "$f" ]; then
      tp_copy_nofollow "$f" "$stage/${f##*/}" || tp_warn "$f changed while it was read (a link put in its place?) or is too large; it was left out of the validation"
    fi
  done
  tp_alloy_args "$TP_ALLOY_SYSCONFIG"
  cp -- "$TP_NEW" "$stage/$2" || return
  local out rc=0
  out=$(alloy validate "${TP_ALLOY_VALIDATE[@]}" "$stage" 2>&1) || rc=$?
  # Alloy names the copies it read, gone once the run ends: named as the files they are.
  out=${out//"$stage/"/"$1/"}
  if [ "$rc" = 0 ]; then
    [ -z "$out" ] || printf '%s\n' "$out"
    return 0
  fi
  printf '%s\n' "$out" >&2
  echo "Alloy would refuse $1 with the new $2 in it (alloy validate, above, names the file and the line: one of the admin's there is loaded with it)" >&2
  return "$rc"
}

# tp_alloy_why_down SINCE: why Alloy did not come up from a (re)start at SINCE (seconds since
# the epoch): it says so in its journal only (a config it refuses, a port taken), so its lines
# since then, where journalctl can read them, and where to look.
tp_alloy_why_down() {
  if command -v journalctl >/dev/null 2>&1; then
    journalctl -u alloy.service --since "@$1" -n 20 --no-pager -o cat 2>/dev/null | tp_tail 2000 >&2
  fi
  echo "see journalctl -u alloy.service for why Alloy did not start" >&2
}

# tp_alloy_runs_trento present|absent: Alloy runs Trento's pipeline (present), or no longer does.
tp_alloy_runs_trento() {
  if [ "$1" = present ]; then tp_alloy_has prometheus.remote_write.trento; else tp_alloy_lacks prometheus.remote_write.trento; fi
}

# tp_alloy_restart: restart Alloy and wait until it is ready; else say why it is not.
tp_alloy_restart() {
  local since
  printf -v since '%(%s)T' -1
  { tp_unit_start restart alloy.service && tp_alloy_ready; } || {
    tp_alloy_why_down "$since"
    return 1
  }
}

# tp_alloy_apply reload|restart present|absent FILE...: apply Alloy's config, prove it, else put
# the FILEs back and make Alloy run its previous configuration again.
tp_alloy_apply() {
  local how=$1 expect=$2 ok=1 was_running=1
  shift 2
  tp_alloy_args "$TP_ALLOY_SYSCONFIG"
  # A stopped Alloy is not reloaded, and uninstall never starts one: it reads the files (the
  # restored configuration) when it starts.
  if ! systemctl is-active --quiet alloy.service; then
    was_running=0
    if [ "$how" = reload ]; then
      echo "alloy.service is not running: nothing to reload"
      return 0
    fi
    if [ "$expect" = absent ]; then
      echo "alloy.service is not running: it reads the restored configuration when it starts"
      return 0
    fi
  fi
  if [ "$how" = restart ]; then
    tp_alloy_restart || ok=0
  else
    tp_alloy_reload || ok=0
    # A reload reads the path Alloy was started with: a CONFIG_FILE changed since without a
    # restart (the admin's switch to the folder where trento.alloy is) takes a restart to load.
    if [ $ok = 1 ] && ! tp_alloy_runs_trento "$expect"; then
      tp_warn "Alloy reloaded, but the configuration it was started with, not CONFIG_FILE's ($TP_ALLOY_SYSCONFIG changed since Alloy started?): restarted it to load $TP_ALLOY_SYSCONFIG's"
      how=restart
      tp_alloy_restart || ok=0
    fi
  fi
  if [ $ok = 1 ] && [ "$expect" = present ] && ! tp_alloy_has prometheus.remote_write.trento; then
    echo "Alloy is running, but without prometheus.remote_write.trento: it did not load trento.alloy" >&2
    ok=0
  fi
  if [ $ok = 1 ] && [ "$expect" = absent ] && ! tp_alloy_lacks prometheus.remote_write.trento; then
    if [ "$TP_HTTP_CODE" = 200 ]; then
      echo "Alloy still runs Trento's pipeline after the $how" >&2
    else
      echo "Alloy did not say whether it still runs Trento's pipeline after the $how (its API answered ${TP_HTTP_CODE:-nothing} for prometheus.remote_write.trento, not 404)" >&2
    fi
    ok=0
  fi
  [ $ok = 1 ] && return 0
  for f in "$@"; do tp_restore "$f"; done
  # An Alloy that did not run before (the admin's, stopped; or one this run installed) is left
  # stopped, as it was: it reads the files put back when it is started.
  if [ $was_running = 0 ]; then
    # (its failed start cleared too: it was stopped, not failed)
    systemctl stop alloy.service
    systemctl reset-failed alloy.service 2>/dev/null
    echo "Alloy is stopped again, as it was before this run; the previous files are back" >&2
    return 1
  fi
  if [ "$how" = restart ]; then tp_unit_start restart alloy.service; else tp_http POST "$TP_ALLOY_HTTP/-/reload" >/dev/null; fi
  tp_alloy_ready && echo "Alloy is running its previous configuration again" >&2
  return 1
}
