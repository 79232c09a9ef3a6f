// The bash functions every apply script starts with. They carry the production rules that
// must hold on every host, so no step can skip them:
// - files are written to a temp file beside the target (umask 077 from the first byte), owner
//   and mode set, validated, synced, then renamed; the previous file is kept until the run ends
//   so a rejected config can be put back;
// - temp files and backups are removed on every exit path;
// - zypper runs non-interactively and its exit codes are read as zypper documents them;
// - a dropped connection (SIGPIPE/SIGHUP) does not stop the script between two steps: it
//   finishes what it started, and the next run converges.
import { shellQuote } from '../exec/command.ts';
import { ALLOY_HTTP, NODE_EXPORTER_METRICS } from '../facts/paths.ts';

export interface ScriptOptions {
  zyppLockTimeoutSeconds: number;
}

/** Where the apply script holds its lock: one run at a time per host. */
export const HOST_LOCK = '/run/trento-provision.lock';

/**
 * The start of an apply script: take the host's lock (two runs must never interleave their
 * writes), then remove temp files and backups a killed run (SIGKILL, power loss) left in the
 * folders this run writes to; under the lock nobody else can own them.
 */
export function applyPrelude(managedDirs: string[]): string {
  const dirs = managedDirs.map(shellQuote).join(' ');
  return `exec 9>${HOST_LOCK} && flock -n 9 || { echo "another trento-provision run is working on this host; run again when it has finished" >&2; exit 11; }
for d in ${dirs}; do rm -f -- "$d"/.tp-new-* "$d"/.tp-prev-*; done`;
}

export function scriptLib(options: ScriptOptions): string {
  return String.raw`export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022
trap '' PIPE HUP
exec 3>&1
TP_TMPS=()
declare -A TP_PREV=()
TP_STEP=0
tp_cleanup() { local f; for f in "${'$'}{TP_TMPS[@]}"; do rm -rf -- "$f"; done; }
trap tp_cleanup EXIT
trap 'tp_cleanup; exit 143' TERM INT
TP_LOG=$(mktemp) || exit 1; TP_TMPS+=("$TP_LOG")
TP_BODY=$(mktemp) || exit 1; TP_TMPS+=("$TP_BODY")
tp_mark() { printf '@@tp %s\n' "$*" >&3; }
tp_b64() { printf '%s' "$1" | base64 -w0; }
tp_warn() { tp_mark "warn $TP_STEP x$(tp_b64 "$*")"; }
tp_run() { # STEP FUNCTION: run one step, its output kept for the report if it fails
  TP_STEP=$1; tp_mark "begin $1"
  "$2" >"$TP_LOG" 2>&1; local rc=$?
  if [ $rc -eq 0 ]; then tp_mark "ok $1"; else tp_mark "failed $1 $rc x$(tail -c 4000 "$TP_LOG" | base64 -w0)"; fi
  return $rc
}
tp_write() { # PATH OWNER GROUP MODE BASE64 [VALIDATE_FUNCTION]
  local path=$1 dir name tmp prev
  dir=$(dirname -- "$path"); name=$(basename -- "$path")
  if [ ! -d "$dir" ]; then mkdir -p -m 0755 -- "$dir" || return; fi
  tmp=$(umask 077 && mktemp -- "$dir/.tp-new-$name.XXXXXX") || return
  TP_TMPS+=("$tmp")
  printf '%s' "$5" | base64 -d >"$tmp" || { echo "cannot write $path (disk full or read-only?); the old file is unchanged" >&2; return 1; }
  chown -- "$2:$3" "$tmp" && chmod -- "$4" "$tmp" || return
  if [ -n "${'$'}{6:-}" ]; then
    TP_NEW=$tmp "$6" || { echo "the new $path failed validation; the old file is unchanged" >&2; return 1; }
  fi
  sync -- "$tmp" 2>/dev/null
  if [ -e "$path" ]; then
    prev=$(mktemp -u -- "$dir/.tp-prev-$name.XXXXXX") && ln -f -- "$path" "$prev" && TP_TMPS+=("$prev") && TP_PREV[$path]=$prev
  else
    TP_PREV[$path]=
  fi
  mv -f -- "$tmp" "$path"
}
tp_restore() { # PATH: put back what tp_write replaced in this run
  [ -n "${'$'}{TP_PREV[$1]+set}" ] || return 0
  if [ -n "${'$'}{TP_PREV[$1]}" ]; then mv -f -- "${'$'}{TP_PREV[$1]}" "$1"; else rm -f -- "$1"; fi
  echo "restored the previous $1" >&2
}
tp_zypper() { # zypper's exit codes, read as zypper documents them
  local rc
  ZYPP_LOCK_TIMEOUT=${options.zyppLockTimeoutSeconds} zypper --non-interactive "$@"; rc=$?
  case $rc in
    0|100|101|103) return 0 ;;
    102) tp_warn "zypper: the host needs a reboot to complete the installation (exit 102)"; return 0 ;;
    106) tp_warn "zypper: some repositories could not be refreshed and were skipped (exit 106)"; return 0 ;;
    107) tp_warn "zypper: an RPM scriptlet failed (exit 107); check the packages' scripts"; return 0 ;;
    104) echo "zypper: package not found in any enabled repository (exit 104); check the repositories (zypper repos) and the registration (SUSEConnect --status)" >&2; return 104 ;;
    7) echo "zypper: another process held the package lock for ${options.zyppLockTimeoutSeconds}s (exit 7); retry when it has finished" >&2; return 7 ;;
    *) echo "zypper failed (exit $rc)" >&2; return "$rc" ;;
  esac
}
tp_http() { # METHOD URL: prints the HTTP status, body in $TP_BODY
  curl -sS -m 20 -X "$1" -o "$TP_BODY" -w '%{http_code}' "$2" 2>>"$TP_BODY" || true
}
tp_alloy_ready() { # Alloy up and serving its config
  local i code
  for i in $(seq 1 50); do
    code=$(tp_http GET ${ALLOY_HTTP}/-/ready)
    [ "$code" = 200 ] && return 0
    sleep 0.2
  done
  echo "Alloy is not ready after 10s (last answer: HTTP $code $(head -c 500 "$TP_BODY"))" >&2
  return 1
}
tp_alloy_has() { # COMPONENT: is it in the config Alloy is running?
  local code
  code=$(tp_http GET ${ALLOY_HTTP}/api/v0/web/components)
  [ "$code" = 200 ] && grep -q "\"$1\"" "$TP_BODY"
}
tp_alloy_reload() { # reload and prove Alloy took it; a rejected config is a failure, not a success
  local code
  code=$(tp_http POST ${ALLOY_HTTP}/-/reload)
  [ "$code" = 200 ] && tp_alloy_ready && return 0
  echo "Alloy rejected the new configuration (HTTP $code): $(head -c 2000 "$TP_BODY")" >&2
  return 1
}
tp_rw_metric() { # NAME max|sum: a metric of the prometheus.remote_write.trento queues, from $TP_BODY
  awk -v n="$1" -v how="$2" 'index($0, n "{") == 1 && index($0, "component_id=\"prometheus.remote_write.trento\"") {
    v = $NF + 0; if (how == "max") { if (!seen || v > r) r = v } else r += v; seen = 1 } END { if (seen) printf "%.0f\n", r }' "$TP_BODY"
}
tp_alloy_delivers() { # SECONDS: Alloy delivered Trento's samples to the remote-write URL within SECONDS
  # Alloy's own metrics: the queue's highest successfully sent timestamp is set only on success
  # (a changed endpoint is a new queue, starting at 0); failed/retried counts explain a failure.
  local wait=$1 end now code sent
  end=$(( $(date +%s) + wait ))
  while :; do
    code=$(tp_http GET ${ALLOY_HTTP}/metrics)
    now=$(date +%s)
    if [ "$code" = 200 ]; then
      sent=$(tp_rw_metric prometheus_remote_storage_queue_highest_sent_timestamp_seconds max)
      [ -n "$sent" ] && [ "$sent" -gt 0 ] && [ $(( now - sent )) -le "$wait" ] && return 0
    fi
    if [ "$now" -ge "$end" ]; then
      echo "Alloy has delivered no metrics to the remote-write URL in the last $wait s" \
        "(samples failed: $(tp_rw_metric prometheus_remote_storage_samples_failed_total sum), retried: $(tp_rw_metric prometheus_remote_storage_samples_retried_total sum));" \
        "check agent_prometheus_remote_write_url, the credentials and the TLS settings, and Alloy's log" >&2
      return 1
    fi
    sleep 1
  done
}
tp_node_exporter_serves() {
  local code
  code=$(tp_http GET ${NODE_EXPORTER_METRICS})
  [ "$code" = 200 ] && grep -q '^node_' "$TP_BODY"
}
tp_verify() { # NAME COMMAND...: one check of the result
  if "${'$'}{@:2}" >"$TP_LOG" 2>&1; then tp_mark "verified $(tp_b64 "$1")"
  else tp_mark "unverified $(tp_b64 "$1") x$(tail -c 2000 "$TP_LOG" | base64 -w0)"; fi
}
`;
}

/** Alloy-specific steps: directory mode, validation of the directory as Alloy will load it,
 *  and a reload or restart that is proven (or rolled back). */
export const ALLOY_LIB = String.raw`tp_alloy_config_line() { # SYSCONFIG: the CONFIG_FILE line as written
  grep -E '^[[:space:]]*CONFIG_FILE=' "$1" | tail -1
}
tp_unquote() { sed -e 's/^[[:space:]]*CONFIG_FILE=//' -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"; }
tp_alloy_dir_mode() { # SYSCONFIG SAVED: point CONFIG_FILE at the folder of its file, editing only that line
  local line value dir new
  line=$(tp_alloy_config_line "$1")
  [ -n "$line" ] || { echo "$1 has no CONFIG_FILE line; set CONFIG_FILE=\"/etc/alloy/\" there and re-run" >&2; return 1; }
  value=$(printf '%s\n' "$line" | tp_unquote)
  [ -d "$value" ] && return 0
  dir=$(dirname -- "$value")
  if [ ! -e "$2" ]; then
    mkdir -p -m 0700 -- "$(dirname -- "$2")" && printf '%s\n' "$line" >"$2" || return
  fi
  new=$(awk -v repl="CONFIG_FILE=\"$dir/\"" '/^[[:space:]]*CONFIG_FILE=/ { print repl; next } { print }' "$1"; echo x) || return
  tp_write "$1" "$(stat -c %U "$1")" "$(stat -c %G "$1")" "$(stat -c %a "$1")" "$(printf '%s' "${'$'}{new%x}" | base64 -w0)"
}
tp_alloy_restore_config_file() { # SYSCONFIG SAVED: put back the CONFIG_FILE line the toolkit replaced
  local line new
  [ -s "$2" ] || return 0
  line=$(head -1 "$2")
  new=$(awk -v repl="$line" '/^[[:space:]]*CONFIG_FILE=/ { print repl; next } { print }' "$1"; echo x) || return
  tp_write "$1" "$(stat -c %U "$1")" "$(stat -c %G "$1")" "$(stat -c %a "$1")" "$(printf '%s' "${'$'}{new%x}" | base64 -w0)" && rm -f -- "$2"
}
tp_alloy_validate_dir() { # DIR NAME: validate DIR/*.alloy with $TP_NEW in place of NAME, as Alloy will load them
  local stage f
  if ! alloy validate --help >/dev/null 2>&1; then
    tp_warn "this Alloy has no 'alloy validate'; the new configuration is checked after the reload instead"
    return 0
  fi
  stage=$(mktemp -d) || return; TP_TMPS+=("$stage")
  for f in "$1"/*.alloy; do [ -e "$f" ] && [ "$(basename -- "$f")" != "$2" ] && cp -p -- "$f" "$stage/"; done
  cp -- "$TP_NEW" "$stage/$2" && alloy validate "$stage"
}
tp_alloy_apply() { # reload|restart present|absent FILE...: apply Alloy's config, prove it, else put FILEs back
  local how=$1 expect=$2 ok=1; shift 2
  if [ "$how" = reload ] && ! systemctl is-active --quiet alloy.service; then
    echo "alloy.service is not running: nothing to reload"; return 0
  fi
  if [ "$how" = restart ]; then systemctl restart alloy.service && tp_alloy_ready || ok=0
  else tp_alloy_reload || ok=0; fi
  if [ $ok = 1 ] && [ "$expect" = present ] && ! tp_alloy_has prometheus.remote_write.trento; then
    echo "Alloy is running, but without prometheus.remote_write.trento: it did not load trento.alloy" >&2; ok=0
  fi
  if [ $ok = 1 ] && [ "$expect" = absent ] && tp_alloy_has prometheus.remote_write.trento; then
    echo "Alloy still runs Trento's pipeline after the $how" >&2; ok=0
  fi
  [ $ok = 1 ] && return 0
  for f in "$@"; do tp_restore "$f"; done
  if [ "$how" = restart ]; then systemctl restart alloy.service; else tp_http POST ${ALLOY_HTTP}/-/reload >/dev/null; fi
  tp_alloy_ready && echo "Alloy is running its previous configuration again" >&2
  return 1
}
`;
