import { afterEach, describe, expect, it, vi } from 'vitest';

// Ink's chalk prints no colour in a test (no TTY): forced, so the danger colour can be checked.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});
import type { ReenrollmentVerdict } from '../../src/core/model.js';
import { SAFE_ACTIONS } from '../../src/core/selection.js';
import { attemptText } from '../../src/screens/components/attempt-lines.js';
import type { RegistrationAttempt, RunSummary } from '../../src/services/backend.js';
import { type FakeData, FakeBackend } from '../support/fake-backend.js';
import { demoData } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, until, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const REFUSED: RegistrationAttempt = {
  outcome: 'refused',
  registrationStatus: 'disabled',
  reason: 'DPS ended the registration with status "disabled"',
};
const ASSIGNED: RegistrationAttempt = {
  outcome: 'assigned',
  assignedHub: 'hub-eu.azure-devices.net',
  deviceId: 'g1-dev-a',
};

/** The summary of a finished run on the fake backend, with these verdicts and attempt answers. */
async function openSummary(
  attempt: FakeData['attempt'],
  verify: ReenrollmentVerdict[] = demoData().verify ?? [],
  color = false,
) {
  const backend = new FakeBackend({ ...demoData(), verify, attempt });
  const planned = await backend.plan({ kind: 'group', groupId: 'g1' }, SAFE_ACTIONS);
  if (!planned.ok) throw new Error('plan refused');
  const handle = await backend.run(planned.plan);
  const summary: RunSummary = {
    runId: handle.runId,
    journalPath: handle.journalPath,
    state: 'completed',
    results: [],
    verify,
  };
  t = await renderApp(backend, {
    color,
    size: { columns: 80, rows: 24 },
    routes: [{ screen: 'enrollments' }, { screen: 'summary', plan: planned.plan, handle, summary }],
  });
  await waitForText(t, `Run ${handle.runId} completed.`);
  return { backend, t };
}

/** The screen's text with wrapped lines joined (the indentation of a continuation becomes one space). */
const flat = (screen: string): string => screen.replace(/\s*\n\s*/g, ' ');

const lineWith = (screen: string, text: string): string | undefined =>
  screen.split('\n').find((l) => l.includes(text));

describe('summary: try to register a device now (sandbox)', () => {
  it('t shows the answer beside the prediction of the highlighted row, one device at a time', async () => {
    const answers: Record<string, RegistrationAttempt> = { 'g1-dev-a': REFUSED, 'g1-dev-b': ASSIGNED };
    const { backend, t } = await openSummary((id) => answers[id] as RegistrationAttempt);
    expect(lineWith(frame(t), '›')).toContain('g1-dev-a');
    await press(t, 't');
    await waitForText(t, 'blocked · device: refused (disabled) ✓ matches');
    expect(backend.attemptCalls).toEqual(['g1-dev-a']);
    expect(frame(t)).not.toContain('possible · device:');

    await press(t, 'j');
    expect(lineWith(frame(t), '›')).toContain('g1-dev-b');
    await press(t, 't');
    await waitForText(t, 'possible · device: assigned to hub-eu ! came back ✓ matches');
    expect(backend.attemptCalls).toEqual(['g1-dev-a', 'g1-dev-b']);
    expect(frame(t)).toContain('Attempts: 2 match the analysis, 0 DIFFER.');
    // Without colour (NO_COLOR), the words alone say it.
    expect(t.lastFrame()).not.toMatch(/\u001B\[(3\d|9\d)m/);
  });

  it('a blocked prediction answered "assigned" DIFFERS, in words and in the danger colour', async () => {
    const { t } = await openSummary(() => ASSIGNED, undefined, true);
    await press(t, 't');
    await waitForText(t, 'blocked · device: assigned to hub-eu ! came back ✗ DIFFERS');
    const raw = (t.lastFrame() ?? '').split('\n').find((l) => l.includes('DIFFERS')) ?? '';
    expect(raw).toContain('\u001B[31m');
    expect(frame(t)).toContain('Attempts: 0 match the analysis, 1 DIFFER.');
  });

  it('no answer (throttled) and not tried (TPM) are told apart, and neither is a refusal', async () => {
    const answers: Record<string, RegistrationAttempt> = {
      'g1-dev-a': { outcome: 'error', status: 429, reason: 'no answer from DPS: DPS answered 429' },
      'g1-dev-b': { outcome: 'unavailable', reason: 'TPM attestation is not supported by the emulator' },
    };
    const { t } = await openSummary((id) => answers[id] as RegistrationAttempt);
    await press(t, 'T');
    await waitForText(t, '0 DIFFER, 1 no answer, 1 not tried.');
    const screen = flat(frame(t));
    expect(screen).toContain(
      'blocked · device: ERROR (no answer from DPS: DPS answered 429) ? nothing confirmed',
    );
    expect(screen).toContain('possible · device: not tried: TPM attestation is not supported');
    expect(screen).not.toMatch(/refused|matches|DIFFERS/);
    expect(screen).toContain('0 match the analysis, 0 DIFFER');
  });

  it('a rejected attempt is shown as an error with what went wrong', async () => {
    const { t } = await openSummary(() => Promise.reject(new Error('socket hang up')));
    await press(t, 't');
    await waitForText(t, 'blocked · device: ERROR (socket hang up) ? nothing confirmed');
  });

  it('shows "registering <id>…" while keys still move and queue the next device', async () => {
    const gates: Array<() => void> = [];
    let inFlight = 0;
    let most = 0;
    const { backend, t } = await openSummary(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((release) => gates.push(release));
      inFlight--;
      return REFUSED;
    });
    await press(t, 't');
    await waitForText(t, 'registering g1-dev-a…');
    expect(frame(t)).toContain('blocked · device: registering…');
    await press(t, 'j');
    expect(lineWith(frame(t), '›')).toContain('g1-dev-b');
    await press(t, 't');
    await waitForText(t, 'registering g1-dev-a… (1 more waiting)');
    expect(frame(t)).toContain('possible · device: waiting its turn to register');
    expect(backend.attemptCalls).toEqual(['g1-dev-a']);

    gates.shift()?.();
    await waitForText(t, 'registering g1-dev-b…');
    expect(frame(t)).toContain('blocked · device: refused (disabled) ✓ matches');
    gates.shift()?.();
    await waitForText(t, 'possible · device: refused (disabled) ✓ matches');
    expect(backend.attemptCalls).toEqual(['g1-dev-a', 'g1-dev-b']);
    expect(most).toBe(1);
  });

  it('T tries the listed devices in order, one at a time, at most 50', async () => {
    const verify: ReenrollmentVerdict[] = Array.from({ length: 60 }, (_, i) => ({
      registrationId: `meter-${String(i).padStart(2, '0')}`,
      verdict: 'blocked',
      reason: 'a disabled blocker enrollment',
    }));
    let inFlight = 0;
    let most = 0;
    const { backend, t } = await openSummary(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return REFUSED;
    }, verify);
    expect(frame(t)).toContain('T = all (first 50)');
    await press(t, 'T');
    await waitForText(t, 'Attempts: 50 match the analysis, 0 DIFFER.');
    expect(backend.attemptCalls).toEqual(verify.slice(0, 50).map((v) => v.registrationId));
    expect(most).toBe(1);
  });

  it('leaving the summary stops the queue after the attempt in flight', async () => {
    const gates: Array<() => void> = [];
    const { backend, t } = await openSummary(async () => {
      await new Promise<void>((release) => gates.push(release));
      return REFUSED;
    });
    await press(t, 'T');
    await waitForText(t, 'registering g1-dev-a… (1 more waiting)');
    await press(t, KEYS.escape);
    await waitForText(t, 'Tab switches');
    gates.shift()?.();
    // The queue would ask for the next device within the same turn the answer arrives in.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(backend.attemptCalls).toEqual(['g1-dev-a']);
  });

  it('lists t and T in the footer and the help only when the backend can attempt', async () => {
    const { t: withIt } = await openSummary(() => REFUSED);
    const footer = frame(withIt).split('\n').at(-1) ?? '';
    expect(footer).toContain('t try to register now');
    expect(footer).toContain('T try all');
    expect(footer).toContain('q quit');
    await press(withIt, '?');
    await waitForText(withIt, 'Keys on this screen');
    expect(frame(withIt)).toMatch(/^\s+t\s+try to register now/m);
    withIt.unmount();

    const { backend, t: without } = await openSummary(undefined);
    expect(backend.attemptRegistration).toBeUndefined();
    const before = frame(without);
    expect(before).not.toMatch(/\bt try|T try|Sandbox: t/);
    expect(lineWith(before, '›')).toBeUndefined();
    await press(without, 't');
    await press(without, 'T');
    expect(frame(without)).toBe(before);
    await press(without, '?');
    await waitForText(without, 'Keys on this screen');
    expect(frame(without)).not.toContain('try to register now');
    expect(frame(without)).not.toContain('try all');
  });
});

describe('summary: the highlight among many devices', () => {
  it('G highlights the last device and t shows its answer in view; g goes back to the top', async () => {
    const verify: ReenrollmentVerdict[] = Array.from({ length: 30 }, (_, i) => ({
      registrationId: `meter-${i}`,
      verdict: 'blocked',
      reason: 'group disabled',
    }));
    const { backend, t } = await openSummary(() => REFUSED, verify);
    await press(t, 'G');
    expect(lineWith(frame(t), '›')).toContain('meter-29');
    // The phase table stays on screen above the device list.
    expect(frame(t)).toContain('PHASE');
    expect(frame(t)).not.toContain('meter-0 ');
    await press(t, 't');
    await waitForText(t, 'blocked · device: refused (disabled) ✓ matches');
    expect(backend.attemptCalls).toEqual(['meter-29']);
    await press(t, 'k');
    expect(lineWith(frame(t), '›')).toContain('meter-28');
    await press(t, 'g');
    expect(frame(t)).toContain('PHASE');
    expect(lineWith(frame(t), '›')).toContain('meter-0 ');
  });
});

describe('summary without the capability keeps scrolling as before', () => {
  it('arrows scroll the lines (no highlight) when the backend cannot attempt', async () => {
    const verify: ReenrollmentVerdict[] = Array.from({ length: 30 }, (_, i) => ({
      registrationId: `meter-${i}`,
      verdict: 'blocked',
      reason: 'group disabled',
    }));
    const { t } = await openSummary(undefined, verify);
    expect(frame(t)).toContain('PHASE');
    await press(t, KEYS.end);
    await until(() => frame(t).includes('meter-29'), 'the last device', t);
    expect(frame(t)).toContain('PHASE');
    expect(frame(t)).not.toContain('meter-0 ');
  });
});

describe('attempt words', () => {
  const answered = (attempt: RegistrationAttempt) => ({ status: 'answered', attempt }) as const;

  it('say how DPS refused: the operation status, the HTTP status, or its reason', () => {
    const refused = (a: Partial<Extract<RegistrationAttempt, { outcome: 'refused' }>>) =>
      attemptText('blocked', answered({ outcome: 'refused', reason: 'DPS said no', ...a }))?.text;
    expect(refused({ registrationStatus: 'disabled' })).toBe(
      'blocked · device: refused (disabled) ✓ matches',
    );
    expect(refused({ status: 401 })).toBe('blocked · device: refused (401 Unauthorized) ✓ matches');
    expect(refused({ status: 404 })).toBe('blocked · device: refused (404) ✓ matches');
    expect(refused({})).toBe('blocked · device: refused: DPS said no ✓ matches');
  });

  it("carry the hub's answer to the device's telemetry, short", () => {
    const hub = 'hub-eu.azure-devices.net';
    const withSend = (hubSend: RegistrationAttempt['hubSend']) =>
      attemptText(
        'blocked',
        answered({ outcome: 'refused', registrationStatus: 'disabled', reason: 'r', hubSend }),
      )?.text;
    expect(
      withSend({ outcome: 'refused', hub, status: 401, reason: 'the hub refused the device (401)' }),
    ).toBe('blocked · device: refused (disabled) · hub: refused (401) ✓ matches');
    expect(withSend({ outcome: 'sent', hub })).toBe(
      'blocked · device: refused (disabled) · hub: sent ! ✓ matches',
    );
    expect(
      attemptText(
        'blocked',
        answered({ outcome: 'refused', status: 401, reason: 'r', hubSend: { outcome: 'sent', hub } }),
      )?.text,
    ).toBe('blocked · device: refused (401) · hub: sent ! ✓ matches');
    expect(withSend({ outcome: 'unavailable', reason: 'never assigned' })).toBe(
      'blocked · device: refused (disabled) ✓ matches',
    );
  });

  it('an "allowed" prediction matches an assignment and differs from a refusal', () => {
    expect(attemptText('allowed', answered(ASSIGNED))).toEqual({
      text: 'allowed · device: assigned to hub-eu ! came back ✓ matches',
      tone: 'caution',
    });
    expect(attemptText('allowed', answered(REFUSED))).toEqual({
      text: 'allowed · device: refused (disabled) ✗ DIFFERS',
      tone: 'danger',
    });
    expect(attemptText('possible', answered(REFUSED))?.tone).toBe('ok');
    expect(attemptText('possible', undefined)).toBeUndefined();
  });

  it('print no escape sequences from what the service said', () => {
    const evil = answered({ outcome: 'error', reason: 'bad\u001B[2Jthing\nnext' });
    expect(attemptText('blocked', evil)?.text).toBe(
      'blocked · device: ERROR (badthing next) ? nothing confirmed',
    );
  });
});
