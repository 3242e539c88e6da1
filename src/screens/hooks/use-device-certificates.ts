/**
 * Device certificates on the Devices screen (X.509 groups): `c` asks for a device's certificate file, the
 * backend reads and checks it, and the device's blocker becomes an X.509 enrollment made from it. What
 * happened is said under the list (the note) until the next key.
 */
import type { DeviceCertificate } from '../../core/device-certificate.js';
import type { EnrollmentGroup } from '../../core/model.js';
import { sanitize } from '../../core/text.js';
import type { Backend } from '../../services/backend.js';
import type { Tone } from '../components/Line.js';
import { type TextPromptState, useTextPrompt } from '../components/TextPrompt.js';
import { attachedText } from '../devices-words.js';
import { useRefState } from './use-ref-state.js';

/** What attaching a certificate said, shown under the list until the next key. */
export interface CertificateNote {
  tone: Tone;
  text: string;
}

export interface DeviceCertificates {
  certs: ReadonlyMap<string, DeviceCertificate>;
  getCerts: () => ReadonlyMap<string, DeviceCertificate>;
  note: CertificateNote | undefined;
  setNote: (note: CertificateNote | undefined) => void;
  prompt: TextPromptState;
  /** `c` on a device: ask for its certificate file (or say why this group or target takes none). */
  ask(registrationId: string): void;
}

/** `onAttached`: a device given a certificate is marked too (its blocker is what the certificate makes). */
export function useDeviceCertificates(
  backend: Backend,
  group: EnrollmentGroup | undefined,
  onAttached: (registrationId: string) => void,
): DeviceCertificates {
  const [certs, setCerts, getCerts] = useRefState<Map<string, DeviceCertificate>>(() => new Map());
  const [note, setNote] = useRefState<CertificateNote | undefined>(undefined);
  const [, setCertFor, getCertFor] = useRefState<string>('');
  const x509Group = group?.attestation.type === 'x509';

  const remove = (id: string) => {
    setCerts((m) => {
      const next = new Map(m);
      next.delete(id);
      return next;
    });
    setNote({
      tone: 'caution',
      text: `Certificate removed from ${sanitize(id)}: its blocker is a symmetric-key enrollment again.`,
    });
  };

  const prompt = useTextPrompt((path) => {
    const id = getCertFor();
    if (path.trim() === '' && getCerts().has(id)) return remove(id);
    if (!group || !backend.readDeviceCertificate) return;
    setNote({ tone: 'dim', text: `Reading ${sanitize(path)}…` });
    backend.readDeviceCertificate(path, group, id).then(
      (cert) => {
        setCerts((m) => new Map(m).set(id, cert));
        onAttached(id);
        setNote({ tone: cert.oddities.length > 0 ? 'caution' : 'ok', text: attachedText(id, cert) });
      },
      (e: unknown) => {
        setNote({
          tone: 'danger',
          text: `No certificate attached to ${sanitize(id)}: ${sanitize(e instanceof Error ? e.message : String(e))}`,
        });
      },
    );
  });

  const ask = (id: string) => {
    if (!x509Group || !backend.readDeviceCertificate) {
      setNote({
        tone: 'caution',
        text: x509Group
          ? 'This target cannot read certificate files; use `run --device-cert FILE` instead.'
          : 'This group uses symmetric keys: its blockers are symmetric-key enrollments and need no certificate.',
      });
      return;
    }
    setCertFor(id);
    prompt.ask(
      getCerts().has(id)
        ? `Certificate (PEM) of ${sanitize(id)}: type a path, or Enter on empty to remove the attached one. Esc cancels.`
        : `Certificate (PEM file) of ${sanitize(id)}: type its path and press Enter. Esc cancels.`,
    );
  };

  return { certs, getCerts, note, setNote, prompt, ask };
}
