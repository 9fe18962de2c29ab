// Text comes from the gettext catalogues under locale/, compiled to one JSON file per app and
// language by the install step (python -m api.core.i18n); markup and code carry only keys.
// One rule chooses the language in both apps: the user's choice on this device if made, else
// the staff member's own (their account's), else the first of the browser's languages there is
// a catalogue for ("no" reads Bokmål), else the organization's, else English.
// Plurals follow Intl.PluralRules: a plural message is {one: …, other: …} by CLDR category.

const CHOICE = 'safewalk.lang';
// Each language in its own name, as language choosers show them (not in the catalogues).
export const NAMES = { nb: 'Norsk bokmål', nn: 'Norsk nynorsk', sv: 'Svenska', da: 'Dansk', fi: 'Suomi', en: 'English' };
export const LANGUAGES = Object.keys(NAMES);
let catalogues = {};
let current = 'en';
const pluralRules = new Map();

/** Give the catalogues ({en: {...}, nb: {...}}) and start in the preferred language. */
export function setup(given) {
  catalogues = given;
  return setLanguage(preferredLanguage());
}

/** Fetch every language's catalogue from `base` (…/i18n/), then start as setup() does. */
export async function load(base) {
  const found = await Promise.all(LANGUAGES.map(async (language) => {
    try {
      const res = await fetch(new URL(`${language}.json`, base));
      return res.ok ? [language, await res.json()] : null;
    } catch {
      return null;  // offline before the cache has it: the other languages still work
    }
  }));
  return setup(Object.fromEntries(found.filter(Boolean)));
}

export function preferredLanguage(languages = browserLanguages()) {
  const saved = localStorage.getItem(CHOICE);
  if (saved && catalogues[saved]) return saved;
  return browserLanguage(languages) ?? 'en';
}

function browserLanguages() {
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

/** The first of the browser's languages there is a catalogue for, or null. */
export function browserLanguage(languages = browserLanguages()) {
  for (const tag of languages) {
    const base = String(tag || '').toLowerCase().split('-')[0];
    if (base === 'no' && catalogues.nb) return 'nb';
    if (catalogues[base]) return base;
  }
  return null;
}

/** Once the account is known: its own language, else (a browser language we lack) the
 * organization's; a choice made on this device wins over both. */
export function adopt({ own = null, organization = null } = {}) {
  if (chosen()) return current;
  if (own && catalogues[own]) return setLanguage(own);
  if (!browserLanguage() && organization) return setLanguage(organization);
  return current;
}

/** Whether the user chose a language on this device (then it wins over the account's). */
export function chosen() {
  const saved = localStorage.getItem(CHOICE);
  return Boolean(saved && catalogues[saved]);
}

/** Switch language; `remember` keeps it as the user's choice (a preference, not a secret). */
export function setLanguage(value, { remember = false } = {}) {
  if (!catalogues[value]) return current;
  current = value;
  if (remember) localStorage.setItem(CHOICE, value);
  document.documentElement.lang = value;
  describe();
  return current;
}

/** The page's description (<meta data-i18n-content>) follows the language, as the rest of the
 * page does: a reader or a crawler of an nb page gets an nb description. */
function describe() {
  for (const el of document.head.querySelectorAll('meta[data-i18n-content]')) {
    el.setAttribute('content', t(el.dataset.i18nContent));
  }
}

export function lang() {
  return current;
}

/** The BCP 47 tag for Intl: English readers here expect day-month dates (en-GB). */
export function locale(language = current) {
  return language === 'en' ? 'en-GB' : language;
}

export function languages() {
  return Object.keys(catalogues);
}

function plural(language, n) {
  if (!pluralRules.has(language)) pluralRules.set(language, new Intl.PluralRules(language));
  return pluralRules.get(language).select(n);
}

function lookup(language, key, n) {
  const entry = catalogues[language]?.[key];
  if (entry === undefined || entry === '') return undefined;
  if (typeof entry === 'object') return entry[plural(language, typeof n === 'number' ? n : 2)] ?? entry.other;
  return entry;
}

/** The text of `key` in the current language (English, else the key itself, when missing,
 * with a warning the browser tests look for); {name} is filled from `values`, and a name
 * not given stays visible as {name}. */
export function t(key, values = {}) {
  let text = lookup(current, key, values.n);
  if (text === undefined) {
    console.warn(`safewalk i18n: no "${key}" in ${current}`);
    text = lookup('en', key, values.n) ?? key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** A plural message: the form for `n` (Intl.PluralRules), with {n} and `values` filled in. */
export function tn(key, n, values = {}) {
  return t(key, { ...values, n });
}

/** A number as the reader writes it (1,5 or 1.5; 1 234 or 1,234). */
export function number(value, options = {}) {
  return new Intl.NumberFormat(locale(), options).format(value);
}

/** Fill every [data-i18n] (text) and [data-i18n-<attr>] (attribute) under root. */
export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const attr of ['placeholder', 'aria-label', 'title', 'alt']) {
    const data = 'i18n' + attr.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase());
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[data]));
  }
}
