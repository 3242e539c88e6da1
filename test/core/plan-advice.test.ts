/**
 * Advice fits the device and the place: how the device attests decides what can be checked (only an
 * X.509 device has a certificate chain), and the choice to make is named as a flag on the command line
 * and as the Permanence screen's control in the TUI.
 */
import { describe, expect, it } from 'vitest';
import { adviceText } from '../../src/core/advice.js';
import { planDeprovision } from '../../src/core/plan.js';
import type { PlanWarning } from '../../src/core/plan-types.js';
import { formatRefusal } from '../../src/commands/format.js';
import { screenChoice } from '../../src/screens/choices.js';
import { screenAdvice } from '../../src/screens/components/warning-lines.js';
import { actions, individual, okPlan, record, state, symmetricKeyGroup, x509Group } from './fixtures.js';

const tui = (w: Pick<PlanWarning, 'advice'>) => adviceText(w.advice ?? [], 'tui', screenChoice);

describe('advice fits how the device attests', () => {
  it('a symmetric-key enrollment deleted beside a symmetric-key group: no certificate asked, no false "no enrollment"', () => {
    const s = state({
      individualEnrollments: [individual('pump-7', 'symmetricKey')],
      registrations: [record('pump-7')],
      enrollmentGroups: [symmetricKeyGroup('meters')],
    });
    const plan = okPlan(
      planDeprovision({ kind: 'enrollment', registrationId: 'pump-7' }, actions({ disenroll: 'delete' }), s),
    );
    for (const w of plan.warnings) {
      expect(w.recommendation ?? '').not.toContain('--device-cert');
      expect(w.recommendation ?? '').not.toMatch(/certificate/i);
      expect(w.message).not.toMatch(/no individual enrollment exists/i);
    }
  });

  it('an X.509 enrollment deleted while an X.509 group may hold its chain: disable instead, named per place', () => {
    const s = state({
      individualEnrollments: [individual('cam-1', 'x509')],
      registrations: [record('cam-1')],
      enrollmentGroups: [x509Group('cams', [], 'enabled', ['unreadable-ca'])],
    });
    const plan = okPlan(
      planDeprovision({ kind: 'enrollment', registrationId: 'cam-1' }, actions({ disenroll: 'delete' }), s),
    );
    const w = plan.warnings.find((x) => x.code === 'chain-unknown');
    expect(w, JSON.stringify(plan.warnings)).toBeDefined();
    const warning = w as PlanWarning;
    // Said as what happens once the plan ran, not as if the enrollment did not exist now.
    expect(warning.message).toMatch(/^Once enrollments\/cam-1 is deleted, /);
    // --device-cert goes with --group and --device only: it cannot help an individual enrollment.
    expect(warning.recommendation).not.toContain('--device-cert');
    expect(warning.recommendation).toMatch(/^Disable instead \(--disenroll disable\): /);
    expect(warning.recommendation).toContain('check enrollmentGroups/cams by hand');
    expect(tui(warning)).toMatch(/^Disable instead \("DPS \(disenroll\): disable"\): /);
    expect(tui(warning)).not.toContain('--');
  });
});

describe('the TUI names the choice on screen, the command line names the flag', () => {
  const groupState = () =>
    state({
      enrollmentGroups: [symmetricKeyGroup('meters')],
      registrations: [record('m-1', 'meters'), record('m-2', 'meters')],
      hubsWithCredentials: ['hub-eu.azure-devices.net'],
    });

  it('hub identities kept: --deregister disable / "Hub (deregister): disable"', () => {
    const plan = okPlan(
      planDeprovision({ kind: 'group', groupId: 'meters' }, actions({ deregister: 'none' }), groupState()),
    );
    const w = plan.warnings.find((x) => x.code === 'hub-identity-kept') as PlanWarning;
    expect(w.recommendation).toBe('Choose --deregister disable (reversible) to cut the device off its hub.');
    expect(screenAdvice(w)).toBe(
      'Choose "Hub (deregister): disable" (reversible) to cut the device off its hub.',
    );
  });

  it('orphaned records: --delete-registrations / "Registration records: DELETE"', () => {
    const plan = okPlan(
      planDeprovision({ kind: 'group', groupId: 'meters' }, actions({ deleteGroup: true }), groupState()),
    );
    const w = plan.warnings.find((x) => x.code === 'orphaned-registrations') as PlanWarning;
    expect(w.recommendation).toBe('Add --delete-registrations to delete them first.');
    expect(screenAdvice(w)).toBe('Choose "Registration records: DELETE" to delete them first.');
  });

  it('hubs without credentials: the TUI does not ask for a flag it cannot take', () => {
    const s = { ...groupState(), hubsWithCredentials: [] };
    const plan = okPlan(planDeprovision({ kind: 'group', groupId: 'meters' }, actions(), s));
    const w = plan.warnings.find((x) => x.code === 'hub-without-credentials') as PlanWarning;
    expect(w.recommendation).toContain('Add --hub');
    expect(screenAdvice(w)).not.toContain('--');
  });

  it('the blocker refusal: the flag on the command line, the control in the TUI', () => {
    const s = state({
      individualEnrollments: [
        individual('dev-b', 'symmetricKey', 'disabled', { blocker: { groupId: 'g1' } }),
      ],
    });
    const r = planDeprovision(
      { kind: 'enrollment', registrationId: 'dev-b' },
      actions({ disenroll: 'delete' }),
      s,
    );
    if (r.ok) throw new Error('expected a refusal');
    expect(r.refusal.message).not.toContain('--');
    expect(formatRefusal(r.refusal)).toContain('Keep it (--disenroll disable leaves it as it is)');
    expect(screenAdvice(r.refusal)).toContain('Keep it ("DPS (disenroll): disable" leaves it as it is)');
  });
});
