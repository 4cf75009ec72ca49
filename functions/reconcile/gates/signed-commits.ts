// Gate: with NEXUS_REQUIRE_SIGNED_COMMITS, every commit since the stack's last applied one carries
// a signature Nexus verified itself against the allowed signers. An unsigned or untrusted commit
// is previewed, never applied.
import type { Gate } from './types.ts';

export const signedCommitsGate: Gate = (ctx) => {
  const f = ctx.commits;
  if (!f || !f.requireSigned) return { gate: 'signed-commits', pass: true, reason: 'OK', details: { message: 'signed commits are not required' } };
  if (f.truncated) {
    return {
      gate: 'signed-commits', pass: false, reason: 'UNSIGNED_COMMIT',
      details: { message: `the host listed only ${f.commits.length} of the commits since ${f.applied?.slice(0, 12) ?? 'the start'}: not every commit could be verified` },
    };
  }
  const bad = f.commits.filter((c) => !c.verdict || !c.verdict.ok);
  if (bad.length === 0) {
    return { gate: 'signed-commits', pass: true, reason: 'OK', details: { message: `${f.commits.length} commit(s) signed by allowed signers` } };
  }
  const why = bad.map((c) => `${c.sha.slice(0, 12)} (${c.author}): ${c.verdict && !c.verdict.ok ? c.verdict.message : 'not verified'}`);
  return {
    gate: 'signed-commits', pass: false, reason: 'UNSIGNED_COMMIT',
    details: {
      message: `${bad.length} commit(s) not signed by an allowed signer: ${why.slice(0, 5).join('; ')}${bad.length > 5 ? `; and ${bad.length - 5} more` : ''}`,
      commits: bad.map((c) => ({ sha: c.sha, author: c.author, reason: c.verdict && !c.verdict.ok ? c.verdict.reason : undefined })),
    },
  };
};
