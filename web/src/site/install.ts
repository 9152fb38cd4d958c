/** Installs the static site's in-page session as the page's transport (see main.ts), and the site's parts of the page. */
import { setTransport } from '../api.js';
import { SiteSession } from './session.js';
import { initSite } from './ui.js';

const session = new SiteSession();
setTransport(session);
// the dashboard's stream listener also hears 'done': the site's result box updates then
const subscribe = session.subscribe.bind(session);
session.subscribe = (types, listener, state) =>
  subscribe(types, (type, data) => {
    listener(type, data);
    if (type === 'done') document.dispatchEvent(new CustomEvent('fitlab-site-done'));
  }, state);
initSite(session, session.options());
