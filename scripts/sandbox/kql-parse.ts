// The KQL parser of the sandbox's Resource Graph: tokens, the query's syntax tree and the parser
// for the subset described in kql.ts. Anything outside the subset is a KqlError naming the part.
export class KqlError extends Error {}

type Tok = { kind: 'id' | 'str' | 'num' | 'op' | 'end'; text: string; pos: number; value?: string | number };

const OPS = ['==', '!=', '=~', '!~', '<=', '>=', '|', ',', '(', ')', '[', ']', '.', '<', '>', '=', '-', '+', '*', '/'];

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '/' && src[i + 1] === '/') { while (i < src.length && src[i] !== '\n') i++; continue; }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) { v += src[j + 1]; j += 2; continue; }
        v += src[j++];
      }
      if (j >= src.length) throw new KqlError(`unterminated string starting at position ${i}`);
      out.push({ kind: 'str', text: src.slice(i, j + 1), value: v, pos: i });
      i = j + 1;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([a-z]+)?/i.exec(src.slice(i))!;
      out.push({ kind: 'num', text: m[0], value: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      // Identifiers may contain '-' only in the operator names project-away etc. and '~' in in~.
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*(-[a-z]+)?~?/.exec(src.slice(i))!;
      let text = m[0];
      // datetime(...) takes an unquoted literal (2024-01-01T10:00:00Z): keep it as one raw string.
      const dt = /^datetime\s*\(([^)]*)\)/i.exec(src.slice(i));
      if (dt) {
        out.push({ kind: 'id', text: 'datetime', pos: i }, { kind: 'op', text: '(', pos: i + 8 });
        out.push({ kind: 'str', text: dt[1], value: dt[1].trim().replace(/^['"]|['"]$/g, ''), pos: i + 9 });
        out.push({ kind: 'op', text: ')', pos: i + dt[0].length - 1 });
        i += dt[0].length;
        continue;
      }
      if (text.includes('-') && !/^(project-away|project-rename|project-keep|mv-expand)$/.test(text)) text = text.split('-')[0];
      if (text.endsWith('~') && !/^!?in~$/.test(text)) text = text.slice(0, -1);
      out.push({ kind: 'id', text, pos: i });
      i += text.length;
      continue;
    }
    if (c === '!' && /^!(in~?|contains|has|startswith|endswith)(_cs)?\b/.test(src.slice(i))) {
      const m = /^!(in~?|contains(_cs)?|has(_cs)?|startswith(_cs)?|endswith(_cs)?)/.exec(src.slice(i))!;
      out.push({ kind: 'id', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new KqlError(`unexpected character '${c}' at position ${i}`);
    out.push({ kind: 'op', text: op, pos: i });
    i += op.length;
  }
  out.push({ kind: 'end', text: '<end of query>', pos: src.length });
  return out;
}

export type Expr =
  | { k: 'lit'; v: unknown }
  | { k: 'col'; path: (string | number)[] }
  | { k: 'call'; fn: string; args: Expr[] }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'list'; items: Expr[] }
  | { k: 'not'; e: Expr };

type Named = { name: string; e: Expr };
export type Stage =
  | { k: 'where'; e: Expr }
  | { k: 'project'; cols: Named[] }
  | { k: 'project-away'; names: string[] }
  | { k: 'extend'; cols: Named[] }
  | { k: 'summarize'; aggs: Named[]; by: Named[] }
  | { k: 'order'; keys: { e: Expr; desc: boolean }[] }
  | { k: 'limit'; n: number }
  | { k: 'count' }
  | { k: 'distinct'; cols: Named[] };

export interface Query {
  table: string;
  stages: Stage[];
}

const COMPARE = new Set(['==', '!=', '=~', '!~', '<', '<=', '>', '>=']);
export const STRING_OPS = /^!?(contains|has|startswith|endswith)(_cs)?$/;
const FUNCS = new Set(['tolower', 'toupper', 'tostring', 'toint', 'tolong', 'todatetime', 'datetime', 'now', 'ago',
  'isempty', 'isnotempty', 'isnull', 'isnotnull', 'strlen', 'iff', 'iif', 'coalesce', 'not', 'array_length']);
const AGGS = new Set(['count', 'countif', 'dcount', 'sum', 'min', 'max', 'make_set']);

class Parser {
  private i = 0;
  constructor(private readonly t: Tok[]) {}
  private peek(o = 0) { return this.t[this.i + o]; }
  private next() { return this.t[this.i++]; }
  private is(text: string, o = 0) { const t = this.peek(o); return (t.kind === 'op' || t.kind === 'id') && t.text.toLowerCase() === text; }
  private expect(text: string) {
    const t = this.next();
    if (t.text.toLowerCase() !== text) throw new KqlError(`expected '${text}' but found '${t.text}' at position ${t.pos}`);
  }
  private ident(what: string): string {
    const t = this.next();
    if (t.kind !== 'id') throw new KqlError(`expected ${what} but found '${t.text}' at position ${t.pos}`);
    return t.text;
  }

  query(): Query {
    const table = this.ident('a table name').toLowerCase();
    const stages: Stage[] = [];
    while (this.peek().kind !== 'end') {
      this.expect('|');
      stages.push(this.stage());
    }
    return { table, stages };
  }

  private stage(): Stage {
    const t = this.next();
    const op = t.text.toLowerCase();
    switch (op) {
      case 'where': return { k: 'where', e: this.expr() };
      case 'project': return { k: 'project', cols: this.namedList(false) };
      case 'project-away': {
        const names = [this.ident('a column')];
        while (this.is(',')) { this.next(); names.push(this.ident('a column')); }
        return { k: 'project-away', names };
      }
      case 'extend': return { k: 'extend', cols: this.namedList(true) };
      case 'summarize': {
        const aggs: Named[] = [];
        if (!this.is('by')) {
          do { if (aggs.length) this.next(); aggs.push(this.agg()); } while (this.is(','));
        }
        let by: Named[] = [];
        if (this.is('by')) { this.next(); by = this.namedList(false); }
        if (!aggs.length && !by.length) throw new KqlError(`summarize needs an aggregation or a 'by' clause (position ${t.pos})`);
        return { k: 'summarize', aggs, by };
      }
      case 'order': case 'sort': {
        this.expect('by');
        const keys: { e: Expr; desc: boolean }[] = [];
        do {
          if (keys.length) this.next();
          const e = this.expr();
          let desc = true;
          if (this.is('asc')) { this.next(); desc = false; } else if (this.is('desc')) this.next();
          if (this.is('nulls')) throw new KqlError(`'nulls first/last' in order by is not supported by the sandbox (position ${this.peek().pos})`);
          keys.push({ e, desc });
        } while (this.is(','));
        return { k: 'order', keys };
      }
      case 'limit': case 'take': {
        const n = this.next();
        if (n.kind !== 'num') throw new KqlError(`${op} needs a number, found '${n.text}' at position ${n.pos}`);
        return { k: 'limit', n: Number(n.value) };
      }
      case 'count': return { k: 'count' };
      case 'distinct': return { k: 'distinct', cols: this.namedList(false) };
      default:
        throw new KqlError(`the operator '${t.text}' (position ${t.pos}) is not supported by the sandbox`);
    }
  }

  private namedList(requireName: boolean): Named[] {
    const out: Named[] = [];
    let n = 0;
    do {
      if (out.length) this.next();
      if (this.peek().kind === 'id' && this.is('=', 1)) {
        const name = this.ident('a column name');
        this.next();
        out.push({ name, e: this.expr() });
      } else {
        if (requireName) throw new KqlError(`expected NAME = EXPR at position ${this.peek().pos}`);
        const e = this.expr();
        out.push({ name: defaultName(e, ++n), e });
      }
    } while (this.is(','));
    return out;
  }

  private agg(): Named {
    let name: string | undefined;
    if (this.peek().kind === 'id' && this.is('=', 1)) { name = this.ident('a column name'); this.next(); }
    const t = this.next();
    const fn = t.text.toLowerCase();
    if (t.kind !== 'id' || !AGGS.has(fn)) throw new KqlError(`the aggregation '${t.text}' (position ${t.pos}) is not supported by the sandbox`);
    this.expect('(');
    const args: Expr[] = [];
    if (!this.is(')')) { do { if (args.length) this.next(); args.push(this.expr()); } while (this.is(',')); }
    this.expect(')');
    const e: Expr = { k: 'call', fn, args };
    const argName = args[0]?.k === 'col' ? String(args[0].path.join('_')) : '';
    return { name: name ?? (fn === 'count' || fn === 'countif' ? `${fn}_` : `${fn}_${argName}`), e };
  }

  expr(): Expr { return this.or(); }
  private or(): Expr {
    let l = this.and();
    while (this.is('or')) { this.next(); l = { k: 'bin', op: 'or', l, r: this.and() }; }
    return l;
  }
  private and(): Expr {
    let l = this.cmp();
    while (this.is('and')) { this.next(); l = { k: 'bin', op: 'and', l, r: this.cmp() }; }
    return l;
  }
  private cmp(): Expr {
    const l = this.add();
    const t = this.peek();
    const op = t.text.toLowerCase();
    if (t.kind === 'op' && COMPARE.has(op)) { this.next(); return { k: 'bin', op, l, r: this.add() }; }
    if (t.kind === 'id' && STRING_OPS.test(op)) { this.next(); return { k: 'bin', op, l, r: this.add() }; }
    if (t.kind === 'id' && /^!?in~?$/.test(op)) {
      this.next();
      this.expect('(');
      const items: Expr[] = [];
      if (!this.is(')')) { do { if (items.length) this.next(); items.push(this.expr()); } while (this.is(',')); }
      this.expect(')');
      return { k: 'bin', op, l, r: { k: 'list', items } };
    }
    if (t.kind === 'id' && /^(matches|between|has_any|has_all|contains_cs|in_cs)$/.test(op)) {
      throw new KqlError(`the operator '${t.text}' (position ${t.pos}) is not supported by the sandbox`);
    }
    return l;
  }
  private add(): Expr {
    let l = this.unary();
    while (this.is('+') || this.is('-')) { const op = this.next().text; l = { k: 'bin', op, l, r: this.unary() }; }
    return l;
  }
  private unary(): Expr {
    if (this.is('-')) { this.next(); return { k: 'bin', op: '-', l: { k: 'lit', v: 0 }, r: this.primary() }; }
    return this.primary();
  }
  private primary(): Expr {
    const t = this.next();
    if (t.kind === 'str') return { k: 'lit', v: t.value };
    if (t.kind === 'num') return { k: 'lit', v: timespanOrNumber(t.text) };
    if (t.kind === 'op' && t.text === '(') { const e = this.expr(); this.expect(')'); return e; }
    if (t.kind === 'id') {
      const lower = t.text.toLowerCase();
      if (lower === 'true' || lower === 'false') return { k: 'lit', v: lower === 'true' };
      if (lower === 'null') return { k: 'lit', v: null };
      if (this.is('(')) {
        if (lower === 'datetime') return this.datetimeLiteral(t);
        if (lower === 'dynamic') throw new KqlError(`dynamic() literals (position ${t.pos}) are not supported by the sandbox`);
        if (!FUNCS.has(lower)) throw new KqlError(`the function '${t.text}' (position ${t.pos}) is not supported by the sandbox`);
        this.next();
        const args: Expr[] = [];
        if (!this.is(')')) { do { if (args.length) this.next(); args.push(this.expr()); } while (this.is(',')); }
        this.expect(')');
        return lower === 'not' ? { k: 'not', e: args[0] } : { k: 'call', fn: lower, args };
      }
      const path: (string | number)[] = [t.text];
      for (;;) {
        if (this.is('.')) { this.next(); path.push(this.ident('a property name')); continue; }
        if (this.is('[')) {
          this.next();
          const k = this.next();
          if (k.kind !== 'str' && k.kind !== 'num') throw new KqlError(`expected a string or number index at position ${k.pos}`);
          path.push(k.kind === 'num' ? Number(k.value) : String(k.value));
          this.expect(']');
          continue;
        }
        break;
      }
      return { k: 'col', path };
    }
    throw new KqlError(`unexpected '${t.text}' at position ${t.pos}`);
  }
  // datetime(2024-01-01T00:00:00Z) takes an unquoted literal: read raw text up to ')'.
  private datetimeLiteral(t: Tok): Expr {
    this.next();
    let raw = '';
    while (!this.is(')') && this.peek().kind !== 'end') {
      const x = this.next();
      raw += x.kind === 'str' ? String(x.value) : x.text;
    }
    this.expect(')');
    return { k: 'lit', v: toDate(raw, `datetime(${raw}) at position ${t.pos}`) };
  }
}

function timespanOrNumber(text: string): number | Timespan {
  const m = /^([0-9]+(?:\.[0-9]+)?)(d|h|m|s|ms)?$/i.exec(text);
  if (!m) throw new KqlError(`'${text}' is not a number or timespan the sandbox understands`);
  if (!m[2]) return Number(m[1]);
  const unit = { d: 86400_000, h: 3600_000, m: 60_000, s: 1000, ms: 1 }[m[2].toLowerCase() as 'd']!;
  return new Timespan(Number(m[1]) * unit);
}

export class Timespan { constructor(readonly ms: number) {} }

function toDate(raw: string, where: string): Date {
  const s = raw.trim();
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  if (Number.isNaN(d.getTime())) throw new KqlError(`${where} is not a valid datetime`);
  return d;
}

function defaultName(e: Expr, n: number): string {
  if (e.k === 'col') return e.path.map(String).join('_');
  if (e.k === 'call' && e.args[0]?.k === 'col' && /^to/.test(e.fn)) return e.args[0].path.map(String).join('_');
  return `Column${n}`;
}

export function parseKql(src: string): Query {
  return new Parser(lex(src)).query();
}
