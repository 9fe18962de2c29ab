// The field app's catalogues (../i18n/<lang>.json, compiled from locale/*/field.po) on the
// shared runtime.
import { load, t, translate } from '../../shared/i18n.js';

await load(new URL('../i18n/', import.meta.url));

export { lang, locale, LANGUAGES, NAMES, number, setLanguage, t, tn } from '../../shared/i18n.js';

/** The page's markup is static here (data-i18n keys), and so is its title's key. */
export function translatePage() {
  translate();
  document.title = t('app_name');
}
