/** Find devices by their IDs in the TUI: typed, searched with progress, where each is, then one selection. */
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceParts } from '../../src/core/selection.js';
import type { SearchProgress } from '../../src/services/session/device-search.js';
import { FakeBackend } from '../support/fake-backend.js';
import { demoData } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

class FindingBackend extends FakeBackend {
  readonly searched: string[][] = [];
  release?: () => void;
  async findDevices(ids: string[], onProgress?: (p: SearchProgress) => void): Promise<DeviceParts> {
    this.searched.push(ids);
    onProgress?.({ groupsSearched: 1, groups: 2, recordsRead: 40, remaining: 2 });
    await new Promise<void>((r) => {
      this.release = r;
    });
    return {
      enrollments: ['dev-tpm-1'],
      groups: [{ groupId: 'g1', devices: [{ registrationId: 'g1-dev-a' }] }],
      unenrolled: ['ghost-9'],
    };
  }
}

describe('find devices by ID', () => {
  it('f on the Target screen: the typed IDs are searched with progress, each is placed, Enter goes on with all of them', async () => {
    const backend = new FindingBackend(demoData());
    t = await renderApp(backend, { size: { columns: 80, rows: 24 } });
    await waitForText(t, 'f find device');
    await press(t, 'f');
    await waitForText(t, 'Find devices by their IDs');
    // q and ? are part of what is typed here, not quit or help.
    for (const ch of 'dev-tpm-1, g1-dev-a ghost-9 q') await press(t, ch);
    await press(t, KEYS.backspace);
    await press(t, KEYS.backspace);
    expect(frame(t)).toContain('> dev-tpm-1, g1-dev-a ghost-9▌');
    await press(t, KEYS.enter);
    await waitForText(t, '1 of 2 groups, 40 records read, 2 to find');
    expect(backend.searched).toEqual([['dev-tpm-1', 'g1-dev-a', 'ghost-9']]);
    backend.release?.();
    await waitForText(t, 'Where each device is (3):');
    const f = frame(t);
    expect(f).toContain('dev-tpm-1: individual enrollment dev-tpm-1');
    expect(f).toContain('g1-dev-a: enrollment group g1 (a blocker each)');
    expect(f).toContain('ghost-9: not in DPS');
    await press(t, KEYS.enter);
    await waitForText(t, 'Enter: review the plan');
    await press(t, KEYS.enter);
    await waitForText(t, 'Run it?');
    const planned = backend.planCalls.at(-1);
    expect(planned?.selection).toEqual({
      kind: 'devices',
      ids: ['dev-tpm-1', 'g1-dev-a', 'ghost-9'],
      parts: {
        enrollments: ['dev-tpm-1'],
        groups: [{ groupId: 'g1', devices: [{ registrationId: 'g1-dev-a' }] }],
        unenrolled: ['ghost-9'],
      },
    });
  });

  it('f on the Enrollments screen opens it too', async () => {
    const backend = new FindingBackend(demoData());
    t = await renderApp(backend, { routes: [{ screen: 'target' }, { screen: 'enrollments' }] });
    await waitForText(t, 'f find device');
    await press(t, 'f');
    await waitForText(t, 'Find devices by their IDs');
    await press(t, KEYS.escape);
    await waitForText(t, 'f find device');
  });
});
