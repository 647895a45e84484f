// `npm run bench`: every benchmark (issue 6's, issue 13's scale question, issue 14's
// formats and layers) in one process run, printed as a table.
// `npm run bench -- --json FILE` also writes the figures as JSON, to compare commits.
// `--only 1,3` runs only those questions (for working on one).
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { benchArtifacts } from './artifacts.js';
import { benchBurst } from './burst.js';
import type { Figure } from './figure.js';
import { benchFormats } from './formats.js';
import { benchLayers } from './layers.js';
import { benchMemory } from './memory.js';
import { benchReadPath } from './read-path.js';
import { benchReload } from './reload.js';
import { benchScale } from './scale.js';
import { benchUnderLoad } from './under-load.js';

const questions: readonly { readonly question: number; readonly title: string; readonly run: () => Promise<Figure[]> }[] = [
  // Memory first, while the heap holds nothing else of ours.
  { question: 3, title: 'memory', run: benchMemory },
  { question: 1, title: 'read path', run: benchReadPath },
  { question: 2, title: 'reload', run: benchReload },
  { question: 4, title: 'artifacts', run: benchArtifacts },
  { question: 5, title: 'burst', run: benchBurst },
  // Last: its 1M-leaf configs leave the heap larger than the other questions want it.
  { question: 6, title: 'scale', run: benchScale },
  // Its server runs in a child process, with a heap of its own.
  { question: 7, title: 'under load', run: benchUnderLoad },
  { question: 8, title: 'formats', run: benchFormats },
  { question: 9, title: 'layers', run: benchLayers },
];

interface Args {
  readonly json: string | undefined;
  readonly only: ReadonlySet<number> | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  let json: string | undefined;
  let only: Set<number> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json' && argv[i + 1] !== undefined) json = argv[++i];
    else if (arg === '--only' && argv[i + 1] !== undefined) only = new Set(argv[++i]!.split(',').map(Number));
    else throw new Error(`unknown argument ${String(arg)}; usage: run.js [--json FILE] [--only 1,2,…]`);
  }
  return { json, only };
}

/** The machine, as recorded with every run. */
function machine(): Record<string, string | number> {
  const cpu = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage1m: Number(loadavg()[0]?.toFixed(2)),
  };
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 0.01) return value.toFixed(3);
  return value.toPrecision(3);
}

function printTable(figures: readonly Figure[]): void {
  const header = ['#', 'figure', 'value', 'unit', 'baseline', 'baseline value', 'ratio', 'target', 'met'];
  const rows = figures.map((f) => [
    String(f.question),
    f.name,
    format(f.value),
    f.unit,
    f.baseline,
    format(f.baselineValue),
    `${format(f.ratio)}x`,
    f.target ?? '-',
    f.met === null ? '-' : f.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  const figures: Figure[] = [];
  for (const { question, title, run } of questions) {
    if (args.only !== undefined && !args.only.has(question)) continue;
    const t0 = performance.now();
    process.stderr.write(`question ${question} (${title})… `);
    figures.push(...(await run()));
    process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  process.stderr.write('\n');
  figures.sort((a, b) => a.question - b.question);
  const info = machine();
  console.log(`txconfig benchmarks, ${started.toISOString()}: ${Object.entries(info).map(([key, value]) => `${key} ${value}`).join(', ')}`);
  console.log('ratio = value / baseline value, both measured in this run; times are medians.\n');
  printTable(figures);
  const missed = figures.filter((f) => f.met === false).length;
  console.log(`\n${figures.filter((f) => f.met !== null).length - missed} targets met, ${missed} missed.`);
  if (args.json !== undefined) {
    await writeFile(args.json, `${JSON.stringify({ date: started.toISOString(), machine: info, figures }, null, 2)}\n`);
    console.log(`figures written to ${args.json}`);
  }
}

await main();
