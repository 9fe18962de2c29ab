// Who is signed in, and the organization's categories and departments (labels in every
// language, so switching language needs no reload).
import { setOrganization } from '../shared/map.js';
import * as api from './api.js';
import { lang } from './i18n.js';

export const session = {
  me: null,
  categories: [],
  departments: [],
  async load() {
    const [me, categories, departments] = await Promise.all([
      api.get('/api/v1/me'),
      api.get('/api/v1/categories'),
      api.allLinked('/api/v1/departments?limit=500').catch(() => []),
    ]);
    this.me = me;
    this.categories = categories.items;
    this.departments = departments;
    setOrganization(me?.organization?.slug);
  },
  /** The departments again, after an admin changed them. */
  async reloadDepartments() {
    this.departments = await api.allLinked('/api/v1/departments?limit=500');
  },
  clear() {
    this.me = null;
    this.categories = [];
    this.departments = [];
  },
  categoryLabel(code) {
    const c = this.categories.find((x) => x.code === code);
    if (!c) return code;
    return c.labels?.[lang()] || c.labels?.en || c.label_en;
  },
  /** A department's label in the reader's language; a code the list lacks (an item routed
   * before the list existed) is shown as it is. */
  departmentLabel(code) {
    if (!code) return '';
    const d = this.departments.find((x) => x.code === code);
    return d ? d.labels?.[lang()] || d.labels?.en || d.label : code;
  },
  /** The departments as <select> options, sorted by label in the reader's language. */
  departmentChoices() {
    return this.departments
      .map((d) => ({ code: d.code, label: this.departmentLabel(d.code) }))
      .sort((a, b) => a.label.localeCompare(b.label, lang()));
  },
};
