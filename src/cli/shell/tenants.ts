import { invalidArgument, StrataError } from '../../errors.js';
import { parsePrintable } from '../printable.js';
import type { ShellCommand, ShellContext } from './command.js';

/** `tenant list`'s count when none is given, as `strata tenant list`. */
const DEFAULT_TENANT_LIMIT = 100;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A tenant name as typed in the shell: escapes decoded like a key's, then read as UTF-8. */
function tenantName(text: string | undefined): string {
  try {
    return utf8.decode(parsePrintable(text as string));
  } catch (err) {
    if (err instanceof TypeError) throw new StrataError('ERR_TENANT_NAME_INVALID', `tenant name ${JSON.stringify(text)} is not valid UTF-8`);
    throw err;
  }
}

function tenantLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TENANT_LIMIT;
  if (!/^\d+$/.test(text)) throw invalidArgument(`bad limit \`${text}': give a whole number`);
  return Number(text);
}

/** A literal word that may follow the arguments (`force`, `JSON`), in any case. */
function flag(text: string | undefined, word: string): boolean {
  if (text === undefined) return false;
  if (text.toLowerCase() !== word.toLowerCase()) throw invalidArgument(`expected \`${word}' or nothing, got \`${text}'`);
  return true;
}

function useTenant(ctx: ShellContext, name: string | undefined): void {
  ctx.state.tenant = name;
  ctx.output.out(name === undefined ? 'Using the default tenant' : `Using tenant \`${name}'`);
}

/** The tenant registry, and choosing the tenant that key commands work in. */
export const TENANT_COMMANDS: readonly ShellCommand[] = [
  {
    name: 'tenant create',
    args: 'NAME',
    summary: 'create a tenant',
    writes: true,
    run: async (ctx, [name]) => {
      const t = await ctx.store.createTenant(tenantName(name));
      ctx.output.out(`The tenant \`${t.name}' has been created with id ${t.id}`);
    },
  },
  {
    name: 'tenant delete',
    args: 'NAME [force]',
    summary: 'delete a tenant; refused while it holds data, unless `force` deletes the data too',
    writes: true,
    run: async (ctx, [name, force]) => {
      const t = await ctx.store.deleteTenant(tenantName(name), flag(force, 'force'));
      ctx.output.out(`The tenant \`${t.name}' has been deleted`);
      if (t.name === ctx.state.tenant) {
        ctx.output.out("WARNING: the active tenant was deleted. Use the `usetenant' or `defaulttenant' command to choose a new tenant.");
      }
    },
  },
  {
    name: 'tenant list',
    args: '[BEGIN] [END] [LIMIT]',
    summary: 'list tenants in name order, from BEGIN (inclusive) to END (exclusive)',
    details: `LIMIT defaults to ${DEFAULT_TENANT_LIMIT}; give "" for BEGIN or END to leave it open.`,
    writes: false,
    run: async (ctx, [begin, end, limit]) => {
      const range = {
        ...(begin === undefined || begin === '' ? {} : { begin: tenantName(begin) }),
        ...(end === undefined || end === '' ? {} : { end: tenantName(end) }),
        limit: tenantLimit(limit),
      };
      const { tenants, more } = await ctx.store.listTenants(range);
      if (tenants.length === 0) return ctx.output.out('The cluster has no tenants');
      tenants.forEach((t, i) => ctx.output.out(`  ${i + 1}. ${t.name}\t(id ${t.id})`));
      if (more) ctx.output.out(`(more tenants follow; list from after \`${tenants[tenants.length - 1]?.name}' to see them)`);
    },
  },
  {
    name: 'tenant get',
    args: 'NAME [JSON]',
    summary: 'show one tenant (as JSON with `JSON`)',
    writes: false,
    run: async (ctx, [name, json]) => {
      const t = await ctx.store.getTenant(tenantName(name));
      ctx.output.out(flag(json, 'JSON') ? JSON.stringify(t) : `name: ${t.name}\nid: ${t.id}\nprefix: fd${t.id}`);
    },
  },
  {
    name: 'tenant rename',
    args: 'OLD NEW',
    summary: 'rename a tenant (its data stays)',
    writes: true,
    run: async (ctx, [from, to]) => {
      const [oldName, newName] = [tenantName(from), tenantName(to)];
      await ctx.store.renameTenant(oldName, newName);
      ctx.output.out(`The tenant \`${oldName}' has been renamed to \`${newName}'`);
      // The data the session was working on is still there, under the new name: follow it.
      if (oldName === ctx.state.tenant) useTenant(ctx, newName);
    },
  },
  {
    name: 'usetenant',
    args: '[NAME]',
    summary: 'work in the keyspace of tenant NAME (without NAME: say which tenant is in use)',
    details: 'Later get, set, clear, getrange and clearrange read and write only that tenant’s keys.',
    writes: false,
    run: async (ctx, [text]) => {
      if (text === undefined) return useTenant(ctx, ctx.state.tenant);
      const name = tenantName(text);
      // An empty transaction in the tenant: fails unless the tenant exists and the caller may use it
      // (an operator, or a token naming it), which the trusted-only `tenant get` could not tell.
      await ctx.store.transact(name, { ops: [] });
      useTenant(ctx, name);
    },
  },
  {
    name: 'defaulttenant',
    args: '',
    summary: 'go back to the raw keyspace (no tenant)',
    writes: false,
    run: async ctx => useTenant(ctx, undefined),
  },
];
