import { describe, expect, it } from 'vitest';
import type { SipRequest, Uri } from '../../src/sip/message.js';
import { SipParseError } from '../../src/sip/message.js';
import { UaCore, type UaVerdict } from '../../src/sip/ua-core.js';

const sipUri = (user: string): Uri => ({ kind: 'sip', scheme: 'sip', user, host: 'example.org', params: new Map(), headers: new Map() });

function req(method: string, opts: { uri?: Uri; headers?: Array<[string, string]>; body?: string; toTag?: string; mf?: number } = {}): SipRequest {
  const toParams = new Map<string, string | null>();
  if (opts.toTag) toParams.set('tag', opts.toTag);
  return {
    type: 'request',
    method,
    uri: opts.uri ?? sipUri('100'),
    headers: (opts.headers ?? []).map(([name, value]) => ({ name, value })),
    parsed: {
      via: [{ protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.1', params: new Map([['branch', 'z9hG4bK1']]) }],
      from: { uri: sipUri('200'), params: new Map([['tag', 'a']]) },
      to: { uri: sipUri('100'), params: toParams },
      callId: 'c1',
      cseq: { seq: 1, method },
      maxForwards: opts.mf ?? 70,
    },
    body: opts.body ?? '',
  };
}

function core(dialogs = false, invites = false, extra: Partial<ConstructorParameters<typeof UaCore>[0]> = {}) {
  return new UaCore({ hasDialog: () => dialogs, hasInviteForCancel: () => invites, supported: ['replaces'], ...extra });
}

function header(v: UaVerdict, name: string): string | undefined {
  return v.kind === 'respond' ? v.headers.find(([n]) => n === name)?.[1] : undefined;
}

describe('UaCore', () => {
  it('answers OPTIONS 200 with Allow, Accept and Supported', () => {
    const v = core().inspect(req('OPTIONS'));
    expect(v).toMatchObject({ kind: 'respond', status: 200 });
    expect(header(v, 'Allow')).toBe('INVITE, ACK, BYE, CANCEL, OPTIONS');
    expect(header(v, 'Accept')).toBe('application/sdp');
    expect(header(v, 'Supported')).toBe('replaces');
  });
  it('405 with Allow for a known method we do not serve, 501 for an unknown one', () => {
    const v = core().inspect(req('SUBSCRIBE'));
    expect(v).toMatchObject({ kind: 'respond', status: 405 });
    expect(header(v, 'Allow')).toContain('INVITE');
    expect(core().inspect(req('NEWMETHOD'))).toMatchObject({ kind: 'respond', status: 501 });
  });
  it('416 for a URI scheme we cannot serve (RFC 4475 3.3.2/3.3.3)', () => {
    expect(core().inspect(req('OPTIONS', { uri: { kind: 'absolute', scheme: 'nobodyknowsthisscheme', rest: 'x' } }))).toMatchObject({ status: 416 });
  });
  it('420 listing the unknown Require tags but not the ones we support (RFC 4475 3.3.5)', () => {
    const v = core().inspect(req('OPTIONS', { headers: [['Require', 'nothingSupportsThis, replaces'], ['Require', 'other'], ['Proxy-Require', 'noProxiesSupportThis']] }));
    expect(v).toMatchObject({ status: 420 });
    expect(header(v, 'Unsupported')).toBe('nothingSupportsThis, other');
    expect(core().inspect(req('CANCEL', { headers: [['Require', 'foo']] }))).toMatchObject({ status: 481 });
  });
  it('415 with Accept for an unknown body type (RFC 4475 3.3.6), and for a content encoding', () => {
    const v = core().inspect(req('INVITE', { headers: [['Content-Type', 'application/unknownformat']], body: '<audio/>' }));
    expect(v).toMatchObject({ status: 415 });
    expect(header(v, 'Accept')).toBe('application/sdp');
    expect(core().inspect(req('INVITE', { headers: [['Content-Type', 'application/SDP; charset=x']], body: 'v=0' }))).toEqual({ kind: 'accept' });
    expect(core().inspect(req('INVITE', { headers: [['Content-Type', 'application/sdp'], ['Content-Encoding', 'gzip']], body: 'v=0' }))).toMatchObject({ status: 415 });
  });
  it('481 for BYE without dialog, CANCEL without transaction, and a mid-dialog INVITE we do not know', () => {
    expect(core().inspect(req('BYE', { toTag: 'x' }))).toMatchObject({ status: 481 });
    expect(core().inspect(req('CANCEL'))).toMatchObject({ status: 481 });
    expect(core().inspect(req('INVITE', { toTag: 'x' }))).toMatchObject({ status: 481 });
    expect(core(true, true).inspect(req('BYE', { toTag: 'x' }))).toEqual({ kind: 'accept' });
    expect(core(true, true).inspect(req('CANCEL'))).toEqual({ kind: 'accept' });
  });
  it('drops a stray ACK, passes one for a dialog', () => {
    expect(core().inspect(req('ACK', { toTag: 'x' })).kind).toBe('drop');
    expect(core(true).inspect(req('ACK', { toTag: 'x' }))).toEqual({ kind: 'accept' });
  });
  it('Max-Forwards 0: processed at an endpoint (RFC 4475 3.3.11), 483 when configured like a proxy', () => {
    expect(core().inspect(req('OPTIONS', { mf: 0 }))).toMatchObject({ status: 200 });
    expect(core(false, false, { maxForwardsZero: 'reject' }).inspect(req('OPTIONS', { mf: 0 }))).toMatchObject({ status: 483 });
  });
  it('parser faults become 400, a bad version 505, without CR/LF in the reason', () => {
    expect(core().verdictForParseError(new SipParseError('missing Call-ID'))).toMatchObject({ status: 400, reason: 'Bad Request (missing Call-ID)' });
    expect(core().verdictForParseError(new SipParseError('version\r\nX: y', 505))).toMatchObject({ status: 505, reason: 'Version Not Supported (version  X: y)' });
  });
});
