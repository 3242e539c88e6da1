/** A plan as lines for the review screen: what, how many, where, warnings, then every step's call. */
import { HUB_PATH_HEADING, hubPathLines } from '../../core/plan-hub-path.js';
import { PHASES, type Plan, type PlanStep, type StepKind } from '../../core/plan-types.js';
import { asCallStep } from '../../core/restore-changes.js';
import { plural, sanitize, shortHost } from '../../core/text.js';
import { wrapText } from '../../terminal/text.js';
import type { SelectionInfo } from '../routes.js';
import type { ListRow } from './WindowedList.js';
import { warningLines } from './warning-lines.js';

/**
 * The choices in one line, read from the plan's own steps (not from the choices that asked for them),
 * so the header always says what the steps below it do.
 */
export function actionsText(info: SelectionInfo, plan: Pick<Plan, 'steps' | 'actions' | 'hubPaths'>): string {
  const has = (kind: StepKind) => plan.steps.some((s) => s.op.kind === kind);
  const parts: string[] = [];
  if (info.selection.kind === 'groupDevices') parts.push('DPS: a disabled blocker enrollment per device');
  else if (info.selection.kind === 'group') {
    parts.push(
      has('deleteGroup')
        ? 'group: disable now, DELETE after the hubs'
        : `group: ${has('disableGroup') ? 'disable' : 'keep'}`,
    );
  } else
    parts.push(`DPS: ${has('deleteEnrollment') ? 'DELETE' : has('disableEnrollment') ? 'disable' : 'keep'}`);
  // A hub step through import/export jobs does what its call-path twin does.
  const hubDoes = (kind: StepKind) => plan.steps.some((s) => asCallStep(s.op).kind === kind);
  const hub = hubDoes('deleteHubDevices')
    ? 'DELETE'
    : hubDoes('disableHubDevices')
      ? 'disable'
      : plan.actions.deregister === 'none'
        ? 'none'
        : 'nothing to do';
  const paths = plan.hubPaths ?? [];
  const jobHubs = paths.filter((h) => h.path === 'jobs').length;
  const viaJobs = !has('hubJobDevices')
    ? ''
    : jobHubs > 0 && jobHubs < paths.length
      ? ` (import/export jobs on ${jobHubs} of ${paths.length} hubs)`
      : ' (import/export jobs)';
  parts.push(`hub: ${hub}${viaJobs}`);
  if (info.selection.kind === 'group') {
    parts.push(`registration records: ${has('deleteRegistration') ? 'DELETE' : 'keep'}`);
  }
  return parts.join(' · ');
}

const isPermanentStep = (step: PlanStep): boolean => asCallStep(step.op).kind.startsWith('delete');

/** Per hub: the path its step takes, why, and the estimated time of each path (the words `plan` prints). */
function hubPathRows(plan: Plan, width: number): ListRow[] {
  if (!plan.hubPaths?.length) return [];
  const heading = `${HUB_PATH_HEADING.charAt(0).toUpperCase()}${HUB_PATH_HEADING.slice(1)}:`;
  const rows = wrapText(heading, width).map((text) => ({ text }));
  for (const line of hubPathLines(plan, { shortHosts: true })) {
    for (const [i, text] of wrapText(sanitize(line), width - 4).entries())
      rows.push({ text: `${i === 0 ? '  ' : '    '}${text}` });
  }
  return rows;
}

export function planLines(info: SelectionInfo, plan: Plan, width: number): ListRow[] {
  const out: ListRow[] = [];
  const wrap = (text: string, row: Omit<ListRow, 'text'> = {}, indent = '') => {
    for (const [i, line] of wrapText(text, width - indent.length).entries()) {
      out.push({ ...row, text: i === 0 ? line : indent + line });
    }
  };
  wrap(`Plan for ${info.targetLabel}: ${info.scope}`, { bold: true });
  wrap(actionsText(info, plan));
  const steps = PHASES.map((p) => `${p} ${plan.counts.steps[p] ?? 0}`).join(' · ');
  wrap(`Steps: ${steps} (${plan.steps.length} in all)`);
  const hubs = Object.entries(plan.counts.devicesPerHub);
  const perHub = hubs.map(([hub, n]) => `${shortHost(sanitize(hub))} ${n}`).join(' · ');
  wrap(
    `Devices: ${plan.counts.devices}${hubs.length > 0 ? ` on ${plural(hubs.length, 'hub')}: ${perHub}` : ''}`,
    {},
    '  ',
  );
  if (plan.counts.modulesDeleted) {
    wrap(`Module identities deleted with their Edge device: ${plan.counts.modulesDeleted}`, {}, '  ');
  }
  if (plan.hubIdentities?.length) {
    // Every identity the plan deregisters, per hub: named by a record, or found by looking the ID up.
    const counts = plan.hubIdentities.map((h) => {
      const how = h.lookup === 'skipped' ? ', NOT looked up' : h.lookup === 'failed' ? ', lookup FAILED' : '';
      return `${shortHost(sanitize(h.hub))} ${h.byRecord} by record + ${h.byLookup} by lookup${how}`;
    });
    wrap(`Hub identities: ${counts.join(' · ')}`, {}, '  ');
  }
  out.push(...hubPathRows(plan, width));
  out.push({ text: ' ' });
  if (plan.warnings.length === 0) out.push({ text: 'No warnings.', tone: 'ok' });
  else out.push(...warningLines(plan.warnings, width));
  out.push({ text: ' ' });
  const jobs = plan.steps.some((s) => s.op.kind === 'hubJobDevices');
  out.push({
    text: jobs
      ? "Steps, in order (each is one service call, or a hub's import/export jobs):"
      : 'Steps, in order (each is one service call):',
    bold: true,
  });
  const numberWidth = String(plan.steps.length).length;
  plan.steps.forEach((step, i) => {
    const permanent = isPermanentStep(step);
    const marker = permanent ? '!' : ' ';
    const head = `${String(i + 1).padStart(numberWidth)} ${marker} ${step.phase.padEnd(10)} `;
    const lines = wrapText(sanitize(step.call), Math.max(10, width - head.length));
    lines.forEach((line, j) => {
      out.push({
        text: (j === 0 ? head : ' '.repeat(head.length)) + line,
        tone: permanent ? 'danger' : 'plain',
      });
    });
  });
  return out;
}
