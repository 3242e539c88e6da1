/** The known state indexed for the re-enrollment analysis: groups by certificate thumbprint and by name. */
import { normalizeName, sameName } from './certs.js';
import type { CertificateInfo, EnrollmentGroup, IndividualEnrollment, KnownState } from './model.js';

export interface GroupCertificates {
  group: EnrollmentGroup;
  certificates: CertificateInfo[];
  /** caReferences that state.caCertificates does not resolve. */
  unresolved: string[];
}

interface NameLink {
  certificate: CertificateInfo;
  /** Undefined for a verified CA certificate no group uses: it only links names upward. */
  holder?: GroupCertificates;
}

export const isEnabled = (g: EnrollmentGroup): boolean => g.provisioningStatus === 'enabled';

export class StateIndex {
  readonly individuals = new Map<string, IndividualEnrollment>();
  readonly groups = new Map<string, GroupCertificates>();
  readonly byThumbprint = new Map<string, GroupCertificates[]>();
  readonly bySubject = new Map<string, NameLink[]>();
  readonly enabledSymmetricKeyGroups: EnrollmentGroup[] = [];
  readonly enabledUnresolved: GroupCertificates[] = [];
  readonly enabledX509: GroupCertificates[] = [];

  constructor(state: KnownState) {
    for (const e of state.individualEnrollments) this.individuals.set(e.registrationId, e);
    const caCertificates = state.caCertificates ?? {};
    const usedCa = new Set<string>();
    for (const group of state.enrollmentGroups) {
      const entry: GroupCertificates = { group, certificates: [], unresolved: [] };
      this.groups.set(group.enrollmentGroupId, entry);
      if (group.attestation.type === 'symmetricKey') {
        if (isEnabled(group)) this.enabledSymmetricKeyGroups.push(group);
        continue;
      }
      entry.certificates.push(...group.attestation.signingCertificates);
      for (const name of group.attestation.caReferences) {
        const ca = caCertificates[name];
        if (ca) {
          entry.certificates.push(ca);
          usedCa.add(name);
        } else entry.unresolved.push(name);
      }
      for (const c of entry.certificates) {
        for (const t of [c.sha1Thumbprint, c.sha256Thumbprint]) {
          if (t) this.push(this.byThumbprint, t.toUpperCase(), entry);
        }
        this.push(this.bySubject, normalizeName(c.subjectName), { certificate: c, holder: entry });
      }
      if (isEnabled(group)) {
        this.enabledX509.push(entry);
        if (entry.unresolved.length > 0) this.enabledUnresolved.push(entry);
      }
    }
    for (const [name, ca] of Object.entries(caCertificates)) {
      if (!usedCa.has(name)) this.push(this.bySubject, normalizeName(ca.subjectName), { certificate: ca });
    }
  }

  private push<T>(map: Map<string, T[]>, key: string, value: T): void {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  }

  /** Groups holding this certificate; an enabled one first, since any enabled holder lets DPS accept. */
  holdersOf(c: CertificateInfo): GroupCertificates[] {
    const found = new Set<GroupCertificates>();
    for (const t of [c.sha1Thumbprint, c.sha256Thumbprint]) {
      if (t) for (const e of this.byThumbprint.get(t.toUpperCase()) ?? []) found.add(e);
    }
    return [...found].sort((a, b) => Number(isEnabled(b.group)) - Number(isEnabled(a.group)));
  }

  /**
   * Walk up by names: from the issuer names given, find the first level where a group holds a certificate
   * of that subject; verified CA certificates no group uses carry the walk one level further.
   */
  firstGroupAbove(
    issuerNames: string[],
  ): { holder: GroupCertificates; certificate: CertificateInfo } | undefined {
    const seen = new Set<string>();
    let level = issuerNames.map(normalizeName);
    while (level.length > 0) {
      const links = level.filter((n) => !seen.has(n)).flatMap((n) => this.bySubject.get(n) ?? []);
      for (const n of level) seen.add(n);
      const held = links.flatMap((l) => (l.holder ? [{ holder: l.holder, certificate: l.certificate }] : []));
      if (held.length > 0) return held.find((l) => isEnabled(l.holder.group)) ?? held[0];
      level = links
        .filter((l) => !sameName(l.certificate.issuerName, l.certificate.subjectName))
        .map((l) => normalizeName(l.certificate.issuerName));
    }
    return undefined;
  }
}
