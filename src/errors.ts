/** Errors the CLI maps to exit codes (docs/interface.md): 2 usage/input, 3 unreachable. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

export class UnreachableError extends Error {
  readonly exitCode = 3;
}
