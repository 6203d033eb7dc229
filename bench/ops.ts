import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureLimits } from './ops-limits.js';
import { measureSnapshots } from './ops-snapshot.js';
import { printJson, printTable, type Row } from './report.js';
import { pinnable, pinSelf } from './server.js';

/**
 * Operations: what limits cost a request when none is reached (`limits_ratio`, target ≥ 0.95),
 * and snapshot and restore speed against `fs.copyFile` of the same bytes (`snapshot_ratio`, the
 * worse of the two, target ≥ 0.3).
 */
export async function benchOps(quick: boolean): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-ops-'));
  try {
    const snap = await measureSnapshots(dir, quick);
    // Server and load generator each on a core of their own where the machine allows.
    const pin = await pinnable();
    if (pin) await pinSelf(1);
    const limits = await measureLimits(dir, quick, pin);
    const rows: Row[] = [
      { metric: 'filtered query: every limit on vs none', strata: limits.readOn, baseline: limits.readOff, ratio: limits.readRatio, unit: 'req/s' },
      { metric: 'upsert of 8 points: every limit on vs none', strata: limits.writeOn, baseline: limits.writeOff, ratio: limits.writeRatio, unit: 'req/s' },
      { metric: 'upsert of 8 points: a tenant quota vs none', strata: limits.writeQuota, baseline: limits.writeOff, ratio: limits.quotaRatio, unit: 'req/s' },
      { metric: `snapshot of a tenant (${snap.points.toLocaleString('en-US')} points) vs fs.copyFile`, strata: snap.createMBps, baseline: snap.copyMBps, unit: 'MB/s' },
      { metric: 'restore of that snapshot vs fs.copyFile', strata: snap.restoreMBps, baseline: snap.copyMBps, unit: 'MB/s' },
      { metric: 'lmdb-js alone: putSync of the same pairs vs fs.copyFile', strata: snap.lmdbPutMBps, baseline: snap.copyMBps, unit: 'MB/s' },
      { metric: 'lmdb-js alone: getRange over them vs fs.copyFile', strata: snap.lmdbScanMBps, baseline: snap.copyMBps, unit: 'MB/s' },
      { metric: 'strata backup of the whole store vs fs.copyFile of its file', strata: snap.backupMBps, baseline: snap.storeCopyMBps, unit: 'MB/s' },
    ];
    printTable(`ops: limits, snapshots and restore${quick ? ' (quick)' : ''}`, 'baseline', rows);
    console.log(`tenant data ${(snap.dataBytes / 1048576).toFixed(1)} MB of keys and values; snapshot file ${(snap.fileBytes / 1048576).toFixed(1)} MB`);
    printJson('ops', {
      limits_ratio: Math.min(limits.readRatio, limits.writeRatio),
      limits_ratio_read: limits.readRatio,
      limits_ratio_write: limits.writeRatio,
      quota_write_ratio: limits.quotaRatio,
      snapshot_ratio: Math.min(snap.createRatio, snap.restoreRatio),
      snapshot_ratio_create: snap.createRatio,
      snapshot_ratio_restore: snap.restoreRatio,
      snapshot_mb_per_s: snap.createMBps,
      restore_mb_per_s: snap.restoreMBps,
      copy_mb_per_s: snap.copyMBps,
      lmdb_put_ratio: snap.lmdbPutMBps / snap.copyMBps,
      lmdb_scan_ratio: snap.lmdbScanMBps / snap.copyMBps,
      backup_ratio: snap.backupMBps / snap.storeCopyMBps,
      backup_mb_per_s: snap.backupMBps,
      snapshot_file_mb: snap.fileBytes / 1048576,
      data_mb: snap.dataBytes / 1048576,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
