import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Keeps the storage layering true (docs/ARCHITECTURE.md): SQL lives only in repository files, and a repository
 * names only the tables its own capability creates. A table belongs to the capability whose migration creates it.
 */

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Kysely calls that start a query, or name a table inside one. */
const QUERY_STARTS = new Set(['selectFrom', 'insertInto', 'replaceInto', 'updateTable', 'deleteFrom', 'mergeInto']);
const TABLE_NAMING = new Set([...QUERY_STARTS, 'innerJoin', 'leftJoin', 'rightJoin', 'fullJoin', 'crossJoin', 'innerJoinLateral', 'leftJoinLateral']);
const SCHEMA_NAMING = new Set(['createTable', 'alterTable', 'dropTable']);
/** Raw SQL: `sql\`…\``, `sql<T>\`…\`` and `sql.raw(…)`. */
const RAW_SQL_FUNCTIONS = new Set(['raw', 'table', 'id', 'ref', 'lit', 'join', 'val']);
/** Tables named inside raw SQL text. */
const SQL_TABLE_WORDS = /\b(?:from|join|into|update|table|on)\s+"?([a-z_][a-z0-9_]*)/gi;

export function isRepositoryFile(file: string): boolean {
  return /(^|\/)(repository|[a-z0-9-]+\.repository)\.ts$/.test(file);
}
function isSchemaFile(file: string): boolean {
  return /(^|\/)schema\.ts$/.test(file) && !file.includes('/schemas');
}
function isStorageInfrastructure(file: string): boolean {
  return file.startsWith('storage/');
}

/** The capability a file belongs to: its top-level folder under src/. */
function capabilityOf(file: string): string {
  return file.split('/')[0]!;
}

interface Use {
  file: string;
  line: number;
  what: string;
  tables: string[];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

function tableOf(literal: string): string {
  return literal.trim().split(/\s+as\s+/i)[0]!.trim();
}

function templateText(node: ts.TemplateLiteral): string {
  if (ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  return [node.head.text, ...node.templateSpans.map((span) => span.literal.text)].join(' ? ');
}

function tablesInSql(text: string): string[] {
  return [...text.matchAll(SQL_TABLE_WORDS)].map((m) => m[1]!.toLowerCase());
}

function isSqlTag(node: ts.Expression): boolean {
  return ts.isIdentifier(node) && node.text === 'sql';
}

/** Every query-builder call, raw SQL fragment and schema statement in one file, with the tables it names. */
function scan(file: string): { queries: Use[]; schema: Use[]; commonTableExpressions: Set<string> } {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const queries: Use[] = [];
  const schema: Use[] = [];
  /** Names a query gives with `.with('name', …)`: selecting from them names no table. */
  const commonTableExpressions = new Set<string>();
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const firstStringArg = (call: ts.CallExpression): string | undefined => {
    const arg = call.arguments[0];
    return arg && ts.isStringLiteralLike(arg) ? arg.text : undefined;
  };
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const name = node.expression.name.text;
      const target = node.expression.expression;
      if ((name === 'with' || name === 'withRecursive') && firstStringArg(node)) {
        commonTableExpressions.add(tableOf(firstStringArg(node)!));
      } else if (TABLE_NAMING.has(name)) {
        const table = firstStringArg(node);
        queries.push({ file, line: lineOf(node), what: name, tables: table ? [tableOf(table)] : [] });
      } else if (SCHEMA_NAMING.has(name)) {
        const table = firstStringArg(node);
        schema.push({ file, line: lineOf(node), what: name, tables: table ? [tableOf(table)] : [] });
      } else if (name === 'on' && ts.isCallExpression(target) && ts.isPropertyAccessExpression(target.expression) && target.expression.name.text === 'createIndex') {
        const table = firstStringArg(node);
        schema.push({ file, line: lineOf(node), what: 'createIndex', tables: table ? [tableOf(table)] : [] });
      } else if (isSqlTag(target) && RAW_SQL_FUNCTIONS.has(name)) {
        const arg = node.arguments[0];
        const literal = arg && (ts.isStringLiteralLike(arg) ? arg.text : ts.isTemplateLiteral(arg) ? templateText(arg) : '');
        queries.push({ file, line: lineOf(node), what: `sql.${name}`, tables: name === 'table' && literal ? [literal] : tablesInSql(literal ?? '') });
      }
    }
    if (ts.isTaggedTemplateExpression(node) && isSqlTag(node.tag)) {
      queries.push({ file, line: lineOf(node), what: 'sql``', tables: tablesInSql(templateText(node.template)) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { queries, schema, commonTableExpressions };
}

const files = sourceFiles(SRC).map((f) => path.relative(SRC, f).split(path.sep).join('/'));
const scanned = files.map((file) => ({ file, ...scan(file) }));

/** Table → owning capability, from the migrations' `createTable` calls. */
function tableOwners(): Map<string, string> {
  const owners = new Map<string, string>();
  for (const { file, schema } of scanned) {
    for (const use of schema) {
      if (use.what !== 'createTable') continue;
      for (const table of use.tables) {
        const previous = owners.get(table);
        if (previous && previous !== capabilityOf(file)) throw new Error(`${table} is created by both ${previous} and ${capabilityOf(file)}`);
        owners.set(table, capabilityOf(file));
      }
    }
  }
  return owners;
}

describe('repositories own their tables', () => {
  const owners = tableOwners();

  it('derives table ownership from the migrations', () => {
    expect(owners.size).toBeGreaterThan(20);
    expect(owners.get('incidents')).toBe('incidents');
    expect(owners.get('team_members')).toBe('catalog');
  });

  it('has no query-builder call or raw SQL outside repository files', () => {
    const outside = scanned
      .filter(({ file }) => !isRepositoryFile(file) && !isSchemaFile(file) && !isStorageInfrastructure(file))
      .flatMap(({ queries }) => queries)
      .map((use) => `${use.file}:${use.line} ${use.what}${use.tables.length ? ` (${use.tables.join(', ')})` : ''}`);
    expect(outside).toEqual([]);
  });

  it('has each repository and migration name only tables its capability creates', () => {
    const foreign: string[] = [];
    for (const { file, queries, schema, commonTableExpressions } of scanned) {
      if (!isRepositoryFile(file) && !isSchemaFile(file) && !isStorageInfrastructure(file)) continue;
      for (const use of [...queries, ...schema]) {
        for (const table of use.tables) {
          if (commonTableExpressions.has(table)) continue;
          const owner = owners.get(table);
          // Words after FROM/JOIN/ON in raw SQL that are not tables (a CTE, a function, a column) are not checked.
          if (owner === undefined && (use.what.startsWith('sql') || use.what === 'createIndex')) continue;
          if (owner !== capabilityOf(file)) foreign.push(`${file}:${use.line} ${use.what} names ${table} (${owner ? `owned by ${owner}` : 'created by no migration'})`);
        }
      }
    }
    expect(foreign).toEqual([]);
  });
});
