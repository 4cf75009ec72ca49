// Bad input that stops loading: names the file and the field so the user can fix it.
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(file ? `${file}${field ? ` (${field})` : ''}: ${detail}` : `${field ? `${field}: ` : ''}${detail}`);
    this.name = 'InputError';
  }
}

/** `a.b[2].c` from a zod-style path. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}
