import { describe, expect, test } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { loadConfigText } from '../../src/config/load.js';
import type { ConfigProblem } from '../../src/config/errors.js';

function problems(toml: string): ConfigProblem[] {
  const r = loadConfigText(toml, '/tmp');
  return r.problems;
}

function paths(toml: string): string[] {
  return problems(toml).map((p) => p.path);
}

const ACCOUNT = '[[account]]\nuser = "100"\npassword = "pw"\ndomain = "sip.example.org"\n';

describe('config defaults', () => {
  test('an empty file is a valid config: sim board, one line, no accounts', () => {
    const r = loadConfigText('', '/tmp');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.board).toEqual({ type: 'sim', lines: 1 });
    expect(r.config.line).toHaveLength(1);
    expect(r.config.line[0]).toMatchObject({ id: 0, caller_id: 'bell202', tone_plan: { base: 'us', overrides: {} } });
    expect(r.config.account).toEqual([]);
    expect(r.config.sip).toEqual({ listen: { host: '0.0.0.0', port: 5060 }, transports: ['udp'], user_agent: 'ata/0.1', keepalive: 'crlf', keepalive_s: 25 });
    expect(r.config.media).toMatchObject({ ptime: 20, rtp_ports: { min: 10000, max: 10999 }, jitter_ms: { min: 20, max: 200 } });
    expect(r.config.api.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(r.config.log).toMatchObject({ level: 'info', trace_auth: false, sip_trace_keep: 200 });
  });

  test('account defaults: auth_user from user, registrar from domain, expires 3600, accept_from proxy', () => {
    const r = loadConfigText(ACCOUNT, '/tmp');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.account[0]).toMatchObject({
      line: 0, user: '100', password: 'pw', auth_user: '100', registrar: 'sip:sip.example.org', expires: 3600, accept_from: 'proxy',
    });
  });

  test('a non-table document is refused', () => {
    expect(validateConfig([1, 2]).ok).toBe(false);
    expect(validateConfig(null).ok).toBe(false);
  });
});

describe('each problem class names its key path', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown top-level table', '[sipp]\nlisten = "1.2.3.4:5"', /^sipp$/],
    ['unknown key with suggestion', '[sip]\nlisen = "0.0.0.0:5060"', /^sip\.lisen$/],
    ['listen without port', '[sip]\nlisten = "0.0.0.0"', /^sip\.listen$/],
    ['listen v6 without brackets', '[sip]\nlisten = ":::5060"', /^sip\.listen$/],
    ['listen port too big', '[api]\nlisten = "127.0.0.1:70000"', /^api\.listen$/],
    ['transport unknown', '[sip]\ntransports = ["sctp"]', /^sip\.transports\[0\]$/],
    ['transport twice', '[sip]\ntransports = ["udp", "udp"]', /^sip\.transports$/],
    ['keepalive mode', '[sip]\nkeepalive = "ping"', /^sip\.keepalive$/],
    ['keepalive_s too small', '[sip]\nkeepalive_s = 1', /^sip\.keepalive_s$/],
    ['account user missing', '[[account]]\npassword = "x"\ndomain = "d.org"', /^account\[0\]\.user$/],
    ['account expires too small', ACCOUNT + 'expires = 10', /^account\[0\]\.expires$/],
    ['account expires not an integer', ACCOUNT + 'expires = 60.5', /^account\[0\]\.expires$/],
    ['accept_from', ACCOUNT + 'accept_from = "friends"', /^account\[0\]\.accept_from$/],
    ['registrar not a SIP URI', ACCOUNT + 'registrar = "http://x"', /^account\[0\]\.registrar$/],
    ['password and password_file', ACCOUNT + 'password_file = "/x"', /^account\[0\]\.password_file$/],
    ['neither password nor file', '[[account]]\nuser = "1"\ndomain = "d.org"', /^account\[0\]\.password$/],
    ['account line without a [[line]]', ACCOUNT + 'line = 2', /^account\[0\]\.line$/],
    ['two accounts on one line', ACCOUNT + ACCOUNT, /^account\[1\]\.line$/],
    ['duplicate line ids', '[[line]]\nid = 1\n[[line]]\nid = 1', /^line\[1\]\.id$/],
    ['line id missing', '[[line]]\ncaller_id = "off"', /^line\[0\]\.id$/],
    ['dial plan unparseable', '[[line]]\nid = 0\ndial_plan = "(1x|[2-"', /^line\[0\]\.dial_plan$/],
    ['tone plan not in list', '[[line]]\nid = 0\ntone_plan = "mars"', /^line\[0\]\.tone_plan$/],
    ['tone override bad tone', '[[line]]\nid = 0\ntone_plan = { base = "de", busy = "425/x" }', /^line\[0\]\.tone_plan\.busy$/],
    ['tone override unknown key', '[[line]]\nid = 0\ntone_plan = { base = "de", hum = "50" }', /^line\[0\]\.tone_plan\.hum$/],
    ['caller_id', '[[line]]\nid = 0\ncaller_id = "fsk"', /^line\[0\]\.caller_id$/],
    ['speed dial code', '[[line]]\nid = 0\nspeed_dial = { "1a" = "sip:x@y" }', /^line\[0\]\.speed_dial\.1a$/],
    ['speed dial target', '[[line]]\nid = 0\nspeed_dial = { "11" = "tel:123" }', /^line\[0\]\.speed_dial\.11$/],
    ['hotline not a SIP URI', '[[line]]\nid = 0\nhotline = "200"', /^line\[0\]\.hotline$/],
    ['hotline delay without a hotline', '[[line]]\nid = 0\nhotline_delay_s = 5', /^line\[0\]\.hotline_delay_s$/],
    ['hotline delay too long', '[[line]]\nid = 0\nhotline = "sip:door@192.0.2.8"\nhotline_delay_s = 61', /^line\[0\]\.hotline_delay_s$/],
    ['ptime not multiple of 10', '[media]\nptime = 25', /^media\.ptime$/],
    ['ptime out of range', '[media]\nptime = 70', /^media\.ptime$/],
    ['rtp_ports odd start', '[media]\nrtp_ports = "10001-10999"', /^media\.rtp_ports$/],
    ['rtp_ports reversed', '[media]\nrtp_ports = "20000-10000"', /^media\.rtp_ports$/],
    ['rtp_ports syntax', '[media]\nrtp_ports = "10000"', /^media\.rtp_ports$/],
    ['jitter min > max', '[media]\njitter_ms = { min = 300, max = 100 }', /^media\.jitter_ms\.min$/],
    ['codec unknown', '[media]\ncodecs = ["G729"]', /^media\.codecs\[0\]$/],
    ['codecs empty', '[media]\ncodecs = []', /^media\.codecs$/],
    ['board type unknown', '[board]\ntype = "fxs9000"', /^board\.type$/],
    ['ag1171 pin beyond the header', '[board]\ntype = "ag1171"\nhook_pin = 60', /^board\.hook_pin$/],
    ['sim key on ag1171 board', '[board]\ntype = "ag1171"\nhook_pin = 1\nring_pins = [2, 3]\naudio_in = "x.wav"', /^board\.audio_in$/],
    ['serial-slic without port', '[board]\ntype = "serial-slic"', /^board\.port$/],
    ['log level', '[log]\nlevel = "loud"', /^log\.level$/],
    ['trace_auth not boolean', '[log]\ntrace_auth = "yes"', /^log\.trace_auth$/],
  ];
  for (const [name, toml, path] of cases) {
    test(name, () => {
      const r = loadConfigText(toml, '/tmp');
      expect(r.ok).toBe(false);
      expect(r.problems.map((p) => p.path)).toEqual(expect.arrayContaining([expect.stringMatching(path)]));
    });
  }

  test('an unknown key near a known one suggests it', () => {
    expect(problems('[sip]\nlisen = "0.0.0.0:5060"')[0].message).toContain('did you mean "listen"');
  });

  test('valid edge values pass: [::]:5060, port 0, ptime 60, jitter min = max', () => {
    const r = loadConfigText(
      '[sip]\nlisten = "[::]:5060"\n[api]\nlisten = "localhost:0"\n[media]\nptime = 60\njitter_ms = { min = 60, max = 60 }',
      '/tmp',
    );
    expect(r.problems).toEqual([]);
    expect(r.ok && r.config.sip.listen).toEqual({ host: '::', port: 5060 });
  });

  test('a tone override table keeps its base and overrides', () => {
    const r = loadConfigText('[[line]]\nid = 0\ntone_plan = { base = "de", busy = "425/480,0/480", ring = [1000, 4000] }', '/tmp');
    expect(r.ok && r.config.line[0].tone_plan).toEqual({ base: 'de', overrides: { busy: '425/480,0/480' }, ring: [1000, 4000] });
  });
});

describe('a file with many faults lists them all, in file order, with lines', () => {
  const bad = [
    '[sip]', //                                 1
    'lisen = "0.0.0.0:5060"', //                2
    'listen = "0.0.0.0:99999"', //              3
    '[[account]]', //                           4
    'line = 3', //                              5
    'user = "100"', //                          6
    'password = "x"', //                        7
    'password_file = "/nope"', //               8
    'domain = "sip.example.org"', //            9
    'expires = 10', //                          10
    '[[line]]', //                              11
    'id = 0', //                                12
    'dial_plan = "(*xx|[9-"', //                13
    '[media]', //                               14
    'ptime = 25', //                            15
    'rtp_ports = "10001-10000"', //             16
    '[board]', //                               17
    'type = "serial-slic"', //                  18
    '[log]', //                                 19
    'level = "loud"', //                        20
  ].join('\n');

  test('every fault is reported with its key path and line', () => {
    const got = problems(bad).map((p) => [p.path, p.line]);
    expect(got).toEqual([
      ['sip.lisen', 2],
      ['sip.listen', 3],
      ['account[0].line', 5],
      ['account[0].password_file', 8],
      ['account[0].expires', 10],
      ['line[0].dial_plan', 13],
      ['media.ptime', 15],
      ['media.rtp_ports', 16],
      ['board.port', 17],
      ['log.level', 20],
    ]);
  });
});

describe('the one-line account uri form', () => {
  test('expands into user, password, domain and registrar', () => {
    const r = loadConfigText('[[account]]\nuri = "sip:100:s%40cret@sip.example.org:5080"', '/tmp');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.account[0]).toMatchObject({
      user: '100', password: 's@cret', domain: 'sip.example.org', registrar: 'sip:sip.example.org:5080', auth_user: '100',
    });
  });

  test('a password holding an unescaped @ still splits at the last @', () => {
    const r = loadConfigText('[[account]]\nuri = "sip:100:a@b@10.0.0.1"', '/tmp');
    expect(r.ok && r.config.account[0]).toMatchObject({ password: 'a@b', domain: '10.0.0.1', registrar: 'sip:10.0.0.1' });
  });

  test('other keys (line, expires, outbound_proxy) go beside it', () => {
    const r = loadConfigText('[[line]]\nid = 1\n[[account]]\nuri = "sip:1:p@h.org"\nline = 1\nexpires = 600', '/tmp');
    expect(r.ok && r.config.account[0]).toMatchObject({ line: 1, expires: 600, user: '1' });
  });

  test('mixing uri with the keys it sets is refused, naming each key', () => {
    expect(paths('[[account]]\nuri = "sip:1:p@h.org"\nuser = "2"\npassword_file = "/x"')).toEqual(
      expect.arrayContaining(['account[0].user', 'account[0].password_file']),
    );
  });

  test.each([
    ['no password', 'sip:100@h.org'],
    ['no user part', 'sip:h.org'],
    ['wrong scheme', 'http://a:b@h.org'],
    ['bad port', 'sip:a:b@h.org:99999'],
    ['bad escape', 'sip:a%zz:b@h.org'],
  ])('a bad uri (%s) is a problem at account[0].uri', (_name, uri) => {
    const ps = problems(`[[account]]\nuri = "${uri}"`);
    expect(ps.map((p) => p.path)).toEqual(['account[0].uri']);
    expect(ps[0].line).toBe(2);
  });
});
