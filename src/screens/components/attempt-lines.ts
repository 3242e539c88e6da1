/**
 * What a device's own registration attempt answered, set beside what the analysis predicted, as words
 * that carry the meaning without colour. "possible" (the analysis could not be sure) agrees with either
 * answer; an attempt DPS did not answer (timeout, throttled) confirms nothing, so it is never shown as
 * a refusal; a device the tool holds no credentials for was not tried, and the line says why.
 */
import type { Verdict } from '../../core/model.js';
import { sanitize, shortHost } from '../../core/text.js';
import type { RegistrationAttempt } from '../../services/backend.js';
import type { Tone } from './Line.js';

export type AttemptState =
  | { status: 'queued' }
  | { status: 'registering' }
  | { status: 'answered'; attempt: RegistrationAttempt };

export type Agreement = 'matches' | 'differs' | 'unconfirmed' | 'not-tried';

export function agreementOf(verdict: Verdict, attempt: RegistrationAttempt): Agreement {
  if (attempt.outcome === 'unavailable') return 'not-tried';
  if (attempt.outcome === 'error') return 'unconfirmed';
  if (verdict === 'possible') return 'matches';
  const cameBack = attempt.outcome === 'assigned';
  return cameBack === (verdict === 'allowed') ? 'matches' : 'differs';
}

function answerText(attempt: RegistrationAttempt): string {
  switch (attempt.outcome) {
    case 'assigned':
      return `assigned to ${shortHost(sanitize(attempt.assignedHub)) || '?'} ! came back`;
    case 'refused': {
      if (attempt.registrationStatus) return `refused (${sanitize(attempt.registrationStatus)})`;
      // A blocker has keys of its own: the device's key no longer matches what decides it.
      // Shorter when the hub's answer follows: the line must fit 80 columns.
      if (attempt.status === 401) return attempt.hubSend ? 'refused (401)' : 'refused (401 Unauthorized)';
      if (attempt.status) return `refused (${attempt.status})`;
      return `refused: ${sanitize(attempt.reason)}`;
    }
    case 'error':
      return `ERROR (${sanitize(attempt.reason)})`;
    case 'unavailable':
      return `not tried: ${sanitize(attempt.reason)}`;
  }
}

/** The hub's answer to the device's telemetry, short: the line must still fit 80 columns. */
function hubText(attempt: RegistrationAttempt): string {
  const send = attempt.hubSend;
  if (!send || send.outcome === 'unavailable') return '';
  if (send.outcome === 'sent') return ' · hub: sent !';
  if (send.outcome === 'refused') return ` · hub: refused${send.status ? ` (${send.status})` : ''}`;
  return ' · hub: no answer';
}

const AGREEMENT_WORD: Record<Agreement, string> = {
  matches: '✓ matches',
  differs: '✗ DIFFERS',
  unconfirmed: '? nothing confirmed',
  'not-tried': '',
};

/** One device's attempt as a line of text and its tone; undefined when it was never tried. */
export function attemptText(
  verdict: Verdict,
  state: AttemptState | undefined,
): { text: string; tone: Tone } | undefined {
  if (!state) return undefined;
  if (state.status === 'queued')
    return { text: `${verdict} · device: waiting its turn to register`, tone: 'dim' };
  if (state.status === 'registering') return { text: `${verdict} · device: registering…`, tone: 'info' };
  const { attempt } = state;
  const agreement = agreementOf(verdict, attempt);
  const word = AGREEMENT_WORD[agreement];
  const text = `${verdict} · device: ${answerText(attempt)}${hubText(attempt)}${word ? ` ${word}` : ''}`;
  const tone: Tone =
    agreement === 'differs'
      ? 'danger'
      : agreement === 'unconfirmed'
        ? 'caution'
        : agreement === 'not-tried'
          ? 'dim'
          : attempt.outcome === 'assigned' || attempt.hubSend?.outcome === 'sent'
            ? 'caution'
            : 'ok';
  return { text, tone };
}

export interface AttemptTally {
  tried: number;
  matches: number;
  differs: number;
  unconfirmed: number;
  notTried: number;
}

/** The answers so far, counted per agreement (only devices that have an answer). */
export function tallyAttempts(
  verdicts: readonly { registrationId: string; verdict: Verdict }[],
  states: ReadonlyMap<string, AttemptState>,
): AttemptTally {
  const tally: AttemptTally = { tried: 0, matches: 0, differs: 0, unconfirmed: 0, notTried: 0 };
  for (const v of verdicts) {
    const s = states.get(v.registrationId);
    if (s?.status !== 'answered') continue;
    tally.tried++;
    const a = agreementOf(v.verdict, s.attempt);
    if (a === 'matches') tally.matches++;
    else if (a === 'differs') tally.differs++;
    else if (a === 'unconfirmed') tally.unconfirmed++;
    else tally.notTried++;
  }
  return tally;
}

export function tallyText(t: AttemptTally): string {
  const parts = [`${t.matches} match the analysis`, `${t.differs} DIFFER`];
  if (t.unconfirmed > 0) parts.push(`${t.unconfirmed} no answer`);
  if (t.notTried > 0) parts.push(`${t.notTried} not tried`);
  return `Attempts: ${parts.join(', ')}.`;
}
