// The printable join sheet: the QR code of the walk's short link, the link and the code.
import * as api from '../api.js';
import { h, setTitle } from '../dom.js';
import { t } from '../i18n.js';
import { walkReportButton } from './walkreport.js';

export async function joinSheetView(main, { args: [id] }) {
  const walk = await api.get(`/api/v1/walks/${id}`);
  setTitle(`${t('join.title')}: ${walk.title}`);
  const svg = await (await api.raw('GET', `/api/v1/walks/${id}/join-qr.svg`)).blob();
  const url = URL.createObjectURL(svg);
  const link = `${location.origin}/j/${walk.join_code}`;
  const reportSvg = await (await api.raw('GET', `/api/v1/walks/${id}/report-back-qr.svg`)).blob();
  const reportUrl = URL.createObjectURL(reportSvg);
  const me = await api.get('/api/v1/me');
  const reportLink = `${location.origin}/public/${encodeURIComponent(me.organization.slug)}/walks/${walk.id}`;
  main.classList.add('join-sheet');
  const failed = h('p', { role: 'status', class: 'no-print notice' });
  main.append(
    h('div', { class: 'no-print buttons' },
      h('a', { href: '#/walks', text: t('join.back') }),
      h('button', { type: 'button', text: t('join.print'), onclick: () => window.print() }),
      walkReportButton(walk, (text) => { failed.textContent = text; })),
    failed,
    h('h1', { text: walk.title }),
    h('p', { class: 'lead', text: t('join.lead') }),
    h('img', { class: 'qr', src: url, alt: t('join.qr_alt', { link }), width: 320, height: 320 }),
    h('p', { class: 'join-link' }, h('a', { href: link, text: link })),
    h('p', {}, t('join.code_label'), ' ', h('strong', { class: 'join-code', text: walk.join_code })),
    h('ol', { class: 'steps' }, ['join.step1', 'join.step2', 'join.step3'].map((k) => h('li', { text: t(k) }))),
    h('section', { class: 'report-back' },
      h('h2', { text: t('join.report_title') }),
      h('p', { text: t('join.report_lead') }),
      h('img', { class: 'qr', src: reportUrl, alt: t('join.report_qr_alt', { link: reportLink }), width: 200, height: 200 }),
      h('p', { class: 'join-link' }, h('a', { href: reportLink, text: reportLink }))));
  return () => {
    URL.revokeObjectURL(url);
    URL.revokeObjectURL(reportUrl);
  };
}
