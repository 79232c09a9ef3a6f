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
# tp_node_exporter_serves: node_exporter answers /metrics with node metrics. It asks for the
# load average collector alone first (node_exporter's collect[] filter: ~1 ms of its CPU, where
# the whole page costs ~8 ms and ~50 KB on every run of every host), then for the whole page: a
# node_exporter started without that collector refuses the filter with 400.
tp_node_exporter_serves() {
  curl -fsS -m 20 -- "$TP_NODE_EXPORTER_METRICS?collect%5B%5D=loadavg" 2>/dev/null | grep -q '^node_' ||
    curl -fsS -m 20 -- "$TP_NODE_EXPORTER_METRICS" 2>/dev/null | grep -q '^node_'
}
# tp_alloy_has COMPONENT: is it in the configuration Alloy is running?
tp_alloy_has() {
  curl -fsS -m 20 -- "$TP_ALLOY_HTTP/api/v0/web/components" 2>/dev/null | grep -qF "\"$1\""
}
# tp_alloy_probe: what the facts need of Alloy, from one curl (one connection, three requests) and
# one awk, where the checks' functions take five processes: prints "READY RUNS_TRENTO LAST_SENT"
# (yes/no, yes/no, Unix seconds or "-" when it never delivered).
tp_alloy_probe() {
  curl -sS -m 20 -w '\n@@tp-http %{http_code}\n' -- "$TP_ALLOY_HTTP/-/ready" "$TP_ALLOY_HTTP/api/v0/web/components" "$TP_ALLOY_HTTP/metrics" 2>/dev/null |
    awk -v m=prometheus_remote_storage_queue_highest_sent_timestamp_seconds '
      /^@@tp-http / { code[++n] = $2; next }
      n == 1 && index($0, "\"prometheus.remote_write.trento\"") { has = 1 }
      n == 2 && index($0, m "{") == 1 && index($0, "component_id=\"prometheus.remote_write.trento\"") { v = $NF + 0; if (!seen || v > sent) sent = v; seen = 1 }
      END { printf "%s %s %s\n", (code[1] == 200 ? "yes" : "no"), (code[2] == 200 && has ? "yes" : "no"), (code[3] == 200 && seen ? sprintf("%.0f", sent) : "-") }'
}
