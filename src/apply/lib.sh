# shellcheck shell=bash
# The library every apply script starts with (after src/shell/safe-files.sh, src/shell/probes.sh and a generated
# prelude that sets TP_ZYPP_LOCK_TIMEOUT, TP_ALLOY_HTTP, TP_NODE_EXPORTER_METRICS, TP_RUN_DIR,
# TP_STATE_DIR). It carries the rules that must hold on every host, so no step can skip them:
# - files are made complete (content, owner, mode), validated and synced in a root-only staging
#   folder, then renamed into place; the previous file is kept (hard link, in the staging
#   folder) until the run ends, so a rejected config can be put back;
# - staging folders are removed on every exit path;
# - zypper runs non-interactively and its exit codes are read as zypper documents them;
# - a dropped connection (SIGPIPE/SIGHUP) does not stop the script between two steps: it
#   finishes what it started, and the next run converges;
# - handlers a change notified are recorded on the host before they run, so a failed or
#   interrupted restart is retried by the next run.
export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022
trap '' PIPE HUP
exec 3>&1
TP_TMPS=()
TP_STAGES=()
TP_STAGE_DIR=
declare -A TP_PREV=()
TP_STEP=0
TP_GENERATION_AT_EXIT=
tp_cleanup() {
  local f
  for f in "${TP_TMPS[@]}"; do rm -rf -- "$f"; done
  tp_unstage
  [ -z "$TP_GENERATION_AT_EXIT" ] || tp_generation_bump
}
trap tp_cleanup EXIT
trap 'tp_cleanup; exit 143' TERM INT
# this run's scratch files, in a private folder (no name in /tmp that another user could predict);
# the name carries this script's PID, so a later run can tell one a killed run left behind
# (tp_clean_scratch): it may hold a copy of trento.alloy, made for Alloy's validation
TP_TMP=$(mktemp -d --tmpdir "tp-scratch.$$.XXXXXXXX") || exit 1
TP_TMPS+=("$TP_TMP")
TP_LOG=$TP_TMP/log
TP_BODY=$TP_TMP/body

tp_mark() { printf '@@tp %s\n' "$*" >&3; }
tp_b64() { printf '%s' "$1" | base64 -w0; }
tp_warn() { tp_mark "warn $TP_STEP x$(tp_b64 "$*")"; }

# tp_root_dir DIR: DIR exists as a real folder, root's, mode 0700 (created when missing).
# Checked once a run: only root could change it afterwards.
declare -A TP_ROOT_DIRS=()
tp_root_dir() {
  [ -z "${TP_ROOT_DIRS[$1]-}" ] || return 0
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
    echo "$1 is not a folder (a symbolic link or another kind of file); remove it and run again" >&2
    return 1
  fi
  tp_dirname "$1"
  { [ -d "$TP_REPLY" ] || mkdir -p -- "$TP_REPLY"; } && { [ -d "$1" ] || mkdir -m 0700 -- "$1"; } || return 1
  [ "$(stat -c '%u %a' -- "$1")" = "0 700" ] || { echo "$1 must belong to root with mode 0700; fix it (chown root: $1; chmod 0700 $1) and run again" >&2; return 1; }
  TP_ROOT_DIRS[$1]=1
}

# tp_lock: one run at a time per host. The lock file lives in a root-only folder and is opened
# without truncation, so no planted link can make root truncate another file.
tp_lock() {
  tp_root_dir "$TP_RUN_DIR" || exit 11
  if [ -L "$TP_RUN_DIR/lock" ]; then echo "$TP_RUN_DIR/lock is a symbolic link; remove it and run again" >&2; exit 11; fi
  exec 9<>"$TP_RUN_DIR/lock" || exit 11
  flock -n 9 || { echo "another trento-provision run is working on this host; run again when it has finished" >&2; exit 11; }
}

# tp_generation_check BASED_ON: under the lock, the host's apply generation (TP_GENERATION, in the
# lock's root-only folder) must still be the one this run's facts saw (BASED_ON, '' for none):
# otherwise another run applied since (or while) they were read, and this plan, made from what the
# host was then, would redo or undo its work and report changes it did not make. Nothing is
# changed: exit 12, and the next run plans from what the host is. A new generation is written now
# ("running.", until this script ends) and again when it ends, so facts read before it or while it
# runs never pass; one still "running." was left by an apply killed outright (SIGKILL, power
# loss), which facts read while it ran would match: refused once, with a fresh word for the next.
tp_generation_check() {
  local now
  tp_generation_read
  now=$TP_REPLY
  if [ "$now" != "$1" ]; then
    echo "another trento-provision run applied changes to this host after this run read its facts: nothing was changed, as this run's plan was made from what the host was before; run again" >&2
    exit 12
  fi
  if [ "${now#running.}" != "$now" ]; then
    tp_generation_bump
    echo "an earlier trento-provision run was killed while it applied changes to this host, so this run's facts may show them half made: nothing was changed; run again" >&2
    exit 12
  fi
  tp_generation_bump running. || {
    echo "cannot write $TP_GENERATION (is /run full or read-only?): nothing was changed" >&2
    exit 12
  }
  TP_GENERATION_AT_EXIT=1
}
# tp_generation_bump [PREFIX]: a new word (time, PID, random) in TP_GENERATION, written whole (rename).
tp_generation_bump() {
  local t
  printf -v t '%(%s)T' -1
  printf '%s%s.%s.%s\n' "${1-}" "$t" "$BASHPID" "$RANDOM$RANDOM" >"$TP_GENERATION.new" && mv -f -- "$TP_GENERATION.new" "$TP_GENERATION"
}

# tp_clean_leftovers DIR...: under the lock, remove what a killed run (SIGKILL, power loss)
# left: staging folders, and the temp files and backups older versions made beside targets.
tp_clean_leftovers() { tp_clean_listed tp_leftovers_in "$@"; }
# tp_clean_agent_leftovers DIR...: uninstall, once the agent is stopped: remove the staging
# folders a killed start of configure-alloy.sh left in each DIR (tp_agent_leftovers_in).
tp_clean_agent_leftovers() { tp_clean_listed tp_agent_leftovers_in "$@"; }
# tp_clean_listed LISTER DIR...: remove what LISTER names in each DIR (a folder, not a link).
tp_clean_listed() {
  local list=$1 d
  shift
  for d in "$@"; do
    if [ -L "$d" ] || [ ! -d "$d" ]; then continue; fi
    "$list" "$d"
    rm -rf -- "${TP_LEFTOVERS[@]}"
  done
}

# tp_clean_scratch: under the lock, remove the scratch folders (TP_TMP) of runs that are gone
# (SIGKILL, a power loss; every other exit removes its own): root's folders named by a PID that
# no process has. One of another account, or a link, is left alone; in the sticky /tmp nobody
# else can rename or replace a folder of root's between the check and the removal.
tp_clean_scratch() {
  local d pid
  for d in "${TMPDIR:-/tmp}"/tp-scratch.*; do
    if [ "$d" = "$TP_TMP" ] || [ -L "$d" ] || [ ! -d "$d" ]; then continue; fi
    pid=${d##*/tp-scratch.} pid=${pid%%.*}
    if [[ ! $pid =~ ^[0-9]+$ ]] || kill -0 "$pid" 2>/dev/null; then continue; fi
    if [ "$(stat -c %u -- "$d")" = 0 ]; then rm -rf -- "$d"; fi
  done
  return 0
}

# tp_tail BYTES [FILE]: the end of FILE (or stdin), at most BYTES of it, from the start of a
# line: a line cut in two could begin with the end of a secret, which the controller's masking
# (whole values) cannot recognise. A last line longer than BYTES gives nothing.
tp_tail() {
  local text
  # NUL bytes (which bash drops) become blanks, so the count below is the bytes read.
  text=$(tail -c "$(($1 + 1))" ${2:+"$2"} | tr '\0' ' '; printf x)
  text=${text%x}
  if [ "${#text}" -gt "$1" ]; then
    case $text in
      *$'\n'*) text=${text#*$'\n'} ;;
      *) text= ;;
    esac
  fi
  printf '%s' "$text"
}

# tp_head BYTES FILE: the start of FILE, at most BYTES of it, to the end of a line, then "[...]"
# when more followed: a line cut in two could end with the start of a secret (Alloy quotes the
# line of its config an error is on). A first line longer than BYTES gives "[...]" alone.
tp_head() {
  local text
  text=$(head -c "$(($1 + 2))" -- "$2" | tr '\0' ' '; printf x)
  text=${text%x}
  # BYTES and the final newline after them: nothing was left out
  if [ "${#text}" -eq $(($1 + 1)) ] && [ "${text:$1:1}" = $'\n' ]; then
    :
  elif [ "${#text}" -gt "$1" ]; then
    if [ "${text:$1:1}" = $'\n' ]; then
      # the byte after the window ends a line: the window is whole lines
      text=${text:0:$1}$'\n'
    else
      text=${text:0:$1}
      case $text in
        *$'\n'*) text=${text%$'\n'*}$'\n' ;;
        *) text= ;;
      esac
    fi
    text+='[...]'
  fi
  printf '%s' "$text"
}

tp_run() { # STEP FUNCTION: run one step, its output kept for the report if it fails (at -v, always)
  TP_STEP=$1
  tp_mark "begin $1"
  "$2" >"$TP_LOG" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then
    tp_mark "failed $1 $rc x$(tp_tail 4000 "$TP_LOG" | base64 -w0)"
  elif [ "$TP_STEP_OUTPUT" = 1 ] && [ -s "$TP_LOG" ]; then
    tp_mark "ok $1 x$(tp_tail 4000 "$TP_LOG" | base64 -w0)"
  else
    tp_mark "ok $1"
  fi
  return $rc
}

# tp_write PATH OWNER GROUP MODE BASE64 [VALIDATE_FUNCTION]: PATH becomes exactly this file.
# Made in a staging folder nobody else can touch (content, owner, mode, validation, sync),
# then renamed over PATH: a link at PATH is replaced, never followed.
tp_write() { tp_place "$1" "$2" "$3" "$4" base64 "$5" "${6:-}"; }
# tp_write_text PATH OWNER GROUP MODE TEXT [VALIDATE_FUNCTION]: the same for a text the script
# made itself (written by printf: no process to decode it).
tp_write_text() { tp_place "$1" "$2" "$3" "$4" text "$5" "${6:-}"; }
# tp_place PATH OWNER GROUP MODE base64|text DATA VALIDATE_FUNCTION|"": what both do. A file is
# created with its mode already when the mode has no execute or special bit (the umask makes
# it), so it is never readable by more than its mode allows; other modes are set by chmod.
# Every write of every run comes through here, so it starts as few processes as the rules
# allow: the decoder (base64 only), chown, sync, a hard link to the old file, mv.
# Under SELinux the file gets the label of the one it replaces, else its path's default
# (tp_selinux_like / tp_selinux_default, src/shell/safe-files.sh); a label that cannot be set is
# a warning: the file is in place as before, with the staging folder's label.
TP_WRITES=0

# tp_make_folders DIR: makes DIR and the folders missing above it, only where the nearest folder
# that exists is root's alone, and so is every folder above it (tp_folders_judged): there no other
# account can have planted a link on the way, which mkdir -p would follow, making root's folder
# wherever it leads (a CONFIG_FILE two levels below the 0770 /etc/alloy, with a link at the first).
tp_make_folders() {
  local top=$1
  while [ ! -e "$top" ] && [ ! -L "$top" ]; do
    tp_dirname "$top"
    top=$TP_REPLY
  done
  if [ -L "$top" ] || [ ! -d "$top" ]; then
    echo "cannot make the folder $1: $top on the way is not a folder" >&2
    return 1
  fi
  if ! tp_folders_judged "$top"; then
    echo "cannot make the folder $1: $TP_REPLY" >&2
    return 1
  fi
  if [ "$TP_TRUSTED" != "$top" ]; then
    echo "cannot make the folder $1: $top, where it would be made, can be written by another account than root (which could put a link on the way); make the folder yourself, or use one outside $top" >&2
    return 1
  fi
  mkdir -p -- "$1"
}

tp_place() {
  local path=$1 tmp rc mask=077 by_umask=0 dir
  tp_dirname "$path"
  dir=$TP_REPLY
  if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then tp_make_folders "$dir" || return; fi
  # The file's own folder ($dir: tp_make_folders leaves TP_REPLY at the top of the folders it
  # judged, "/" for a drop-in's new .service.d, which put the staging folder in / and off the
  # file's filesystem where that differs)
  tp_stage_on_mount "$dir" || return
  TP_WRITES=$((TP_WRITES + 1))
  tmp="$TP_STAGE_DIR/new.$TP_WRITES"
  if (( (8#$4 & 8#7111) == 0 )); then by_umask=1; printf -v mask '%03o' $(( 8#777 ^ 8#$4 )); fi
  umask "$mask"
  # A pipe, not a here-string: bash 4.4 (SLES 15) makes a here-string a temp file in /tmp, which
  # would put the file's content (agent.yaml: the API key) on disk outside the staging folder.
  if [ "$5" = base64 ]; then printf '%s' "$6" | base64 -d >"$tmp"; else printf '%s' "$6" >"$tmp"; fi
  rc=$?
  umask 022
  [ $rc = 0 ] || { echo "cannot write $path (disk full or read-only?); the old file is unchanged" >&2; return 1; }
  chown -- "$2:$3" "$tmp" || return
  [ $by_umask = 1 ] || chmod -- "$4" "$tmp" || return
  if [ -n "$7" ]; then
    TP_NEW=$tmp "$7" || { echo "the new $path failed validation; the old file is unchanged" >&2; return 1; }
  fi
  # fsync's result counts: on btrfs an ENOSPC or EIO may first show here, and a rename after it
  # could leave an empty file after a crash.
  sync -- "$tmp" || { echo "cannot write $path to disk (fsync failed: disk full or an I/O error?); the old file is unchanged" >&2; return 1; }
  local labelled=0
  if tp_selinux_on && [ -f "$path" ] && [ ! -L "$path" ]; then
    if tp_selinux_like "$path" "$tmp"; then labelled=1; else tp_warn "could not give the new $path the SELinux label of the old one: $TP_REPLY"; fi
  fi
  if [ -e "$path" ] || [ -L "$path" ]; then
    tp_keep_previous "$path" || return
  else
    TP_PREV[$path]=
  fi
  mv -f -T -- "$tmp" "$path" || return
  # The toolkit's records are written before what they record (a package zypper installs next):
  # their rename must be on disk first too, which the file's fsync does not make it (btrfs, SLES's
  # root, commits a rename with its next transaction, up to 30 s later).
  if [[ $path == "$TP_STATE_DIR"/* ]]; then
    sync -- "$dir" || tp_warn "could not flush $dir to disk (fsync failed); a power loss now could lose $path's update"
  fi
  if tp_selinux_on && [ $labelled = 0 ]; then
    tp_selinux_default "$path" || tp_warn "could not give $path its SELinux default label (restorecon): $TP_REPLY"
  fi
  return 0
}

# tp_keep_previous PATH: a hard link to PATH in its folder's staging area (TP_STAGE_DIR, write
# number TP_WRITES), for tp_restore.
tp_keep_previous() {
  local prev="$TP_STAGE_DIR/prev.$TP_WRITES"
  ln -P -- "$1" "$prev" || return
  TP_PREV[$1]=$prev
}

# tp_mount_id DIR: sets TP_REPLY to the id of the mount DIR is on (the kernel's mnt_id of an open
# file, in /proc/self/fdinfo: builtins alone), '' where it cannot be read.
tp_mount_id() {
  local fd line
  TP_REPLY=
  { exec {fd}<"$1"; } 2>/dev/null || return 0
  while IFS= read -r line; do
    case $line in mnt_id:*)
      TP_REPLY=${line#mnt_id:}
      TP_REPLY=${TP_REPLY//[[:space:]]/}
      break
      ;;
    esac
  done 2>/dev/null <"/proc/self/fdinfo/$fd"
  exec {fd}<&-
  return 0
}

# tp_stage_on_mount DIR: tp_stage, its staging folder on DIR's own mount. The same device is not
# the same mount: a bind mount (of /etc/alloy, say) has its parent's device, and the hard link and
# the rename across it fail (EXDEV) on every run; said, naming the folder, before anything is written.
tp_stage_on_mount() {
  tp_stage "$1" || return
  local here
  tp_mount_id "$1"
  here=$TP_REPLY
  tp_mount_id "$TP_STAGE_DIR"
  if [ -z "$here" ] || [ -z "$TP_REPLY" ] || [ "$here" = "$TP_REPLY" ]; then return 0; fi
  echo "$1 is a mount of its own (a bind mount?) without a folder only root writes to: trento-provision prepares each file in such a folder on the file's own mount and renames it into place, and the nearest one, ${TP_STAGE_DIR%/*}, is outside that mount; nothing was written in $1: unmount it and keep its files on the filesystem above, or mount it where a folder of root's alone is on the same mount" >&2
  return 1
}

# tp_remove PATH: remove PATH so that tp_restore can put it back in this run (a hard link to it
# kept in the folder's staging area, as tp_place keeps the file it replaces).
tp_remove() {
  [ -e "$1" ] || [ -L "$1" ] || return 0
  tp_dirname "$1"
  tp_stage_on_mount "$TP_REPLY" || return
  TP_WRITES=$((TP_WRITES + 1))
  tp_keep_previous "$1" && rm -f -- "$1"
}

# tp_restore PATH: put back what tp_write replaced in this run (the previous file, or nothing).
tp_restore() {
  [ -n "${TP_PREV[$1]+set}" ] || return 0
  if [ -n "${TP_PREV[$1]}" ]; then mv -f -T -- "${TP_PREV[$1]}" "$1"; else rm -f -- "$1"; fi
  echo "restored the previous $1" >&2
}

# tp_state_write NAME TEXT: a file of the toolkit's own record under TP_STATE_DIR (root, 0600).
tp_state_write() {
  tp_root_dir "$TP_STATE_DIR" || return
  tp_write_text "$TP_STATE_DIR/$1" root root 0600 "$2"
}
# tp_state_tidy: the record folder goes once it holds only empty records (after an uninstall with
# --purge, or where the toolkit installed nothing): no trace of the toolkit is left on the host,
# and the next record written makes the folder again. Builtins until there is something to remove.
tp_state_tidy() {
  local f empty=()
  [ -d "$TP_STATE_DIR" ] && [ ! -L "$TP_STATE_DIR" ] || return 0
  for f in "$TP_STATE_DIR"/* "$TP_STATE_DIR"/.[!.]* "$TP_STATE_DIR"/..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue # no match: the pattern itself
    [ -f "$f" ] && [ ! -L "$f" ] && [ ! -s "$f" ] || return 0
    empty+=("$f")
  done
  rm -f -- "${empty[@]}" && rmdir -- "$TP_STATE_DIR"
}
tp_state_read() { # NAME: sets TP_REPLY to the record's text, empty when there is none
  TP_REPLY=
  [ -f "$TP_STATE_DIR/$1" ] && [ ! -L "$TP_STATE_DIR/$1" ] || return 0
  IFS= read -r -d '' TP_REPLY <"$TP_STATE_DIR/$1"
  return 0
}
# tp_record_edit NAME add|remove ITEM...: the record NAME, a set of lines (sorted as sort -u
# sorts them in the C locale, no empty line), with the ITEMs added or removed. Builtins only.
tp_record_edit() {
  local name=$1 how=$2 line item s pos dup text=
  local -a lines=() sorted=()
  local -A drop=()
  shift 2
  if [ "$how" = remove ]; then
    for item in "$@"; do [ -z "$item" ] || drop[$item]=1; done
  fi
  tp_state_read "$name"
  tp_lines "$TP_REPLY"
  lines=("${TP_LINES[@]}")
  [ "$how" = add ] && lines+=("$@")
  for item in "${lines[@]}"; do
    [ -n "$item" ] || continue
    [ -z "${drop[$item]-}" ] || continue
    pos=0 dup=0
    for s in "${sorted[@]}"; do
      if [ "$s" = "$item" ]; then dup=1; break; fi
      [[ $s < $item ]] || break
      pos=$((pos + 1))
    done
    [ $dup = 0 ] && sorted=("${sorted[@]:0:pos}" "$item" "${sorted[@]:pos}")
  done
  [ ${#sorted[@]} -eq 0 ] || printf -v text '%s\n' "${sorted[@]}"
  tp_state_write "$name" "$text"
}

# The packages this toolkit installed on the host, one name a line: uninstall removes those and
# nothing else (never a package the admin had, never a dependency by --clean-deps).
tp_packages_record_add() { tp_record_edit packages add "$@"; } # NAME...
tp_packages_record_remove() { tp_record_edit packages remove "$@"; } # NAME...

# tp_packages_remove NAME...: removes the toolkit's packages, but none that an installed package
# outside them needs: zypper would remove that one too (an admin's supportutils-plugin-ha-sap
# with supportutils). rpm's dependency test of the whole set names what breaks ("CAP is needed
# by (installed) NEVRA"); the packages of the set that provide CAP are kept, with a warning, and
# leave the record (the host's other packages now need them, so a later uninstall has nothing
# to do there: it converges), and the rest is tested again.
tp_packages_remove() {
  local -a set=("$@") kept=()
  local out line cap p provider tries=0
  while [ ${#set[@]} -gt 0 ] && ! out=$(LC_ALL=C rpm -e --test -- "${set[@]}" 2>&1); do
    tries=$((tries + 1))
    local -A keep=()
    tp_lines "$out"
    for line in "${TP_LINES[@]}"; do
      [[ $line =~ ^[[:space:]]*(.+)\ is\ needed\ by\ \(installed\)\ (.+)$ ]] || continue
      cap=${BASH_REMATCH[1]%% *}
      while IFS= read -r provider; do
        for p in "${set[@]}"; do [ "$p" = "$provider" ] && keep[$p]="${keep[$p]:+${keep[$p]}, }${BASH_REMATCH[2]}"; done
      done < <(rpm -q --whatprovides --qf '%{NAME}\n' -- "$cap" 2>/dev/null)
    done
    if [ ${#keep[@]} -eq 0 ] || [ $tries -gt ${#@} ]; then
      echo "rpm refuses to remove ${set[*]}: $out" >&2
      return 1
    fi
    local -a rest=()
    for p in "${set[@]}"; do
      if [ -n "${keep[$p]-}" ]; then
        kept+=("$p")
        tp_warn "package $p kept: ${keep[$p]} needs it (zypper would remove that with it); it is no longer counted as installed by trento-provision, remove it yourself once nothing needs it"
      else
        rest+=("$p")
      fi
    done
    set=("${rest[@]}")
  done
  [ ${#kept[@]} -eq 0 ] || tp_packages_record_remove "${kept[@]}" || return
  # --no-clean-deps: zypper otherwise takes solver.cleandepsOnRemove from /etc/zypp/zypp.conf,
  # which some sites set, and would remove the dependencies no other package needs now (an
  # admin's supportutils, installed as a dependency long ago) with the toolkit's packages.
  [ ${#set[@]} -eq 0 ] || { tp_zypper remove --no-clean-deps -- "${set[@]}" && tp_packages_record_remove "${set[@]}"; }
}

# Handlers notified by a change are recorded before they run and removed once they succeeded:
# a restart that failed, or never ran because the run was cut, is retried by the next run.
tp_handlers_pending_add() { tp_record_edit pending-handlers add "$@"; } # NAME...
tp_handler_done() { tp_record_edit pending-handlers remove "$@"; } # NAME...: the handler succeeded (and what it stands in for)

# tp_unit_start start|restart UNIT: systemctl's start or restart of UNIT. One systemd refuses for
# its start limit (StartLimitBurst= starts within StartLimitIntervalSec=, 5 in 10 s by default:
# runs in quick succession, a unit that crash-looped before the run) is made once more after
# that interval, when it is at most 30 s: systemd allows starts again then. The limit itself is
# never reset (reset-failed), so a unit that keeps failing still stops being started.
tp_unit_start() {
  local verb=$1 unit=$2 out pause
  out=$(systemctl "$verb" "$unit" 2>&1) && return 0
  if [ "$(systemctl show -p Result --value "$unit" 2>/dev/null)" = start-limit-hit ] &&
    pause=$(tp_timespan_seconds "$(systemctl show -p StartLimitIntervalUSec --value "$unit" 2>/dev/null)") && [ "$pause" -le 30 ]; then
    echo "systemd refused to $verb $unit for its start limit (started too often within StartLimitIntervalSec=): trying again in ${pause}s, once that interval has passed" >&2
    sleep "$pause"
    systemctl "$verb" "$unit"
    return
  fi
  printf '%s\n' "$out" >&2
  return 1
}

# tp_timespan_seconds TEXT: systemd's time span ("10s", "1min 30s", "500ms") in whole seconds,
# rounded up; fails for "infinity" or what it cannot read.
tp_timespan_seconds() {
  local word n unit total=0 part=0
  [ -n "$1" ] || return 1
  for word in $1; do
    n=${word%%[!0-9.]*} unit=${word#"$n"}
    [ -n "$n" ] || return 1
    [[ $n == *.* ]] && part=1 && n=${n%%.*}
    n=$((10#${n:-0}))
    case $unit in
      d) total=$((total + n * 86400)) ;;
      h) total=$((total + n * 3600)) ;;
      min) total=$((total + n * 60)) ;;
      s | '') total=$((total + n)) ;;
      ms | us) ((n > 0)) && part=1 ;;
      *) return 1 ;;
    esac
  done
  echo $((total + part))
}

# A stopped unit that a restart handler of this run restarts anyway is started by that handler,
# once (src/plan/plan.ts). tp_defer_start records it; the handler, as it begins, takes it back
# (tp_deferred_taken). A step that fails before that handler ran must not leave the unit stopped
# where its change used to start it (the agent, when Alloy's restart failed): tp_fail_exit,
# every step's failure path, starts what is still deferred, then ends the script.
TP_DEFERRED=()
tp_defer_start() { TP_DEFERRED+=("$@"); } # UNIT...
tp_deferred_taken() { # UNIT: its handler runs now
  local u kept=()
  for u in "${TP_DEFERRED[@]}"; do [ "$u" = "$1" ] || kept+=("$u"); done
  TP_DEFERRED=("${kept[@]}")
}
tp_fail_exit() {
  local u
  for u in "${TP_DEFERRED[@]}"; do
    if tp_unit_start start "$u" >/dev/null 2>&1; then
      tp_warn "started $u, whose start was left to a restart that this failure kept from running"
    else
      tp_warn "could not start $u either (its start was left to a restart that this failure kept from running); see journalctl -u $u"
    fi
  done
  exit 10
}

tp_zypper() { # zypper's exit codes, read as zypper documents them
  ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive "$@"
  tp_zypper_status $?
}
tp_zypper_status() { # RC: zypper's exit code -> a warning, a clear error, or success
  case $1 in
    0|100|101|103) return 0 ;;
    102) tp_warn "zypper: the host needs a reboot to complete the installation (exit 102)"; return 0 ;;
    106) tp_warn "zypper: some repositories could not be refreshed and were skipped (exit 106)"; return 0 ;;
    107) tp_warn "zypper: an RPM scriptlet failed (exit 107); check the packages' scripts"; return 0 ;;
    104) echo "zypper: package not found in any enabled repository (exit 104); check the repositories (zypper repos) and the registration (SUSEConnect --status)" >&2; return 104 ;;
    7) echo "zypper: another process held the package lock for ${TP_ZYPP_LOCK_TIMEOUT}s (exit 7); retry when it has finished" >&2; return 7 ;;
    *) echo "zypper failed (exit $1)" >&2; return "$1" ;;
  esac
}
# tp_zypper_refresh: fresh metadata before an install (supportutils_update_cache). A repository
# that cannot be refreshed (4), or none enabled (6), is a warning, not the host's failure: the
# install that follows reports what that leaves missing (104, naming each package) or skips (106).
tp_zypper_refresh() {
  local rc
  ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive refresh
  rc=$?
  case $rc in
    0|7) tp_zypper_status "$rc" ;;
    *) tp_warn "zypper refresh failed (exit $rc): a repository could not be refreshed, or none is enabled (zypper repos); installing with the metadata zypper has"; return 0 ;;
  esac
}

# tp_rpm_installed NAME...: the names of those installed, one a line; one rpm for all (it prints
# "package N is not installed" for the others, which match no name).
tp_rpm_installed() { rpm -q --qf '%{NAME}\n' -- "$@" 2>/dev/null; }

# tp_packages_install NAME HINT [NAME HINT]...: one zypper call for the packages still missing.
# rpm is asked again first: one installed since the facts were read (by the admin, meanwhile; a
# late wave of a long rollout) is not the toolkit's, so it is neither installed nor recorded. The
# rest are recorded before zypper runs, and those it did not install leave the record after it
# (also on a failure: zypper may install the others when one is missing): a script killed while
# zypper installs (the host's timeout, a reboot) leaves each package it got recorded as the
# toolkit's, so an uninstall removes it; the next run forgets the ones that are not there (the
# plan's prune). When zypper found no package of that name (104), each package no enabled
# repository has is named with the hint the plan gives for it (what the admin can do: a channel,
# a switch).
tp_packages_install() {
  local names=() hints=() missing=() i rc line
  local -A had=() installed=()
  while [ $# -ge 2 ]; do
    names+=("$1") hints+=("$2")
    shift 2
  done
  while IFS= read -r line; do [ -z "$line" ] || had[$line]=1; done < <(tp_rpm_installed "${names[@]}")
  local meanwhile=()
  for i in "${!names[@]}"; do
    [ -z "${had[${names[$i]}]-}" ] && continue
    tp_warn "package ${names[$i]} was installed meanwhile (not by trento-provision): left as it is, not counted as the toolkit's"
    meanwhile+=("${names[$i]}")
    unset 'names[i]' 'hints[i]'
  done
  # The step's summary names every package the plan wanted: it says which this run did not install.
  if [ ${#meanwhile[@]} -gt 0 ]; then
    local list
    printf -v list '%s, ' "${meanwhile[@]}"
    tp_mark "note $TP_STEP x$(tp_b64 "${list%, } found installed meanwhile, not installed by this run")"
  fi
  [ ${#names[@]} -gt 0 ] || return 0
  tp_packages_record_add "${names[@]}" || return
  # --no-recommends, as the official playbook's zypper tasks (Ansible's disable_recommends): what
  # the plan shows is what is installed (trento-agent recommends node_exporter, which a host that
  # set agent_install_monitoring_dep: false or runs in push mode must not get unannounced).
  tp_zypper install --auto-agree-with-licenses --no-recommends -- "${names[@]}"
  rc=$?
  while IFS= read -r line; do [ -z "$line" ] || installed[$line]=1; done < <(tp_rpm_installed "${names[@]}")
  for i in "${!names[@]}"; do [ -n "${installed[${names[$i]}]-}" ] || missing+=("${names[$i]}"); done
  if [ ${#missing[@]} -gt 0 ]; then tp_packages_record_remove "${missing[@]}" || return; fi
  if [ "$rc" = 104 ]; then
    for i in "${!names[@]}"; do
      [ -z "${installed[${names[$i]}]-}" ] || continue
      ZYPP_LOCK_TIMEOUT=$TP_ZYPP_LOCK_TIMEOUT zypper --non-interactive --quiet search --match-exact --type package -- "${names[$i]}" >/dev/null 2>&1
      [ $? = 104 ] && echo "package ${names[$i]} is in no enabled repository: ${hints[$i]}" >&2
    done
  fi
  return "$rc"
}

# tp_packages_upgrade NAME VERSION [NAME VERSION]...: one zypper update for the packages, each
# installed at VERSION when the facts were read; then proves each one's version changed. zypper
# says "Nothing to do" and exits 0 where it will not take a candidate (a vendor change, a lock):
# counted as done, the run would plan the same upgrade and restart the service on every run.
tp_packages_upgrade() {
  local names=() stayed=() line list
  local -A before=() now=()
  while [ $# -ge 2 ]; do
    names+=("$1") before[$1]=$2
    shift 2
  done
  tp_zypper update --auto-agree-with-licenses --no-recommends -- "${names[@]}" || return
  while IFS=' ' read -r line; do now[${line%% *}]=${line#* }; done < <(rpm -q --qf "$TP_RPM_VERSIONS_FORMAT" -- "${names[@]}" 2>/dev/null)
  for line in "${names[@]}"; do [ "${now[$line]-}" != "${before[$line]}" ] || stayed+=("$line ${before[$line]}"); done
  [ ${#stayed[@]} -eq 0 ] && return 0
  printf -v list '%s, ' "${stayed[@]}"
  echo "zypper update left ${list%, } as it was (zypper does not take a candidate that changes the package's vendor or that a lock holds: see zypper list-updates --all and zypper locks); install it with zypper install NAME-VERSION, or set agent_package_state: present" >&2
  return 1
}

# tp_http METHOD URL: prints the HTTP status, body (or curl's error) in $TP_BODY. Alloy on this
# host, straight: no ~/.curlrc (-q, first) and no proxy (http_proxy from /etc/environment, a
# corporate landscape's), which would answer for Alloy (a 502 rolling back a good file, a 200
# faking a reload); the facts' probes (bash's /dev/tcp) never take one either.
tp_http() {
  local code
  code=$(curl -q -sS --noproxy '*' -m 20 -X "$1" -o "$TP_BODY" -w '%{http_code}' "$2" 2>"$TP_TMP/curl") || cat -- "$TP_TMP/curl" >>"$TP_BODY"
  printf '%s' "$code"
}
# tp_alloy_ready: Alloy up and serving its config, asked every 0.2 s for up to 30 s: a start
# that replays a large write-ahead log on a busy host takes a while, and a wait that gives up
# rolls the new configuration back. A unit systemd no longer runs (failed or stopped: a crash,
# not a slow start) ends the wait at once; one still activating (Type=notify, a Restart=) does not.
tp_alloy_ready() {
  local code state tries=0 until=$((SECONDS + 30))
  while :; do
    code=$(tp_http GET "$TP_ALLOY_HTTP/-/ready")
    [ "$code" = 200 ] && return 0
    if (( ++tries % 5 == 0 )); then
      state=$(systemctl is-active alloy.service 2>/dev/null)
      case $state in failed | inactive)
        echo "Alloy stopped before it was ready (alloy.service is $state; last answer: HTTP $code $(tp_head 500 "$TP_BODY")); journalctl -u alloy.service says why" >&2
        return 1
        ;;
      esac
    fi
    [ "$SECONDS" -lt "$until" ] || break
    sleep 0.2
  done
  echo "Alloy is not ready after 30s (last answer: HTTP $code $(tp_head 500 "$TP_BODY")); where it serves is --server.http.listen-addr in CUSTOM_ARGS of $TP_ALLOY_SYSCONFIG (as Alloy was started), journalctl -u alloy.service says why it is not" >&2
  return 1
}
# tp_node_exporter_up [SECONDS]: node_exporter serves node metrics, asked again until SECONDS
# (10) have passed: `systemctl start` returns once the process is forked, before it listens (~60
# ms on an idle host, longer on a busy one), so one try right after a start fails a host that is
# fine. Each try waits 2 s at most for an answer (a node_exporter that accepts and never answers
# holds no check for long), so the whole takes SECONDS plus one try at most.
tp_node_exporter_up() {
  local until=$((SECONDS + ${1:-10}))
  while :; do
    TP_HTTP_WAIT=2 tp_node_exporter_serves && return 0
    [ "$SECONDS" -lt "$until" ] || break
    sleep 0.2
  done
  echo "node_exporter does not serve node metrics at $TP_NODE_EXPORTER_METRICS after ${1:-10}s (last answer: $TP_NODE_EXPORTER_WHY); journalctl -u $TP_NODE_EXPORTER_UNIT says why" >&2
  return 1
}
tp_alloy_reload() { # reload and prove Alloy took it; a rejected config is a failure, not a success
  local code
  code=$(tp_http POST "$TP_ALLOY_HTTP/-/reload")
  # An Alloy started moments before (an admin's restart just before the run: `systemctl restart`
  # returns before it listens) is waited for as a start is (tp_alloy_ready), then asked again.
  if [ "$code" = 000 ] && systemctl is-active --quiet alloy.service && tp_alloy_ready 2>/dev/null; then
    code=$(tp_http POST "$TP_ALLOY_HTTP/-/reload")
  fi
  [ "$code" = 200 ] && tp_alloy_ready && return 0
  if [ "$code" = 000 ]; then
    echo "Alloy's HTTP endpoint $TP_ALLOY_HTTP did not answer the reload (where Alloy serves is --server.http.listen-addr in CUSTOM_ARGS of $TP_ALLOY_SYSCONFIG, 127.0.0.1:12345 without it): $(tp_head 2000 "$TP_BODY")" >&2
  else
    echo "Alloy rejected the new configuration (HTTP $code): $(tp_head 2000 "$TP_BODY")" >&2
  fi
  return 1
}
# tp_alloy_delivery_reading FILE: of Alloy's /metrics in FILE, "SENT FAILED AFTER_LOAD": the
# highest sample timestamp the queues for Trento sent (seconds), the samples they refused for
# good, and 1 when that timestamp is later than Alloy's last successful configuration load
# (alloy_config_last_load_success_timestamp_seconds; both on the host's clock), else 0.
tp_alloy_delivery_reading() {
  # shellcheck disable=SC2016 # awk's program
  awk -v m=prometheus_remote_storage_queue_highest_sent_timestamp_seconds -v f=prometheus_remote_storage_samples_failed_total '
    index($0, "alloy_config_last_load_success_timestamp_seconds ") == 1 { loaded = $2 + 0 }
    !index($0, "component_id=\"prometheus.remote_write.trento\"") { next }
    index($0, m "{") == 1 { v = $NF + 0; if (v > sent) sent = v }
    index($0, f "{") == 1 { failed += $NF + 0 }
    END { printf "%.0f %.0f %d\n", sent, failed, (loaded > 0 && sent > loaded) }' "$1"
}
tp_alloy_delivers() { # SECONDS: Alloy delivers Trento's samples to the remote-write URL: a batch within SECONDS
  # Alloy's own metrics (Prometheus' remote-write queue): the highest sent timestamp moves after
  # every batch that ended, delivered or refused for good (a 401, a 404: prometheus#10102), and
  # a refused one adds to samples_failed_total, just after. A batch delivered is then either one
  # whose samples are later than Alloy's last configuration load (the one this run made), with
  # nothing refused since Alloy started, or, where Alloy refused some before, the timestamp
  # moving between two readings 1 s apart with the failed count the same; either still so one
  # reading later (the two metrics move one after the other, never at once). Failed/retried
  # counts explain a failure.
  local wait=$1 end now code sent failed after prev_sent='' prev_failed='' confirm=''
  end=$(( $(date +%s) + wait ))
  while :; do
    code=$(tp_http GET "$TP_ALLOY_HTTP/metrics")
    now=$(date +%s)
    if [ "$code" = 200 ]; then
      read -r sent failed after < <(tp_alloy_delivery_reading "$TP_BODY")
      if [ -n "$confirm" ]; then
        [ "$failed" = "$confirm" ] && return 0
        confirm=
      fi
      if [ "$failed" = 0 ] && [ "$after" = 1 ] && [ $(( now - sent )) -le "$wait" ]; then
        confirm=0
      elif [ -n "$prev_sent" ] && [ "$sent" -gt "$prev_sent" ] && [ "$failed" = "$prev_failed" ]; then
        confirm=$failed
      fi
      prev_sent=$sent prev_failed=$failed
    fi
    if [ "$now" -ge "$end" ] && [ "$code" != 200 ]; then
      # No reading at all: Alloy itself did not answer, which no remote-write setting explains.
      echo "Alloy's /metrics at $TP_ALLOY_HTTP did not answer in the last $wait s (HTTP $code): Alloy is not running, or serves elsewhere (--server.http.listen-addr in CUSTOM_ARGS of $TP_ALLOY_SYSCONFIG changed without a restart of Alloy?); journalctl -u alloy.service says why" >&2
      return 1
    fi
    if [ "$now" -ge "$end" ]; then
      echo "Alloy has delivered no metrics to the remote-write URL in the last $wait s" \
        "(samples failed: $(tp_rw_metric prometheus_remote_storage_samples_failed_total sum "$TP_BODY"), retried: $(tp_rw_metric prometheus_remote_storage_samples_retried_total sum "$TP_BODY"));" \
        "check agent_prometheus_remote_write_url, the credentials and the TLS settings, and Alloy's log" >&2
      return 1
    fi
    sleep 1
  done
}
TP_UNVERIFIED=0
tp_verify() { # NAME COMMAND...: one check of the result
  if "${@:2}" >"$TP_LOG" 2>&1; then
    tp_mark "verified $(tp_b64 "$1")"
  else
    TP_UNVERIFIED=$((TP_UNVERIFIED + 1))
    tp_mark "unverified $(tp_b64 "$1") x$(tp_tail 2000 "$TP_LOG" | base64 -w0)"
  fi
}
# tp_unit_stopped UNIT: UNIT has no process and systemd starts none on its own (inactive or
# failed; unitStopped in src/facts/sources/units.ts): one waiting for its Restart= (activating)
# comes back, and is not stopped.
tp_unit_stopped() {
  local state
  state=$(systemctl is-active "$1")
  case $state in inactive | failed) return 0 ;; esac
  echo "$1 is $state, not stopped" >&2
  return 1
}
# tp_all_verified: every check so far passed (what retires an old setup waits for this).
tp_all_verified() { [ "$TP_UNVERIFIED" -eq 0 ]; }
