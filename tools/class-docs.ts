import { readFileSync } from 'node:fs';

import ts from 'typescript';

/**
 * The JSDoc of classes and their members in `files`: `Class` and `Class.member` → its first
 * paragraph, so that generated documentation says what the source comments say.
 */
export function classDocs(files: string[]): Map<string, string> {
  const docs = new Map<string, string>();
  const text = (node: ts.Node) => {
    const jsDoc = (node as { jsDoc?: ts.JSDoc[] }).jsDoc?.at(-1);
    const comment = jsDoc ? (ts.getTextOfJSDocComment(jsDoc.comment) ?? '') : '';
    return comment
      .split(/\n\s*\n/)[0]
      .replace(/\s*\n\s*/g, ' ')
      .trim();
  };
  for (const file of files) {
    const source = ts.createSourceFile(
      file,
      readFileSync(file, 'utf8'),
      ts.ScriptTarget.ES2022,
      true,
    );
    source.forEachChild((node) => {
      if (!ts.isClassDeclaration(node) || !node.name) return;
      const name = node.name.text;
      if (text(node)) docs.set(name, text(node));
      for (const member of node.members) {
        if (!member.name || !text(member)) continue;
        docs.set(`${name}.${member.name.getText()}`, text(member));
      }
    });
  }
  return docs;
}
