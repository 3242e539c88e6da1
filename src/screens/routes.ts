/** The walkthrough's places, and how each appears in the breadcrumb. */
import type { IndividualEnrollment } from '../core/model.js';
import type { Plan } from '../core/plan-types.js';
import type { Actions, Selection } from '../core/selection.js';
import { sanitize } from '../core/text.js';
import type { EnrollmentGroupSummary, RunHandle, RunSummary } from '../services/backend.js';
import type { RunListing } from '../services/journal/runs.js';

export type DeviceSource =
  | { kind: 'enrollment'; enrollment: IndividualEnrollment }
  | { kind: 'group'; group: EnrollmentGroupSummary };

/** The chosen target in words, carried from the devices screen to the review. */
export interface SelectionInfo {
  selection: Selection;
  /** e.g. "enrollment group g1", "individual enrollment dev-1" (sanitized). */
  targetLabel: string;
  /** e.g. "the whole group (12 devices)", "3 marked devices" */
  scope: string;
  attestation: string;
  /** The ID the person types to confirm a permanent action. */
  confirmId: string;
}

/** An interrupted run's plan as its journal holds it, to finish that run. */
export interface RecordedRun {
  plan: Plan;
  journalPath: string;
}

export type Route =
  | { screen: 'target' }
  | { screen: 'enrollments' }
  | { screen: 'devices'; source: DeviceSource }
  | { screen: 'permanence'; info: SelectionInfo }
  /**
   * The session's plan for the choices, or for the restore of a recorded run (`restoreOf`: its journal);
   * or an interrupted run's own plan (`resume`): confirming resumes that run (its settled steps are not
   * redone) instead of starting a new one.
   */
  | {
      screen: 'review';
      info: SelectionInfo;
      actions: Actions;
      resume?: RecordedRun;
      restoreOf?: string;
    }
  | { screen: 'runs' }
  | { screen: 'findDevices' }
  | { screen: 'runDetail'; listing: RunListing }
  | { screen: 'run'; plan: Plan; handle: RunHandle }
  | { screen: 'summary'; plan: Plan; handle: RunHandle; summary: RunSummary };

export interface RouteEntry {
  id: number;
  route: Route;
}

let nextRouteId = 1;
/** A route on the stack, with an id of its own (its screen's key handler and hints are kept by it). */
export const routeEntry = (route: Route): RouteEntry => ({ id: nextRouteId++, route });

export const sourceId = (s: DeviceSource): string =>
  sanitize(s.kind === 'enrollment' ? s.enrollment.registrationId : s.group.enrollmentGroupId);

export function breadcrumbParts(route: Route): string[] {
  switch (route.screen) {
    case 'target':
      return ['Target'];
    case 'enrollments':
      return ['Enrollments'];
    case 'devices':
      return [sourceId(route.source), 'Devices'];
    case 'permanence':
      return ['Permanence'];
    case 'review':
      return ['Review'];
    case 'runs':
      return ['Runs'];
    case 'findDevices':
      return ['Find devices'];
    case 'runDetail':
      return [sanitize(route.listing.runId)];
    case 'run':
      return ['Run'];
    case 'summary':
      return ['Summary'];
  }
}
