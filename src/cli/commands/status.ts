import { Command } from 'commander';
import { isStrataError } from '../../errors.js';
import { countTenants } from '../../tenancy/registry.js';
import { dataDirOf, withDatabase } from '../connect.js';
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
      const location = where.clusterFile ?? dataDirOf(where);
      if (opts.json) return output.out(JSON.stringify({ engine, location, tenants }));
      output.out(`Engine: ${engine} (${location})`);
      output.out(`Tenants: ${tenants}`);
    });
}

/** `strata init`: create an empty embedded store (a no-op where one exists), as `configure new` does for fdbcli. */
export function initCommand(output: Output): Command {
  return new Command('init')
    .description('create an empty embedded store in the data directory (nothing happens if one exists)')
    .option('-d, --data-dir <dir>', 'embedded engine data directory (default: $STRATA_DATA_DIR or ./data)')
    .action(async opts => {
      const dataDir = dataDirOf(storeOptions(opts));
      const found = await withDatabase(storeOptions(opts), async () => true).catch(err => {
        if (isStrataError(err, 'ERR_KV_STORE_NOT_FOUND')) return false;
        throw err;
      });
      if (!found) await withDatabase(storeOptions(opts), async () => undefined, true);
      output.out(found ? `${dataDir} already holds a store` : `Created an empty store in ${dataDir}`);
    });
}
