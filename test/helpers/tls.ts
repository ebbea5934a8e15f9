/**
 * A throw-away certificate for `localhost` and 127.0.0.1, made by `openssl` (Debian's openssl
 * package; `scripts/provision.sh` installs it) for servers that need TLS in tests: browsers speak
 * HTTP/2 only over TLS. EC P-256, self-signed, valid one day; clients trust it as its own CA.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Certificate {
  key: Buffer;
  cert: Buffer;
  /** The certificate's file, for clients that take a CA file (`curl --cacert`). */
  certFile: string;
  /** The private key's file, for servers in another process. */
  keyFile: string;
  /** Removes the files. */
  remove(): Promise<void>;
}

export async function makeCertificate(): Promise<Certificate> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'authscheme-tls-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const args = [
    ['req', '-x509', '-nodes', '-days', '1'],
    ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    ['-keyout', keyFile, '-out', certFile],
    ['-subj', '/CN=localhost'],
    ['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
  ].flat();
  await new Promise<void>((resolve, reject) => {
    execFile('openssl', args, { timeout: 15_000 }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else
        reject(
          new Error(
            `openssl could not make a certificate (scripts/provision.sh installs it): ${stderr || error.message}`,
          ),
        );
    });
  });
  return {
    key: await readFile(keyFile),
    cert: await readFile(certFile),
    certFile,
    keyFile,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
