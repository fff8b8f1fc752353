/**
 * A minimal, deterministic zip writer (deflate, no zip64) for the function package, so packaging needs no
 * `zip` binary (developers on Windows) and the same input always gives the same bytes. Format: PKWARE
 * APPNOTE.TXT 6.3.x §4.3 (local headers, central directory, end of central directory record).
 */
import { closeSync, openSync, readFileSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

const MAX_ENTRIES = 0xffff;
const MAX_32 = 0xffffffff;
// 1980-01-01 00:00, the earliest DOS date: fixed so the archive does not depend on file times.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const UTF8_FLAG = 1 << 11;
const VERSION_MADE_BY_UNIX = (3 << 8) | 20;

export interface ZipResult {
  entries: number;
  bytes: number;
}

/** Lists files under `root` (following symlinks), sorted, as archive paths with forward slashes. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) out.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return out;
}

export function zipFolder(root: string, zipPath: string): ZipResult {
  const files = listFiles(root);
  if (files.length > MAX_ENTRIES)
    throw new Error(`${files.length} files: more than a zip without zip64 can hold`);
  const fd = openSync(zipPath, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  try {
    for (const name of files) {
      const path = join(root, ...name.split('/'));
      const data = readFileSync(path);
      const mode = statSync(path).mode & 0o777;
      const compressed = deflateRawSync(data, { level: 9 });
      // Store when deflate does not help (already-compressed files).
      const stored = compressed.length >= data.length;
      const body = stored ? data : compressed;
      const nameBytes = Buffer.from(name, 'utf8');
      const crc = crc32(data);
      if (data.length > MAX_32 || offset > MAX_32)
        throw new Error(`${name}: too large for a zip without zip64`);

      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
      local.writeUInt16LE(UTF8_FLAG, 6);
      local.writeUInt16LE(stored ? 0 : 8, 8);
      local.writeUInt16LE(DOS_TIME, 10);
      local.writeUInt16LE(DOS_DATE, 12);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(nameBytes.length, 26);
      local.writeUInt16LE(0, 28);
      writeSync(fd, local);
      writeSync(fd, nameBytes);
      writeSync(fd, body);

      const entry = Buffer.alloc(46);
      entry.writeUInt32LE(0x02014b50, 0);
      entry.writeUInt16LE(VERSION_MADE_BY_UNIX, 4);
      entry.writeUInt16LE(20, 6);
      entry.writeUInt16LE(UTF8_FLAG, 8);
      entry.writeUInt16LE(stored ? 0 : 8, 10);
      entry.writeUInt16LE(DOS_TIME, 12);
      entry.writeUInt16LE(DOS_DATE, 14);
      entry.writeUInt32LE(crc, 16);
      entry.writeUInt32LE(body.length, 20);
      entry.writeUInt32LE(data.length, 24);
      entry.writeUInt16LE(nameBytes.length, 28);
      // extra length, comment length, disk number, internal attributes: 0
      entry.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38); // Unix regular file + permission bits
      entry.writeUInt32LE(offset, 42);
      central.push(entry, nameBytes);
      offset += local.length + nameBytes.length + body.length;
    }
    const directory = Buffer.concat(central);
    if (offset > MAX_32) throw new Error('archive too large for a zip without zip64');
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(files.length, 8);
    end.writeUInt16LE(files.length, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(offset, 16);
    writeSync(fd, directory);
    writeSync(fd, end);
    return { entries: files.length, bytes: offset + directory.length + end.length };
  } finally {
    closeSync(fd);
  }
}
