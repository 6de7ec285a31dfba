import type { Request } from 'express';

/** The default visitor key: express-session's session ID. */
export function sessionIdOf(req: Request): string | undefined {
  return (req as Request & { sessionID?: string }).sessionID;
}
