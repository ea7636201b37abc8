import { InvalidArgumentError } from 'commander';
import type { PlanKind } from '../contract.js';
import { UserError } from '../errors.js';
import { checkRulesFor, looksLikeRule, parseRule, type ThresholdRule } from '../thresholds/rules.js';
import { parseFraction } from './parse.js';

/**
 * `--threshold`, repeatable: a bare share (`80%`) is the success rate a point needs (capacity,
 * sustain, run, suite), as before; `metric op value[:abort]` is a rule judged over the result.
 */
export interface ThresholdFlag {
  rate?: number;
  rules: ThresholdRule[];
}

export function collectThreshold(raw: string, acc?: ThresholdFlag): ThresholdFlag {
  const base: ThresholdFlag = acc ?? { rules: [] };
  if (!looksLikeRule(raw)) return { ...base, rate: parseFraction(raw) };
  try {
    return { ...base, rules: [...base.rules, parseRule(raw)] };
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export const THRESHOLD_HELP =
  'a rule on the result, repeatable: metric<op>value[:abort], e.g. "p95<500ms", "errors<5%:abort" (metrics in the README)';

/** The rules of `--threshold` for this command; a bare share where the command has no point rate is a mistake. */
export function thresholdRules(
  command: PlanKind,
  flag: ThresholdFlag | undefined,
  rateAllowed: boolean,
): ThresholdRule[] {
  if (!flag) return [];
  if (flag.rate !== undefined && !rateAllowed) {
    throw new UserError(
      `--threshold ${Math.round(flag.rate * 1000) / 10}%: holdline ${command} has no point success rate`,
      'write a rule instead, such as --threshold "success>=95%"',
    );
  }
  checkRulesFor(command, flag.rules);
  return flag.rules;
}
