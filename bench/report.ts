/** One benchmark figure. `ratio` compares against the stated reference (service-limit floor or naive approach). */
export interface BenchRow {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  ratio?: number;
  /** What the ratio compares against, in words (table output only). */
  reference?: string;
}

export function formatTable(rows: BenchRow[]): string {
  const cells = rows.map((r) => [
    r.bench,
    r.metric,
    `${Number.isInteger(r.value) ? r.value : r.value.toFixed(2)} ${r.unit}`,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x ${r.reference ?? ''}`.trim(),
  ]);
  const head = ['bench', 'metric', 'value', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function toJsonLine(r: BenchRow): string {
  const { reference: _ignored, ...rest } = r;
  return JSON.stringify(rest);
}
