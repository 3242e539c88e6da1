/**
 * What the session holds for a person's choices, as a screen shows it: the plan made for exactly these
 * choices (the one CONFIRM runs), its refusal or failure, or "still checking".
 */
import type { Plan, PlanRefusal } from '../../core/plan-types.js';
import type { Actions, Selection } from '../../core/selection.js';
import type { SessionView } from './deprovision-session.js';
import type { PlanRequest } from './session-machine.js';

const sameActions = (a: Actions, b: Actions): boolean => {
  if (a === b) return true;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof Actions>;
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
};

/** True when `request` asks for these choices (the same selection, equal actions). */
export function isRequest(request: PlanRequest | undefined, selection: Selection, actions: Actions): boolean {
  if (!request) return false;
  const sameSelection =
    request.selection === selection || JSON.stringify(request.selection) === JSON.stringify(selection);
  return sameSelection && sameActions(request.actions, actions);
}

/** What the session holds for these choices, as a screen shows it. */
export type Preview =
  | { status: 'checking' }
  | { status: 'planned'; plan: Plan }
  | { status: 'refused'; refusal: PlanRefusal }
  | { status: 'error'; message: string };

/**
 * The session's plan for these choices: planned (or confirmed and running), refused, failed, or still
 * being made. A session that holds another request (or none) is "checking" too: `preview` asks it for
 * these choices.
 */
export function previewOf(view: SessionView, selection: Selection, actions: Actions): Preview {
  if (!isRequest(view.context.request, selection, actions) || view.state === 'planning') return CHECKING;
  return held(view);
}

/** The session's plan for the restore of this recorded run (its journal), as `previewOf` for choices. */
export function previewRestoreOf(view: SessionView, journalPath: string): Preview {
  if (view.context.restoreOf !== journalPath || view.state === 'planningRestore') return CHECKING;
  return held(view);
}

const CHECKING: Preview = { status: 'checking' };

/** What the session holds for the request it was asked (the caller checked it is the one shown). */
function held({ state, context }: SessionView): Preview {
  if (state === 'failed') return { status: 'error', message: context.error ?? 'planning failed' };
  // Planned, and also while it starts and runs: the plan stays the one that was confirmed.
  if (context.plan) return { status: 'planned', plan: context.plan };
  if (context.refusal) return { status: 'refused', refusal: context.refusal };
  return CHECKING;
}
