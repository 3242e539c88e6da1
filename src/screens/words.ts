/** Service values in the words a technician reads on screen. */
import type { EnrollmentGroup, IndividualEnrollment, Verdict } from '../core/model.js';
import type { StepOutcome } from '../core/plan-types.js';
import type { PlanWarning } from '../core/plan-types.js';
import type { Tone } from './components/Line.js';

export function individualAttestation(e: IndividualEnrollment): string {
  switch (e.attestation.type) {
    case 'tpm':
      return 'TPM';
    case 'x509':
      return 'X.509';
    case 'symmetricKey':
      return 'symmetric key';
  }
}

export function groupAttestation(g: EnrollmentGroup): string {
  if (g.attestation.type === 'symmetricKey') return 'symmetric key';
  return g.attestation.caReferences.length > 0 ? 'X.509 CA' : 'X.509';
}

/** Severity as a marker and a word, so it reads without colour. */
export function severityLabel(w: Pick<PlanWarning, 'severity'>): { marker: string; tone: Tone } {
  switch (w.severity) {
    case 'danger':
      return { marker: '! DANGER', tone: 'danger' };
    case 'caution':
      return { marker: '* CAUTION', tone: 'caution' };
    case 'info':
      return { marker: 'i NOTE', tone: 'info' };
  }
}

export function outcomeLabel(o: StepOutcome): { marker: string; tone: Tone } {
  switch (o) {
    case 'succeeded':
      return { marker: '✓ done', tone: 'ok' };
    case 'alreadyDone':
      return { marker: '✓ already', tone: 'ok' };
    case 'failed':
      return { marker: '✗ FAILED', tone: 'danger' };
    case 'skipped':
      return { marker: '- skipped', tone: 'dim' };
  }
}

export function verdictLabel(v: Verdict): { marker: string; tone: Tone } {
  switch (v) {
    case 'blocked':
      return { marker: '✓ blocked', tone: 'ok' };
    case 'possible':
      return { marker: '? possible', tone: 'caution' };
    case 'allowed':
      return { marker: '! ALLOWED', tone: 'danger' };
  }
}
