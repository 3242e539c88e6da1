import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubPort } from '../../src/core/ports.js';
import { hubsWithoutCredentials } from '../../src/services/azure/target.js';
import { collect, type Sandbox, startSandbox } from './support.js';

// The adapters read the whole demo sandbox (every attestation kind the demo holds) without loss.
let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ seed: 'demo' }, { pageSize: 7, hubPageSize: 9 });
});
afterAll(() => sb?.emulator.stop());

describe('adapters on the demo sandbox', () => {
  it('read every enrollment, group, registration record and hub device', async () => {
    const { store } = sb.emulator;
    const enrollments = (await collect(sb.ports.dps.listEnrollments())).items;
    expect(enrollments.map((e) => e.registrationId).sort()).toEqual([...store.dps.enrollments.keys()].sort());
    expect(new Set(enrollments.map((e) => e.attestation.type))).toEqual(
      new Set(['tpm', 'x509', 'symmetricKey']),
    );
    const groups = (await collect(sb.ports.dps.listGroups())).items;
    expect(groups.map((g) => g.enrollmentGroupId).sort()).toEqual([...store.dps.groups.keys()].sort());
    for (const g of groups) {
      if (g.attestation.type === 'x509') {
        expect(g.attestation.signingCertificates.length + g.attestation.caReferences.length).toBeGreaterThan(
          0,
        );
        for (const c of g.attestation.signingCertificates) expect(c.sha1Thumbprint).toMatch(/^[0-9A-F]{40}$/);
      }
    }
    const records = [];
    for (const g of groups)
      records.push(...(await collect(sb.ports.dps.listGroupRegistrations(g.enrollmentGroupId))).items);
    const groupRecords = [...store.dps.registrations.values()].filter((r) => r.enrollment.kind === 'group');
    expect(records.length).toBe(groupRecords.length);
    expect(
      hubsWithoutCredentials(
        records.map((r) => r.assignedHub),
        sb.ports.hubs,
      ),
    ).toEqual([]);
    let devices = 0;
    for (const host of sb.ports.hubs.hosts()) {
      const hub = sb.ports.hubs.get(host) as HubPort;
      devices += (await collect(hub.listDevices())).items.length;
    }
    expect(devices).toBe([...store.hubs.values()].reduce((n, h) => n + h.devices.size, 0));
  });
});
