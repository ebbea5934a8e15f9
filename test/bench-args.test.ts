/**
 * The benchmark's command line (bench/lib/args.ts): a value that is not a whole number, a flag
 * without its value or a misspelt flag stops the run, instead of running zero rounds (`Number('x')`
 * is NaN, and a loop up to NaN never runs) or the defaults.
 */
import path from 'node:path';
import { UsageError, parseArgs } from '../bench/lib/args';

it('reads every flag', () => {
  const args = parseArgs([
    '--only',
    'digest',
    '--only',
    'basic',
    '--rounds',
    '15',
    '--duration',
    '3',
    '--warmup',
    '0',
    '--connections',
    '20',
    '--no-codec',
    '--out',
    'tmp/x',
  ]);
  expect(args).toMatchObject({
    only: ['digest', 'basic'],
    rounds: 15,
    durationSec: 3,
    warmupSec: 0,
    connections: 20,
    codec: false,
    http: true,
    out: path.resolve('tmp/x'),
  });
});

it('keeps the defaults of a full run and of a quick one', () => {
  expect(parseArgs([])).toMatchObject({ quick: false, rounds: 7, durationSec: 2 });
  expect(parseArgs(['--quick', '--render-only', '--no-http'])).toMatchObject({
    quick: true,
    rounds: 1,
    durationSec: 1,
    http: false,
  });
});

it.each([
  [['--rounds', 'seven'], '--rounds takes a whole number of at least 1, not seven'],
  [['--rounds', '2.5'], '--rounds takes a whole number of at least 1, not 2.5'],
  [['--rounds', '0'], '--rounds takes a whole number of at least 1, not 0'],
  [['--rounds'], '--rounds takes a whole number of at least 1, not nothing'],
  [['--duration', ''], '--duration takes a whole number of at least 1, not '],
  [['--warmup', '-1'], '--warmup takes a whole number of at least 0, not -1'],
  [['--connections', '1e9x'], '--connections takes a whole number of at least 1, not 1e9x'],
  [['--round', '3'], 'unknown argument --round'],
  [['digest'], 'unknown argument digest'],
  [['--only'], '--only takes a text'],
  [['--out'], '--out takes a directory'],
])('refuses %j', (argv, message) => {
  expect(() => parseArgs(argv)).toThrow(UsageError);
  expect(() => parseArgs(argv)).toThrow(message);
});
