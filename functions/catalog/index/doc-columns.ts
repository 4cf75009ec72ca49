// What scoring, filtering and facet counting read of each matching document, as typed arrays
// indexed by doc id: a search touches tens of thousands of docs, and reading numbers side by side
// in memory is many times faster than following a pointer to an object (and its strings) per doc.

/** Facet values are small numbers (see Dictionary); -1 is none. */
export class DocColumns {
  kind = new Int32Array(0);
  kindLower = new Int32Array(0);
  owner = new Int32Array(0);
  lifecycle = new Int32Array(0);
  tag0 = new Int32Array(0);
  tag1 = new Int32Array(0);
  orphaned = new Uint8Array(0);
  /** The name's first character (lower case). */
  name0 = new Uint16Array(0);
  /** The first letters of the lower-case name as a number, in the names' alphabetical order: orders ties. */
  nameCode = new Float64Array(0);

  ensure(n: number): void {
    if (n <= this.kind.length) return;
    const size = Math.max(1024, n * 2);
    const grow = <T extends Int32Array | Uint8Array | Uint16Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.kind = grow(this.kind); this.kindLower = grow(this.kindLower); this.owner = grow(this.owner);
    this.lifecycle = grow(this.lifecycle); this.tag0 = grow(this.tag0); this.tag1 = grow(this.tag1);
    this.orphaned = grow(this.orphaned); this.nameCode = grow(this.nameCode); this.name0 = grow(this.name0);
  }
}

const NAME_CODE_CHARS = 8;

/** 'abc-1' -> a number that orders like the string's first NAME_CODE_CHARS characters. */
export function nameCode(nameLower: string): number {
  let code = 0;
  for (let i = 0; i < NAME_CODE_CHARS; i++) {
    const c = i < nameLower.length ? nameLower.charCodeAt(i) : -1;
    // 0: end of name; then the characters names may have ('-' '.' 0-9 '_' a-z) in code-point order; 40: anything else.
    const v = c < 0 ? 0 : c === 45 ? 1 : c === 46 ? 2 : c >= 48 && c <= 57 ? 3 + c - 48 : c === 95 ? 13 : c >= 97 && c <= 122 ? 14 + c - 97 : 40;
    code = code * 41 + v;
  }
  return code;
}
