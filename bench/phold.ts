// PHOLD, the standard discrete-event kernel benchmark, run through the same public scheduling API the
// simulator uses (Scheduler.at). N logical processes start with P pending events each; handling an event
// at an LP schedules exactly one new event at a uniformly random LP at now + 0.1 + Exp(1.0) seconds.
// The benchmark draws from its own xorshift32 (the rules shared with the peers in ../shared/peers/phold),
// so what is measured is the scheduler, not a random number generator.
//
// Usage: npm run bench:phold -- --lps 1024 --population 16 --end 200
// Prints: phold-nvsim events=<n> sec=<s> events_per_s=<n> lps=<N> population=<P> end=<s>

import { Scheduler } from '../sim/kernel/scheduler.ts';
import { NS_PER_S } from '../sim/kernel/time.ts';
import { benchArgs } from './bench-args.ts';

const args = benchArgs('bench:phold', {
  lps: { type: 'string', default: '1024' },
  population: { type: 'string', default: '16' },
  end: { type: 'string', default: '200' },
});
const lps = args.positiveInteger('lps');
const population = args.positiveInteger('population');
const endSeconds = Number(args.end);
if (!(endSeconds > 0)) args.fail(`--end must be a positive number of seconds, got '${args.end}'`);

// The state is kept as the int32 with the same 32 bits: an unsigned value above 2^31 would not fit a small
// integer, and every store of it to this module variable would allocate a heap number.
let state = 2463534242 | 0;
function uniform(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}
const delayNs = (): number => Math.round((0.1 - Math.log(1 - uniform())) * NS_PER_S);

const scheduler = new Scheduler();
let handled = 0;
// The event's argument is the LP that handles it; LPs hold no state, as in the peers.
function handle(_lp: number): void {
  handled++;
  const destination = Math.floor(uniform() * lps);
  scheduler.at(scheduler.now + delayNs(), handle, destination);
}

for (let lp = 0; lp < lps; lp++) {
  for (let k = 0; k < population; k++) scheduler.at(delayNs(), handle, lp);
}
const started = process.hrtime.bigint();
scheduler.runUntil(Math.round(endSeconds * NS_PER_S));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  `phold-nvsim events=${handled} sec=${seconds.toFixed(3)} events_per_s=${Math.round(handled / seconds)} ` +
    `lps=${lps} population=${population} end=${endSeconds}`,
);

