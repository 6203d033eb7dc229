import { invalidArgument } from '../../errors.js';
import { Command } from 'commander';
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../../auth/keyset.js';
import { generateKeyFiles } from '../../auth/key-files.js';
import type { Output } from '../output.js';

/** `strata keys …`: signing keys for tokens. */
export function keysCommand(output: Output): Command {
  const keys = new Command('keys').description('make the key pairs that sign tokens (private JWK to sign, public key in a JWK Set to verify)');
  keys
    .command('generate')
    .description(
      'generate a signing key pair: the private JWK goes to a file only you can read (mode 0600), for `strata token mint`; ' +
        'the public key is added to a JWK Set file, for `strata serve --authorization-public-key-file`',
    )
    .option('--alg <alg>', 'signature algorithm: ES256 (EC P-256) or RS256 (RSA 2048)', 'ES256')
    .option('--kid <kid>', 'key id, which tokens name in their header (required; letters, digits, . _ -)')
    .option('--private-key-file <file>', 'where to write the private JWK (default: ./<kid>.private.jwk.json)')
    .option('--jwks-file <file>', 'JWK Set to add the public key to; created when missing', './jwks.json')
    .option('--force', 'overwrite the private key file, and replace a key with the same kid in the JWK Set')
    .option('--json', 'print {"kid", "alg", "privateKeyFile", "jwksFile", "keys"}')
    .addHelpText('after', '\nExample:\n  strata keys generate --alg ES256 --kid signing-1\n  strata token mint --key ./signing-1.private.jwk.json --tenants acme --ttl 1h')
    .action(async opts => {
      const alg: unknown = opts.alg;
      if (!KEY_ALGORITHMS.some(a => a === alg)) throw invalidArgument(`--alg must be ES256 or RS256, got ${JSON.stringify(alg)}`);
      if (typeof opts.kid !== 'string') throw invalidArgument('--kid is required: the key id tokens will name');
      const result = await generateKeyFiles({
        alg: alg as KeyAlgorithm,
        kid: opts.kid,
        ...(opts.privateKeyFile === undefined ? {} : { privateKeyFile: opts.privateKeyFile as string }),
        jwksFile: opts.jwksFile as string,
        force: opts.force === true,
      });
      if (opts.json) return output.out(JSON.stringify(result));
      output.out(`Wrote the private key ${result.kid} (${result.alg}) to ${result.privateKeyFile} (mode 0600): keep it secret`);
      output.out(`Added its public key to ${result.jwksFile} (${result.keys} key${result.keys === 1 ? '' : 's'}): serve with --authorization-public-key-file ${result.jwksFile}`);
      output.out(`Mint a token: strata token mint --key ${result.privateKeyFile} --tenants NAME --ttl 1h`);
    });
  return keys;
}
