// The Azure Functions side of the inbox: the queue trigger hands over one message of `webhooks`
// (already base64-decoded and JSON-parsed by the host) with its dequeue count; the local server's
// drain() does the same for the messages it receives itself.
//
// Returning lets the host delete the message; throwing makes it visible again after host.json's
// queues.visibilityTimeout, which knows nothing of the inbox's backoff. So a delivery that is not
// finished is sent again with the inbox's delay, and the original returns (the host deletes it):
// retries wait 2, 4, 8... seconds as in the local drain. Only when that send fails does the trigger
// throw, and the host hands the message out again. The inbox poisons a delivery itself after
// maxAttempts, with the reason, before the host's own maxDequeueCount (set higher in host.json).
import type { Inbox, DeliveryHandler, Verdict } from './inbox.ts';

/** The queue the trigger listens on (the inbox's default queue). */
export const INBOX_QUEUE = 'webhooks';

export class DeliveryNotFinished extends Error {}

export async function processQueueMessage(
  inbox: Pick<Inbox, 'handleMessage' | 'queue'>,
  handlers: Record<string, DeliveryHandler>,
  message: unknown,
  triggerMetadata: Record<string, unknown> | undefined,
): Promise<Verdict> {
  const count = Number(triggerMetadata?.dequeueCount ?? 1);
  const verdict = await inbox.handleMessage(message, Number.isInteger(count) && count > 0 ? count : 1, handlers);
  if (verdict.ack) return verdict;
  try {
    await inbox.queue.send(message, { delaySeconds: verdict.retryInSeconds });
  } catch (err) {
    throw new DeliveryNotFinished(`${verdict.outcome}: ${verdict.error}; sending it again failed: ${(err as Error).message}`);
  }
  return verdict;
}
