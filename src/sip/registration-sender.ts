/**
 * Joins the Registration's RequestSender seam to the transaction layer: builds the REGISTER with the serializer
 * and hands it to `sendRequest`, which replaces the placeholder Via with its own (branch, ;rport) and routes by the
 * top Route (our outbound proxy) or the Request-URI. Typed structurally so this file does not pin the layer's class.
 */
import type { SipRequest, SipResponse } from './message.js';
import { buildRequest } from './serializer.js';
import type { OutgoingRequest, RequestSender, ResponseHandlers } from './registration.js';

export interface TransactionSender {
  sendRequest(
    request: SipRequest,
    target: undefined,
    handlers: { onProvisional?(res: SipResponse): void; onFinal(res: SipResponse): void; onError(err: Error): void },
  ): unknown;
}

/** The layer overwrites this Via; buildRequest only needs one to be there. */
const PLACEHOLDER_VIA = 'SIP/2.0/UDP invalid;branch=z9hG4bKplaceholder';

export class TransactionRequestSender implements RequestSender {
  constructor(private readonly layer: TransactionSender) {}

  send(req: OutgoingRequest, handlers: ResponseHandlers): void {
    let request: SipRequest;
    try {
      request = buildRequest({ method: req.method, uri: req.uri, headers: [['Via', PLACEHOLDER_VIA], ...req.headers], body: req.body ?? '' });
    } catch (err) {
      // A config value that does not make a valid request (e.g. a bad registrar URI) fails this attempt, not the agent.
      queueMicrotask(() => handlers.onError(err instanceof Error ? err : new Error(String(err))));
      return;
    }
    this.layer.sendRequest(request, undefined, handlers);
  }
}
