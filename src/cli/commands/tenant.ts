import { Command } from 'commander';
import {
  createTenant,
  deleteTenant,
  getTenant,
  listTenants,
  renameTenant,
  tenantIdHex,
  type TenantInfo,
} from '../../tenancy/registry.js';
import { StrataError } from '../../errors.js';
import { withDatabase } from '../connect.js';
import type { Output } from '../output.js';
import { positiveInteger, storeOptions, withStoreOptions } from './options.js';

const show = (t: TenantInfo) => ({ name: t.name, id: tenantIdHex(t.id) });

/** `strata tenant …`: the tenant registry (fdbcli's createtenant, listtenants, gettenant, …). */
export function tenantCommand(output: Output): Command {
  const tenant = new Command('tenant').description('create, list, inspect, rename and delete tenants');

  withStoreOptions(tenant.command('create').description('create a tenant').argument('<name>', 'tenant name (1-255 bytes of UTF-8)'))
    .option('--json', 'print the tenant as JSON')
    .action(async (name: string, opts) => {
      const t = await withDatabase(storeOptions(opts), db => db.transact(tx => createTenant(tx, name)));
      output.out(opts.json ? JSON.stringify(show(t)) : `The tenant \`${t.name}' has been created with id ${tenantIdHex(t.id)}`);
    });

  withStoreOptions(
    tenant
      .command('list')
      .description('list tenants in name order, from BEGIN (inclusive) to END (exclusive)')
      .argument('[begin]', 'first name to list')
      .argument('[end]', 'first name past the listing'),
  )
    .option('-l, --limit <n>', 'list at most this many (1-10000)', positiveInteger, 100)
    .option('--json', 'print {"tenants": [...], "more": bool}')
    .action(async (begin: string | undefined, end: string | undefined, opts) => {
      const range = { ...(begin === undefined ? {} : { begin }), ...(end === undefined ? {} : { end }), limit: opts.limit as number };
      const { tenants, more } = await withDatabase(storeOptions(opts), db => db.transact(tx => listTenants(tx, range)));
      if (opts.json) return output.out(JSON.stringify({ tenants: tenants.map(show), more }));
      if (tenants.length === 0) return output.out('The cluster has no tenants');
      tenants.forEach((t, i) => output.out(`  ${i + 1}. ${t.name}\t(id ${tenantIdHex(t.id)})`));
      if (more) output.out(`(more tenants follow; list from after \`${tenants[tenants.length - 1]?.name}' to see them)`);
    });

  withStoreOptions(tenant.command('get').description('show one tenant').argument('<name>', 'tenant name'))
    .option('--json', 'print the tenant as JSON')
    .action(async (name: string, opts) => {
      const t = await withDatabase(storeOptions(opts), db => db.transact(tx => getTenant(tx, name)));
      if (t === undefined) throw new StrataError('ERR_TENANT_NOT_FOUND', `no tenant is called ${JSON.stringify(name)}`);
      output.out(opts.json ? JSON.stringify(show(t)) : `name: ${t.name}\nid: ${tenantIdHex(t.id)}\nprefix: ${Buffer.from(t.prefix).toString('hex')}`);
    });

  withStoreOptions(tenant.command('rename').description('rename a tenant (its data stays)').argument('<old>').argument('<new>')).action(
    async (from: string, to: string, opts) => {
      await withDatabase(storeOptions(opts), db => db.transact(tx => renameTenant(tx, from, to)));
      output.out(`The tenant \`${from}' has been renamed to \`${to}'`);
    },
  );

  withStoreOptions(tenant.command('delete').description('delete a tenant; refused while it holds data unless --force').argument('<name>'))
    .option('--force', 'also delete all of the tenant’s data')
    .action(async (name: string, opts) => {
      await withDatabase(storeOptions(opts), db => db.transact(tx => deleteTenant(tx, name, { force: opts.force === true })));
      output.out(`The tenant \`${name}' has been deleted`);
    });

  return tenant;
}
