/**
 * Issue 14 §7: on the Devices screen of an X.509 group the technician attaches a device certificate
 * (a typed PEM path, checked: readable, a certificate, this device's CN, its chain to the group's CA) and
 * the plan then writes an X.509 blocker for that device; without one the screens say the blocker is the
 * symmetric-key fallback. The file is read and checked by the real reader (src/services).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { certificateInfo, parseCertificateChain } from '../../src/core/certs.js';
import { cachedChain } from '../support/certs.js';
import { FakeBackend, type FakeData } from '../support/fake-backend.js';
import { demoData } from './fixtures.js';
import { type DrivenApp, KEYS, frame as rawFrame, press, renderApp, until } from './helpers.js';

/** The frame with line breaks and padding folded, so wrapped sentences match. */
const frame = (t: DrivenApp): string => rawFrame(t).replace(/\s+/g, ' ');
const waitForText = (t: DrivenApp, text: string) => until(() => frame(t).includes(text), `"${text}"`, t);

let t: DrivenApp | undefined;
let dir: string;
const files: Record<string, string> = {};
let data: FakeData;
let devicePem: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'device-cert-'));
  const chain = await cachedChain('g1', {
    leafCn: 'g1-dev-a',
    rootCn: 'G1 Root CA',
    intermediateCn: 'G1 Intermediate',
  });
  const other = await cachedChain('other', {
    leafCn: 'g1-dev-a',
    rootCn: 'Other Root',
    intermediateCn: 'Other Int',
  });
  const someoneElse = await cachedChain('b', {
    leafCn: 'g1-dev-b',
    ca: { root: chain.root, intermediate: chain.intermediate },
  });
  devicePem = chain.leafAndIntermediatePem;
  const write = (name: string, text: string) => {
    files[name] = join(dir, name);
    writeFileSync(files[name], text);
  };
  write('dev-a.pem', devicePem);
  write('key.pem', chain.leaf.keyPem);
  write('other-ca.pem', other.leafAndIntermediatePem);
  write('dev-b.pem', someoneElse.leafAndIntermediatePem);
  files.missing = join(dir, 'nope.pem');
  data = demoData();
  data.caCertificates = { 'root-ca': certificateInfo(parseCertificateChain(chain.root.pem)[0]) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  t?.unmount();
  t = undefined;
});

async function openG1() {
  const backend = new FakeBackend(data);
  t = await renderApp(backend, {
    size: { columns: 80, rows: 24 },
    routes: [{ screen: 'target' }, { screen: 'enrollments' }],
  });
  await waitForText(t, 'dev-tpm-1');
  await press(t, KEYS.tab);
  await press(t, '/g1');
  await press(t, KEYS.enter);
  await press(t, KEYS.enter);
  await waitForText(t, 'Enrollment group g1');
  await waitForText(t, 'marked');
  return { backend, t };
}

async function attach(t: DrivenApp, path: string) {
  await press(t, 'c');
  await waitForText(t, 'Certificate (PEM file) of g1-dev-a');
  await press(t, path);
  await press(t, KEYS.enter);
}

describe('attaching a device certificate on the Devices screen (X.509 group)', () => {
  it('a PEM path for the device: its subject is shown, it is marked, and the plan has an X.509 blocker for it', async () => {
    const { backend, t } = await openG1();
    expect(frame(t)).toContain('device certificate'); // the key is in the footer
    await attach(t, files['dev-a.pem']!);
    await waitForText(t, 'subject CN=g1-dev-a');
    expect(frame(t)).toContain('Its blocker will be an X.509 enrollment');
    expect(frame(t)).toMatch(/\[c\] g1-dev-a/);
    expect(frame(t)).toContain('1 marked');
    await press(t, KEYS.enter);
    await waitForText(t, 'X.509 blocker per device (certificate)');
    const last = backend.planCalls.at(-1)!;
    expect(last.selection).toEqual({
      kind: 'groupDevices',
      groupId: 'g1',
      devices: [{ registrationId: 'g1-dev-a', certificatePem: devicePem }],
    });
    expect(frame(t)).toContain('each with its device certificate');
    await press(t, KEYS.enter);
    await waitForText(t, 'X.509 blocker from the device certificate');
  });

  it('a path that does not exist: a clear message, nothing attached or marked', async () => {
    const { backend, t } = await openG1();
    await attach(t, files.missing!);
    await waitForText(t, 'No certificate attached to g1-dev-a');
    expect(frame(t)).toContain('no such file');
    expect(frame(t)).toContain('0 marked');
    expect(frame(t)).not.toContain('[c]');
    await press(t, KEYS.enter); // the whole group: no device choice carries a certificate
    await waitForText(t, 'Permanence');
    expect(backend.planCalls.at(-1)!.selection).toEqual({ kind: 'group', groupId: 'g1' });
  });

  it('a file that is not a certificate (a private key): said plainly, nothing attached', async () => {
    const { t } = await openG1();
    await attach(t, files['key.pem']!);
    await waitForText(t, 'No certificate attached to g1-dev-a');
    expect(frame(t)).toContain('PRIVATE KEY, not a certificate');
    expect(frame(t)).toContain('0 marked');
  });

  it('a certificate of another CA, or of another device: refused with the reason', async () => {
    const { t } = await openG1();
    await attach(t, files['other-ca.pem']!);
    await waitForText(t, 'leads to no certificate of group g1');
    expect(frame(t)).toContain('0 marked');
    await attach(t, files['dev-b.pem']!);
    await waitForText(t, 'belongs to "g1-dev-b"');
    expect(frame(t)).toContain('0 marked');
  });

  it('a marked device without a certificate: the symmetric-key fallback is said before and on Permanence', async () => {
    const { backend, t } = await openG1();
    await press(t, ' ');
    await until(() => frame(t).includes('1 marked'), '1 marked', t);
    expect(frame(t)).toContain('without one the blocker is the symmetric-key fallback');
    await press(t, KEYS.enter);
    await waitForText(t, 'symmetric-key blocker per device');
    expect(backend.planCalls.at(-1)!.selection).toEqual({
      kind: 'groupDevices',
      groupId: 'g1',
      devices: [{ registrationId: 'g1-dev-a' }],
    });
  });

  it('Esc cancels the prompt, and typed letters are the path, not commands', async () => {
    const { t } = await openG1();
    await press(t, 'c');
    await waitForText(t, 'Certificate (PEM file) of g1-dev-a');
    await press(t, 'qa');
    expect(frame(t)).toContain('> qa');
    await press(t, KEYS.escape);
    await until(() => !frame(t).includes('Certificate (PEM file)'), 'prompt closed', t);
    expect(frame(t)).toContain('0 marked');
    expect(t.outcome()).toBeUndefined();
  });
});
