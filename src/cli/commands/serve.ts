import { Command } from 'commander';
import { parseServeArgs, serveHelp } from '../../server/config.js';
import { startServe, type RunningServer } from '../../server/serve.js';
import type { Output } from '../output.js';

/**
 * `strata serve`: the HTTPS server. Its fdbserver-style flags and knobs (`--knob_NAME=VALUE`,
 * `--trusted-subnet-NAME=CIDR`) cannot be declared to commander, so it takes its arguments raw.
 * This is the process wiring: signals are handled here, not in the server modules.
 */
export function serveCommand(output: Output): Command {
  return new Command('serve')
    .description('start the HTTPS server (see strata serve --help for every flag and knob)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[flags...]')
    .action(async (args: string[]) => {
      const config = parseServeArgs(args);
      if (config.help) return output.out(serveHelp());
      const server = await startServe(config);
      if (server.dev?.created) printDevGuide(output, server);
      await untilStopped(server);
    });
}

/** Run until SIGTERM or SIGINT, then close cleanly; SIGHUP re-reads the key set. */
function untilStopped(server: RunningServer): Promise<void> {
  return new Promise(resolve => {
    const stop = (signal: string) => {
      server.logger.info({ signal }, 'shutting down: finishing in-flight requests');
      server.close().then(
        () => resolve(),
        err => {
          server.logger.error({ err }, 'shutdown failed');
          process.exitCode = 1;
          resolve();
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => void server.reloadKeys());
  });
}

/** Printed once, when the server made its development certificates and key. */
function printDevGuide(output: Output, server: RunningServer): void {
  const dev = server.dev!;
  const port = new URL(server.url).port;
  const base = `https://localhost:${port}`;
  output.err(
    [
      '',
      `Development certificates and a signing key were made in ${dev.certs.dir} (kept for next time; never use them in production).`,
      'Try it:',
      `  npx strata tenant create acme --server ${base}`,
      `  TOKEN=$(npx strata token mint --key ${dev.privateKeyFile} --tenants acme --ttl 1h)`,
      `  curl --cacert ${dev.certs.caCert} -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
      `    -d '{"ops":[{"op":"set","key":"aGVsbG8=","value":"d29ybGQ="},{"op":"get","key":"aGVsbG8="}]}' ${base}/v1/tenants/acme/transact`,
      `  curl --cacert ${dev.certs.caCert} --cert ${dev.certs.operatorCert} --key ${dev.certs.operatorKey} ${base}/v1/admin/status`,
      '',
    ].join('\n'),
  );
}
