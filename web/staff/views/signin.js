import * as api from '../api.js';
import { field, h, setTitle } from '../dom.js';
import { t } from '../i18n.js';

// languageSelect: the shell's language menu, which renders the page again in the language chosen.
export function signInView({ notice, onSignedIn, languageSelect }) {
  setTitle(t('signin.title'));
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const message = h('p', { role: 'alert', class: notice ? `notice ${notice.kind}` : 'notice', text: notice?.text || '' });
  const button = h('button', { type: 'submit', text: t('signin.button') });
  const form = h('form', { class: 'signin', onsubmit: async (e) => {
    e.preventDefault();
    button.disabled = true;
    message.textContent = '';
    try {
      await api.signIn(email.value.trim(), password.value);
      onSignedIn();
    } catch (err) {
      message.className = 'notice error';
      message.textContent = err.status === 429 ? t('signin.throttled') : err.status === 401 || err.status === 422 ? t('signin.failed') : err.message;
      button.disabled = false;
    }
  } },
  field(t('signin.email'), email),
  field(t('signin.password'), password),
  button);
  return h('main', { id: 'main', class: 'signin-page' },
    h('div', { class: 'signin-lang' }, languageSelect()),
    h('h1', { text: 'safewalk' }),
    h('p', { class: 'lead', text: t('signin.lead') }),
    message,
    form);
}
