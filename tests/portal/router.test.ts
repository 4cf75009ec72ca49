// The portal's hash routes: every page's link parses back to the same page, names with odd
// characters survive, and anything else is "not found" rather than a wrong page.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { href, parseHash, refHref } from '../../portal/src/router.ts';

test('each link parses back to its page', () => {
  assert.equal(parseHash(href.entity('Service', 'default', 'payments-api')), { page: 'entity', kind: 'service', namespace: 'default', name: 'payments-api' });
  assert.equal(parseHash(href.search('owner:payments java', 'service')), { page: 'search', q: 'owner:payments java', kind: 'service' });
  assert.equal(parseHash(href.search('a&b=c#d')), { page: 'search', q: 'a&b=c#d', kind: undefined });
  assert.equal(parseHash(href.browse('AzureResource')), { page: 'browse', kind: 'AzureResource' });
  assert.equal(parseHash(href.stack('alz.platform_1')), { page: 'stack', stack: 'alz.platform_1' });
  assert.equal(parseHash(href.run('7204401456640999-bd2368e4')), { page: 'run', id: '7204401456640999-bd2368e4' });
  assert.equal(parseHash(href.approvals()), { page: 'approvals', status: 'pending' });
  assert.equal(parseHash(href.approvals('all')), { page: 'approvals', status: 'all' });
  assert.equal(parseHash(href.me()), { page: 'me' });
  assert.equal(parseHash(href.stacks()), { page: 'stacks' });
  assert.equal(parseHash(href.drift('alz.platform_1')), { page: 'drift', stack: 'alz.platform_1', run: undefined });
  assert.equal(parseHash(href.drift('alz', '7204401456640999-bd2368e4')), { page: 'drift', stack: 'alz', run: '7204401456640999-bd2368e4' });
  assert.equal(parseHash(href.compliance()), { page: 'compliance', scope: undefined });
  const mg = '/providers/Microsoft.Management/managementGroups/alz';
  assert.equal(parseHash(href.compliance(mg)), { page: 'compliance', scope: mg });
});

test('the empty hash is the search page; unknown or incomplete paths are not found', () => {
  assert.equal(parseHash(''), { page: 'search', q: '', kind: undefined });
  assert.equal(parseHash('#/'), { page: 'search', q: '', kind: undefined });
  assert.is(parseHash('#/entity/service/default').page, 'not-found');
  assert.is(parseHash('#/runs').page, 'not-found');
  assert.is(parseHash('#/nowhere').page, 'not-found');
  assert.is(parseHash('#/stacks/alz/elsewhere').page, 'not-found');
  assert.is(parseHash('#/stacks/alz/drift/more').page, 'not-found');
});

test('catalog refs become entity links; anything else does not', () => {
  assert.is(refHref('service:default/payments-api'), '#/entity/service/default/payments-api');
  assert.is(refHref('azureresource:default/sub-1.rg-app'), '#/entity/azureresource/default/sub-1.rg-app');
  assert.is(refHref('payments'), undefined);
  assert.is(refHref('https://example.org/x'), undefined);
});

test.run();
