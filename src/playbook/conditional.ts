import type { SourcePos } from '../errors.js';
import { Unsafe, truthy } from './filters.js';
import { evaluateTruth, isTemplateString, render } from './template.js';

/** Strings Ansible reads as booleans when they stand alone as a condition (`when: "yes"`). */
const BOOL_WORDS: Record<string, boolean> = Object.assign(Object.create(null) as Record<string, boolean>, {
  yes: true,
  true: true,
  on: true,
  y: true,
  no: false,
  false: false,
  off: false,
  n: false,
});

/**
 * Evaluate a `when` / `changed_when` / `failed_when` / `until` condition with Ansible semantics:
 * - a list is an AND of its items (an empty list is true);
 * - booleans are themselves, numbers are true when non-zero, null and '' are true (Ansible: no condition);
 * - "yes"/"no"/"true"/"false"/"on"/"off" (any case) are booleans;
 * - any other string is a bare Jinja expression (`result.rc != 0`, `x is defined`, `item in groups['vnc']`);
 *   a string holding `{{ }}` is rendered and its result judged as a value ("false" → false, '' → false).
 * An undefined variable raises a TemplateError naming it and `where`.
 */
export function evaluateCondition(expr: unknown, vars: Record<string, unknown>, where?: SourcePos): boolean {
  if (expr instanceof Unsafe) return judgeValue(expr.value);
  if (Array.isArray(expr)) return expr.every((e) => evaluateCondition(e, vars, where));
  if (typeof expr !== 'string') return judgeValue(expr);
  const text = expr.trim();
  if (text === '') return true;
  const word = BOOL_WORDS[text.toLowerCase()];
  if (word !== undefined) return word;
  if (isTemplateString(text)) {
    // The rendered result is judged as data, never evaluated as an expression again: it may hold host output.
    return judgeValue(render(text, vars, where), false);
  }
  return evaluateTruth(text, vars, where);
}

/** Truth of a value that is already data (not an expression). */
function judgeValue(value: unknown, nullIs = true): boolean {
  // A missing condition (`when:` with no value) is no condition; a value that renders to None is false.
  if (value === null || value === undefined) return nullIs;
  if (typeof value === 'string') {
    const word = BOOL_WORDS[value.trim().toLowerCase()];
    if (word !== undefined) return word;
  }
  return truthy(value);
}
