/** Human-readable output of the headless commands: short, plain, safe to paste into an incident log. */
import { adviceText } from '../core/advice.js';
import { sanitize } from '../core/text.js';
import type { ReenrollmentVerdict } from '../core/model.js';
import { PHASES, type Plan, type PlanRefusal } from '../core/plan-types.js';
import type { RunProgress } from '../core/run-events.js';
import type { RunSummary } from '../services/backend.js';
import type { RunListing } from '../services/journal/index.js';

const STEPS_SHOWN_PER_PHASE = 8;
const VERDICTS_SHOWN = 20;

export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  const s = plan.selection;
  const what =
    s.kind === 'enrollment'
      ? `individual enrollment ${sanitize(s.registrationId)}`
      : s.kind === 'group'
        ? `whole enrollment group ${sanitize(s.groupId)}`
        : `${s.devices.length} device(s) of enrollment group ${sanitize(s.groupId)}`;
  lines.push(plan.restoreOf ? `Restore plan for run ${plan.restoreOf}` : `Plan: ${what}`);
  const a = plan.actions;
  if (!plan.restoreOf) {
    lines.push(
      `  disenroll: ${a.disenroll}   deregister: ${a.deregister}` +
        `${a.deleteRegistrations ? '   delete registration records' : ''}${a.deleteGroup ? '   delete group' : ''}`,
    );
  }
  lines.push(`  devices: ${plan.counts.devices}`);
  for (const [hub, n] of Object.entries(plan.counts.devicesPerHub)) lines.push(`    ${sanitize(hub)}: ${n}`);
  for (const phase of PHASES) {
    const steps = plan.steps.filter((st) => st.phase === phase);
    if (!steps.length) continue;
    lines.push(`${phase} (${steps.length} step${steps.length === 1 ? '' : 's'})`);
    for (const st of steps.slice(0, STEPS_SHOWN_PER_PHASE)) lines.push(`  ${st.destructive ? '*' : ' '} ${sanitize(st.call)}`);
    if (steps.length > STEPS_SHOWN_PER_PHASE) lines.push(`    ... ${steps.length - STEPS_SHOWN_PER_PHASE} more (--json lists all)`);
  }
  if (plan.warnings.length) {
    lines.push('Warnings');
    for (const w of plan.warnings) {
      const mark = w.severity === 'danger' ? '!! DANGER' : w.severity === 'caution' ? '!  caution' : '   note';
      lines.push(`${mark}: ${sanitize(w.message)}`);
      if (w.recommendation) lines.push(`     recommended: ${sanitize(w.recommendation)}`);
    }
  }
  lines.push('(* = changes the service)');
  return lines.join('\n');
}

export function formatRefusal(r: PlanRefusal): string {
  const advice = r.advice ? ` ${adviceText(r.advice, 'cli')}` : '';
  return `refused (${r.code}): ${sanitize(r.message)}${sanitize(advice)}`;
}

export function formatProgress(p: RunProgress): string {
  const parts = PHASES.filter((ph) => p.phases[ph].total > 0).map((ph) => {
    const c = p.phases[ph];
    const done = c.done + c.alreadyDone;
    return `${ph} ${done}/${c.total}${c.failed ? ` (${c.failed} failed)` : ''}${c.skipped ? ` (${c.skipped} skipped)` : ''}`;
  });
  const throttled = p.throttled
    ? `  [throttled by ${sanitize(p.throttled.service)}, waiting ${Math.max(0, Math.ceil((p.throttled.untilMs - Date.now()) / 1000))}s]`
    : '';
  return `${p.state}: ${parts.join(', ')}${throttled}`;
}

export function formatVerdicts(verdicts: ReenrollmentVerdict[]): string {
  const count = { blocked: 0, possible: 0, allowed: 0 };
  for (const v of verdicts) count[v.verdict]++;
  const lines = [`Re-enrollment: ${count.blocked} blocked, ${count.possible} possible, ${count.allowed} allowed`];
  // Devices with the same verdict for the same reason are one line; those not blocked come first.
  const groups = new Map<string, { v: ReenrollmentVerdict; ids: string[] }>();
  for (const v of verdicts) {
    const key = `${v.verdict}\n${v.path ?? ''}\n${v.reason}`;
    const g = groups.get(key);
    if (g) g.ids.push(v.registrationId);
    else groups.set(key, { v, ids: [v.registrationId] });
  }
  const ordered = [...groups.values()].sort((a, b) => rank(a.v) - rank(b.v));
  for (const { v, ids } of ordered.slice(0, VERDICTS_SHOWN)) {
    const who = ids.length === 1 ? sanitize(ids[0]) : `${ids.length} devices (${ids.slice(0, 3).map(sanitize).join(', ')}${ids.length > 3 ? ', ...' : ''})`;
    lines.push(`  ${v.verdict.toUpperCase().padEnd(8)} ${who}${v.path ? ` via ${sanitize(v.path)}` : ''}`);
    lines.push(`           ${sanitize(v.reason)}`);
  }
  if (ordered.length > VERDICTS_SHOWN) lines.push(`  ... ${ordered.length - VERDICTS_SHOWN} more (--json lists all)`);
  return lines.join('\n');
}

const rank = (v: ReenrollmentVerdict) => (v.verdict === 'allowed' ? 0 : v.verdict === 'possible' ? 1 : 2);

export function formatSummary(summary: RunSummary, progress: RunProgress): string {
  const lines = [`Run ${summary.runId}: ${summary.state}`];
  for (const ph of PHASES) {
    const c = progress.phases[ph];
    if (!c.total) continue;
    lines.push(
      `  ${ph.padEnd(10)} done ${c.done}, already done ${c.alreadyDone}, failed ${c.failed}, skipped ${c.skipped}, ` +
        `not run ${c.total - c.done - c.alreadyDone - c.failed - c.skipped}`,
    );
  }
  const failed = summary.results.filter((r) => r.outcome === 'failed');
  for (const r of failed.slice(0, 10)) lines.push(`  failed ${r.stepId}: ${sanitize(r.message ?? '')}`);
  if (summary.verify.length) lines.push(formatVerdicts(summary.verify));
  lines.push(`Journal: ${summary.journalPath}`);
  if (summary.state === 'aborted') lines.push(`Resume with: iot-deprovision resume ${summary.runId} (same target flags)`);
  if (summary.restoreCommand) lines.push(`Undo the temporary actions with: ${summary.restoreCommand}`);
  return lines.join('\n');
}

export function formatRuns(runs: RunListing[]): string {
  if (!runs.length) return 'No runs recorded yet.';
  const lines = ['RUN ID                     STATE                  TARGET                        STEPS  FAILED'];
  for (const r of runs) {
    const s = r.selection;
    const target = r.error ? `unreadable: ${sanitize(r.error)}` : s.kind === 'enrollment' ? `enrollment ${s.registrationId}` : `group ${s.groupId}`;
    lines.push(
      `${r.runId.padEnd(26)} ${(r.restoreOf ? `${r.state} (restore)` : r.state).padEnd(22)} ${sanitize(target).slice(0, 29).padEnd(29)} ` +
        `${String(r.counts.steps).padStart(5)} ${String(r.counts.failed).padStart(7)}`,
    );
  }
  return lines.join('\n');
}
