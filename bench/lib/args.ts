/** The benchmark's command line (bench/run.ts), checked: a typo must not run the defaults silently. */
import path from 'node:path';
import { REPO_ROOT } from './child';

export interface Args {
  quick: boolean;
  only: string[];
  rounds: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
  codecSec: number;
  http: boolean;
  codec: boolean;
  out: string;
}

/** A flag's value as a whole number of at least `min`; anything else stops the run with a usage error. */
function wholeNumber(flag: string, value: string | undefined, min: number): number {
  const n = value === undefined || value.trim() === '' ? NaN : Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(
      `${flag} takes a whole number of at least ${min}, not ${value ?? 'nothing'}`,
    );
  }
  return n;
}

export class UsageError extends Error {}

const SWITCHES = new Set(['--quick', '--no-http', '--no-codec', '--render-only']);

export function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const args: Args = {
    quick,
    only: [],
    rounds: quick ? 1 : 7,
    durationSec: quick ? 1 : 2,
    warmupSec: 1,
    connections: 50,
    codecSec: quick ? 0.2 : 1,
    http: !argv.includes('--no-http'),
    codec: !argv.includes('--no-codec'),
    out: path.join(REPO_ROOT, 'bench', 'results'),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    if (SWITCHES.has(flag)) continue;
    // A typo (`--round 3`) or a value without its flag would otherwise run the defaults silently.
    const value = argv[++i];
    switch (flag) {
      case '--only':
        if (value === undefined || value === '') throw new UsageError('--only takes a text');
        args.only.push(value);
        break;
      case '--rounds':
        args.rounds = wholeNumber(flag, value, 1);
        break;
      case '--duration':
        args.durationSec = wholeNumber(flag, value, 1);
        break;
      case '--warmup':
        args.warmupSec = wholeNumber(flag, value, 0);
        break;
      case '--connections':
        args.connections = wholeNumber(flag, value, 1);
        break;
      case '--out':
        if (value === undefined || value === '') throw new UsageError('--out takes a directory');
        args.out = path.resolve(value);
        break;
      default:
        throw new UsageError(`unknown argument ${flag}`);
    }
  }
  return args;
}
