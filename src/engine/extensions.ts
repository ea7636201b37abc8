import type { PlanKind } from '../contract.js';
import type { ExtensionFactory } from './extension.js';

/**
 * Which extension a step's plan uses. Static, so a worker process builds the same engine from
 * a plain StepSpec.
 */
export const EXTENSIONS: Partial<Record<PlanKind, ExtensionFactory>> = {};
