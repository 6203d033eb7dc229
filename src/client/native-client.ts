import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { ERROR_CODES, type ErrorCode, invalidArgument, StrataError } from '../errors.js';

/**
 * A small client for Strata's native API (DESIGN §6), over HTTPS with an operator certificate
 * (mutual TLS) and/or a bearer token. The `strata` CLI's `--server` mode uses it.
 *
 * @example
 * const client = new NativeClient({ url: 'https://localhost:6333', ca: 'certs/dev/ca.pem',
 *   cert: 'certs/dev/operator.pem', key: 'certs/dev/operator.key' });
 * await client.createTenant('acme');
 * const { results } = await client.transact('acme', { ops: [{ op: 'get', key: 'aGk=' }] });
 */
export interface NativeClientOptions {
  readonly url: string;
  /** CA file that signed the server's certificate. */
  readonly ca?: string;
  /** Operator client certificate and key files: a trusted caller. */
  readonly cert?: string;
  readonly key?: string;
  /** Bearer token: an untrusted caller reaching the tenants it lists. */
  readonly token?: string;
}

export interface TenantView {
  readonly name: string;
  readonly id: string;
}

export interface TransactRequest {
  readonly ops: readonly Record<string, unknown>[];
  readonly compare?: ReadonlyArray<{ key: string; value: string | null }>;
}

export interface TransactReply {
  readonly results: Array<Record<string, unknown>>;
  readonly committed: boolean;
}

export class NativeClient {
  readonly #base: URL;
  readonly #agent: Agent;
  readonly #token: string | undefined;

  constructor(options: NativeClientOptions) {
    this.#base = new URL(options.url);
    if (this.#base.protocol !== 'https:') throw invalidArgument(`--server must be an https:// URL, got ${options.url}`);
    this.#token = options.token;
    this.#agent = new Agent({
      keepAlive: true,
      ...(options.ca === undefined ? {} : { ca: readFileSync(options.ca) }),
      ...(options.cert === undefined ? {} : { cert: readFileSync(options.cert) }),
      ...(options.key === undefined ? {} : { key: readFileSync(options.key) }),
    });
  }

  /** Run a transaction on a tenant's keyspace, or on raw keys (`tenant` null; operators only). */
  transact(tenant: string | null, body: TransactRequest): Promise<TransactReply> {
    const path = tenant === null ? '/v1/transact' : `/v1/tenants/${encodeURIComponent(tenant)}/transact`;
    return this.#call('POST', path, body) as Promise<TransactReply>;
  }

  createTenant(name: string): Promise<TenantView> {
    return this.#call('POST', '/v1/admin/tenants', { name }) as Promise<TenantView>;
  }

  getTenant(name: string): Promise<TenantView> {
    return this.#call('GET', `/v1/admin/tenants/${encodeURIComponent(name)}`) as Promise<TenantView>;
  }

  listTenants(options: { begin?: string; end?: string; limit?: number } = {}): Promise<{ tenants: TenantView[]; more: boolean }> {
    const q = new URLSearchParams();
    if (options.begin !== undefined) q.set('begin', options.begin);
    if (options.end !== undefined) q.set('end', options.end);
    if (options.limit !== undefined) q.set('limit', String(options.limit));
    const query = q.toString();
    return this.#call('GET', `/v1/admin/tenants${query === '' ? '' : `?${query}`}`) as Promise<{ tenants: TenantView[]; more: boolean }>;
  }

  renameTenant(name: string, to: string): Promise<TenantView> {
    return this.#call('POST', `/v1/admin/tenants/${encodeURIComponent(name)}/rename`, { to }) as Promise<TenantView>;
  }

  deleteTenant(name: string, force: boolean): Promise<TenantView> {
    return this.#call('DELETE', `/v1/admin/tenants/${encodeURIComponent(name)}${force ? '?force=true' : ''}`) as Promise<TenantView>;
  }

  revokeToken(jti: string, exp?: number): Promise<{ jti: string; revoked: boolean; until: number | null }> {
    return this.#call('POST', '/v1/admin/tokens/revoke', exp === undefined ? { jti } : { jti, exp }) as Promise<{ jti: string; revoked: boolean; until: number | null }>;
  }

  status(): Promise<Record<string, unknown>> {
    return this.#call('GET', '/v1/admin/status') as Promise<Record<string, unknown>>;
  }

  close(): void {
    this.#agent.destroy();
  }

  #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(path, this.#base);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.#agent,
          headers: {
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
            ...(this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` }),
          },
        },
        res => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', chunk => (text += chunk));
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(parsed);
            reject(serverError(status, parsed));
          });
        },
      );
      req.on('error', cause =>
        reject(new StrataError('ERR_CLIENT_CONNECTION_FAILED', `cannot reach ${this.#base.origin}: ${cause.message}`, { cause, details: { server: this.#base.origin } })),
      );
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

/** The server's error answer as a StrataError with the server's own code. */
function serverError(status: number, body: unknown): StrataError {
  const err = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
  const code = err?.code !== undefined && err.code in ERROR_CODES ? (err.code as ErrorCode) : 'ERR_SERVER_INTERNAL';
  return new StrataError(code, err?.message ?? `the server answered ${status}`, { details: { status, ...(err?.details ?? {}) } });
}
