import { Command, InvalidArgumentError } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey, viewOf, type ApiKeyView } from '../../auth/apikeys.js';
import { rotateIssuingKey } from '../../auth/issuing-keys.js';
import { NativeClient } from '../../client/native-client.js';
import { invalidArgument } from '../../errors.js';
import { connect } from '../connect.js';
import type { Output } from '../output.js';
import { devOrGiven, type ServerOptions } from '../store.js';
import { serverOptions, storeOptions, withStoreOptions } from './options.js';
import { parseDuration } from './token.js';
import type { ConnectOptions } from '../connect.js';

/** What the credential commands do, on a local store or through a server as an operator. */
interface CredentialStore {
  create(spec: { name: string; tenants: string[]; access?: unknown; ttl_seconds?: number }): Promise<{ id: string; key: string; expires_at: string | null }>;
  list(): Promise<ApiKeyView[]>;
  rotate(id: string, graceSeconds?: number): Promise<{ id: string; key: string; previous_secret_until?: string }>;
  revoke(id: string): Promise<void>;
  rotateIssuingKey(): Promise<{ kid: string; retiring: Array<{ kid: string; retire_at: string }> }>;
  close(): Promise<void>;
}

async function openCredentialStore(local: ConnectOptions, remote: ServerOptions): Promise<CredentialStore> {
  if (remote.server !== undefined) {
    const client = new NativeClient({ url: remote.server, ...devOrGiven(remote) });
    return {
      create: spec => client.createApiKey(spec),
      list: async () => (await client.listApiKeys()).apikeys,
      rotate: (id, grace) => client.rotateApiKey(id, grace),
      revoke: async id => void (await client.revokeApiKey(id)),
      rotateIssuingKey: () => client.rotateIssuingKey(),
      close: async () => client.close(),
    };
  }
  const db = await connect(local);
  return {
    create: async spec => {
      const { record, key } = await db.transact(tx =>
        createApiKey(tx, { name: spec.name, tenants: spec.tenants, ...(spec.access === undefined ? {} : { access: spec.access }), ...(spec.ttl_seconds === undefined ? {} : { ttlSeconds: spec.ttl_seconds }) }, Date.now()),
      );
      return { id: record.id, key, expires_at: viewOf(record).expires_at };
    },
    list: () => db.transact(tx => listApiKeys(tx)),
    rotate: async (id, grace) => {
      const { record, key } = await db.transact(tx => rotateApiKey(tx, id, Date.now(), ...(grace === undefined ? [] : [grace])));
      const until = viewOf(record).previous_secret_until;
      return { id, key, ...(until === undefined ? {} : { previous_secret_until: until }) };
    },
    revoke: async id => void (await db.transact(tx => revokeApiKey(tx, id))),
    rotateIssuingKey: () => rotateIssuingKey(db, Date.now()),
    close: () => db.close(),
  };
}

async function withCredentials<T>(opts: Record<string, unknown>, fn: (store: CredentialStore) => Promise<T>): Promise<T> {
  const store = await openCredentialStore(storeOptions(opts), serverOptions(opts));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function parseAccessOption(text: string): unknown {
  if (text === 'r' || text === 'm') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidArgumentError('expected "r", "m" or a JSON list such as \'[{"collection":"docs","access":"rw"}]\'');
  }
}

/** `strata apikey …`: API keys that services exchange for tokens or present as Qdrant's api-key. */
export function apikeyCommand(output: Output): Command {
  const apikey = new Command('apikey').description('issue, list, rotate and revoke API keys (operators; locally or --server)');

  withStoreOptions(apikey.command('create').description('issue an API key; it is printed once and never shown again'))
    .requiredOption('--name <name>', 'what the key is for (shown in listings)')
    .requiredOption('--tenants <names>', 'comma-separated tenants the key reaches')
    .option('--access <access>', 'Qdrant-style access: "r", "m", or a JSON list of {collection, access, payload?} (default: full rights in the tenants)', parseAccessOption)
    .option('--ttl <duration>', 'expire after this long (30s, 15m, 1h, 90d; default: never)')
    .option('--json', 'print {"id", "key", "expires_at"}')
    .addHelpText('after', '\nExample:\n  strata apikey create --name ci-ingest --tenants acme --access \'[{"collection":"docs","access":"rw"}]\' --ttl 90d')
    .action(async opts => {
      const tenants = String(opts.tenants).split(',').map(t => t.trim()).filter(t => t !== '');
      if (tenants.length === 0) throw invalidArgument('--tenants must name at least one tenant');
      const spec = { name: opts.name as string, tenants, ...(opts.access === undefined ? {} : { access: opts.access as unknown }), ...(opts.ttl === undefined ? {} : { ttl_seconds: parseDuration(opts.ttl as string) }) };
      const created = await withCredentials(opts, s => s.create(spec));
      if (opts.json) return output.out(JSON.stringify({ id: created.id, key: created.key, expires_at: created.expires_at }));
      output.out(created.key);
      output.err(`API key ${created.id} for ${tenants.join(', ')}${created.expires_at === null ? '' : `, expires ${created.expires_at}`}: store it now, it is not shown again`);
    });

  withStoreOptions(apikey.command('list').description('list API keys (never their secrets)'))
    .option('--json', 'print {"apikeys": [...]}')
    .action(async opts => {
      const keys = await withCredentials(opts, s => s.list());
      if (opts.json) return output.out(JSON.stringify({ apikeys: keys }));
      if (keys.length === 0) return output.out('No API keys');
      for (const k of keys) {
        output.out(`${k.id}  ${k.name}  tenants: ${k.tenants.join(',')}  expires: ${k.expires_at ?? 'never'}  last used: ${k.last_used_at ?? 'never'}`);
      }
    });

  withStoreOptions(apikey.command('rotate').description('give a key a new secret; the old one keeps working for --grace').argument('<id>', 'the key id (strata_<id>_…)'))
    .option('--grace <duration>', 'how long the old secret keeps working (0 for not at all)', '1d')
    .option('--json', 'print {"id", "key", "previous_secret_until"?}')
    .action(async (id: string, opts) => {
      const grace = opts.grace === '0' ? 0 : parseDuration(opts.grace as string);
      const rotated = await withCredentials(opts, s => s.rotate(id, grace));
      if (opts.json) return output.out(JSON.stringify(rotated));
      output.out(rotated.key);
      output.err(`API key ${id} rotated${rotated.previous_secret_until === undefined ? '; the old secret no longer works' : `; the old secret works until ${rotated.previous_secret_until}`}`);
    });

  withStoreOptions(apikey.command('revoke').description('revoke a key: it and every token exchanged from it stop working').argument('<id>', 'the key id')).action(
    async (id: string, opts) => {
      await withCredentials(opts, s => s.revoke(id));
      output.out(`API key ${id} revoked`);
    },
  );
  return apikey;
}

/** `strata keys rotate`: a new issuing key for exchanged tokens. */
export function addKeysRotate(keys: Command, output: Output): void {
  withStoreOptions(keys.command('rotate').description('add a new issuing key for exchanged tokens; the old one stays until its tokens have expired'))
    .option('--json', 'print {"kid", "retiring": [...]}')
    .action(async opts => {
      const rotated = await withCredentials(opts, s => s.rotateIssuingKey());
      if (opts.json) return output.out(JSON.stringify(rotated));
      output.out(`New issuing key ${rotated.kid}`);
      for (const r of rotated.retiring) output.out(`  ${r.kid} retires at ${r.retire_at}`);
    });
}
