// Lets a plain `node` child process require the project's TypeScript sources (transpiled on load,
// no type checking), so unit tests can crash a real process inside src/ code without a build.
// Usage: node -r ./test/unit/support/tsRequire.cjs -e "require('./src/...')"
const ts = require('typescript');
const { readFileSync } = require('node:fs');

require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};
