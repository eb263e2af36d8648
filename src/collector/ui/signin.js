// @ts-check
/* global document */
/**
 * The sign-in view, shown when the collector answers 401: paste a token, or "Sign in with SSO"
 * when the collector advertises an OIDC issuer. Sign-out forgets the token and clears what was shown.
 *
 *   api.js 401 ──auth.js──▶ showSignIn ──token / SSO──▶ auth.js setToken ──▶ route() again
 *   Sign out ──▶ clearToken, stop live mode, empty the list ──▶ showSignIn
 */
import { ApiError } from './api.js';
import { clearToken, looksLikeToken, setToken, token, whenAuthRequired } from './auth.js';
import { $, el } from './elements.js';
import { ssoConfig, startSso } from './oidc.js';
import { list, state } from './session.js';

const view = $('signin');
const form = /** @type {HTMLFormElement} */ ($('signin-form'));
const input = /** @type {HTMLInputElement} */ ($('signin-token'));
const ssoBox = $('signin-sso-box');
const ssoButton = /** @type {HTMLButtonElement} */ ($('signin-sso'));
const errorBox = $('signin-error');
const signOutButton = /** @type {HTMLButtonElement} */ ($('signout'));

/** @type {Promise<import('./oidc.js').SsoConfig | null> | null} */
let sso = null;

/** @param {string} message */
export function showSignInError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

/** Hides the data views and asks for credentials. @param {string} [message] */
export function showSignIn(message) {
  stopEverything();
  el.listView.hidden = true;
  el.detailView.hidden = true;
  view.hidden = false;
  signOutButton.hidden = true;
  document.title = 'Sign in · inferlog';
  if (message && token() !== null) {
    // A rejected (revoked, expired) token is forgotten: a reload must not send it again.
    clearToken();
    showSignInError(`Your token was not accepted (${message}).`);
  }
  sso ??= ssoConfig();
  void sso.then((c) => (ssoBox.hidden = c === null));
  input.focus();
}

function stopEverything() {
  state.liveGen++;
  if (state.pollTimer) clearTimeout(state.pollTimer);
  state.pollTimer = 0;
  state.listAbort?.abort();
  state.statsAbort?.abort();
  state.chartAbort?.abort();
  state.detailAbort?.abort();
}

/** Forgets everything shown under the old credentials. */
function forgetData() {
  list.clear();
  el.stats.replaceChildren();
  el.chart.replaceChildren();
  el.detailBody.replaceChildren();
  el.liveStatus.hidden = true;
  el.live.checked = false;
  state.live = false;
  state.loaded = false;
  state.cursor = null;
  state.lastSeries = null;
}

/** @param {() => void} route  shows what the URL asks for, with the new credentials */
export function initSignIn(route) {
  whenAuthRequired((message) => showSignIn(message));
  signOutButton.hidden = token() === null;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (!looksLikeToken(value)) {
      showSignInError('That is not a token: paste the whole token, one line.');
      return;
    }
    setToken(value);
    input.value = '';
    errorBox.hidden = true;
    view.hidden = true;
    signOutButton.hidden = false;
    forgetData();
    route();
  });
  ssoButton.addEventListener('click', () => {
    ssoButton.disabled = true;
    void (sso ?? ssoConfig())
      .then((c) => {
        if (c === null) throw new Error('this collector has no single sign-on configured');
        return startSso(c);
      })
      .catch((err) => {
        ssoButton.disabled = false;
        showSignInError(`Sign-in with SSO failed: ${err instanceof Error ? err.message : String(err)}`);
      });
  });
  signOutButton.addEventListener('click', () => {
    clearToken();
    forgetData();
    errorBox.hidden = true;
    showSignIn();
  });
}

/** True when an error is the 401 that opened the sign-in view (not worth showing as well). @param {unknown} err */
export function isAuthError(err) {
  return err instanceof ApiError && err.status === 401;
}
