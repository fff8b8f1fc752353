/**
 * Helpers for the infra tests: the compiled ARM JSON of main.bicep (modules inlined as nested deployments)
 * and `bicep snapshot` evaluations of it. Each Bicep CLI run costs a second or more, so results are kept in
 * .test-data/bicep/, keyed by a hash of everything that can change them (the CLI binary, the templates and
 * JSON files under infra/, the CI config, the parameters): any edit recomputes them with the real compiler.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  buildTemplateText,
  snapshotTemplate,
  type ArmResource,
  type ArmTemplate,
  type Snapshot,
} from '../../scripts/bicep/bicep-cli';
import { ciConfigPath } from '../../scripts/bicep/ci-config';
import { BICEP_BINARY, INFRA_DIR, MAIN_TEMPLATE, REPO_ROOT } from '../../scripts/bicep/paths';
import { listFiles } from '../../scripts/deploy/zip-folder';

const CACHE_DIR = join(REPO_ROOT, '.test-data', 'bicep');
let inputsHash: string | undefined;

function inputsDigest(): string {
  if (!inputsHash) {
    const hash = createHash('sha256');
    const binary = statSync(BICEP_BINARY);
    hash.update(`${binary.size}:${binary.mtimeMs}\n`);
    hash.update(readFileSync(ciConfigPath()));
    // Inputs of `bicep build` and `bicep snapshot`: the templates and the JSON they load, not the output.
    const inputs = listFiles(INFRA_DIR).filter((f) => /\.(bicep|json)$/.test(f) && f !== 'azuredeploy.json');
    for (const file of inputs) hash.update(`${file}\n`).update(readFileSync(join(INFRA_DIR, file)));
    inputsHash = hash.digest('hex');
  }
  return inputsHash;
}

function cached(what: string, compute: () => string): string {
  const key = createHash('sha256').update(inputsDigest()).update(what).digest('hex').slice(0, 32);
  const path = join(CACHE_DIR, `${key}.json`);
  if (existsSync(path)) return readFileSync(path, 'utf8');
  const value = compute();
  mkdirSync(CACHE_DIR, { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, value);
  renameSync(temp, path); // atomic: test files run in parallel processes
  return value;
}

/** `bicep build infra/main.bicep` output, as text (compared byte for byte with infra/azuredeploy.json). */
export function compiledMainText(): string {
  return cached('build main.bicep', () => buildTemplateText(MAIN_TEMPLATE));
}

export function compiledMain(): ArmTemplate {
  return JSON.parse(compiledMainText()) as ArmTemplate;
}

function resourceList(template: ArmTemplate): ArmResource[] {
  return Array.isArray(template.resources) ? template.resources : Object.values(template.resources);
}

/** The template and every template nested in it (one per Bicep module). */
export function allTemplates(template: ArmTemplate): ArmTemplate[] {
  const nested = resourceList(template)
    .filter((r) => r.type === 'Microsoft.Resources/deployments')
    .map((r) => (r.properties as { template?: ArmTemplate } | undefined)?.template)
    .filter((t): t is ArmTemplate => t !== undefined);
  return [template, ...nested.flatMap(allTemplates)];
}

/** Resource declarations of every (nested) template, as compiled. */
export function allResources(template: ArmTemplate): ArmResource[] {
  return allTemplates(template).flatMap(resourceList);
}

/** The resources main.bicep would deploy with these parameters (plus the required ones). */
export function snapshotMain(params: Record<string, unknown> = {}): Snapshot {
  const all = { environmentName: 'ci', location: 'westeurope', ...params };
  const text = cached(`snapshot ${JSON.stringify(all)}`, () =>
    JSON.stringify(snapshotTemplate(MAIN_TEMPLATE, all)),
  );
  return JSON.parse(text) as Snapshot;
}

export function ofType(resources: ArmResource[], type: string): ArmResource[] {
  return resources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
}

export function single(resources: ArmResource[], type: string): ArmResource {
  const found = ofType(resources, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0]!;
}

export interface AppSetting {
  name: string;
  value: string;
}

/** The function app's app settings as the snapshot predicts them (values may be ARM expressions). */
export function appSettings(snapshot: Snapshot): AppSetting[] {
  const site = single(snapshot.predictedResources, 'Microsoft.Web/sites');
  const siteConfig = (site.properties as { siteConfig: { appSettings: AppSetting[] } }).siteConfig;
  return siteConfig.appSettings;
}

/**
 * True for an ARM template expression such as "[reference(...)]", i.e. a value only known at deployment time.
 * Snapshot values are evaluated, so a JSON text like '[{"id":"hq"}]' is a value, not an expression.
 */
export function isExpression(value: unknown): boolean {
  return typeof value === 'string' && /^\[[A-Za-z_][\w.]*\(.*\]$/s.test(value);
}
