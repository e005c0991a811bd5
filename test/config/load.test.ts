import { chmodSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig, loadConfigBytes, loadConfigText, MAX_CONFIG_BYTES } from '../../src/config/load.js';
import { rmSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'ata-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

describe('the shipped configs', () => {
  test('config/ata.example.toml validates with no problems', () => {
    const r = loadConfig('config/ata.example.toml');
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
  });

  test('config/default.toml validates: sim board, no accounts, SIP and API on loopback', () => {
    const r = loadConfig('config/default.toml');
    expect(r.problems).toEqual([]);
    if (!r.ok) throw new Error('default config invalid');
    expect(r.config.board.type).toBe('sim');
    expect(r.config.account).toEqual([]);
    expect(r.config.sip.listen).toEqual({ host: '127.0.0.1', port: 5060 });
    expect(r.config.api.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    // run_dir "." is the working directory, and audio_out resolves against it.
    expect(r.config.board.type === 'sim' && r.config.board.audio_out).toBe(resolve('phone-ear.wav'));
    expect(r.config.source).toBe(resolve('config/default.toml'));
  });
});

describe('TOML syntax errors', () => {
  test('carry the line and column of smol-toml', () => {
    const r = loadConfigText('[sip]\nlisten = "0.0.0.0:5060"\ntransports = ["udp",\n user_agent = "x', '/tmp');
    expect(r.ok).toBe(false);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ path: '', line: 4 });
    expect(r.problems[0].message).toMatch(/^TOML syntax: .*\(column \d+\)$/);
  });

  test('a duplicate key is a syntax error at its line', () => {
    const r = loadConfigText('[media]\nptime = 20\nptime = 30', '/tmp');
    expect(r.ok).toBe(false);
    expect(r.problems[0].line).toBe(3);
  });
});

describe('hostile files are refused cleanly', () => {
  test('a 10 MB file', () => {
    const p = file('huge.toml', Buffer.alloc(10 * 1024 * 1024, 0x23)); // all '#': a valid comment, just too big
    const r = loadConfig(p);
    expect(r.ok).toBe(false);
    expect(r.problems[0].message).toContain(`limit is ${MAX_CONFIG_BYTES}`);
  });

  test('a device that never ends (/dev/zero) is read only up to the limit', () => {
    const r = loadConfig('/dev/zero');
    expect(r.ok).toBe(false);
    expect(r.problems[0].message).toMatch(/larger than the limit/);
  });

  test('binary junk', () => {
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff));
    const r = loadConfigBytes(junk, dir);
    expect(r.ok).toBe(false);
    expect(r.problems[0].message).toMatch(/binary|UTF-8/);
  });

  test('invalid UTF-8 without NUL bytes', () => {
    const r = loadConfigBytes(Buffer.from([0x61, 0x20, 0x3d, 0x20, 0x22, 0xc3, 0x28, 0x22]), dir);
    expect(r.problems[0].message).toContain('UTF-8');
  });

  test('deep nesting of arrays and inline tables', () => {
    for (const text of ['a = ' + '['.repeat(5000) + ']'.repeat(5000), 'a = ' + '{b='.repeat(5000) + '1' + '}'.repeat(5000)]) {
      const r = loadConfigText(text, dir);
      expect(r.ok).toBe(false);
      expect(r.problems[0].message).toMatch(/nested/);
    }
  });

  test('deep dotted keys are unknown keys, not a crash', () => {
    const r = loadConfigText('a' + '.b'.repeat(500) + ' = 1', dir);
    expect(r.ok).toBe(false);
  });

  test('a missing file and a directory', () => {
    expect(loadConfig(join(dir, 'nope.toml')).problems[0].message).toContain('ENOENT');
    expect(loadConfig(dir).problems[0].message).toContain('is a directory');
  });

  test('random text never throws and always answers', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const r = loadConfigText(s, dir);
        return r.ok || r.problems.length > 0;
      }),
      { numRuns: 500 },
    );
  });

  test('random documents built from real keys never throw', () => {
    const key = fc.constantFrom('sip', 'account', 'line', 'media', 'board', 'api', 'log', 'listen', 'id', 'type', 'uri');
    const value = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }));
    fc.assert(
      fc.property(fc.dictionary(key, fc.oneof(value, fc.dictionary(key, value), fc.array(fc.dictionary(key, value), { maxLength: 3 }))), (doc) => {
        const r = loadConfigText(Object.entries(doc).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n'), dir);
        return r.ok || r.problems.length > 0;
      }),
      { numRuns: 300 },
    );
  });
});

describe('password_file', () => {
  const account = (pwFile: string) => `[[account]]\nuser = "100"\ndomain = "sip.example.org"\npassword_file = "${pwFile}"\n`;

  test('is read relative to the config file, final newline dropped', () => {
    mkdirSync(join(dir, 'etc'), { recursive: true });
    file('etc/line0.secret', 'hunter2\n');
    const cfg = file('etc/ata.toml', account('line0.secret'));
    const r = loadConfig(cfg);
    expect(r.problems).toEqual([]);
    expect(r.ok && r.config.account[0]).toMatchObject({ password: 'hunter2', password_file: join(dir, 'etc/line0.secret') });
  });

  test('a world-readable file is a warning, and the config still loads', () => {
    file('open.secret', 'pw', 0o644);
    const r = loadConfig(file('open.toml', account('open.secret')));
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([expect.objectContaining({ path: 'account[0].password_file', severity: 'warning', line: 4 })]);
    expect(r.problems[0].message).toContain('world-readable');
  });

  test('a missing file is an error at its key and line', () => {
    const r = loadConfig(file('missing.toml', account('nope.secret')));
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ path: 'account[0].password_file', line: 4 })]);
    expect(r.problems[0].message).toContain('ENOENT');
  });

  test('an empty or multi-line file is an error', () => {
    file('empty.secret', '\n');
    file('multi.secret', 'a\nb\n');
    expect(loadConfig(file('e.toml', account('empty.secret'))).problems[0].message).toContain('empty');
    expect(loadConfig(file('m.toml', account('multi.secret'))).problems[0].message).toContain('several lines');
  });
});

describe('paths relative to the config file', () => {
  test('sim audio files resolve against the config directory, or run_dir when set', () => {
    file('mic.wav', 'RIFF');
    const a = loadConfig(file('sim.toml', '[board]\ntype = "sim"\naudio_in = "mic.wav"\naudio_out = "ear.wav"'));
    expect(a.ok && a.config.board).toEqual({ type: 'sim', lines: 1, audio_in: join(dir, 'mic.wav'), audio_out: join(dir, 'ear.wav') });
    const b = loadConfig(file('sim2.toml', `[board]\ntype = "sim"\nrun_dir = "${dir}/run"\naudio_out = "ear.wav"`));
    expect(b.ok && b.config.board).toMatchObject({ audio_out: join(dir, 'run/ear.wav') });
  });

  test('an unreadable audio_in is a problem', () => {
    const r = loadConfig(file('sim3.toml', '[board]\ntype = "sim"\naudio_in = "none.wav"'));
    expect(r.problems).toEqual([expect.objectContaining({ path: 'board.audio_in', line: 3 })]);
  });

  test('log.sip_trace resolves against the config directory', () => {
    const r = loadConfig(file('trace.toml', '[log]\nsip_trace = "sip.log"'));
    expect(r.ok && r.config.log.sip_trace).toBe(join(dir, 'sip.log'));
  });
});

describe('prototype keys', () => {
  test('__proto__ and constructor are unknown keys, and nothing is polluted', () => {
    const r = loadConfigText('__proto__ = { polluted = 1 }\n[constructor]\nx = 1\n[sip]\n"__proto__" = 2', dir);
    expect(r.ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(r.problems.map((p) => p.path)).toEqual(['__proto__', 'constructor', 'sip.__proto__']);
  });
});
