/**
 * The devices list of the real App with 100,000 registration records, rendered by Ink in this process
 * on an 80x24 stream that records when each frame is written: the time from a key written to stdin to
 * the frame written to stdout, while scrolling and while filtering; and the resident memory the
 * loaded list costs. Ink renders as it does in a terminal (throttled to 30 frames a second, so keys
 * are paced 40 ms apart: each one's frame is the throttle's leading edge, not a queued one).
 */
import { EventEmitter } from 'node:events';
import { stripVTControlCharacters } from 'node:util';
import type { DeviceRow, EnrollmentGroupSummary } from '../src/services/backend.js';
import type { Backend } from '../src/services/backend.js';

export const RECORDS = 100_000;
const HUBS = ['hub-eu.azure-devices.net', 'hub-us.azure-devices.net', 'hub-asia.azure-devices.net'];

class FrameStdout extends EventEmitter {
  readonly isTTY = true;
  readonly columns = 80;
  readonly rows = 24;
  frames = 0;
  last = '';
  lastAt = 0;
  write = (data: string) => {
    // Ink brackets each frame with short "synchronized update" sequences: count the frames only.
    if (data.length < 64) return true;
    this.frames++;
    this.last = data;
    this.lastAt = performance.now();
    return true;
  };
}

class KeyStdin extends EventEmitter {
  readonly isTTY = true;
  private data: string | null = null;
  write(data: string) {
    this.data = data;
    this.emit('readable');
  }
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

function records(): DeviceRow[] {
  const rows: DeviceRow[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const id = `meter-${String(i).padStart(6, '0')}`;
    const hub = HUBS[i % HUBS.length] as string;
    rows.push({
      record: {
        registrationId: id,
        deviceId: id,
        assignedHub: hub,
        status: 'assigned',
        lastUpdatedDateTimeUtc: '2024-05-01T12:03:00Z',
      },
      hubDevice: { hub, deviceId: id, status: i % 17 === 0 ? 'disabled' : 'enabled' },
    });
  }
  return rows;
}

const GROUP: EnrollmentGroupSummary = {
  enrollmentGroupId: 'fleet',
  attestation: { type: 'symmetricKey' },
  provisioningStatus: 'enabled',
  deviceCount: RECORDS,
};

/** Only what the devices screen reads; the rest is never called here. */
function listBackend(rows: () => DeviceRow[]): Backend {
  const unused = () => Promise.reject(new Error('not used by the list benchmark'));
  return {
    target: { kind: 'sandbox', dpsHost: 'dps', dpsAuth: 'connection string', hubs: [] },
    listEnrollments: unused,
    listGroups: unused,
    loadDevices: async () => rows(),
    plan: unused,
    run: unused,
    verify: unused,
    close: async () => {},
  };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(done: () => boolean, what: string, deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`bench tui: timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

export interface ListFigures {
  scrollMs: number[];
  filterMs: number[];
  /** Resident memory of the whole process with the list loaded, scrolled and filtered (so with the search
   * texts and the kept filter results), after a GC when one can be asked for: an absolute figure, since a
   * delta across a GC can come out negative. */
  rssMb: number;
  /** Heap in use at the same moment (absolute). */
  heapUsedMb: number;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

export async function measureList(): Promise<ListFigures> {
  // Imported here: the caller chose the React build (NODE_ENV) first.
  const [{ render }, { createElement }, { App }] = await Promise.all([
    import('ink'),
    import('react'),
    import('../src/screens/App.js'),
  ]);
  const stdout = new FrameStdout();
  const stdin = new KeyStdin();
  const text = () => stripVTControlCharacters(stdout.last);

  const instance = render(
    createElement(App, {
      backend: listBackend(records),
      color: true,
      initialRoutes: [{ screen: 'devices', source: { kind: 'group', group: GROUP } }],
    }),
    {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      stderr: new FrameStdout() as unknown as NodeJS.WriteStream,
      exitOnCtrlC: false,
      patchConsole: false,
    },
  );
  await until(() => text().includes(`of ${RECORDS}`), 'the loaded list');

  /** One key: its frame's latency (the first frame written after the key). */
  const press = async (key: string): Promise<number> => {
    await pause(40);
    const seen = stdout.frames;
    const at = performance.now();
    stdin.write(key);
    await until(() => stdout.frames > seen, `a frame after ${JSON.stringify(key)}`);
    return stdout.lastAt - at;
  };

  const scrollMs: number[] = [];
  for (let i = 0; i < 40; i++) scrollMs.push(await press('\u001B[B'));
  for (let i = 0; i < 15; i++) scrollMs.push(await press('\u001B[6~'));
  scrollMs.push(await press('G'));
  for (let i = 0; i < 15; i++) scrollMs.push(await press('\u001B[5~'));
  scrollMs.push(await press('g'));
  if (!text().includes('row 1 ')) throw new Error('bench tui: the list did not scroll back to the top');

  const filterMs: number[] = [];
  filterMs.push(await press('/'));
  for (const ch of 'meter-0999') filterMs.push(await press(ch));
  if (!text().includes(`100 of ${RECORDS}`)) throw new Error('bench tui: the filter did not narrow the list');
  for (let i = 0; i < 6; i++) filterMs.push(await press('\u007F'));
  for (const ch of '12') filterMs.push(await press(ch));
  filterMs.push(await press('\u001B'));
  if (!text().includes(`${RECORDS} of ${RECORDS}`))
    throw new Error('bench tui: Esc did not clear the filter');

  // Measured while the list is still on screen (mounted), records and filter results alive.
  gc();
  const loaded = process.memoryUsage();
  instance.unmount();
  return {
    scrollMs,
    filterMs,
    rssMb: loaded.rss / 2 ** 20,
    heapUsedMb: loaded.heapUsed / 2 ** 20,
  };
}
