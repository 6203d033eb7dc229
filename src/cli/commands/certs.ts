import { Command } from 'commander';
import { generateDevCertificates } from '../../server/dev-certs.js';
import type { Output } from '../output.js';

/** `strata certs generate`: a development CA, server and operator certificates (needs openssl). */
export function certsCommand(output: Output): Command {
  const certs = new Command('certs').description('make development certificates for mutual TLS');
  certs
    .command('generate')
    .description('make a development CA, a server certificate (localhost, 127.0.0.1, ::1) and an operator client certificate')
    .option('--dir <dir>', 'where to write them', 'certs/dev')
    .option('--host <name...>', 'DNS names for the server certificate', ['localhost'])
    .option('--force', 'replace an existing set')
    .action(async opts => {
      const made = await generateDevCertificates(opts.dir as string, { force: opts.force === true, hosts: opts.host as string[] });
      output.out(`Made a development CA and certificates in ${made.dir}:`);
      output.out(`  server:   --tls-certificate-file ${made.serverCert} --tls-key-file ${made.serverKey} --tls-ca-file ${made.caCert}`);
      output.out(`  operator: --cert ${made.operatorCert} --key ${made.operatorKey} (curl), or --tls-certificate-file/--tls-key-file (strata --server)`);
      output.out('The CA key sits beside them: for development only.');
    });
  return certs;
}
