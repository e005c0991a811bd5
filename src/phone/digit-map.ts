/**
 * Digit maps in the style of RFC 3435 (MGCP) sec. 2.1.5, the syntax commercial adapters use for their dial plans:
 * "(*xx|[2-9]xx|xx.T)". An element is a digit, '*', '#', A-D, 'x' (any of 0-9), a set "[2-9a#]", any of those
 * followed by '.' (zero or more), or 'T' (the inter-digit timer). Alternatives are separated by '|'.
 *
 * The line controller feeds the digits dialed so far and asks what to do: dial now, wait (long or short timer),
 * or give up. After a timer expiry it asks again with `timedOut` set, which is when rules ending in T match.
 */

export class DigitMapError extends Error {
  override readonly name = 'DigitMapError';
  constructor(
    readonly map: string,
    readonly position: number,
    readonly fault: string,
  ) {
    super(`digit map ${JSON.stringify(map)} at ${position}: ${fault}`);
  }
}

interface Element {
  chars: string; // the symbols this element accepts
  repeat: boolean; // followed by '.': zero or more
}

interface Rule {
  source: string;
  elements: Element[];
  /** The rule ends with T: it matches only once the inter-digit timer has run out. */
  needsTimeout: boolean;
}

/**
 * - `dial`: a rule matched and no longer dial string could match: place the call now.
 * - `wait-short`: a rule matched but a longer one could too, or a T rule will match at the timeout: short timer.
 * - `wait-long`: nothing matches yet, something still could: long timer.
 * - `reject`: no rule can match: play reorder.
 */
export type DigitMapVerdict = 'dial' | 'wait-short' | 'wait-long' | 'reject';

const DIGITS = '0123456789';
const SYMBOLS = '0123456789*#ABCD';

export class DigitMap {
  private readonly rules: Rule[];

  constructor(readonly source: string) {
    this.rules = parseDigitMap(source);
  }

  /** What to do with `digits` dialed so far; `timedOut` when the inter-digit timer has just expired. */
  evaluate(digits: string, timedOut = false): DigitMapVerdict {
    const d = digits.toUpperCase();
    let complete = false;
    let completeAtTimeout = false;
    let longerPossible = false;
    for (const rule of this.rules) {
      const m = matchRule(rule, d);
      if (m.complete) {
        if (rule.needsTimeout) completeAtTimeout = true;
        else complete = true;
      }
      if (m.prefix) longerPossible = true;
    }
    if (timedOut) return complete || completeAtTimeout ? 'dial' : 'reject';
    if (complete && !longerPossible) return 'dial';
    if (complete || completeAtTimeout) return 'wait-short';
    return longerPossible ? 'wait-long' : 'reject';
  }
}

/** Parses a digit map, throwing DigitMapError naming the position of the first fault. */
export function parseDigitMap(source: string): Rule[] {
  let s = source.trim();
  let offset = source.indexOf(s);
  if (s.startsWith('(')) {
    if (!s.endsWith(')')) throw new DigitMapError(source, source.length, "missing ')'");
    s = s.slice(1, -1);
    offset += 1;
  }
  if (s.length === 0) throw new DigitMapError(source, offset, 'empty digit map');
  const rules: Rule[] = [];
  let start = 0;
  for (const alt of s.split('|')) {
    rules.push(parseRule(source, alt, offset + start));
    start += alt.length + 1;
  }
  return rules;
}

function parseRule(map: string, text: string, at: number): Rule {
  const t = text.replace(/\s+/g, '').toUpperCase();
  if (t.length === 0) throw new DigitMapError(map, at, 'empty alternative');
  const elements: Element[] = [];
  let needsTimeout = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (needsTimeout) throw new DigitMapError(map, at + i, "'T' must end its alternative");
    if (c === 'T') {
      needsTimeout = true;
    } else if (c === '.') {
      const prev = elements[elements.length - 1];
      if (!prev || prev.repeat) throw new DigitMapError(map, at + i, "'.' must follow a digit, 'x' or a set");
      prev.repeat = true;
    } else if (c === 'X') {
      elements.push({ chars: DIGITS, repeat: false });
    } else if (c === '[') {
      const end = t.indexOf(']', i);
      if (end < 0) throw new DigitMapError(map, at + i, "missing ']'");
      elements.push({ chars: parseSet(map, t.slice(i + 1, end), at + i + 1), repeat: false });
      i = end;
    } else if (SYMBOLS.includes(c)) {
      elements.push({ chars: c, repeat: false });
    } else {
      throw new DigitMapError(map, at + i, `unexpected ${JSON.stringify(c)}`);
    }
  }
  if (elements.length === 0) throw new DigitMapError(map, at, 'alternative matches nothing');
  return { source: text, elements, needsTimeout };
}

function parseSet(map: string, body: string, at: number): string {
  let chars = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (body[i + 1] === '-' && i + 2 < body.length) {
      const lo = c;
      const hi = body[i + 2];
      if (!DIGITS.includes(lo) || !DIGITS.includes(hi) || lo > hi)
        throw new DigitMapError(map, at + i, `bad range ${lo}-${hi}`);
      for (let d = lo.charCodeAt(0); d <= hi.charCodeAt(0); d++) chars += String.fromCharCode(d);
      i += 2;
    } else if (SYMBOLS.includes(c)) {
      chars += c;
    } else {
      throw new DigitMapError(map, at + i, `unexpected ${JSON.stringify(c)} in set`);
    }
  }
  if (!chars) throw new DigitMapError(map, at, 'empty set');
  return chars;
}

/**
 * Runs the rule as a small NFA over `digits`: `complete` when the whole string is accepted, `prefix` when at least
 * one more symbol could still be accepted after it.
 */
function matchRule(rule: Rule, digits: string): { complete: boolean; prefix: boolean } {
  const n = rule.elements.length;
  let states = closure(rule, new Set([0]));
  for (const c of digits) {
    const next = new Set<number>();
    for (const s of states) {
      if (s >= n) continue;
      const e = rule.elements[s];
      if (!e.chars.includes(c)) continue;
      next.add(e.repeat ? s : s + 1);
    }
    states = closure(rule, next);
    if (states.size === 0) return { complete: false, prefix: false };
  }
  let complete = false;
  let prefix = false;
  for (const s of states) {
    if (s >= n) complete = true;
    else prefix = true;
  }
  return { complete, prefix };
}

/** States reachable without consuming a symbol: a repeated element may match zero times. */
function closure(rule: Rule, states: Set<number>): Set<number> {
  const out = new Set(states);
  for (const s of states) {
    let k = s;
    while (k < rule.elements.length && rule.elements[k].repeat) out.add(++k);
  }
  return out;
}
