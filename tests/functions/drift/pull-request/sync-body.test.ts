// The plan hash a pull request body carries, and fitting a body into a host's limit (Azure DevOps
// keeps 4,000 characters of a description) without losing the hash marker.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PLAN_MARKER_PREFIX, type DriftPullRequestPlan } from '../../../../functions/drift/pull-request/plan.ts';
import { fitBody, planHashOf } from '../../../../functions/drift/pull-request/sync.ts';

const hash = 'a'.repeat(64);
const other = 'b'.repeat(64);
const plan = (text: string) => ({ stack: 'corp', hash, body: `${text}\n\n${PLAN_MARKER_PREFIX}${hash} -->` }) as DriftPullRequestPlan;

test('planHashOf: the last marker of the body; none without one', () => {
  assert.is(planHashOf(plan('x').body), hash);
  // A live value quoted earlier in the body cannot stand in for the marker Nexus appends.
  assert.is(planHashOf(`${PLAN_MARKER_PREFIX}${other} -->\n${plan('x').body}`), hash);
  assert.is(planHashOf('no marker'), undefined);
  assert.is(planHashOf(undefined), undefined);
  assert.is(planHashOf(`${PLAN_MARKER_PREFIX}xyz -->`), undefined);
});

test('fitBody: short bodies as they are; long ones cut to the limit with the marker kept at the end', () => {
  assert.is(fitBody(plan('short'), 4000), plan('short').body);
  const long = plan('y'.repeat(10_000));
  const fitted = fitBody(long, 4000);
  assert.ok(fitted.length <= 4000, `${fitted.length} characters`);
  assert.is(planHashOf(fitted), hash);
  assert.ok(fitted.endsWith(`${PLAN_MARKER_PREFIX}${hash} -->`));
  assert.match(fitted, /nexus drift corp/);
});

test.run();
