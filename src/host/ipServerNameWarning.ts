/**
 * The gRPC client (@grpc/grpc-js) passes the host of TEMPORAL_ADDRESS as the TLS server name even
 * when it is an IP address, and Node then prints DeprecationWarning DEP0123 on stderr. The
 * connection is unaffected (certificates are still checked against the IP); the CLI drops this one
 * warning so its messages stay one line (docs/interface.md §2: diagnostics on stderr).
 */
let installed = false;

export function ignoreIpServerNameWarning(): void {
  if (installed) return;
  installed = true;
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const warningCode = typeof typeOrOptions === 'object' && typeOrOptions !== null ? (typeOrOptions as { code?: unknown }).code : code;
    if (warningCode === 'DEP0123') return;
    emitWarning(...args);
  }) as typeof process.emitWarning;
}
