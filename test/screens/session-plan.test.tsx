/**
 * Issue 10 §1: the permanence and review screens show the session's plan, and confirming runs that
 * very plan; there is no second planning path in the screens. Each plan the fake backend makes carries
 * its number (a warning), so a screen showing one plan while another runs would be seen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PlanResult } from '../../src/core/plan-types.js';
import { type Actions, SAFE_ACTIONS, type Selection } from '../../src/core/selection.js';
import { selectionInfo } from '../../src/screens/DevicesScreen.js';
import { DeprovisionSession } from '../../src/services/session/deprovision-session.js';
import { FakeBackend } from '../support/fake-backend.js';
import { demoData } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, until, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const data = demoData();
const info = selectionInfo({ kind: 'group', group: data.groups![0]! }, data.devices!.g1!, []);

/** Numbers each plan it makes; `hold()` keeps the next plans unanswered until `release()`. */
class NumberingBackend extends FakeBackend {
  made = 0;
  private gate: Promise<void> | undefined;
  private open = () => {};
  constructor() {
    let n = 0;
    super({
      ...demoData(),
      warnings: () => [
        {
          code: 'hub-without-credentials',
          severity: 'caution',
          message: `plan number ${++n}`,
          registrationIds: [],
        },
      ],
    });
  }
  hold(): void {
    this.gate = new Promise((r) => {
      this.open = r;
    });
  }
  release(): void {
    this.gate = undefined;
    this.open();
  }
  override async plan(selection: Selection, actions: Actions): Promise<PlanResult> {
    const gate = this.gate;
    const result = await super.plan(selection, actions);
    this.made++;
    if (gate) await gate;
    return result;
  }
}

const numberOf = (session: DeprovisionSession): string | undefined =>
  session.view.context.plan?.warnings.find((w) => w.message.startsWith('plan number'))?.message;

describe('the screens show the session plan, and confirming runs it', () => {
  it('the review shows the plan the session holds (made once, on the permanence screen) and y runs that very plan', async () => {
    const backend = new NumberingBackend();
    const session = new DeprovisionSession(backend);
    t = await renderApp(backend, {
      session,
      routes: [{ screen: 'enrollments' }, { screen: 'permanence', info }],
    });
    await waitForText(t, 'plan number 1');
    await press(t, KEYS.enter);
    await waitForText(t, 'Run it? y: yes');
    expect(session.view.state).toBe('planned');
    expect(numberOf(session)).toBe('plan number 1');
    expect(frame(t)).toContain('plan number 1');
    expect(backend.planCalls).toHaveLength(1);
    const shown = session.view.context.plan;
    await press(t, 'y');
    await waitForText(t, 'Latest results:');
    expect(backend.runs).toHaveLength(1);
    expect(backend.lastRun.plan).toBe(shown);
  });

  it('a choice changed while its plan is being made: the review waits for that plan and runs it, not the earlier one', async () => {
    const backend = new NumberingBackend();
    const session = new DeprovisionSession(backend);
    t = await renderApp(backend, {
      session,
      routes: [{ screen: 'enrollments' }, { screen: 'permanence', info }],
    });
    await waitForText(t, 'plan number 1');
    backend.hold();
    // Hub (deregister): disable -> none (nothing permanent: y/n confirms).
    await press(t, KEYS.down);
    await press(t, KEYS.left);
    await until(() => backend.made === 2, 'the second plan to be asked for', t);
    await press(t, KEYS.enter);
    await waitForText(t, 'planning…');
    await press(t, 'y');
    expect(backend.runs).toHaveLength(0);
    backend.release();
    await waitForText(t, 'Run it? y: yes');
    expect(frame(t)).toContain('plan number 2');
    expect(frame(t)).not.toContain('plan number 1');
    await press(t, 'y');
    await waitForText(t, 'Latest results:');
    expect(backend.lastRun.plan.actions.deregister).toBe('none');
    expect(backend.lastRun.plan.warnings[0]?.message).toBe('plan number 2');
    expect(backend.planCalls).toHaveLength(2);
  });

  it('back on the permanence screen after reviewing other choices, it asks the session for its own plan again', async () => {
    const backend = new NumberingBackend();
    const session = new DeprovisionSession(backend);
    const other: Actions = { ...SAFE_ACTIONS, deregister: 'none' };
    t = await renderApp(backend, {
      session,
      routes: [
        { screen: 'enrollments' },
        { screen: 'permanence', info },
        { screen: 'review', info, actions: other },
      ],
    });
    await waitForText(t, 'Run it? y: yes');
    expect(session.view.context.request?.actions).toEqual(other);
    await press(t, KEYS.escape);
    await waitForText(t, 'Enter: review the plan');
    await until(
      () =>
        session.view.state === 'planned' && session.view.context.request?.actions.deregister === 'disable',
      'the permanence plan',
      t,
    );
    await until(() => !frame(t as DrivenApp).includes('Checking the plan'), 'the plan on screen', t);
    expect(frame(t)).toContain(`plan number ${backend.planCalls.length}`);
  });
});
