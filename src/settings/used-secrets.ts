// Which secrets a host's run uses (the credentials the toolkit writes, after their defaults, and
// Ansible's connection passwords): the values the run's output masks in free text, and the
// warning about one too short to be looked for there. What is secret at all: secrets.ts.
import { isPyNumber } from '../inventory/numbers.ts';
import { UnsafeText } from '../inventory/model.ts';
import { type AllRoleDefaults, loadRoleDefaults } from './defaults.ts';
import { type PlayView, resolvedHostVars } from './discovery.ts';
import { hasTemplate } from './jinja-lite.ts';
import { ANSIBLE_SECRET_VARIABLES, MIN_FREE_TEXT_SECRET, urlPasswords } from './secrets.ts';
import { asText } from './validate.ts';
import { VARIABLES } from './variables.ts';

/** A secret value the toolkit uses for a host, and which variable gave it. */
export interface UsedSecret {
  variable: string;
  origin: string;
  value: string;
}

/**
 * The secrets the toolkit uses for this host: the credentials it writes (API key, RabbitMQ
 * password, Prometheus password or token, each after its defaults, so trento_rabbitmq_password
 * counts through agent_rabbitmq_password) and Ansible's connection passwords. Variables it never
 * reads (trento_web_postgres_password...) are not here: they mask nothing.
 */
export function usedSecrets(
  vars: Readonly<Record<string, unknown>>,
  origins: Readonly<Record<string, string>>,
  defaults: AllRoleDefaults = loadRoleDefaults(),
  play?: PlayView,
): UsedSecret[] {
  const resolved = resolvedHostVars(vars, origins, defaults, play);
  // The agent_* rows are the settings the toolkit writes; the other secret rows (trento_*,
  // deprecated names) only feed them through the defaults, and count through them.
  const written = VARIABLES.filter((spec) => spec.secret && spec.name.startsWith('agent_')).flatMap((spec) => {
    const text = asText(resolved.get(spec.name));
    return text.ok ? [{ variable: spec.name, origin: resolved.origin(spec.name), value: text.text }] : [];
  });
  // A password in a URL setting's userinfo (https://user:PASSWORD@host/...): the agent and
  // Alloy send it as basic auth, so it is a credential like agent_prometheus_auth_password.
  const inUrls = VARIABLES.filter((spec) => spec.kind === 'http-url' && spec.agentKey).flatMap((spec) => {
    const text = asText(resolved.get(spec.name));
    return (text.ok ? urlPasswords(text.text) : []).map((value) => ({ variable: `the password in ${spec.name}`, origin: resolved.origin(spec.name), value }));
  });
  const connection = ANSIBLE_SECRET_VARIABLES.flatMap((name) => {
    const value = vars[name];
    // The connection variables are evaluated already (templatedConnectionVars): a plain string
    // with `{{` is one that could not be, reported as such and never used. A !unsafe value
    // (UnsafeText) is the password itself, braces included. Any number, as its exact text: a
    // 20-digit password is a bigint, 1.10 a PyFloat.
    const used = value instanceof UnsafeText || isPyNumber(value) || (typeof value === 'string' && !hasTemplate(value));
    return used ? [{ variable: name, origin: origins[name] ?? 'inventory', value: String(value) }] : [];
  });
  return [...written, ...inUrls, ...connection].filter((s) => s.value !== '');
}

/** One warning per used secret too short to be searched for in free text. */
export function shortSecretWarnings(secrets: readonly UsedSecret[]): string[] {
  return secrets
    .filter((s) => s.value.length < MIN_FREE_TEXT_SECRET)
    .map(
      (s) =>
        `${s.variable} (${s.origin}) is ${s.value.length === 1 ? '1 character' : `${s.value.length} characters`} long: too short to hide in free text ` +
        `(masked by field in diffs, agent.yaml, trento.alloy and the report, not in messages); use a secret of ${MIN_FREE_TEXT_SECRET} or more characters`,
    );
}
