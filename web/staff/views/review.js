// The review queue: accept, hide or mark duplicate, with a reason.
import * as api from '../api.js';
import { setParams } from '../nav.js';
import { announcer, field, formatDateTime, h, option, setTitle } from '../dom.js';
import { lang, t } from '../i18n.js';
import { session } from '../session.js';

const STATES = ['submitted', 'accepted', 'duplicate', 'not_actionable', 'hidden'];

export async function reviewView(main, { params }) {
  setTitle(t('review.title'));
  const state = h('select', { name: 'moderation' }, STATES.map((s) => option(s, t(`moderation.${s}`))));
  state.value = params.get('moderation') || 'submitted';
  const announce = announcer();
  const list = h('ul', { class: 'review-list' });

  async function decide(o, moderation, reason, duplicateOf) {
    const body = { moderation };
    if (reason) body.reason = reason;
    if (duplicateOf) body.duplicate_of = duplicateOf;
    try {
      await api.patch(`/api/v1/observations/${o.id}`, body);
      announce.className = 'notice ok';
      announce.textContent = t('review.done', { state: t(`moderation.${moderation}`) });
      await refresh();
    } catch (err) {
      announce.className = 'notice error';
      announce.textContent = err.problem?.errors?.map((x) => x.msg).join('; ') || err.message;
    }
  }

  async function refresh() {
    setParams(new URLSearchParams({ moderation: state.value }));
    const page = await api.get(`/api/v1/observations${api.query({ moderation: state.value, limit: 100 })}`);
    list.replaceChildren(...page.items.map((o) => {
      const reason = h('input', { type: 'text', name: 'reason', maxLength: 500 });
      const dup = h('input', { type: 'text', name: 'duplicate_of', placeholder: 'uuid' });
      const label = session.categoryLabel(o.category);
      return h('li', { class: 'card' },
        h('h2', { text: label }),
        h('p', {}, h('time', { datetime: o.recorded_at, text: formatDateTime(o.recorded_at, lang()) }), ` · ${t('review.severity')} ${o.severity ?? '–'}`),
        o.note ? h('p', { class: 'note', text: o.note }) : null,
        field(t('review.reason'), reason),
        field(t('review.duplicate_of'), dup, t('review.duplicate_hint')),
        h('div', { class: 'buttons' },
          h('button', { type: 'button', text: t('review.accept'), 'aria-label': `${t('review.accept')}: ${label}`, onclick: () => decide(o, 'accepted', reason.value.trim()) }),
          h('button', { type: 'button', class: 'secondary', text: t('review.hide'), 'aria-label': `${t('review.hide')}: ${label}`, onclick: () => decide(o, 'hidden', reason.value.trim()) }),
          h('button', { type: 'button', class: 'secondary', text: t('review.duplicate'), 'aria-label': `${t('review.duplicate')}: ${label}`, onclick: () => decide(o, 'duplicate', reason.value.trim(), dup.value.trim()) })));
    }));
    if (!page.items.length) list.append(h('li', { text: t('review.empty') }));
  }
  state.addEventListener('change', refresh);
  main.append(h('h1', { text: t('review.title') }), field(t('review.show'), state), announce, list);
  await refresh();
}
