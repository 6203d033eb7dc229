import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * docker-compose.yml, as a user runs it to grow past one machine: FoundationDB 7.3, a one-shot
 * service that creates the database, and two Strata servers on the one cluster file, with health
 * checks. No Docker engine runs here, so the file is checked as written (and by `docker-compose
 * config`, where that command exists).
 */
const ROOT = join(import.meta.dirname, '..', '..');
const file = join(ROOT, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
}

const services = (parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, Service> }).services;

it('runs FoundationDB 7.3, creates its database once, then two Strata servers on its cluster file', () => {
  expect(Object.keys(services).sort()).toEqual(['fdb', 'fdb-init', 'strata-1', 'strata-2']);
  expect(services['fdb']?.image).toMatch(/^foundationdb\/foundationdb:7\.3\./);
  expect(services['fdb-init']?.command?.join(' ')).toContain('configure new single ssd');
  for (const name of ['strata-1', 'strata-2']) {
    const s = services[name] as Service;
    expect(s.build).toBeDefined();
    // Both serve from the cluster file the fdb service writes into the shared volume.
    expect(s.command).toEqual(['serve', '--cluster-file', '/var/fdb/fdb.cluster', '--listen', '0.0.0.0:6333']);
    expect(s.volumes).toContain('fdb-cluster:/var/fdb');
    expect(s.volumes).toContain('strata-certs:/app/certs'); // one set of certificates and keys for both
    expect(s.depends_on?.['fdb-init']?.condition).toBe('service_completed_successfully');
    expect(s.healthcheck?.test.join(' ')).toContain('/healthz');
  }
  // The second starts once the first is healthy (the first makes the shared development material).
  expect(services['strata-2']?.depends_on?.['strata-1']?.condition).toBe('service_healthy');
  expect(services['fdb']?.volumes).toContain('fdb-cluster:/etc/foundationdb');
  expect([services['strata-1']?.ports, services['strata-2']?.ports]).toEqual([['6333:6333'], ['6334:6333']]);
});

it('health-checks with a command that exits 0 only for a healthy server', () => {
  const test = services['strata-1']?.healthcheck?.test as string[];
  expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
  // The check's script, pointed at nothing listening, fails as Docker needs it to.
  const script = (test[3] as string).replace('127.0.0.1:6333', '127.0.0.1:9');
  expect(spawnSync(process.execPath, ['-e', script], { timeout: 10_000 }).status).toBe(1);
});

it('is valid for docker-compose config, where that command exists', () => {
  const which = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  if (which.error !== undefined || which.status !== 0) return; // not installed here: the parse above stands
  expect(() => execFileSync('docker-compose', ['-f', file, 'config', '-q'], { stdio: 'pipe' })).not.toThrow();
});
