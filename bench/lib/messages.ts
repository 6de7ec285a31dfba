/** Messages between the orchestrator (bench/main.ts and the figures) and its child processes. */
export type ChildMessage =
  | { type: 'ready'; port?: number; [key: string]: unknown }
  | { type: 'result'; data: Record<string, unknown> }
  | { type: 'stats'; data: Record<string, unknown> }
  | { type: 'status'; data: Record<string, unknown> }
  | { type: 'error'; message: string };

/** 'stop', 'stats' {reset?, arrivals?}, 'status' {resetPeak?, counts?}: see each child. */
export type ParentMessage = { type: string; [key: string]: unknown };
