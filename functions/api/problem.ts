// Errors as RFC 9457 problem details (application/problem+json), naming the field at fault.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface FieldError {
  /** Dotted path of the field at fault, e.g. `spec.owner` or `query.limit`. */
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** The first field at fault, for clients that show one message. */
  field?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 412: 'Precondition Failed', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** An error a handler throws to answer with a problem; the app's error handler renders it. */
export class ProblemError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    detail: string,
    readonly extra: { field?: string; errors?: FieldError[]; headers?: Record<string, string>; [k: string]: unknown } = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

export function problemBody(status: number, detail: string | undefined, instance: string, extra: Record<string, unknown> = {}): Problem {
  const { headers: _h, ...rest } = extra;
  return {
    type: 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    ...(detail ? { detail } : {}),
    instance,
    ...rest,
  };
}

export function problem(c: Context, status: ContentfulStatusCode, detail?: string, extra: ProblemError['extra'] = {}): Response {
  const body = problemBody(status, detail, c.req.path, extra);
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json', ...(extra.headers ?? {}) });
}

/** Zod-style issues (path + message) → field errors, prefixed with where the value came from. */
export function fieldErrors(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>, prefix = ''): FieldError[] {
  return issues.map((i) => {
    const path = i.path.map(String).join('.');
    return { field: [prefix, path].filter(Boolean).join('.') || prefix || '(body)', message: i.message };
  });
}

export function validationProblem(errors: FieldError[], detail?: string): ProblemError {
  const first = errors[0];
  return new ProblemError(400, detail ?? (first ? `${first.field}: ${first.message}` : 'the request is not valid'), {
    field: first?.field,
    errors,
  });
}
