// `nexus dev-token`: prints a token signed by the local issuer, for curl and scripts against the
// local API. Refused unless the local issuer is on (NEXUS_LOCAL_ISSUER=1, set by `npm run up`).
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { decodeJwt } from 'jose';
import { UserError } from '../errors.ts';
import { AuthError, ROLES, signDevToken, type Role } from '../../platform/identity.ts';

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function register(program: Command, ctx: CliContext): void {
  program
    .command('dev-token')
    .description('print a bearer token from the local issuer (only when NEXUS_LOCAL_ISSUER=1)')
    .requiredOption('--user <name>', 'user name (the token subject)')
    .option('--role <role>', `role, repeatable or comma-separated: ${ROLES.join(', ')}`, list, [])
    .option('--groups <ids>', 'group ids or team names, comma-separated', list, [])
    .option('--email <email>', 'e-mail claim')
    .option('--expires <duration>', 'lifetime, e.g. 30m, 8h', '8h')
    .option('--json', 'print JSON')
    .action(async (opts: { user: string; role: string[]; groups: string[]; email?: string; expires: string; json?: boolean }) => {
      const roles = opts.role.length ? opts.role : ['Developer'];
      const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
      if (unknown.length) throw new UserError(`--role: unknown role ${unknown.join(', ')} (one of ${ROLES.join(', ')})`);
      if (!/^\d+[smhd]$/.test(opts.expires)) throw new UserError(`--expires: "${opts.expires}" is not a duration such as 30m or 8h`);
      let token: string;
      try {
        token = await signDevToken({ user: opts.user, roles: roles as Role[], groups: opts.groups, email: opts.email, expiresIn: opts.expires }, ctx.config().identity);
      } catch (err) {
        if (err instanceof AuthError) throw new UserError(`${err.reason}; dev tokens only exist for the local system`);
        throw err;
      }
      if (opts.json) {
        const { exp } = decodeJwt(token);
        process.stdout.write(JSON.stringify({ token, user: opts.user, roles, groups: opts.groups, expiresAt: new Date((exp ?? 0) * 1000).toISOString() }) + '\n');
      } else {
        process.stdout.write(token + '\n');
      }
    });
}
