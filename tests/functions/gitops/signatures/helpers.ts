// Real keys and real signed commits for the signature tests: ssh-keygen, gpg and git in a
// temporary directory, isolated from the user's own git and gpg configuration.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommitInfo, GitPerson } from '../../../../functions/platform/git-host/types.ts';
import { splitSignedCommit } from '../../../../functions/gitops/signatures/commit-object.ts';

export interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  run(cmd: string, args: string[], opts?: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv }): string;
  cleanup(): void;
}

export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-sig-'));
  const gnupg = join(dir, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: dir, GNUPGHOME: gnupg, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LANG: 'C', TZ: 'UTC',
  };
  return {
    dir,
    env,
    run(cmd, args, opts = {}) {
      return execFileSync(cmd, args, { cwd: opts.cwd ?? dir, env: { ...env, ...opts.env }, input: opts.input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    },
    cleanup() {
      try {
        execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env, stdio: 'ignore' });
      } catch { /* no agent was started */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SshKeyFiles {
  path: string;
  /** `type base64 comment` from the .pub file. */
  publicLine: string;
  type: string;
  base64: string;
}

export function sshKey(sb: Sandbox, name: string, type: 'ed25519' | 'ecdsa' | 'rsa', bits?: number): SshKeyFiles {
  const path = join(sb.dir, name);
  sb.run('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', name, '-f', path]);
  const publicLine = readFileSync(`${path}.pub`, 'utf8').trim();
  const [t, b64] = publicLine.split(' ');
  return { path, publicLine, type: t, base64: b64 };
}

export function gitRepo(sb: Sandbox, name = 'repo'): string {
  const repo = join(sb.dir, name);
  sb.run('git', ['init', '-q', '-b', 'main', repo]);
  return repo;
}

let counter = 0;

/** Makes a commit (signed with an SSH key file or a gpg key id, or unsigned); returns its sha. */
export function commit(sb: Sandbox, repo: string, opts: {
  email: string; name?: string; authorEmail?: string; message?: string; ssh?: string; gpg?: string;
}): string {
  counter += 1;
  writeFileSync(join(repo, 'file.txt'), `change ${counter} ${Date.now()}\n`);
  sb.run('git', ['add', 'file.txt'], { cwd: repo });
  const sign = opts.ssh
    ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${opts.ssh}`]
    : opts.gpg ? ['-c', 'gpg.format=openpgp', '-c', 'gpg.program=gpg', '-c', `user.signingkey=${opts.gpg}`] : [];
  const name = opts.name ?? 'Committer';
  sb.run('git', [...sign, 'commit', '-q', ...(opts.ssh || opts.gpg ? ['-S'] : ['--no-gpg-sign']), '-m', opts.message ?? `change ${counter}`], {
    cwd: repo,
    env: {
      GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: opts.authorEmail ?? opts.email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: opts.email,
    },
  });
  return sb.run('git', ['rev-parse', 'HEAD'], { cwd: repo }).trim();
}

export function rawCommit(sb: Sandbox, repo: string, sha: string): string {
  return sb.run('git', ['cat-file', 'commit', sha], { cwd: repo });
}

/** Writes a raw commit object into the repository with git itself; returns the sha git gives it. */
export function writeRawCommit(sb: Sandbox, repo: string, raw: string): string {
  return sb.run('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo, input: raw }).trim();
}

function person(line: string | undefined): GitPerson {
  const m = /^(.*) <([^>]*)> (\d+) [+-]\d{4}$/.exec(line ?? '');
  if (!m) throw new Error(`not a git person: ${line}`);
  return { name: m[1], email: m[2], date: new Date(Number(m[3]) * 1000).toISOString() };
}

/** The CommitInfo a Git host would give for a commit of the repository (signed filled from the raw object). */
export function commitInfo(sb: Sandbox, repo: string, sha: string): CommitInfo {
  return commitInfoFromRaw(sha, rawCommit(sb, repo, sha));
}

export function commitInfoFromRaw(sha: string, raw: string): CommitInfo {
  const header = raw.slice(0, raw.indexOf('\n\n'));
  const field = (k: string) => header.split('\n').find((l) => l.startsWith(`${k} `))?.slice(k.length + 1);
  const signed = splitSignedCommit(raw);
  return {
    sha,
    parents: header.split('\n').filter((l) => l.startsWith('parent ')).map((l) => l.slice(7)),
    author: person(field('author')),
    committer: person(field('committer')),
    message: raw.slice(raw.indexOf('\n\n') + 2),
    ...(signed ? { signed } : {}),
  };
}

/** Puts `signature` into `payload` as git does (last header) — to build commits with chosen signatures. */
export function withSignature(payload: string, signature: string): string {
  const at = payload.indexOf('\n\n') + 1;
  return `${payload.slice(0, at)}gpgsig ${signature.replace(/\n$/, '').split('\n').join('\n ')}\n${payload.slice(at)}`;
}

/** `ssh-keygen -Y sign` of `data` with a key file; returns the armored signature. */
export function sshSign(sb: Sandbox, key: string, data: string, namespace: string, hashalg?: 'sha256' | 'sha512'): string {
  return sb.run('ssh-keygen', ['-q', '-Y', 'sign', '-f', key, '-n', namespace, ...(hashalg ? ['-O', `hashalg=${hashalg}`] : [])], { input: data });
}

/** `ssh-keygen -Y verify`: true when ssh-keygen accepts the signature for the principal. */
export function sshKeygenVerify(sb: Sandbox, allowedSigners: string, principal: string, data: string, signature: string, namespace = 'git'): boolean {
  const allowed = join(sb.dir, `allowed-${++counter}`);
  const sig = join(sb.dir, `sig-${counter}`);
  writeFileSync(allowed, allowedSigners);
  writeFileSync(sig, signature);
  try {
    sb.run('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', principal, '-n', namespace, '-s', sig], { input: data });
    return true;
  } catch {
    return false;
  }
}

/** A gpg key made in the sandbox's GNUPGHOME; returns its fingerprint and armored public key. */
export function gpgKey(sb: Sandbox, userId: string): { fingerprint: string; armoredPublic: string } {
  sb.run('gpg', ['--batch', '--quiet', '--passphrase', '', '--quick-gen-key', userId, 'ed25519', 'sign', 'never']);
  const listing = sb.run('gpg', ['--batch', '--with-colons', '--list-keys', userId]);
  const fingerprint = listing.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9];
  return { fingerprint, armoredPublic: sb.run('gpg', ['--batch', '--armor', '--export', fingerprint]) };
}

/** A script that stands in for gpg / ssh-keygen and saves what git feeds it on stdin (the payload git verifies). */
export function captureProgram(sb: Sandbox, out: string): string {
  const path = join(sb.dir, `capture-${++counter}.sh`);
  writeFileSync(path, `#!/bin/sh\ncat > '${out}'\nexit 1\n`);
  chmodSync(path, 0o755);
  return path;
}
