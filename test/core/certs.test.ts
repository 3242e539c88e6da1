import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import {
  certificateInfo,
  isIssuedBy,
  isSelfSigned,
  normalizeName,
  parseCertificateChain,
  sameName,
} from '../../src/core/certs.js';
import { cachedChain, issueCertificate } from '../support/certs.js';

const ec = () => cachedChain('ec', { leafCn: 'dev-ec-1', algorithm: 'ec' });
const rsa = () => cachedChain('rsa', { leafCn: 'dev-rsa-1', algorithm: 'rsa' });

const errorOf = (pem: string): UserError => {
  try {
    parseCertificateChain(pem);
  } catch (e) {
    return e as UserError;
  }
  throw new Error('expected parseCertificateChain to throw');
};

describe('parseCertificateChain', () => {
  it.each([
    ['EC P-256', ec],
    ['RSA 2048', rsa],
  ])('parses a real %s chain leaf first, with DPS-style names and thumbprints', async (_, make) => {
    const chain = await make();
    const parsed = parseCertificateChain(chain.chainPem);
    expect(parsed.map((c) => c.commonName)).toEqual([
      chain.leaf.commonName,
      'Test Intermediate CA',
      'Test Root CA',
    ]);
    const [leaf, intermediate, root] = parsed;
    expect(leaf.subjectName).toBe(`CN=${chain.leaf.commonName}`);
    expect(leaf.issuerName).toBe('CN=Test Intermediate CA');
    expect([leaf.isCA, intermediate.isCA, root.isCA]).toEqual([false, true, true]);
    const der = new X509Certificate(chain.leaf.pem).raw;
    expect(leaf.sha1Thumbprint).toBe(createHash('sha1').update(der).digest('hex').toUpperCase());
    expect(leaf.sha256Thumbprint).toBe(createHash('sha256').update(der).digest('hex').toUpperCase());
    expect(leaf.sha1Thumbprint).toMatch(/^[0-9A-F]{40}$/);
    expect(leaf.notBefore).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(new X509Certificate(leaf.pem).fingerprint256).toBe(
      new X509Certificate(chain.leaf.pem).fingerprint256,
    );
  });

  it('accepts CRLF line ends and text around the blocks', async () => {
    const chain = await ec();
    const crlf = chain.leafAndIntermediatePem.replaceAll('\n', '\r\n');
    const messy = `subject=whatever\r\n${crlf}trailing words`;
    expect(parseCertificateChain(messy).map((c) => c.commonName)).toEqual([
      'dev-ec-1',
      'Test Intermediate CA',
    ]);
  });

  it('certificateInfo keeps what DPS reports and drops the PEM', async () => {
    const [leaf] = parseCertificateChain((await ec()).leaf.pem);
    const info = certificateInfo(leaf);
    expect(info).not.toHaveProperty('pem');
    expect(info).not.toHaveProperty('commonName');
    expect(info.sha1Thumbprint).toBe(leaf.sha1Thumbprint);
    expect(info.subjectName).toBe('CN=dev-ec-1');
  });

  describe('bad input says what is wrong without quoting the certificate', () => {
    it('empty text', () => {
      expect(errorOf('  \n').message).toMatch(/empty/);
    });

    it('a private key instead of a certificate', async () => {
      const e = errorOf((await ec()).leaf.keyPem);
      expect(e).toBeInstanceOf(UserError);
      expect(e).toMatchObject({ code: 'certificate', exitCode: 2 });
      expect(e.message).toBe(
        'the file holds a PRIVATE KEY, not a certificate: ' +
          'give the device certificate (-----BEGIN CERTIFICATE-----)',
      );
    });

    it('no PEM at all', () => {
      expect(errorOf('hello').message).toBe(
        'the file does not contain a PEM certificate (-----BEGIN CERTIFICATE-----)',
      );
    });

    it('a damaged second certificate', async () => {
      const chain = await ec();
      const body = chain.intermediate.pem.split('\n').slice(1, 3).join('\n');
      const damaged = `-----BEGIN CERTIFICATE-----\n${body.slice(0, 40)}AAAA\n-----END CERTIFICATE-----\n`;
      const broken = `${chain.leaf.pem}${damaged}`;
      const e = errorOf(broken);
      expect(e.message).toMatch(/^certificate 2 in the chain is not a certificate/);
      expect(e.message).not.toContain(body.slice(0, 20));
    });

    it('a chain cut short', async () => {
      const pem = (await ec()).leaf.pem;
      const e = errorOf(pem.slice(0, pem.length - 30));
      expect(e.message).toMatch(/^certificate 1 in the chain has no "-----END CERTIFICATE-----" line/);
      expect(e.message).not.toContain(pem.split('\n')[1]);
    });
  });
});

describe('isIssuedBy', () => {
  it('follows a real chain and refuses skipped links', async () => {
    const [leaf, intermediate, root] = parseCertificateChain((await rsa()).chainPem);
    expect(isIssuedBy(leaf, intermediate)).toBe(true);
    expect(isIssuedBy(intermediate, root)).toBe(true);
    expect(isIssuedBy(leaf, root)).toBe(false);
    expect(isIssuedBy(intermediate, leaf)).toBe(false);
    expect(isSelfSigned(root)).toBe(true);
    expect(isSelfSigned(intermediate)).toBe(false);
  });

  it('a parent with the same name but another key does not verify the signature', async () => {
    const chain = await ec();
    const impostor = await issueCertificate(chain.root, 'Test Intermediate CA', { ca: true });
    const [leaf] = parseCertificateChain(chain.leaf.pem);
    const [fake] = parseCertificateChain(impostor.pem);
    expect(sameName(leaf.issuerName, fake.subjectName)).toBe(true);
    expect(isIssuedBy(leaf, fake)).toBe(false);
  });
});

describe('names', () => {
  it('compare equal in either order and spacing', () => {
    expect(sameName('CN=Device, O=Contoso, C=US', 'C=US\nO=Contoso\nCN=Device')).toBe(true);
    expect(sameName('CN=Device,O=Contoso', 'CN=Device, O=Fabrikam')).toBe(false);
    expect(normalizeName('CN=a\\, b, O=x')).toBe('CN=a\\, b,O=x');
  });
});
