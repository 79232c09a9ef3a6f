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
# tp_node_exporter_serves: node_exporter answers /metrics with node metrics.
tp_node_exporter_serves() {
  curl -fsS -m 20 -- "$TP_NODE_EXPORTER_METRICS" 2>/dev/null | grep -q '^node_'
}
# tp_alloy_has COMPONENT: is it in the configuration Alloy is running?
tp_alloy_has() {
  curl -fsS -m 20 -- "$TP_ALLOY_HTTP/api/v0/web/components" 2>/dev/null | grep -qF "\"$1\""
}
# tp_alloy_ready_now: Alloy answers /-/ready with 200 (one try).
tp_alloy_ready_now() {
  [ "$(curl -sS -m 20 -o /dev/null -w '%{http_code}' -- "$TP_ALLOY_HTTP/-/ready" 2>/dev/null)" = 200 ]
}
# tp_alloy_last_sent: when Alloy last delivered Trento's samples (the remote_write queue's highest
# successfully sent timestamp, Unix seconds; empty when it never did).
tp_alloy_last_sent() {
  curl -fsS -m 20 -- "$TP_ALLOY_HTTP/metrics" 2>/dev/null | tp_rw_metric prometheus_remote_storage_queue_highest_sent_timestamp_seconds max
}
