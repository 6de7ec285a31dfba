import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import ts from 'typescript';

import { consumerProgram, ROOT } from './utils/consumer-program.js';

/**
 * What the README and docs/ show a shop importing from the package, and the classes whose
 * members they name (`OutboxFlusher.flush()`), the built package's entry points export; a
 * name documented but reachable only by a deep import fails here.
 */
const ENTRIES = ['nestjs-postback', 'nestjs-postback/testing'];

function documents(): { name: string; text: string }[] {
  const docs = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? docs(join(dir, entry.name))
        : entry.name.endsWith('.md')
          ? [join(dir, entry.name)]
          : [],
    );
  return ['README.md', ...docs('docs')].map((name) => ({
    name,
    text: readFileSync(join(ROOT, name), 'utf8'),
  }));
}

/** Names imported from `entry` in the fenced TypeScript/JavaScript blocks of a document. */
function importedNames(markdown: string, entry: string): string[] {
  const names: string[] = [];
  for (const [, code] of markdown.matchAll(
    /```(?:ts|typescript|js|javascript|mjs)\n([\s\S]*?)```/g,
  )) {
    const file = ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022);
    for (const statement of file.statements) {
      if (!ts.isImportDeclaration(statement)) continue;
      if ((statement.moduleSpecifier as ts.StringLiteral).text !== entry) continue;
      const bindings = statement.importClause?.namedBindings;
      if (!bindings || !ts.isNamedImports(bindings)) continue;
      for (const element of bindings.elements) {
        names.push((element.propertyName ?? element.name).text);
      }
    }
  }
  return names;
}

/** What the host's own packages export: docs name their classes too. */
const PEER_EXPORTS: Record<string, unknown>[] = [];
// One at a time: jest's ESM loader fails on modules linked concurrently.
for (const name of [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/schedule',
  '@nestjs/typeorm',
  '@nestjs/event-emitter',
  '@nestjs/testing',
  'typeorm',
]) {
  PEER_EXPORTS.push((await import(name)) as Record<string, unknown>);
}

describe('what the documentation imports from the package', () => {
  const docs = documents();
  const source =
    ENTRIES.map((entry, i) => `import * as entry${i} from '${entry}';`).join('\n') +
    `\nexport { ${ENTRIES.map((_, i) => `entry${i}`).join(', ')} };\n`;
  const { program, file } = consumerProgram(source);
  const checker = program.getTypeChecker();
  const exportsOf = new Map(
    ENTRIES.map((entry, i) => {
      const statement = file.statements[i] as ts.ImportDeclaration;
      const module = checker.getSymbolAtLocation(statement.moduleSpecifier);
      if (!module) throw new Error(`${entry} does not resolve from the built package`);
      return [entry, new Map(checker.getExportsOfModule(module).map((s) => [s.name, s]))];
    }),
  );

  it.each(ENTRIES)('%s exports every name the docs import from it', (entry) => {
    const imported = docs.flatMap((doc) =>
      importedNames(doc.text, entry).map((name) => ({ doc: doc.name, name })),
    );
    // The README's quick start and docs/testing.md import from each entry: none found means
    // the parsing broke, not that all is well.
    expect(imported.length).toBeGreaterThan(0);
    const exported = exportsOf.get(entry) as Map<string, ts.Symbol>;
    const missing = imported.filter(({ name }) => !exported.has(name));
    expect(missing.map(({ doc, name }) => `${doc}: ${name}`)).toEqual([]);
  });

  it('exports every class whose member the docs name, with that member', () => {
    expect(PEER_EXPORTS.some((peer) => 'ScheduleModule' in peer)).toBe(true);
    const exported = exportsOf.get('nestjs-postback') as Map<string, ts.Symbol>;
    const mentions = docs.flatMap((doc) =>
      [...doc.text.matchAll(/`([A-Z][A-Za-z0-9]*)\.([a-z][A-Za-z0-9]*)\(\)`/g)].map(
        ([, owner, member]) => ({ doc: doc.name, owner, member }),
      ),
    );
    expect(mentions.length).toBeGreaterThan(0);
    const missing = mentions.filter(({ owner, member }) => {
      const symbol = exported.get(owner);
      // `ScheduleModule.forRoot()` and the like: a peer's class, named for the host's set-up.
      if (!symbol) return !PEER_EXPORTS.some((peer) => owner in peer);
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const statics = checker.getTypeOfSymbol(target);
      const instance = checker.getDeclaredTypeOfSymbol(target);
      return !statics.getProperty(member) && !instance.getProperty(member);
    });
    expect(missing.map(({ doc, owner, member }) => `${doc}: ${owner}.${member}()`)).toEqual([]);
  });

  it('exports postbackDataSourceOptions(), which the README names for a dedicated database', () => {
    expect(exportsOf.get('nestjs-postback')?.has('postbackDataSourceOptions')).toBe(true);
  });
});
