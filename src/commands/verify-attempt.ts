/**
 * `verify --attempt`: each selected device registers for real with its own credentials, and DPS's
 * answer is set beside the analysis's prediction. A refusal agrees with "blocked", an assignment with
 * "allowed"; "possible" (the analysis could not be sure) agrees with either. A device DPS did not
 * answer for cannot confirm anything, so it counts as a difference.
 */
import type { HubIdentityCheck, ReenrollmentVerdict } from '../core/model.js';
import { sanitize } from '../core/text.js';
import { mapLimited } from '../services/concurrency.js';
import type { HubSendAttempt, RegistrationAttempt } from '../services/backend.js';

export type Agreement = 'matches' | 'differs' | 'not-attempted';

export interface AttemptReport {
  registrationId: string;
  verdict: ReenrollmentVerdict['verdict'];
  attempt: RegistrationAttempt;
  agreement: Agreement;
}

export function agreementOf(
  verdict: ReenrollmentVerdict['verdict'],
  attempt: RegistrationAttempt,
): Agreement {
  if (attempt.outcome === 'unavailable') return 'not-attempted';
  if (attempt.outcome === 'error') return 'differs';
  if (verdict === 'possible') return 'matches';
  const returned = attempt.outcome === 'assigned';
  return returned === (verdict === 'allowed') ? 'matches' : 'differs';
}

/** Whether the hub's answer agrees with the identity status verify read on that hub; undefined: nothing to compare. */
export function hubAgreementOf(
  hubs: readonly HubIdentityCheck[] | undefined,
  send: HubSendAttempt | undefined,
): 'matches' | 'differs' | undefined {
  if (!send || (send.outcome !== 'sent' && send.outcome !== 'refused')) return undefined;
  const read = hubs?.find((h) => h.hub.toLowerCase() === send.hub.toLowerCase());
  if (!read || read.status === 'unknown') return undefined;
  return (send.outcome === 'sent') === (read.status === 'enabled') ? 'matches' : 'differs';
}

/** Attempts a few devices at a time, in the verdicts' order. */
export async function attemptAll(
  verdicts: ReenrollmentVerdict[],
  attempt: (registrationId: string) => Promise<RegistrationAttempt>,
  concurrency = 4,
): Promise<AttemptReport[]> {
  return mapLimited(verdicts, concurrency, async (v): Promise<AttemptReport> => {
    const answer = await attempt(v.registrationId);
    return {
      registrationId: v.registrationId,
      verdict: v.verdict,
      attempt: answer,
      agreement:
        hubAgreementOf(v.hubs, answer.hubSend) === 'differs' ? 'differs' : agreementOf(v.verdict, answer),
    };
  });
}

function describe(attempt: RegistrationAttempt): string {
  switch (attempt.outcome) {
    case 'assigned':
      return `assigned to ${sanitize(attempt.assignedHub)} as ${sanitize(attempt.deviceId)}`;
    case 'refused':
      return `refused: ${sanitize(attempt.reason)}`;
    case 'error':
      return `no answer: ${sanitize(attempt.reason)}`;
    default:
      return `not attempted: ${sanitize(attempt.reason)}`;
  }
}

function describeSend(send: HubSendAttempt | undefined): string {
  if (!send) return '';
  switch (send.outcome) {
    case 'sent':
      return `; hub ${sanitize(send.hub)}: telemetry accepted`;
    case 'refused':
      return `; hub ${sanitize(send.hub)}: refused (${send.status ?? sanitize(send.reason)})`;
    case 'error':
      return `; hub ${sanitize(send.hub)}: no answer: ${sanitize(send.reason)}`;
    default:
      return `; hub: not tried: ${sanitize(send.reason)}`;
  }
}

const WORD: Record<Agreement, string> = {
  matches: 'matches',
  differs: 'DIFFERS',
  'not-attempted': 'not attempted',
};

export function formatAttempts(reports: AttemptReport[]): string {
  const differs = reports.filter((r) => r.agreement === 'differs').length;
  const skipped = reports.filter((r) => r.agreement === 'not-attempted').length;
  const lines = [
    `Registration attempts: ${reports.length - differs - skipped} match the analysis, ${differs} differ` +
      (skipped ? `, ${skipped} not attempted` : ''),
  ];
  for (const r of reports) {
    lines.push(
      `  ${WORD[r.agreement].padEnd(13)} ${sanitize(r.registrationId)}: ` +
        `predicted ${r.verdict}; ${describe(r.attempt)}${describeSend(r.attempt.hubSend)}`,
    );
  }
  return lines.join('\n');
}
