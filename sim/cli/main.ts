// The nvsim command line: `run`, `list`, `--help`. Owns argument parsing (commander) and turning every
// failure into its exit status: 0 all invariants held, 1 an invariant failed, 2 bad input (one line, no
// stack trace).

import { Command, CommanderError } from 'commander';
import { EXIT_BAD_INPUT, EXIT_OK, firstLine, UsageError } from './errors.ts';
import { listScenarioFiles, loadScenario, scenarioNameOf } from './load-scenario.ts';
import { runCommand, type RunFlags } from './run-command.ts';

export async function main(argv: string[]): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command()
    .name('nvsim')
    .description('Deterministic simulation testbed for network-virtualization control systems.')
    .exitOverride()
    .configureOutput({ outputError: () => {} }) // errors are reported once, as one line, below
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  program
    .command('run')
    .description('run a scenario; writes DIR/trace.jsonl and DIR/summary.json; exit 0 when every invariant held, 1 when one failed')
    .argument('<scenario>', 'a scenario file (scenarios/gossip-partition.ts) or a name from `nvsim list`')
    .option('--seed <n>', 'integer root seed for every random choice', '1')
    .option('--until <duration>', "virtual time to run to, e.g. 10s or 250ms (default: the scenario's duration)")
    .option('--out <dir>', 'output folder (default: out/<scenario>-seed<n>)')
    .option('--trace <level>', 'off | summary (faults, phases, checks) | full (also every message)', 'full')
    .option('--faults <source>', "scenario (its own schedule) | none | swarm (random, from the seed) | a schedule .json file", 'scenario')
    .option('--no-progress', 'no progress bar or progress lines')
    .action(async (scenario: string, flags: RunFlags) => {
      exitCode = await runCommand(scenario, flags);
    });

  program
    .command('list')
    .description('list the scenarios in scenarios/ with a one-line description each')
    .action(async () => {
      const rows: [string, string][] = [];
      for (const file of listScenarioFiles()) {
        try {
          rows.push([scenarioNameOf(file), (await loadScenario(file)).scenario.description]);
        } catch (e) {
          rows.push([scenarioNameOf(file), `(cannot load: ${firstLine(e)})`]);
        }
      }
      const width = Math.max(0, ...rows.map(([name]) => name.length));
      process.stdout.write(rows.map(([name, text]) => `${name.padEnd(width)}  ${text}`).join('\n') + '\n');
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return EXIT_OK; // --help
      if (e.code === 'commander.help') return EXIT_BAD_INPUT; // a bare `nvsim`: help went to stderr
      process.stderr.write(`nvsim: ${e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`nvsim: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    process.stderr.write(`nvsim: internal error: ${firstLine(e)}\n`);
    return EXIT_BAD_INPUT;
  }
}
