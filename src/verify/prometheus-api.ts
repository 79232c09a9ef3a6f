// Asking Trento's Prometheus over its HTTP API (/api/v1/...), as Trento Web does, with the
// authentication of the edge in front of it (none, basic, bearer, mTLS) and an optional CA.
// node:http/https rather than fetch: Node's fetch cannot take a CA or a client certificate
// without the undici package, and this needs both.
import { secretSet } from '../output/redact.ts';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AuthMethod } from '../settings/agent-config.ts';

/** Where Trento's Prometheus is and how to authenticate to it. Secrets live only in memory. */
export interface PrometheusEndpoint {
  /** Base URL: its /api/v1/query is asked (e.g. https://trento.example.com/prometheus). */
  url: string;
  auth: AuthMethod;
  username?: string;
  password?: string;
  bearerToken?: string;
  /** PEM contents (not paths): read once on the controller. */
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  /** Per request (default 10 s). */
  timeoutMs?: number;
}

/**
 * Prometheus itself could not answer: one error for the whole run, not a per-host absence.
 * `kind` says which: not reached at all, credentials refused, or an answer that is no
 * Prometheus API answer (wrong URL).
 */
export class PrometheusError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'auth-refused' | 'bad-answer',
    message: string,
    /** Worth asking again (a 5xx or 429 while Prometheus or its proxy restarts, a timeout, a
     *  reset connection): the proofs poll on until their own deadlines. */
    readonly transient = false,
  ) {
    super(message);
  }
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusApi {
  /** An instant query (POST, so a long selector never meets a URL length limit). */
  query(expr: string): Promise<{ resultType: string; result: unknown }>;
  /** GET of an API path (e.g. /api/v1/targets), its `data`. */
  get(path: string): Promise<unknown>;
}

const apiUrl = (base: string, path: string) => new URL(base.replace(/\/+$/u, '') + path);

/** The credentials of --verify-auth basic as they travel (base64 of user:password): a secret of
 *  its own, since a proxy's error page may echo the header back (the password's own spelling
 *  is masked already, its base64 is not). */
export function basicCredentials(endpoint: PrometheusEndpoint): string | undefined {
  return endpoint.auth === 'basic' ? Buffer.from(`${endpoint.username ?? ''}:${endpoint.password ?? ''}`).toString('base64') : undefined;
}

/** The most of a server's error text a message quotes: a proxy's page is not Prometheus'. */
const MAX_ERROR_TEXT = 300;
const quoted = (text: string) => (text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}...` : text);

/** The `error` of an API answer's JSON, if the text is one. */
function apiError(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: unknown } | null;
    return typeof parsed?.error === 'string' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

export function prometheusApi(endpoint: PrometheusEndpoint): PrometheusApi {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const basic = basicCredentials(endpoint);
  if (basic !== undefined) headers.Authorization = `Basic ${basic}`;
  if (endpoint.auth === 'bearer') headers.Authorization = `Bearer ${endpoint.bearerToken ?? ''}`;
  const where = `Trento's Prometheus at ${endpoint.url}`;
  // The endpoint's credentials are masked in a quote of the server's answer before it is cut: a
  // proxy's error page that echoes the request's headers would show the start of one cut in two,
  // which the run's masking (whole values, later) cannot recognise.
  const credentials = secretSet([endpoint.bearerToken, endpoint.password, basic].filter((v): v is string => !!v));
  const quote = (text: string) => quoted(credentials.redact(text));

  const idleMs = endpoint.timeoutMs ?? 10_000;
  const call = (method: 'GET' | 'POST', path: string, body?: string): Promise<unknown> =>
    new Promise((settleOk, settleError) => {
      // Set once the request exists (below): one that cannot even be made (a client key that
      // does not load) rejects at once, with no timer left behind.
      let whole: NodeJS.Timeout | undefined;
      const resolve = (value: unknown) => {
        clearTimeout(whole);
        settleOk(value);
      };
      const reject = (error: unknown) => {
        clearTimeout(whole);
        settleError(error);
      };
      const url = apiUrl(endpoint.url, path);
      const https = url.protocol === 'https:';
      const options = {
        method,
        headers: {
          ...headers,
          ...(body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) } : {}),
        },
        timeout: idleMs,
        ...(https && endpoint.ca ? { ca: endpoint.ca } : {}),
        ...(https && endpoint.auth === 'mtls' ? { cert: endpoint.clientCert, key: endpoint.clientKey } : {}),
      };
      const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          // A query answer for a fleet is kilobytes; anything far larger is not Prometheus.
          if (size > 64 * 1024 * 1024) req.destroy(new PrometheusError('bad-answer', `${where}: answer larger than 64 MiB`));
          else chunks.push(c);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status === 401 || status === 403) {
            return reject(
              new PrometheusError(
                'auth-refused',
                `${where} refused the credentials of --verify-auth ${endpoint.auth} (HTTP ${status}${authHint(endpoint.auth)})`,
              ),
            );
          }
          // nginx answers 400 to a TLS client without the certificate it requires.
          if (status === 400 && /certificate/iu.test(text) && !text.trimStart().startsWith('{')) {
            return reject(
              new PrometheusError(
                'auth-refused',
                `${where} requires a client certificate it did not get or did not accept (HTTP 400; --verify-auth mtls with --verify-client-cert/--verify-client-key)`,
              ),
            );
          }
          // Prometheus restarting behind its proxy (502, 503), overloaded (429, 503 unavailable):
          // asked again at the next poll.
          if (status >= 500 || status === 429) {
            return reject(
              new PrometheusError('bad-answer', `${where}: ${url.pathname} answered HTTP ${status}: ${quote(apiError(text) ?? text.trim())}`, true),
            );
          }
          let parsed: { status?: unknown; data?: unknown; error?: unknown } | null;
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            parsed = null;
          }
          // JSON that is not an object (null, a number) is no API answer either.
          if (parsed === null || typeof parsed !== 'object') {
            return reject(
              new PrometheusError(
                'bad-answer',
                `${where}: ${url.pathname} answered HTTP ${status} with no Prometheus API answer (is the URL the Prometheus base URL, e.g. https://SERVER/prometheus?)`,
              ),
            );
          }
          if (parsed.status !== 'success') {
            const said = typeof parsed.error === 'string' ? parsed.error : `status ${String(parsed.status)}`;
            return reject(new PrometheusError('bad-answer', `${where}: ${url.pathname} answered HTTP ${status}: ${quote(said)}`));
          }
          if (parsed.data === null || typeof parsed.data !== 'object') {
            return reject(new PrometheusError('bad-answer', `${where}: ${url.pathname} answered HTTP ${status} "success" with no data`));
          }
          resolve(parsed.data);
        });
        res.on('error', (e) => reject(unreachable(where, e)));
      });
      // The socket's timeout is for silence alone: an answer trickling in (a proxy sending a byte
      // now and then) would keep every proof waiting on it past its limit. The whole answer gets
      // three times as long.
      whole = setTimeout(() => req.destroy(new Error(`no answer within ${Math.round((3 * idleMs) / 1000)} s (only part of one came)`)), 3 * idleMs);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(idleMs / 1000)} s`)));
      req.on('error', (e) => reject(e instanceof PrometheusError ? e : unreachable(where, e)));
      req.end(body);
    });

  return {
    query: async (expr) => (await call('POST', '/api/v1/query', new URLSearchParams({ query: expr }).toString())) as { resultType: string; result: unknown },
    get: (path) => call('GET', path),
  };
}

function authHint(auth: AuthMethod): string {
  switch (auth) {
    case 'none':
      return '; it wants credentials: give --verify-auth basic|bearer|mtls';
    case 'basic':
      return '; check agent_prometheus_auth_username/_password (or trento_prometheus_auth_username/_password)';
    case 'bearer':
      return '; check agent_prometheus_auth_bearer_token';
    case 'mtls':
      return '; check --verify-client-cert/--verify-client-key';
  }
}

function unreachable(where: string, error: Error & { code?: string }): PrometheusError {
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|SSL/u.test(error.code ?? '')
    ? ' (TLS: give the CA that signed its certificate with --verify-ca FILE)'
    : '';
  // No answer in time, or a connection cut: a passing trouble. Refused, unknown host, TLS: not.
  const transient = error.code === 'ECONNRESET' || /^no answer within/u.test(error.message);
  return new PrometheusError('unreachable', `${where} is unreachable: ${error.code ? `${error.code}: ` : ''}${error.message}${tls}`, transient);
}
