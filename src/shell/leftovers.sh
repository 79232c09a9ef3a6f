# shellcheck shell=bash
# What a killed run (SIGKILL, power loss) may leave beside the files the toolkit writes, named
# once for the facts (which report them) and the apply (which removes them under the host's lock).
# Not part of safe-files.sh: that one is also installed on hosts inside configure-alloy.sh, which
# has no use for it, and a change there would rewrite the installed script.

# tp_leftovers_in DIR: sets TP_LEFTOVERS to them in DIR: tp_stage's staging folders (the default
# prefix: a run of configure-alloy.sh, with its own, may be using one), and the temp files and
# backups older versions made beside targets. Globs: a name that matches nothing stays as written.
declare -ga TP_LEFTOVERS=()
# shellcheck disable=SC2034 # read by its callers (the facts' files.sh, the apply's lib.sh)
tp_leftovers_in() { TP_LEFTOVERS=("$1"/.tp-stage.* "$1"/.tp-new-* "$1"/.tp-prev-*); }
# tp_agent_leftovers_in DIR: sets TP_LEFTOVERS to configure-alloy.sh's staging folders in DIR
# (TP_AGENT_STAGE_PREFIX): a killed agent start leaves one, holding a hard link to the
# trento.alloy it replaced. The agent's next start clears them; after an uninstall none comes, so
# the uninstall removes them once the agent is stopped (no start can be using one then).
# shellcheck disable=SC2034 # read by its callers (the facts' files.sh, the apply's lib.sh)
tp_agent_leftovers_in() { TP_LEFTOVERS=("$1/$TP_AGENT_STAGE_PREFIX"*); }
# tp_leftovers_found: is any of TP_LEFTOVERS there (a glob that matched nothing is not)?
tp_leftovers_found() {
  local l
  for l in "${TP_LEFTOVERS[@]}"; do
    if [ -e "$l" ] || [ -L "$l" ]; then return 0; fi
  done
  return 1
}

# tp_generation_read: sets TP_REPLY to the host's apply generation (TP_GENERATION: the word each
# apply leaves, "running." until it ends, src/apply/lib.sh tp_generation_check), '' where no apply
# ran since the boot: what the facts report and the apply compares, read one way. The read builtin.
# shellcheck disable=SC2034 # TP_REPLY is read by its callers (the facts' host.sh, the apply's lib.sh)
tp_generation_read() {
  TP_REPLY=
  [ ! -f "$TP_GENERATION" ] || IFS= read -r TP_REPLY <"$TP_GENERATION"
  return 0
}
