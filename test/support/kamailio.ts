/**
 * A real Kamailio registrar for integration tests: writes a kamailio.cfg into a temp dir, starts `kamailio -DD -E`
 * in the foreground on a loopback UDP port, waits until it answers a real OPTIONS, and stops it. Users and
 * passwords live in an htable; bindings in usrloc with db_mode 0 (memory only, so a restart forgets them, as a real
 * registrar restart without a database would). `kamcmd` reads bindings and counters through the ctl socket.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const KAMAILIO_BIN = '/usr/sbin/kamailio';
export const KAMCMD_BIN = '/usr/sbin/kamcmd';

export class KamailioMissingError extends Error {
  override readonly name = 'KamailioMissingError';
  constructor(readonly path: string) {
    super(`${path} not found: install the Debian package kamailio (CI installs it in .ci/run)`);
  }
}

export interface KamailioOptions {
  users: Record<string, string>;
  realm?: string;
  /** 'MD5' (default) or 'SHA-256': the auth module's algorithm parameter. */
  algorithm?: 'MD5' | 'SHA-256';
  /** Port to listen on; default a free one. Reusing it is how a test restarts "the same" registrar. */
  port?: number;
  minExpires?: number;
  /** The registrar grants at most this (registrar max_expires); lets a test see several refreshes quickly. */
  maxExpires?: number;
  /**
   * Also act as the users' proxy (default off: a registrar only). Initial requests from local users are
   * challenged with 407 (qop=auth, the same passwords), record-routed and relayed to the callee's binding (404
   * when there is none); in-dialog requests follow their Route (loose routing); CANCEL and ACK ride the
   * transaction. Counters in the stats htable: `invite-challenged`, `initial-<METHOD>` and `dialog-<METHOD>`.
   */
  proxy?: boolean;
}

function modulesDir(): string {
  for (const d of ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules']) {
    if (existsSync(join(d, 'registrar.so'))) return d;
  }
  throw new KamailioMissingError('kamailio modules directory');
}

/** A free UDP port on 127.0.0.1 (bind to 0, read it, close). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function config(o: Required<Omit<KamailioOptions, 'port'>>, ctlSocket: string): string {
  const users = Object.entries(o.users)
    .map(([u, p]) => `  $sht(passwd=>${u}) = "${p.replace(/[\\"]/g, (c) => '\\' + c)}";`)
    .join('\n');
  return `#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=1
disable_tcp=yes
auto_aliases=no
mpath="${modulesDir()}/"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "sanity.so"
loadmodule "auth.so"
loadmodule "htable.so"
loadmodule "ctl.so"
loadmodule "xlog.so"
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", ${o.minExpires})
modparam("registrar", "max_expires", ${o.maxExpires})
modparam("htable", "htable", "passwd=>size=4;")
modparam("htable", "htable", "stats=>size=4;initval=0;")
modparam("ctl", "binrpc", "unixs:${ctlSocket}")
modparam("auth", "algorithm", "${o.algorithm}")

event_route[htable:mod-init] {
${users}
}

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (is_method("OPTIONS") && $rU == $null) { sl_send_reply("200", "OK"); exit; }
  if (is_method("REGISTER")) {
    $var(n) = $shtinc(stats=>register);
    if (!pv_auth_check("${o.realm}", "$sht(passwd=>$au)", "0", "1")) {
      auth_challenge("${o.realm}", "1");
      exit;
    }
    consume_credentials();
    if (!save("location")) sl_reply_error();
    exit;
  }
${o.proxy ? proxyRoute(o.realm) : ''}  sl_send_reply("404", "Not Here");
}
`;
}

/** The request_route part of proxy mode (see KamailioOptions.proxy). */
function proxyRoute(realm: string): string {
  return `  if (is_method("CANCEL")) {
    if (t_check_trans()) t_relay();
    exit;
  }
  if (has_totag()) {
    $var(n) = $shtinc(stats=>dialog-$rm);
    if (loose_route()) {
      if (!t_relay()) sl_reply_error();
      exit;
    }
    if (is_method("ACK") && t_check_trans()) t_relay();
    else if (!is_method("ACK")) sl_send_reply("404", "Not Here");
    exit;
  }
  if (is_method("ACK")) {
    if (t_check_trans()) t_relay();
    exit;
  }
  if (t_check_trans()) exit;
  # A local user is one with a password here (from_uri == myself would also compare the port).
  if (is_method("INVITE|MESSAGE|SUBSCRIBE|REFER") && $sht(passwd=>$fU) != $null) {
    # pv_proxy_authenticate lets a request through when it cannot read the password (no credentials, or a user
    # without one), so those are challenged before it is asked.
    if (!is_present_hf("Proxy-Authorization") || $sht(passwd=>$au) == $null || !pv_proxy_authenticate("${realm}", "$sht(passwd=>$au)", "0")) {
      $var(n) = $shtinc(stats=>invite-challenged);
      proxy_challenge("${realm}", "1");
      exit;
    }
    if ($au != $fU) {
      sl_send_reply("403", "Credentials Of Another User");
      exit;
    }
    consume_credentials();
  }
  $var(n) = $shtinc(stats=>initial-$rm);
  # The caller's Route names this proxy (its outbound proxy); drop it, the callee's binding decides.
  remove_hf("Route");
  if (is_method("INVITE|SUBSCRIBE")) record_route();
  if (!lookup("location")) {
    sl_send_reply("404", "Not Found");
    exit;
  }
  if (!t_relay()) sl_reply_error();
  exit;
`;
}

export class Kamailio {
  readonly dir: string;
  readonly ctlSocket: string;
  readonly realm: string;
  port = 0;
  private proc: ChildProcess | undefined;
  stderr = '';

  constructor(private readonly o: KamailioOptions) {
    if (!existsSync(KAMAILIO_BIN)) throw new KamailioMissingError(KAMAILIO_BIN);
    if (!existsSync(KAMCMD_BIN)) throw new KamailioMissingError(KAMCMD_BIN);
    this.dir = mkdtempSync(join(tmpdir(), 'ata-kamailio-'));
    this.ctlSocket = join(this.dir, 'ctl.sock');
    this.realm = o.realm ?? '127.0.0.1';
    const cfg = config({ users: o.users, realm: this.realm, algorithm: o.algorithm ?? 'MD5', minExpires: o.minExpires ?? 5, maxExpires: o.maxExpires ?? 3600, proxy: o.proxy ?? false }, this.ctlSocket);
    writeFileSync(join(this.dir, 'kamailio.cfg'), cfg);
  }

  get uri(): string {
    return `sip:127.0.0.1:${this.port}`;
  }

  /** Starts Kamailio (on the given or a free port) and resolves once it answers OPTIONS. */
  async start(port?: number): Promise<void> {
    this.port = port ?? this.o.port ?? (await freeUdpPort());
    this.stderr = '';
    const args = ['-f', join(this.dir, 'kamailio.cfg'), '-DD', '-E', '-P', join(this.dir, 'kamailio.pid'), '-w', this.dir, '-l', `udp:127.0.0.1:${this.port}`, '-m', '64', '-M', '8'];
    const proc = spawn(KAMAILIO_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => {
      // Keep only the tail: enough to explain a failure.
      this.stderr = (this.stderr + d.toString('latin1')).slice(-8000);
    });
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`kamailio exited with ${code}:\n${this.stderr}`))));
    await Promise.race([this.waitForOptions(10_000), exited]);
  }

  /** Sends OPTIONS until one is answered; each wait is a real round trip, not a fixed sleep. */
  private async waitForOptions(totalMs: number): Promise<void> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    const local = s.address().port;
    const deadline = Date.now() + totalMs;
    try {
      for (let i = 0; Date.now() < deadline; i++) {
        const msg =
          `OPTIONS sip:127.0.0.1:${this.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bKprobe${i};rport\r\n` +
          `From: <sip:probe@127.0.0.1>;tag=p${i}\r\nTo: <sip:127.0.0.1:${this.port}>\r\nCall-ID: probe${i}@127.0.0.1\r\nCSeq: ${i + 1} OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
        const answered = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => {
            s.off('message', on);
            resolve(false);
          }, 200);
          const on = (m: Buffer): void => {
            if (m.toString('latin1').startsWith('SIP/2.0 200')) {
              clearTimeout(t);
              s.off('message', on);
              resolve(true);
            }
          };
          s.on('message', on);
          s.send(msg, this.port, '127.0.0.1');
        });
        if (answered) return;
      }
      throw new Error(`kamailio did not answer OPTIONS on ${this.port} within ${totalMs} ms:\n${this.stderr}`);
    } finally {
      s.close();
    }
  }

  /** Stops Kamailio and waits for it to exit (so the port is free to start again). */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }

  async kamcmd(...args: string[]): Promise<string> {
    const { stdout } = await run(KAMCMD_BIN, ['-s', `unixs:${this.ctlSocket}`, ...args], { timeout: 5000 });
    return stdout;
  }

  /** Contacts registered for a user, [] when there is none. */
  async contacts(user: string): Promise<string[]> {
    try {
      const out = await this.kamcmd('ul.lookup', 'location', `s:${user}`);
      return [...out.matchAll(/Address:\s*(\S+)/g)].map((m) => m[1]);
    } catch (err) {
      // kamcmd exits non-zero with "404 AOR not found" when the user has no binding.
      if (/not found/i.test(String((err as { stdout?: string }).stdout ?? '') + String(err))) return [];
      throw err;
    }
  }

  /** REGISTERs Kamailio has seen since it started. */
  registersSeen(): Promise<number> {
    return this.counter('register');
  }

  /** A counter of the stats htable (0 when it was never incremented). */
  async counter(name: string): Promise<number> {
    let out: string;
    try {
      out = await this.kamcmd('htable.get', 'stats', name);
    } catch (err) {
      // kamcmd exits non-zero when the key does not exist yet.
      if (/not found|no such/i.test(String((err as { stdout?: string }).stdout ?? '') + String(err))) return 0;
      throw err;
    }
    const m = /value:\s*(\d+)/.exec(out);
    return m ? Number(m[1]) : 0;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
