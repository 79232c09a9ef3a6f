# shellcheck shell=bash
# Read-only probes of the metrics providers, shared by the facts script (one try each, so that a
# host where nothing changes is proven by its one round trip) and the apply library's checks
# (which wait, and explain a failure). They need TP_ALLOY_HTTP and TP_NODE_EXPORTER_METRICS.

# tp_rw_metric NAME max|sum [FILE]: a metric of the prometheus.remote_write.trento queues, from
# FILE (Alloy's /metrics page; standard input without FILE), summed or the largest.
tp_rw_metric() {
  awk -v n="$1" -v how="$2" 'index($0, n "{") == 1 && index($0, "component_id=\"prometheus.remote_write.trento\"") {
    v = $NF + 0; if (how == "max") { if (!seen || v > r) r = v } else r += v; seen = 1 } END { if (seen) printf "%.0f\n", r }' "${3:--}"
}
# tp_http_get URL: an HTTP/1.0 GET of URL (http://ADDRESS:PORT/PATH: the providers listen on
# loopback, without TLS) on a new file descriptor left in TP_FD, its status read into
# TP_HTTP_CODE (waiting at most TP_HTTP_WAIT seconds for it, 20 as curl -m 20 did). Headers and body are left to
# read from TP_FD (the server closes after them; tp_http_close closes ours). Fails when nothing
# listens. bash's /dev/tcp, not curl: curl's start alone costs a host ~8 ms of CPU, a fifth of
# the facts script, on every run of every host. Bodies are read by grep or awk, never by bash's
# read (one system call per byte); a header line never looks like what they look for.
tp_http_get() {
  local rest=${1#http://} hostport path host
  hostport=${rest%%/*}
  path=${rest:${#hostport}}
  # bash's /dev/tcp takes an IPv6 address without the URL's brackets
  host=${hostport%:*} host=${host#[} host=${host%]}
  TP_HTTP_CODE=
  { exec {TP_FD}<>"/dev/tcp/$host/${hostport##*:}"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "${path:-/}" "$hostport" >&"$TP_FD"
  read -r -t "${TP_HTTP_WAIT:-20}" _ TP_HTTP_CODE _ <&"$TP_FD" || TP_HTTP_CODE=
  return 0
}
tp_http_close() { exec {TP_FD}<&-; }
# tp_http_body COMMAND...: COMMAND (grep or awk) reading the rest of the answer on TP_FD, for at
# most TP_HTTP_WAIT seconds as well: a server that sent its status and then stalls would hold the
# facts (or a check) until --remote-timeout. --foreground keeps it in the script's process group,
# which --remote-timeout's own timeout stops.
tp_http_body() { timeout --foreground "${TP_HTTP_WAIT:-20}" "$@" <&"$TP_FD"; }
# tp_node_exporter_serves: node_exporter answers /metrics with node metrics. It asks for the
# load average collector alone first (node_exporter's collect[] filter: ~1 ms of its CPU, where
# the whole page costs ~8 ms and ~50 KB on every run of every host), then for the whole page: a
# node_exporter started without that collector refuses the filter with 400. On failure
# TP_NODE_EXPORTER_WHY says what it got (the apply's check tells the admin).
# shellcheck disable=SC2034 # TP_NODE_EXPORTER_WHY is read by tp_node_exporter_up (src/apply/lib.sh)
tp_node_exporter_serves() {
  local page ok
  for page in "?collect%5B%5D=loadavg" ""; do
    if ! tp_http_get "$TP_NODE_EXPORTER_METRICS$page"; then
      TP_NODE_EXPORTER_WHY="nothing listens there (connection refused)"
      return 1
    fi
    ok=1
    if [ "$TP_HTTP_CODE" != 200 ]; then
      TP_NODE_EXPORTER_WHY="HTTP ${TP_HTTP_CODE:-status not sent within ${TP_HTTP_WAIT:-20}s}"
    elif tp_http_body grep -q '^node_'; then
      ok=0
    else
      TP_NODE_EXPORTER_WHY="HTTP 200 without node_ metrics (another program on that port?)"
    fi
    tp_http_close
    [ $ok = 0 ] && return 0
  done
  return 1
}
# tp_alloy_has COMPONENT: is it in the configuration Alloy is running? Alloy's UI API answers
# 200 for a component of its root module and 404 for one it does not run
# (/api/v0/web/components/ID, internal/web/api: getComponentHandler). Only the status line is
# read, by bash: no process, where reading the whole components list took two (timeout, grep).
# The facts and the apply's checks both ask through this one reader.
tp_alloy_has() { tp_alloy_component_answers "$1" 200; }
# tp_alloy_lacks COMPONENT: Alloy says it does not run it (404). Not the same as tp_alloy_has
# failing, which no answer, an error page or a wrong address does too: the uninstall's proof that
# Trento's pipeline is gone asks for Alloy's own word.
tp_alloy_lacks() { tp_alloy_component_answers "$1" 404; }
# tp_alloy_component_answers COMPONENT CODE: Alloy's UI API answers CODE for it; TP_HTTP_CODE
# says what it answered ('' for nothing).
tp_alloy_component_answers() {
  local answered=1
  tp_http_get "${TP_ALLOY_COMPONENTS:-$TP_ALLOY_HTTP/api/v0/web/components}/$1" || return 1
  [ "$TP_HTTP_CODE" = "$2" ] && answered=0
  tp_http_close
  return $answered
}
# tp_alloy_running: sets TP_ALLOY_READY (Alloy answers /-/ready with 200) and TP_ALLOY_RUNS
# (it runs prometheus.remote_write.trento), yes or no, by bash alone (no process): what --check
# reads too, so that a reload the run would make (Alloy not running what its files say) shows.
# shellcheck disable=SC2034 # TP_ALLOY_READY and TP_ALLOY_RUNS are read by src/facts/sources/providers.sh
tp_alloy_running() {
  TP_ALLOY_READY=no TP_ALLOY_RUNS=no
  if tp_http_get "$TP_ALLOY_HTTP/-/ready"; then
    [ "$TP_HTTP_CODE" = 200 ] && TP_ALLOY_READY=yes
    tp_http_close
  fi
  if tp_alloy_has prometheus.remote_write.trento; then TP_ALLOY_RUNS=yes; fi
  return 0
}

# tp_alloy_queue: what the facts read of Alloy's queues for Trento, from its /metrics by one awk:
# prints "LAST_SENT FAILED" (Unix seconds, the samples refused for good since Alloy started),
# "- -" with no queue or no answer. LAST_SENT alone proves nothing: Alloy's queue (Prometheus'
# remote write) moves it after a batch refused for good too (a 401, a 404: prometheus#10102), so
# the facts prove a delivery only where nothing was refused.
tp_alloy_queue() {
  if ! tp_http_get "$TP_ALLOY_HTTP/metrics"; then
    echo - -
    return
  fi
  if [ "$TP_HTTP_CODE" = 200 ]; then
    # shellcheck disable=SC2016 # awk's program, in single quotes for awk
    tp_http_body awk -v m=prometheus_remote_storage_queue_highest_sent_timestamp_seconds -v f=prometheus_remote_storage_samples_failed_total '
      !index($0, "component_id=\"prometheus.remote_write.trento\"") { next }
      index($0, m "{") == 1 { v = $NF + 0; if (!seen || v > sent) sent = v; seen = 1 }
      index($0, f "{") == 1 { failed += $NF + 0 }
      END { if (seen) printf "%.0f %.0f\n", sent, failed; else print "- -" }' || echo - -
  else
    echo - -
  fi
  tp_http_close
}
