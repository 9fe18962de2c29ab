// One catalogue per language; t('key', {vars}) looks up the chosen one. The choice is a
// preference, not a secret, so it may outlive the tab (localStorage); the token never does.
import en from './i18n/en.js';
import nb from './i18n/nb.js';

const CATALOGUES = { en, nb };
const LANG_KEY = 'safewalk.staff.lang';
let current = pick();

function pick() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && CATALOGUES[saved]) return saved;
  const nav = (navigator.language || 'en').toLowerCase();
  return /^(nb|nn|no)\b/.test(nav) ? 'nb' : 'en';
}

export function lang() {
  return current;
}

export function setLang(value) {
  if (!CATALOGUES[value]) return;
  current = value;
  localStorage.setItem(LANG_KEY, value);
  document.documentElement.lang = value;
}

export function t(key, vars = {}) {
  // One plural form is enough for English and Bokmål: a `_one` key when n is 1.
  const k = vars.n === 1 && `${key}_one` in CATALOGUES.en ? `${key}_one` : key;
  const text = CATALOGUES[current][k] ?? CATALOGUES.en[k] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

export function languages() {
  return Object.keys(CATALOGUES);
}

document.documentElement.lang = current;
