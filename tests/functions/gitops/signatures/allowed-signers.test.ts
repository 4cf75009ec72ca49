// NEXUS_ALLOWED_SIGNERS parsing: ssh-keygen's allowed_signers lines and OpenPGP key blocks; bad
// lines are errors naming the line; lines Nexus cannot verify are findings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as openpgp from 'openpgp';
import { AllowedSignersError, parseAllowedSigners } from '../../../../functions/gitops/signatures/allowed-signers.ts';
import { matchPattern, matchPatternList } from '../../../../functions/gitops/signatures/patterns.ts';
import { LIMITS } from '../../../../functions/gitops/signatures/types.ts';
import { sandbox, sshKey, type Sandbox, type SshKeyFiles } from './helpers.ts';

let sb: Sandbox;
let ed: SshKeyFiles;
let ec: SshKeyFiles;

test.before(() => {
  sb = sandbox();
  ed = sshKey(sb, 'ed', 'ed25519');
  ec = sshKey(sb, 'ec', 'ecdsa', 256);
});
test.after(() => sb.cleanup());

async function rejects(text: string, pattern: RegExp) {
  try {
    await parseAllowedSigners(text);
  } catch (e) {
    assert.instance(e, AllowedSignersError);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`accepted: ${text.slice(0, 80)}`);
}

test('principals, options, key and comment; blank and comment lines; fingerprints as ssh-keygen -l', async () => {
  const s = await parseAllowedSigners([
    '# Comments allowed at start of line',
    '',
    `   alice@example.com,bob@example.com ${ed.publicLine}`,
    `"carol smith@example.com" namespaces="git,file",valid-after="20240101",Valid-Before=20300101Z ${ec.type} ${ec.base64} carol's laptop`,
    '\t# indented comment\r',
  ].join('\n'));
  assert.is(s.ssh.length, 2);
  assert.equal([s.ssh[0].line, s.ssh[0].principals, s.ssh[0].namespaces, s.ssh[0].key.type], [3, 'alice@example.com,bob@example.com', undefined, 'ssh-ed25519']);
  assert.is(s.ssh[0].fingerprint, sb.run('ssh-keygen', ['-lf', `${ed.path}.pub`]).split(' ')[1]);
  assert.equal([s.ssh[1].line, s.ssh[1].principals, s.ssh[1].namespaces], [4, 'carol smith@example.com', 'git,file']);
  assert.is(s.ssh[1].validBefore!.toISOString(), '2030-01-01T00:00:00.000Z');
  assert.is(s.ssh[1].validAfter!.getTime(), new Date(2024, 0, 1).getTime()); // no Z: the system time zone, as ssh-keygen
  assert.equal(s.findings, []);
});

test('bad lines are errors naming the line', async () => {
  const ok = `a@example.com ${ed.publicLine}`;
  await rejects(`${ok}\nalice@example.com`, /NEXUS_ALLOWED_SIGNERS line 2: a key is missing/);
  await rejects(`${ok}\n\nalice@example.com ssh-ed25519`, /line 3: the ssh-ed25519 key has no base64 data/);
  await rejects(`alice@example.com ssh-ed25519 not*base64`, /line 1: the ssh-ed25519 key is not valid base64/);
  await rejects(`alice@example.com ecdsa-sha2-nistp256 ${ed.base64}`, /line 1: the key says type 'ssh-ed25519', the line 'ecdsa-sha2-nistp256'/);
  await rejects(`alice@example.com ssh-ed25519 ${Buffer.from('\0\0\0\x0bssh-ed25519\0\0\0\x03abc').toString('base64')}`, /line 1: .*32/);
  await rejects(`alice@example.com no-touch-required ${ed.publicLine}`, /line 1: unknown or malformed option 'no-touch-required'/);
  await rejects(`alice@example.com namespaces="git" foo-key AAAA`, /line 1: unknown key type 'foo-key'/);
  await rejects(`alice@example.com namespaces="git ${ed.publicLine}`, /line 1: the options have an unterminated quote/);
  await rejects(`alice@example.com namespaces="git",,valid-after=20240101 ${ed.publicLine}`, /stray comma/);
  await rejects(`alice@example.com namespaces="a",namespaces="b" ${ed.publicLine}`, /more than one namespaces/);
  await rejects(`alice@example.com valid-after=20241301 ${ed.publicLine}`, /valid-after '20241301' is not a real date/);
  await rejects(`alice@example.com valid-before=2024-01-01 ${ed.publicLine}`, /valid-before '2024-01-01' is not YYYYMMDD/);
  await rejects(`alice@example.com valid-after=20300101Z,valid-before=20200101Z ${ed.publicLine}`, /valid-before is not after valid-after/);
  await rejects(`"alice@example.com ${ed.publicLine}`, /line 1: the quoted principals have no closing quote/);
  await rejects(`${ok}\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nabc\n`, /line 2: -----BEGIN PGP PUBLIC KEY BLOCK----- without -----END/);
  await rejects(`-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----`, /line 1: OpenPGP key block: /);
  await rejects(`${ok}\n-----BEGIN PGP PRIVATE KEY BLOCK-----`, /line 2: an OpenPGP private key/);
});

test('weak RSA keys are refused; cert-authority and DSA lines are ignored with a finding; FIDO keys are read', async () => {
  const weak = sshKey(sb, 'weak', 'rsa', 1024);
  await rejects(`a@example.com ${weak.publicLine}`, /line 1: the ssh-rsa key cannot be read: rsa key of 1024 bits: at least 2048/);
  const str = (b: string | Buffer) => {
    const v = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(v.length);
    return Buffer.concat([len, v]);
  };
  const dss = Buffer.concat([str('ssh-dss'), str(Buffer.alloc(129, 1)), str(Buffer.alloc(21, 1)), str(Buffer.alloc(128, 1)), str(Buffer.alloc(128, 1))]).toString('base64');
  const fido = Buffer.concat([str('sk-ssh-ed25519@openssh.com'), str(Buffer.alloc(32, 7)), str('ssh:')]).toString('base64');
  const s = await parseAllowedSigners([
    `*@example.com cert-authority ${ed.publicLine}`,
    `a@example.com ssh-dss ${dss}`,
    `b@example.com ${ec.publicLine}`,
    `c@example.com sk-ssh-ed25519@openssh.com ${fido}`,
  ].join('\n'), { source: '/etc/nexus/allowed_signers' });
  assert.equal(s.ssh.map((l) => [l.line, l.key.type]), [[3, 'ecdsa-sha2-nistp256'], [4, 'sk-ssh-ed25519@openssh.com']]);
  assert.is(s.findings.length, 2);
  assert.match(s.findings[0], /^\/etc\/nexus\/allowed_signers line 1: cert-authority keys are not supported.*ignored$/);
  assert.match(s.findings[1], /line 2: ssh-dss keys are not supported/);
});

test('OpenPGP key blocks anywhere in the text, with the e-mails of their user ids', async () => {
  const { publicKey } = await openpgp.generateKey({ userIDs: [{ name: 'A', email: 'A@Example.com' }, { name: 'A', email: 'a@work.example' }, { name: 'no mail' }], format: 'armored' });
  const s = await parseAllowedSigners(`a@example.com ${ed.publicLine}\n\n  ${publicKey.trim().split('\n').join('\n')}\nb@example.com ${ec.publicLine}\n`);
  assert.equal(s.ssh.map((l) => l.line), [1, 3 + publicKey.trim().split('\n').length]);
  assert.is(s.openpgp.length, 1);
  assert.is(s.openpgp[0].line, 3);
  assert.equal(s.openpgp[0].emails, ['a@example.com', 'a@work.example']);
  const { privateKey } = await openpgp.generateKey({ userIDs: [{ name: 'x' }], format: 'armored' });
  await rejects(privateKey, /line 1: an OpenPGP private key/);
});

test('limits on size: the whole text, lines, one line, OpenPGP blocks', async () => {
  await rejects('#'.repeat(LIMITS.allowedSignersChars + 1), /NEXUS_ALLOWED_SIGNERS: \d+ characters, at most/);
  await rejects('\n'.repeat(LIMITS.allowedSignersLines + 1), /lines, at most/);
  await rejects(`a@example.com ${'x'.repeat(LIMITS.lineChars)}`, /line 1: \d+ characters, at most/);
  const block = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n-----END PGP PUBLIC KEY BLOCK-----\n';
  await rejects(block.repeat(LIMITS.pgpBlocks + 1), /more than 100 OpenPGP key blocks/);
});

test('pattern lists match as ssh-keygen: * and ?, negation wins, case-sensitive, no regex meaning', () => {
  assert.ok(matchPattern('alice@example.com', '*@example.com'));
  assert.ok(matchPattern('alice@example.com', 'a?ice@*.com'));
  assert.ok(matchPattern('', '*'));
  assert.not.ok(matchPattern('alice@example.com', 'Alice@example.com'));
  assert.not.ok(matchPattern('alice@exampleXcom', 'alice@example.com'));
  assert.not.ok(matchPattern('alice@example.com', '*@example.co'));
  assert.ok(matchPattern('a'.repeat(5000), `${'*a'.repeat(50)}`)); // no exponential backtracking
  assert.is(matchPatternList('alice@example.com', 'bob@*,*@example.com'), 1);
  assert.is(matchPatternList('alice@example.com', '*@example.com,!alice@*'), -1);
  assert.is(matchPatternList('alice@example.com', '!bob@example.com'), 0);
});

test.run();
