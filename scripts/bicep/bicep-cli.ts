/**
 * Thin wrapper around the real Bicep CLI (never a re-implementation): build, lint, snapshot, with the CI
 * configuration that resolves the Graph extension from a local package. A missing CLI is an error with the
 * command that installs it, never a silent skip: CI installs it, and the checks are part of the suite.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

import { BICEP_BINARY } from './paths';
import { ciConfigPath } from './ci-config';

export interface BicepDiagnostic {
  ruleId: string;
  level: string;
  message: string;
  file: string;
  line: number;
}

export function bicepBinary(): string {
  if (!existsSync(BICEP_BINARY)) {
    throw new Error(
      `Bicep CLI not found at ${BICEP_BINARY}.\n` +
        'Install it with: npm run setup:test-tools   (fetches NuGet Azure.Bicep.CommandLine.linux-x64 through dotnet, no root needed; .ci/run does this)',
    );
  }
  return BICEP_BINARY;
}

export function runBicep(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(bicepBinary(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** Compiles a .bicep file to its ARM JSON text, exactly as `bicep build` writes it. Throws on errors. */
export function buildTemplateText(bicepFile: string): string {
  const out = runBicep(['build', bicepFile, '--stdout', '--config', ciConfigPath()]);
  if (out.status !== 0) throw new Error(`bicep build ${bicepFile} failed:\n${out.stderr}`);
  return out.stdout;
}

export function buildTemplate(bicepFile: string): ArmTemplate {
  return JSON.parse(buildTemplateText(bicepFile)) as ArmTemplate;
}

/**
 * Every diagnostic `bicep lint` reports (compiler warnings such as BCP081 included). `bicep lint` exits 0
 * on warnings, so callers decide from this list, not from the exit code.
 */
export function lintTemplate(bicepFile: string): BicepDiagnostic[] {
  return lint([bicepFile]);
}

/** Lints every file matching a glob (relative to `cwd`) in one CLI run. */
export function lintPattern(pattern: string, cwd: string): BicepDiagnostic[] {
  return lint(['--pattern', pattern], cwd);
}

function lint(target: string[], cwd?: string): BicepDiagnostic[] {
  const result = spawnSync(
    bicepBinary(),
    ['lint', ...target, '--diagnostics-format', 'sarif', '--config', ciConfigPath()],
    {
      encoding: 'utf8',
      cwd,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (result.error) throw result.error;
  // With --pattern the CLI writes one SARIF document per file, back to back.
  const logs = splitJsonDocuments(result.stdout) as SarifLog[];
  const results = logs.flatMap((log) => log.runs.flatMap((run) => run.results ?? []));
  if (result.status !== 0 && results.length === 0)
    throw new Error(`bicep lint ${target.join(' ')} failed:\n${result.stderr}`);
  return results.map((r) => {
    const location = r.locations?.[0]?.physicalLocation;
    return {
      ruleId: r.ruleId,
      level: r.level ?? 'warning',
      message: r.message.text,
      file: location?.artifactLocation.uri ?? target.join(' '),
      line: location?.region?.startLine ?? 0,
    };
  });
}

/** Parses concatenated JSON documents ("{...}{...}"), tracking strings so braces inside them do not count. */
export function splitJsonDocuments(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  if (depth !== 0) throw new Error('truncated JSON output from bicep');
  return docs;
}

export function formatDiagnostic(d: BicepDiagnostic): string {
  return `${d.file}:${d.line} ${d.level} ${d.ruleId}: ${d.message}`;
}

/**
 * Evaluates a template for given parameter values with `bicep snapshot` (no Azure involved): conditions on
 * known parameters are decided, loops unrolled, and what depends on deployment-time values stays an ARM
 * expression. This is how the tests see, for example, whether a permission model creates a grant.
 */
export function snapshotTemplate(
  bicepFile: string,
  params: Record<string, unknown>,
  scope: SnapshotScope = DEFAULT_SCOPE,
): Snapshot {
  const dir = mkdtempSync(join(tmpdir(), 'bicep-snapshot-'));
  try {
    const paramFile = join(dir, 'test.bicepparam');
    // A .bicepparam file must name its template with a relative path (BCP051).
    const using = relative(dirname(paramFile), bicepFile).split('\\').join('/');
    const lines = [
      `using '${using}'`,
      ...Object.entries(params).map(([k, v]) => `param ${k} = ${bicepLiteral(v)}`),
    ];
    writeFileSync(paramFile, lines.join('\n') + '\n');
    const out = runBicep([
      'snapshot',
      paramFile,
      '--mode',
      'overwrite',
      '--config',
      ciConfigPath(),
      '--tenant-id',
      scope.tenantId,
      '--subscription-id',
      scope.subscriptionId,
      '--location',
      scope.location,
    ]);
    if (out.status !== 0) throw new Error(`bicep snapshot failed:\n${out.stdout}\n${out.stderr}`);
    return JSON.parse(readFileSync(join(dir, 'test.snapshot.json'), 'utf8')) as Snapshot;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SnapshotScope {
  tenantId: string;
  subscriptionId: string;
  location: string;
}

const DEFAULT_SCOPE: SnapshotScope = {
  tenantId: '11111111-2222-3333-4444-555555555555',
  subscriptionId: '66666666-7777-8888-9999-000000000000',
  location: 'westeurope',
};

/** JSON is almost Bicep: objects and arrays need newlines instead of commas, strings single quotes. */
function bicepLiteral(value: unknown): string {
  if (typeof value === 'string')
    return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\$\{/g, '\\${')}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[\n${value.map(bicepLiteral).join('\n')}\n]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `'${k}': ${bicepLiteral(v)}`,
    );
    return `{\n${entries.join('\n')}\n}`;
  }
  throw new Error(`cannot write ${typeof value} as a Bicep literal`);
}

export interface ArmResource {
  type: string;
  name?: string;
  condition?: unknown;
  properties?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ArmTemplate {
  $schema: string;
  parameters?: Record<string, { type: string; defaultValue?: unknown; [key: string]: unknown }>;
  resources: Record<string, ArmResource> | ArmResource[];
  outputs?: Record<string, { type: string; value: unknown }>;
  [key: string]: unknown;
}

export interface Snapshot {
  predictedResources: ArmResource[];
  diagnostics: unknown[];
  outputs: Record<string, unknown>;
}

interface SarifLog {
  runs: Array<{
    results?: Array<{
      ruleId: string;
      level?: string;
      message: { text: string };
      locations?: Array<{
        physicalLocation?: { artifactLocation: { uri: string }; region?: { startLine: number } };
      }>;
    }>;
  }>;
}
