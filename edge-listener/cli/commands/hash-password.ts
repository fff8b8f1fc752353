import { hashPassword } from '../../smtp/password-hash';
import { parseArgs, UsageError } from '../args';
import { type Command, out } from '../command';

const HELP = `Usage: hash-password NAME < password.txt

Makes an SMTP AUTH user entry for BRIDGE_SMTP_USERS (or one line of BRIDGE_SMTP_USERS_FILE): reads the
password from standard input (first line; never from the command line, where other users and the shell
history would see it) and prints NAME:scrypt$… — the listener stores and compares only this hash.

  printf '%s' "$PASSWORD" | smtp-graph-bridge-edge hash-password copier1 >> /etc/smtp-graph-bridge/users

Options:
  --help             this help
`;

export const hashPasswordCommand: Command = {
  name: 'hash-password',
  summary: 'make a NAME:scrypt$… entry for BRIDGE_SMTP_USERS (password on stdin)',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, {});
    if (args.flags.has('help')) {
      out(HELP);
      return 0;
    }
    const [name, extra] = args.positionals;
    if (!name || extra !== undefined) throw new UsageError('give exactly one user name');
    // eslint-disable-next-line no-control-regex
    if (name.length > 256 || /[\s:\x00-\x1f]/.test(name))
      throw new UsageError('the name may not contain spaces, colons or control characters');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (password === '') throw new UsageError('no password on standard input');
    out(`${name}:${await hashPassword(password)}\n`);
    return 0;
  },
};
