import { SESSION_CLICKS_KEY } from '../postback.constants.js';

/** A click remembered in the visitor's server session. */
export interface SessionClick {
  tracker: string;
  clickId: string;
  /** Epoch milliseconds of the landing. */
  at: number;
}

/**
 * A visitor's server session as `record()` takes it: express-session's `req.session` (a class
 * without an index signature, hence no `Record<string, unknown>`), cookie-session's, or a plain
 * object. The module reads and writes only its own entry, `SESSION_CLICKS_KEY`.
 *
 * @publicApi
 */
export type PostbackSession = object;

type SessionLike = PostbackSession | undefined | null;
type SessionEntries = Record<string, unknown>;

/** The clicks kept in a session, oldest first, one per tracker. */
export function readSessionClicks(session: SessionLike): SessionClick[] {
  const stored = (session as SessionEntries | undefined | null)?.[SESSION_CLICKS_KEY];
  if (!Array.isArray(stored)) return [];
  return stored.filter(
    (c): c is SessionClick =>
      typeof c?.tracker === 'string' && typeof c?.clickId === 'string' && typeof c?.at === 'number',
  );
}

/** Records a landing in the session; a newer click of the same tracker replaces the older. */
export function rememberSessionClick(session: SessionLike, click: SessionClick): void {
  if (!session) return;
  const others = readSessionClicks(session).filter((c) => c.tracker !== click.tracker);
  (session as SessionEntries)[SESSION_CLICKS_KEY] = [...others, click];
}
