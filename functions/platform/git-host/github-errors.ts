// Octokit failures → the GitHost port's errors. Messages name the request (method and route
// template with our own values), the status and GitHub's message; never a URL GitHub returned
// (a tarball redirect carries a token in its query) and never a header.
import { GitHostUnavailableError, GitRefNotFoundError } from './types.ts';

interface OctokitLikeError {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  cause?: unknown;
}

/** A request GitHub refused for good (4xx other than rate limits); `status` lets a caller pick a fallback. */
export class GitHubRequestError extends Error {
  constructor(message: string, readonly status: number | undefined, readonly githubMessage?: string) {
    super(message);
    this.name = 'GitHubRequestError';
  }
}

/** Seconds to wait from Retry-After (seconds or an HTTP date) or X-RateLimit-Reset (epoch seconds). */
export function retryAfterSeconds(headers: Record<string, string | number | undefined> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const retry = headers['retry-after'];
  if (retry !== undefined && String(retry).trim() !== '') {
    const n = Number(retry);
    if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
    const at = Date.parse(String(retry));
    if (Number.isFinite(at)) return Math.max(0, Math.ceil((at - now) / 1000));
  }
  const reset = Number(headers['x-ratelimit-reset']);
  if (String(headers['x-ratelimit-remaining']) === '0' && Number.isFinite(reset) && reset > 0) return Math.max(0, Math.ceil(reset - now / 1000));
  return undefined;
}

function githubMessage(data: unknown): string | undefined {
  const m = (data as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m.slice(0, 300) : undefined;
}

/** The network failure's code (ECONNREFUSED, ...) when fetch hides it in a cause chain. */
function networkCode(e: unknown): string | undefined {
  for (let c: unknown = e, i = 0; c && i < 5; c = (c as { cause?: unknown }).cause, i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * `what` names the request ("GET /repos/o/r/commits/abc"); `ref` makes a 404 a GitRefNotFoundError
 * (undefined: a 404 is a plain Error naming the request).
 */
export function mapGitHubError(e: unknown, what: string, ref?: string): Error {
  if (e instanceof GitHostUnavailableError || e instanceof GitRefNotFoundError) return e;
  const err = e as OctokitLikeError;
  const status = typeof err?.status === 'number' ? err.status : undefined;
  const headers = err?.response?.headers;
  const said = githubMessage(err?.response?.data);
  const detail = `${what}: ${status ?? 'no response'}${said ? ` ${said}` : ''}`;
  if (!err?.response) {
    // Octokit reports a failed fetch as status 500 without a response: the network, not GitHub.
    const code = networkCode(e) ?? (typeof err?.message === 'string' ? err.message.slice(0, 200) : undefined);
    return new GitHostUnavailableError(`GitHub unreachable: ${what}${code ? ` (${code})` : ''}`);
  }
  // GitHub answers a well-formed but unknown commit id on commits/{sha} with 422 "No commit found".
  const unknownCommit = status === 404 || (status === 422 && /no commit found/i.test(said ?? ''));
  if (unknownCommit && ref !== undefined) return new GitRefNotFoundError(ref, `GitHub has no commit or branch '${ref}' (${what}: ${status})`);
  const retry = retryAfterSeconds(headers);
  const limited = status === 403 && (String(headers?.['x-ratelimit-remaining']) === '0' || headers?.['retry-after'] !== undefined);
  if (status === 429 || limited || (status !== undefined && status >= 500)) {
    return new GitHostUnavailableError(`GitHub unavailable: ${detail}`, { retryAfterSeconds: retry });
  }
  const hint = status === 404 ? ' (the repository does not exist, or the credentials cannot see it)' : '';
  return new GitHubRequestError(`GitHub refused ${detail}${hint}`, status, said);
}
