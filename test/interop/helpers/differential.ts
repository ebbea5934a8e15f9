/**
 * What the differential tests (differential-apache.test.ts, differential-lighttpd.test.ts) share:
 * requests written byte for byte over a raw socket to another server and to ours, the challenge
 * read back, and the editors that mutate a Digest answer's directives.
 */
import net from 'node:net';

/** The octets of `s`, one a character (latin1). */
export const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
/** The UTF-8 octets of `s`, one character each (how they go on the wire through a latin1 write). */
export const u8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

/** A response's status (0: none read; -2: no head within 3 s) and its head. */
export interface Reply {
  status: number;
  headers: string;
}

/** Sends `head` (one byte a character) on a fresh connection and reads the response head. */
export function raw(port: number, head: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (): void => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, headers: text.slice(0, text.indexOf('\r\n\r\n')) });
      socket.destroy();
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).includes('\r\n\r\n')) done();
    });
    socket.on('error', reject);
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve({ status: -2, headers: Buffer.concat(chunks).toString('latin1') });
    });
    socket.on('end', done);
    socket.write(bytes(head));
  });
}

/** One of the two servers a case goes to. */
export interface Target {
  name: string;
  port: number;
  /** Proxy mode: Proxy-Authorization, and `{BACKEND}` is this host:port. */
  proxy?: string;
}

/** `x` with the placeholders of `t` filled in: `{BACKEND}`, `{PORTB}`, `PORT`, `{ORIGIN}`. */
export const fill = (t: Target, x: string): string =>
  x
    .replace(/\{BACKEND\}/g, t.proxy ?? '')
    .replace(/\{PORTB\}/g, (t.proxy ?? '').replace(/.*:/, ''))
    .replace(/PORT/g, String(t.port))
    .replace('{ORIGIN}', `http://127.0.0.1:${t.port}`);

/** One request to `t`, with each of `auth` on a field line of its own. */
export async function send(
  t: Target,
  target: string,
  auth: string | string[] | undefined,
  method = 'GET',
): Promise<Reply> {
  const auths = auth === undefined ? [] : Array.isArray(auth) ? auth : [auth];
  const name = t.proxy !== undefined ? 'Proxy-Authorization' : 'Authorization';
  const host = t.proxy !== undefined ? t.proxy : `127.0.0.1:${t.port}`;
  const head =
    `${method} ${fill(t, target)} HTTP/1.1\r\n` +
    `Host: ${host}\r\n` +
    auths.map((a) => `${name}: ${a}\r\n`).join('') +
    (method === 'POST' ? 'Content-Length: 0\r\n' : '') +
    'Connection: close\r\n\r\n';
  return raw(t.port, head);
}

/** What an answer takes from a Digest challenge. */
export interface Challenge {
  nonce: string;
  opaque?: string;
  realm: string;
}

/**
 * The Digest challenge of a 401 (407) to `method path`: the first, or the first whose algorithm
 * is `algorithm`.
 */
export async function challenge(
  t: Target,
  path: string,
  method = 'GET',
  algorithm?: string,
): Promise<Challenge> {
  const r = await send(t, path, undefined, method);
  const line = r.headers
    .split('\r\n')
    .map((l) => /^(?:Proxy|WWW)-Authenticate: (Digest .*)$/i.exec(l)?.[1])
    .find(
      (l) =>
        l !== undefined &&
        (algorithm === undefined || new RegExp(`algorithm="?${algorithm}\\b`, 'i').test(l)),
    );
  if (line === undefined) throw new Error(`${t.name}: no challenge for ${path}: ${r.headers}`);
  const get = (n: string): string | undefined =>
    new RegExp(`[ ,]${n}=(?:"([^"]*)"|([^, ]*))`, 'i')
      .exec(line)
      ?.slice(1)
      .find((x) => x !== undefined);
  return { nonce: get('nonce')!, opaque: get('opaque'), realm: get('realm')! };
}

/** A directive of a Digest answer: name, value, and whether it goes quoted. */
export type Field = [name: string, value: string, quoted: boolean];

/** Sets the value of `name` (and its quoting, when given). */
export const setF =
  (name: string, value: string, quoted?: boolean) =>
  (fs: Field[]): Field[] =>
    fs.map((f) => (f[0] === name ? [name, value, quoted ?? f[2]] : f));
/** Leaves `name` out. */
export const dropF =
  (name: string) =>
  (fs: Field[]): Field[] =>
    fs.filter((f) => f[0] !== name);
/** Sends `from` under the name `to`. */
export const renameF =
  (from: string, to: string) =>
  (fs: Field[]): Field[] =>
    fs.map((f) => (f[0] === from ? [to, f[1], f[2]] : f));
/** Adds `field`, last or first. */
export const addF =
  (field: Field, first = false) =>
  (fs: Field[]): Field[] =>
    first ? [field, ...fs] : [...fs, field];
/** Quotes `name`, or not. */
export const quoteF =
  (name: string, quoted: boolean) =>
  (fs: Field[]): Field[] =>
    fs.map((f) => (f[0] === name ? [f[0], f[1], quoted] : f));
/** Joins the directives with `sep`, each name and value with `eq`. */
export const ser =
  (sep: string, eq = '=') =>
  (fs: Field[]) =>
    fs.map(([n, v, q]) => (q ? `${n}${eq}"${v}"` : `${n}${eq}${v}`)).join(sep);
