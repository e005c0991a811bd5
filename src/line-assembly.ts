/**
 * Builds one line of the agent from its `[[line]]` config and the board's hardware: the hook detector on the
 * line's raw edges, the tone plan, the ring cadence, the caller-ID signal, and the FXS port that joins them to the
 * line controller. Choices where the config is silent, as a commercial adapter makes them:
 * - European tone plans (uk, de, fr, nl, it) use the European 70-125 ms flash window, the others 100-900 ms, unless
 *   `hook_flash` names one.
 * - Bell 202 caller ID is sent as MDMF (date, number, name) after the first ring; V.23 and DTMF caller ID are sent
 *   before the first ring after a polarity reversal (ETSI), V.23 with the dual-tone alert.
 */
import type { AudioPort } from '../hal/audio-port.js';
import type { Clock } from '../hal/clock.js';
import type { Line } from '../hal/line.js';
import type { CallLog } from './call-log.js';
import type { LineConfig } from './config/schema.js';
import type { Logger } from './log.js';
import { callerIdSignal, etsiAlertSignal } from './media/caller-id.js';
import { chooseRing, distinctiveRingFromAlertInfo } from './media/ring-cadence.js';
import { tonePlan, type ToneName } from './media/tone-plan.js';
import { FxsPort, type CallSide, type CallerIdSignal } from './phone/fxs-port.js';
import { HookDetector } from './phone/hook-detector.js';
import type { IncomingCall } from './phone/line-seams.js';
import type { CallerIdTiming } from './phone/ringer.js';

const EUROPEAN_FLASH = new Set(['uk', 'de', 'fr', 'nl', 'it']);

/** Config tone names (snake_case, user contract) to the tone plan's names. */
const TONE_KEYS: Record<string, ToneName> = { dial: 'dial', ringback: 'ringback', busy: 'busy', congestion: 'congestion', call_waiting: 'callWaiting', stutter: 'stutterDial', off_hook_warning: 'offHookWarning' };

export interface LineDeps {
  clock: Clock;
  log: Logger;
  calls: CallLog;
  /** The network side; absent until a call layer exists, in which case calls fail with congestion. */
  callSide?: CallSide;
}

export function buildFxsPort(cfg: LineConfig, hw: { line: Line; audio: AudioPort }, deps: LineDeps): { port: FxsPort; detector: HookDetector } {
  const country = cfg.tone_plan.base;
  const overrides: Partial<Record<ToneName, string>> = {};
  for (const [k, v] of Object.entries(cfg.tone_plan.overrides)) if (v !== undefined && TONE_KEYS[k]) overrides[TONE_KEYS[k]] = v;
  const plan = tonePlan(country, overrides);
  const timing: CallerIdTiming = cfg.caller_id === 'off' ? 'off' : cfg.caller_id === 'bell202' ? 'bell' : 'etsi';

  const callSide: CallSide = deps.callSide ?? {
    placeCall: (port, target) => {
      deps.log.warn({ target: target.uri ?? target.digits }, 'outgoing calls are not supported by this version yet');
      port.controller.callFailed('congestion');
    },
    answerCall: () => deps.log.info('answered (test ring: no far end)'),
    hangUp: () => undefined,
    swapCalls: () => undefined,
    consult: () => undefined,
    endConsultation: () => undefined,
    conference: () => undefined,
    endConference: () => undefined,
    transferCalls: (port) => void port.controller.transferDone('refused'),
  };

  const port = new FxsPort({
    id: cfg.id,
    line: hw.line,
    audio: hw.audio,
    clock: deps.clock,
    dialPlan: cfg.dial_plan,
    speedDial: cfg.speed_dial,
    transfer: cfg.transfer,
    ...(cfg.hotline ? { hotline: { uri: cfg.hotline, delayMs: cfg.hotline_delay_s * 1000 } } : {}),
    tonePlan: plan,
    ringCadence: (call: IncomingCall) => {
      if (!distinctiveRingFromAlertInfo(call.alertInfo) && cfg.tone_plan.ring) return cfg.tone_plan.ring;
      return chooseRing(country, call.alertInfo).cadence;
    },
    callerIdTiming: timing,
    callerId: (call: IncomingCall): CallerIdSignal | null => {
      if (cfg.caller_id === 'off') return null;
      const clip = callerIdSignal({
        ...(call.number !== undefined ? { number: call.number } : {}),
        ...(call.name !== undefined ? { name: call.name } : {}),
        ...(call.withheld ? { reason: call.withheld } : {}),
        date: deps.clock.wallTime(),
        format: 'mdmf',
        modem: cfg.caller_id,
      });
      return { clip, alert: cfg.caller_id === 'v23' ? etsiAlertSignal() : null };
    },
    calls: callSide,
    callWaiting: cfg.call_waiting,
    onStateChange: (p, from, to) => deps.log.info({ from, to, digits: p.controller.digits || undefined }, 'line state'),
    onCall: (_p, event, call, cause) => deps.calls.callEvent(event, call, cause),
    onDigit: (_p, digit, how) => deps.log.info({ digit, how }, 'digit'),
  });

  const detector = new HookDetector(deps.clock, {
    preset: cfg.hook_flash ?? (EUROPEAN_FLASH.has(country) ? 'eu' : 'na'),
    pulseMap: cfg.pulse_map,
    debounceMs: cfg.debounce_ms,
  });
  hw.line.onHookEdge((offHook, atMs) => detector.edge(offHook, atMs));
  detector.onEvent((e) => port.hookEvent(e));
  return { port, detector };
}
