/**
 * A RequestSender (the Registration's seam) over a real UDP socket, for the Kamailio test until the transaction
 * layer and UDP transport are committed: it adds the top Via with branch and ;rport, sends with the non-INVITE
 * retransmission schedule (RFC 3261 sec. 17.1.2.2: T1 doubling to T2, give up at 64*T1), matches answers by branch,
 * and counts what it sent. Real parser and serializer, real sockets, real time.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { parseMessage } from '../../src/sip/parser.js';
import { buildRequest, serializeMessage } from '../../src/sip/serializer.js';
import type { SipResponse } from '../../src/sip/message.js';
import type { OutgoingRequest, RequestSender, ResponseHandlers } from '../../src/sip/registration.js';

const T1 = 500;
const T2 = 4000;

interface Pending {
  handlers: ResponseHandlers;
  timers: NodeJS.Timeout[];
}

export class UdpRequestSender implements RequestSender {
  private socket: Socket | undefined;
  private readonly pending = new Map<string, Pending>();
  port = 0;
  sent: OutgoingRequest[] = [];
  responses: SipResponse[] = [];

  constructor(private readonly dest: () => { host: string; port: number }) {}

  async open(): Promise<void> {
    const s = createSocket('udp4');
    this.socket = s;
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    this.port = s.address().port;
    s.on('message', (data) => {
      let msg;
      try {
        msg = parseMessage(data);
      } catch {
        return;
      }
      if (msg.type !== 'response') return;
      const branch = msg.parsed.via[0]?.params.get('branch');
      const p = branch ? this.pending.get(branch) : undefined;
      if (!p) return;
      if (msg.status < 200) return p.handlers.onProvisional?.(msg);
      this.finish(branch!);
      this.responses.push(msg);
      p.handlers.onFinal(msg);
    });
  }

  send(req: OutgoingRequest, handlers: ResponseHandlers): void {
    const branch = 'z9hG4bK' + randomBytes(8).toString('hex');
    const request = buildRequest({
      method: req.method,
      uri: req.uri,
      headers: [['Via', `SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch};rport`], ...req.headers],
      body: req.body ?? '',
    });
    const bytes = Buffer.from(serializeMessage(request), 'latin1');
    const p: Pending = { handlers, timers: [] };
    this.pending.set(branch, p);
    this.sent.push(req);
    const { host, port } = this.dest();
    const fire = (): void => this.socket?.send(bytes, port, host, (err) => {
      if (err && this.pending.has(branch)) {
        this.finish(branch);
        handlers.onError(err);
      }
    });
    fire();
    let at = 0;
    for (let gap = T1; at + gap < 64 * T1; gap = Math.min(gap * 2, T2)) {
      at += gap;
      p.timers.push(setTimeout(fire, at));
    }
    p.timers.push(
      setTimeout(() => {
        if (!this.pending.has(branch)) return;
        this.finish(branch);
        handlers.onError(new Error('Timer F: no final response'));
      }, 64 * T1),
    );
  }

  private finish(branch: string): void {
    const p = this.pending.get(branch);
    if (!p) return;
    for (const t of p.timers) clearTimeout(t);
    this.pending.delete(branch);
  }

  close(): void {
    for (const b of [...this.pending.keys()]) this.finish(b);
    this.socket?.close();
    this.socket = undefined;
  }
}
