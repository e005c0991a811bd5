/**
 * Finds the source line of a key path ("account[1].expires") in TOML text, so problems found after parsing can
 * still say where they are. A light line scanner, not a second parser: it knows [table], [[array]] headers,
 * `key = value` lines and multi-line strings, which covers configs people write; an unknown path falls back to
 * its nearest known parent (for keys inside inline tables).
 */

const BARE_OR_QUOTED = /^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*/;

function splitKey(text: string): string[] {
  const parts: string[] = [];
  const re = /\s*([A-Za-z0-9_-]+|"([^"]*)"|'([^']*)')\s*(\.|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null && m[0] !== '') {
    parts.push(m[2] ?? m[3] ?? m[1]);
    if (m[4] === '') break;
  }
  return parts;
}

function joinPath(base: string, keys: string[]): string {
  return keys.reduce((acc, k) => (acc === '' ? k : `${acc}.${k}`), base);
}

export function indexKeyLines(source: string): Map<string, number> {
  const index = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let table = '';
  let inMultiline: string | null = null;
  const lines = source.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (inMultiline) {
      if (line.split(inMultiline).length % 2 === 0) inMultiline = null;
      continue;
    }
    const arr = /^\s*\[\[\s*([^\]]+?)\s*\]\]/.exec(line);
    if (arr) {
      const name = splitKey(arr[1]).join('.');
      const i = arrayCounts.get(name) ?? 0;
      arrayCounts.set(name, i + 1);
      table = `${name}[${i}]`;
      if (!index.has(name)) index.set(name, n + 1);
      index.set(table, n + 1);
      continue;
    }
    const tab = /^\s*\[\s*([^\]]+?)\s*\]/.exec(line);
    if (tab) {
      table = splitKey(tab[1]).join('.');
      index.set(table, n + 1);
      continue;
    }
    const kv = BARE_OR_QUOTED.exec(line);
    if (kv && line.slice(kv[0].length).startsWith('=')) {
      const path = joinPath(table, splitKey(kv[1]));
      if (!index.has(path)) index.set(path, n + 1);
      const value = line.slice(kv[0].length + 1);
      for (const q of ['"""', "'''"]) {
        if (value.split(q).length === 2) inMultiline = q;
      }
    }
  }
  return index;
}

/** Line of a key path, or of its nearest parent that has one. */
export function lineOf(index: Map<string, number>, path: string): number | undefined {
  let p = path;
  while (p !== '') {
    const hit = index.get(p);
    if (hit !== undefined) return hit;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return undefined;
    p = p.slice(0, cut);
  }
  return undefined;
}
