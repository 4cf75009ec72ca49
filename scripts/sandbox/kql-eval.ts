// Evaluation of a parsed KQL query (kql-parse.ts) over Resource Graph rows: expressions, functions,
// aggregations and the pipeline stages, with the same KqlError for anything not supported.
import { KqlError, STRING_OPS, Timespan, type Expr, type Query } from './kql-parse.ts';

type Row = Record<string, unknown>;

function get(row: Row, path: (string | number)[]): unknown {
  let v: unknown = row;
  for (const p of path) {
    if (v === null || v === undefined) return undefined;
    if (typeof p === 'number') { v = Array.isArray(v) ? v[p] : undefined; continue; }
    if (typeof v !== 'object') return undefined;
    const o = v as Record<string, unknown>;
    if (p in o) v = o[p];
    else {
      // Resource Graph property names are matched without regard to case when no exact match exists.
      const k = Object.keys(o).find((x) => x.toLowerCase() === p.toLowerCase());
      v = k === undefined ? undefined : o[k];
    }
  }
  return v;
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v));

function asTime(v: unknown): number | undefined {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)) { const t = Date.parse(v); return Number.isNaN(t) ? undefined : t; }
  return undefined;
}

function compare(a: unknown, b: unknown): number {
  const ta = asTime(a), tb = asTime(b);
  if ((a instanceof Date || b instanceof Date) && ta !== undefined && tb !== undefined) return ta - tb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : -1;
  if (b === undefined || b === null) return 1;
  if (ta !== undefined && tb !== undefined) return ta - tb;
  return str(a) < str(b) ? -1 : str(a) > str(b) ? 1 : 0;
}

function equal(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return compare(a, b) === 0;
  const an = a === undefined || a === null, bn = b === undefined || b === null;
  if (an || bn) return an && bn;
  return str(a) === str(b);
}

function hasTerm(hay: string, term: string): boolean {
  if (!term) return true;
  const words = hay.toLowerCase().split(/[^a-z0-9_]+/);
  const t = term.toLowerCase();
  return /[^a-z0-9_]/.test(t) ? hay.toLowerCase().includes(t) : words.includes(t);
}

export function evaluate(e: Expr, row: Row): unknown {
  switch (e.k) {
    case 'lit': return e.v;
    case 'col': return get(row, e.path);
    case 'list': return e.items.map((x) => evaluate(x, row));
    case 'not': return !truthy(evaluate(e.e, row));
    case 'call': return call(e.fn, e.args, row);
    case 'bin': {
      if (e.op === 'and') return truthy(evaluate(e.l, row)) && truthy(evaluate(e.r, row));
      if (e.op === 'or') return truthy(evaluate(e.l, row)) || truthy(evaluate(e.r, row));
      const l = evaluate(e.l, row);
      const r = evaluate(e.r, row);
      switch (e.op) {
        case '==': return equal(l, r);
        case '!=': return !equal(l, r);
        case '=~': return str(l).toLowerCase() === str(r).toLowerCase();
        case '!~': return str(l).toLowerCase() !== str(r).toLowerCase();
        case '<': return compare(l, r) < 0;
        case '<=': return compare(l, r) <= 0;
        case '>': return compare(l, r) > 0;
        case '>=': return compare(l, r) >= 0;
        case '+': case '-': return arith(e.op, l, r);
        case 'in': case '!in': case 'in~': case '!in~': {
          const items = (r as unknown[]).flatMap((x) => (Array.isArray(x) ? x : [x]));
          const ci = e.op.endsWith('~');
          const hit = items.some((x) => (ci ? str(x).toLowerCase() === str(l).toLowerCase() : str(x) === str(l)));
          return e.op.startsWith('!') ? !hit : hit;
        }
      }
      const m = STRING_OPS.exec(e.op);
      if (m) {
        const cs = Boolean(m[2]);
        const a = cs ? str(l) : str(l).toLowerCase();
        const b = cs ? str(r) : str(r).toLowerCase();
        const res = m[1] === 'contains' ? a.includes(b) : m[1] === 'startswith' ? a.startsWith(b) : m[1] === 'endswith' ? a.endsWith(b) : hasTerm(a, b);
        return e.op.startsWith('!') ? !res : res;
      }
      throw new KqlError(`the operator '${e.op}' is not supported by the sandbox`);
    }
  }
}

function arith(op: string, l: unknown, r: unknown): unknown {
  if (l instanceof Date && r instanceof Timespan) return new Date(l.getTime() + (op === '+' ? r.ms : -r.ms));
  if (typeof l === 'number' && typeof r === 'number') return op === '+' ? l + r : l - r;
  throw new KqlError(`'${op}' between ${typeof l} and ${typeof r} is not supported by the sandbox`);
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}

function call(fn: string, args: Expr[], row: Row): unknown {
  const a = args.map((x) => evaluate(x, row));
  switch (fn) {
    case 'tolower': return str(a[0]).toLowerCase();
    case 'toupper': return str(a[0]).toUpperCase();
    case 'tostring': return a[0] === undefined || a[0] === null ? '' : str(a[0]);
    case 'toint': case 'tolong': { const n = Number(a[0]); return Number.isFinite(n) ? Math.trunc(n) : null; }
    case 'todatetime': { const t = asTime(a[0]); return t === undefined ? null : new Date(t); }
    case 'now': return new Date();
    case 'ago': {
      if (!(a[0] instanceof Timespan)) throw new KqlError('ago() needs a timespan such as 1d or 30m');
      return new Date(Date.now() - a[0].ms);
    }
    case 'isempty': return a[0] === undefined || a[0] === null || a[0] === '';
    case 'isnotempty': return !(a[0] === undefined || a[0] === null || a[0] === '');
    case 'isnull': return a[0] === undefined || a[0] === null;
    case 'isnotnull': return !(a[0] === undefined || a[0] === null);
    case 'strlen': return str(a[0]).length;
    case 'array_length': return Array.isArray(a[0]) ? a[0].length : null;
    case 'iff': case 'iif': return truthy(a[0]) ? a[1] : a[2];
    case 'coalesce': return a.find((x) => x !== undefined && x !== null && x !== '') ?? null;
  }
  throw new KqlError(`the function '${fn}' is not supported by the sandbox`);
}

function aggregate(e: Expr, rows: Row[]): unknown {
  if (e.k !== 'call') throw new KqlError('summarize needs an aggregation function');
  const arg = e.args[0];
  const vals = () => rows.map((r) => evaluate(arg, r)).filter((v) => v !== undefined && v !== null);
  switch (e.fn) {
    case 'count': return rows.length;
    case 'countif': return rows.filter((r) => truthy(evaluate(arg, r))).length;
    case 'dcount': return new Set(vals().map(str)).size;
    case 'sum': return vals().reduce((s: number, v) => s + Number(v), 0);
    case 'min': return vals().sort(compare)[0] ?? null;
    case 'max': return vals().sort(compare).at(-1) ?? null;
    case 'make_set': return [...new Map(vals().map((v) => [str(v), v])).values()];
  }
  throw new KqlError(`the aggregation '${e.fn}' is not supported by the sandbox`);
}

/** Output values: datetimes as ISO strings, as Resource Graph returns them. */
function out(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Timespan) return v.ms;
  return v === undefined ? null : v;
}

export function run(q: Query, input: Row[]): Row[] {
  let rows = input;
  for (const s of q.stages) {
    switch (s.k) {
      case 'where': rows = rows.filter((r) => truthy(evaluate(s.e, r))); break;
      case 'project': rows = rows.map((r) => Object.fromEntries(s.cols.map((c) => [c.name, out(evaluate(c.e, r))]))); break;
      case 'project-away': rows = rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !s.names.includes(k)))); break;
      case 'extend': rows = rows.map((r) => ({ ...r, ...Object.fromEntries(s.cols.map((c) => [c.name, out(evaluate(c.e, r))])) })); break;
      case 'summarize': {
        const groups = new Map<string, { key: Row; rows: Row[] }>();
        for (const r of rows) {
          const key = Object.fromEntries(s.by.map((b) => [b.name, out(evaluate(b.e, r))]));
          const k = JSON.stringify(key);
          if (!groups.has(k)) groups.set(k, { key, rows: [] });
          groups.get(k)!.rows.push(r);
        }
        if (groups.size === 0 && s.by.length === 0) groups.set('{}', { key: {}, rows: [] });
        rows = [...groups.values()].map((g) => ({ ...g.key, ...Object.fromEntries(s.aggs.map((a) => [a.name, out(aggregate(a.e, g.rows))])) }));
        break;
      }
      case 'order': rows = [...rows].sort((a, b) => {
        for (const k of s.keys) {
          const c = compare(evaluate(k.e, a), evaluate(k.e, b));
          if (c !== 0) return k.desc ? -c : c;
        }
        return 0;
      }); break;
      case 'limit': rows = rows.slice(0, s.n); break;
      case 'count': rows = [{ Count: rows.length }]; break;
      case 'distinct': {
        const seen = new Map<string, Row>();
        for (const r of rows) {
          const v = Object.fromEntries(s.cols.map((c) => [c.name, out(evaluate(c.e, r))]));
          seen.set(JSON.stringify(v), v);
        }
        rows = [...seen.values()];
        break;
      }
    }
  }
  return rows;
}
