// What every route module of the API shares: the app type, one validation hook for all of them,
// and helpers that declare responses. Route modules import this, never app.ts (which mounts them).
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSONParsed } from 'hono/utils/types';
import type { AuthEnv } from './auth.ts';
import { fieldErrors, problem, validationProblem } from './problem.ts';
import { ProblemSchema } from './schemas/problem.ts';

export type ApiApp = OpenAPIHono<AuthEnv>;

/**
 * A new (sub-)app of the API. The validation hook belongs to each OpenAPIHono instance, so every
 * module's app is made here: request validation failures become problem responses naming the
 * field and where it came from, whichever module the route lives in.
 */
export function apiApp(): ApiApp {
  return new OpenAPIHono<AuthEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const target = (result as { target?: string }).target ?? 'body';
        const where = target === 'json' ? 'body' : target === 'param' ? 'path' : target;
        const p = validationProblem(fieldErrors(result.error.issues, where));
        return problem(c, 400, p.message, p.extra);
      }
    },
  });
}

/** Problem responses (application/problem+json) for these statuses. */
export const problems = <S extends number>(...statuses: S[]) =>
  Object.fromEntries(statuses.map((s) => [s, { description: 'problem', content: { 'application/problem+json': { schema: ProblemSchema } } }])) as
    Record<S, { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }>;

/** A JSON response described by its schema. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

/**
 * A value whose type the API cannot know (it comes through a port typed `unknown`), checked
 * against the schema the API promises for it. A mismatch is the server's fault: a plain error (a
 * 500, logged), never a zod error, which the app would answer as the client's bad input.
 */
export function conforming<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`${what} do not match the API's schema: ${r.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The JSON text of a T, serialised ahead (the catalog keeps entities and search results as text). */
export type JsonText<T> = string & { readonly __json?: T };

/**
 * Answers with JSON text already serialised, typed as the response it is: the catalog wrote the
 * text from a value of that type, so it is not parsed again only to be written again.
 */
export function jsonText<T, S extends ContentfulStatusCode>(c: Context, text: JsonText<T>, status: S, headers: Record<string, string> = {}): TypedResponse<JSONParsed<T>, S, 'json'> {
  return c.body(text, status, { 'content-type': 'application/json', ...headers }) as unknown as TypedResponse<JSONParsed<T>, S, 'json'>;
}
