/**
 * The controls of the Permanence screen: one control per decision, and no two controls with the same
 * effect. For a whole group the group's own fate is one control (disable, or delete: disabled at once,
 * deleted after the hubs), so there is no separate "DPS" control that would delete it as well.
 * Advice from the planner names these controls inside the TUI (`screenChoice`), never a CLI flag.
 */
import type { AdviceChoice } from '../core/advice.js';
import type { Actions } from '../core/selection.js';
import type { SelectionInfo } from './routes.js';

export interface Choice<K extends keyof Actions> {
  key: K;
  label: string;
  options: { value: Actions[K]; text: string /** The option in a word, for advice. */; short: string }[];
}

export type AnyChoice =
  | Choice<'disenroll'>
  | Choice<'deregister'>
  | Choice<'deleteRegistrations'>
  | Choice<'deleteGroup'>
  | Choice<'includeChildren'>;

export const DISENROLL: Choice<'disenroll'> = {
  key: 'disenroll',
  label: 'DPS (disenroll)',
  options: [
    { value: 'disable', text: 'disable: temporary, can be undone (default)', short: 'disable' },
    { value: 'delete', text: 'DELETE: permanent', short: 'DELETE' },
  ],
};
export const DEREGISTER: Choice<'deregister'> = {
  key: 'deregister',
  label: 'Hub (deregister)',
  options: [
    { value: 'disable', text: 'disable: temporary, can be undone (default)', short: 'disable' },
    { value: 'delete', text: 'DELETE: permanent, removes the device identity', short: 'DELETE' },
    { value: 'none', text: 'none: keep the identity (may stay connected)', short: 'none' },
  ],
};
export const DELETE_REGISTRATIONS: Choice<'deleteRegistrations'> = {
  key: 'deleteRegistrations',
  label: 'Registration records',
  options: [
    { value: false, text: 'keep (default)', short: 'keep' },
    { value: true, text: 'DELETE: permanent (the run journal keeps a copy)', short: 'DELETE' },
  ],
};
/** The whole group's DPS action: the group is disabled either way; DELETE also deletes it at the end. */
export const GROUP: Choice<'deleteGroup'> = {
  key: 'deleteGroup',
  label: 'Enrollment group',
  options: [
    { value: false, text: 'disable: temporary, can be undone (default)', short: 'disable' },
    { value: true, text: 'DELETE: permanent (disabled now, deleted last)', short: 'DELETE' },
  ],
};

/**
 * Shown only when the plan finds an IoT Edge gateway among the devices: its child devices lose their
 * parent. Left as they are by default; "include" gives them the same hub action.
 */
export const EDGE_CHILDREN: Choice<'includeChildren'> = {
  key: 'includeChildren',
  label: 'IoT Edge children',
  options: [
    { value: false, text: 'leave them as they are (default)', short: 'leave' },
    { value: true, text: 'include: the same hub action', short: 'include' },
  ],
};

/** The widest option text that fits a control's line at 80 columns ("› " + label + "‹ " + text + " ›"). */
export const LABEL_WIDTH = 22;
export const OPTION_WIDTH = 80 - 2 - LABEL_WIDTH - 4;

export const ALL: AnyChoice[] = [DISENROLL, GROUP, DEREGISTER, DELETE_REGISTRATIONS, EDGE_CHILDREN];

export function choicesFor(info: SelectionInfo): AnyChoice[] {
  switch (info.selection.kind) {
    case 'enrollment':
      return [DISENROLL, DEREGISTER];
    case 'group':
      return [GROUP, DEREGISTER, DELETE_REGISTRATIONS];
    case 'groupDevices':
      // For devices of a group the DPS action is always a disabled blocker enrollment.
      return [DEREGISTER];
    case 'devices':
      // Individual enrollments found are disabled or deleted; devices of groups get a blocker each.
      return [DISENROLL, DEREGISTER];
  }
}

/** A choice the planner advises, named as the control on the Permanence screen, e.g. "Hub (deregister): disable". */
export function screenChoice(choice: AdviceChoice): string {
  const named: string[] = [];
  for (const c of ALL) {
    if (!(c.key in choice)) continue;
    const option = c.options.find((o) => o.value === choice[c.key]);
    if (option) named.push(`"${c.label}: ${option.short}"`);
  }
  return named.join(' and ');
}
