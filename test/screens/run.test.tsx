import { Text } from 'ink';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SAFE_ACTIONS } from '../../src/core/selection.js';
import { type TuiController, exitCodeFor } from '../../src/screens/App.js';
import { selectionInfo } from '../../src/screens/DevicesScreen.js';
import { useThrottledProgress } from '../../src/screens/hooks/use-throttled-progress.js';
import { ABORT_QUESTION } from '../../src/screens/RunScreen.js';
import type { RunProgress } from '../../src/core/run-events.js';
import type { RunHandle } from '../../src/services/backend.js';
import { FakeBackend } from '../support/fake-backend.js';
import { demoData } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, until, waitForText } from './helpers.js';

/** Shows the latest result label and counts its own renders. */
function ProgressProbe({ handle, renders }: { handle: RunHandle; renders: { count: number } }) {
  renders.count++;
  const p = useThrottledProgress(handle);
  return <Text>{p.recent.at(-1)?.label ?? 'none'}</Text>;
}

type FakeRunUpdate = (change: { recent: RunProgress['recent'] }) => void;

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const data = demoData();
const info = selectionInfo({ kind: 'group', group: data.groups![0]! }, data.devices!.g1!, []);

async function startRun(controller?: TuiController) {
  const backend = new FakeBackend(demoData());
  t = await renderApp(backend, {
    routes: [{ screen: 'enrollments' }, { screen: 'review', info, actions: SAFE_ACTIONS }],
    controller,
  });
  await waitForText(t, 'Run it? y: yes');
  await press(t, 'y');
  await waitForText(t, 'Latest results:');
  return { backend, run: backend.lastRun, t };
}

describe('run screen', () => {
  it('shows a bar per phase with done, failed, skipped and left, and the latest results', async () => {
    const { run, t } = await startRun();
    expect(frame(t)).toMatch(/deregister\s+\[░+\]\s+0\/3\s+done 0 failed 0 skipped 0 left 3/);
    expect(frame(t)).toContain('cleanup    —  nothing to do');
    expect(frame(t)).toContain('ETA --');
    run.advance(3);
    await waitForText(t, 'done 1 failed 0 skipped 0 left 2');
    expect(frame(t)).toMatch(/snapshot\s+\[█+\]\s+1\/1/);
    expect(frame(t)).toMatch(/✓ done\s+g1-dev-a/);
    // The ETA is the executor's (operations left at the allowed rates), counted down on screen.
    run.update({ eta: { remainingMs: 95_000, atMs: Date.now() } });
    await until(() => /ETA 1m ?3\ds/.test(frame(t)), 'the ETA shown', t);
    run.advance(1, 'failed', 'hub answered 500');
    await waitForText(t, '✗ FAILED   g1-dev-b: hub answered 500');
    expect(frame(t)).toContain('done 1 failed 1 skipped 0 left 1');
  });

  it('shows throttling as "throttled by <service>, waiting Ns"', async () => {
    const { run, t } = await startRun();
    expect(frame(t)).toContain('Not throttled.');
    run.throttle('DPS', 5000);
    await waitForText(t, 'throttled by DPS, waiting 5s');
    run.update({ throttled: undefined });
    await waitForText(t, 'Not throttled.');
  });

  it('re-renders at most a few times for a burst of progress updates', async () => {
    const { run, t } = await startRun();
    const before = t.frames.length;
    for (let i = 0; i < 500; i++) {
      run.update({ recent: [{ stepId: `deregister:${i}`, label: `burst-${i}`, outcome: 'succeeded' }] });
    }
    await waitForText(t, 'burst-499');
    expect(t.frames.length - before).toBeLessThanOrEqual(3);
  });

  it('renders progress at most ten times a second however often it changes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const backend = new FakeBackend(demoData());
      const planned = await backend.plan({ kind: 'group', groupId: 'g1' }, SAFE_ACTIONS);
      if (!planned.ok) throw new Error('plan refused');
      const run = (await backend.run(planned.plan)) as RunHandle & { update: FakeRunUpdate };
      const renders = { count: 0 };
      const view = render(<ProgressProbe handle={run} renders={renders} />);
      const before = renders.count;
      // One update every 5 ms for two seconds: 400 updates.
      for (let i = 0; i < 400; i++) {
        run.update({ recent: [{ stepId: `deregister:${i}`, label: `device-${i}`, outcome: 'succeeded' }] });
        await vi.advanceTimersByTimeAsync(5);
      }
      await vi.advanceTimersByTimeAsync(200);
      expect(view.lastFrame()).toBe('device-399');
      expect(renders.count - before).toBeGreaterThanOrEqual(15);
      expect(renders.count - before).toBeLessThanOrEqual(22);
      view.unmount();
    } finally {
      vi.useRealTimers();
    }
  });

  it('p pauses and resumes', async () => {
    const { run, t } = await startRun();
    await press(t, 'p');
    await waitForText(t, 'PAUSED');
    await press(t, 'p');
    await until(() => !frame(t).includes('PAUSED'), 'resumed', t);
    expect(run.calls).toEqual(['pause', 'resume']);
  });

  it('a asks before aborting; n keeps running, y aborts safely and shows the summary', async () => {
    const { run, t } = await startRun();
    await press(t, 'a');
    expect(frame(t)).toContain(ABORT_QUESTION);
    await press(t, 'n');
    expect(frame(t)).not.toContain('Abort?');
    expect(run.calls).toEqual([]);
    await press(t, 'a');
    await press(t, 'y');
    await waitForText(t, 'ABORTED (resumable)');
    expect(run.calls).toEqual(['abort']);
    expect(frame(t)).toContain('Finish it later with: iot-deprovision resume run-1');
  });

  it('Esc does not leave a running run', async () => {
    const { t } = await startRun();
    await press(t, KEYS.escape);
    expect(frame(t)).toContain('Latest results:');
  });
});

describe('summary screen', () => {
  it('shows results per phase, verify verdicts, the journal and the exact restore command', async () => {
    const { run, t } = await startRun();
    run.advance(6);
    await waitForText(t, 'Run run-1 completed.');
    const f = frame(t);
    expect(f).toMatch(/deregister\s+3\s+0\s+0\s+0/);
    expect(f).toContain('1 blocked, 1 possible, 0 allowed');
    // One line per device: verdict, ID, what the run did on its hub, why.
    expect(f).toMatch(/✓ blocked\s+g1-dev-a\s+hub-eu: disabled\s+group g1 is disabled/);
    expect(f).toMatch(/\? possible\s+g1-dev-b\s+hub-eu: disabled\s+a CA group we cannot read/);
    expect(f).toContain('Journal: /tmp/iot-deprovision/run-1.jsonl');
    expect(f).toContain('iot-deprovision restore run-1 --yes');
    expect(f).not.toContain('retry');
  });

  it('r retries the failed steps and returns to the run screen', async () => {
    const { run, t } = await startRun();
    run.advance(3);
    run.advance(1, 'failed');
    run.advance(2);
    await waitForText(t, 'completed WITH FAILURES');
    expect(frame(t)).toContain('r retry the 1 failed');
    expect(frame(t)).toContain('Failed steps (1):');
    await press(t, 'r');
    await waitForText(t, 'Latest results:');
    expect(run.calls).toEqual(['retryFailed']);
    run.advance(1);
    await waitForText(t, 'Run run-1 completed.');
    expect(t.outcome()).toBeUndefined();
    await press(t, 'q');
    await until(() => t.outcome() !== undefined, 'exit', t);
    expect(exitCodeFor(t.outcome()!)).toBe(0);
  });

  it('a run with failures exits 1; Esc starts over at the enrollments', async () => {
    const { run, t } = await startRun();
    run.advance(5);
    run.advance(1, 'failed');
    await waitForText(t, 'completed WITH FAILURES');
    await press(t, KEYS.escape);
    await waitForText(t, 'Tab switches');
    await press(t, 'q');
    await until(() => t.outcome() !== undefined, 'exit', t);
    expect(exitCodeFor(t.outcome()!)).toBe(1);
  });
});

describe('quitting during a run', () => {
  it('q asks first; y aborts safely, waits for the run to settle, and exits 3', async () => {
    const { run, t } = await startRun();
    await press(t, 'q');
    expect(frame(t)).toContain('A run is going. Abort it safely');
    await press(t, 'n');
    expect(run.calls).toEqual([]);
    await press(t, 'q');
    await press(t, 'y');
    await until(() => t.outcome() !== undefined, 'exit', t);
    expect(run.calls).toEqual(['abort']);
    expect(t.outcome()?.summary?.state).toBe('aborted');
    expect(exitCodeFor(t.outcome()!)).toBe(3);
  });

  it('Ctrl-C aborts without asking and exits 3 once in-flight calls settle', async () => {
    const { run, t } = await startRun();
    await press(t, KEYS.ctrlC);
    await until(() => t.outcome() !== undefined, 'exit', t);
    expect(run.calls).toEqual(['abort']);
    expect(exitCodeFor(t.outcome()!)).toBe(3);
  });

  it('a second Ctrl-C leaves at once, naming the run to resume', async () => {
    const { run, t } = await startRun();
    run.abort = () => {
      run.calls.push('abort');
      run.update({ state: 'aborting' });
    };
    await press(t, KEYS.ctrlC);
    await waitForText(t, 'Aborting: waiting for calls in flight');
    expect(t.outcome()).toBeUndefined();
    await press(t, KEYS.ctrlC);
    await until(() => t.outcome() !== undefined, 'exit', t);
    expect(t.outcome()?.interruptedRun?.runId).toBe('run-1');
    expect(exitCodeFor(t.outcome()!)).toBe(3);
  });

  it('Ctrl-C while the run is still starting aborts it as soon as it exists', async () => {
    const backend = new FakeBackend(demoData());
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const create = backend.run.bind(backend);
    backend.run = async (plan) => {
      await gate;
      return create(plan);
    };
    t = await renderApp(backend, {
      routes: [{ screen: 'enrollments' }, { screen: 'review', info, actions: SAFE_ACTIONS }],
    });
    await waitForText(t, 'Run it? y: yes');
    await press(t, 'y');
    await waitForText(t, 'Starting the run');
    await press(t, KEYS.ctrlC);
    await waitForText(t, 'Stopping: the run is starting');
    expect(t.outcome()).toBeUndefined();
    release();
    await until(() => t?.outcome() !== undefined, 'exit', t);
    expect(backend.lastRun.calls).toEqual(['abort']);
    expect(exitCodeFor(t.outcome()!)).toBe(3);
  });

  it('a signal forwarded by the launcher stops the run the same way', async () => {
    const controller: TuiController = {};
    const { run, t } = await startRun(controller);
    controller.interrupt?.();
    await until(() => t.outcome() !== undefined, 'exit', t);
    expect(run.calls).toEqual(['abort']);
    expect(exitCodeFor(t.outcome()!)).toBe(3);
  });
});

describe('run screen at 80 columns', () => {
  async function startNarrowRun() {
    const backend = new FakeBackend(demoData());
    t = await renderApp(backend, {
      routes: [{ screen: 'enrollments' }, { screen: 'review', info, actions: SAFE_ACTIONS }],
      size: { columns: 80, rows: 24 },
    });
    await waitForText(t, 'Run it? y: yes');
    await press(t, 'y');
    await waitForText(t, 'Latest results:');
    return { run: backend.lastRun, t };
  }

  it('shows the pause, abort question and aborting hints whole, never cut', async () => {
    const { run, t } = await startNarrowRun();
    await press(t, 'p');
    await waitForText(t, 'PAUSED: calls in flight finish, no new call starts. p resumes.');
    await press(t, 'p');
    await press(t, 'a');
    await waitForText(t, ABORT_QUESTION);
    await press(t, 'n');
    run.abort = () => {
      run.calls.push('abort');
      run.update({ state: 'aborting' });
    };
    await press(t, KEYS.ctrlC);
    await waitForText(t, 'Aborting: waiting for calls in flight, then quitting. Ctrl-C again: leave now.');
    await waitForText(t, 'ABORTING: calls in flight finish; nothing new is sent.');
    expect(frame(t)).not.toContain('…');
  });

  it('does not show a throttling wait that has ended', async () => {
    const { run, t } = await startNarrowRun();
    run.throttle('hub-eu.azure-devices.net', 3000);
    await waitForText(t, 'throttled by hub-eu.azure-devices.net, waiting 3s');
    // The wait is over but nothing cleared it yet: the screen says so, not "waiting 0s".
    run.update({ throttled: { service: 'hub-eu.azure-devices.net', untilMs: Date.now() - 1 } });
    await waitForText(t, 'Not throttled.');
    expect(frame(t)).not.toContain('waiting 0s');
  });
});
