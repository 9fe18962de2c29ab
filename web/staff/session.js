// Who is signed in, and the organization's categories (labels in both languages).
import * as api from './api.js';
import { lang } from './i18n.js';

export const session = {
  me: null,
  categories: [],
  async load() {
    this.me = await api.get('/api/v1/me');
    this.categories = (await api.get('/api/v1/categories')).items;
  },
  clear() {
    this.me = null;
    this.categories = [];
  },
  categoryLabel(code) {
    const c = this.categories.find((x) => x.code === code);
    if (!c) return code;
    return lang() === 'nb' ? c.label_nb : c.label_en;
  },
};
