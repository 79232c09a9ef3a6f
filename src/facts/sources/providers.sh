# shellcheck shell=bash
# Fact source "providers": uses installed (packages.sh) and src/shell/probes.sh.
# What the verify step checks, read here once for each provider that is installed (no waiting):
# a host where nothing is to change is then proven by this one round trip. When a probe does not
# hold, the run checks again in a second round trip, waiting as the verify step does. --check
# (TP_WANT_PROBES=0) runs no checks: it reads only whether Alloy is ready and runs Trento's
# pipeline (by bash alone), which decides a reload the real run would make.
if installed "$TP_ALLOY_PACKAGE"; then
  tp_alloy_running
  record probe:alloy-ready "$TP_ALLOY_READY"
  record probe:alloy-runs-trento "$TP_ALLOY_RUNS"
fi
if [ "$TP_WANT_PROBES" = 1 ]; then
  if installed "$TP_NODE_EXPORTER_PACKAGE"; then
    if tp_node_exporter_serves; then record probe:node-exporter-serves yes; else record probe:node-exporter-serves no; fi
  fi
  # The host's clock: Alloy stamps what it pushes with it (the proof from Trento's side corrects
  # for the difference with this machine's).
  printf -v now '%(%s)T' -1
  record probe:now "$now"
  if installed "$TP_ALLOY_PACKAGE"; then
    # "SENT FAILED", split by the shell (a here-string is a temp file in /tmp on bash 4.4)
    queue=$(tp_alloy_queue)
    queue=${queue%%$'\n'*}
    sent=${queue%% *} failed=${queue#* }
    [[ $queue == *' '* ]] || failed=
    record probe:alloy-last-sent "${sent#-}"
    record probe:alloy-failed "${failed#-}"
  fi
fi
