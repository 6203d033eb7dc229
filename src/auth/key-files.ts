/**
 * Signing key files: a private JWK (mode 0600) and a JWK Set holding the public halves. Used by
 * `strata keys generate` and by `strata serve` when it makes a development signing key.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { type KeyAlgorithm } from './keyset.js';
import { invalidArgument, StrataError } from '../errors.js';

/** What {@link generateKeyFiles} makes. */
export interface KeyFilesOptions {
  readonly alg: KeyAlgorithm;
  readonly kid: string;
  /** Where the private JWK goes (default `./<kid>.private.jwk.json`). */
  readonly privateKeyFile?: string;
  /** The JWK Set that receives the public key (default `./jwks.json`; created when missing). */
  readonly jwksFile?: string;
  /** Overwrite the private key file and replace a same-kid key in the JWK Set. */
  readonly force?: boolean;
}

/** What {@link generateKeyFiles} wrote. */
export interface KeyFilesResult {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly privateKeyFile: string;
  readonly jwksFile: string;
  /** Keys in the JWK Set afterwards. */
  readonly keys: number;
}

// A kid becomes part of the default file name, so keep it to characters that are safe there.
const KID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;


/**
 * Generate a signing key pair: the private JWK (with kid, alg and use) to a file only its owner can
 * read, and the public half merged into a JWK Set for `--authorization-public-key-file`. Every
 * conflict is found before anything is written, so a refused run changes nothing.
 */
export async function generateKeyFiles(options: KeyFilesOptions): Promise<KeyFilesResult> {
  const { alg, kid, force = false } = options;
  if (!KID.test(kid)) throw invalidArgument(`--kid must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit; got ${JSON.stringify(kid)}`);
  const privateKeyFile = options.privateKeyFile ?? `./${kid}.private.jwk.json`;
  const jwksFile = options.jwksFile ?? './jwks.json';

  const existing = await readJwks(jwksFile);
  const others = existing.keys.filter(k => !(isRecord(k) && k['kid'] === kid));
  if (others.length < existing.keys.length && !force) {
    throw invalidArgument(`${jwksFile} already has a key with kid ${JSON.stringify(kid)}; choose another --kid, or pass --force to replace it`);
  }
  if (!force && (await exists(privateKeyFile))) {
    throw invalidArgument(`${privateKeyFile} already exists; choose another --private-key-file, or pass --force to overwrite it`);
  }

  const pair = await generateKeyPair(alg, { extractable: true });
  const tags = { kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...tags, ...(await exportJWK(pair.privateKey)) };
  const publicJwk: JWK = { ...tags, ...(await exportJWK(pair.publicKey)) };

  await writeAtomically(privateKeyFile, `${JSON.stringify(privateJwk, null, 2)}\n`, 0o600, !force);
  const keys = [...others, publicJwk];
  await writeAtomically(jwksFile, `${JSON.stringify({ ...existing.doc, keys }, null, 2)}\n`, existing.mode ?? 0o644, false);
  return { kid, alg, privateKeyFile, jwksFile, keys: keys.length };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

/** The JWK Set at `path` (its other members kept as they are), or an empty one when missing. */
async function readJwks(path: string): Promise<{ doc: Record<string, unknown>; keys: unknown[]; mode: number | undefined }> {
  let text: string;
  let mode: number;
  try {
    text = await readFile(path, 'utf8');
    mode = (await stat(path)).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { doc: {}, keys: [], mode: undefined };
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  if (!isRecord(doc) || !Array.isArray(doc['keys'])) {
    // Rewriting a file we cannot read as a JWK Set could destroy someone's keys: leave it alone.
    throw new StrataError('ERR_AUTH_KEYSET_INVALID', `${path} is not a JWK Set ({"keys": [...]}); fix or move it first`);
  }
  return { doc, keys: doc['keys'], mode };
}

/**
 * Write `text` to `path` through a temporary file, so a server re-reading the JWK Set never sees
 * half a file. With `exclusive`, the file is put in place by a hard link, which fails if `path`
 * exists (even one created by another run a moment ago); otherwise by a rename over it.
 */
async function writeAtomically(path: string, text: string, mode: number, exclusive: boolean): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, { mode, flag: 'wx' });
    await chmod(temp, mode); // writeFile's mode passes through the umask; set it exactly
    if (exclusive) {
      await link(temp, path).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? invalidArgument(`${path} already exists; pass --force to overwrite it`) : err;
      });
    } else {
      await rename(temp, path);
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

