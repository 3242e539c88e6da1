/**
 * The planner: (selection, permanence, what is known) -> ordered steps + warnings, or a refusal.
 * After drafting the steps it simulates them and asks the re-enrollment analysis about every device of
 * the selection: any device DPS might still accept becomes a warning naming it and the way back in.
 */
import { addEdgeSteps } from './plan-edge.js';
import { type AdvicePart, advise } from './advice.js';
import type { AttestationType, KnownState } from './model.js';
import { priorOf } from './evidence.js';
import { Refusal } from './plan-builder.js';
import { applyHubPaths } from './plan-hub-path.js';
import { type Draft, PlanContext, type PlanOptions } from './plan-context.js';
import { planDevices } from './plan-devices.js';
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

/**
 * What a person can do when re-enrollment cannot be ruled out. It fits how the device attests (only an
 * X.509 device has a certificate chain; a symmetric-key device has a key) and names the choice that
 * avoids the risk where the plan deletes something; `advise` leaves each place to name that choice.
 */
function uncertainAdvice(
  selection: Selection,
  actions: Actions,
  attestation: AttestationType | undefined,
  path: string | undefined,
): AdvicePart[] {
  const parts: AdvicePart[] = [];
  if (selection.kind === 'enrollment' && actions.disenroll === 'delete') {
    parts.push(
      'Disable instead (',
      { choose: { disenroll: 'disable' } },
      '): a disabled individual enrollment refuses the device whatever enrollment groups exist. ',
    );
  } else if (selection.kind === 'group' && (actions.deleteGroup || actions.disenroll === 'delete')) {
    parts.push(
      `Keep enrollment group ${selection.groupId}, disabled, instead of deleting it (`,
      { choose: { deleteGroup: false } },
      '): a disabled group still stops its devices. ',
    );
  }
  const question =
    attestation === 'x509'
      ? "does it hold a certificate of the device's chain?"
      : attestation === 'symmetricKey'
        ? "could the device's key be derived from its group's key?"
        : 'could it accept the device?';
  const check = `${path ?? 'the enabled enrollment groups'} by hand: ${question}`;
  parts.push(parts.length > 0 ? `Or check ${check}` : `Check ${check}`);
  return parts;
}

function reenrollmentWarning(
  selection: Selection,
  actions: Actions,
  finding: Readonly<Answer>,
  ids: string[],
  attestation: AttestationType | undefined,
): PlanWarning {
  const who = describeDevices(ids);
  const path = finding.path;
  const base = { registrationIds: ids, ...(path !== undefined ? { path } : {}) };
  // The analysis answers for the state after the plan: say so when the plan takes the device's enrollment away.
  const deletesOwn =
    selection.kind === 'enrollment' && actions.disenroll === 'delete'
      ? `Once enrollments/${selection.registrationId} is deleted, `
      : '';
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
      message: deletesOwn
        ? `${deletesOwn}re-enrollment cannot be ruled out for ${lowerFirst(who)}: ${finding.reason}`
        : `Re-enrollment cannot be ruled out for ${lowerFirst(who)}: ${finding.reason}`,
      ...advise(...uncertainAdvice(selection, actions, attestation, path)),
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
      ...advise(
        `Keep enrollment group ${selection.groupId} (disabled) instead of deleting it (`,
        { choose: { deleteGroup: false } },
        '): a disabled group still stops its devices' +
          (path ? `; or disable ${path} if none of its devices should provision.` : '.'),
      ),
    };
  }
  const target =
    selection.kind === 'enrollment' ? `enrollments/${selection.registrationId}` : 'the enrollment';
  return {
    ...base,
    code: 'reenroll-through-group',
    severity: 'danger',
    message: `Once ${target} is deleted, ${lowerFirst(who)} can re-enroll: ${finding.reason}`,
    ...advise(
      'Disable instead (',
      { choose: { disenroll: 'disable' } },
      '): a disabled individual enrollment refuses the device whatever enrollment groups exist.',
    ),
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
  const attestationOf = new Map(draft.evidence.map((d) => [d.registrationId, d.attestation]));
  return [...merged.values()].map(({ answer, ids }) =>
    reenrollmentWarning(plan.selection, plan.actions, answer, ids, attestationOf.get(ids[0] as string)),
  );
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
          : selection.kind === 'groupDevices'
            ? planGroupDevices(selection, actions, ctx)
            : planDevices(selection, actions, ctx);
    addEdgeSteps(draft.builder, state, actions);
    const plan = draft.builder.build(
      { selection, actions, snapshot: draft.snapshot, prior: priorOf(selection, state) },
      draft.devices ?? draft.evidence.length,
    );
    plan.warnings.push(...reenrollmentWarnings(plan, draft, state));
    if (opts.hubPath) applyHubPaths(plan, opts.hubPath);
    return { ok: true, plan, before: state };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, refusal: e.refusal };
    throw e;
  }
}
