// The walk report (map, route, observations with photos, the resulting action list) as a PDF.
// It needs the staff token, so it is fetched and saved rather than linked.
import * as api from '../api.js';
import { h, saveResponse } from '../dom.js';
import { t } from '../i18n.js';

export function walkReportButton(walk, onError = () => {}) {
  return h('button', {
    type: 'button', class: 'secondary', text: t('walkreport.pdf'),
    'aria-label': t('walkreport.pdf_for', { title: walk.title }),
    onclick: async (e) => {
      const button = e.currentTarget;
      button.disabled = true;
      try {
        await saveResponse(await api.raw('GET', `/api/v1/walks/${walk.id}/report.pdf`), `walk-report-${walk.id}.pdf`);
      } catch (err) {
        onError(t('walkreport.failed', { detail: err.message }));
      } finally {
        button.disabled = false;
      }
    },
  });
}
