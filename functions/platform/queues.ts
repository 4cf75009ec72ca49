// Azure Storage Queues for Nexus, as a small port: send, receive with a visibility timeout, delete,
// hide again for a while. Azurite serves the same API locally.
//
// Message text is base64 of JSON: the Azure Functions queue trigger decodes base64 by default, so
// messages this module sends are read the same way by the trigger and by receive().
import type { QueueClient } from '@azure/storage-queue';
import { storageConfig, type StorageConfig } from './storage-config.ts';
import { StorageInputError, codeOf, statusOf, wrapStorageError } from './errors.ts';
import { ensureOnce } from './provisioned.ts';

export interface QueueMessage {
  messageId: string;
  popReceipt: string;
  /** How many times the queue has handed this message out, this time included. */
  dequeueCount: number;
  /** The JSON body, parsed; the raw text when it is not base64 JSON (sent by something else). */
  body: unknown;
}

export interface SendOptions {
  /** Seconds before the message expires; -1 (the default here) keeps it until it is deleted. */
  ttlSeconds?: number;
  /** Seconds before the message first becomes visible. */
  delaySeconds?: number;
}

/** Azure's rule: 3-63 lowercase letters, digits and single hyphens, starting and ending alphanumeric. */
export function checkQueueName(name: string): void {
  if (typeof name !== 'string' || !/^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/.test(name)) {
    throw new StorageInputError(`queue name '${name}' is not valid: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit`);
  }
}

function ensureQueue(cfg: StorageConfig, client: QueueClient): Promise<void> {
  return ensureOnce(cfg, `queue '${client.name}'`, () => client.createIfNotExists());
}

/** The largest message Azure accepts is 64 KiB of (base64) text. */
const MAX_MESSAGE_CHARS = 64 * 1024;

export class Queue {
  private constructor(readonly name: string, private readonly client: QueueClient) {}

  /** Opens a queue, creating it if missing. */
  static async open(name: string, cfg?: StorageConfig): Promise<Queue> {
    checkQueueName(name);
    cfg ??= storageConfig();
    const client = cfg.queueService().getQueueClient(name);
    await ensureQueue(cfg, client);
    return new Queue(name, client);
  }

  async send(body: unknown, opts: SendOptions = {}): Promise<void> {
    const text = Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
    if (text.length > MAX_MESSAGE_CHARS) {
      throw new StorageInputError(`queue '${this.name}': the message is ${text.length} characters encoded; a queue message holds at most ${MAX_MESSAGE_CHARS}. Keep the content in a table or blob and send its key`);
    }
    try {
      await this.client.sendMessage(text, { messageTimeToLive: opts.ttlSeconds ?? -1, visibilityTimeout: opts.delaySeconds });
    } catch (err) {
      throw wrapStorageError(err, `queue '${this.name}': send`);
    }
  }

  /** Up to `max` (1-32) messages, each hidden from other receivers for `visibilitySeconds`. */
  async receive(max: number, visibilitySeconds: number): Promise<QueueMessage[]> {
    const n = Math.min(32, Math.max(1, Math.floor(max)));
    try {
      const res = await this.client.receiveMessages({ numberOfMessages: n, visibilityTimeout: Math.max(1, Math.ceil(visibilitySeconds)) });
      return res.receivedMessageItems.map((m) => ({
        messageId: m.messageId, popReceipt: m.popReceipt, dequeueCount: m.dequeueCount, body: decode(m.messageText),
      }));
    } catch (err) {
      throw wrapStorageError(err, `queue '${this.name}': receive`);
    }
  }

  /**
   * Deletes a received message. False when the pop receipt is no longer valid: the message became
   * visible again and someone else received it (or it is gone already).
   */
  async delete(m: Pick<QueueMessage, 'messageId' | 'popReceipt'>): Promise<boolean> {
    try {
      await this.client.deleteMessage(m.messageId, m.popReceipt);
      return true;
    } catch (err) {
      if (staleReceipt(err)) return false;
      throw wrapStorageError(err, `queue '${this.name}': delete message ${m.messageId}`);
    }
  }

  /** Keeps a received message hidden for `seconds` more (then it is handed out again). False as for delete(). */
  async hide(m: Pick<QueueMessage, 'messageId' | 'popReceipt'>, seconds: number): Promise<boolean> {
    try {
      await this.client.updateMessage(m.messageId, m.popReceipt, undefined, Math.max(0, Math.ceil(seconds)));
      return true;
    } catch (err) {
      if (staleReceipt(err)) return false;
      throw wrapStorageError(err, `queue '${this.name}': hide message ${m.messageId}`);
    }
  }

  /** The approximate number of messages (visible or not); for tests and `nexus doctor`. */
  async approximateCount(): Promise<number> {
    try {
      return (await this.client.getProperties()).approximateMessagesCount ?? 0;
    } catch (err) {
      throw wrapStorageError(err, `queue '${this.name}': properties`);
    }
  }

  /** Messages without hiding them (at most 32); for tests and inspection of the poison queue. */
  async peek(max = 32): Promise<unknown[]> {
    try {
      const res = await this.client.peekMessages({ numberOfMessages: Math.min(32, Math.max(1, Math.floor(max))) });
      return res.peekedMessageItems.map((m) => decode(m.messageText));
    } catch (err) {
      throw wrapStorageError(err, `queue '${this.name}': peek`);
    }
  }
}

/** The message is gone (404), or was handed out again since (400 PopReceiptMismatch). */
function staleReceipt(err: unknown): boolean {
  return statusOf(err) === 404 || codeOf(err) === 'PopReceiptMismatch';
}

/** The body of a message: base64 JSON as send() writes it; otherwise the text as it came. */
export function decode(text: string): unknown {
  try {
    const raw = Buffer.from(text, 'base64').toString('utf8');
    // Not base64 at all decodes to garbage; only accept it when it round-trips.
    if (Buffer.from(raw, 'utf8').toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) return text;
    return JSON.parse(raw) as unknown;
  } catch {
    return text;
  }
}
