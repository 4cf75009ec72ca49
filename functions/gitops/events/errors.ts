// The one error a webhook payload parser throws: the route answers 400 with a problem document
// whose `field` is this error's `field` (e.g. `body.after`, `body.pull_request.head.sha`).
import type { z } from 'zod';

export class EventPayloadError extends Error {
  readonly status = 400;
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.name = 'EventPayloadError';
  }
}

/** The first zod issue as an EventPayloadError naming the field under `body`. */
export function payloadError(error: z.ZodError, root = 'body'): EventPayloadError {
  const issue = error.issues[0];
  const path = issue ? issue.path.map(String) : [];
  const field = [root, ...path].join('.');
  // zod says "Invalid input: expected string, received undefined" for a missing field; say it plainly.
  const missing = issue?.code === 'invalid_type' && /received undefined/.test(issue.message);
  return new EventPayloadError(field, missing ? 'is required' : (issue?.message ?? 'is invalid'));
}
