// The small part of Azure Policy's language that ownership needs: field expressions built from
// parameters (`[concat('tags[', parameters('tagName'), ']')]`) and policy fields/aliases turned
// into ARM body paths. Anything beyond `parameters()` and `concat()` is reported, never guessed.

export type Evaluated = { value: unknown } | { skip: string };

const MAX_EXPRESSION = 2000;
const MAX_DEPTH = 16;

/** Parameter values by name; ARM parameter names are case-insensitive. */
function parameter(values: ReadonlyMap<string, unknown>, name: string): Evaluated {
  const lower = name.toLowerCase();
  for (const [k, v] of values) if (k.toLowerCase() === lower) return { value: v };
  return { skip: `parameter '${name}' has no value` };
}

/**
 * A policy string as Azure evaluates it: a literal, `[[...` (an escaped literal), or an expression of
 * `parameters('x')`, `concat(...)` and string or number literals.
 */
export function evaluate(text: unknown, values: ReadonlyMap<string, unknown>): Evaluated {
  if (typeof text !== 'string' || !text.startsWith('[')) return { value: text };
  if (text.startsWith('[[')) return { value: text.slice(1) };
  if (!text.endsWith(']')) return { value: text };
  if (text.length > MAX_EXPRESSION) return { skip: `expression longer than ${MAX_EXPRESSION} characters` };
  const src = text.slice(1, -1);
  let i = 0;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const fail = (why: string): { skip: string } => ({ skip: `${why} in ${text}` });
  const expr = (depth: number): Evaluated => {
    if (depth > MAX_DEPTH) return fail('expression nested too deeply');
    ws();
    if (src[i] === "'") {
      let s = '';
      for (i++; i < src.length; i++) {
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            s += "'";
            i++;
            continue;
          }
          i++;
          return { value: s };
        }
        s += src[i];
      }
      return fail('unterminated string');
    }
    const num = /^-?\d+/.exec(src.slice(i));
    if (num) {
      i += num[0].length;
      return { value: Number(num[0]) };
    }
    const ident = /^[A-Za-z_][\w]*/.exec(src.slice(i));
    if (!ident) return fail(`unexpected "${src.slice(i, i + 10)}"`);
    const fn = ident[0];
    i += fn.length;
    ws();
    if (src[i] !== '(') return fail(`"${fn}" is not a call`);
    i++;
    const args: unknown[] = [];
    ws();
    while (src[i] !== ')') {
      const a = expr(depth + 1);
      if ('skip' in a) return a;
      args.push(a.value);
      ws();
      if (src[i] === ',') i++;
      else if (src[i] !== ')') return fail('expected , or )');
    }
    i++;
    // Property access or indexing after a call (`parameters('x').y`, `[0]`) is outside what is evaluated.
    if (src[i] === '.' || src[i] === '[') return fail(`member access after ${fn}()`);
    switch (fn.toLowerCase()) {
      case 'parameters':
        return args.length === 1 && typeof args[0] === 'string' ? parameter(values, args[0]) : fail('parameters() takes one name');
      case 'concat':
        if (args.every((a) => typeof a === 'string' || typeof a === 'number')) return { value: args.join('') };
        return fail('concat() of something other than strings');
      default:
        return fail(`function ${fn}() is not evaluated`);
    }
  };
  const out = expr(0);
  ws();
  if (!('skip' in out) && i < src.length) return fail('trailing text');
  return out;
}

/** Top-level ARM body fields (everything else a type's alias names sits under `properties`). */
const TOP_LEVEL: ReadonlySet<string> = new Set(['location', 'identity', 'tags', 'sku', 'kind', 'plan', 'zones', 'extendedlocation', 'managedby', 'name']);

export type FieldPath = { path: string } | { skip: string } | { otherType: string };

/**
 * The body path a policy field writes on a resource of `resourceType`: `tags['x']`, `tags[x]`,
 * `tags.x` -> `tags.x`; `tags` -> `tags.*`; `identity.type` as is; an alias
 * `Microsoft.Storage/storageAccounts/minimumTlsVersion` -> `properties.minimumTlsVersion`
 * (`[*]` kept for arrays). An alias of another type (a child type's) is `otherType`.
 */
export function fieldPath(field: string, resourceType: string): FieldPath {
  const f = field.trim();
  const tag = /^tags(?:\[\s*'((?:[^']|'')*)'\s*\]|\[([^\]'[]+)\]|\.(.+))$/i.exec(f);
  if (tag) return { path: `tags.${(tag[1]?.replaceAll("''", "'") ?? tag[2] ?? tag[3])!.trim()}` };
  if (/^tags(\[\*\])?$/i.test(f)) return { path: 'tags.*' };
  if (!f.includes('/')) {
    const head = f.split(/[.[]/)[0]!.toLowerCase();
    if (TOP_LEVEL.has(head)) return { path: f };
    return { skip: `field "${f}" is not an alias or a top-level property` };
  }
  const prefix = `${resourceType.toLowerCase()}/`;
  if (!f.toLowerCase().startsWith(prefix)) return { otherType: f };
  const rest = f.slice(prefix.length);
  // `config/minTlsVersion` on `Microsoft.Web/sites` belongs to the child type `sites/config`.
  if (!rest || rest.includes('/')) return { otherType: f };
  const head = rest.split(/[.[]/)[0]!.toLowerCase();
  return { path: TOP_LEVEL.has(head) ? rest : `properties.${rest}` };
}
