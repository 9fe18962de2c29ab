// The staff web's catalogues (i18n/en.js, i18n/nb.js) on the shared runtime.
import { setup } from '../shared/i18n.js';
import en from './i18n/en.js';
import nb from './i18n/nb.js';

setup({ en, nb });

export { lang, languages, setLanguage, t } from '../shared/i18n.js';
