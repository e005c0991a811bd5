/**
 * The config file's schema (zod 4), the user contract of INTERFACES.md (the team's shared interface card). Values are checked here one
 * by one; checks that relate keys to each other (an account's line must exist, password XOR password_file) live
 * in cross-checks.ts because zod skips an object's refinements once a child has failed, and we report every
 * problem at once.
 */
import * as z from 'zod';
import { checkDigitMap, checkToneSpec, parseListen, parsePortRange } from './value-syntax.js';

export const TONE_PLANS = ['us', 'uk', 'de', 'fr', 'nl', 'it', 'au', 'jp'] as const;
export type TonePlanName = (typeof TONE_PLANS)[number];
export const TONE_NAMES = ['dial', 'ringback', 'busy', 'congestion', 'call_waiting', 'stutter', 'off_hook_warning'] as const;
export type ToneName = (typeof TONE_NAMES)[number];

/** Feature codes, 3-digit extensions, any number ended by the timer or #, and IP addresses with stars for dots. */
export const DEFAULT_DIAL_PLAN = '(*xx|[1-9]xx|xx.T|xx.#|xx.*xx.*xx.*xx.T|xx.*xx.*xx.*xx.#|xx.*xx.*xx.*xx.*xx.T|xx.*xx.*xx.*xx.*xx.#)';

const NO_CONTROL = /^[^\x00-\x1f\x7f]*$/;
// Tokens that go into SIP headers as they are: no whitespace or separators that would break a header.
const SIP_TOKEN = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$/;
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/;

const listenField = z.string().transform((text, ctx) => {
  const r = parseListen(text);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  }
  return r.value;
});

const sipUri = z
  .string()
  .max(512)
  .regex(/^sips?:[^\s<>"]+$/i, { message: 'expected a SIP URI such as "sip:host:5060"' });

const filePath = z.string().min(1).max(4096).regex(NO_CONTROL, { message: 'path holds control characters' });

export const sipSchema = z.strictObject({
  listen: listenField.prefault('0.0.0.0:5060'),
  transports: z
    .array(z.enum(['udp', 'tcp', 'tls']))
    .min(1)
    .refine((t) => new Set(t).size === t.length, { message: 'a transport is listed twice' })
    .prefault(['udp']),
  user_agent: z.string().min(1).max(200).regex(NO_CONTROL, { message: 'control characters not allowed' }).default('ata/0.1'),
  keepalive: z.enum(['crlf', 'options', 'off']).default('crlf'),
  keepalive_s: z.int().min(5).max(3600).default(25),
});

export const accountSchema = z
  .strictObject({
    line: z.int().min(0).max(63).default(0),
    user: z.string().min(1).max(128).regex(SIP_TOKEN, { message: 'user holds characters not allowed in a SIP user' }),
    password: z.string().min(1).max(256).regex(NO_CONTROL, { message: 'control characters not allowed' }).optional(),
    password_file: filePath.optional(),
    auth_user: z.string().min(1).max(128).regex(NO_CONTROL, { message: 'control characters not allowed' }).optional(),
    display_name: z.string().max(128).regex(NO_CONTROL, { message: 'control characters not allowed' }).optional(),
    domain: z.string().min(1).max(253).regex(HOST, { message: 'expected a host name or IP address' }),
    registrar: sipUri.optional(),
    outbound_proxy: sipUri.optional(),
    expires: z.int().min(60).max(86400).default(3600),
    accept_from: z.enum(['proxy', 'any']).default('proxy'),
  })
  .transform((a) => ({ ...a, auth_user: a.auth_user ?? a.user, registrar: a.registrar ?? `sip:${a.domain}` }));

const toneSpec = z.string().max(500).superRefine((t, ctx) => {
  const problem = checkToneSpec(t);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const toneOverrideSchema = z.strictObject({
  base: z.enum(TONE_PLANS).default('us'),
  dial: toneSpec.optional(),
  ringback: toneSpec.optional(),
  busy: toneSpec.optional(),
  congestion: toneSpec.optional(),
  call_waiting: toneSpec.optional(),
  stutter: toneSpec.optional(),
  off_hook_warning: toneSpec.optional(),
  /** Ring cadence in ms, on/off pairs: [2000, 4000] for the US. */
  ring: z
    .array(z.int().min(50).max(10000))
    .min(2)
    .max(8)
    .refine((r) => r.length % 2 === 0, { message: 'ring cadence needs on/off pairs' })
    .optional(),
});

export interface TonePlanConfig {
  base: TonePlanName;
  overrides: Partial<Record<ToneName, string>>;
  ring?: number[];
}

const tonePlanField = z
  .union([z.enum(TONE_PLANS), toneOverrideSchema], {
    error: `expected one of ${TONE_PLANS.join(', ')} or a table { base = "us", dial = "350+440", ... }`,
  })
  .transform((t): TonePlanConfig => {
    if (typeof t === 'string') return { base: t, overrides: {} };
    const overrides: Partial<Record<ToneName, string>> = {};
    for (const name of TONE_NAMES) if (t[name] !== undefined) overrides[name] = t[name];
    return { base: t.base, overrides, ...(t.ring ? { ring: t.ring } : {}) };
  });

export const lineSchema = z.strictObject({
  id: z.int().min(0).max(63),
  dial_plan: z
    .string()
    .max(2000)
    .superRefine((m, ctx) => {
      const problem = checkDigitMap(m);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default(DEFAULT_DIAL_PLAN),
  tone_plan: tonePlanField.prefault('us'),
  caller_id: z.enum(['bell202', 'v23', 'dtmf', 'off']).default('bell202'),
  /** Hook-flash window: "na" 100-900 ms, "eu" 70-125 ms. Absent: "eu" for the uk, de, fr, nl, it tone plans, else "na". */
  hook_flash: z.enum(['na', 'eu']).optional(),
  /** How the rotary dial numbers its pulses: "standard" (n for n, 10 for 0), "nz" (New Zealand, 10 - n), "se" (Sweden, n + 1). */
  pulse_map: z.enum(['standard', 'nz', 'se']).default('standard'),
  /** A second call to a busy line waits (call-waiting beep; hook flash answers it and holds the first) instead of getting 486. */
  call_waiting: z.boolean().default(true),
  /**
   * A hook flash in a lone call holds it and gives dial tone for a consultation call: a flash before it is answered
   * returns to the held call, one after makes a three-way conference (the next drops the added party); hanging up
   * once it rings, is answered or is in the conference transfers the held call to it (REFER).
   */
  transfer: z.boolean().default(true),
  /** Hook-switch debounce: a contact level counts once it has held this long. */
  debounce_ms: z.int().min(0).max(50).default(10),
  speed_dial: z
    .record(z.string().regex(/^[0-9*#]{1,16}$/, { message: 'speed-dial code must be 1-16 of 0-9 * #' }), sipUri)
    .default({}),
  /**
   * Off-hook auto-dial, for door phones, intercoms and lift or courtesy phones: lifting the handset calls this URI
   * (through the line's account when it has one, as a speed-dial URI would be).
   */
  hotline: sipUri.optional(),
  /**
   * 0: the hotline is called at once, with no dial tone. More: a warm line: dial tone for this many seconds, and the
   * hotline is called only if no digit was dialled by then (a digit dials as usual).
   */
  hotline_delay_s: z.int().min(0).max(60).default(0),
});

const jitterSchema = z
  .strictObject({
    min: z.int().min(0).max(1000).default(20),
    max: z.int().min(10).max(2000).default(200),
  })
  .refine((j) => j.min <= j.max, { message: 'min must not exceed max', path: ['min'] });

export const mediaSchema = z.strictObject({
  codecs: z
    .array(z.enum(['PCMU', 'PCMA']))
    .min(1)
    .refine((c) => new Set(c).size === c.length, { message: 'a codec is listed twice' })
    .prefault(['PCMU', 'PCMA']),
  ptime: z
    .int()
    .min(10)
    .max(60)
    .refine((p) => p % 10 === 0, { message: 'ptime must be a multiple of 10 ms' })
    .default(20),
  rtp_ports: z
    .string()
    .transform((text, ctx) => {
      const r = parsePortRange(text);
      if (!r.ok) {
        ctx.addIssue({ code: 'custom', message: r.message });
        return z.NEVER;
      }
      return r.value;
    })
    .prefault('10000-10999'),
  dtmf: z.enum(['rfc4733', 'inband', 'info']).default('rfc4733'),
  dtmf_payload_type: z.int().min(96).max(127).default(101),
  jitter_ms: jitterSchema.prefault({}),
});

/** BCM GPIO numbers of the Raspberry Pi header (the drivers add the gpiochip base where sysfs needs it). */
const pin = z.int().min(0).max(53);
const audioDevice = z.string().min(1).max(200).regex(NO_CONTROL, { message: 'control characters not allowed' });

export const simBoardSchema = z.strictObject({
  type: z.literal('sim'),
  /** WAV (8 kHz mono s16) the simulated mouthpiece sends, looped, while off hook. Absent: silence. */
  audio_in: filePath.optional(),
  /** WAV that receives what the simulated earpiece hears. Absent: discarded. */
  audio_out: filePath.optional(),
  /** Directory that relative audio paths resolve against; relative to the working directory. */
  run_dir: filePath.optional(),
  /** How many simulated phones (lines 0..N-1); audio_out gets "-N" before the extension for line N > 0. */
  lines: z.int().min(1).max(8).default(1),
});

/** Sound-card keys shared by the real boards (board/audio.ts reads them). */
const soundCard = {
  audio_in_device: audioDevice.default('default'),
  audio_out_device: audioDevice.default('default'),
  /** "alsa-cli": arecord/aplay with 20 ms periods (default, about 40 ms added); "speaker-mic": the npm packages (about 605 ms). */
  audio_driver: z.enum(['alsa-cli', 'speaker-mic']).default('alsa-cli'),
  /** The card's native rate; audio is resampled to and from 8 kHz with a proper low-pass. USB cards: 48000. */
  audio_rate: z.int().min(8000).max(192000).default(8000),
  /** Ring frequency in Hz (20 in North America, 25 in much of Europe). */
  ring_hz: z.int().min(15).max(50).default(20),
};

export const ag1171BoardSchema = z.strictObject({
  type: z.literal('ag1171'),
  gpio_chip: z.string().min(1).max(100).default('gpiochip0'),
  /** "auto" picks the GPIO character device (libgpiod tools) or sysfs (onoff), whichever works. */
  gpio_driver: z.enum(['auto', 'sysfs', 'chardev']).default('auto'),
  /** SHK output of the AG1171 (off hook = high). Default in board/ag1171.ts and docs/wiring.md. */
  hook_pin: pin.optional(),
  /** [RM, F/R]: ring-mode and forward/reverse inputs of the AG1171. Default in board/ag1171.ts. */
  ring_pins: z.tuple([pin, pin]).optional(),
  ...soundCard,
});

export const serialSlicBoardSchema = z.strictObject({
  type: z.literal('serial-slic'),
  port: z.string().min(1).max(4096).regex(NO_CONTROL, { message: 'control characters not allowed' }),
  baud: z.int().min(1200).max(4_000_000).default(115200),
  ...soundCard,
});

export const BOARD_TYPES = ['sim', 'ag1171', 'serial-slic'] as const;

export const boardSchema = z.discriminatedUnion('type', [simBoardSchema, ag1171BoardSchema, serialSlicBoardSchema], {
  error: (iss) =>
    iss.code === 'invalid_union' ? `board type must be one of ${BOARD_TYPES.join(', ')}` : undefined,
});

export const apiSchema = z.strictObject({
  enabled: z.boolean().default(true),
  listen: listenField.prefault('127.0.0.1:8080'),
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const logSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default('info'),
  /** File that receives every SIP message, both directions, readable as the messages themselves. */
  sip_trace: filePath.optional(),
  /** How many SIP messages GET /api/sip-trace keeps. */
  sip_trace_keep: z.int().min(1).max(10000).default(200),
  /** false: digest `response=` values are replaced by "<redacted>" in the trace. */
  trace_auth: z.boolean().default(false),
});

export const ataConfigSchema = z.strictObject({
  sip: sipSchema.prefault({}),
  account: z.array(accountSchema).max(64).default([]),
  line: z.array(lineSchema).min(1).max(64).prefault([{ id: 0 }]),
  media: mediaSchema.prefault({}),
  board: boardSchema.prefault({ type: 'sim' }),
  api: apiSchema.prefault({}),
  log: logSchema.prefault({}),
});

type ParsedConfig = z.output<typeof ataConfigSchema>;
export type SipConfig = ParsedConfig['sip'];
/** After loading, `password` holds the secret whichever way it was given (inline, password_file or uri). */
export type AccountConfig = Omit<ParsedConfig['account'][number], 'password'> & { password: string };
export type LineConfig = ParsedConfig['line'][number];
export type MediaConfig = ParsedConfig['media'];
export type BoardConfig = ParsedConfig['board'];
export type SimBoardConfig = z.output<typeof simBoardSchema>;
export type Ag1171BoardConfig = z.output<typeof ag1171BoardSchema>;
export type SerialSlicBoardConfig = z.output<typeof serialSlicBoardSchema>;
export type ApiConfig = ParsedConfig['api'];
export type LogConfig = ParsedConfig['log'];
export type LogLevel = LogConfig['level'];
export type { ListenAddress, PortRange } from './value-syntax.js';

export interface AtaConfig extends Omit<ParsedConfig, 'account'> {
  account: AccountConfig[];
  /** Absolute path of the file this came from, when loaded from a file. */
  source?: string;
}

/** Keys each table accepts, for "did you mean" on unknown keys. Indexed by the key path with [n] removed. */
export function knownKeys(tablePath: string, boardType?: string): string[] | undefined {
  switch (tablePath) {
    case '':
      return Object.keys(ataConfigSchema.shape);
    case 'sip':
      return Object.keys(sipSchema.shape);
    case 'account':
      return [...Object.keys(accountSchema.in.shape), 'uri'];
    case 'line':
      return Object.keys(lineSchema.shape);
    case 'line.tone_plan':
      return Object.keys(toneOverrideSchema.shape);
    case 'media':
      return Object.keys(mediaSchema.shape);
    case 'media.jitter_ms':
      return ['min', 'max'];
    case 'board': {
      const s = boardType === 'ag1171' ? ag1171BoardSchema : boardType === 'serial-slic' ? serialSlicBoardSchema : simBoardSchema;
      return Object.keys(s.shape);
    }
    case 'api':
      return Object.keys(apiSchema.shape);
    case 'log':
      return Object.keys(logSchema.shape);
    default:
      return undefined;
  }
}
