// A small JSON file kept beside the tenant's data file, for sandbox state that is not ARM resources
// (remediations, deployments): loaded at start, written atomically after every change.
import { readFileSync, writeFileSync, renameSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export class Sidecar<T> {
  readonly file?: string;

  constructor(dataFile: string | undefined, suffix: string) {
    this.file = dataFile ? `${dataFile}.${suffix}.json` : undefined;
  }

  load(fallback: T): T {
    if (!this.file || !existsSync(this.file)) return fallback;
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as T;
    } catch (e) {
      throw new Error(`The sandbox file '${this.file}' is not valid JSON: ${(e as Error).message}`);
    }
  }

  save(data: T) {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, this.file);
  }
}
