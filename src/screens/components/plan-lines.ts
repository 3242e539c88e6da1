/** A plan as lines for the review screen: what, how many, where, warnings, then every step's call. */
import { PHASES, type Plan } from '../../core/plan-types.js';
import type { Actions } from '../../core/selection.js';
import { plural, sanitize, shortHost, wrapText } from '../../core/text.js';
import type { SelectionInfo } from '../routes.js';
import type { ListRow } from './WindowedList.js';
import { warningLines } from './warning-lines.js';

export function actionsText(info: SelectionInfo, a: Actions): string {
  const dps =
    info.selection.kind === 'groupDevices'
      ? 'DPS: a disabled blocker enrollment per device'
      : `DPS: ${a.disenroll === 'delete' ? 'DELETE' : 'disable'}`;
  const hub = `hub: ${a.deregister === 'delete' ? 'DELETE' : a.deregister}`;
  const parts = [dps, hub];
  if (info.selection.kind === 'group') {
    parts.push(`registration records: ${a.deleteRegistrations ? 'DELETE' : 'keep'}`);
    parts.push(`group: ${a.deleteGroup ? 'DELETE' : 'keep'}`);
  }
  return parts.join(' · ');
}

const isPermanentStep = (kind: string): boolean => kind.startsWith('delete');

export function planLines(info: SelectionInfo, plan: Plan, width: number): ListRow[] {
  const out: ListRow[] = [];
  const wrap = (text: string, row: Omit<ListRow, 'text'> = {}, indent = '') => {
    for (const [i, line] of wrapText(text, width - indent.length).entries()) {
      out.push({ ...row, text: i === 0 ? line : indent + line });
    }
  };
  wrap(`Plan for ${info.targetLabel}: ${info.scope}`, { bold: true });
  wrap(actionsText(info, plan.actions));
  const steps = PHASES.map((p) => `${p} ${plan.counts.steps[p] ?? 0}`).join(' · ');
  wrap(`Steps: ${steps} (${plan.steps.length} in all)`);
  const hubs = Object.entries(plan.counts.devicesPerHub);
  const perHub = hubs.map(([hub, n]) => `${shortHost(sanitize(hub))} ${n}`).join(' · ');
  wrap(
    `Devices: ${plan.counts.devices}${hubs.length > 0 ? ` on ${plural(hubs.length, 'hub')}: ${perHub}` : ''}`,
    {},
    '  ',
  );
  if (plan.hubIdentities?.length) {
    // Every identity the plan deregisters, per hub: named by a record, or found by looking the ID up.
    const counts = plan.hubIdentities.map((h) => {
      const how = h.lookup === 'skipped' ? ', NOT looked up' : h.lookup === 'failed' ? ', lookup FAILED' : '';
      return `${shortHost(sanitize(h.hub))} ${h.byRecord} by record + ${h.byLookup} by lookup${how}`;
    });
    wrap(`Hub identities: ${counts.join(' · ')}`, {}, '  ');
  }
  out.push({ text: ' ' });
  if (plan.warnings.length === 0) out.push({ text: 'No warnings.', tone: 'ok' });
  else out.push(...warningLines(plan.warnings, width));
  out.push({ text: ' ' });
  out.push({ text: 'Steps, in order (each is one service call):', bold: true });
  const numberWidth = String(plan.steps.length).length;
  plan.steps.forEach((step, i) => {
    const permanent = isPermanentStep(step.op.kind);
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
