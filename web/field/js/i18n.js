// Text comes from one catalogue per language; markup carries only keys (data-i18n).
import en from '../i18n/en.js';
import nb from '../i18n/nb.js';

const CATALOGUES = { en, nb };
const KEY = 'safewalk.lang';
let current = en;

/** Bokmål for nb, no and nn browsers (nynorsk readers read bokmål), English otherwise. */
export function preferredLanguage(languages = navigator.languages || [navigator.language]) {
  const saved = localStorage.getItem(KEY);
  if (saved && CATALOGUES[saved]) return saved;
  for (const tag of languages) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (base === 'nb' || base === 'no' || base === 'nn') return 'nb';
    if (base === 'en') return 'en';
  }
  return 'en';
}

export function setLanguage(lang, { remember = false } = {}) {
  current = CATALOGUES[lang] || en;
  if (remember) localStorage.setItem(KEY, current.lang);
  document.documentElement.lang = current.lang;
  return current.lang;
}

export function lang() {
  return current.lang;
}

export function t(key, values = {}) {
  const text = current[key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

/** Fill every [data-i18n] (text) and [data-i18n-<attr>] (attribute) under root. */
export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const attr of ['placeholder', 'aria-label', 'title', 'alt']) {
    const data = 'i18n' + attr.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase());
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[data]));
  }
  document.title = t('app_name');
}
