// The staff web's catalogues (i18n/<lang>.json, compiled from locale/*/staff.po) on the shared
// runtime.
import { load } from '../shared/i18n.js';

await load(new URL('./i18n/', import.meta.url));

export { adopt, chosen, lang, languages, LANGUAGES, locale, NAMES, number, setLanguage, t, tn } from '../shared/i18n.js';
