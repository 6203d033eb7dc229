import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { invalidArgument, StrataError } from '../errors.js';

const run = promisify(execFile);

/** The files `generateDevCertificates` writes, all PEM. */
export interface DevCertificates {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** The operator's client certificate: trusted when presented over mutual TLS. */
  readonly operatorCert: string;
  readonly operatorKey: string;
}

/** Where each file lives in `dir`. */
export function devCertificatePaths(dir: string): DevCertificates {
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    operatorCert: join(dir, 'operator.pem'),
    operatorKey: join(dir, 'operator.key'),
  };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new StrataError(
      'ERR_CLI_INVALID_ARGUMENT',
      missing ? 'making development certificates needs the openssl command; install OpenSSL' : `openssl failed: ${String((cause as Error).message)}`,
      { cause },
    );
  }
}

/** Issue `name`'s key and certificate from the CA, with the given extensions. */
async function issue(paths: DevCertificates, name: 'server' | 'operator', subject: string, extensions: string): Promise<void> {
  const key = name === 'server' ? paths.serverKey : paths.operatorKey;
  const cert = name === 'server' ? paths.serverCert : paths.operatorCert;
  const csr = join(paths.dir, `${name}.csr`);
  const ext = join(paths.dir, `${name}.ext`);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  await writeFile(ext, extensions);
  await openssl(['x509', '-req', '-in', csr, '-CA', paths.caCert, '-CAkey', paths.caKey, '-CAcreateserial', '-days', '825', '-sha256', '-extfile', ext, '-out', cert]);
  await chmod(key, 0o600);
}

/**
 * Make a development CA, a server certificate for localhost and 127.0.0.1/::1, and an operator
 * client certificate, all EC P-256, into `dir`. For development only: the CA key sits beside the
 * certificates. Refuses to overwrite an existing set unless `force`.
 */
export async function generateDevCertificates(dir: string, options: { force?: boolean; hosts?: readonly string[] } = {}): Promise<DevCertificates> {
  const paths = devCertificatePaths(dir);
  if (!options.force && existsSync(paths.caCert)) {
    throw invalidArgument(`${dir} already holds development certificates; pass --force to replace them`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', paths.caKey]);
  await chmod(paths.caKey, 0o600);
  await openssl(['req', '-x509', '-new', '-key', paths.caKey, '-subj', '/CN=Strata development CA', '-days', '825', '-sha256', '-out', paths.caCert]);
  const hosts = options.hosts ?? ['localhost'];
  const altNames = [...hosts.map(h => `DNS:${h}`), 'IP:127.0.0.1', 'IP:::1'].join(',');
  await issue(paths, 'server', '/CN=localhost', `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${altNames}\n`);
  await issue(paths, 'operator', '/CN=strata-operator', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
  return paths;
}
