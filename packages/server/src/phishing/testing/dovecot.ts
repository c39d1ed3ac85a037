import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

export const DOVECOT = '/usr/sbin/dovecot';
export const dovecotAvailable = existsSync(DOVECOT);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('data', (d) => {
      c.destroy();
      resolve(d.toString().startsWith('* OK'));
    });
    c.once('error', () => resolve(false));
  });

/**
 * A private Dovecot IMAP server (Debian's dovecot-imapd) on loopback, with its own configuration,
 * users and maildirs in a temporary directory: the report mailbox for tests. Plain IMAP without
 * TLS, on 127.0.0.1 only.
 */
export class DovecotServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(users: Record<string, string>): Promise<DovecotServer> {
    const dir = mkdtempSync(path.join(tmpdir(), 'consilium-dovecot-'));
    const port = await freePort();
    const me = userInfo();
    // Dovecot will not run its login processes as root: as root, use the package's own users.
    const root = me.uid === 0;
    const id = (flag: string, name: string) => Number(execFileSync('id', [flag, name]).toString().trim());
    const mailUid = root ? id('-u', 'dovecot') : me.uid;
    const mailGid = root ? id('-g', 'dovecot') : me.gid;
    const internal = root ? 'dovecot' : me.username;
    const login = root ? 'dovenull' : me.username;
    chmodSync(dir, 0o755);
    for (const d of ['run', 'state', 'mail', 'home']) mkdirSync(path.join(dir, d));
    if (root) for (const d of ['mail', 'home']) chownSync(path.join(dir, d), mailUid, mailGid);
    writeFileSync(path.join(dir, 'passwd'), Object.entries(users).map(([u, p]) => `${u}:{PLAIN}${p}::::::\n`).join(''), { mode: 0o644 });
    const conf = `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
first_valid_uid = 0
default_internal_user = ${internal}
default_login_user = ${login}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${mailUid} gid=${mailGid} home=${dir}/home/%u
}
`;
    writeFileSync(path.join(dir, 'dovecot.conf'), conf);
    const child = spawn(DOVECOT, ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`dovecot exited: ${stderr}`);
      if (await answers(port)) return new DovecotServer(child, dir, port);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    throw new Error(`dovecot did not answer on ${port}: ${stderr}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
