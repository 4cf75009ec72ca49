// The sandbox's KQL subset: parsing, evaluation, and refusal of what it does not support.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseKql, run, KqlError } from '../../../scripts/sandbox/kql.ts';

const rows = [
  { id: '/subscriptions/s1/resourceGroups/a/providers/X/y/one', name: 'one', type: 'microsoft.x/y', subscriptionId: 's1', tags: { env: 'prod' },
    properties: { state: 'NonCompliant', ts: '2024-05-01T10:00:00.000Z', n: 3, list: ['p', 'q'] } },
  { id: '/subscriptions/s2/resourceGroups/b/providers/X/y/two', name: 'two', type: 'microsoft.x/y', subscriptionId: 's2', tags: {},
    properties: { state: 'Compliant', ts: '2024-05-02T10:00:00.000Z', n: 1, list: [] } },
  { id: '/subscriptions/s2/resourceGroups/b/providers/X/z/three', name: 'Three', type: 'microsoft.x/z', subscriptionId: 's2', tags: { env: 'dev' },
    properties: { state: 'NonCompliant', ts: '2024-05-03T10:00:00.000Z', n: 2 } },
];
const q = (text: string) => run(parseKql(text), rows);

test('where with =~, ==, in, in~, !in, startswith, contains, has, and/or/not', () => {
  assert.equal(q("t | where type =~ 'MICROSOFT.X/Y' | project name"), [{ name: 'one' }, { name: 'two' }]);
  assert.equal(q("t | where type == 'MICROSOFT.X/Y' | project name"), []);
  assert.equal(q("t | where subscriptionId in ('s2') and name != 'two' | project name"), [{ name: 'Three' }]);
  assert.equal(q("t | where name in~ ('THREE', 'ONE') | project name"), [{ name: 'one' }, { name: 'Three' }]);
  assert.equal(q("t | where name !in ('one') | project name"), [{ name: 'two' }, { name: 'Three' }]);
  assert.equal(q("t | where id startswith '/SUBSCRIPTIONS/s2/' | count"), [{ Count: 2 }]);
  assert.equal(q("t | where id startswith_cs '/SUBSCRIPTIONS/s2/' | count"), [{ Count: 0 }]);
  assert.equal(q("t | where name contains 'hre' or not(isnotempty(tags.env)) | project name"), [{ name: 'two' }, { name: 'Three' }]);
  assert.equal(q("t | where id has 'resourceGroups' and id !has 'z' | count"), [{ Count: 2 }]);
  assert.equal(q("t | where tags['env'] == 'prod' | project name"), [{ name: 'one' }]);
});

test('datetime comparison, ago(), arithmetic on datetimes', () => {
  assert.equal(q('t | where properties.ts > datetime(2024-05-01T12:00:00Z) | project name'), [{ name: 'two' }, { name: 'Three' }]);
  assert.equal(q("t | where properties.ts >= datetime('2024-05-03') | project name"), [{ name: 'Three' }]);
  assert.equal(q('t | where todatetime(properties.ts) > datetime(2024-05-01) + 1d | project name'), [{ name: 'two' }, { name: 'Three' }]);
  assert.equal(q('t | where properties.ts > ago(1d) | count'), [{ Count: 0 }]);
});

test('project with names, extend, summarize by with aliases, order, limit, distinct', () => {
  assert.equal(q('t | project name, s = tostring(properties.state), properties.n | limit 1'), [{ name: 'one', s: 'NonCompliant', properties_n: 3 }]);
  assert.equal(q("t | summarize count() by state = tostring(properties.state) | order by state asc"),
    [{ state: 'Compliant', count_: 1 }, { state: 'NonCompliant', count_: 2 }]);
  assert.equal(q("t | summarize n = countif(properties.state == 'NonCompliant'), subs = dcount(subscriptionId), total = sum(properties.n)"),
    [{ n: 2, subs: 2, total: 6 }]);
  assert.equal(q('t | order by properties.n | project name'), [{ name: 'one' }, { name: 'Three' }, { name: 'two' }], 'order by is descending by default');
  assert.equal(q('t | sort by subscriptionId asc, name desc | take 2 | project name'), [{ name: 'one' }, { name: 'two' }]);
  assert.equal(q('t | extend big = properties.n > 1 | where big == true | project name'), [{ name: 'one' }, { name: 'Three' }]);
  assert.equal(q('t | distinct subscriptionId'), [{ subscriptionId: 's1' }, { subscriptionId: 's2' }]);
  assert.equal(q('t | summarize by subscriptionId'), [{ subscriptionId: 's1' }, { subscriptionId: 's2' }]);
  assert.equal(q("t | where name == 'none' | summarize count()"), [{ count_: 0 }]);
});

test('unsupported syntax is refused with the part named', () => {
  const cases: [string, RegExp][] = [
    ['t | join (u) on id', /operator 'join'/],
    ['t | mv-expand x', /operator 'mv-expand'/],
    ["t | where name matches regex 'x'", /operator 'matches'/],
    ['t | where parse_json(x) == 1', /function 'parse_json'/],
    ['t | summarize percentile(n, 50)', /aggregation 'percentile'/],
    ['t | where a == ', /unexpected '<end of query>'/],
    ["t | where name == 'open", /unterminated string/],
    ['t | where x == dynamic([1])', /dynamic\(\)/],
    ['t | limit x', /limit needs a number/],
    ['t | where ts > datetime(not a date)', /not a valid datetime/],
  ];
  for (const [text, msg] of cases) {
    assert.throws(() => q(text), (e: Error) => e instanceof KqlError && msg.test(e.message), text);
  }
});

test.run();
