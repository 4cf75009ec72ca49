// Continuation tokens handed to clients: refused before they reach storage unless shaped like
// one Azure Tables issues.
import { MAX_KEY } from './keys.ts';

/**
 * Whether a token is shaped like one Azure Tables issues (base64 of {nextPartitionKey, nextRowKey},
 * each an opaque key of the service's own alphabet): a forged one is refused before it is sent.
 */
export function isContinuationToken(token: unknown): boolean {
  if (typeof token !== 'string' || !token || token.length > 4 * MAX_KEY || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return false;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return false;
    const okKey = (k: unknown) => typeof k === 'string' && k.length <= MAX_KEY && /^[A-Za-z0-9+/=!*_.~-]*$/.test(k);
    const keys = Object.keys(parsed);
    const t = parsed as { nextPartitionKey?: unknown; nextRowKey?: unknown };
    return okKey(t.nextPartitionKey) && (t.nextRowKey === undefined || okKey(t.nextRowKey))
      && keys.every((k) => k === 'nextPartitionKey' || k === 'nextRowKey');
  } catch {
    return false;
  }
}
