/**
 * `npm run bench`: every benchmark on the emulator, a readable table; `npm run bench -- --json`: one JSON
 * object per line. `--only NAME[,NAME]` runs some. Benchmarks print figures; tests never assert timings.
 */
import { benchEmulator } from './emulator.js';
import { benchExecutor } from './executor.js';
import { benchJobs } from './jobs.js';
import { benchPlanner } from './planner.js';
import { type BenchRow, formatTable, toJsonLine } from './report.js';
import { benchTui } from './tui.js';

const BENCHES: Record<string, () => Promise<BenchRow[]>> = {
  planner: benchPlanner,
  emulator: benchEmulator,
  executor: benchExecutor,
  jobs: benchJobs,
  tui: benchTui,
};

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : Object.keys(BENCHES);
  const unknown = only.filter((n) => !BENCHES[n]);
  if (unknown.length) {
    process.stderr.write(`bench: unknown ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`);
    return 2;
  }
  const rows: BenchRow[] = [];
  for (const name of only) {
    if (!json) process.stderr.write(`running ${name}...\n`);
    const got = await BENCHES[name]();
    rows.push(...got);
    if (json) for (const r of got) process.stdout.write(`${toJsonLine(r)}\n`);
  }
  if (!json) process.stdout.write(`${formatTable(rows)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
