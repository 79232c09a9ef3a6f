# shellcheck shell=bash
# Shell functions shared by every program trento-provision runs on a host (the facts script,
# the apply script) and installs there (configure-alloy.sh). They hold the rules for touching
# files on a host that may be hostile or broken:
# - a folder a service account can write to (e.g. /etc/alloy, 0770 root:alloy) is never where
#   root creates, writes, chowns or chmods a file by path: that account could swap the file for
#   a symlink in between. New files are made complete (content, owner, mode) in a root-only
#   staging folder on the same filesystem and renamed into place; rename(2) never follows a
#   link at the target;
# - CONFIG_FILE of /etc/sysconfig/alloy is read here and nowhere else.
# TP_MAX_FILE_BYTES (MAX_HOST_FILE_BYTES, src/facts/paths.ts, set above this file by
# src/shell/index.ts): the most a file the toolkit reads on a host may hold.

# tp_stage DIR: sets TP_STAGE_DIR to a root-only (0700) staging folder on DIR's filesystem, in
# DIR itself when root alone can write there (a real folder owned by root, without group or
# other write bits), else in its nearest such ancestor. Fails, saying why, when DIR is not a
# real folder or no trusted folder on DIR's filesystem exists, and when a folder ABOVE DIR (as
# written, or where a link on the way really leads) can be written by another account than root
# (a sticky folder such as /tmp aside: nobody else can move root's entries in it). There that
# account could swap DIR, or a folder on the way, for a link between two steps (e.g. an admin's
# CONFIG_FILE="/etc/alloy/conf/" under a 0770 root:alloy /etc/alloy), and root would create the
# staging folder and the file wherever the link points. DIR itself may be a service account's:
# the rename never follows a link at the target. One staging folder per DIR and run (names
# inside must differ: tp_write numbers them); all are removed on exit. One stat for every folder
# looked at, and no process for the folder names: every write of every run on every host comes
# through here.
# tp_lines TEXT: sets TP_LINES to TEXT's lines (a final line break ends the last line). Never a
# here-string: bash before 5.1 (SLES 15's 4.4) writes one to a temp file in /tmp, and a full /tmp
# turns it into no lines at all, with an error no one reads (a record rewritten empty, a sysconfig
# read as unset). Builtins for a short text; a long one (a sysconfig up to TP_MAX_FILE_BYTES)
# through a pipe, which a full /tmp does not stop either.
declare -ga TP_LINES=()
tp_lines() {
  TP_LINES=()
  if [ "${#1}" -gt 65536 ]; then
    mapfile -t TP_LINES < <(printf '%s' "$1")
    return 0
  fi
  local rest=$1
  while [ -n "$rest" ]; do
    TP_LINES+=("${rest%%$'\n'*}")
    if [[ $rest == *$'\n'* ]]; then rest=${rest#*$'\n'}; else rest=; fi
  done
}

declare -gA TP_STAGE_FOR=()
tp_stage() {
  local dir=$1
  if [ -n "${TP_STAGE_FOR[$dir]-}" ]; then
    TP_STAGE_DIR=${TP_STAGE_FOR[$dir]}
    return 0
  fi
  if [ -L "$dir" ] || [ ! -d "$dir" ]; then
    echo "$dir is not a folder (a symbolic link or another kind of file); trento-provision only writes into real folders" >&2
    return 1
  fi
  if ! tp_folders_judged "$dir"; then
    echo "$TP_REPLY" >&2
    return 1
  fi
  if [ -z "$TP_TRUSTED" ]; then
    echo "no root-only folder on the filesystem of $dir to prepare files in; make $dir writable by root alone" >&2
    return 1
  fi
  TP_STAGE_DIR=$(umask 077 && mktemp -d -- "${TP_TRUSTED%/}/${TP_STAGE_PREFIX:-.tp-stage.}XXXXXX") || return 1
  TP_STAGES+=("$TP_STAGE_DIR")
  TP_STAGE_FOR[$dir]=$TP_STAGE_DIR
}

# tp_folders_judged DIR (an absolute path to a real folder): one stat of DIR and every folder
# above it, as written, then, where a link on the way leads elsewhere, of DIR as it really is and
# every folder above that. Fails with TP_REPLY saying why and what to do when one of the folders
# above lets another account than root move the entry on the way (swap it for a link): a folder
# not root's; or one group- or other-writable, unless it is sticky (0o1000) and that entry is
# root's. Sets TP_TRUSTED to the nearest root-only folder (root's, not group- or
# other-writable) on DIR's filesystem, from DIR up, where a staging folder may go. The one rule of
# what may lie above a folder root writes into: for the apply (tp_stage) and the facts
# (tp_unsafe_above), which write nothing. (Not seen: a link inside another link's target,
# /a -> /x/y with /x/y/c -> /z: the folder holding that second link, /x/y, is on neither list.)
tp_folders_judged() {
  local dir=$1 real
  TP_TRUSTED=
  TP_LINKED=
  case $dir in
    /*) ;;
    *) TP_REPLY="$dir is not an absolute path; trento-provision only writes into folders named from /"; return 1 ;;
  esac
  tp_chain_judged "$dir" "$dir" || return 1
  # A link on the way (seen by that stat): where it really leads is judged too. Without one, as on
  # a standard host, no subshell and no second stat.
  [ -n "$TP_LINKED" ] || return 0
  real=$(cd -P -- "$dir" && pwd) || { TP_REPLY="cannot enter $dir"; return 1; }
  [ "$real" = "$dir" ] || tp_chain_judged "$dir" "$real"
}

# tp_chain_judged DIR START: START (DIR, or where it really is) and every folder above it, by one
# stat, judged as tp_folders_judged says; TP_LINKED set when one of them is a link.
tp_chain_judged() {
  local dir=$1 p=$2 dev='' mdev muid mmode mtype mname child=''
  local -a folders=("$2")
  while [ "$p" != / ]; do
    tp_dirname "$p"
    p=$TP_REPLY
    folders+=("$p")
  done
  # "DEVICE OWNER MODE RAWMODE NAME": the mode as octal digits, RAWMODE in hex (its file type
  # 0xA000: a link, whose own bits mean nothing; its owner counts as the entry's).
  while read -r mdev muid mmode mtype mname; do
    if [ "$mname" = "$2" ]; then
      child=$muid
      dev=$mdev
      [ -z "$TP_TRUSTED" ] && [ "$muid" = 0 ] && (( (8#$mmode & 8#022) == 0 )) && TP_TRUSTED=$mname
      continue
    fi
    if (( (16#$mtype & 16#F000) == 16#A000 )); then
      TP_LINKED=1
    else
      if [ "$muid" != 0 ] || { (( (8#$mmode & 8#022) != 0 )) && { (( (8#$mmode & 8#1000) == 0 )) || [ "$child" != 0 ]; }; }; then
        TP_REPLY="$dir is inside $mname, which an account other than root can write to (owner uid $muid, mode $mmode): it could swap a folder on the way for a link while root writes there; make $mname writable by root alone, or use a folder outside it"
        return 1
      fi
      [ -z "$TP_TRUSTED" ] && [ "$mdev" = "$dev" ] && (( (8#$mmode & 8#022) == 0 )) && TP_TRUSTED=$mname
    fi
    child=$muid
  done < <(stat -c '%d %u %a %f %n' -- "${folders[@]}")
  return 0
}

# tp_unsafe_above DIR: for the facts: whether tp_stage would refuse DIR for a folder above it
# (TP_REPLY: why).
tp_unsafe_above() { ! tp_folders_judged "$1"; }

# SELinux (SLES 16 enforces it): a file made in a staging folder has that folder's label, which
# a confined service may not be allowed to read. As Ansible's atomic move, a file gets the label
# of the one it replaces (tp_selinux_like OLD NEW, before the rename), else the policy's default
# for its path (tp_selinux_default PATH, after). tp_selinux_on is a test, no process: hosts
# without SELinux start none for it. On a failure TP_REPLY holds what the tool said.
TP_SELINUX_FS=${TP_SELINUX_FS:-/sys/fs/selinux}
tp_selinux_on() { [ -e "$TP_SELINUX_FS/enforce" ]; }
tp_selinux_like() { TP_REPLY=$(chcon --reference="$1" -- "$2" 2>&1); }
tp_selinux_default() { TP_REPLY=$(restorecon -- "$1" 2>&1); }

# tp_unstage: removes the staging folders of this run (called on every exit path), by one rm.
tp_unstage() {
  [ "${#TP_STAGES[@]}" -eq 0 ] || rm -rf -- "${TP_STAGES[@]}"
  TP_STAGES=()
  TP_STAGE_FOR=()
}

# tp_env_file_read TEXT KEY...: sets TP_ENV[KEY] to the value of TEXT's last KEY= line, for
# each KEY, as systemd reads it for the unit's EnvironmentFile= (env-file.c, v254 and later as
# on SLES 16): blanks around the key, # and ; comments only where a key could start, a CR before
# the LF dropped, and a value whose quote or trailing backslash runs on over the line break read
# on with the next lines (tp_env_value). One pass, line by line with shell builtins, the state
# machine only where a quote or a backslash is: the facts script runs it on every host at every run.
declare -gA TP_ENV=()
tp_env_file_read() {
  local -a lines
  local -A wanted=()
  local line key rest i=0
  # with a line break after the text, as a here-string adds one: an open quote at the end of the
  # file takes it in, as systemd reads it
  tp_lines "$1"$'\n'
  lines=("${TP_LINES[@]}")
  shift
  for key in "$@"; do wanted[$key]=1; done
  TP_ENV=()
  while ((i < ${#lines[@]})); do
    line=${lines[i]%$'\r'}
    ((i += 1))
    [[ $line =~ ^[[:blank:]]*([^[:blank:]#\;=][^=]*)=(.*)$ ]] || continue
    key=${BASH_REMATCH[1]} rest=${BASH_REMATCH[2]}
    key=${key%"${key##*[![:blank:]]}"}
    [[ -n ${wanted[$key]-} || $rest == *[\"\'\\]* ]] || continue
    tp_env_value "$rest"
    # An open quote, or a backslash at the end: the value takes the line break and goes on.
    while [[ $TP_ENV_STATE != pre && $TP_ENV_STATE != value ]] && ((i < ${#lines[@]})); do
      rest+=$'\n'${lines[i]%$'\r'}
      ((i += 1))
      tp_env_value "$rest"
    done
    [ -z "${wanted[$key]-}" ] || TP_ENV[$key]=$TP_REPLY
  done
}

# tp_config_file_in TEXT: sets TP_REPLY to CONFIG_FILE of TEXT (tp_env_file_read).
tp_config_file_in() {
  tp_env_file_read "$1" CONFIG_FILE
  TP_REPLY=${TP_ENV[CONFIG_FILE]-}
}

# tp_alloy_args_in TEXT: what the Alloy of /etc/sysconfig/alloy's TEXT runs with, from its
# CUSTOM_ARGS (the unit runs `alloy run $CUSTOM_ARGS ...`: systemd splits the unquoted variable
# at blanks; Alloy's flags are --name=value or --name value). Sets TP_ALLOY_HTTP to where that
# Alloy serves HTTP (--server.http.listen-addr, a wildcard address asked on the loopback of its
# family; the toolkit's default, 127.0.0.1:12345 as Alloy's own, without one), TP_ALLOY_COMPONENTS
# to its components API (under --server.http.ui-path-prefix), and TP_ALLOY_VALIDATE to the flags `alloy validate` needs to judge a folder as that Alloy loads
# it (--stability.level, --feature.community-components.enabled: a component below the level,
# or a community one, is refused without them).
tp_alloy_args_in() {
  tp_env_file_read "$1" CUSTOM_ARGS
  tp_alloy_args_read
}
# tp_systemd_words TEXT: TP_WORDS, the words systemd makes of a lone $VAR in an Exec line whose
# value is TEXT (replace_env_argv: blanks separate words, '...' and "..." group and are removed, a
# backslash takes the next character as it is, in quotes too (a lone one at the end goes), and a
# quote left open ends with the text). Text without quotes or backslashes is split by the shell's word splitting (no globbing),
# which gives the same words at a fraction of a character loop's cost.
tp_systemd_words() {
  local text=$1 word='' c quote='' i inword=0
  TP_WORDS=()
  if [[ $text != *[\"\'\\]* ]]; then
    local IFS=$' \t\n\r'
    set -f
    # shellcheck disable=SC2206 # the word splitting is the point; globbing is off
    TP_WORDS=($text)
    set +f
    return 0
  fi
  for ((i = 0; i < ${#text}; i++)); do
    c=${text:i:1}
    if [[ $c == \\ ]]; then
      # (a lone backslash at the end is dropped, as systemd drops it)
      ((i + 1 < ${#text})) && i=$((i + 1)) && word+=${text:i:1} inword=1
    elif [[ -n $quote ]]; then
      if [[ $c == "$quote" ]]; then quote=''; else word+=$c; fi
    else
      case $c in
        ' ' | $'\t' | $'\n' | $'\r') ((inword)) && TP_WORDS+=("$word") && word='' inword=0 ;;
        \' | \") quote=$c inword=1 ;;
        *) word+=$c inword=1 ;;
      esac
    fi
  done
  if ((inword)); then TP_WORDS+=("$word"); fi
  return 0
}
# tp_alloy_args_read: the same from TP_ENV[CUSTOM_ARGS], already read (tp_env_file_read).
tp_alloy_args_read() {
  local -a words=()
  local word pending='' listen='' host ui=/
  : "${TP_ALLOY_HTTP_DEFAULT:=${TP_ALLOY_HTTP-}}"
  TP_ALLOY_HTTP=$TP_ALLOY_HTTP_DEFAULT
  TP_ALLOY_VALIDATE=()
  tp_systemd_words "${TP_ENV[CUSTOM_ARGS]-}"
  words=("${TP_WORDS[@]}")
  for word in "${words[@]}"; do
    case $pending in
      listen) listen=$word pending= && continue ;;
      ui) ui=$word pending= && continue ;;
      stability) TP_ALLOY_VALIDATE+=("--stability.level=$word") pending= && continue ;;
    esac
    case $word in
      --server.http.listen-addr=*) listen=${word#*=} ;;
      --server.http.listen-addr) pending=listen ;;
      --server.http.ui-path-prefix=*) ui=${word#*=} ;;
      --server.http.ui-path-prefix) pending=ui ;;
      --stability.level=*) TP_ALLOY_VALIDATE+=("$word") ;;
      --stability.level) pending=stability ;;
      --feature.community-components.enabled | --feature.community-components.enabled=*) TP_ALLOY_VALIDATE+=("$word") ;;
    esac
  done
  if [[ $listen == *:* ]]; then
    host=${listen%:*}
    case $host in
      '' | 0.0.0.0) host=127.0.0.1 ;;
      '[::]' | '::') host='[::1]' ;;
    esac
    TP_ALLOY_HTTP="http://$host:${listen##*:}"
  fi
  # The UI's API lives under --server.http.ui-path-prefix; /-/ready and /-/reload stay at the root.
  ui=/${ui#/} ui=${ui%/}
  # (percent-encoded: a space or a non-ASCII letter in the prefix would make curl refuse the URL
  # and the probes' request line; Alloy's router matches the decoded path)
  tp_url_path "$ui"
  # shellcheck disable=SC2034 # read by probes.sh (the facts and the apply, not configure-alloy.sh)
  TP_ALLOY_COMPONENTS="$TP_ALLOY_HTTP$TP_REPLY/api/v0/web/components"
}

# tp_url_path PATH: TP_REPLY, PATH with every byte a URL path cannot hold as it is (RFC 3986's
# pchar and /) percent-encoded.
tp_url_path() {
  local LC_ALL=C path=$1 i c out=''
  if [[ $path != *[!A-Za-z0-9/._~!\$\&\'\(\)*+,\;=:@-]* ]]; then
    TP_REPLY=$path
    return 0
  fi
  for ((i = 0; i < ${#path}; i++)); do
    c=${path:i:1}
    case $c in
      [A-Za-z0-9/._~!\$\&\'\(\)*+,\;=:@-]) out+=$c ;;
      *) printf -v c '%%%02X' "'$c" && out+=$c ;;
    esac
  done
  TP_REPLY=$out
}

# tp_alloy_args SYSCONFIG: tp_alloy_args_in of the file (the defaults when it is missing, a link
# or not a regular file: never read through a link).
tp_alloy_args() {
  tp_sysconfig_text "$1"
  tp_alloy_args_in "$TP_REPLY"
}

# tp_sysconfig_unsafe FILE OWNER GROUP MODE: true, with the reason in TP_REPLY, when Alloy's
# sysconfig FILE, with that owner, group and mode (stat's %a), can be written by another account than root: who
# writes it picks, through CONFIG_FILE, the folder where root puts trento.alloy for the alloy
# account to own (a root-only folder whose files root's shell runs, /etc/bash_completion.d).
# The one rule for the facts (files.sh) and configure-alloy.sh. Builtins only.
tp_sysconfig_unsafe() {
  local file=$1 owner=$2 group=$3 mode=$4 why=
  if [ "$owner" != root ]; then
    why="is owned by $owner"
  elif (((8#$mode & 8#002) != 0)); then
    why="can be written by every account (mode $mode)"
  elif (((8#$mode & 8#020) != 0)) && [ "$group" != root ]; then
    why="can be written by the group $group (mode $mode)"
  fi
  [ -n "$why" ] || return 1
  TP_REPLY="$file $why: whoever can write it chooses, through CONFIG_FILE, the folder where root puts trento.alloy (owned by the alloy account); make it root's and writable by root alone (chown root:root $file; chmod 644 $file)"
  return 0
}

# tp_sysconfig_text FILE: sets TP_REPLY to FILE's text, empty when it is missing, a link or not a
# regular file (never read through a link): the one read of /etc/sysconfig/alloy. At most
# TP_MAX_FILE_BYTES are read: a file larger than that (a log sent there by mistake) would take
# bash minutes per megabyte to parse; it reads as empty and fails (the facts report its size).
tp_sysconfig_text() {
  TP_REPLY=
  if [ -f "$1" ] && [ ! -L "$1" ]; then
    IFS= read -r -N "$((TP_MAX_FILE_BYTES + 1))" TP_REPLY <"$1" || true
    if [ "${#TP_REPLY}" -gt "$TP_MAX_FILE_BYTES" ]; then
      TP_REPLY=
      return 1
    fi
  fi
  return 0
}

# tp_read_nofollow FILE: sets TP_REPLY to FILE's bytes (at most TP_MAX_FILE_BYTES+1), opened once
# by dd without following a link and without waiting on a FIFO (O_NOFOLLOW|O_NONBLOCK): for a
# file in a folder a service account may write to, which that account can swap for a link or a
# FIFO between any test and a read by path. Fails when dd cannot open it (a link). Trailing
# newlines are kept; bash drops a NUL byte (never in what Trento writes) and says so, silenced.
tp_read_nofollow() {
  { TP_REPLY=$(dd if="$1" iflag=nofollow,nonblock bs=$((TP_MAX_FILE_BYTES + 1)) count=1 status=none && printf x); } 2>/dev/null || return 1
  TP_REPLY=${TP_REPLY%x}
}

# tp_copy_nofollow FILE COPY: FILE's bytes (read by tp_read_nofollow) written to COPY, in a
# root-only staging folder: the validation copy of a file in Alloy's folder. Fails when FILE is
# a link by then, or larger than TP_MAX_FILE_BYTES.
tp_copy_nofollow() {
  tp_read_nofollow "$1" || return 1
  [ "${#TP_REPLY}" -le "$TP_MAX_FILE_BYTES" ] || return 1
  printf '%s' "$TP_REPLY" >"$2"
}

# tp_env_quoted VALUE: prints VALUE for the inside of "..." in a file systemd reads as an
# EnvironmentFile= (a backslash before \ " ` and $, which are escapes there).
tp_env_quoted() {
  local v=$1 out='' c i
  # A loop, not ${v//.../...}: the replacement's backslashes differ between bash 4.4 (SLES 15)
  # and 5.2 (patsub_replacement).
  for ((i = 0; i < ${#v}; i++)); do
    c=${v:i:1}
    case $c in
      "\\" | '"' | '`' | '$') out+="\\$c" ;;
      *) out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

# tp_env_value RAW: sets TP_REPLY to RAW (what follows KEY=, up to a line break outside quotes)
# as systemd's env-file.c reads it, and TP_ENV_STATE to the state it ends in (pre or value: the
# value is complete; single, double or an escape: it goes on over the line break): blanks before a value and after a closing quote skipped, '...' taken as is, "..."
# with \" \\ \` \$ escapes, a \ escaping the next character outside quotes, a # part of the
# value, and blanks only at the end of an unquoted run trimmed. So `"/etc/alloy/" # note` is
# `/etc/alloy/# note`, as Alloy is then started with it.
tp_env_value() {
  local raw=$1 out='' state=pre c i trim=-1
  for ((i = 0; i < ${#raw}; i++)); do
    c=${raw:i:1}
    case $state in
      pre)
        case $c in
          [[:blank:]]) ;;
          "'") state=single ;;
          '"') state=double ;;
          "\\") state=escape ;;
          *) out+=$c state=value ;;
        esac
        ;;
      value)
        if [ "$c" = "\\" ]; then
          state=escape
        else
          if [[ $c == [[:blank:]] ]]; then ((trim >= 0)) || trim=${#out}; else trim=-1; fi
          out+=$c
        fi
        ;;
      escape)
        # An escaped line break is dropped: the value goes on.
        [ "$c" = $'\n' ] || out+=$c
        state=value trim=-1
        ;;
      single) if [ "$c" = "'" ]; then state=pre; else out+=$c; fi ;;
      double)
        case $c in
          '"') state=pre ;;
          "\\") state=double-escape ;;
          *) out+=$c ;;
        esac
        ;;
      double-escape)
        case $c in
          '"' | "\\" | '`' | '$') out+=$c ;;
          $'\n') ;;
          *) out+="\\$c" ;;
        esac
        state=double
        ;;
    esac
  done
  [ "$state" = value ] && ((trim >= 0)) && out=${out:0:trim}
  TP_REPLY=$out TP_ENV_STATE=$state
}

# tp_read_config_file SYSCONFIG: sets TP_REPLY to CONFIG_FILE of SYSCONFIG (empty when unset, or
# when SYSCONFIG is a link or not a regular file: never read through a link).
tp_read_config_file() {
  tp_sysconfig_text "$1"
  tp_config_file_in "$TP_REPLY"
}

# tp_dirname PATH: sets TP_REPLY to what dirname(1) prints, without a process.
tp_dirname() {
  local p=$1
  while [[ $p == */ && $p != / ]]; do p=${p%/}; done
  if [[ $p != */* ]]; then TP_REPLY=.; return; fi
  p=${p%/*}
  while [[ $p == */ ]]; do p=${p%/}; done
  TP_REPLY=${p:-/}
}

# tp_config_dir_for CFG DEFAULT_DIR: sets TP_REPLY to the folder Alloy loads *.alloy from:
# CONFIG_FILE itself when it is a folder, else the folder of the file it names (DEFAULT_DIR when
# unset).
tp_config_dir_for() {
  local cfg=$1
  # One spelling per folder ("/etc/alloy//" is /etc/alloy): the facts, the plan and the uninstall
  # then name one trento.alloy, not two.
  while [[ $cfg == *//* ]]; do cfg=${cfg//\/\//\/}; done
  if [ -n "$cfg" ] && [ -d "$cfg" ]; then
    cfg=${cfg%/}
    TP_REPLY=${cfg:-/}
  else
    tp_dirname "${cfg:-$2/config.alloy}"
  fi
}

# tp_alloy_config_file SYSCONFIG: prints the value of the last CONFIG_FILE= line, unquoted.
tp_alloy_config_file() {
  tp_read_config_file "$1"
  [ -z "$TP_REPLY" ] || printf '%s\n' "$TP_REPLY"
}

# tp_alloy_config_dir SYSCONFIG DEFAULT_DIR: prints the folder Alloy loads *.alloy from (see
# tp_config_dir_for).
tp_alloy_config_dir() {
  tp_read_config_file "$1"
  tp_config_dir_for "$TP_REPLY" "$2"
  printf '%s\n' "$TP_REPLY"
}
