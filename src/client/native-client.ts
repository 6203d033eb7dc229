import type { TenantLimitsReport } from '../server/limits.js';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { ERROR_CODES, type ErrorCode, invalidArgument, StrataError } from '../errors.js';
import type { ApiKeyView } from '../auth/apikeys.js';

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

  /** A tenant's limits, those in force and its usage; with `changes`, set those first. */
  tenantLimits(name: string, changes?: Readonly<Record<string, number | null>>): Promise<TenantLimitsReport> {
    const path = `/v1/admin/tenants/${encodeURIComponent(name)}/limits`;
    return (changes === undefined ? this.#call('GET', path) : this.#call('PUT', path, changes)) as Promise<TenantLimitsReport>;
  }

  revokeToken(jti: string, exp?: number): Promise<{ jti: string; revoked: boolean; until: number | null }> {
    return this.#call('POST', '/v1/admin/tokens/revoke', exp === undefined ? { jti } : { jti, exp }) as Promise<{ jti: string; revoked: boolean; until: number | null }>;
  }

  /** Issue an API key (the key is in the answer, and nowhere else ever again). */
  createApiKey(spec: { name: string; tenants: readonly string[]; access?: unknown; ttl_seconds?: number }): Promise<ApiKeyCreated> {
    return this.#call('POST', '/v1/admin/apikeys', spec) as Promise<ApiKeyCreated>;
  }

  listApiKeys(): Promise<{ apikeys: ApiKeyView[] }> {
    return this.#call('GET', '/v1/admin/apikeys') as Promise<{ apikeys: ApiKeyView[] }>;
  }

  rotateApiKey(id: string, graceSeconds?: number): Promise<{ id: string; key: string; previous_secret_until?: string }> {
    return this.#call('POST', `/v1/admin/apikeys/${encodeURIComponent(id)}/rotate`, graceSeconds === undefined ? {} : { grace_seconds: graceSeconds }) as Promise<{
      id: string;
      key: string;
      previous_secret_until?: string;
    }>;
  }

  revokeApiKey(id: string): Promise<{ id: string; revoked: boolean }> {
    return this.#call('DELETE', `/v1/admin/apikeys/${encodeURIComponent(id)}`) as Promise<{ id: string; revoked: boolean }>;
  }

  /** Add a new issuing key; the old ones retire once their tokens have expired. */
  rotateIssuingKey(): Promise<{ kid: string; retiring: Array<{ kid: string; retire_at: string }> }> {
    return this.#call('POST', '/v1/admin/keys/rotate', {}) as Promise<{ kid: string; retiring: Array<{ kid: string; retire_at: string }> }>;
  }

  status(): Promise<Record<string, unknown>> {
    return this.#call('GET', '/v1/admin/status') as Promise<Record<string, unknown>>;
  }

  /**
   * Stream a snapshot of `tenant` (or of one `collection` of it) from the server into file `path`.
   * `onBytes` is told the bytes received so far. Resolves with the file's size.
   */
  async downloadSnapshot(tenant: string, collection: string | undefined, path: string, onBytes?: (bytes: number) => void): Promise<number> {
    const query = collection === undefined ? '' : `?collection=${encodeURIComponent(collection)}`;
    const res = await this.#stream('GET', `/v1/admin/tenants/${encodeURIComponent(tenant)}/snapshot${query}`);
    return this.#save(res, path, onBytes);
  }

  /**
   * Restore the snapshot in file `path` into `tenant` (a collection snapshot into `collection`, or its
   * own collection name), streaming the file to the server. `onBytes` is told the bytes sent so far.
   */
  async restoreSnapshot(tenant: string, collection: string | undefined, path: string, onBytes?: (bytes: number) => void): Promise<RestoreReply> {
    const query = collection === undefined ? '' : `?collection=${encodeURIComponent(collection)}`;
    const { size } = await stat(path);
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    let sent = 0;
    file.on('data', chunk => onBytes?.((sent += chunk.length)));
    const res = await this.#stream('POST', `/v1/admin/tenants/${encodeURIComponent(tenant)}/restore${query}`, { body: file, size });
    return JSON.parse(await text(res)) as RestoreReply;
  }

  /** Stream a compacted copy of the server's whole embedded store into `path` (LMDB's `data.mdb`). */
  async backup(path: string, onBytes?: (bytes: number) => void): Promise<number> {
    return this.#save(await this.#stream('POST', '/v1/admin/backup'), path, onBytes);
  }

  close(): void {
    this.#agent.destroy();
  }

  async #save(res: IncomingMessage, path: string, onBytes?: (bytes: number) => void): Promise<number> {
    let received = 0;
    res.on('data', (chunk: Buffer) => onBytes?.((received += chunk.length)));
    const cut = (cause?: unknown) =>
      new StrataError('ERR_CLIENT_CONNECTION_FAILED', `the server's answer from ${this.#base.origin} was cut short`, { cause, details: { server: this.#base.origin } });
    try {
      await pipeline(res, createWriteStream(path));
    } catch (err) {
      throw res.complete ? err : cut(err);
    }
    // A response cut short (the server failed mid-stream) ends without its last chunk: refuse it.
    if (!res.complete) throw cut();
    return received;
  }

  /** A streamed call: resolves with the response once its status is 2xx; other statuses reject with the server's error. */
  #stream(method: string, path: string, upload?: { body: NodeJS.ReadableStream; size: number }): Promise<IncomingMessage> {
    const url = new URL(path, this.#base);
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method,
        agent: this.#agent,
        headers: {
          accept: 'application/octet-stream, application/json',
          ...(upload === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': String(upload.size) }),
          ...(this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` }),
        },
      });
      req.on('response', res => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(res);
        void text(res).then(body => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = undefined;
          }
          reject(serverError(status, parsed));
        }, reject);
      });
      req.on('error', cause =>
        reject(new StrataError('ERR_CLIENT_CONNECTION_FAILED', `cannot reach ${this.#base.origin}: ${cause.message}`, { cause, details: { server: this.#base.origin } })),
      );
      if (upload === undefined) req.end();
      else upload.body.pipe(req);
    });
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

/** What a restore through the server answers. */
/** What creating an API key answers. */
export interface ApiKeyCreated {
  readonly id: string;
  readonly key: string;
  readonly expires_at: string | null;
  readonly name: string;
  readonly tenants: readonly string[];
  readonly created_at: string;
}

export interface RestoreReply {
  readonly kind: 'tenant' | 'collection';
  readonly tenant: string;
  readonly collection?: string;
  /** The tenant's id after the restore (16 hex digits). */
  readonly id: string;
  readonly replaced: boolean;
  readonly consistent: boolean;
  readonly bytes: number;
  readonly pairs: number;
  readonly points: number;
}

async function text(res: IncomingMessage): Promise<string> {
  let out = '';
  res.setEncoding('utf8');
  for await (const chunk of res) out += chunk as string;
  return out;
}

/** The server's error answer as a StrataError with the server's own code. */
function serverError(status: number, body: unknown): StrataError {
  const err = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
  const code = err?.code !== undefined && err.code in ERROR_CODES ? (err.code as ErrorCode) : 'ERR_SERVER_INTERNAL';
  return new StrataError(code, err?.message ?? `the server answered ${status}`, { details: { status, ...(err?.details ?? {}) } });
}
