import { TemplateError, type SourcePos } from '../errors.js';
import { Unsafe, truthy } from './filters.js';
import { checkExpressionSyntax, checkTemplateSyntax, evaluateTruth, isTemplateString, renderTracked } from './template.js';

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
 *   a string holding `{{ }}` is rendered first; a string result is evaluated again as an expression unless it
 *   was built from host data (refused, E_TEMPLATE_UNSAFE_CONDITION).
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
  if (isTemplateString(text)) return evaluateTemplatedCondition(text, vars, where);
  return evaluateTruth(text, vars, where);
}

/**
 * `when: "{{ x }} == 1"` (deprecated in Ansible, still common): rendered, then a string result is evaluated as an
 * expression, as ansible-core does. If the text was built from host data it is refused instead: evaluating a
 * host's output as an expression would let that host run lookups on the controller.
 */
function evaluateTemplatedCondition(text: string, vars: Record<string, unknown>, where: SourcePos | undefined): boolean {
  const { value, unsafeRead } = renderTracked(text, vars, where);
  if (typeof value !== 'string') return judgeValue(value, false);
  const word = BOOL_WORDS[value.trim().toLowerCase()];
  if (word !== undefined) return word;
  if (value.trim() === '') return false;
  if (unsafeRead) {
    throw new TemplateError(
      'E_TEMPLATE_UNSAFE_CONDITION',
      `condition ${JSON.stringify(text)} renders host data into an expression, which is not evaluated${where ? ` in ${where.file}:${where.line}:${where.col}` : ''}`,
      {
        ...(where ? { pos: where } : {}),
        hint: `write the condition without {{ }}, e.g. when: ${text.replace(/\{\{\s*|\s*\}\}/g, '')}`,
      },
    );
  }
  return evaluateTruth(value, vars, where);
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

/**
 * Check a condition's syntax at load time (unknown filters/tests, unbalanced brackets) without variables, so a
 * typo in `when:` fails before any host is touched. Lists are checked item by item.
 */
export function checkConditionSyntax(expr: unknown, where?: SourcePos): void {
  if (expr instanceof Unsafe) return;
  if (Array.isArray(expr)) {
    for (const e of expr) checkConditionSyntax(e, where);
    return;
  }
  if (typeof expr !== 'string') return;
  const text = expr.trim();
  if (text === '' || BOOL_WORDS[text.toLowerCase()] !== undefined) return;
  if (isTemplateString(text)) checkTemplateSyntax(text, where);
  else checkExpressionSyntax(text, where);
}
