import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { DangerousConfirmationPrompt } from '../../src/screens/components/DangerousConfirmation.js';
import { type Driven, frame, KEYS, press, until } from './helpers.js';

function prompt(confirmId: string) {
  const outcome = { confirmed: 0, cancelled: 0 };
  const ink = render(
    <DangerousConfirmationPrompt
      confirmId={confirmId}
      onConfirm={() => outcome.confirmed++}
      onCancel={() => outcome.cancelled++}
    />,
  );
  const t: Driven = { ...ink, frames: ink.frames };
  return { t, outcome };
}

describe('DangerousConfirmation: type the exact ID to confirm a permanent action', () => {
  it('names the ID, echoes what is typed, and confirms on Enter only when it matches exactly', async () => {
    const { t, outcome } = prompt('plant-7');
    await until(() => frame(t).includes('! PERMANENT. Type plant-7 and press Enter'), 'the prompt', t);
    await press(t, 'plant-');
    await press(t, KEYS.enter);
    expect(frame(t)).toContain('That does not match plant-7: type it exactly.');
    expect(outcome.confirmed).toBe(0);
    await press(t, '7');
    expect(frame(t)).toContain('> plant-7▌');
    expect(frame(t)).not.toContain('does not match');
    await press(t, KEYS.enter);
    expect(outcome).toEqual({ confirmed: 1, cancelled: 0 });
    t.unmount();
  });

  it('q and ? are typed, not commands; Backspace takes back one character', async () => {
    const { t, outcome } = prompt('q?');
    await until(() => frame(t).includes('Type q?'), 'the prompt', t);
    await press(t, 'q?x');
    expect(frame(t)).toContain('> q?x▌');
    await press(t, KEYS.backspace);
    expect(frame(t)).toContain('> q?▌');
    await press(t, KEYS.enter);
    expect(outcome.confirmed).toBe(1);
    t.unmount();
  });

  it('Esc cancels without confirming, whatever was typed', async () => {
    const { t, outcome } = prompt('plant-7');
    await until(() => frame(t).includes('Type plant-7'), 'the prompt', t);
    await press(t, 'plant-7');
    await press(t, KEYS.escape);
    await until(() => outcome.cancelled === 1, 'the cancel', t);
    expect(outcome.confirmed).toBe(0);
    t.unmount();
  });
});
