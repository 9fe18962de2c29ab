// Who is signed in, and the organization's categories (labels in every language).
import { setOrganization } from '../shared/map.js';
import * as api from './api.js';
import { lang } from './i18n.js';

export const session = {
  me: null,
  categories: [],
  async load() {
    const [me, categories] = await Promise.all([api.get('/api/v1/me'), api.get('/api/v1/categories')]);
    this.me = me;
    this.categories = categories.items;
    setOrganization(me?.organization?.slug);
  },
  clear() {
    this.me = null;
    this.categories = [];
  },
  categoryLabel(code) {
    const c = this.categories.find((x) => x.code === code);
    if (!c) return code;
    return c.labels?.[lang()] || c.labels?.en || c.label_en;
  },
};
