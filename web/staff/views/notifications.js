// My notifications: for each kind of notice, off, at once or in the daily digest, and the
// language of the mails (GET/PUT /api/v1/me/notifications). Every notice mail links here.
import * as api from '../api.js';
import { field, h, option, settingsView } from '../dom.js';
import { LANGUAGES, NAMES, t } from '../i18n.js';

const KINDS = ['item_created', 'assigned', 'comment', 'reopened', 'due_soon', 'overdue'];
const MODES = ['off', 'immediate', 'digest'];

export async function notificationsView(main) {
  const view = await settingsView(main, t('notices.title'), () => api.get('/api/v1/me/notifications'));
  if (!view) return;
  const { announce, data: prefs } = view;
  const selects = Object.fromEntries(KINDS.map((kind) => [kind,
    h('select', {}, MODES.map((m) => option(m, t(`notices.mode.${m}`), prefs[kind] === m)))]));
  const language = h('select', {}, [
    option('', t('notices.language.org'), !prefs.language),
    ...LANGUAGES.map((l) => option(l, NAMES[l], prefs.language === l)),
  ]);
  const form = h('form', { class: 'stack', 'aria-label': t('notices.title'), onsubmit: async (e) => {
    e.preventDefault();
    const body = Object.fromEntries(KINDS.map((kind) => [kind, selects[kind].value]));
    body.language = language.value || null;
    try {
      await api.request('PUT', '/api/v1/me/notifications', { json: body });
      announce.textContent = t('saved');
    } catch (err) {
      announce.textContent = err.problem?.errors?.map((x) => `${x.loc.slice(1).join('.')}: ${x.msg}`).join('; ') || err.message;
    }
  } },
  h('p', { class: 'lead', text: t('notices.lead', { email: prefs.email }) }),
  KINDS.map((kind) => field(t(`notices.kind.${kind}`), selects[kind])),
  field(t('notices.language'), language),
  h('button', { type: 'submit', text: t('save') }));
  main.append(form);
}
