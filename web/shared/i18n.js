// Text lives in one catalogue per language (each app has its own nb and en); markup and code
// carry only keys. One rule chooses the language in both apps: the user's own choice if made,
// else the first of the browser's languages there is a catalogue for (nynorsk and "no" readers
// read bokmål), else English. Plurals follow Intl.PluralRules: t('key', {n}) takes
// `key_<form>` (key_one, key_other, ...), then `key_other`, then `key`.

const CHOICE = 'safewalk.lang';
let catalogues = {};
let current = 'en';
const pluralRules = new Map();

/** Give the catalogues ({en, nb}) and start in the preferred language. */
export function setup(given) {
  catalogues = given;
  return setLanguage(preferredLanguage());
}

export function preferredLanguage(languages = navigator.languages?.length ? navigator.languages : [navigator.language]) {
  const saved = localStorage.getItem(CHOICE);
  if (saved && catalogues[saved]) return saved;
  for (const tag of languages) {
    const base = String(tag || '').toLowerCase().split('-')[0];
    if (base === 'no' || base === 'nn') return 'nb';
    if (catalogues[base]) return base;
  }
  return 'en';
}

/** Switch language; `remember` keeps it as the user's choice (a preference, not a secret). */
export function setLanguage(value, { remember = false } = {}) {
  if (!catalogues[value]) return current;
  current = value;
  if (remember) localStorage.setItem(CHOICE, value);
  document.documentElement.lang = value;
  return current;
}

export function lang() {
  return current;
}

export function languages() {
  return Object.keys(catalogues);
}

function plural(language, n) {
  if (!pluralRules.has(language)) pluralRules.set(language, new Intl.PluralRules(language));
  return pluralRules.get(language).select(n);
}

function lookup(language, key, n) {
  const catalogue = catalogues[language];
  if (!catalogue) return undefined;
  if (typeof n === 'number') {
    for (const form of [plural(language, n), 'other']) {
      if (`${key}_${form}` in catalogue) return catalogue[`${key}_${form}`];
    }
  }
  return catalogue[key];
}

/** The text of `key` in the current language (English, else the key itself, when missing);
 * {name} is filled from `values`, and a name not given stays visible as {name}. */
export function t(key, values = {}) {
  const text = lookup(current, key, values.n) ?? lookup('en', key, values.n) ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Fill every [data-i18n] (text) and [data-i18n-<attr>] (attribute) under root. */
export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const attr of ['placeholder', 'aria-label', 'title', 'alt']) {
    const data = 'i18n' + attr.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase());
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[data]));
  }
}
