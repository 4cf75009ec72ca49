// The search box's syntax: words, `field:value` filters, paging bounds, and what is not syntax.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boxFilters, parseSearch } from '../../../../functions/catalog/index/query.ts';

test('words are lower-cased, split on punctuation, and counted once', () => {
  assert.equal(parseSearch('  Payments-API payments  ').terms, ['payments', 'api']);
  assert.is(parseSearch('  Payments-API  ').text, 'payments-api');
  assert.equal(parseSearch('!!! ???').terms, []);
  assert.is(parseSearch('!!!').text, '!!!', 'punctuation alone is text without words (it matches nothing)');
  assert.equal(parseSearch('   ').terms, []);
  assert.is(parseSearch('   ').text, '', 'an empty box is no text at all (filters alone)');
});

test('quotes and a leading minus are punctuation: there is no phrase or negation syntax', () => {
  assert.equal(parseSearch('"order service"').terms, ['order', 'service']);
  assert.equal(parseSearch('-legacy billing').terms, ['legacy', 'billing']);
});

test('paging is bounded: 1..200 hits a page, 20 by default, offsets from 0', () => {
  assert.is(parseSearch('x').limit, 20);
  assert.is(parseSearch('x', { limit: 0 }).limit, 1);
  assert.is(parseSearch('x', { limit: 5000 }).limit, 200);
  assert.is(parseSearch('x', { offset: -3 }).offset, 0);
  assert.is(parseSearch('x', { offset: 40 }).offset, 40);
});

test('the cache key ignores case and surrounding space, and tells filters and pages apart', () => {
  assert.is(parseSearch(' Billing ').cacheKey, parseSearch('billing').cacheKey);
  assert.is.not(parseSearch('billing', { kind: 'service' }).cacheKey, parseSearch('billing').cacheKey);
  assert.is.not(parseSearch('billing', { offset: 20 }).cacheKey, parseSearch('billing').cacheKey);
  assert.is.not(parseSearch('billing', { tag: 'x' }).cacheKey, parseSearch('billing', { owner: 'x' }).cacheKey);
});

test('kind:, owner: and tag: in the box are filters (any case); the rest stays text', () => {
  const f = boxFilters('KIND:Service payments owner:team-a TAG:java api');
  assert.is(f.kind, 'Service');
  assert.is(f.owner, 'team-a');
  assert.is(f.tag, 'java');
  assert.equal(parseSearch(f.text).terms, ['payments', 'api']);
});

test('a later filter of the same field wins; other `x:y` text is words', () => {
  const f = boxFilters('kind:api kind:service lifecycle:production');
  assert.is(f.kind, 'service');
  assert.equal(parseSearch(f.text).terms, ['lifecycle', 'production']);
  // Only at a word boundary: `mykind:x` is not a filter.
  assert.is(boxFilters('mykind:x').kind, undefined);
});

test.run();
