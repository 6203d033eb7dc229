import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NativeClient, type NativeClientOptions, type TenantView } from '../client/native-client.js';
import { runTransactBody, type OpResult, type TransactBody } from '../server/transact-ops.js';
import {
  countTenants,
  createTenant,
  deleteTenant,
  listTenants,
  renameTenant,
  requireTenant,
  tenantIdHex,
  type ListTenantsOptions,
  type TenantInfo,
} from '../tenancy/registry.js';
import { tenantHandle } from '../tenancy/tenant.js';
import { setTenantLimits } from '../tenancy/limits.js';
import { tenantLimitsReport, type TenantLimitsReport } from '../server/limits.js';
import { connect, dataDirOf, type ConnectOptions } from './connect.js';

/**
 * What the `tenant` and `kv` commands need, from a local store or from a server over mutual TLS:
 * one interface, so each command is written once.
 */
export interface CliStore {
  createTenant(name: string): Promise<TenantView>;
  listTenants(options: ListTenantsOptions): Promise<{ tenants: TenantView[]; more: boolean }>;
  getTenant(name: string): Promise<TenantView>;
  renameTenant(name: string, to: string): Promise<TenantView>;
  deleteTenant(name: string, force: boolean): Promise<TenantView>;
  /** Run a native transact body in a tenant's keyspace, or on raw keys when `tenant` is undefined. */
  transact(tenant: string | undefined, body: TransactBody): Promise<OpResult[]>;
  /** A tenant's limits and usage; with `changes`, set those first (null: back to the server's default). */
  tenantLimits(name: string, changes?: Readonly<Record<string, number | null>>): Promise<TenantLimitsReport>;
  /** The engine, where the store is (a data directory, a cluster file or a server URL), and the tenant count. */
  status(): Promise<StoreStatus>;
  close(): Promise<void>;
}

/** What `status` reports, from the local engine or the server's GET /v1/admin/status. */
export interface StoreStatus {
  readonly engine: string;
  readonly location: string;
  readonly tenants: number;
}

/** Where a server is and how to authenticate to it. */
export interface ServerOptions {
  readonly server?: string;
  readonly tlsCaFile?: string;
  readonly tlsCertificateFile?: string;
  readonly tlsKeyFile?: string;
  readonly token?: string;
}

/** The development certificates `strata serve` makes, used when no TLS files are given. */
const DEV_CERTS = 'certs/dev';

const show = (t: TenantInfo): TenantView => ({ name: t.name, id: tenantIdHex(t.id) });

/** Open the store a command names: `--server` (over HTTPS) or the local engine. */
export async function openCliStore(local: ConnectOptions, remote: ServerOptions): Promise<CliStore> {
  if (remote.server !== undefined) return remoteStore(remote);
  const db = await connect(local);
  const tx = db.transact.bind(db);
  return {
    createTenant: async name => show(await tx(t => createTenant(t, name))),
    listTenants: async options => {
      const { tenants, more } = await tx(t => listTenants(t, options));
      return { tenants: tenants.map(show), more };
    },
    getTenant: async name => show(await tx(t => requireTenant(t, name))),
    renameTenant: async (name, to) => show(await tx(t => renameTenant(t, name, to))),
    deleteTenant: async (name, force) => show(await tx(t => deleteTenant(t, name, { force }))),
    transact: (tenant, body) =>
      tenant === undefined ? tx(t => runTransactBody(t, body)) : tenantHandle(db, tenant).transact(t => runTransactBody(t, body)),
    tenantLimits: (name, changes) =>
      tx(async t => {
        if (changes !== undefined) {
          await requireTenant(t, name);
          await setTenantLimits(t, name, changes);
        }
        return tenantLimitsReport(t, name);
      }),
    status: async () => ({ engine: db.engine, location: local.clusterFile ?? dataDirOf(local), tenants: await tx(t => countTenants(t)) }),
    close: () => db.close(),
  };
}

/**
 * The TLS files and token for a server call: those given, else the development certificates that
 * `strata serve` makes (the operator's only when no token is given: a token holder is untrusted).
 */
export function devOrGiven(options: ServerOptions): Omit<NativeClientOptions, 'url'> {
  const file = (given: string | undefined, dev: string) => given ?? (existsSync(join(DEV_CERTS, dev)) ? join(DEV_CERTS, dev) : undefined);
  const ca = file(options.tlsCaFile, 'ca.pem');
  const cert = options.token === undefined ? file(options.tlsCertificateFile, 'operator.pem') : options.tlsCertificateFile;
  const key = options.token === undefined ? file(options.tlsKeyFile, 'operator.key') : options.tlsKeyFile;
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(options.token === undefined ? {} : { token: options.token }),
  };
}

function remoteStore(options: ServerOptions): CliStore {
  const client = new NativeClient({ url: options.server as string, ...devOrGiven(options) });
  return {
    createTenant: name => client.createTenant(name),
    listTenants: options => client.listTenants(options),
    getTenant: name => client.getTenant(name),
    renameTenant: (name, to) => client.renameTenant(name, to),
    deleteTenant: (name, force) => client.deleteTenant(name, force),
    transact: async (tenant, body) => (await client.transact(tenant ?? null, body)).results as OpResult[],
    tenantLimits: (name, changes) => client.tenantLimits(name, changes),
    status: async () => {
      const { engine, tenants } = await client.status();
      return { engine: String(engine), location: options.server as string, tenants: Number(tenants) };
    },
    close: async () => client.close(),
  };
}

/** Run `fn` on the store and always close it. */
export async function withStore<T>(local: ConnectOptions, remote: ServerOptions, fn: (store: CliStore) => Promise<T>): Promise<T> {
  const store = await openCliStore(local, remote);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
