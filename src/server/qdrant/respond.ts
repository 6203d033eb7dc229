import type { FastifyReply } from 'fastify';
import type { ErrorCode } from '../../errors.js';

/**
 * Qdrant's response shapes: `{result, status: "ok", time}` on success (always HTTP 200: the client
 * treats any other 2xx as unexpected), `{status: {error, code}, time}` on failure, where `error`
 * carries Qdrant's message prefix for the status ("Not found: …") so Qdrant clients show what they
 * would, and `code` is Strata's stable code for clients that switch on it.
 */

/** The success envelope; `time` is seconds since the request arrived, as Qdrant's. */
export function ok<T>(reply: FastifyReply, result: T): { result: T; status: 'ok'; time: number } {
  return { result, status: 'ok', time: reply.elapsedTime / 1000 };
}

/**
 * What write operations answer (Qdrant's UpdateResult). Strata's writes are durable when they
 * return, so the status is always "completed", whatever `wait` said.
 */
export function updated(reply: FastifyReply, operationId: number) {
  return ok(reply, { operation_id: operationId, status: 'completed' as const });
}

const PREFIX: Readonly<Record<number, string>> = {
  400: 'Wrong input: ',
  401: 'Unauthorized: ',
  403: 'Forbidden: ',
  404: 'Not found: ',
  409: 'Wrong input: ',
  413: 'Wrong input: ',
  429: 'Rate limiting exceeded: ',
  501: 'Not implemented: ',
};

const HAS_PREFIX = /^(Wrong input|Bad request|Not found|Forbidden|Unauthorized|Service internal error|Not implemented|Rate limiting exceeded|Format error in JSON body|Validation error in JSON body): /;

/** The error body of a Qdrant route. */
export function qdrantErrorBody(status: number, code: ErrorCode, message: string, time: number, details?: Readonly<Record<string, unknown>>) {
  const error = HAS_PREFIX.test(message) ? message : `${PREFIX[status] ?? (status >= 500 ? 'Service internal error: ' : '')}${message}`;
  return { status: { error, code, ...(details === undefined ? {} : { details }) }, time };
}

const QDRANT_ROOTS = ['/collections', '/aliases', '/cluster', '/snapshots', '/telemetry', '/issues', '/locks'];

/** True for paths in Qdrant's API (answered in Qdrant's shapes); the rest is Strata's native API. */
export function isQdrantPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/' || QDRANT_ROOTS.some(root => path === root || path.startsWith(`${root}/`));
}
