// Words of every script, the same for the index and for queries.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tokenize } from '../../../functions/catalog/tokenize.ts';

test('Latin words split on anything that is not a letter or a number, lower-cased', () => {
  assert.equal(tokenize('Payments-API v2_beta'), ['payments', 'api', 'v2', 'beta']);
});

test('letters outside ASCII are letters: accents, Cyrillic, Greek', () => {
  assert.equal(tokenize('Müller über Straße'), ['müller', 'über', 'straße']);
  assert.equal(tokenize('Платёжный шлюз'), ['платёжный', 'шлюз']);
  assert.equal(tokenize('ΑΠΙ'), ['απι']);
});

test('scripts written without spaces become overlapping pairs of characters', () => {
  assert.equal(tokenize('结账失败'), ['结账', '账失', '失败']);
  assert.equal(tokenize('账'), ['账']);
  assert.equal(tokenize('支付 API 超时'), ['支付', 'api', '超时']);
  // A character outside the basic plane is not cut in half.
  assert.equal(tokenize('𠮷野家'), ['𠮷野', '野家']);
});

test('compatibility forms fold (full-width letters are the same word)', () => {
  assert.equal(tokenize('ＡＰＩ'), ['api']);
});

test('punctuation only gives no words', () => {
  assert.equal(tokenize('!!! --- ???'), []);
});

test.run();
