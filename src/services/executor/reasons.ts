/** Why a step did not run, in words a technician reads on the run screen and in the journal. */
import type { PlanStep } from '../../core/plan-types.js';
import { describeStep } from '../../core/run-progress.js';

/** What did not happen to the targets of a skipped step. */
export const notDoneBecause = (step: PlanStep): string => {
  const op = step.op;
  switch (op.kind) {
    case 'disableHubDevices':
      return 'not disabled on the hub';
    case 'enableHubDevices':
      return 'not re-enabled on the hub';
    case 'deleteHubDevices':
      return 'not deleted on the hub';
    case 'hubJobDevices':
      return op.action === 'delete'
        ? 'not deleted on the hub'
        : op.action === 'enable'
          ? 'not re-enabled on the hub'
          : 'not disabled on the hub';
    case 'deleteRegistration':
      return `registration record ${op.registrationId} not deleted`;
    case 'deleteGroup':
      return `enrollment group ${op.groupId} not deleted`;
    case 'disableGroup':
      return `enrollment group ${op.groupId} not disabled`;
    case 'enableGroup':
      return `enrollment group ${op.groupId} not re-enabled`;
    case 'createBlocker':
      return `no blocker written for ${op.registrationId}`;
    case 'deleteBlocker':
      return `blocker for ${op.registrationId} not deleted`;
    case 'disableEnrollment':
      return `enrollment ${op.registrationId} not disabled`;
    case 'enableEnrollment':
      return `enrollment ${op.registrationId} not re-enabled`;
    case 'deleteEnrollment':
      return `enrollment ${op.registrationId} not deleted`;
    case 'snapshotRegistrations':
      return 'registration records not snapshotted';
    case 'verify':
      return 'not verified';
  }
};

/** The failure of a prerequisite, as the reason its dependents were skipped. */
export const causeOf = (failed: PlanStep): string => {
  const op = failed.op;
  switch (op.kind) {
    case 'createBlocker':
      return 'its DPS blocker failed';
    case 'disableEnrollment':
      return 'disabling its enrollment failed';
    case 'deleteEnrollment':
      return 'deleting its enrollment failed';
    case 'disableGroup':
      return `disabling enrollment group ${op.groupId} failed`;
    case 'disableHubDevices':
    case 'deleteHubDevices':
    case 'enableHubDevices':
      return `its hub step on ${op.hub} failed`;
    case 'deleteRegistration':
      return 'deleting its registration record failed';
    case 'snapshotRegistrations':
      return 'the registration snapshot failed';
    default:
      return `${describeStep(failed)} failed`;
  }
};
