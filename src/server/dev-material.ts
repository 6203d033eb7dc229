import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyFiles } from '../auth/key-files.js';
import { devCertificatePaths, generateDevCertificates, type DevCertificates } from './dev-certs.js';

/** What `strata serve` uses when it is given no TLS files: made once, then reused. */
export interface DevMaterial {
  readonly certs: DevCertificates;
  /** The public key set tokens are checked against, when the server made its own signing key. */
  readonly jwksFile: string | undefined;
  /** The private key that signs development tokens (`strata token mint --key …`). */
  readonly privateKeyFile: string | undefined;
  /** True when this call made anything (the server then prints how to use it, once). */
  readonly created: boolean;
}

export const DEV_KID = 'dev';

/**
 * Development certificates in `dir`, and (with `signingKey`) an ES256 signing key pair: the
 * private JWK (mode 0600) and a JWK Set with its public half. Existing files are kept.
 */
export async function ensureDevMaterial(dir: string, signingKey: boolean): Promise<DevMaterial> {
  let created = false;
  let certs = devCertificatePaths(dir);
  if (!existsSync(certs.caCert)) {
    certs = await generateDevCertificates(dir);
    created = true;
  }
  if (!signingKey) return { certs, jwksFile: undefined, privateKeyFile: undefined, created };
  const jwksFile = join(dir, 'jwks.json');
  const privateKeyFile = join(dir, `${DEV_KID}.private.jwk.json`);
  if (!existsSync(jwksFile) || !existsSync(privateKeyFile)) {
    await generateKeyFiles({ alg: 'ES256', kid: DEV_KID, privateKeyFile, jwksFile, force: true });
    created = true;
  }
  return { certs, jwksFile, privateKeyFile, created };
}
