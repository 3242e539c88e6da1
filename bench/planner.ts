/**
 * Planner and analysis at fleet scale: a whole group of 100,000 registration records over three hubs,
 * planned (with the post-plan re-enrollment analysis) and verified. Pure CPU: no services.
 */
import type { KnownState, RegistrationRecord } from '../src/core/model.js';
import { planDeprovision } from '../src/core/plan.js';
import { createReenrollmentAnalyzer } from '../src/core/reenrollment.js';
import type { BenchRow } from './report.js';

const DEVICES = 100_000;
const HUBS = ['hub-eu.azure-devices.net', 'hub-us.azure-devices.net', 'hub-asia.azure-devices.net'];

function fleet(): KnownState {
  const registrations: RegistrationRecord[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const id = `meter-${String(i).padStart(6, '0')}`;
    registrations.push({
      registrationId: id,
      deviceId: id,
      assignedHub: HUBS[i % 3],
      status: 'assigned',
      enrollmentGroupId: 'fleet',
    });
  }
  return {
    individualEnrollments: [],
    enrollmentGroups: [
      { enrollmentGroupId: 'fleet', attestation: { type: 'symmetricKey' }, provisioningStatus: 'enabled' },
    ],
    registrations,
    hubDevices: [],
    hubsWithCredentials: HUBS,
  };
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

export async function benchPlanner(): Promise<BenchRow[]> {
  const state = fleet();
  const actions = {
    disenroll: 'disable',
    deregister: 'delete',
    deleteRegistrations: true,
    deleteGroup: false,
  } as const;
  planDeprovision({ kind: 'group', groupId: 'fleet' }, actions, state); // warm-up
  const runs = 3;
  let total = 0;
  let steps = 0;
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const result = planDeprovision({ kind: 'group', groupId: 'fleet' }, actions, state);
    total += ms(t);
    if (result.ok) steps = result.plan.steps.length;
  }
  const t = process.hrtime.bigint();
  const analyze = createReenrollmentAnalyzer(state);
  for (const r of state.registrations)
    analyze({ registrationId: r.registrationId, attestation: 'symmetricKey', groupId: 'fleet' });
  const analysis = ms(t);
  return [
    {
      bench: 'planner',
      metric: `plan whole group of ${DEVICES} records (${steps} steps)`,
      value: total / runs,
      unit: 'ms',
    },
    { bench: 'planner', metric: `re-enrollment analysis of ${DEVICES} devices`, value: analysis, unit: 'ms' },
  ];
}
