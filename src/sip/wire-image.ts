/**
 * The bytes a message was received as, kept beside the parsed message so that writing it back unchanged (a trace,
 * a retransmission, a relayed copy) costs a string slice instead of a rebuild.
 *
 * The parser only keeps an image when the bytes are exactly what serializeMessage would write for the parsed
 * message (canonical header names, one SP after each colon, CRLF line ends, no folding, a Content-Length that
 * matches a body ending at the last byte). The serializer uses it only while the message is unmodified: same start
 * line, the same header entries in the same order holding the same names and values, the same body. Anything else
 * takes the ordinary path, so both paths write the same bytes.
 *
 * The image sits in a private field of the message's class: it is invisible to deep equality, JSON, spreading and
 * structuredClone, and a copy made any of those ways is serialized the ordinary way.
 */
import type { CoreHeaders, HeaderEntry, SipMessage, SipRequest, SipResponse, Uri } from './message.js';
import { formatUri } from './uri.js';

export interface WireImage {
  /** The message from its start line to the end of its body. */
  text: string;
  /** The start line as parsed: method and Request-URI exactly as written for a request, status and reason for a response. */
  method: string;
  uriText: string;
  status: number;
  reason: string;
  /** For each header entry at parse time: the entry, its name, its value. */
  snapshot: Array<HeaderEntry | string>;
  body: string;
}

/** A snapshot of the header entries as the parser left them. */
export function snapshotHeaders(headers: HeaderEntry[]): Array<HeaderEntry | string> {
  const n = headers.length;
  const snap = new Array<HeaderEntry | string>(3 * n);
  for (let k = 0; k < n; k++) {
    const h = headers[k];
    snap[3 * k] = h;
    snap[3 * k + 1] = h.name;
    snap[3 * k + 2] = h.value;
  }
  return snap;
}

function headersUnchanged(headers: HeaderEntry[], snap: Array<HeaderEntry | string>): boolean {
  if (3 * headers.length !== snap.length) return false;
  for (let k = 0; k < headers.length; k++) {
    const h = headers[k];
    if (h !== snap[3 * k] || h.name !== snap[3 * k + 1] || h.value !== snap[3 * k + 2]) return false;
  }
  return true;
}

/** The text a received message came as, while it is unchanged and that text is what the serializer would write. */
export function unchangedReceivedText(msg: SipMessage): string | undefined {
  return msg.type === 'request' ? ReceivedRequest.unchangedText(msg, formatUri(msg.uri)) : ReceivedResponse.unchangedText(msg);
}

/** The image's text if headers and body are still as parsed (the caller has compared the start line). */
function textIfUnchanged(w: WireImage, msg: SipMessage): string | undefined {
  return msg.body === w.body && headersUnchanged(msg.headers, w.snapshot) ? w.text : undefined;
}

export class ReceivedRequest implements SipRequest {
  type = 'request' as const;
  readonly #wire: WireImage | undefined;

  constructor(
    public method: string,
    public uri: Uri,
    public headers: HeaderEntry[],
    public parsed: CoreHeaders,
    public body: string,
    wire: WireImage | undefined,
  ) {
    this.#wire = wire;
  }

  /** The received text when `msg` is a received request still as it came; `formattedUri` is formatUri(msg.uri). */
  static unchangedText(msg: SipRequest, formattedUri: string): string | undefined {
    const w = #wire in msg ? msg.#wire : undefined;
    return w !== undefined && msg.method === w.method && formattedUri === w.uriText ? textIfUnchanged(w, msg) : undefined;
  }
}

export class ReceivedResponse implements SipResponse {
  type = 'response' as const;
  readonly #wire: WireImage | undefined;

  constructor(
    public status: number,
    public reason: string,
    public headers: HeaderEntry[],
    public parsed: CoreHeaders,
    public body: string,
    wire: WireImage | undefined,
  ) {
    this.#wire = wire;
  }

  /** The received text when `msg` is a received response still as it came. */
  static unchangedText(msg: SipResponse): string | undefined {
    const w = #wire in msg ? msg.#wire : undefined;
    return w !== undefined && msg.status === w.status && msg.reason === w.reason ? textIfUnchanged(w, msg) : undefined;
  }
}
