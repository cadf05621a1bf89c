import type { Change, Step } from '../types.js';
import { expandRuleArg, formatRule, normaliseRuleArg, ruleKey } from './normalize.js';
import type { CreateSpec, Direction, GroupState, NormRule, SecurityGroupAdapter, SecurityGroupArgs, SecurityGroupFacts } from './types.js';

/**
 * The pure half of security_group: facts in, Changes out. Steps are closures that reach the adapter only when the
 * runner runs them, so --check (steps never run) makes no mutating call by construction.
 */

export const DEFAULT_DESCRIPTION = 'managed by vncplay';

export interface RuleDiff {
  add: NormRule[];
  remove: NormRule[];
}

/** Rules wanted in one direction; undefined when the list is omitted, which leaves that direction alone. */
export function desiredRules(args: SecurityGroupArgs, direction: Direction): NormRule[] | undefined {
  const list = direction === 'ingress' ? args.rules : args.rules_egress;
  if (list === undefined) return undefined;
  const field = direction === 'ingress' ? 'rules' : 'rules_egress';
  const seen = new Map<string, NormRule>();
  list.forEach((arg, i) => {
    for (const one of expandRuleArg(arg)) {
      const r = normaliseRuleArg(one, args.provider, `${field}[${i}]`);
      if ('error' in r) throw new Error(r.error);
      if (!seen.has(ruleKey(r.rule))) seen.set(ruleKey(r.rule), r.rule);
    }
  });
  return [...seen.values()];
}

export function diffRules(current: NormRule[], desired: NormRule[] | undefined, purge: boolean): RuleDiff {
  if (desired === undefined) return { add: [], remove: [] };
  const have = new Set(current.map(ruleKey));
  const want = new Set(desired.map(ruleKey));
  return {
    add: desired.filter((r) => !have.has(ruleKey(r))),
    remove: purge ? current.filter((r) => !want.has(ruleKey(r))) : [],
  };
}

export function rulesText(rules: NormRule[], direction: Direction): string {
  return rules.map((r) => `${direction} ${formatRule(r, direction)}\n`).join('');
}

/** What the steps need at run time besides the plan itself; kept out of the facts so facts stay plain data. */
export interface StepRuntime {
  adapter(): Promise<SecurityGroupAdapter>;
  /** Run `fn` once per (read, step signature) for the task's hosts, however many of them planned it. */
  once<T>(signature: string, fn: () => Promise<T>): Promise<T>;
  /** Called after the last step succeeded or any step failed: the shared read is stale. */
  invalidate(): void;
}

export function groupLabel(args: SecurityGroupArgs, facts: SecurityGroupFacts): string {
  const g = facts.group;
  const what = g ? `'${g.name}' (${g.id})` : args.name ? `'${args.name}'` : `(${args.group_id})`;
  return `${args.provider}:${args.region} security group ${what}`;
}

export function planChanges(args: SecurityGroupArgs, facts: SecurityGroupFacts, rt: StepRuntime): Change[] {
  const label = groupLabel(args, facts);
  const group = facts.group;
  const changes: Change[] = [];
  // Filled by the create step, read by the rule steps that follow it in the same run.
  const target = { id: group?.id };
  const groupId = (): string => {
    if (!target.id) throw new Error('security group id unknown: the create step did not run');
    return target.id;
  };

  if ((args.state ?? 'present') === 'absent') {
    if (!group) return [];
    const before = rulesText(group.ingress, 'ingress') + rulesText(group.egress, 'egress');
    changes.push({
      summary: `delete ${label}`,
      diff: { path: label, before: before || '(no rules)\n', after: '(group absent)\n' },
      steps: [callStep(`delete ${group.id}`, rt, `delete`, async (signal) => (await rt.adapter()).remove(group.id, signal))],
    });
    return finalise(changes, rt);
  }

  let current: GroupState['ingress' | 'egress'][] = [group?.ingress ?? [], group?.egress ?? []];
  if (!group) {
    if (!args.name) throw new Error('the group does not exist and no name was given to create it');
    const spec: CreateSpec = { name: args.name, description: args.description ?? DEFAULT_DESCRIPTION };
    if (args.vpc_id) spec.vpcId = args.vpc_id;
    current = [facts.initialRules.ingress, facts.initialRules.egress];
    changes.push({
      summary: `create ${label}`,
      diff: { path: label, before: '(group absent)\n', after: rulesText(current[0]!, 'ingress') + rulesText(current[1]!, 'egress') || '(no rules)\n' },
      steps: [
        callStep(`create ${args.name}`, rt, 'create', async (signal) => {
          target.id = await (await rt.adapter()).create(spec, signal);
          return target.id;
        }),
      ],
    });
  }

  const directions: Direction[] = ['ingress', 'egress'];
  directions.forEach((direction, i) => {
    const have = current[i]!;
    const purge = (direction === 'ingress' ? args.purge_rules : args.purge_rules_egress) ?? true;
    const d = diffRules(have, desiredRules(args, direction), purge);
    if (d.add.length === 0 && d.remove.length === 0) return;
    const removed = new Set(d.remove.map(ruleKey));
    const after = [...have.filter((r) => !removed.has(ruleKey(r))), ...d.add];
    const addSig = `${direction} add ${d.add.map(ruleKey).sort().join(',')}`;
    const delSig = `${direction} remove ${d.remove.map(ruleKey).sort().join(',')}`;
    const add = callStep(`authorize ${d.add.length} ${direction} rule(s)`, rt, addSig, async (signal) =>
      (await rt.adapter()).authorize(groupId(), direction, d.add, signal),
    );
    const del = callStep(`revoke ${d.remove.length} ${direction} rule(s)`, rt, delSig, async (signal) =>
      (await rt.adapter()).revoke(groupId(), direction, d.remove, signal),
    );
    const steps: Step[] = [];
    if (d.add.length) steps.push(add);
    if (d.remove.length) steps.push(del);
    if (facts.revokeFirst) steps.reverse();
    const parts = [d.add.length ? `add ${d.add.length}` : '', d.remove.length ? `remove ${d.remove.length}` : ''].filter(Boolean);
    changes.push({
      summary: `${direction}: ${parts.join(', ')} rule(s) on ${label}`,
      diff: { path: `${label} ${direction}`, before: rulesText(have, direction), after: rulesText(after, direction) },
      steps,
    });
  });
  return finalise(changes, rt);
}

function callStep(label: string, rt: StepRuntime, signature: string, fn: (signal: AbortSignal) => Promise<unknown>): Step {
  return {
    kind: 'call',
    label,
    run: async (signal) => {
      try {
        return await rt.once(signature, () => fn(signal));
      } catch (err) {
        rt.invalidate();
        throw err;
      }
    },
  };
}

/** The read the plan was made from is stale once the last step has run. */
function finalise(changes: Change[], rt: StepRuntime): Change[] {
  const lastChange = changes[changes.length - 1];
  const lastStep = lastChange?.steps[lastChange.steps.length - 1];
  if (lastChange && lastStep && lastStep.kind === 'call') {
    const inner = lastStep;
    lastChange.steps[lastChange.steps.length - 1] = {
      kind: 'call',
      label: inner.label,
      run: async (signal) => {
        const v = await inner.run(signal);
        rt.invalidate();
        return v;
      },
    };
  }
  return changes;
}
