// The field app's catalogues (../i18n/en.js, ../i18n/nb.js) on the shared runtime.
import { setup, t, translate } from '../../shared/i18n.js';
import en from '../i18n/en.js';
import nb from '../i18n/nb.js';

setup({ en, nb });

export { lang, setLanguage, t } from '../../shared/i18n.js';

/** The page's markup is static here (data-i18n keys), and so is its title's key. */
export function translatePage() {
  translate();
  document.title = t('app_name');
}
