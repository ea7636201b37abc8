import type { PlanKind } from '../contract.js';
import type { ExtensionFactory } from './extension.js';
import { broadcastExtension } from './ext-broadcast.js';
import { loadExtension } from './ext-load.js';

/**
 * Which extension a step's plan uses. Static, so a worker process builds the same engine from
 * a plain StepSpec.
 */
export const EXTENSIONS: Partial<Record<PlanKind, ExtensionFactory>> = {
  load: loadExtension,
  broadcast: broadcastExtension,
};
