// Reading files of a GitHub repository through the GitHub port (an Octokit's `rest`): the files of
// pushed commits, and what the placeholders of a pushed catalog file point at. Placeholders read
// paths of the same repository at the same commit, and github.com file URLs of any repository the
// port can read; no other host is fetched from the server.
import type { ContentReader } from './placeholders.ts';

/** The part of Octokit this module uses (`new Octokit().rest` fits). */
export interface GitHubContentPort {
  repos: {
    getContent(params: { owner: string; repo: string; path: string; ref?: string }): Promise<{ data: unknown }>;
  };
}

export async function readRepoFile(gh: GitHubContentPort, params: { owner: string; repo: string; path: string; ref?: string }): Promise<string> {
  const { data } = await gh.repos.getContent(params);
  const file = data as { type?: string; content?: string; encoding?: string };
  if (Array.isArray(data) || file.type !== 'file' || typeof file.content !== 'string') {
    throw new Error(`${params.owner}/${params.repo}:${params.path}@${params.ref}: not a file`);
  }
  return file.encoding === 'base64' ? Buffer.from(file.content, 'base64').toString('utf8') : file.content;
}

/** `https://github.com/<owner>/<repo>/(blob|raw)/<ref>/<path>` as its parts (a ref with `/` cannot be told apart: the first segment is the ref). */
export function parseGitHubFileUrl(url: string): { owner: string; repo: string; ref: string; path: string } | undefined {
  let u: URL;
  try { u = new URL(url); } catch { return undefined; }
  if (u.protocol !== 'https:' || u.hostname.toLowerCase() !== 'github.com' || u.search || u.username || u.port) return undefined;
  const m = /^\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\/(?:blob|raw)\/([^/]+)\/(.+)$/.exec(u.pathname);
  if (!m) return undefined;
  const path = decodeURIComponent(m[4]!);
  if (path.split('/').some((s) => s === '..' || s === '.' || s === '')) return undefined;
  return { owner: m[1]!, repo: m[2]!, ref: decodeURIComponent(m[3]!), path };
}

/** A reader of one repository at one commit (paths), and of github.com file URLs. */
export function gitHubContentReader(gh: GitHubContentPort, at: { owner: string; repo: string; ref: string }): ContentReader {
  return {
    read(target) {
      const url = /^https?:\/\//i.test(target) ? parseGitHubFileUrl(target) : undefined;
      if (/^https?:\/\//i.test(target) && !url) return Promise.reject(new Error('only github.com file URLs are read'));
      return readRepoFile(gh, url ?? { ...at, path: target });
    },
    allowUrl: (url) => parseGitHubFileUrl(url) !== undefined,
  };
}
