/**
 * What the planner recommends, named for the place it is read: on the command line a choice is a flag
 * (`--deregister disable`), in the TUI it is the control on the Permanence screen. The planner writes
 * advice as parts; `recommendation` keeps the command-line words for the CLI and `--json`.
 */
import type { Actions } from './selection.js';

/** One choice of the person's, e.g. `{ deregister: 'disable' }` (one key). */
export type AdviceChoice = Partial<Actions>;

export type AdvicePart =
  /** The same words everywhere. */
  | string
  /** A choice: a flag on the command line, a control on the screen. */
  | { choose: AdviceChoice }
  /** Words that differ by place (e.g. what the TUI has no control for). */
  | { cli: string; tui: string };

export type AdvicePlace = 'cli' | 'tui';

/** The flag that makes a choice on the command line. */
export function cliChoice(choice: AdviceChoice): string {
  const parts: string[] = [];
  if (choice.disenroll !== undefined) parts.push(`--disenroll ${choice.disenroll}`);
  if (choice.deregister !== undefined) parts.push(`--deregister ${choice.deregister}`);
  if (choice.deleteRegistrations === true) parts.push('--delete-registrations');
  if (choice.deleteRegistrations === false) parts.push('no --delete-registrations');
  if (choice.deleteGroup === true) parts.push('--delete-group');
  // On the command line a group is deleted by either flag: keeping it means leaving out both.
  if (choice.deleteGroup === false) parts.push('--disenroll disable without --delete-group');
  return parts.join(' ');
}

/** The advice in words for one place; `nameChoice` names a choice there (the TUI passes its own). */
export function adviceText(
  parts: readonly AdvicePart[],
  place: AdvicePlace,
  nameChoice: (c: AdviceChoice) => string = cliChoice,
): string {
  return parts
    .map((p) => (typeof p === 'string' ? p : 'choose' in p ? nameChoice(p.choose) : p[place]))
    .join('');
}

/** A warning's (or refusal's) advice: the parts, and the command-line words as `recommendation`. */
export function advise(...parts: AdvicePart[]): { recommendation: string; advice: AdvicePart[] } {
  return { recommendation: adviceText(parts, 'cli'), advice: parts };
}
