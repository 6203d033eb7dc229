import { StrataError } from '../errors.js';
import { kvError, RETRYABLE_CODES } from './kv-errors.js';
import type { Engine, TransactOptions, Transaction } from './types.js';

const DEFAULT_RETRY_LIMIT = 100;
/** FoundationDB's backoff: 10 ms doubling up to 1 s, with jitter so contenders spread out. */
const INITIAL_RETRY_DELAY_MS = 10;
const DEFAULT_MAX_RETRY_DELAY_MS = 1_000;

/** Whether the retry loop retries `err`. */
export function isRetryable(err: unknown): boolean {
  return err instanceof StrataError && RETRYABLE_CODES.has(err.code);
}

/**
 * The retry loop behind `Database.transact`: a fresh transaction per attempt, commit after `fn`
 * resolves, backoff and retry on retryable errors, everything else thrown unchanged.
 */
export async function runTransaction<T>(
  engine: Engine,
  fn: (tx: Transaction) => Promise<T>,
  options: TransactOptions = {},
): Promise<T> {
  const retryLimit = options.retryLimit ?? DEFAULT_RETRY_LIMIT;
  const maxDelay = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
  if (!Number.isSafeInteger(retryLimit) || retryLimit < 0) throw new RangeError('retryLimit must be a non-negative integer');
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
  // The timeout spans every attempt, as FoundationDB's transaction timeout survives on_error.
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  let delay = INITIAL_RETRY_DELAY_MS;
  for (let attempt = 0; ; attempt++) {
    const tx = engine.createTransaction(deadline);
    try {
      const result = await fn(tx);
      await tx.commit();
      return result;
    } catch (err) {
      try {
        tx.cancel();
      } catch {
        // Releasing a failed transaction must never hide why it failed.
      }
      if (!isRetryable(err) || attempt >= retryLimit) throw err;
      const pause = Math.min(delay, maxDelay) * (0.5 + Math.random() / 2);
      if (deadline !== undefined && Date.now() + pause >= deadline) {
        throw kvError('ERR_KV_TRANSACTION_TIMED_OUT', 'the transaction timed out while retrying', { lastError: (err as StrataError).code });
      }
      await new Promise<void>(resolve => setTimeout(resolve, pause));
      delay *= 2;
    }
  }
}
