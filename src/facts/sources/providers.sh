# shellcheck shell=bash
# Fact source "providers": uses installed (packages.sh) and src/shell/probes.sh.
# What the verify step checks, read here once for each provider that is installed (no waiting):
# a host where nothing is to change is then proven by this one round trip. When a probe does not
# hold, the run checks again in a second round trip, waiting as the verify step does.
if have curl; then
  if installed "$TP_NODE_EXPORTER_PACKAGE"; then
    if tp_node_exporter_serves; then record probe:node-exporter-serves yes; else record probe:node-exporter-serves no; fi
  fi
  if installed "$TP_ALLOY_PACKAGE"; then
    if tp_alloy_ready_now; then
      record probe:alloy-ready yes
      if tp_alloy_has prometheus.remote_write.trento; then record probe:alloy-runs-trento yes; else record probe:alloy-runs-trento no; fi
      record probe:alloy-last-sent "$(tp_alloy_last_sent)"
      record probe:now "$(printf '%(%s)T' -1)"
    else
      record probe:alloy-ready no
    fi
  fi
fi
