/** Small builders for DPS states in tests, and a real PKI (root -> intermediate -> device leaves). */
import { certificateInfo, parseCertificateChain } from '../../src/core/certs.js';
import type {
  CertificateInfo,
  EnrollmentGroup,
  IndividualEnrollment,
  KnownState,
  ParsedCertificate,
  ProvisioningStatus,
  RegistrationRecord,
} from '../../src/core/model.js';
import type { Plan, PlanResult } from '../../src/core/plan-types.js';
import type { Actions } from '../../src/core/selection.js';
import { cachedChain, type GeneratedCertificate, type GeneratedChain } from '../support/certs.js';

export const HUB_EU = 'hub-eu.azure-devices.net';
export const HUB_US = 'hub-us.azure-devices.net';

export const infoOf = (c: GeneratedCertificate): CertificateInfo =>
  certificateInfo(parseCertificateChain(c.pem)[0]);
export const chainOf = (pem: string): ParsedCertificate[] => parseCertificateChain(pem);

export interface Pki {
  /** Devices dev-x1, dev-x2 under one root and intermediate. */
  chain1: GeneratedChain;
  chain2: GeneratedChain;
  rootInfo: CertificateInfo;
  intermediateInfo: CertificateInfo;
}

export async function pki(): Promise<Pki> {
  const chain1 = await cachedChain('pki-1', {
    leafCn: 'dev-x1',
    rootCn: 'Contoso Root CA',
    intermediateCn: 'Contoso Intermediate CA',
  });
  const chain2 = await cachedChain('pki-2', { leafCn: 'dev-x2', ca: chain1 });
  return { chain1, chain2, rootInfo: infoOf(chain1.root), intermediateInfo: infoOf(chain1.intermediate) };
}

export const x509Group = (
  id: string,
  signingCertificates: CertificateInfo[],
  provisioningStatus: ProvisioningStatus = 'enabled',
  caReferences: string[] = [],
): EnrollmentGroup => ({
  enrollmentGroupId: id,
  attestation: { type: 'x509', signingCertificates, caReferences },
  provisioningStatus,
});

export const symmetricKeyGroup = (
  id: string,
  provisioningStatus: ProvisioningStatus = 'enabled',
): EnrollmentGroup => ({
  enrollmentGroupId: id,
  attestation: { type: 'symmetricKey' },
  provisioningStatus,
});

export const individual = (
  registrationId: string,
  type: 'tpm' | 'symmetricKey' | 'x509' = 'tpm',
  provisioningStatus: ProvisioningStatus = 'enabled',
  extra: Partial<IndividualEnrollment> = {},
): IndividualEnrollment => ({
  registrationId,
  attestation: type === 'x509' ? { type, clientCertificates: [] } : { type },
  provisioningStatus,
  ...extra,
});

export const record = (
  registrationId: string,
  enrollmentGroupId?: string,
  /** null: the record has no assigned hub. */
  assignedHub: string | null = HUB_EU,
  extra: Partial<RegistrationRecord> = {},
): RegistrationRecord => ({
  registrationId,
  status: assignedHub ? 'assigned' : 'unassigned',
  ...(assignedHub ? { assignedHub } : {}),
  ...(enrollmentGroupId ? { enrollmentGroupId } : {}),
  ...extra,
});

export const state = (partial: Partial<KnownState> = {}): KnownState => ({
  individualEnrollments: [],
  enrollmentGroups: [],
  registrations: [],
  hubDevices: [],
  ...partial,
});

export const actions = (partial: Partial<Actions> = {}): Actions => ({
  disenroll: 'disable',
  deregister: 'disable',
  deleteRegistrations: false,
  deleteGroup: false,
  ...partial,
});

/** The plan of a result that must not be a refusal (the refusal's words otherwise, as the failure). */
export const okPlan = (r: PlanResult): Plan => {
  if (!r.ok) throw new Error(`expected a plan, got refusal ${r.refusal.code}: ${r.refusal.message}`);
  return r.plan;
};
