/**
 * `pi-ata/sip`: the SIP stack as a library. The message model, parser and serializer; URIs and header values;
 * transports, transactions, digest authentication, registration, dialogs, SDP offer/answer and INVITE sessions.
 * No audio, no hardware.
 */
export * from './message.js';
export * from './parser.js';
export * from './serializer.js';
export * from './uri.js';
export * from './header-values.js';
export * from './stream-framer.js';
export * from './transport.js';
export { UdpTransport } from './udp-transport.js';
export { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';
export * from './transport-layer.js';
export * from './transaction-layer.js';
export * from './transaction-error.js';
export * from './timers.js';
export * from './client-transaction.js';
export * from './server-transaction.js';
export * from './challenge.js';
export * from './digest.js';
export * from './registration.js';
export * from './registration-policy.js';
export * from './registration-sender.js';
export * from './keepalive.js';
export * from './ua-core.js';
export * from './nat.js';
export * from './dialog.js';
export * from './sdp.js';
export * from './invite-session.js';
export * from './dtmf-info.js';
