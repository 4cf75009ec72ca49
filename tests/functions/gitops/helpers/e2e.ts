// What the GitOps end-to-end tests (GitHub and Azure DevOps) share: real `git` in a clone,
// waiting for an outcome, the sandbox's Log Analytics workspace, and the one archetype edit.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxHandle } from '../../../../scripts/sandbox/server.ts';

export function git(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (err, out, errOut) => (err ? reject(new Error(`git ${args.join(' ')}: ${errOut || err.message}`)) : resolve(out.trim()))));
}

/** Polls `f` until it gives a value; on timeout the error carries the runtime's last log lines. */
export async function until<T>(what: string, lines: string[], f: () => Promise<T | undefined>, ms = 240_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${lines.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The tenant's Log Analytics workspace exists before Nexus (policies send diagnostics there). */
export function seedLogWorkspace(sb: SandboxHandle): void {
  const logs = '55555555-5555-5555-5555-555555555555';
  sb.state.addSubscription({ subscriptionId: logs }, 'someone@contoso');
  sb.state.put(`/subscriptions/${logs}/resourceGroups/logs`, { location: 'northeurope', tags: {}, properties: {} }, 'someone@contoso');
  sb.state.put(`/subscriptions/${logs}/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/central`, { location: 'northeurope', tags: {}, properties: {} }, 'someone@contoso');
}

/** Sets the tag the `apps` archetype audits: a change of exactly the `apps` stack. */
export function editApps(clone: string, tag: string): void {
  const file = join(clone, 'apps.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/tagName: \S+/, `tagName: ${tag}`));
}
