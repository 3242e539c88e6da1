import { afterEach, describe, expect, it, vi } from 'vitest';

// Ink's chalk would print no colour at all in a test (no TTY): force it, so that "no colour" below
// is the screens' doing.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});
import type { PlanWarning } from '../../src/core/plan-types.js';
import { SAFE_ACTIONS } from '../../src/core/selection.js';
import { textWidth } from '../../src/terminal/text.js';
import { selectionInfo } from '../../src/screens/DevicesScreen.js';
import { FakeBackend, type FakeData } from '../support/fake-backend.js';
import { deviceRow } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const LONG_GROUP = `factory-line-7-${'x'.repeat(90)}-end`;
const LONG_DEVICE = `sensor-${'y'.repeat(100)}-end`;
const LONG_HUB = `hub-${'z'.repeat(80)}.azure-devices.net`;

const danger: PlanWarning = {
  code: 'reenroll-through-higher-group',
  severity: 'danger',
  message:
    'Deleting this group lets its devices provision again through the enabled group root-ca-2024, ' +
    'whose CA certificate is in their chain. They would come back on their hubs within minutes.',
  recommendation: 'Keep the group (disable it) or disable root-ca-2024 first.',
  registrationIds: [LONG_DEVICE],
};

function longData(): FakeData {
  return {
    target: {
      hubs: [
        { host: LONG_HUB, auth: 'Entra ID (DefaultAzureCredential)', hasCredentials: true },
        { host: 'hub-us.azure-devices.net', auth: 'none', hasCredentials: false },
      ],
    },
    enrollments: [
      { registrationId: LONG_DEVICE, attestation: { type: 'tpm' }, provisioningStatus: 'enabled' },
    ],
    groups: [
      {
        enrollmentGroupId: LONG_GROUP,
        attestation: { type: 'x509', signingCertificates: [], caReferences: ['root'] },
        provisioningStatus: 'enabled',
        deviceCount: 40,
        iotHubs: [LONG_HUB],
      },
    ],
    devices: {
      [LONG_GROUP]: Array.from({ length: 40 }, (_, i) => deviceRow(`${LONG_DEVICE}-${i}`, LONG_HUB)),
    },
    warnings: (_s, a) =>
      a.deleteGroup ? [danger] : [danger, { ...danger, severity: 'info', code: 'dps-only' }],
    verify: Array.from({ length: 40 }, (_, i) => ({
      registrationId: `${LONG_DEVICE}-${i}`,
      verdict: 'blocked' as const,
      reason: 'the group is disabled and no other enrollment matches the device',
    })),
  };
}

/** Nothing wider than the terminal, nothing taller than it (one spare line keeps Ink from clearing). */
function expectFits(f: string, columns: number, rows: number) {
  const lines = f.split('\n');
  expect(lines.length).toBeLessThanOrEqual(rows - 1);
  for (const line of lines) expect(textWidth(line), line).toBeLessThanOrEqual(columns);
}

describe('at 80x24', () => {
  const size = { columns: 80, rows: 24 };

  it('every screen of the walkthrough fits, long IDs are cut with an ellipsis', async () => {
    const backend = new FakeBackend(longData());
    t = await renderApp(backend, { size });
    expectFits(frame(t), 80, 24);
    expect(frame(t)).toContain('…');
    await press(t, KEYS.enter);
    await waitForText(t, 'sensor-');
    expectFits(frame(t), 80, 24);
    await press(t, KEYS.tab);
    await waitForText(t, 'factory-line-7-');
    expectFits(frame(t), 80, 24);
    expect(frame(t)).not.toContain('-end');
    await press(t, KEYS.enter);
    await waitForText(t, '40 of 40');
    expectFits(frame(t), 80, 24);
    await press(t, '?');
    expectFits(frame(t), 80, 24);
    await press(t, '?');
    await press(t, KEYS.enter);
    await waitForText(t, '! DANGER');
    expectFits(frame(t), 80, 24);
    // The warning is wrapped, not cut: its last words are on screen.
    expect(frame(t)).toContain('within minutes.');
    await press(t, KEYS.enter);
    await waitForText(t, 'Run it?');
    expectFits(frame(t), 80, 24);
    await press(t, 'y');
    await waitForText(t, 'Latest results:');
    expectFits(frame(t), 80, 24);
    backend.lastRun.throttle('IoT Hub hub-eu', 12_000);
    backend.lastRun.advance(10);
    await waitForText(t, 'throttled by IoT Hub hub-eu');
    expectFits(frame(t), 80, 24);
    backend.lastRun.advance(100);
    await waitForText(t, 'completed.');
    expectFits(frame(t), 80, 24);
    // The restore command is wrapped, never cut.
    expect(frame(t)).toContain('iot-deprovision restore run-1 --yes');
  });

  it('the review of a permanent action fits, with the typed confirmation', async () => {
    const data = longData();
    const info = selectionInfo({ kind: 'group', group: data.groups![0]! }, data.devices![LONG_GROUP]!, []);
    const backend = new FakeBackend(data);
    t = await renderApp(backend, {
      size,
      routes: [
        {
          screen: 'review',
          info,
          actions: { ...SAFE_ACTIONS, deleteRegistrations: true, deleteGroup: true },
        },
      ],
    });
    await waitForText(t, '! PERMANENT');
    await press(t, 'factory');
    expectFits(frame(t), 80, 24);
    await press(t, KEYS.enter);
    expect(frame(t)).toContain('does not match');
    expectFits(frame(t), 80, 24);
  });
});

describe('NO_COLOR', () => {
  const colour = /\u001B\[(3[0-9]|4[0-9]|9[0-7]|10[0-7])(;[0-9]+)*m/;

  async function permanenceFrame(color: boolean): Promise<string> {
    const data = longData();
    const info = selectionInfo({ kind: 'group', group: data.groups![0]! }, data.devices![LONG_GROUP]!, []);
    t = await renderApp(new FakeBackend(data), { color, routes: [{ screen: 'permanence', info }] });
    await waitForText(t, '! DANGER');
    const raw = t.lastFrame() ?? '';
    t.unmount();
    t = undefined;
    return raw;
  }

  it('uses no colour codes, and danger still reads as "! DANGER" and the badge as [SANDBOX]', async () => {
    const raw = await permanenceFrame(false);
    expect(raw).not.toMatch(colour);
    expect(raw).toContain('! DANGER');
    expect(raw).toContain('i NOTE');
    expect(raw).toContain('[SANDBOX]');
  });

  it('colours danger red when colour is on', async () => {
    const raw = await permanenceFrame(true);
    expect(raw).toContain('\u001B[31m');
  });
});
