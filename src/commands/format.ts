/** Human-readable output of the headless commands: short, plain, safe to paste into an incident log. */
import { commandLine } from '../core/invocation.js';
import { adviceText } from '../core/advice.js';
import { plural, sanitize, shortHost } from '../core/text.js';
import { truncate, wrapText } from '../terminal/text.js';
import { describeLookupCost } from '../core/hub-lookup.js';
import type { HubIdentityCheck, ReenrollmentVerdict } from '../core/model.js';
import { PHASES, type Plan, type PlanRefusal } from '../core/plan-types.js';
import { HUB_PATH_HEADING, hubPathLines } from '../core/plan-hub-path.js';
import { hubJobWords } from '../core/hub-job-state.js';
import type { RunProgress } from '../core/run-events.js';
import type { RunSummary } from '../services/backend.js';
import type { GroupLeftWithRecords, RunListing } from '../services/journal/index.js';
import { type Actions, type DeviceParts, devicesLabel, type Selection } from '../core/selection.js';

/** Where the named devices were found: "1 individual enrollment, 2 in group g1, 1 not in DPS". */
export function devicePartsWords(p: DeviceParts): string {
  const parts: string[] = [];
  if (p.enrollments.length)
    parts.push(`${p.enrollments.length} individual enrollment${p.enrollments.length === 1 ? '' : 's'}`);
  for (const g of p.groups) parts.push(`${g.devices.length} in group ${g.groupId}`);
  if (p.unenrolled.length) parts.push(`${p.unenrolled.length} not in DPS`);
  return parts.join(', ');
}

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
        : s.kind === 'devices'
          ? `${sanitize(devicesLabel(s.ids))}${s.parts ? ` (${devicePartsWords(s.parts)})` : ''}`
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
  if (plan.counts.modulesDeleted)
    lines.push(`  module identities deleted with their device: ${plan.counts.modulesDeleted}`);
  if (plan.hubIdentities) lines.push(...hubIdentityLines(plan));
  else
    for (const [hub, n] of Object.entries(plan.counts.devicesPerHub))
      lines.push(`    ${sanitize(hub)}: ${n}`);
  if (plan.hubPaths?.length) {
    lines.push(`  ${HUB_PATH_HEADING}:`);
    for (const line of hubPathLines(plan)) lines.push(`    ${sanitize(line)}`);
  }
  for (const phase of PHASES) {
    const steps = plan.steps.filter((st) => st.phase === phase);
    if (!steps.length) continue;
    lines.push(`${phase} (${plural(steps.length, 'step')})`);
    for (const st of steps.slice(0, STEPS_SHOWN_PER_PHASE))
      lines.push(`  ${st.destructive ? '*' : ' '} ${sanitize(st.call)}`);
    if (steps.length > STEPS_SHOWN_PER_PHASE)
      lines.push(`    ... ${steps.length - STEPS_SHOWN_PER_PHASE} more (--json lists all)`);
  }
  if (plan.warnings.length) {
    lines.push('Warnings');
    for (const w of plan.warnings) {
      const mark =
        w.severity === 'danger' ? '!! DANGER' : w.severity === 'caution' ? '!  caution' : '   note';
      lines.push(`${mark}: ${sanitize(w.message)}`);
      if (w.recommendation) lines.push(`     recommended: ${sanitize(w.recommendation)}`);
    }
  }
  lines.push('(* = changes the service)');
  return lines.join('\n');
}

/** Per hub: identities the plan deregisters, by record and by lookup, and what the lookup cost. */
function hubIdentityLines(plan: Plan): string[] {
  const lines = [
    '  hub identities to deregister (found by registration record / by looking the device IDs up):',
  ];
  for (const h of plan.hubIdentities ?? []) {
    const cost = h.cost ? describeLookupCost(h.cost) : undefined;
    const lookup =
      h.lookup === 'searched'
        ? `looked up: ${cost ?? 'yes'}`
        : h.lookup === 'skipped'
          ? `NOT looked up (--skip-hub-lookup${cost ? `; it costs ${cost}` : ''})`
          : h.lookup === 'failed'
            ? 'lookup FAILED'
            : 'not looked up';
    const found = h.foundByLookup.length
      ? ` (${h.foundByLookup.slice(0, 3).map(sanitize).join(', ')}${h.foundByLookup.length > 3 ? ', ...' : ''})`
      : '';
    lines.push(
      `    ${sanitize(h.hub)}: ${h.byRecord + h.byLookup} (record ${h.byRecord}, lookup ${h.byLookup}${found}); ${lookup}`,
    );
  }
  return lines;
}

export function formatRefusal(r: PlanRefusal): string {
  const advice = r.advice ? ` ${adviceText(r.advice, 'cli')}` : '';
  return `refused (${r.code}): ${sanitize(r.message)}${sanitize(advice)}`;
}

/**
 * One progress line: the state, the phases with calls in flight (phases overlap per device, so the
 * earliest unsettled one may not be the one working), counts per phase, and a throttling wait while it
 * lasts (a wait that has ended is not shown).
 */
export function formatProgress(p: RunProgress, now = Date.now()): string {
  const parts = PHASES.filter((ph) => p.phases[ph].total > 0).map((ph) => {
    const c = p.phases[ph];
    const done = c.done + c.alreadyDone;
    const busy = c.inFlight > 0 ? ' (running)' : '';
    return `${ph} ${done}/${c.total}${busy}${c.failed ? ` (${c.failed} failed)` : ''}${c.skipped ? ` (${c.skipped} skipped)` : ''}`;
  });
  const waitS = p.throttled ? Math.ceil((p.throttled.untilMs - now) / 1000) : 0;
  const throttled =
    p.throttled && waitS > 0 ? `  [throttled by ${sanitize(p.throttled.service)}, waiting ${waitS}s]` : '';
  const jobs = p.jobs?.length ? `  [${p.jobs.map((j) => sanitize(hubJobWords(j))).join('; ')}]` : '';
  return `${p.state}: ${parts.join(', ')}${throttled}${jobs}`;
}

export function formatVerdicts(verdicts: ReenrollmentVerdict[]): string {
  const count = { blocked: 0, possible: 0, allowed: 0 };
  for (const v of verdicts) count[v.verdict]++;
  const lines = [
    `Re-enrollment: ${count.blocked} blocked, ${count.possible} possible, ${count.allowed} allowed`,
  ];
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
    const who =
      ids.length === 1
        ? sanitize(ids[0])
        : `${ids.length} devices (${ids.slice(0, 3).map(sanitize).join(', ')}${ids.length > 3 ? ', ...' : ''})`;
    lines.push(`  ${v.verdict.toUpperCase().padEnd(8)} ${who}${v.path ? ` via ${sanitize(v.path)}` : ''}`);
    lines.push(`           ${sanitize(v.reason)}`);
  }
  if (ordered.length > VERDICTS_SHOWN)
    lines.push(`  ... ${ordered.length - VERDICTS_SHOWN} more (--json lists all)`);
  lines.push(...hubStatusLines(verdicts));
  return lines.join('\n');
}

const DPS_WORDS: Record<ReenrollmentVerdict['verdict'], string> = {
  blocked: 'blocked at DPS',
  possible: 'may re-enroll at DPS',
  allowed: 'CAN re-enroll at DPS',
};

const hubWords = (h: HubIdentityCheck) => `${sanitize(shortHost(h.hub))}: ${h.status}`;

/** One line per device: the DPS verdict beside each hub identity's status (live identities first). */
function hubStatusLines(verdicts: ReenrollmentVerdict[]): string[] {
  const checked = verdicts.filter((v) => v.hubs !== undefined);
  if (checked.length === 0) return [];
  const tally = { enabled: 0, disabled: 0, absent: 0, unknown: 0 };
  for (const v of checked) for (const h of v.hubs ?? []) tally[h.status]++;
  const lines = [
    `Hub identities: ${tally.enabled} enabled, ${tally.disabled} disabled, ${tally.absent} absent` +
      `${tally.unknown ? `, ${tally.unknown} not read` : ''}`,
  ];
  const live = (v: ReenrollmentVerdict) =>
    v.hubs?.some((h) => h.status === 'enabled' || h.status === 'unknown') ? 0 : 1;
  const ordered = [...checked].sort((a, b) => live(a) - live(b) || rank(a) - rank(b));
  const width = Math.min(
    40,
    Math.max(...ordered.slice(0, VERDICTS_SHOWN).map((v) => v.registrationId.length)),
  );
  for (const v of ordered.slice(0, VERDICTS_SHOWN)) {
    const dps = `${DPS_WORDS[v.verdict]}${v.path ? ` (${sanitize(v.path)})` : ''}`;
    const hubs = v.hubs?.length ? v.hubs.map(hubWords).join('  ') : 'no hub identity found';
    lines.push(`  ${sanitize(v.registrationId).padEnd(width)}  ${dps}  ${hubs}`);
  }
  if (ordered.length > VERDICTS_SHOWN)
    lines.push(`  ... ${ordered.length - VERDICTS_SHOWN} more devices (--json lists all)`);
  return lines;
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
  if (summary.state === 'aborted') lines.push(`Resume with: ${commandLine('resume', summary.runId)}`);
  if (summary.restoreCommand) {
    lines.push(`Undo the temporary actions with: ${summary.restoreCommand}`);
    if (summary.restoreUndoes) lines.push(`  ${sanitize(summary.restoreUndoes)}`);
  }
  return lines.join('\n');
}

const RUNS_WIDTH = 80;

/** The actions of a run in a few words: "DPS disable, hub disable, delete records". */
export function actionWords(a: Actions | undefined, s: Selection): string {
  if (!a) return 'actions unknown';
  const dps =
    s.kind === 'groupDevices'
      ? a.disenroll === 'delete'
        ? 'blocker, delete own enrollment'
        : 'blocker'
      : a.disenroll;
  const parts = [`DPS ${dps}`, `hub ${a.deregister}`];
  if (a.deleteRegistrations) parts.push('delete records');
  if (a.deleteGroup) parts.push('delete group');
  if (a.includeChildren) parts.push('Edge children too');
  return parts.join(', ');
}

export function selectionWords(s: Selection): string {
  if (s.kind === 'enrollment') return `enrollment ${s.registrationId}`;
  if (s.kind === 'group') return `group ${s.groupId}`;
  if (s.kind === 'devices') return devicesLabel(s.ids);
  const n = s.devices.length;
  return n === 1
    ? `device ${s.devices[0].registrationId} of group ${s.groupId}`
    : `${n} devices of group ${s.groupId}`;
}

/** Every run in a few lines that fit 80 columns: state, what it acted on and how, where, restores. */
export function formatRuns(runs: RunListing[]): string {
  if (!runs.length) return 'No runs recorded yet.';
  const toWidth = (line: string) => truncate(line, RUNS_WIDTH);
  const lines = ['RUN ID                  STATE                        STEPS  FAILED'];
  for (const r of runs) {
    const state = r.restoreOf ? `${r.state} (restore)` : r.state;
    lines.push(
      toWidth(
        `${r.runId.padEnd(23)} ${state.padEnd(28)} ${String(r.counts.steps).padStart(5)} ${String(r.counts.failed).padStart(7)}`,
      ),
    );
    if (r.error) {
      lines.push(toWidth(`  unreadable: ${sanitize(r.error)}`));
      continue;
    }
    const what = r.restoreOf
      ? `restores run ${sanitize(r.restoreOf)}`
      : `${sanitize(selectionWords(r.selection))}: ${sanitize(actionWords(r.actions, r.selection))}`;
    lines.push(toWidth(`  ${what}`)); // the run ID starts with its UTC time
    const t = r.target;
    lines.push(
      toWidth(
        t
          ? `  target: DPS ${sanitize(t.dpsHost)}${t.sandbox ? ' (sandbox)' : ''}, ` +
              `${t.hubHosts.length === 1 ? `hub ${sanitize(shortHost(t.hubHosts[0]))}` : `${t.hubHosts.length} hubs`}`
          : '  target: unknown (journal of an older version)',
      ),
    );
    if (r.restoredBy?.length) lines.push(toWidth(`  restored by ${r.restoredBy.join(', ')}`));
  }
  return lines.join('\n');
}

/**
 * The groups runs deleted while their registration records stayed (orphaned: they still count against
 * the DPS registration quota), each with the command that plans deleting them; '' when there are none.
 * `targetArgs` gives the target flags of that command for a group's run (the sandbox and its state file;
 * against Azure none: the DPS comes the usual way, --dps, environment or config file).
 */
export function formatGroupsLeft(
  groups: GroupLeftWithRecords[],
  targetArgs: (g: GroupLeftWithRecords) => string[],
): string {
  if (!groups.length) return '';
  const lines = wrapText(
    'Enrollment groups deleted with registration records left (orphaned: they still count against the DPS ' +
      'registration quota):',
    RUNS_WIDTH,
  );
  for (const g of groups) {
    const where = g.dpsHost ? ` on DPS ${sanitize(g.dpsHost)}` : '';
    lines.push(
      ...wrapText(
        `${plural(g.records, 'record')} of group ${sanitize(g.groupId)}, deleted by run ${sanitize(g.runId)}${where}; review deleting them with:`,
        RUNS_WIDTH - 2,
      ).map((l) => `  ${l}`),
    );
    // One line, never wrapped: it is pasted as it is.
    lines.push(`    ${commandLine('plan', '--orphaned-records', shellWord(g.groupId), ...targetArgs(g))}`);
  }
  return lines.join('\n');
}

/** A word as the shell reads it back: plain IDs as they are, anything else in single quotes. */
export const shellWord = (w: string): string =>
  /^[A-Za-z0-9._:@/=+-]+$/.test(w) ? w : `'${sanitize(w).replace(/'/g, `'\\''`)}'`;
