// Administration: staff accounts, the category taxonomy, organization settings.
import * as api from '../api.js';
import { announcer, field, h, listTable, option, setTitle, settingsView } from '../dom.js';
import { lang, LANGUAGES, NAMES, t } from '../i18n.js';
import { session } from '../session.js';

const ROLES = ['admin', 'coordinator', 'engineer', 'planner'];

/** A department chosen from the organization's departments, by their label in the reader's
 * language (GET /departments): a typed code would route items to a department nobody owns. */
function departmentSelect(current, noneLabel, attrs = {}) {
  const choices = session.departmentChoices();
  const select = h('select', attrs, option('', noneLabel, !current),
    choices.map((d) => option(d.code, d.label, d.code === current)));
  // A code the list lacks (it cannot, while categories and staff count as departments) stays.
  if (current && !choices.some((d) => d.code === current)) select.append(option(current, current, true));
  return select;
}

export async function usersView(main) {
  setTitle(t('users.title'));
  const announce = announcer();
  const users = listTable({
    caption: t('users.table'),
    columns: ['users.email', 'users.display_name', 'users.role', 'filter.department', 'users.state', 'walks.col.actions'].map((k) => t(k)),
    load: async () => (await api.all('/api/v1/users?limit=500', 5000)).sort((a, b) => a.email.localeCompare(b.email)),
    row: (u) => {
      const name = u.display_name || u.email;
      const role = h('select', { 'aria-label': t('users.role_of', { name }) }, ROLES.map((r) => option(r, t(`role.${r}`), r === u.role)));
      const dept = departmentSelect(u.department, t('users.no_department'), { 'aria-label': t('users.department_of', { name }) });
      const save = async (extra = {}) => {
        try {
          await api.patch(`/api/v1/users/${u.id}`, { role: role.value, department: dept.value || null, ...extra });
          announce.textContent = t('saved');
          await refresh();
        } catch (err) { announce.textContent = err.text ?? err.message; }
      };
      return h('tr', { class: u.is_active ? '' : 'inactive' },
        h('th', { scope: 'row', text: u.email }),
        h('td', { text: u.display_name || '' }),
        h('td', {}, role), h('td', {}, dept),
        h('td', { text: u.is_active ? t('users.active') : t('users.inactive') }),
        h('td', {}, h('div', { class: 'buttons' },
          h('button', { type: 'button', class: 'secondary', text: t('save'), 'aria-label': t('users.save_for', { name }), onclick: () => save() }),
          h('button', { type: 'button', class: 'secondary', text: u.is_active ? t('users.deactivate') : t('users.activate'), 'aria-label': t(u.is_active ? 'users.deactivate_for' : 'users.activate_for', { name }), onclick: () => save({ active: !u.is_active }) }))));
    },
  });
  const refresh = users.refresh;
  const email = h('input', { type: 'email', required: true, autocomplete: 'off' });
  const display = h('input', { type: 'text' });
  const role = h('select', {}, ROLES.map((r) => option(r, t(`role.${r}`), r === 'engineer')));
  const dept = departmentSelect(null, t('users.no_department'));
  const password = h('input', { type: 'password', required: true, minLength: 8, autocomplete: 'new-password' });
  const form = h('form', { class: 'filters inline', 'aria-label': t('users.new'), onsubmit: async (e) => {
    e.preventDefault();
    const body = { email: email.value.trim(), password: password.value, role: role.value };
    if (display.value.trim()) body.display_name = display.value.trim();
    if (dept.value) body.department = dept.value;
    try {
      await api.post('/api/v1/users', body);
      form.reset();
      announce.textContent = t('users.created', { email: body.email });
      await refresh();
    } catch (err) { announce.textContent = err.text ?? err.message; }
  } }, field(t('users.email'), email), field(t('users.display_name'), display), field(t('users.role'), role),
  field(t('filter.department'), dept), field(t('users.password'), password), h('button', { type: 'submit', text: t('users.create') }));
  main.append(h('h1', { text: t('users.title') }), h('h2', { text: t('users.new') }), form, announce, users.element);
  await refresh();
}

const CAT_FLAGS = ['actionable', 'published', 'sensitive'];

// One label per language, each input as wide as a label needs; an empty one is marked, and
// the card says which languages a category still lacks (the field app shows the English
// label meanwhile).
function labelInputs(c, required = false) {
  return Object.fromEntries(LANGUAGES.map((l) => {
    const input = h('input', {
      type: 'text', lang: l, value: c?.labels?.[l] || '', required: required && l === 'en', maxLength: 120,
      class: c && !c.labels?.[l] ? 'lacking' : null,
      'aria-label': c ? t('categories.label_of', { language: NAMES[l], code: c.code }) : t('categories.label', { language: NAMES[l] }),
    });
    return [l, input];
  }));
}

function labelGrid(inputs) {
  return h('div', { class: 'label-grid' }, LANGUAGES.map((l) => field(NAMES[l], inputs[l])));
}

function labelsOf(inputs) {
  return Object.fromEntries(Object.entries(inputs).map(([l, input]) => [l, input.value.trim()]).filter(([, v]) => v));
}

function missingNote(c) {
  const missing = (c.missing_labels || []).map((l) => NAMES[l] || l);
  return h('p', { class: missing.length ? 'hint missing' : 'hint', text: missing.length ? t('categories.missing', { languages: missing.join(', ') }) : t('categories.complete') });
}

// A category's card says on itself how its save went, and stays as it is (focus too): only
// its marks of missing labels and its heading follow what the service stored.
function categoryCard(c) {
  const labels = labelInputs(c);
  const dist = h('input', { type: 'number', min: 15, max: 40, step: 1, value: c.group_distance_m, 'aria-label': t('categories.distance_of', { code: c.code }) });
  const dept = departmentSelect(c.default_department, t('categories.no_department'), { 'aria-label': t('categories.department_of', { code: c.code }) });
  const flags = Object.fromEntries(CAT_FLAGS.filter((f) => f in c).map((f) => [f, h('input', { type: 'checkbox', checked: !!c[f], 'aria-label': t(`categories.${f}_of`, { code: c.code }) })]));
  const title = h('span', { text: c.labels?.[lang()] || c.labels?.en || c.label_en });
  let note = missingNote(c);
  const said = announcer();
  const save = async () => {
    const body = { labels: labelsOf(labels), group_distance_m: Number(dist.value), default_department: dept.value || null };
    for (const [f, box] of Object.entries(flags)) body[f] = box.checked;
    try {
      const stored = await api.patch(`/api/v1/categories/${c.code}`, body);
      session.categories = session.categories.map((x) => (x.code === stored.code ? stored : x));
      for (const l of LANGUAGES) labels[l].classList.toggle('lacking', !stored.labels?.[l]);
      title.textContent = stored.labels?.[lang()] || stored.labels?.en || stored.label_en;
      const fresh = missingNote(stored);
      note.replaceWith(fresh);
      note = fresh;
      said.textContent = t('saved');
    } catch (err) { said.textContent = err.text ?? err.message; }
  };
  return h('li', { class: 'card category' },
    h('h3', {}, title, ' ', h('code', { text: c.code })),
    h('fieldset', {}, h('legend', { text: t('categories.labels') }), labelGrid(labels), note),
    h('div', { class: 'category-settings' },
      field(t('categories.distance'), dist), field(t('filter.department'), dept),
      CAT_FLAGS.filter((f) => flags[f]).map((f) => h('label', { class: 'check' }, flags[f], t(`categories.${f}`))),
      h('button', { type: 'button', class: 'secondary', text: t('save'), 'aria-label': t('categories.save_for', { code: c.code }), onclick: save })),
    said);
}

export async function categoriesView(main) {
  setTitle(t('categories.title'));
  const announce = announcer();
  const list = h('ul', { class: 'category-list', 'aria-labelledby': 'cat-list-h' });
  async function refresh() {
    session.categories = (await api.get('/api/v1/categories')).items;
    list.replaceChildren(...session.categories.map((c) => categoryCard(c)));
    // The new category's choice too, keeping what was chosen (a moved option loses it).
    const chosen = dept.value;
    dept.replaceChildren(...departmentSelect(chosen, t('categories.no_department')).options);
    dept.value = chosen;
  }
  const code = h('input', { type: 'text', required: true, pattern: '[a-z][a-z0-9_]*', maxLength: 64 });
  const labels = labelInputs(null, true);
  const dist = h('input', { type: 'number', min: 15, max: 40, value: 30 });
  const dept = departmentSelect(null, t('categories.no_department'));
  const actionable = h('input', { type: 'checkbox', checked: true });
  const sensitive = h('input', { type: 'checkbox' });
  const form = h('form', { class: 'card category-form', 'aria-labelledby': 'cat-new-h', onsubmit: async (e) => {
    e.preventDefault();
    const body = { code: code.value.trim(), labels: labelsOf(labels), group_distance_m: Number(dist.value), actionable: actionable.checked, sensitive: sensitive.checked };
    if (dept.value) body.default_department = dept.value;
    try { await api.post('/api/v1/categories', body); form.reset(); announce.textContent = t('saved'); await refresh(); } catch (err) { announce.textContent = err.text ?? err.message; }
  } },
  h('h2', { id: 'cat-new-h', text: t('categories.new') }),
  field(t('categories.code'), code),
  h('fieldset', {}, h('legend', { text: t('categories.labels') }), labelGrid(labels)),
  h('div', { class: 'category-settings' },
    field(t('categories.distance'), dist), field(t('filter.department'), dept),
    h('label', { class: 'check' }, actionable, t('categories.actionable')), h('label', { class: 'check' }, sensitive, t('categories.sensitive')),
    h('button', { type: 'submit', text: t('categories.create') })));
  // A department the categories may route to, named with its label in the reader's language
  // (the other languages' labels fall back to the catalogue's, then to this one).
  const deptCode = h('input', { type: 'text', required: true, pattern: '[a-z][a-z0-9_]*', maxLength: 64 });
  const deptLabel = h('input', { type: 'text', required: true, maxLength: 120 });
  const deptForm = h('form', { class: 'card category-form', 'aria-labelledby': 'dept-new-h', onsubmit: async (e) => {
    e.preventDefault();
    const known = session.departments.find((d) => d.code === deptCode.value.trim());
    const labels = { ...known?.labels, [lang()]: deptLabel.value.trim() };
    try {
      await api.request('PUT', `/api/v1/departments/${encodeURIComponent(deptCode.value.trim())}`, { json: { labels } });
      deptForm.reset();
      await session.reloadDepartments();
      announce.textContent = t('saved');
      await refresh();
    } catch (err) { announce.textContent = err.text ?? err.message; }
  } },
  h('h2', { id: 'dept-new-h', text: t('categories.department_new') }),
  h('div', { class: 'category-settings' },
    field(t('categories.code'), deptCode), field(t('categories.label', { language: NAMES[lang()] }), deptLabel),
    h('button', { type: 'submit', class: 'secondary', text: t('categories.department_create') })));
  // The categories first: editing them is the common errand, creating one the rare one.
  main.append(h('h1', { text: t('categories.title') }),
    h('h2', { id: 'cat-list-h', text: t('categories.list') }), list, form, deptForm, announce);
  await refresh();
}

export async function organizationView(main) {
  const view = await settingsView(main, t('org.title'), () => api.get('/api/v1/organization'));
  if (!view) return;
  const { announce, data: org } = view;
  const moderation = h('select', {}, ['post', 'pre'].map((m) => option(m, t(`org.moderation.${m}`), org.moderation_mode === m)));
  const language = h('select', {}, LANGUAGES.map((l) => option(l, NAMES[l], org.language === l)));
  const requireNote = h('input', { type: 'checkbox', checked: !!org.require_resolution_note });
  main.append(h('p', { class: 'lead', text: org.name }), h('form', { class: 'stack', onsubmit: async (e) => {
    e.preventDefault();
    const body = { language: language.value, require_resolution_note: requireNote.checked };
    if ('moderation_mode' in org) body.moderation_mode = moderation.value;
    try { await api.patch('/api/v1/organization', body); announce.textContent = t('saved'); } catch (err) { announce.textContent = err.text ?? err.message; }
  } }, 'moderation_mode' in org ? field(t('org.moderation'), moderation, t('org.moderation_hint')) : null, field(t('org.language'), language),
  h('label', { class: 'check' }, requireNote, t('org.require_note')), h('button', { type: 'submit', text: t('save') })));
}
