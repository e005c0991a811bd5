import { readdirSync, readFileSync } from 'node:fs';

/**
 * The scheduler slice of a task as the kernel shows it (se.slice in its /proc sched file, ns), for `/proc/<pid>` or
 * `/proc/<pid>/task/<tid>`; undefined when the task is gone or the kernel shows none.
 */
export function schedSliceNs(procDir: string): number | undefined {
  try {
    const m = /^se\.slice\s*:\s*(\d+)/m.exec(readFileSync(`${procDir}/sched`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // the task ended
  }
}

/** se.slice of every thread of this process, by thread id. */
export function ownThreadSlicesNs(): Map<string, number> {
  const slices = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const ns = schedSliceNs(`/proc/self/task/${tid}`);
    if (ns !== undefined) slices.set(tid, ns);
  }
  return slices;
}
