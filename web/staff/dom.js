// The staff web's form and format helpers, on the shared h() (web/shared/dom.js).
import { h } from '../shared/dom.js';

export { clear, h, uuid } from '../shared/dom.js';
import { locale } from '../shared/i18n.js';

/** The tab's title for a view: "<what it shows> · safewalk". */
export function setTitle(text) {
  document.title = `${text} · safewalk`;
}

/** Where a view says how its actions went: a live region (role=status). */
export function announcer(tag = 'p') {
  return h(tag, { role: 'status', class: 'notice' });
}

/** A settings page's start: its title and heading, a live region, and the settings `load()`
 * reads; null (the error announced) where they could not be read. */
export async function settingsView(main, title, load) {
  setTitle(title);
  const announce = announcer();
  main.append(h('h1', { text: title }), announce);
  try {
    return { announce, data: await load() };
  } catch (err) {
    announce.textContent = err.message;
    return null;
  }
}

/** A table of rows loaded from the API, with its caption and column headers; `refresh()`
 * loads the rows again (after a change). `empty`: the row's text when there are none.
 * Each cell carries its column's name (data-label): on a phone the rows stack as cards, each
 * value under its name, so a row's buttons stay on the screen (style.css, table.stacked). */
export function listTable({ caption, columns, load, row, empty }) {
  const tbody = h('tbody');
  const labelled = (tr) => {
    [...tr.cells].forEach((cell, i) => { if (columns[i]) cell.dataset.label = columns[i]; });
    return tr;
  };
  const element = h('div', { class: 'table-wrap' }, h('table', { class: 'stacked' },
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, columns.map((text) => h('th', { scope: 'col', text })))),
    tbody));
  async function refresh() {
    const rows = await load();
    tbody.replaceChildren(...rows.map((r) => labelled(row(r))));
    if (!rows.length && empty) tbody.append(h('tr', {}, h('td', { colspan: columns.length, text: empty })));
  }
  return { element, refresh };
}

let uid = 0;
export function nextId(prefix = 'f') {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled form control: <label for> + control, so the accessible name is the label.
export function field(labelText, control, hint) {
  if (!control.id) control.id = nextId();
  const parts = [h('label', { for: control.id, text: labelText }), control];
  if (control.type === 'date' || control.type === 'datetime-local') parts.push(dateInWords(control));
  if (hint) {
    const hintEl = h('small', { id: nextId('hint'), class: 'hint', text: hint });
    control.setAttribute('aria-describedby', hintEl.id);
    parts.push(hintEl);
  }
  return h('div', { class: 'field' }, parts);
}

// Chromium draws a date input in its own interface language, not the page's: a Bokmål page in
// an English browser shows "12/24/2026". The chosen date (and time) is also written out in the
// page's language beside it ("torsdag 24. desember 2026"), kept in step with the input however
// its value changes (picked, typed, or set by the view).
const DATE_VALUE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/;

function dateInWords(input) {
  const out = h('small', { class: 'date-words' });
  const show = () => {
    const m = DATE_VALUE.exec(input.value);
    const [y, mo, d, hh, mm] = m ? m.slice(1).map((v) => (v === undefined ? undefined : Number(v))) : [];
    const words = { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' };
    out.textContent = !m ? '' : hh === undefined
      ? new Date(Date.UTC(y, mo - 1, d)).toLocaleDateString(locale(), { ...words, timeZone: 'UTC' })
      : new Date(y, mo - 1, d, hh, mm).toLocaleString(locale(), { ...words, hour: '2-digit', minute: '2-digit' });
    out.hidden = !m;
  };
  const own = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value');
  Object.defineProperty(input, 'value', {
    configurable: true,
    get() { return own.get.call(this); },
    set(v) { own.set.call(this, v); show(); },
  });
  input.addEventListener('input', show);
  input.addEventListener('change', show);
  show();
  return out;
}

export function option(value, label, selected = false) {
  return h('option', { value, text: label, selected });
}

// Download a Response as a file (exports need the token, so a plain link cannot do it).
export async function saveResponse(response, fallbackName) {
  const disposition = response.headers.get('content-disposition') || '';
  const match = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1] || match[2]) : fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function formatDate(value, lang) {
  if (!value) return '';
  const d = new Date(value);
  return d.toLocaleDateString(locale(lang), { year: 'numeric', month: 'short', day: 'numeric' });
}

export function formatDateTime(value, lang) {
  if (!value) return '';
  return new Date(value).toLocaleString(locale(lang), {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

/** Ask before a step that is hard to undo: a modal dialog (focus inside, Escape cancels)
 * with the question, the step's own button and Cancel. Resolves true when confirmed. */
export function confirmStep(question, confirmLabel, cancelLabel) {
  return new Promise((resolve) => {
    const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': nextId('confirm') },
      h('p', { text: question }),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', text: confirmLabel, onclick: () => done(true) }),
        h('button', { type: 'button', class: 'secondary', text: cancelLabel, autofocus: true, onclick: () => done(false) })));
    dialog.querySelector('p').id = dialog.getAttribute('aria-labelledby');
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(dialog);
    dialog.showModal();
  });
}
