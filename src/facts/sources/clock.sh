# shellcheck shell=bash
# Fact source "clock", the last: the host's clock as its facts end (src/facts/sources/clock.ts).
# A push host's samples carry its clock, so the proof from Trento's side counts "since the
# rollout" on it; read after every slow source (zypper), the difference from the controller's
# clock, taken when the answer arrives, is off by the return trip alone. EPOCHREALTIME (bash 5)
# to the microsecond; else whole seconds rounded up, so the difference is never taken too small
# (too small would let a sample from before the rollout pass as proof).
if [ -n "${EPOCHREALTIME-}" ]; then
  record clock:end "$EPOCHREALTIME"
else
  printf -v now '%(%s)T' -1
  record clock:end "$((now + 1))"
fi
