import type { Logger } from '@nestjs/common';

import type { Settlement } from './claimed-postback.js';

/** Logs what the operator must know of a write of `written`: lost leases, dead postbacks. */
export function reportWrite(logger: Logger, written: Settlement[], lost: Settlement[]): void {
  const lostIds = new Set(lost.map((s) => s.row.id));
  for (const { row, change } of written) {
    if (lostIds.has(row.id)) {
      logger.warn(
        `Postback ${row.id}: the lease expired during the attempt and another worker owns it now; its outcome stands`,
      );
    } else if (change.state === 'dead') {
      logger.error(`Postback ${row.id} to "${row.tracker}" is dead: ${change.lastError}`);
    }
  }
}
