/**
 * Applies a recommendation to an environment declaration in place: the
 * TypeScript parser finds the exact spans of the literals to change, and only
 * those characters are replaced (or a property inserted / removed), so formatting,
 * comments and unrelated code stay byte-identical. A value that is not a literal
 * (a variable, a call, arithmetic) is refused: the bot only edits what a reviewer
 * can read at a glance.
 */
import ts from 'typescript';
import type { DeclarationChange } from '../optimizer/recommendation.ts';

export class DeclarationEditError extends Error {
  override readonly name = 'DeclarationEditError';

  constructor(
    readonly file: string,
    readonly path: string,
    problem: string,
  ) {
    super(`${file}: ${path}: ${problem}`);
  }
}

interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

type Literal = string | number | boolean;

function propertyName(property: ts.ObjectLiteralElementLike): string | undefined {
  if (!ts.isPropertyAssignment(property)) return undefined;
  const name = property.name;
  return ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) ? name.text : undefined;
}

const isLiteral = (node: ts.Expression): boolean =>
  ts.isNumericLiteral(node) ||
  ts.isStringLiteral(node) ||
  ts.isNoSubstitutionTemplateLiteral(node) ||
  node.kind === ts.SyntaxKind.TrueKeyword ||
  node.kind === ts.SyntaxKind.FalseKeyword ||
  (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand));

class Editor {
  private readonly splices: Splice[] = [];
  readonly quote: string;

  constructor(
    readonly file: string,
    readonly source: ts.SourceFile,
  ) {
    const firstString = findFirst(source, ts.isStringLiteral);
    this.quote = firstString && source.text[firstString.getStart(source)] === '"' ? '"' : "'";
  }

  /** The object literal a property holds, or an error naming the path. */
  object(parent: ts.ObjectLiteralExpression, name: string, path: string): ts.ObjectLiteralExpression | undefined {
    const property = this.property(parent, name, path);
    if (!property) return undefined;
    if (!ts.isObjectLiteralExpression(property.initializer)) {
      throw new DeclarationEditError(this.file, path, `expected an object literal the bot can edit (got ${this.excerpt(property.initializer)}); write the block out literally`);
    }
    return property.initializer;
  }

  property(parent: ts.ObjectLiteralExpression, name: string, path: string): ts.PropertyAssignment | undefined {
    for (const element of parent.properties) {
      if (propertyName(element) === name) return element as ts.PropertyAssignment;
      if (ts.isSpreadAssignment(element) || ts.isShorthandPropertyAssignment(element)) {
        throw new DeclarationEditError(this.file, path, `expected literal properties (got ${this.excerpt(element)}); the bot cannot tell what a spread or shorthand holds`);
      }
    }
    return undefined;
  }

  excerpt(node: ts.Node): string {
    const text = node.getText(this.source).replace(/\s+/g, ' ');
    return `\`${text.length > 40 ? `${text.slice(0, 40)}…` : text}\``;
  }

  literal(value: Literal): string {
    return typeof value === 'string' ? `${this.quote}${value.replace(new RegExp(this.quote, 'g'), `\\${this.quote}`)}${this.quote}` : String(value);
  }

  key(name: string): string {
    return /^[A-Za-z_$][\w$]*$/.test(name) ? name : this.literal(name);
  }

  /** Sets `name` in `parent` to `value`: replaces the literal, or inserts the property. */
  set(parent: ts.ObjectLiteralExpression, name: string, value: Literal, path: string): void {
    const property = this.property(parent, name, path);
    if (property) {
      if (!isLiteral(property.initializer)) {
        throw new DeclarationEditError(this.file, path, `expected a literal value the bot can edit (got ${this.excerpt(property.initializer)}); write the value out literally or change it by hand`);
      }
      this.splices.push({ start: property.initializer.getStart(this.source), end: property.initializer.getEnd(), text: this.literal(value) });
      return;
    }
    this.insert(parent, `${this.key(name)}: ${this.literal(value)}`);
  }

  /** Inserts `text` as the object's last property, following its layout (one line or one property per line). */
  insert(parent: ts.ObjectLiteralExpression, text: string): void {
    const properties = parent.properties;
    const last = properties[properties.length - 1];
    const sourceText = this.source.text;
    if (!last) {
      this.splices.push({ start: parent.getStart(this.source) + 1, end: parent.getEnd() - 1, text: ` ${text} ` });
      return;
    }
    const hasTrailingComma = properties.hasTrailingComma;
    const multiline = sourceText.slice(parent.getStart(this.source), parent.getEnd()).includes('\n');
    if (multiline) {
      const lineStart = sourceText.lastIndexOf('\n', last.getStart(this.source)) + 1;
      const indent = sourceText.slice(lineStart, last.getStart(this.source));
      const end = hasTrailingComma ? sourceText.indexOf(',', last.getEnd()) + 1 : last.getEnd();
      this.splices.push({ start: end, end, text: `${hasTrailingComma ? '' : ','}\n${indent}${text}${hasTrailingComma ? ',' : ''}` });
    } else {
      this.splices.push({ start: last.getEnd(), end: last.getEnd(), text: `, ${text}` });
    }
  }

  /** Removes a property and its comma. */
  remove(parent: ts.ObjectLiteralExpression, name: string, path: string): void {
    const property = this.property(parent, name, path);
    if (!property) return;
    const text = this.source.text;
    const index = parent.properties.indexOf(property);
    const next = parent.properties[index + 1];
    const previous = parent.properties[index - 1];
    if (next) this.splices.push({ start: property.getStart(this.source), end: next.getStart(this.source), text: '' });
    else if (previous)
      this.splices.push({
        start: previous.getEnd(),
        end: parent.properties.hasTrailingComma ? text.indexOf(',', property.getEnd()) + 1 : property.getEnd(),
        text: parent.properties.hasTrailingComma ? ',' : '',
      });
    else this.splices.push({ start: property.getStart(this.source), end: property.getEnd(), text: '' });
  }

  apply(): string {
    let text = this.source.text;
    for (const splice of [...this.splices].sort((a, b) => b.start - a.start)) text = text.slice(0, splice.start) + splice.text + text.slice(splice.end);
    return text;
  }
}

function findFirst<T extends ts.Node>(node: ts.Node, test: (node: ts.Node) => node is T): T | undefined {
  if (test(node)) return node;
  return ts.forEachChild(node, (child) => findFirst(child, test));
}

/** The object literal of `export default defineEnvironment({ … })`. */
function declarationObject(file: string, source: ts.SourceFile): ts.ObjectLiteralExpression {
  const exported = source.statements.find(ts.isExportAssignment);
  const call = exported?.expression;
  const argument = call && ts.isCallExpression(call) ? call.arguments[0] : undefined;
  if (!argument || !ts.isObjectLiteralExpression(argument)) {
    throw new DeclarationEditError(file, '', 'expected `export default defineEnvironment({ … })` with an object literal the bot can edit');
  }
  return argument;
}

/** Returns the new text of an environment declaration with `change` applied to `deployments.<modelName>`. */
export function applyDeclarationChange(file: string, text: string, modelName: string, change: DeclarationChange): string {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const editor = new Editor(file, source);
  const root = declarationObject(file, source);
  const deployments = editor.object(root, 'deployments', 'deployments');
  const at = `deployments.${modelName}`;
  const deployment = deployments && editor.object(deployments, modelName, at);
  if (!deployment) throw new DeclarationEditError(file, at, 'expected this deployment in the declaration (got none): was it renamed since the recommendation?');

  if (change.replicas) {
    const replicas = editor.object(deployment, 'replicas', `${at}.replicas`);
    if (!replicas) throw new DeclarationEditError(file, `${at}.replicas`, 'expected a replicas block (got none)');
    editor.set(replicas, 'min', change.replicas.min, `${at}.replicas.min`);
    editor.set(replicas, 'max', change.replicas.max, `${at}.replicas.max`);
  }
  if (change.gpu) {
    const gpu = editor.object(deployment, 'gpu', `${at}.gpu`);
    if (!gpu) throw new DeclarationEditError(file, `${at}.gpu`, 'expected a gpu block (got none)');
    editor.set(gpu, 'type', change.gpu.type, `${at}.gpu.type`);
    editor.set(gpu, 'count', change.gpu.count, `${at}.gpu.count`);
  }
  const engineArgs = Object.entries(change.engineArgs ?? {}).filter(([, value]) => value !== undefined) as [string, Literal][];
  if (engineArgs.length > 0 || change.removeEngineArgs?.length) {
    const block = editor.object(deployment, 'engineArgs', `${at}.engineArgs`);
    if (block) {
      for (const [name, value] of engineArgs) editor.set(block, name, value, `${at}.engineArgs.${name}`);
      for (const name of change.removeEngineArgs ?? []) editor.remove(block, name, `${at}.engineArgs.${name}`);
    } else if (engineArgs.length > 0) {
      editor.insert(deployment, `engineArgs: { ${engineArgs.map(([name, value]) => `${editor.key(name)}: ${editor.literal(value)}`).join(', ')} }`);
    }
  }
  for (const pool of change.nodePools ?? []) setPoolMaximum(editor, root, pool);
  return editor.apply();
}

/** Sets `nodePools[index].maxNodes`, after checking the pool there is the one the change was made for. */
function setPoolMaximum(editor: Editor, root: ts.ObjectLiteralExpression, pool: NonNullable<DeclarationChange['nodePools']>[number]): void {
  const at = `nodePools[${pool.index}]`;
  const list = editor.property(root, 'nodePools', 'nodePools');
  if (!list || !ts.isArrayLiteralExpression(list.initializer)) {
    throw new DeclarationEditError(editor.file, 'nodePools', `expected an array literal of node pools the bot can edit (got ${list ? editor.excerpt(list.initializer) : 'none'})`);
  }
  const element = list.initializer.elements[pool.index];
  if (!element || !ts.isObjectLiteralExpression(element)) {
    throw new DeclarationEditError(editor.file, at, `expected an object literal the bot can edit (got ${element ? editor.excerpt(element) : 'none'}); write the pool out literally`);
  }
  const name = editor.property(element, 'name', `${at}.name`)?.initializer;
  if (!name || !ts.isStringLiteral(name) || name.text !== pool.name) {
    throw new DeclarationEditError(
      editor.file,
      `${at}.name`,
      `expected the pool ${JSON.stringify(pool.name)} the recommendation grows (got ${name ? editor.excerpt(name) : 'none'}): were the pools reordered since?`,
    );
  }
  editor.set(element, 'maxNodes', pool.maxNodes, `${at}.maxNodes`);
}
