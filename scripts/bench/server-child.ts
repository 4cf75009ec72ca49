// Benchmarks serve Nexus from a child process (so autocannon's load and the server do not share
// one event loop): `script` is run again with `mode`, and is ready once it prints "Nexus API on".
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../lib/azurite.ts';

export async function startServerChild(
  script: string, env: Record<string, string>, opts: { mode?: string; flags?: string[]; cwd: string },
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(opts.flags ?? ['--expose-gc']), '--import', 'tsx', script, opts.mode ?? '--serve'], {
    env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'], cwd: opts.cwd,
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; if (out.includes('Nexus API on')) resolve(); });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
