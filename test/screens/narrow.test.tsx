/**
 * At 80 columns nothing critical is cut: the Permanence controls, the danger warnings (first, and
 * whole), and the typed-confirmation prompt wrap instead of ending in "…".
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PlanWarning } from '../../src/core/plan-types.js';
import { SAFE_ACTIONS } from '../../src/core/selection.js';
import { choicesFor } from '../../src/screens/choices.js';
import { selectionInfo } from '../../src/screens/DevicesScreen.js';
import type { Route } from '../../src/screens/routes.js';
import { FakeBackend, type FakeData } from '../support/fake-backend.js';
import { demoData, deviceRow } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, until, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const size = { columns: 80, rows: 24 };
const GROUP = 'factory-line-berlin-assembly-hall-7-north';

function data(warnings: PlanWarning[] = []): FakeData {
  const d = demoData();
  d.groups = [
    {
      enrollmentGroupId: GROUP,
      attestation: { type: 'x509', signingCertificates: [], caReferences: ['root'] },
      provisioningStatus: 'enabled',
      deviceCount: 3,
    },
  ];
  d.devices = { [GROUP]: [deviceRow('s-1'), deviceRow('s-2'), deviceRow('s-3')] };
  d.warnings = () => warnings;
  return d;
}

const info = () => {
  const d = data();
  return selectionInfo({ kind: 'group', group: d.groups![0]! }, d.devices![GROUP]!, []);
};

const note = (i: number): PlanWarning => ({
  code: 'not-assigned',
  severity: 'info',
  message: `Note ${i}: a long note that takes more than one line at eighty columns, to fill the window up.`,
  registrationIds: [],
});
const danger: PlanWarning = {
  code: 'reenroll-through-higher-group',
  severity: 'danger',
  message:
    'Once the group is deleted, its devices can re-enroll through enabled group root-ca-2024, whose CA ' +
    'certificate is in their chain: they would be back on their hubs within minutes.',
  registrationIds: ['s-1', 's-2', 's-3'],
};

async function open(routes: Route[], d: FakeData) {
  t = await renderApp(new FakeBackend(d), { size, routes });
  return t;
}

describe('at 80 columns nothing critical is cut', () => {
  it('every option of every Permanence control is on screen whole', async () => {
    const t = await open([{ screen: 'enrollments' }, { screen: 'permanence', info: info() }], data());
    await waitForText(t, 'No warnings for these choices.');
    for (const [row, choice] of choicesFor(info()).entries()) {
      for (const option of choice.options) {
        await until(() => frame(t).includes(`‹ ${option.text} ›`), `"${option.text}" whole on row ${row}`, t);
        await press(t, KEYS.right);
      }
      await press(t, KEYS.down);
    }
  });

  it('the DANGER warning comes first and whole on the Permanence screen, the rest scrolls with a word', async () => {
    const warnings = [note(1), note(2), note(3), note(4), note(5), danger];
    const t = await open([{ screen: 'enrollments' }, { screen: 'permanence', info: info() }], data(warnings));
    await waitForText(t, '! DANGER');
    const f = frame(t);
    expect(f.replace(/\s+/g, ' ')).toContain('they would be back on their hubs within minutes.');
    expect(f.indexOf('! DANGER')).toBeLessThan(f.indexOf('i NOTE'));
    expect(f).toMatch(/lines 1-\d+ of \d+ · PgDn\/PgUp scroll the warnings/);
    expect(f).not.toContain('…');
    await press(t, KEYS.pageDown);
    await press(t, KEYS.pageDown);
    expect(frame(t)).toContain('Note 5:');
  });

  it('the typed confirmation prompt wraps: "or Esc to go back" and the mismatch are whole', async () => {
    const actions = { ...SAFE_ACTIONS, deleteGroup: true };
    const t = await open(
      [
        { screen: 'enrollments' },
        { screen: 'permanence', info: info() },
        { screen: 'review', info: info(), actions },
      ],
      data(),
    );
    await waitForText(t, '! PERMANENT');
    expect(frame(t).replace(/\s+/g, ' ')).toContain(
      `! PERMANENT. Type ${GROUP} and press Enter to confirm, or Esc to go back.`,
    );
    await press(t, 'factory');
    await press(t, KEYS.enter);
    expect(frame(t).replace(/\s+/g, ' ')).toContain(`That does not match ${GROUP}: type it exactly.`);
    expect(frame(t)).not.toContain('…');
  });
});
