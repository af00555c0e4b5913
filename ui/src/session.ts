// Who is using the UI: GET /api/v1/session answers the role of the session cookie (or that the
// server is open), POST /api/v1/login trades a read/admin key for an HttpOnly session cookie,
// POST /api/v1/logout ends it (docs/security.md). Pages ask canAdmin() to disable the controls a
// read key may not use; an API answer of 401 anywhere brings up the login page (onUnauthorized).

export interface Session {
  open: boolean; // the server has no keys: everyone may do everything
  role: "read" | "admin" | "ingest";
  environment: string; // "" = every environment
  id: string;
}

let current: Session | null = null;
let unauthorizedHandler: () => void = () => {};

export function session(): Session | null {
  return current;
}

export function setSession(s: Session | null): void {
  current = s;
}

// Admin-only controls (X-Ray groups and sampling rules) are enabled for admin keys and on an open
// server.
export function canAdmin(): boolean {
  return current === null || current.open || current.role === "admin";
}

export function onUnauthorized(fn: () => void): void {
  unauthorizedHandler = fn;
}

export function notifyUnauthorized(): void {
  current = null;
  unauthorizedHandler();
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
}

// The current session, or null when the server wants a login (401).
export async function fetchSession(): Promise<Session | null> {
  const response = await fetch("/api/v1/session", { credentials: "same-origin" });
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`GET /api/v1/session answered ${response.status}`);
  return (await response.json()) as Session;
}

// Logs in with `key`; throws with the server's message when refused.
export async function login(key: string): Promise<Session> {
  const response = await post("/api/v1/login", { key });
  const text = await response.text();
  let body: { error?: string } & Partial<Session> = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    /* not JSON */
  }
  if (!response.ok) throw new Error(body.error ?? `login failed (${response.status})`);
  return body as Session;
}

export async function logout(): Promise<void> {
  await post("/api/v1/logout", {});
  current = null;
}
