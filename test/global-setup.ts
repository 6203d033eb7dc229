/** Say once per run which engines the conformance suite covers. */
export default function announceEngines(): void {
  if (process.env['FDB_CLUSTER_FILE']) console.log(`conformance: embedded and FoundationDB (${process.env['FDB_CLUSTER_FILE']})`);
  else console.log('conformance: embedded engine only; FoundationDB skipped: set FDB_CLUSTER_FILE to a cluster file to run it');
}
