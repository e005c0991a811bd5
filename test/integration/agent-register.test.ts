/**
 * `ata run` (a real child process) against a real Kamailio registrar with a digest user (qop=auth), as a new user
 * would run it: it registers within a second of starting, is still registered after several refresh periods, shows
 * it in `GET /api/status`, and on SIGTERM unregisters (the binding is gone) and exits 0 within 5 s.
 * Kamailio grants at most 10 s here (registrar max_expires), so three refreshes take about half a minute of real
 * time: the registrar's clock is real, so this test is too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, type LogLine } from '../support/agent-process.js';
import { Kamailio, freeUdpPort } from '../support/kamailio.js';

const isRegistered = (l: LogLine): boolean => l.msg === 'registration' && l.registered === true && l.state === 'registered';

describe('ata run registers with a real Kamailio and unregisters on SIGTERM', () => {
  const kam = new Kamailio({ users: { '100': 'secret' }, maxExpires: 10 });
  let agent: AgentProcess;
  let apiPort: number;

  beforeAll(async () => {
    await kam.start();
    const sipPort = await freeUdpPort();
    apiPort = await freeUdpPort();
    agent = new AgentProcess(`
[sip]
listen = "127.0.0.1:${sipPort}"
keepalive = "crlf"
keepalive_s = 5

[[account]]
line = 0
uri = "sip:100:secret@127.0.0.1:${kam.port}"
expires = 60

[[line]]
id = 0

[board]
type = "sim"

[api]
listen = "127.0.0.1:${apiPort}"
`);
  });

  afterAll(async () => {
    agent?.kill();
    await kam.dispose();
  });

  it('registers within a second of starting', async () => {
    agent.start();
    const running = await agent.waitForLog((l) => l.msg === 'agent running');
    const registered = await agent.waitForLog(isRegistered, 5000);
    expect(Date.parse(String(registered.time)) - Date.parse(String(running.time))).toBeLessThan(1000);
    expect(await kam.contacts('100')).toHaveLength(1);
  });

  it('is still registered after three refresh periods (the registrar grants 10 s)', async () => {
    // The first registration and three refreshes, each answered 200.
    await agent.waitForLog((l) => isRegistered(l) && agent.lines.filter(isRegistered).length >= 4, 45_000);
    expect(await kam.contacts('100')).toHaveLength(1);
    const status = (await (await fetch(`http://127.0.0.1:${apiPort}/api/status`)).json()) as {
      accounts: Array<{ aor: string; registered: boolean; expires_in: number; last_error: string | null }>;
    };
    expect(status.accounts).toEqual([expect.objectContaining({ aor: 'sip:100@127.0.0.1', registered: true, last_error: null })]);
    expect(status.accounts[0].expires_in).toBeLessThanOrEqual(10);
  });

  it('unregisters on SIGTERM and exits 0 within 5 s', async () => {
    const t0 = Date.now();
    const code = await agent.terminate();
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await kam.contacts('100')).toEqual([]);
  });
});
