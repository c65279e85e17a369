import { describe, expect, it } from 'vitest';
import { parseSubjectAltNames, splitSubjectValue, tlsPeerOf } from './peer.js';

const FP = Array.from({ length: 32 }, () => 'a1').join(':');

/** The parts of a TLSSocket tlsPeerOf reads, as Node fills them. */
function socket(fields: { authorized?: boolean; authorizationError?: unknown; cert?: unknown }) {
  return {
    authorized: fields.authorized ?? false,
    authorizationError: fields.authorizationError ?? null,
    getPeerCertificate(this: unknown, detailed?: boolean) {
      expect(detailed).toBe(false);
      return fields.cert;
    },
  };
}

describe('tlsPeerOf', () => {
  it('is undefined for a socket that is not TLS', () => {
    expect(tlsPeerOf({ remoteAddress: '127.0.0.1' })).toBeUndefined();
  });

  it('reports no certificate fields when none was presented ({} or a destroyed socket)', () => {
    const none = socket({ authorizationError: 'UNABLE_TO_GET_ISSUER_CERT', cert: {} });
    expect(tlsPeerOf(none)).toEqual({
      authorized: false,
      authorizationError: 'UNABLE_TO_GET_ISSUER_CERT',
    });
    expect(tlsPeerOf(socket({ cert: null }))).toEqual({ authorized: false });
  });

  it('reads a certificate, normalizing the subject and splitting quoted SANs', () => {
    const subject = Object.assign(Object.create(null) as object, {
      O: 'acme',
      OU: ['a+b', 'c'],
      CN: ['admin', 'evil'],
      L: 'back\\slash',
    });
    const peer = tlsPeerOf(
      socket({
        authorized: true,
        cert: {
          subject,
          subjectaltname: 'DNS:"weird\\u002c name", URI:spiffe://x/y, IP Address:127.0.0.1',
          fingerprint256: FP,
          serialNumber: '1A2B',
        },
      }),
    );
    expect(peer).toEqual({
      authorized: true,
      subject: { O: 'acme', OU: 'a\\+b+c', CN: 'admin+evil', L: 'back\\\\slash' },
      subjectAltNames: ['DNS:weird, name', 'URI:spiffe://x/y', 'IP Address:127.0.0.1'],
      fingerprint256: FP.toUpperCase(),
      serialNumber: '1A2B',
    });
    expect(Object.isFrozen(peer)).toBe(true);
    expect(splitSubjectValue(peer?.subject?.OU ?? '')).toEqual(['a+b', 'c']);
    expect(splitSubjectValue(peer?.subject?.L ?? '')).toEqual(['back\\slash']);
  });

  it('accepts authorizationError as an Error and ignores it when authorized', () => {
    const error = Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' });
    expect(tlsPeerOf(socket({ authorizationError: error, cert: {} }))?.authorizationError).toBe(
      'CERT_HAS_EXPIRED',
    );
    expect(
      tlsPeerOf(
        socket({ authorized: true, authorizationError: 'X', cert: { fingerprint256: FP } }),
      ),
    ).toEqual({ authorized: true, fingerprint256: FP.toUpperCase() });
  });

  it('drops SANs it cannot parse rather than guessing', () => {
    const peer = tlsPeerOf(
      socket({
        authorized: true,
        cert: { fingerprint256: FP, subjectaltname: 'DNS:"unterminated' },
      }),
    );
    expect(peer).toEqual({ authorized: true, fingerprint256: FP.toUpperCase() });
  });
});

describe('parseSubjectAltNames', () => {
  it('splits on ", " outside JSON-quoted values only', () => {
    expect(parseSubjectAltNames('')).toEqual([]);
    expect(parseSubjectAltNames('DNS:a, DNS:b')).toEqual(['DNS:a', 'DNS:b']);
    // A certificate cannot smuggle a second name in through a comma inside a value.
    expect(parseSubjectAltNames('URI:"http://x/a\\u002c DNS:admin"')).toEqual([
      'URI:http://x/a, DNS:admin',
    ]);
    expect(parseSubjectAltNames('DNS:"q\\"uote", email:a@b')).toEqual(['DNS:q"uote', 'email:a@b']);
    expect(parseSubjectAltNames('DNS:"bad\\x"')).toBeUndefined();
  });
});
