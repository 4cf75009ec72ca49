// Seeding the GitHub stand-in's landing-zone repository the way `npm run up` does: the files of
// archetypes/ at the repository's root, in one first commit by a seeded user, once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitHubStandIn } from '../../../scripts/sandbox/github/server.ts';
import { runGit } from './github-fixture.ts';

test('seed from a relative folder: its files at the root, one commit by alice; a second seed changes nothing', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-standin-seed-'));
  const gh = await startGitHubStandIn({ dataDir });
  try {
    const first = await gh.seed('contoso/landing-zones', 'archetypes', { login: 'alice' });
    assert.is(first.created, true);
    const again = await gh.seed('contoso/landing-zones', 'archetypes', { login: 'bob' });
    assert.equal(again, { sha: first.sha, created: false });
    const work = mkdtempSync(join(tmpdir(), 'gh-standin-seed-clone-'));
    await runGit(work, ['clone', '--quiet', gh.env.NEXUS_LANDING_ZONE_GIT_URL, 'lz']);
    const files = (await runGit(join(work, 'lz'), ['ls-files'])).trim().split('\n').sort();
    assert.equal(files, readdirSync('archetypes', { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).replace(/^archetypes\//, '')).sort());
    const log = (await runGit(join(work, 'lz'), ['log', '--format=%an <%ae>'])).trim();
    assert.is(log, 'Alice Adams <alice@contoso.com>');
    assert.is(gh.env.NEXUS_LANDING_ZONE_REPO, 'github:contoso/landing-zones');
    assert.is(gh.env.NEXUS_GITHUB_TOKEN, gh.token);
  } finally {
    await gh.stop();
  }
});

test.run();
