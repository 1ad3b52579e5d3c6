import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * `firebreak --help` and every CLI call start from src/main.ts. What it imports statically is loaded before any
 * command runs, so a capability's index file pulled in by accident (auth's loads openid-client and argon2,
 * egress's undici) costs every call about a second of CPU. Command groups load later, through `import()`.
 */
const SRC = path.resolve(import.meta.dirname, '../../src');
const ALLOWED_PACKAGES = new Set(['commander', 'cli-table3', 'ipaddr.js']);

function staticImports(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const out: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && !statement.importClause?.isTypeOnly) {
      out.push((statement.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(statement) && !statement.isTypeOnly && statement.moduleSpecifier) {
      out.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return out;
}

function packagesLoadedAtStart(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of staticImports(file)) {
      if (specifier.startsWith('.')) pending.push(path.resolve(path.dirname(file), specifier));
      else if (!specifier.startsWith('node:')) packages.set(specifier, path.relative(SRC, file));
    }
  }
  return packages;
}

describe('CLI start-up', () => {
  it('loads no server or capability library before a command is chosen', () => {
    const loaded = packagesLoadedAtStart(path.join(SRC, 'main.ts'));
    const unexpected = [...loaded].filter(([name]) => !ALLOWED_PACKAGES.has(name)).map(([name, from]) => `${name} (from ${from})`);
    expect(unexpected).toEqual([]);
  });
});
