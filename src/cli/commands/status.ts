import { Command } from 'commander';
import { countTenants } from '../../tenancy/registry.js';
import { withDatabase } from '../connect.js';
import type { Output } from '../output.js';
import { storeOptions, withStoreOptions } from './options.js';

/** `strata status`: open the store and report what is there (fdbcli's `status`, briefly). */
export function statusCommand(output: Output): Command {
  return withStoreOptions(new Command('status').description('open the database and report its engine and tenants'))
    .option('--json', 'print {"engine", "location", "tenants"}')
    .action(async opts => {
      const where = storeOptions(opts);
      const { engine, tenants } = await withDatabase(where, async db => ({
        engine: db.engine,
        tenants: await db.transact(tx => countTenants(tx)),
      }));
      const location = where.clusterFile ?? where.dataDir ?? process.env['STRATA_DATA_DIR'] ?? './data';
      if (opts.json) return output.out(JSON.stringify({ engine, location, tenants }));
      output.out(`Engine: ${engine} (${location})`);
      output.out(`Tenants: ${tenants}`);
    });
}
