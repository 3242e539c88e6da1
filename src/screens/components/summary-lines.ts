/** The run summary's lines: the phases' table, a line per device with its verdict, the failed steps. */
import { PHASES, type Phase, type Plan, type StepOutcome, type StepResult } from '../../core/plan-types.js';
import { type HubReadReport, hubReadLines } from '../../core/hub-read-path.js';
import { asCallStep } from '../../core/restore-changes.js';
import { plural, sanitize, shortHost } from '../../core/text.js';
import type { RunSummary } from '../../services/backend.js';
import { fitWidth, textWidth, truncate, wrapText } from '../../terminal/text.js';
import { verdictLabel } from '../words.js';
import { type AttemptState, attemptText } from './attempt-lines.js';
import type { ListRow } from './WindowedList.js';

type Counts = Record<StepOutcome, number>;

const zero = (): Counts => ({ succeeded: 0, alreadyDone: 0, failed: 0, skipped: 0 });

export function countsPerPhase(plan: Plan, results: readonly StepResult[]): Record<Phase, Counts> {
  const phaseOf = new Map(plan.steps.map((s) => [s.id, s.phase]));
  const out = Object.fromEntries(PHASES.map((p) => [p, zero()])) as Record<Phase, Counts>;
  for (const r of results) {
    const phase = phaseOf.get(r.stepId) ?? (r.stepId.split(':')[0] as Phase);
    const counts = out[phase];
    if (counts) counts[r.outcome]++;
  }
  return out;
}

/** The first and last line of one device's verdict (and attempt) in the summary's lines. */
export interface DeviceBlock {
  first: number;
  last: number;
}

const VERDICT_WIDTH = 12;

/** The phase table: kept above the device list, never scrolled away. */
export function phaseTable(plan: Plan, summary: RunSummary): ListRow[] {
  const counts = countsPerPhase(plan, summary.results);
  const cols = [11, 8, 9, 8, 8];
  const rows: ListRow[] = [
    {
      text: ['PHASE', 'DONE', 'ALREADY', 'FAILED', 'SKIPPED']
        .map((h, i) => fitWidth(h, cols[i] ?? 8))
        .join(' '),
      bold: true,
    },
  ];
  for (const phase of PHASES) {
    const c = counts[phase];
    const cells = [phase, String(c.succeeded), String(c.alreadyDone), String(c.failed), String(c.skipped)];
    rows.push({
      text: cells.map((v, i) => fitWidth(v, cols[i] ?? 8)).join(' '),
      tone: c.failed > 0 ? 'danger' : 'plain',
    });
  }
  return rows;
}

/** What a hub step's success made of each identity. */
const HUB_DONE: Partial<Record<string, string>> = {
  disableHubDevices: 'disabled',
  enableHubDevices: 'enabled',
  deleteHubDevices: 'deleted',
};

/**
 * What this run did to each device's hub identities, from its own deregister steps and their
 * per-device outcomes: e.g. "hub-us: disabled", "hub-eu: FAILED", "hub: kept" (a restore: "hub-us: enabled"),
 * the same through the hub's import/export jobs.
 */
export function hubStatusByDevice(plan: Plan, summary: RunSummary): Map<string, string> {
  const results = new Map(summary.results.map((r) => [r.stepId, r]));
  const out = new Map<string, string[]>();
  for (const step of plan.steps) {
    // A step through the hub's import/export jobs changes each identity as its call-path twin does.
    const op = asCallStep(step.op);
    const done = HUB_DONE[op.kind];
    if (!done || !('deviceIds' in op)) continue;
    const result = results.get(step.id);
    const perDevice = new Map((result?.devices ?? []).map((d) => [d.id, d.outcome]));
    op.deviceIds.forEach((deviceId, i) => {
      const registrationId = step.registrationIds[i] ?? deviceId;
      const outcome = perDevice.get(deviceId) ?? result?.outcome;
      const word =
        outcome === 'succeeded' || outcome === 'alreadyDone'
          ? done
          : outcome === 'failed'
            ? 'FAILED'
            : outcome === 'skipped'
              ? 'skipped'
              : 'not done';
      const list = out.get(registrationId) ?? [];
      list.push(`${shortHost(sanitize(op.hub))}: ${word}`);
      out.set(registrationId, list);
    });
  }
  return new Map([...out].map(([id, list]) => [id, list.join(', ')]));
}

export function summaryLines(
  plan: Plan,
  summary: RunSummary,
  width: number,
  attempts?: ReadonlyMap<string, AttemptState>,
): ListRow[] {
  return summaryLayout(plan, summary, width, attempts).lines;
}

/**
 * The scrolling part of the summary: one line per device (verdict, ID, hub status, why), an attempt's
 * answer under its device, then the failed steps in detail (below the devices: a long list of failures
 * never pushes the verdicts away).
 */
export function summaryLayout(
  plan: Plan,
  summary: RunSummary,
  width: number,
  attempts?: ReadonlyMap<string, AttemptState>,
  hubReads: readonly HubReadReport[] = [],
): { lines: ListRow[]; blocks: DeviceBlock[] } {
  const lines: ListRow[] = [];
  const blocks: DeviceBlock[] = [];
  const tally = { blocked: 0, possible: 0, allowed: 0 };
  for (const v of summary.verify) tally[v.verdict]++;
  lines.push({
    text:
      'Verify: could each device provision again? ' +
      `${tally.blocked} blocked, ${tally.possible} possible, ${tally.allowed} allowed`,
    bold: true,
    tone: tally.allowed > 0 ? 'danger' : tally.possible > 0 ? 'caution' : 'ok',
  });
  if (summary.verify.length === 0) lines.push({ text: '  No verify results.', tone: 'dim' });
  const hubOf = hubStatusByDevice(plan, summary);
  const kept = plan.actions.deregister === 'none' ? 'hub: kept' : 'hub: -';
  const idWidth = Math.min(
    32,
    Math.max(8, ...summary.verify.map((v) => textWidth(sanitize(v.registrationId)))),
  );
  for (const v of summary.verify) {
    const first = lines.length;
    const { marker, tone } = verdictLabel(v.verdict);
    // What the hub says now (verify read it back) when known, else what the run did there.
    const hub = v.hubs?.length
      ? v.hubs.map((h) => `${shortHost(sanitize(h.hub))}: ${h.status}`).join(' ')
      : (hubOf.get(v.registrationId) ?? kept);
    const why = `${sanitize(v.reason)}${v.path ? ` [${sanitize(v.path)}]` : ''}`;
    const text = `${fitWidth(marker, VERDICT_WIDTH - 1)} ${fitWidth(sanitize(v.registrationId), idWidth)}  ${hub}  ${why}`;
    lines.push({
      text: truncate(text, width),
      tone: hub.includes('FAILED') && tone === 'ok' ? 'danger' : tone,
    });
    const attempt = attemptText(v.verdict, attempts?.get(v.registrationId));
    if (attempt) {
      wrapText(attempt.text, width - VERDICT_WIDTH - 2).forEach((line, i) => {
        lines.push({
          text: `${' '.repeat(VERDICT_WIDTH)}${i === 0 ? '→ ' : '  '}${line}`,
          tone: attempt.tone,
        });
      });
    }
    blocks.push({ first, last: lines.length - 1 });
  }
  for (const line of hubReadRows(hubReads, width)) lines.push(line);
  for (const line of failedStepLines(plan, summary, width)) lines.push(line);
  return { lines, blocks };
}

/**
 * How verify read the hubs, when an export job read one (or failed to): the verdicts' evidence came
 * from the whole registry the job wrote, not from queries. Nothing when every hub was queried.
 */
function hubReadRows(reports: readonly HubReadReport[], width: number): ListRow[] {
  if (reports.every((r) => r.path === 'queries')) return [];
  const [heading, ...lines] = hubReadLines(reports);
  return [
    { text: ' ' },
    { text: `${heading} (how verify read each hub)`, bold: true },
    ...lines.map(
      // hubReadLines gives one line per report, in their order.
      (l, i): ListRow => ({
        text: truncate(l, width),
        tone: reports[i]?.path === 'failed' ? 'danger' : 'dim',
      }),
    ),
  ];
}

/** The failed steps in detail: the call, why, how many attempts, and each failed device of a batch. */
function failedStepLines(plan: Plan, summary: RunSummary, width: number): ListRow[] {
  const lines: ListRow[] = [];
  const callOf = new Map(plan.steps.map((s) => [s.id, s.call]));
  const failed = summary.results.filter((r) => r.outcome === 'failed');
  if (failed.length === 0) return lines;
  lines.push({ text: ' ' });
  lines.push({ text: `Failed steps (${failed.length}):`, bold: true, tone: 'danger' });
  for (const r of failed) {
    const call = sanitize(callOf.get(r.stepId) ?? r.stepId);
    const text = `✗ ${call}: ${sanitize(r.message ?? 'failed')} (${plural(r.attempts, 'attempt')})`;
    for (const l of wrapText(text, width)) lines.push({ text: l, tone: 'danger' });
    for (const d of r.devices ?? []) {
      if (d.outcome !== 'failed') continue;
      lines.push({ text: `    ${sanitize(d.id)}: ${sanitize(d.message ?? 'failed')}`, tone: 'danger' });
    }
  }
  return lines;
}
