/**
 * The CLI and the typed client stay on the client side of the project: they import only the
 * client, the shared protocol, errors, config, the server and worker entry points and host
 * helpers, never activity, workflow or demo internals (the workflow function may be imported
 * as a type, for typed handles).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '..', '..', 'src');

interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** import/export-from declarations, `import x = require()`, `require()` and `import()` of a source text. */
function importsOf(fileName: string, text: string): Import[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const allTypes = !!clause && !clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly);
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: !!clause?.isTypeOnly || allTypes });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr)) found.push({ specifier: expr.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0]!)) {
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isRequire || node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        found.push({ specifier: (node.arguments[0] as ts.StringLiteralLike).text, typeOnly: false });
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The import's target as a path under src/ without extension ("workflows/idle"), or undefined for packages. */
function srcTarget(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(SRC, resolve(dirname(file), specifier)).replace(/\\/g, '/');
  return target.replace(/\.(ts|js)$/, '').replace(/\/index$/, '');
}

const under = (target: string, dir: string) => target === dir || target.startsWith(`${dir}/`);

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Why `target` may not be imported from a client-side file, or undefined when it may. */
type Rule = (target: string, typeOnly: boolean) => string | undefined;

const INTERNALS = ['activities', 'workflows', 'demo', 'fakeModel'];

/** The workflow function, as a type only (typed workflow handles), is the one thing allowed from src/workflows. */
const workflowType = (target: string, typeOnly: boolean) => target === 'workflows' && typeOnly;

const cliRule: Rule = (target, typeOnly) => {
  const allowed =
    ['client', 'errors', 'config', 'server', 'temporalCli', 'worker', 'cli'].includes(target) ||
    ['protocol', 'host', 'cli'].some((dir) => under(target, dir)) ||
    workflowType(target, typeOnly);
  return allowed ? undefined : 'the CLI may import only client, protocol/**, errors, config, server, temporalCli, worker, host/** and cli/**';
};

const clientRule: Rule = (target, typeOnly) =>
  target === 'errors' || under(target, 'protocol') || workflowType(target, typeOnly)
    ? undefined
    : 'the client may import only protocol/**, errors, and the workflow function as a type';

const hostRule: Rule = (target) => (INTERNALS.some((dir) => under(target, dir)) ? `host helpers may not import ${INTERNALS.join(', ')} internals` : undefined);

function violations(files: string[], rule: Rule): string[] {
  const found: string[] = [];
  for (const file of files) {
    for (const imp of importsOf(file, readFileSync(file, 'utf8'))) {
      const target = srcTarget(file, imp.specifier);
      const why = target === undefined ? undefined : rule(target, imp.typeOnly);
      if (why) found.push(`${relative(SRC, file)} imports '${imp.specifier}'${imp.typeOnly ? ' (type only)' : ''}: ${why}`);
    }
  }
  return found;
}

describe('the import graph', () => {
  const cliFiles = [join(SRC, 'cli.ts'), ...tsFilesUnder(join(SRC, 'cli'))];

  it('the CLI imports no activity, workflow or demo internals', () => {
    expect(cliFiles.length).toBeGreaterThan(5);
    expect(violations(cliFiles, cliRule)).toEqual([]);
  });

  it('the client takes its names from src/protocol, and the workflow only as a type', () => {
    expect(violations([join(SRC, 'client.ts')], clientRule)).toEqual([]);
  });

  it('host helpers (shared by the CLI and the worker) import no internals either', () => {
    expect(violations(tsFilesUnder(join(SRC, 'host')), hostRule)).toEqual([]);
  });

  it('src/protocol imports no Node built-ins (the workflow bundle imports it)', () => {
    const files = tsFilesUnder(join(SRC, 'protocol'));
    expect(files.length).toBeGreaterThan(20);
    const builtin = (s: string) => s.startsWith('node:') || builtinModules.includes(s.split('/')[0]!);
    const found = files.flatMap((file) =>
      importsOf(file, readFileSync(file, 'utf8'))
        .filter((imp) => !imp.typeOnly && builtin(imp.specifier))
        .map((imp) => `${relative(SRC, file)} imports '${imp.specifier}'`),
    );
    expect(found).toEqual([]);
  });

  it('sees every form of import, and tells type-only ones apart', () => {
    const text = [
      "import a from './a';",
      "import type { B } from './b';",
      "import { type C, type D } from './c';",
      "import { type E, f } from './e';",
      "export { g } from './g';",
      "export type { H } from './h';",
      "import i = require('./i');",
      "const j = require('./j');",
      "const k = await import('./k');",
      "let l: import('./l').L;",
      "import './m';",
    ].join('\n');
    expect(importsOf('x.ts', text)).toEqual([
      { specifier: './a', typeOnly: false },
      { specifier: './b', typeOnly: true },
      { specifier: './c', typeOnly: true },
      { specifier: './e', typeOnly: false },
      { specifier: './g', typeOnly: false },
      { specifier: './h', typeOnly: true },
      { specifier: './i', typeOnly: false },
      { specifier: './j', typeOnly: false },
      { specifier: './k', typeOnly: false },
      { specifier: './l', typeOnly: true },
      { specifier: './m', typeOnly: false },
    ]);
  });

  it('flags an internal import and allows the workflow type', () => {
    const file = join(SRC, 'cli', 'x.ts');
    const check = (specifier: string, typeOnly: boolean) => cliRule(srcTarget(file, specifier)!, typeOnly);
    expect(check('../workflows/idle', false)).toBeDefined();
    expect(check('../activities/runStore', true)).toBeDefined();
    expect(check('../demo/demoModel', false)).toBeDefined();
    expect(check('../workflows', false)).toBeDefined();
    expect(check('../workflows', true)).toBeUndefined();
    expect(check('../workflows/index', true)).toBeUndefined();
    expect(check('../protocol/names', false)).toBeUndefined();
    expect(check('./render', false)).toBeUndefined();
    expect(check('../host/runJson', false)).toBeUndefined();
  });
});
