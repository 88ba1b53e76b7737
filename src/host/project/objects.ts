/** Where the content-addressed store keeps an object (docs/architecture.md decision 13): INFTY_HOME/objects/<2 hex>/<sha256>. */
import { join } from 'node:path';

export function objectPathIn(home: string, sha256: string): string {
  return join(home, 'objects', sha256.slice(0, 2), sha256);
}
