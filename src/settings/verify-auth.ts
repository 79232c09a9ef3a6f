// The credentials --verify-prometheus uses to ask Trento's Prometheus: the agent's own
// (agent_prometheus_auth and its username/password or bearer token, after their defaults
// trento_prometheus_auth*), so the secrets an admin already keeps in the inventory or a vault
// serve both sides and never go on a command line. They are a run's settings, not a host's:
// every host of the run must agree on them, or the admin says which with --verify-auth.
import type { AuthMethod } from './agent-config.ts';
import { AUTH_METHODS } from './agent-config.ts';
import { loadRoleDefaults, type AllRoleDefaults } from './defaults.ts';
import { type PlayView, resolvedHostVars } from './discovery.ts';
import type { SettingProblem } from '../inventory/errors.ts';

export interface VerifyCredentials {
  auth: AuthMethod;
  username?: string;
  password?: string;
  bearerToken?: string;
}

type HostVars = Readonly<Record<string, unknown>>;
type Origins = Readonly<Record<string, string>>;

// As agent.yaml gets it (validate.ts asText): a string, or an integer's digits, a long one (bigint) too.
const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : (typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint' ? String(v) : undefined;

/** What each method needs from the agent's variables. */
const NEEDS: Readonly<Record<AuthMethod, readonly (readonly [keyof VerifyCredentials, string])[]>> = {
  none: [],
  basic: [
    ['username', 'agent_prometheus_auth_username'],
    ['password', 'agent_prometheus_auth_password'],
  ],
  bearer: [['bearerToken', 'agent_prometheus_auth_bearer_token']],
  // The agent's client certificate and key are paths on the host; the controller has its own.
  mtls: [],
};

/**
 * One host's view: the method (the flag's, else agent_prometheus_auth's) and its credentials
 * from the agent's variables. A method without its credentials is a problem naming them;
 * neither credentials nor problems: the host does not say.
 */
export function verifyCredentialsFor(
  vars: HostVars,
  origins: Origins,
  flagAuth: AuthMethod | undefined,
  defaults: AllRoleDefaults = loadRoleDefaults(),
  play?: PlayView,
): { credentials?: VerifyCredentials; problems: SettingProblem[] } {
  const resolved = resolvedHostVars(vars, origins, defaults, play);
  const fromVars = text(resolved.get('agent_prometheus_auth'));
  // No flag and no agent_prometheus_auth: this host has no say (a pull-only group often sets none).
  if (flagAuth === undefined && fromVars === undefined) return { problems: [] };
  const auth = flagAuth ?? AUTH_METHODS.find((m) => m === fromVars);
  if (auth === undefined) {
    return {
      problems: [
        {
          variable: 'agent_prometheus_auth',
          origin: resolved.origin('agent_prometheus_auth'),
          message: `invalid auth method for --verify-prometheus: ${fromVars} (give --verify-auth none|basic|bearer|mtls)`,
        },
      ],
    };
  }
  const credentials: VerifyCredentials = { auth };
  const problems: SettingProblem[] = [];
  for (const [field, variable] of NEEDS[auth]) {
    const value = text(resolved.get(variable));
    if (value === undefined) {
      problems.push({
        variable,
        origin: resolved.origin(variable),
        message: `--verify-auth ${auth} needs it to ask Trento's Prometheus (set it in the inventory or a vault, never on a command line)`,
      });
    } else (credentials as unknown as Record<string, string>)[field] = value;
  }
  return problems.length ? { problems } : { credentials, problems };
}

/** Same method and credentials (compared without showing them). */
export function sameCredentials(a: VerifyCredentials, b: VerifyCredentials): boolean {
  return a.auth === b.auth && a.username === b.username && a.password === b.password && a.bearerToken === b.bearerToken;
}
