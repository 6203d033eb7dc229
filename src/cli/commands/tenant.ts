import { Command } from 'commander';
import type { TenantView } from '../../client/native-client.js';
import { invalidArgument } from '../../errors.js';
import type { Output } from '../output.js';
import { withStore } from '../store.js';
import { positiveInteger, serverOptions, storeOptions, withStoreOptions } from './options.js';

/** `strata tenant …`: the tenant registry (fdbcli's createtenant, listtenants, gettenant, …). */
export function tenantCommand(output: Output): Command {
  const tenant = new Command('tenant').description('create, list, inspect, rename and delete tenants (locally, or --server as an operator)');
  const run = <T>(opts: Record<string, unknown>, fn: Parameters<typeof withStore<T>>[2]) => withStore(storeOptions(opts), serverOptions(opts), fn);

  withStoreOptions(tenant.command('create').description('create a tenant').argument('<name>', 'tenant name (1-255 bytes of UTF-8)'))
    .option('--json', 'print the tenant as JSON')
    .action(async (name: string, opts) => {
      const t = await run(opts, s => s.createTenant(name));
      output.out(opts.json ? JSON.stringify(t) : `The tenant \`${t.name}' has been created with id ${t.id}`);
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
      const { tenants, more } = await run(opts, s => s.listTenants(range));
      if (opts.json) return output.out(JSON.stringify({ tenants, more }));
      if (tenants.length === 0) return output.out('The cluster has no tenants');
      tenants.forEach((t: TenantView, i: number) => output.out(`  ${i + 1}. ${t.name}\t(id ${t.id})`));
      if (more) output.out(`(more tenants follow; list from after \`${tenants[tenants.length - 1]?.name}' to see them)`);
    });

  withStoreOptions(tenant.command('get').description('show one tenant').argument('<name>', 'tenant name'))
    .option('--json', 'print the tenant as JSON')
    .action(async (name: string, opts) => {
      const t = await run(opts, s => s.getTenant(name));
      output.out(opts.json ? JSON.stringify(t) : `name: ${t.name}\nid: ${t.id}\nprefix: fd${t.id}`);
    });

  withStoreOptions(tenant.command('rename').description('rename a tenant (its data stays)').argument('<old>').argument('<new>')).action(
    async (from: string, to: string, opts) => {
      await run(opts, s => s.renameTenant(from, to));
      output.out(`The tenant \`${from}' has been renamed to \`${to}'`);
    },
  );

  withStoreOptions(tenant.command('delete').description('delete a tenant; refused while it holds data unless --force').argument('<name>'))
    .option('--force', 'also delete all of the tenant’s data')
    .action(async (name: string, opts) => {
      await run(opts, s => s.deleteTenant(name, opts.force === true));
      output.out(`The tenant \`${name}' has been deleted`);
    });

  const limitFlags: Array<[string, string, string]> = [
    ['--read-rate <n>', 'read_rate_limit', 'reads per minute (token holders)'],
    ['--write-rate <n>', 'write_rate_limit', 'writes per minute (token holders)'],
    ['--max-points <n>', 'max_points', 'points over all collections'],
    ['--max-bytes <n>', 'max_bytes', 'bytes of payloads and vectors'],
  ];
  const limits = withStoreOptions(
    tenant
      .command('limits')
      .description('show a tenant’s limits and usage, or set them: N (0 for unlimited) or "default" for the server’s knob')
      .argument('<name>', 'tenant name'),
  ).option('--json', 'print the report as JSON');
  for (const [flag, , help] of limitFlags) limits.option(flag, help);
  limits.action(async (name: string, opts) => {
    const changes: Record<string, number | null> = {};
    for (const [flag, field] of limitFlags) {
      const value = opts[camel(flag)] as string | undefined;
      if (value === undefined) continue;
      if (value === 'default') changes[field] = null;
      else if (/^\d+$/.test(value)) changes[field] = Number(value);
      else throw invalidArgument(`${flag.split(' ')[0]} takes a whole number (0: unlimited) or "default"`);
    }
    const report = await run(opts, s => s.tenantLimits(name, Object.keys(changes).length === 0 ? undefined : changes));
    if (opts.json) return output.out(JSON.stringify(report));
    const shown = (field: string) => {
      const own = (report.limits as Record<string, number | undefined>)[field];
      const inForce = (report.in_force as Record<string, number> | undefined)?.[field];
      const value = own ?? inForce;
      return `${value === undefined ? 'server default' : value === 0 ? 'unlimited' : String(value)}${own === undefined && inForce !== undefined ? ' (server default)' : ''}`;
    };
    output.out(`tenant: ${report.name}`);
    for (const [, field] of limitFlags) output.out(`${field}: ${shown(field)}`);
    output.out(`points: ${report.usage.points}\nbytes: ${report.usage.bytes}`);
  });

  return tenant;
}

/** commander's option key for a flag: `--read-rate <n>` is `readRate`. */
const camel = (flag: string) => (flag.split(' ')[0] as string).slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
