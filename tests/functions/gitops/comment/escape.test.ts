// The escaping primitives the comment is built from.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMENT_MARKER, clip, fenced, safeUrl, text } from '../../../../functions/gitops/comment/escape.ts';

test('text: one line, markup characters as references, bidi overrides and lone surrogates replaced', () => {
  assert.is(text('a|b<i>*x*</i>\n# h `c` [l](u) ~s~ $m$ \\ & "q"'),
    'a&#124;b&#60;i&#62;&#42;x&#42;&#60;/i&#62; &#35; h &#96;c&#96; &#91;l&#93;(u) &#126;s&#126; &#36;m&#36; &#92; &#38; &#34;q&#34;');
  assert.is(text('evil\u202Egnp.exe'), 'evil\uFFFDgnp.exe');
  assert.is(text('x\uD800y'), 'x\uFFFDy');
  assert.is(text('😀'), '😀');
  assert.is(text('abcdef', 4), 'abc…');
});

test('clip never splits a surrogate pair', () => {
  assert.is(clip('ab😀cd', 4), 'ab…');
  assert.is(clip('abc', 3), 'abc');
});

test('fenced: the fence is longer than any run of backticks inside; the marker is defused', () => {
  assert.is(fenced('a\n``````\nb', 'diff'), '```````diff\na\n``````\nb\n```````');
  assert.is(fenced('x', 'text'), '```text\nx\n```');
  assert.not.match(fenced(`v ${COMMENT_MARKER}`), COMMENT_MARKER);
});

test('safeUrl: only http(s), percent-encoded so it cannot leave a <...> link destination', () => {
  assert.is(safeUrl('javascript:alert(1)'), undefined);
  assert.is(safeUrl('data:text/html,x'), undefined);
  assert.is(safeUrl('not a url'), undefined);
  assert.is(safeUrl('https://nexus.example/portal/runs/a b<c>'), 'https://nexus.example/portal/runs/a%20b%3Cc%3E');
  assert.is(safeUrl(`https://x/${'a'.repeat(2000)}`, 800), undefined);
});

test.run();
