// A self-signed certificate for the sandbox's HTTPS listener (Azure SDK bearer auth refuses http).
// Generated with openssl on first use; kept next to the data file when there is one, so clients
// that trusted it keep trusting it across restarts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export function sandboxCertificate(dir?: string): TlsFiles {
  const folder = dir ?? mkdtempSync(join(tmpdir(), 'nexus-sandbox-tls-'));
  mkdirSync(folder, { recursive: true });
  const certFile = join(folder, 'sandbox-cert.pem');
  const keyFile = join(folder, 'sandbox-key.pem');
  if (!(existsSync(certFile) && existsSync(keyFile) && stillValid(certFile))) {
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyFile, '-out', certFile, '-days', '365',
        '-subj', '/CN=Nexus ARM sandbox',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1',
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
      throw new Error(`The ARM sandbox could not create its TLS certificate with openssl (is openssl installed?): ${stderr.trim()}`);
    }
  }
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

function stillValid(certFile: string): boolean {
  try {
    // -checkend: exits non-zero when the certificate expires within the given seconds (a week).
    execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-checkend', String(7 * 86400)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
