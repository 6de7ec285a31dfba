import { existsSync } from 'node:fs';
import { join } from 'node:path';

import ts from 'typescript';

export const ROOT = join(import.meta.dirname, '../..');

/**
 * A TypeScript program of one consumer file, as a shop's code would be compiled against the
 * built package: the file sits (virtually) inside this package, so `nestjs-postback` and
 * `nestjs-postback/testing` resolve through package.json `exports` to the shipped
 * declarations, never to `src/`.
 */
export function consumerProgram(source: string): { program: ts.Program; file: ts.SourceFile } {
  if (!existsSync(join(ROOT, 'dist'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  const fileName = join(ROOT, 'test/__consumer__.ts');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    experimentalDecorators: true,
    types: ['node'],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (
    (exists) => (name: string) =>
      name === fileName || exists(name)
  )(host.fileExists.bind(host));
  host.readFile = (name) => (name === fileName ? source : readFile(name));
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName
      ? ts.createSourceFile(name, source, language, true)
      : getSourceFile(name, language, ...rest);
  const program = ts.createProgram([fileName], options, host);
  return { program, file: program.getSourceFile(fileName) as ts.SourceFile };
}

/** The consumer's own compile errors, each as `line: message`. */
export function errorsOf(program: ts.Program, file: ts.SourceFile): string[] {
  return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map(
    (d) => {
      const line = d.start === undefined ? 0 : file.getLineAndCharacterOfPosition(d.start).line;
      return `${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    },
  );
}
