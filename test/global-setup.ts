import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };

import { startAzurite } from './helpers/azurite';

/**
 * One Azurite for the whole run (tests isolate themselves by table, container and queue names). Tests read
 * its connection string with `inject('azuriteConnectionString')`.
 */
export default async function setup(project: TestProject) {
  const azurite = await startAzurite();
  project.provide('azuriteConnectionString', azurite.connectionString);
  return async () => {
    await azurite.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnectionString: string;
  }
}
