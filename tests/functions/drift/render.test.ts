// renderDiff: json-diff's colourless text over the differing properties only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderDiff } from '../../../functions/drift/render.ts';

test('each differing path shows desired (-) and live (+); nothing else is rendered', () => {
  const text = renderDiff([
    { path: 'sku.name', desired: 'Standard_ZRS', live: 'Standard_LRS' },
    { path: 'properties.networkAcls.ipRules[0].value', desired: undefined, live: '0.0.0.0/0' },
    { path: 'tags.owner', desired: 'platform', live: undefined },
  ]);
  assert.match(text, /^- {2}sku\.name: "Standard_ZRS"$/m);
  assert.match(text, /^\+ {2}sku\.name: "Standard_LRS"$/m);
  assert.match(text, /^\+ {2}properties\.networkAcls\.ipRules\[0\]\.value: "0\.0\.0\.0\/0"$/m);
  assert.match(text, /^- {2}tags\.owner: "platform"$/m);
  assert.not.match(text, /\u001b\[/);
});

test('a whole resource (path "") and no differences', () => {
  assert.match(renderDiff([{ path: '', desired: null, live: { properties: { principalId: 'p' } } }]), /\(resource\)/);
  assert.is(renderDiff([]), '');
});

test('a path named __proto__ pollutes nothing and the other paths still render', () => {
  const text = renderDiff([{ path: '__proto__', desired: { polluted: 1 }, live: 2 }, { path: 'a', desired: 1, live: 2 }]);
  assert.match(text, /^- {2}a: 1$/m);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test.run();
