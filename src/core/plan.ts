/**
 * The planner: (selection, permanence, what is known) -> ordered steps + warnings, or a refusal.
 * After drafting the steps it simulates them and asks the re-enrollment analysis about every device of
 * the selection: any device DPS might still accept becomes a warning naming it and the way back in.
 */
import type { KnownState } from './model.js';
import { Refusal } from './plan-builder.js';
import { type Draft, PlanContext, type PlanOptions } from './plan-context.js';
import { planGroupDevices } from './plan-group-devices.js';
import { planEnrollment, planGroup } from './plan-targets.js';
import type { Plan, PlanResult, PlanWarning } from './plan-types.js';
import { type Answer, createAnswerer } from './reenrollment.js';
import type { Actions, Selection } from './selection.js';
import { applyPlan } from './simulate.js';

export type { PlanOptions } from './plan-context.js';

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);

const describeDevices = (ids: string[]): string => {
  const shown = ids.slice(0, 3).join(', ');
  const rest = ids.length > 3 ? ` and ${ids.length - 3} more` : '';
  return ids.length === 1 ? `Device ${shown}` : `${ids.length} devices (${shown}${rest})`;
};

function reenrollmentWarning(selection: Selection, finding: Readonly<Answer>, ids: string[]): PlanWarning {
  const who = describeDevices(ids);
  const path = finding.path;
  const base = { registrationIds: ids, ...(path !== undefined ? { path } : {}) };
  if (path?.startsWith('enrollments/')) {
    return {
      ...base,
      code: 'existing-individual-enrollment',
      severity: finding.verdict === 'allowed' ? 'danger' : 'caution',
      message: `${who} can still provision after this plan: ${finding.reason}`,
      recommendation:
        `Disable ${path} as well (plan it as an individual enrollment), ` +
        'or choose the device on its own so the plan disables it.',
    };
  }
  if (finding.uncertain) {
    return {
      ...base,
      code: 'chain-unknown',
      severity: 'caution',
      message: `Re-enrollment cannot be ruled out for ${lowerFirst(who)}: ${finding.reason}`,
      recommendation:
        'Give the device certificate chain (--device-cert) so it can be checked' +
        (path ? `, or check ${path} by hand.` : '.'),
    };
  }
  if (selection.kind === 'group') {
    return {
      ...base,
      code: 'reenroll-through-higher-group',
      severity: 'danger',
      message:
        `Once enrollment group ${selection.groupId} is deleted, ${lowerFirst(who)} can re-enroll: ` +
        finding.reason,
      recommendation:
        `Keep enrollment group ${selection.groupId} (disabled) instead of deleting it: ` +
        'a disabled group still stops its devices' +
        (path ? `; or disable ${path} if none of its devices should provision.` : '.'),
    };
  }
  const target =
    selection.kind === 'enrollment' ? `enrollments/${selection.registrationId}` : 'the enrollment';
  return {
    ...base,
    code: 'reenroll-through-group',
    severity: 'danger',
    message: `Once ${target} is deleted, ${lowerFirst(who)} can re-enroll: ${finding.reason}`,
    recommendation:
      'Disable instead: a disabled individual enrollment refuses the device ' +
      'whatever enrollment groups exist.',
  };
}

/** Warnings for every device the simulated end state still lets in, one per distinct way back in. */
function reenrollmentWarnings(plan: Plan, draft: Draft, state: KnownState): PlanWarning[] {
  // The analysis reads enrollments and groups only: leaving records and hub devices out of the
  // simulation keeps a 100,000-device plan cheap.
  const after = applyPlan({ ...state, registrations: [], hubDevices: [] }, plan);
  const answerFor = createAnswerer(after);
  const byAnswer = new Map<Readonly<Answer>, string[]>();
  for (const device of draft.evidence) {
    const answer = answerFor(device);
    if (answer.verdict === 'blocked') continue;
    const ids = byAnswer.get(answer);
    if (ids) ids.push(device.registrationId);
    else byAnswer.set(answer, [device.registrationId]);
  }
  // Answers computed per device (chains, own enrollments) may still read the same: merge those.
  const merged = new Map<string, { answer: Readonly<Answer>; ids: string[] }>();
  for (const [answer, ids] of byAnswer) {
    const key = `${answer.verdict}\n${answer.path ?? ''}\n${answer.reason}`;
    const entry = merged.get(key);
    if (entry) entry.ids.push(...ids);
    else merged.set(key, { answer, ids });
  }
  return [...merged.values()].map(({ answer, ids }) => reenrollmentWarning(plan.selection, answer, ids));
}

export function planDeprovision(
  selection: Selection,
  actions: Actions,
  state: KnownState,
  opts: PlanOptions = {},
): PlanResult {
  try {
    if (selection.kind !== 'group' && (actions.deleteRegistrations || actions.deleteGroup)) {
      const what = actions.deleteRegistrations ? 'Deleting registration records' : 'Deleting the group';
      return {
        ok: false,
        refusal: {
          code: 'invalid-selection',
          message:
            `${what} applies to a whole enrollment group only. ` +
            'Choose the group (--group ID without --device), ' +
            'or leave out --delete-registrations and --delete-group.',
        },
      };
    }
    const ctx = new PlanContext(state, opts);
    const draft =
      selection.kind === 'enrollment'
        ? planEnrollment(selection, actions, ctx)
        : selection.kind === 'group'
          ? planGroup(selection, actions, ctx)
          : planGroupDevices(selection, actions, ctx);
    const plan = draft.builder.build({ selection, actions, snapshot: draft.snapshot }, draft.evidence.length);
    plan.warnings.push(...reenrollmentWarnings(plan, draft, state));
    return { ok: true, plan };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, refusal: e.refusal };
    throw e;
  }
}
