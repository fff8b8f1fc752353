import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ensureLocalSecrets } from '../../../scripts/stack/local-secrets';

describe('local secrets of npm start', () => {
  it('generates three different random secrets once, in 0600 files of a 0700 directory', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const first = ensureLocalSecrets(dataDir);
    const values = [first.siteSecretFile, first.functionKeyFile, first.adminTokenFile].map((f) =>
      first.read(f),
    );
    expect(new Set(values).size).toBe(3);
    for (const v of values) expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(first.dir).mode & 0o777).toBe(0o700);
    for (const f of [first.siteSecretFile, first.functionKeyFile, first.adminTokenFile])
      expect(statSync(f).mode & 0o777).toBe(0o600);
    const again = ensureLocalSecrets(dataDir);
    expect(
      [again.siteSecretFile, again.functionKeyFile, again.adminTokenFile].map((f) => again.read(f)),
    ).toEqual(values);
  });

  it('replaces a secret too short to be accepted and tightens loose permissions', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const s = ensureLocalSecrets(dataDir);
    writeFileSync(s.adminTokenFile, 'short\n');
    chmodSync(s.siteSecretFile, 0o644);
    const after = ensureLocalSecrets(dataDir);
    expect(readFileSync(after.adminTokenFile, 'utf8').trim()).toHaveLength(43);
    expect(statSync(after.siteSecretFile).mode & 0o777).toBe(0o600);
  });
});
