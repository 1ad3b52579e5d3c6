import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError } from '../../shared/errors.ts';
import { FAULT_TREE_FORMAT, type BasicEvent, type FaultTree, type FaultTreeModel, type Gate, type GateType, type HouseEvent } from './model.ts';
import { validateFaultTreeModel } from './validate.ts';

/**
 * Open-PSA Model Exchange Format (MEF) import, for the subset that fault-tree tools exchange:
 * `define-fault-tree`, `model-data`, `define-gate` with and/or/atleast/not/xor/nand/nor (nested formulas
 * become extra gates named `<gate>~<n>`), `iff`/`imply` (rewritten with not/xor/or), typed
 * (`gate`/`basic-event`/`house-event`) and untyped (`event`) references, `define-basic-event` with a
 * `float`/`int` value, a `parameter`, or `exponential` (lambda, time), `define-house-event` with a
 * `constant`/`bool` value, and `define-parameter`. Anything else that carries meaning (CCF groups,
 * event trees, other distributions, substitutions) is rejected by name rather than silently ignored.
 */

/** fast-xml-parser's `preserveOrder` node: one key for the tag, `:@` for attributes. */
type XmlNode = Record<string, unknown>;

interface Element {
  tag: string;
  attrs: Record<string, string>;
  children: Element[];
  text?: string;
}

const IGNORED = new Set(['label', 'attributes', 'attribute', '#comment', '#text', '?xml']);

function toElements(nodes: unknown): Element[] {
  if (!Array.isArray(nodes)) return [];
  const out: Element[] = [];
  for (const node of nodes as XmlNode[]) {
    const tag = Object.keys(node).find((key) => key !== ':@');
    if (tag === undefined) continue;
    const rawAttrs = (node[':@'] ?? {}) as Record<string, unknown>;
    const attrs: Record<string, string> = {};
    for (const [key, value] of Object.entries(rawAttrs)) attrs[key] = String(value);
    if (tag === '#text') out.push({ tag, attrs, children: [], text: String(node[tag]) });
    else out.push({ tag, attrs, children: tag.startsWith('#') || tag === '?xml' ? [] : toElements(node[tag]) });
  }
  return out;
}

function textOf(element: Element | undefined): string | undefined {
  return element?.children.filter((child) => child.tag === '#text').map((child) => child.text ?? '').join('');
}

function unsupported(construct: string, where: string): AppError {
  return new AppError('unprocessable', `unsupported Open-PSA MEF construct <${construct}> in ${where}`, { field: where, element: where, construct });
}

function meaningful(children: Element[]): Element[] {
  return children.filter((child) => !IGNORED.has(child.tag));
}

function requireName(element: Element, where: string): string {
  const name = element.attrs.name;
  if (name === undefined || name.trim() === '') {
    throw new AppError('malformed_input', `<${element.tag}> in ${where} has no name attribute`, { field: where });
  }
  return name.trim();
}

type RefKind = 'gate' | 'basic-event' | 'house-event' | 'event';

class MefReader {
  readonly gatesByTree: Gate[][] = [];
  readonly trees: FaultTree[] = [];
  readonly basicEvents: BasicEvent[] = [];
  readonly houseEvents: HouseEvent[] = [];
  readonly parameters = new Map<string, Element>();
  readonly typedRefs: { from: string; name: string; kind: RefKind }[] = [];
  private readonly pendingBasic: { element: Element; where: string }[] = [];

  readContainer(children: Element[], tree: Gate[] | undefined, where: string): void {
    for (const child of meaningful(children)) {
      switch (child.tag) {
        case 'define-fault-tree': {
          if (tree) throw unsupported('define-fault-tree', `${where} (nested fault trees)`);
          const name = requireName(child, where);
          const gates: Gate[] = [];
          this.readContainer(child.children, gates, `fault tree "${name}"`);
          if (gates.length === 0) throw new AppError('unprocessable', `fault tree "${name}" defines no gates`, { field: name, element: name });
          const label = labelOf(child);
          this.trees.push({ name, ...(label ? { label } : {}), gates });
          break;
        }
        case 'model-data':
          this.readContainer(child.children, undefined, 'model-data');
          break;
        case 'define-gate': {
          if (!tree) throw unsupported('define-gate', `${where} (gates belong in a define-fault-tree)`);
          this.readGate(child, tree);
          break;
        }
        case 'define-basic-event':
          this.pendingBasic.push({ element: child, where });
          break;
        case 'define-house-event':
          this.houseEvents.push(readHouseEvent(child, where));
          break;
        case 'define-parameter':
          this.parameters.set(requireName(child, where), child);
          break;
        default:
          throw unsupported(child.tag, where);
      }
    }
  }

  finishBasicEvents(): void {
    for (const { element, where } of this.pendingBasic) this.basicEvents.push(this.readBasicEvent(element, where));
  }

  private readGate(element: Element, tree: Gate[]): void {
    const name = requireName(element, 'define-gate');
    const body = meaningful(element.children);
    if (body.length !== 1) {
      throw new AppError('unprocessable', `gate "${name}" must contain exactly one formula, has ${body.length}`, { field: name, element: name });
    }
    const label = labelOf(element);
    const gate = this.readFormula(body[0]!, name, tree, { n: 0 }, name);
    if (label) gate.label = label;
    tree.push(gate);
  }

  /** Turns one formula element into a gate called `name`; nested formulas become gates `<owner>~<n>`. */
  private readFormula(formula: Element, name: string, tree: Gate[], counter: { n: number }, owner: string): Gate {
    const tag = formula.tag;
    if (isReference(tag)) return { name, type: 'or', inputs: [this.readArgument(formula, tree, counter, owner)] };
    const args = meaningful(formula.children);
    const input = (arg: Element): string => this.readArgument(arg, tree, counter, owner);
    switch (tag) {
      case 'and':
      case 'or':
      case 'xor':
      case 'not':
      case 'nand':
      case 'nor':
        return { name, type: tag as GateType, inputs: args.map(input) };
      case 'atleast': {
        const k = Number(formula.attrs.min);
        if (!Number.isInteger(k)) {
          throw new AppError('unprocessable', `atleast in gate "${owner}" needs an integer min attribute (got ${formula.attrs.min ?? 'none'})`, { field: owner, element: owner });
        }
        return { name, type: 'atleast', k, inputs: args.map(input) };
      }
      case 'imply': {
        // a -> b  ==  not(a) or b
        if (args.length !== 2) throw new AppError('unprocessable', `imply in gate "${owner}" needs two arguments`, { field: owner, element: owner });
        const negated = this.addGate(tree, counter, owner, { type: 'not', inputs: [input(args[0]!)] });
        return { name, type: 'or', inputs: [negated, input(args[1]!)] };
      }
      case 'iff': {
        // a <-> b  ==  not(a xor b)
        if (args.length !== 2) throw new AppError('unprocessable', `iff in gate "${owner}" needs two arguments`, { field: owner, element: owner });
        const exclusive = this.addGate(tree, counter, owner, { type: 'xor', inputs: [input(args[0]!), input(args[1]!)] });
        return { name, type: 'not', inputs: [exclusive] };
      }
      default:
        throw unsupported(tag, `gate "${owner}"`);
    }
  }

  private addGate(tree: Gate[], counter: { n: number }, owner: string, gate: Omit<Gate, 'name'>): string {
    const name = `${owner}~${++counter.n}`;
    tree.push({ name, ...gate });
    return name;
  }

  private readArgument(arg: Element, tree: Gate[], counter: { n: number }, owner: string): string {
    if (isReference(arg.tag)) {
      const name = requireName(arg, `gate "${owner}"`);
      this.typedRefs.push({ from: owner, name, kind: arg.tag as RefKind });
      return name;
    }
    const name = `${owner}~${++counter.n}`;
    tree.push(this.readFormula(arg, name, tree, counter, owner));
    return name;
  }

  private readBasicEvent(element: Element, where: string): BasicEvent {
    const name = requireName(element, where);
    const body = meaningful(element.children);
    const label = labelOf(element);
    const base = label ? { name, label } : { name };
    if (body.length !== 1) {
      throw new AppError('unprocessable', `basic event "${name}" needs exactly one probability expression, has ${body.length}`, { field: name, element: name });
    }
    const expression = body[0]!;
    if (expression.tag === 'exponential') {
      const args = meaningful(expression.children);
      if (args.length !== 2) {
        throw new AppError('unprocessable', `exponential of basic event "${name}" needs two arguments (rate, time), has ${args.length}`, { field: name, element: name });
      }
      return { ...base, failureRate: this.evaluate(args[0]!, name, 0), missionTime: this.evaluate(args[1]!, name, 0) };
    }
    return { ...base, probability: this.evaluate(expression, name, 0) };
  }

  /** Numeric value of a constant expression: float/int literals and (chains of) parameters. */
  private evaluate(expression: Element, owner: string, depth: number): number {
    if (depth > 64) throw new AppError('unprocessable', `parameters used by "${owner}" refer to each other in a cycle`, { field: owner, element: owner });
    switch (expression.tag) {
      case 'float':
      case 'int': {
        const value = Number(expression.attrs.value);
        if (expression.attrs.value === undefined || !Number.isFinite(value)) {
          throw new AppError('unprocessable', `<${expression.tag}> of "${owner}" has no numeric value (got ${expression.attrs.value ?? 'none'})`, { field: owner, element: owner });
        }
        return value;
      }
      case 'parameter': {
        const name = requireName(expression, `"${owner}"`);
        const definition = this.parameters.get(name);
        if (!definition) throw new AppError('unprocessable', `"${owner}" uses undefined parameter "${name}"`, { field: owner, element: owner });
        const body = meaningful(definition.children);
        if (body.length !== 1) throw new AppError('unprocessable', `parameter "${name}" needs exactly one expression`, { field: name, element: name });
        return this.evaluate(body[0]!, name, depth + 1);
      }
      default:
        throw unsupported(expression.tag, `basic event or parameter "${owner}"`);
    }
  }
}

function isReference(tag: string): boolean {
  return tag === 'gate' || tag === 'basic-event' || tag === 'house-event' || tag === 'event';
}

function labelOf(element: Element): string | undefined {
  const label = element.children.find((child) => child.tag === 'label');
  return textOf(label)?.trim() || undefined;
}

function readHouseEvent(element: Element, where: string): HouseEvent {
  const name = requireName(element, where);
  const body = meaningful(element.children);
  // MEF: a house event without a value is false.
  if (body.length === 0) return { name, state: false };
  const constant = body[0]!;
  const raw = constant.attrs.value?.trim().toLowerCase();
  if (body.length !== 1 || (constant.tag !== 'constant' && constant.tag !== 'bool') || (raw !== 'true' && raw !== 'false')) {
    throw new AppError('unprocessable', `house event "${name}" needs <constant value="true|false"/>`, { field: name, element: name });
  }
  return { name, state: raw === 'true' };
}

/** Parses Open-PSA MEF XML into a validated Firebreak model; `name` defaults to the first fault tree's name. */
export function parseOpenPsaMef(xml: string, options: { name?: string } = {}): FaultTreeModel {
  const verdict = XMLValidator.validate(xml);
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    throw new AppError('malformed_input', `malformed XML at line ${line}, column ${col}: ${msg}`, { field: `line ${line}`, line, column: col });
  }
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: true,
  });
  const document = toElements(parser.parse(xml));
  const root = document.find((element) => !element.tag.startsWith('?') && !element.tag.startsWith('#'));
  if (!root || root.tag !== 'opsa-mef') {
    throw new AppError('malformed_input', `not an Open-PSA MEF document: the root element is <${root?.tag ?? 'nothing'}>, expected <opsa-mef>`, { field: '(root)' });
  }
  const reader = new MefReader();
  reader.readContainer(root.children, undefined, 'opsa-mef');
  reader.finishBasicEvents();
  if (reader.trees.length === 0) throw new AppError('unprocessable', 'the MEF document defines no fault tree', { field: 'opsa-mef' });

  const model: FaultTreeModel = {
    format: FAULT_TREE_FORMAT,
    name: options.name ?? reader.trees[0]!.name,
    faultTrees: reader.trees,
    basicEvents: reader.basicEvents,
    ...(reader.houseEvents.length > 0 ? { houseEvents: reader.houseEvents } : {}),
  };
  const index = validateFaultTreeModel(model);
  for (const ref of reader.typedRefs) {
    const actual = index.gates.has(ref.name) ? 'gate' : index.basicEvents.has(ref.name) ? 'basic-event' : 'house-event';
    if (ref.kind !== 'event' && ref.kind !== actual) {
      throw new AppError('unprocessable', `gate "${ref.from}" refers to <${ref.kind} name="${ref.name}">, but "${ref.name}" is a ${actual}`, {
        field: ref.from,
        element: ref.from,
      });
    }
  }
  return model;
}
