// The login page: shown when the server has keys and this browser has no valid session. A read
// or admin key (`ariadne keys create --role read`) is traded for an HttpOnly session cookie; the
// key itself is not kept by the page.
import { h } from "../dom";
import { login } from "../session";
import type { Session } from "../session";

export function renderLogin(root: HTMLElement, onLoggedIn: (s: Session) => void): void {
  const key = h("input", {
    type: "password",
    name: "key",
    autocomplete: "current-password",
    placeholder: "ark_…",
    "data-testid": "login-key",
    required: true,
  });
  const error = h("div", { class: "bad small", "data-testid": "login-error" });
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "login-submit" }, "Log in");
  const form = h(
    "form",
    { class: "login-form", "data-testid": "login-form" },
    h("h1", null, "Log in to Ariadne"),
    h("p", null, "This server requires a key. Paste a read or admin key; ask its operator for one, or create one with ",
      h("code", null, "ariadne keys create --role read"), "."),
    h("label", null, "Key", key),
    h("div", { class: "form-actions" }, submit),
    error,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      const s = await login(key.value.trim());
      key.value = "";
      onLoggedIn(s);
    } catch (err) {
      error.textContent = (err as Error).message;
    } finally {
      submit.disabled = false;
    }
  });
  root.appendChild(form);
  key.focus();
}
