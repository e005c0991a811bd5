/**
 * The running adapter: config -> board -> lines -> SIP stack, and the control surface the CLI and the HTTP API use.
 * `ata run` (src/cli.ts) loads and validates the config, builds the logger and the SIP trace, calls `startAgent`,
 * and opens the API on `agent.control`.
 */
import { dirname } from 'node:path';
import { systemClock, type Clock, type Random } from '../hal/clock.js';
import { mediaIo, mediaIoMissing } from '../hal/media-io.js';
import { describeWakeupSlice, setWakeupSlice } from '../hal/wakeup-slice.js';
import { nativeBinder } from './media/rtp-port-pair.js';
import { createBoard, type Board } from '../board/index.js';
import {
  BadRequestError,
  NoSuchLineError,
  NotSupportedError,
  type AgentControl,
  type AgentOptions,
  type CallRecord,
  type DialMethod,
  type HookAction,
  type RunningAgent,
  type StatusJson,
  type TestRing,
} from './agent-contract.js';
import type { AtaConfig, LineConfig } from './config/schema.js';
import type { Logger } from './log.js';
import { CallLayer as LineCallLayer } from './call/call-layer.js';
import { CallLog, callQualityJson } from './call-log.js';
import { buildFxsPort } from './line-assembly.js';
import { generateDtmf } from './media/dtmf-generator.js';
import { packageVersion } from './package-info.js';
import type { FxsPort } from './phone/fxs-port.js';
import type { HookDetector } from './phone/hook-detector.js';
import { SipStack } from './sip-stack.js';

export interface AgentDeps extends AgentOptions {
  /** Injected for tests; the service runs on the system clock. */
  clock?: Clock;
  random?: Random;
}

const DIGITS = /^[0-9*#A-Da-d]{1,32}$/;

export async function startAgent(config: AtaConfig, deps: AgentDeps): Promise<RunningAgent & { board: Board }> {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const log = deps.log.child({ component: 'agent' });
  const startedAt = clock.now();
  const baseDir = config.source ? dirname(config.source) : process.cwd();
  const boardCfg = config.board as unknown as { type: string; run_dir?: string; [k: string]: unknown };
  const board: Board = await createBoard(boardCfg, {
    clock,
    log: deps.log.child({ component: 'board' }),
    baseDir: boardCfg.type === 'sim' && boardCfg.run_dir !== undefined ? boardCfg.run_dir : baseDir,
  });
  const calls = new CallLog(clock, 100);
  const ports: FxsPort[] = [];
  const detectors: HookDetector[] = [];
  let sip: SipStack | undefined;
  // Calls join the lines (built first, they need a call side) to the SIP stack (opened after the lines).
  // Call media reads its sockets once per frame on hal/media-io when it is built (hal/native-udp-socket.ts): no
  // wake-up and no garbage per packet. Its arrival times are on the system's monotonic clock, so only with that clock.
  const bind = mediaIo && clock === systemClock ? nativeBinder(mediaIo, clock) : undefined;
  // This thread runs the packet clock (the sim board's FrameClock, or the sound card's capture pipe) and the sends it
  // paces: a short scheduler slice lets it run when its timer fires though other processes hold the cores.
  const slice = clock === systemClock ? describeWakeupSlice(setWakeupSlice()) : 'not asked (not on the system clock)';
  const callLayer = new LineCallLayer({ clock, random, log: deps.log, media: config.media, userAgent: config.sip.user_agent, bind });
  try {
    for (const lineCfg of config.line) {
      const hw = board.lines[lineCfg.id];
      if (!hw) throw new NotSupportedError('line', `[[line]] id ${lineCfg.id}: the ${board.type} board has lines 0-${board.lines.length - 1}`);
      const { port, detector } = buildFxsPort(lineCfg, hw, { clock, log: deps.log.child({ component: 'phone', line: lineCfg.id }), calls, callSide: callLayer });
      callLayer.addLine(port);
      ports.push(port);
      detectors.push(detector);
    }
    for (const hw of board.lines) await hw.audio.start();
    sip = await SipStack.open({ config, clock, random, log: deps.log, trace: deps.trace });
    callLayer.attach(sip);
    sip.setCallLayer(callLayer);
    sip.start();
  } catch (err) {
    for (const d of detectors) d.close();
    await board.close().catch(() => undefined);
    throw err;
  }
  const stack = sip;
  log.info(
    { board: board.type, lines: ports.length, sip: `${stack.local.host}:${stack.local.port}`, accounts: stack.accounts.map((a) => a.aor), media_sockets: bind ? 'native' : `node:dgram (${mediaIoMissing ?? 'not on the system clock'})`, packet_clock_slice: slice },
    'agent running',
  );

  const portOf = (id: number): FxsPort => {
    const p = ports.find((x) => x.id === id);
    if (!p) throw new NoSuchLineError(id);
    return p;
  };
  const simPhone = (id: number, what: string) => {
    portOf(id);
    if (!board.sim) throw new NotSupportedError(what, `the ${board.type} board has a real phone; only the sim board can be driven`);
    return board.sim.phone(id);
  };

  const control: AgentControl = {
    status(): StatusJson {
      const now = clock.now();
      return {
        version: packageVersion(),
        uptime_s: Math.floor((now - startedAt) / 1000),
        accounts: stack.accountStatus().map(({ line, aor, status }) => ({
          line,
          aor,
          registered: status.registered,
          state: status.state,
          expires_in: status.registered ? status.expiresIn : null,
          last_error: status.lastError,
        })),
        lines: ports.map((p) => {
          const c = p.controller;
          return {
            id: p.id,
            hook: c.hook,
            state: c.state,
            digits: c.digits,
            call: c.call
              ? {
                  direction: c.call.direction,
                  remote: c.call.remote,
                  codec: c.call.codec ?? '',
                  duration_s: c.call.answeredAt === null ? 0 : Math.floor((now - c.call.answeredAt) / 1000),
                  quality: callQualityJson(c.call.media?.quality()),
                }
              : null,
            other_call: c.other ? { state: c.other.kind, direction: c.other.call.direction, remote: c.other.call.remote } : null,
            message_waiting: c.messageWaiting,
            voice_messages: c.voiceMessages,
          };
        }),
      };
    },
    calls(): CallRecord[] {
      return calls.recent();
    },
    sipTrace(limit?: number): string {
      const t = deps.trace as { render?: (n?: number) => string };
      return t.render ? t.render(limit) : '';
    },
    hook(line: number, state: HookAction): void {
      const phone = simPhone(line, 'hook');
      if (state === 'flash') {
        if (!phone.offHook) throw new BadRequestError('cannot flash: the phone is on hook', 'state');
        void phone.flash();
        return;
      }
      phone.setHook(state === 'off');
    },
    dial(line: number, digits: string, method: DialMethod): void {
      const phone = simPhone(line, 'dial');
      if (!DIGITS.test(digits)) throw new BadRequestError('digits must be 1-32 of 0-9 * # A-D', 'digits');
      if (!phone.offHook) throw new BadRequestError('the phone is on hook: lift it first', 'digits');
      if (method === 'pulse') {
        if (!/^[0-9]+$/.test(digits)) throw new BadRequestError('a rotary dial has only 0-9', 'digits');
        void phone.pulseDial(digits);
      } else {
        // Real tones into the mouthpiece, so the real DTMF detector does the recognising.
        phone.injectMouthpiece(generateDtmf(digits, { onMs: 100, offMs: 100 }));
      }
    },
    ring(line: number, call: TestRing): void {
      simPhone(line, 'ring');
      const p = portOf(line);
      const incoming = { remote: call.number ? `tel:${call.number}` : 'test', ...(call.number ? { number: call.number } : {}), ...(call.name ? { name: call.name } : {}), ...(call.withheld ? { withheld: call.withheld } : {}), ...(call.alert_info ? { alertInfo: call.alert_info } : {}) };
      if (!p.controller.incomingCall(incoming)) {
        throw new BadRequestError(`line ${line} is busy (${p.controller.state}, hook ${p.controller.hook})`, 'line');
      }
    },
  };

  let stopped: Promise<void> | undefined;
  return {
    control,
    board,
    stop(reason: string): Promise<void> {
      stopped ??= (async () => {
        log.info({ reason }, 'agent stopping');
        callLayer.endSecondCalls();
        for (const p of ports) if (p.controller.state !== 'idle') p.controller.onHook();
        // INTERFACES.md: SIGTERM ends calls with BYE; give the far ends a moment to answer them.
        await callLayer.drain(2000);
        await stack.stop();
        for (const d of detectors) d.close();
        await board.close();
        log.info('agent stopped');
      })();
      return stopped;
    },
  };
}

export type { LineConfig, Logger };
