/**
 * One HTTP request with the retry policy, on node:http / node:https (not fetch: undici refuses
 * the ports of its "bad ports" list, 6000, 5060, 6665-6669, 10080, ..., that a model server may
 * well listen on), and the redaction of credentials from everything that is printed.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ErrorCodes, NnidError } from '@nnid/core';

/** Defaults, chosen for a remote paid service: few parallel requests, patient retries. */
export const HTTP_DEFAULTS = {
  concurrency: 4,
  /** The longest one request may take, its retries and their waits included. */
  timeoutMs: 30_000,
  retries: 5,
  /** Retries of an HTTP 500 (a server error that a retry rarely cures), within `retries`. */
  retries500: 2,
  /** First backoff; doubles with each retry (200, 400, 800, 1600, 3200 ms), capped at maxBackoffMs. */
  backoffMs: 200,
  maxBackoffMs: 10_000,
  /** Rows per request unless the server announces a smaller maxBatch. */
  batchSize: 1024,
  /** An answer longer than this is refused (a server streaming without end). */
  maxBodyBytes: 512 * 1024 * 1024,
} as const;

export interface RetryEvent {
  /** 1 for the first retry. */
  attempt: number;
  /** HTTP status, or the connection error's code (ECONNREFUSED, ECONNRESET, ...). */
  reason: string;
  /** How long the client waits before the retry. */
  delayMs: number;
  /** Rows [first, last] of the caller's batch that the request carries (-1, -1 for the GET). */
  rows: [number, number];
}

/** A status the server answered that is not retried (4xx other than 429, 501, ...): E_ORACLE with the status. */
export class OracleHttpError extends NnidError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(ErrorCodes.oracle, message);
  }
}

/** Statuses a retry can cure (500 only up to `retries500` times). */
const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Connection errors a retry can cure; every other error (TLS, DNS name unknown, ...) fails at once. */
const RETRIED_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

const TLS_CERT_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED)/;

/** Query parameters whose values are secrets (masked wherever the URL is shown). */
const SECRET_PARAM = /token|key|secret|sig|pass|auth|credential/i;

/**
 * A URL as it may be printed or reported: user:password@ becomes ***@, and the values of
 * query parameters that look like secrets (token, api_key, sig, ...) become ***.
 * Works on text that is not a valid URL too.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return String(url)
      .replace(/\/\/[^/?#]*@/, '//***@')
      .replace(/([?&][^=&#]*(?:token|key|secret|sig|pass|auth|credential)[^=&#]*=)[^&#]*/gi, '$1***');
  }
  if (parsed.username || parsed.password) {
    parsed.username = '';
    parsed.password = '';
    const text = redactParams(parsed);
    return text.replace('//', '//***@');
  }
  return redactParams(parsed);
}

function redactParams(parsed: URL): string {
  let changed = false;
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) {
      parsed.searchParams.set(name, '***');
      changed = true;
    }
  }
  // URLSearchParams would percent-encode the stars: put them back readable.
  return changed ? parsed.href.replace(/=%2A%2A%2A/g, '=***') : parsed.href;
}

/** What a request needs to know, built once per black box by `openTransport`. */
export interface Transport {
  /** The URL as printed (redacted). */
  readonly shown: string;
  /** One request with the retry policy; resolves to the body of a 2xx answer. */
  request(method: 'GET' | 'POST', body: string | undefined, rows: [number, number], what: string): Promise<string>;
  close(): void;
}

export interface TransportOptions {
  token?: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  concurrency: number;
  onRetry?: (event: RetryEvent) => void;
}

interface Answer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  text: string;
}

class AttemptTimeout extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toPrecision(3))} s`;
}

/**
 * Checks a bearer token: it travels in a header, so it must be visible ASCII without spaces.
 * The message never shows the token, only where it breaks the rule.
 */
export function checkToken(token: string): void {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) {
      const what = c === 10 ? 'a newline' : c === 13 ? 'a carriage return' : c === 32 ? 'a space' : c === 9 ? 'a tab' : `the character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
      throw new NnidError(
        ErrorCodes.invalidArgument,
        `invalid argument. \`token\` must be visible ASCII characters without spaces (it is sent as an HTTP header). Value: (hidden; ${token.length} characters, character ${i + 1} is ${what}).`,
      );
    }
  }
}

/**
 * Opens the transport of one endpoint: a keep-alive agent with `concurrency` sockets, the bearer
 * token and the URL's user:password (as Basic auth) in the headers, and the retry policy:
 *
 * - retried: connection errors (refused, reset, unreachable), 429, 502, 503, 504, and 500 at
 *   most `HTTP_DEFAULTS.retries500` times; a Retry-After header replaces the backoff;
 * - failing at once: 501, every other status, TLS certificate errors, an unknown host name;
 * - `timeoutMs` bounds the whole request, its retries and waits included: a server that
 *   accepts the connection and never answers fails within it.
 *
 * Every message shows the URL redacted (redactUrl), and a server message that echoes the token
 * or the password has it masked.
 */
export function openTransport(parsed: URL, options: TransportOptions): Transport {
  const shown = redactUrl(parsed.href);
  const secrets = [options.token, decodeURIComponent(parsed.password), decodeURIComponent(parsed.username)].filter((s): s is string => !!s && s.length >= 3);
  const mask = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);
  const https = parsed.protocol === 'https:';
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: options.concurrency })
    : new HttpAgent({ keepAlive: true, maxSockets: options.concurrency });
  const auth = parsed.username || parsed.password ? `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}` : undefined;
  const target = new URL(parsed.href);
  target.username = '';
  target.password = '';

  function attempt(method: string, body: string | undefined, timeoutMs: number): Promise<Answer> {
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    return new Promise<Answer>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(target, { method, headers, agent, auth }, (res) => {
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (c: Buffer) => {
          length += c.length;
          if (length > HTTP_DEFAULTS.maxBodyBytes) {
            req.destroy(new NnidError(ErrorCodes.oracleOutput, `${shown}: the answer exceeds ${HTTP_DEFAULTS.maxBodyBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        res.on('aborted', () => {
          clearTimeout(timer);
          reject(Object.assign(new Error('the server closed the connection mid-answer'), { code: 'ECONNRESET' }));
        });
      });
      const timer = setTimeout(() => req.destroy(new AttemptTimeout()), timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(body);
    });
  }

  async function request(method: 'GET' | 'POST', body: string | undefined, rows: [number, number], what: string): Promise<string> {
    const deadline = Date.now() + options.timeoutMs;
    const where = `${shown} ${what}`;
    let last = '';
    let errors500 = 0;
    for (let retry = 0; ; retry++) {
      let delay = Math.min(HTTP_DEFAULTS.maxBackoffMs, options.backoffMs * 2 ** retry);
      let limit = options.retries;
      const answer = await attempt(method, body, Math.max(1, deadline - Date.now())).catch((e: unknown) => e as Error);
      if (answer instanceof Error) {
        if (answer instanceof NnidError) throw answer;
        if (answer instanceof AttemptTimeout) {
          const before = retry > 0 ? ` (${last} before, ${retry} ${retry === 1 ? 'retry' : 'retries'})` : '';
          throw new NnidError(ErrorCodes.oracleUnavailable, `${where}: no answer within the timeout of ${seconds(options.timeoutMs)}${before}; raise it with --timeout (timeoutMs)`);
        }
        const code = (answer as NodeJS.ErrnoException).code ?? '';
        if (TLS_CERT_CODES.test(code)) {
          throw new NnidError(ErrorCodes.oracle, `${where}: TLS certificate not trusted (${code}); a private CA can be added with the NODE_EXTRA_CA_CERTS variable`);
        }
        if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
          const hint = code === 'ERR_SSL_WRONG_VERSION_NUMBER' ? '; does the server speak http:// rather than https://?' : '';
          throw new NnidError(ErrorCodes.oracle, `${where}: TLS failed (${code})${hint}`);
        }
        if (code === 'ENOTFOUND') throw new NnidError(ErrorCodes.oracle, `${where}: no such host (${target.hostname})`);
        last = `connection failed (${code || mask(String(answer.message))})`;
        if (!RETRIED_CODES.has(code)) throw new NnidError(ErrorCodes.oracleUnavailable, `${where}: ${last}`);
      } else {
        const { status } = answer;
        if (status >= 200 && status < 300) return answer.text;
        last = `HTTP ${status}${answer.statusText ? ` ${answer.statusText}` : ''}: ${mask(serverMessage(answer.text))}`;
        if (!RETRIED_STATUSES.has(status)) {
          const hint =
            status === 401 || status === 403
              ? ' (check the token: --oracle-token or NNID_ORACLE_TOKEN)'
              : status === 501 || status === 405
                ? ` (the server does not answer ${method} here)`
                : '';
          throw new OracleHttpError(status, `${where}: ${last}${hint}`);
        }
        // A 500 is retried a few times only: it is more often a bug than a passing state.
        if (status === 500 && ++errors500 > HTTP_DEFAULTS.retries500) limit = retry;
        const retryAfter = parseRetryAfter(answer.headers['retry-after'] as string | undefined);
        if (retryAfter !== undefined) {
          if (Date.now() + retryAfter > deadline) {
            throw new NnidError(
              ErrorCodes.oracleUnavailable,
              `${where}: ${last}; it asks to retry after ${seconds(retryAfter)}, beyond the timeout of ${seconds(options.timeoutMs)} (--timeout)`,
            );
          }
          delay = retryAfter;
        }
      }
      if (retry >= limit) {
        throw new NnidError(ErrorCodes.oracleUnavailable, `${where}: ${last}, after ${retry} ${retry === 1 ? 'retry' : 'retries'}`);
      }
      if (Date.now() + delay >= deadline) {
        throw new NnidError(ErrorCodes.oracleUnavailable, `${where}: ${last}; the timeout of ${seconds(options.timeoutMs)} leaves no time for retry ${retry + 1} (--timeout)`);
      }
      options.onRetry?.({ attempt: retry + 1, reason: last, delayMs: delay, rows });
      await sleep(delay);
    }
  }

  return {
    shown,
    request,
    close: () => agent.destroy(),
  };
}

/** The server's message from an error body: its `error` field, or the text itself (shortened). */
function serverMessage(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: unknown };
    if (json && typeof json.error === 'string') return json.error;
  } catch {
    // not JSON: show the text
  }
  const flat = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat || '(empty body)';
}
