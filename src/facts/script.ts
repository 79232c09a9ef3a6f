// The facts script: one bash program, run in one SSH round trip, that prints everything the
// planner needs as `key<TAB>base64(value)` lines (base64 so no value can break the framing).
// It only reads: the same script serves check mode and apply mode.
import { PACKAGES, PATHS, UNITS } from './paths.ts';
import { type Command, raw, sh, join } from '../exec/command.ts';

const HELPERS = `export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
emit() { printf '%s\\t%s\\n' "$1" "$(printf '%s' "$2" | base64 -w0)"; }
have() { command -v "$1" >/dev/null 2>&1; }
file_fact() { # PATH WITH_CONTENT: owner group mode type sha256, and the content when asked
  if [ -e "$1" ]; then
    emit "file:$1" "$(stat -c '%U %G %a %F' -- "$1") $(sha256sum -- "$1" 2>/dev/null | cut -d' ' -f1)"
    if [ "$2" = 1 ] && [ -f "$1" ]; then emit "content:$1" "$(cat -- "$1"; echo x)"; fi
  else
    emit "file:$1" absent
  fi
}`;

const SYSTEM = `emit os-release "$(cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null)"
emit baseproduct "$(readlink /etc/products.d/baseproduct 2>/dev/null)"
emit machine-id "$(cat /etc/machine-id 2>/dev/null)"
emit hostname "$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null)"
emit uid "$(id -u)"
emit tools "$(for t in rpm zypper curl systemctl base64 sha256sum; do have $t && printf '%s ' $t; done)"`;

/** withContent: also return the contents of managed files (for --diff). */
export function factsScript(withContent: boolean): Command {
  const packages = Object.values(PACKAGES).join(' ');
  const units = Object.values(UNITS).join(' ');
  const trento = PATHS.trentoAlloyName;
  return join([
    raw(HELPERS),
    sh`want=${withContent ? '1' : '0'}`,
    raw(SYSTEM),
    raw(`if have rpm; then for p in ${packages}; do
  if rpm -q --quiet "$p"; then emit "pkg:$p" "$(rpm -q --qf '%{VERSION}-%{RELEASE}' "$p")"; else emit "pkg:$p" ""; fi
done; fi
if have systemctl; then emit units "$(systemctl show -p Id,ActiveState,UnitFileState ${units} 2>/dev/null)"; fi
if have rpm && have zypper && ! rpm -q --quiet ${PACKAGES.agent}; then
  emit agent-candidate "$(zypper --non-interactive --quiet info ${PACKAGES.agent} 2>/dev/null | sed -n 's/^Version *: *//p' | head -1)"
fi
cfg=$(sed -n 's/^[[:space:]]*CONFIG_FILE=//p' ${PATHS.alloySysconfig} 2>/dev/null | tail -1 | sed -e 's/^"\\(.*\\)"$/\\1/' -e "s/^'\\(.*\\)'$/\\1/")
emit alloy-config-file "$cfg"
if [ -n "$cfg" ] && [ -d "$cfg" ]; then cfgdir=\${cfg%/}; [ -n "$cfgdir" ] || cfgdir=/; emit alloy-config-is-dir yes
else cfgdir=$(dirname -- "\${cfg:-${PATHS.alloyDefaultDir}/config.alloy}"); emit alloy-config-is-dir no; fi
emit alloy-config-dir "$cfgdir"
file_fact ${PATHS.agentConfig} "$want"
file_fact ${PATHS.agentDropIn} "$want"
file_fact ${PATHS.configureAlloyScript} "$want"
file_fact ${PATHS.alloySysconfig} 1
file_fact ${PATHS.savedAlloyConfigFile} 1
file_fact "$cfgdir/${trento}" "$want"
[ "$cfgdir" = ${PATHS.alloyDefaultDir} ] || file_fact ${PATHS.alloyDefaultDir}/${trento} "$want"
emit done yes`),
  ]);
}
