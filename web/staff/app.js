// The shell: sign-in, the header with navigation per role, and a hash router
// (#/path?query) so that every view, filters included, is a link that can be shared.
import * as api from './api.js';
import { clear, h, option } from './dom.js';
import { adopt, lang, languages, NAMES, setLanguage, t } from './i18n.js';
import { navigate, parseHash } from './nav.js';
import { session } from './session.js';
import { signInView } from './views/signin.js';
import { itemsView } from './views/items.js';
import { itemView } from './views/item.js';
import { mapView } from './views/map.js';
import { chartsView } from './views/charts.js';
import { walksView, walkNewView } from './views/walks.js';
import { joinSheetView } from './views/join.js';
import { liveView } from './views/live.js';
import { reviewView } from './views/review.js';
import { areasView } from './views/areas.js';
import { triageView } from './views/triage.js';
import { usersView, categoriesView, organizationView } from './views/admin.js';
import { notificationsView } from './views/notifications.js';

const COORD = ['admin', 'coordinator'];
const WORKERS = ['admin', 'coordinator', 'engineer'];
const STAFF = ['admin', 'coordinator', 'engineer', 'planner'];

// path pattern, view, roles, navigation label (null: not in the menu)
const ROUTES = [
  [/^\/items$/, itemsView, WORKERS, 'nav.items'],
  [/^\/items\/([\w-]+)$/, itemView, STAFF, null],
  [/^\/walks$/, walksView, COORD, 'nav.walks'],
  [/^\/walks\/new$/, walkNewView, COORD, null],
  [/^\/walks\/([\w-]+)\/join$/, joinSheetView, COORD, null],
  [/^\/walks\/([\w-]+)\/live$/, liveView, COORD, null],
  [/^\/review$/, reviewView, COORD, 'nav.review'],
  [/^\/triage$/, triageView, COORD, 'nav.triage'],
  [/^\/areas$/, areasView, COORD, 'nav.areas'],
  [/^\/map$/, mapView, STAFF, 'nav.map'],
  [/^\/charts$/, chartsView, STAFF, 'nav.charts'],
  [/^\/admin\/users$/, usersView, ['admin'], 'nav.users'],
  [/^\/admin\/categories$/, categoriesView, ['admin'], 'nav.categories'],
  [/^\/admin\/organization$/, organizationView, ['admin'], 'nav.organization'],
  [/^\/notifications$/, notificationsView, STAFF, 'nav.notifications'],
];
const NAV_PATHS = {
  'nav.items': '/items', 'nav.walks': '/walks', 'nav.review': '/review', 'nav.triage': '/triage',
  'nav.areas': '/areas', 'nav.map': '/map', 'nav.charts': '/charts', 'nav.users': '/admin/users',
  'nav.categories': '/admin/categories', 'nav.organization': '/admin/organization',
  'nav.notifications': '/notifications',
};
const HOME = { admin: '/admin/users', coordinator: '/walks', engineer: '/items', planner: '/map' };

const root = document.getElementById('root');
let cleanup = null;
let renderSeq = 0; // a newer render makes an older one's late result moot
let notice = null; // shown once on the sign-in page (e.g. "your session expired")

export function home() {
  return HOME[session.me?.role] || '/map';
}

function header(me) {
  const links = ROUTES.filter(([, , roles, label]) => label && roles.includes(me.role)).map(
    ([, , , label]) => h('li', {}, h('a', { href: `#${NAV_PATHS[label]}`, text: t(label) })),
  );
  return h('header', { class: 'top' },
    h('a', { class: 'brand', href: `#${home()}`, text: 'safewalk' }),
    h('nav', { 'aria-label': t('nav.main') }, h('ul', {}, links)),
    h('div', { class: 'who' },
      languageSelect(),
      h('span', { class: 'me', text: `${me.display_name || me.email} · ${t(`role.${me.role}`)}` }),
      h('button', { type: 'button', class: 'secondary', text: t('signout'), onclick: signOut }),
    ),
  );
}

export function languageSelect() {
  const select = h('select', { 'aria-label': t('language'), onchange: async (e) => {
    setLanguage(e.target.value, { remember: true });
    // Signed in, the choice is also the account's own, for the next device and the mails.
    if (session.me) {
      try { session.me = await api.patch('/api/v1/me', { language: e.target.value }); } catch { /* kept on this device */ }
    }
    render();
  } },
    languages().map((l) => { const o = option(l, NAMES[l], l === lang()); o.lang = l; return o; }));
  return select;
}

function signOut() {
  api.signOut();
  session.clear();
  notice = { kind: 'info', text: t('signin.signedout') };
  navigate('/signin', null, { replace: true });
  render();
}

api.onExpired(() => {
  session.clear();
  notice = { kind: 'warning', text: t('signin.expired') };
  navigate('/signin', null, { replace: true });
  render();
});

export async function render() {
  const seq = ++renderSeq;
  if (cleanup) {
    try { cleanup(); } catch { /* a view's cleanup must not block the next view */ }
    cleanup = null;
  }
  document.title = 'safewalk';
  const { path, params } = parseHash();
  if (!api.token()) {
    clear(root, signInView({ notice, onSignedIn, languageSelect }));
    notice = null;
    return;
  }
  if (!session.me) {
    try {
      await session.load();
    } catch (err) {
      if (err.status !== 401) clear(root, h('p', { role: 'alert', text: t('error.load', { detail: err.message }) }));
      return;
    }
    if (seq !== renderSeq) return;
    adopt({ own: session.me.own_language, organization: session.me.organization?.language });
  }
  const me = session.me;
  const match = ROUTES.map((r) => [r, r[0].exec(path)]).find(([, m]) => m);
  if (!match || !match[0][2].includes(me.role)) {
    navigate(home(), null, { replace: true });
    return render();
  }
  const [[, view]] = match;
  // Busy until the view has its data: assistive technology waits for the whole view, and
  // so can a test, instead of guessing how long the reads take.
  const main = h('main', { id: 'main', tabindex: '-1', 'aria-busy': 'true' });
  clear(root, h('a', { class: 'skip', href: '#main', text: t('skip'), onclick: (e) => { e.preventDefault(); main.focus(); } }), header(me), main);
  try {
    const done = (await view(main, { params, args: match[1].slice(1), me })) || null;
    // Navigated away while the view was loading: stop its timers and maps at once.
    if (seq !== renderSeq) done?.();
    else cleanup = done;
  } catch (err) {
    if (err.status === 401) return;
    clear(main, h('h1', { text: t('error.title') }), h('p', { role: 'alert', text: err.message }));
  } finally {
    main.removeAttribute('aria-busy');
  }
}

async function onSignedIn() {
  // Each role lands on its own home; a deep link opened before signing in is kept.
  await session.load();
  if (!ROUTES.some(([re]) => re.test(parseHash().path))) navigate(home(), null, { replace: true });
  render();
}

// Links, the back button and typed URLs all change the hash; filters change it through
// history.pushState, which fires nothing, so the view is not rebuilt under the user.
window.addEventListener('hashchange', render);
api.resumeSession();
render();
