// Minimal declarations for the peer packages the bench loads that ship no types. Only what the
// bench calls is declared; the shapes follow each package's README and source.

declare module 'passport' {
  import type { RequestHandler } from 'express';
  interface Strategy {
    name?: string;
  }
  interface Authenticator {
    use(strategy: Strategy): Authenticator;
    use(name: string, strategy: Strategy): Authenticator;
    authenticate(strategy: string, options?: { session?: boolean }): RequestHandler;
    initialize(): RequestHandler;
  }
  const passport: Authenticator & { Passport: new () => Authenticator };
  export = passport;
}

declare module 'passport-http' {
  type Done = (err: Error | null, user?: unknown, password?: string) => void;
  export class BasicStrategy {
    constructor(verify: (user: string, password: string, done: Done) => void);
  }
  export class DigestStrategy {
    constructor(
      options: { qop?: string | string[]; realm?: string; algorithm?: string },
      secret: (user: string, done: Done) => void,
      validate?: (
        params: Record<string, string>,
        done: (err: Error | null, ok: boolean) => void,
      ) => void,
    );
  }
}

declare module 'passport-http-bearer' {
  export class Strategy {
    constructor(verify: (token: string, done: (err: Error | null, user?: unknown) => void) => void);
  }
}

declare module 'http-auth' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  interface AuthResult {
    user?: string;
    pass?: boolean;
    stale?: boolean;
  }
  interface Auth {
    isAuthenticated(req: IncomingMessage, callback: (result: AuthResult | Error) => void): void;
    ask(res: ServerResponse, result: AuthResult): void;
  }
  export function basic(
    options: { realm: string },
    checker: (user: string, password: string, callback: (ok: boolean) => void) => void,
  ): Auth;
  export function digest(
    options: { realm: string; algorithm?: string; qop?: string },
    checker: (user: string, callback: (ha1: string) => void) => void,
  ): Auth;
}

declare module 'auth-header' {
  export function parse(value: string): {
    scheme: string;
    params: Record<string, string | string[]>;
    token: string | string[] | null;
  };
}

declare module 'www-authenticate' {
  export const parsers: {
    WWW_Authenticate: new (value: string) => {
      scheme: string;
      parms: Record<string, string>;
      err?: string;
    };
  };
}
