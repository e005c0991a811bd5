/**
 * RFC 4475 torture messages fired over UDP at a running agent (`ata run`, a real child process): each gets the
 * answer MANIFEST.tsv names, and the agent keeps running and answering throughout.
 *
 * Responses to a UDP request go to the request's source IP (received) and the port in its top Via, which for these
 * messages is 5060: the test listens on 127.0.0.1:5060 to hear them, and runs the agent on another port. To know
 * when the agent is done with a message without sleeping, every message is followed by an OPTIONS probe: the
 * agent handles datagrams in order, so whatever it answers to the message arrives before the probe's 200.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../support/kamailio.js';
import { AgentProcess, REPO } from '../support/agent-process.js';

const DIR = join(REPO, 'test/fixtures/rfc4475');
interface Row {
  section: string;
  file: string;
  kind: 'request' | 'response';
  verdict: string;
  reply: string;
}
const rows: Row[] = readFileSync(join(DIR, 'MANIFEST.tsv'), 'latin1')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'))
  .map((l) => {
    const [section, file, kind, verdict, reply] = l.split('\t');
    return { section, file, kind: kind as Row['kind'], verdict, reply: reply.trim() };
  });

function callIdOf(text: string): string | undefined {
  const m = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(text);
  return m?.[1];
}
function statusOf(text: string): number | undefined {
  const m = /^SIP\/2\.0 (\d{3}) /.exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('RFC 4475 over UDP through a running agent (ata run)', () => {
  let agent: AgentProcess;
  let sock: Socket;
  let agentPort: number;
  let apiPort: number;
  const inbox: string[] = [];
  let notify: (() => void) | undefined;

  beforeAll(async () => {
    agentPort = await freeUdpPort();
    apiPort = await freeUdpPort();
    agent = new AgentProcess(`
[sip]
listen = "127.0.0.1:${agentPort}"
keepalive = "off"
[[line]]
id = 0
[board]
type = "sim"
[api]
listen = "127.0.0.1:${apiPort}"
[log]
level = "info"
`);
    sock = createSocket('udp4');
    await new Promise<void>((res, rej) => {
      sock.once('error', (e) => rej(new Error(`this test needs 127.0.0.1:5060 free to hear replies routed by Via: ${e.message}`)));
      sock.bind(5060, '127.0.0.1', () => res());
    });
    sock.on('message', (m) => {
      inbox.push(m.toString('latin1'));
      notify?.();
    });
    agent.start();
    await agent.waitForLog((l) => l.msg === 'agent running');
  });

  afterAll(async () => {
    sock?.close();
    expect(await agent.terminate()).toBe(0);
  });

  let probeCount = 0;
  /** Sends `data`, then a probe; resolves with every final response that arrived before the probe's answer. */
  async function exchange(data: Buffer): Promise<string[]> {
    const probeId = `probe-${++probeCount}@torture`;
    const probe =
      `OPTIONS sip:ata@127.0.0.1:${agentPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKprobe${probeCount}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=p${probeCount}\r\nTo: <sip:ata@127.0.0.1>\r\nCall-ID: ${probeId}\r\n` +
      `CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    const start = inbox.length;
    sock.send(data, agentPort, '127.0.0.1');
    sock.send(Buffer.from(probe, 'latin1'), agentPort, '127.0.0.1');
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('the agent did not answer the probe: is it still running?')), 5000);
      const check = (): void => {
        if (inbox.slice(start).some((m) => callIdOf(m) === probeId)) {
          clearTimeout(timer);
          notify = undefined;
          res();
        }
      };
      notify = check;
      check();
    });
    const idx = inbox.findIndex((m, i) => i >= start && callIdOf(m) === probeId);
    return inbox.slice(start, idx).filter((m) => (statusOf(m) ?? 0) >= 200);
  }

  for (const row of rows) {
    it(`${row.section} ${row.file}: ${row.kind} answered ${row.reply}`, async () => {
      const data = readFileSync(join(DIR, row.file));
      const cid = callIdOf(data.toString('latin1'));
      // Only this message's answers: retransmissions of earlier answers carry other Call-IDs.
      const answers = (await exchange(data)).filter((m) => cid === undefined || callIdOf(m) === cid);
      const codes = answers.map((m) => statusOf(m));
      if (row.reply === 'drop') expect(codes).toEqual([]);
      else if (row.reply === 'any') expect(codes.length, 'a final response').toBeGreaterThanOrEqual(1);
      else expect(codes[0]).toBe(Number(row.reply));
      expect(agent.running).toBe(true);
    });
  }

  it('is still running and answering its API after all of them', async () => {
    expect(agent.running).toBe(true);
    const res = await fetch(`http://127.0.0.1:${apiPort}/api/status`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { lines: unknown[] }).lines).toHaveLength(1);
  });
});
