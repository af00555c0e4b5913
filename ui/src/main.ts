// The app shell: top navigation and a client-side router over the URLs the server answers with
// index.html (/, /query, /traces, /traces/{id}, /service-map, /xray/groups, /xray/sampling-rules).
import "./style.css";
import { h, clear } from "./dom";
import { navigate, setRenderer } from "./nav";
import { fetchSession, logout, onUnauthorized, session, setSession } from "./session";
import { renderLogin } from "./pages/login";

export interface PageContext {
  root: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  // Cleanup handlers run when the page is left.
  onLeave(fn: () => void): void;
}
type PageModule = { render(ctx: PageContext): void | Promise<void> };

interface Route {
  pattern: RegExp;
  keys: string[];
  nav: string;
  title: string;
  load: () => Promise<PageModule>;
}

const routes: Route[] = [
  { pattern: /^\/$/, keys: [], nav: "/", title: "Services", load: () => import("./pages/home") },
  { pattern: /^\/query\/?$/, keys: [], nav: "/query", title: "Query", load: () => import("./pages/query") },
  { pattern: /^\/traces\/?$/, keys: [], nav: "/traces", title: "Traces", load: () => import("./pages/traces") },
  {
    pattern: /^\/traces\/([^/]+)\/?$/,
    keys: ["id"],
    nav: "/traces",
    title: "Trace",
    load: () => import("./pages/trace"),
  },
  {
    pattern: /^\/service-map\/?$/,
    keys: [],
    nav: "/service-map",
    title: "Service map",
    load: () => import("./pages/servicemap"),
  },
  {
    pattern: /^\/xray\/groups\/?$/,
    keys: [],
    nav: "/xray",
    title: "X-Ray groups",
    load: () => import("./pages/xray").then((m) => ({ render: m.renderGroups })),
  },
  {
    pattern: /^\/xray\/sampling-rules\/?$/,
    keys: [],
    nav: "/xray",
    title: "X-Ray sampling rules",
    load: () => import("./pages/xray").then((m) => ({ render: m.renderSamplingRules })),
  },
  {
    pattern: /^\/xray\/?$/,
    keys: [],
    nav: "/xray",
    title: "X-Ray",
    load: async () => ({ render: () => navigate("/xray/groups", true) }),
  },
];

const NAV = [
  ["/", "Services"],
  ["/query", "Query"],
  ["/traces", "Traces"],
  ["/service-map", "Service map"],
  ["/xray", "X-Ray"],
] as const;

const navLinks = new Map<string, HTMLAnchorElement>();
const main = h("main", { id: "page" });
// Who is logged in, and the logout button (shown only when the server has keys).
const who = h("span", { class: "who muted small", "data-testid": "session-who" });
const logoutButton = h(
  "button",
  {
    type: "button",
    class: "logout",
    "data-testid": "logout",
    hidden: true,
    onclick: async () => {
      await logout();
      void render();
    },
  },
  "Log out",
);

function showSessionInNav(): void {
  const s = session();
  const keyed = s !== null && !s.open;
  logoutButton.hidden = !keyed;
  who.textContent = keyed ? `${s.role} key ${s.id}${s.environment ? ` · ${s.environment}` : ""}` : "";
}

// Theme: "auto" follows prefers-color-scheme; the toggle cycles auto → dark → light and
// remembers the choice. html[data-theme] always holds the palette in effect, so style.css defines
// the dark palette once and the canvas code reads resolved colours.
type Theme = "auto" | "dark" | "light";
const THEME_KEY = "ariadne.theme";
function storedTheme(): Theme {
  try {
    const t = localStorage.getItem(THEME_KEY);
    return t === "dark" || t === "light" ? t : "auto";
  } catch {
    return "auto";
  }
}
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");
function applyTheme(t: Theme): void {
  const effective = t === "auto" ? (systemDark.matches ? "dark" : "light") : t;
  document.documentElement.setAttribute("data-theme", effective);
  try {
    if (t === "auto") localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, t);
  } catch {
    /* private mode: the choice lasts for this page */
  }
  themeButton.textContent = t === "auto" ? "Theme: auto" : t === "dark" ? "Theme: dark" : "Theme: light";
  themeButton.dataset.theme = t;
}
const themeButton = h("button", {
  type: "button",
  class: "theme-toggle",
  "data-testid": "theme-toggle",
  title: "Colour theme: auto follows the system setting (prefers-color-scheme)",
  onclick: () => {
    const order: Theme[] = ["auto", "dark", "light"];
    applyTheme(order[(order.indexOf(storedTheme()) + 1) % order.length]);
  },
});
applyTheme(storedTheme());
systemDark.addEventListener("change", () => applyTheme(storedTheme()));

function shell(): HTMLElement {
  const nav = h("nav", { class: "topnav" });
  nav.appendChild(
    h(
      "a",
      { href: "/", "data-link": true, class: "brand" },
      h("img", { src: "/favicon.svg", alt: "", width: 22, height: 22 }),
      "Ariadne",
    ),
  );
  for (const [href, label] of NAV) {
    const a = h("a", { href: href === "/xray" ? "/xray/groups" : href, "data-link": true }, label);
    navLinks.set(href, a);
    nav.appendChild(a);
  }
  nav.appendChild(h("span", { class: "nav-spacer" }));
  nav.appendChild(who);
  nav.appendChild(themeButton);
  nav.appendChild(logoutButton);
  return h("div", { class: "shell" }, nav, main);
}

let leaveHandlers: (() => void)[] = [];
let renderSeq = 0;

async function render(): Promise<void> {
  const seq = ++renderSeq;
  for (const fn of leaveHandlers.splice(0)) {
    try {
      fn();
    } catch (e) {
      console.error(e);
    }
  }
  // The server's keys decide whether this browser must log in first.
  if (session() === null) {
    let s = null;
    try {
      s = await fetchSession();
    } catch (e) {
      console.error(e);
    }
    if (seq !== renderSeq) return;
    if (s === null) {
      showLogin();
      return;
    }
    setSession(s);
  }
  showSessionInNav();
  const path = decodeURI(location.pathname);
  const query = new URLSearchParams(location.search);
  let matched: { route: Route; params: Record<string, string> } | undefined;
  for (const route of routes) {
    const m = route.pattern.exec(location.pathname);
    if (m) {
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      matched = { route, params };
      break;
    }
  }
  for (const [href, a] of navLinks) a.classList.toggle("active", matched?.route.nav === href);
  const root = h("div", { class: "page" });
  const ctx: PageContext = {
    root,
    params: matched?.params ?? {},
    query,
    onLeave: (fn) => leaveHandlers.push(fn),
  };
  if (!matched) {
    document.title = "Not found · Ariadne";
    clear(main);
    main.appendChild(root);
    notFound(root, path);
    return;
  }
  document.title = `${matched.route.title} · Ariadne`;
  let mod: PageModule;
  try {
    mod = await matched.route.load();
  } catch (e) {
    clear(main);
    main.appendChild(h("div", { class: "error-box" }, `Could not load this page: ${(e as Error).message}`));
    return;
  }
  if (seq !== renderSeq) return;
  clear(main);
  main.appendChild(root);
  await mod.render(ctx);
}

function showLogin(): void {
  setSession(null);
  showSessionInNav();
  for (const a of navLinks.values()) a.classList.remove("active");
  document.title = "Log in · Ariadne";
  clear(main);
  const root = h("div", { class: "page" });
  main.appendChild(root);
  renderLogin(root, (s) => {
    setSession(s);
    void render();
  });
}

// Any API call answered 401 (session expired, logged out elsewhere): back to the login page.
onUnauthorized(() => {
  ++renderSeq;
  showLogin();
});

function notFound(root: HTMLElement, path: string): void {
  root.appendChild(
    h(
      "div",
      { class: "notfound" },
      h("h1", null, "Page not found"),
      h("p", null, "There is no page at ", h("code", null, path), "."),
      h("p", null, "Ariadne's pages are:"),
      h(
        "ul",
        null,
        h("li", null, h("a", { href: "/", "data-link": true }, "/"), " — services with rate, errors and latency"),
        h("li", null, h("a", { href: "/query", "data-link": true }, "/query"), " — the query builder"),
        h("li", null, h("a", { href: "/traces", "data-link": true }, "/traces"), " — trace search"),
        h("li", null, h("code", null, "/traces/{trace id}"), " — one trace (32 hex digits or an X-Ray id 1-…)"),
        h("li", null, h("a", { href: "/service-map", "data-link": true }, "/service-map"), " — the service map"),
        h("li", null, h("a", { href: "/xray/groups", "data-link": true }, "/xray/groups"), " and ",
          h("a", { href: "/xray/sampling-rules", "data-link": true }, "/xray/sampling-rules")),
      ),
      h("p", null, "The HTTP API lives under ", h("code", null, "/api/v1/"), " (see docs/api.md)."),
    ),
  );
}

document.addEventListener("click", (event) => {
  const a = (event.target as Element | null)?.closest?.("a[data-link]") as HTMLAnchorElement | null;
  if (!a || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (a.origin !== location.origin) return;
  event.preventDefault();
  navigate(a.pathname + a.search + a.hash);
});
window.addEventListener("popstate", () => void render());
setRenderer(() => void render());

document.getElementById("app")!.appendChild(shell());
void render();
