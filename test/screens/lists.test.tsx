import type { Key } from 'ink';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { EnrollmentGroupSummary } from '../../src/services/backend.js';
import { WindowedList } from '../../src/screens/components/WindowedList.js';
import { AppContext, type AppServices } from '../../src/screens/context.js';
import { toKeystrokes } from '../../src/screens/hooks/keys.js';
import { FakeBackend } from '../support/fake-backend.js';
import { demoData, deviceRow } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const NO_KEY = Object.fromEntries(
  ['upArrow', 'downArrow', 'leftArrow', 'rightArrow', 'pageDown', 'pageUp', 'home', 'end', 'return', 'escape']
    .concat(['ctrl', 'shift', 'tab', 'backspace', 'delete', 'meta', 'super', 'hyper', 'capsLock', 'numLock'])
    .map((k) => [k, false]),
) as unknown as Key;

describe('keystrokes', () => {
  it('splits plain bytes that arrived together into separate keys', () => {
    expect(toKeystrokes('j\r', NO_KEY).map((k) => k.name + k.text)).toEqual(['charj', 'return']);
    expect(toKeystrokes('g1\r', NO_KEY).map((k) => k.name + k.text)).toEqual(['charg', 'char1', 'return']);
    expect(toKeystrokes('a\u007Fb', NO_KEY).map((k) => k.name + k.text)).toEqual([
      'chara',
      'backspace',
      'charb',
    ]);
  });

  it('reads DEL as backspace and Ctrl+letter as ctrl', () => {
    expect(toKeystrokes('', { ...NO_KEY, delete: true })[0]?.name).toBe('backspace');
    expect(toKeystrokes('c', { ...NO_KEY, ctrl: true })[0]).toMatchObject({
      name: 'char',
      text: 'c',
      ctrl: true,
    });
  });
});

describe('a burst of keys in one stdin chunk', () => {
  it('Down+Enter opens the item shown after Down, not the previous one', async () => {
    t = await renderApp(new FakeBackend(demoData()), { routes: [{ screen: 'enrollments' }] });
    await waitForText(t, 'dev-tpm-1');
    await press(t, `${KEYS.down}${KEYS.enter}`);
    await waitForText(t, 'Individual enrollment');
    expect(frame(t)).toContain('Individual enrollment dev-x509-2');
  });

  it('Down Down Enter on the groups tab, and typing a filter with Enter, in single chunks', async () => {
    const data = demoData();
    data.groups = ['ga', 'gb', 'gc'].map(
      (id): EnrollmentGroupSummary => ({
        enrollmentGroupId: id,
        attestation: { type: 'symmetricKey' },
        provisioningStatus: 'enabled',
      }),
    );
    t = await renderApp(new FakeBackend(data), { routes: [{ screen: 'enrollments' }] });
    await waitForText(t, 'dev-tpm-1');
    await press(t, `${KEYS.tab}${KEYS.down}${KEYS.down}${KEYS.enter}`);
    await waitForText(t, 'Enrollment group gc');
    await press(t, KEYS.escape);
    await press(t, `/gb\r\r`);
    await waitForText(t, 'Enrollment group gb');
  });
});

describe('a list of 100,000 rows', () => {
  const rows = Array.from({ length: 100_000 }, (_, i) => deviceRow(`dev-${String(i).padStart(6, '0')}`));
  const group: EnrollmentGroupSummary = {
    enrollmentGroupId: 'big',
    attestation: { type: 'symmetricKey' },
    provisioningStatus: 'enabled',
    deviceCount: rows.length,
  };

  it('renders only a window of rows and says "N of 100000"', async () => {
    const backend = new FakeBackend({ groups: [group], devices: { big: rows } });
    t = await renderApp(backend, { routes: [{ screen: 'devices', source: { kind: 'group', group } }] });
    await waitForText(t, '100000 of 100000');
    const deviceLines = () =>
      frame(t as DrivenApp)
        .split('\n')
        .filter((l) => /\[[ x]\] dev-/.test(l));
    expect(deviceLines().length).toBeGreaterThan(5);
    expect(deviceLines().length).toBeLessThanOrEqual(20);
    expect(frame(t)).toContain('dev-000000');
    await press(t, KEYS.end);
    expect(frame(t)).toContain('› [ ] dev-099999');
    expect(frame(t)).toContain('row 100000');
    expect(deviceLines().length).toBeLessThanOrEqual(20);
    await press(t, 'g');
    await press(t, KEYS.pageDown);
    const afterPage = deviceLines();
    expect(afterPage.some((l) => l.startsWith('›'))).toBe(true);
    expect(frame(t)).not.toContain('dev-000000');
    await press(t, '/dev-0999');
    expect(frame(t)).toContain('100 of 100000');
    await press(t, '98');
    expect(frame(t)).toContain('1 of 100000');
    expect(frame(t)).toContain('dev-099998');
    await press(t, KEYS.enter);
    await press(t, 'a');
    expect(frame(t)).toContain('[x] dev-099998');
    expect(frame(t)).toContain('1 marked');
  });

  it('asks the row renderer only for the rows in the window', () => {
    let calls = 0;
    const app = { color: true, columns: 100 } as AppServices;
    const view = render(
      <AppContext.Provider value={app}>
        <WindowedList
          rows={rows}
          offset={50_000}
          height={12}
          index={50_003}
          render={(r) => {
            calls++;
            return { text: r.record.registrationId };
          }}
        />
      </AppContext.Provider>,
    );
    expect(calls).toBe(12);
    expect(view.lastFrame()).toContain('› dev-050003');
    expect(view.lastFrame()).not.toContain('dev-050012');
    view.unmount();
  });
});

describe('service text is sanitized', () => {
  it('keeps control characters and escape sequences in IDs and messages out of the frame', async () => {
    const evil = 'evil\u001B[31mRED\u001B]0;pwned\u0007\u009B2J\u0000x\nline';
    const data = demoData();
    data.enrollments = [
      { registrationId: evil, attestation: { type: 'tpm' }, provisioningStatus: 'enabled' },
    ];
    data.devices = { [evil]: [deviceRow(evil)] };
    t = await renderApp(new FakeBackend(data), { routes: [{ screen: 'enrollments' }], color: false });
    await waitForText(t, 'evilRED');
    const raw = () => t?.lastFrame() ?? '';
    for (const bad of ['\u001B[31m', '\u001B]', '\u0007', '\u009B', '\u0000', 'pwned']) {
      expect(raw()).not.toContain(bad);
    }
    expect(frame(t)).toContain('evilREDx line');
    await press(t, KEYS.enter);
    await waitForText(t, 'Individual enrollment evilREDx line');
    for (const bad of ['\u001B[31m', '\u001B]', '\u0007', '\u009B', '\u0000']) {
      expect(raw()).not.toContain(bad);
    }
  });
});
