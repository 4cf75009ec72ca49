// The findings a pull request comment shows: everything in the repository's files, only the
// errors of the libraries beneath, named without this host's folders.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ownFindings } from '../../../functions/gitops/pull-requests.ts';
import type { Finding } from '../../../stacks/compile/model.ts';

test('library warnings are left out; library errors stay, without the host path; repository findings stay', () => {
  const lib = '/srv/nexus/shared/alz-library/platform/alz/policy_assignments';
  const findings: Finding[] = [
    { severity: 'warning', file: `${lib}/Deny-X.json`, path: 'properties', message: `unused in ${lib}/Deny-X.json` },
    { severity: 'error', file: `${lib}/Deploy-Y.json`, path: 'properties.parameters', message: `bad parameter in ${lib}/Deploy-Y.json` },
    { severity: 'warning', file: 'nexus-corp.yaml', path: 'spec.policies[0]', message: 'shadowed' },
  ];
  const out = ownFindings(findings);
  assert.equal(out.map((f) => [f.severity, f.file]), [['error', '(library) Deploy-Y.json'], ['warning', 'nexus-corp.yaml']]);
  assert.not.match(JSON.stringify(out), /\/srv\/nexus/);
});

test.run();
